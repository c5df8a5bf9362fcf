package engine

import "hash/maphash"

// Hasher computes the hashes Observe needs of an observation's names,
// where the message is analysed: a scan's workers run in parallel, and
// Observe runs in its one collector, the scan's serial stage. Observe
// takes an observation's hashes only from its own engine's Hasher, and
// computes them itself otherwise, so an observation hashed by another
// engine, or by none, is observed alike.
//
// A Hasher is a value to copy into each goroutine that hashes: it holds
// the engine's seed, fixed when the engine was made, and the engine's
// address only to mark the observations it hashed, never to read from it.
// (Reading the seed from the engine itself, whose fields its own goroutine
// writes all the time, made a two-core scan 10% slower: the cache line
// went back and forth between the cores.) The zero Hasher hashes nothing.
type Hasher struct {
	seed   maphash.Seed
	engine *Engine
}

// observationHashes are an observation's hashes from a Hasher.
type observationHashes struct {
	by   *Engine // the engine whose Hasher computed them
	reg  uint64  // the index hash of Name[RegStart:]
	name uint64  // expansionKey of Name
	sub  uint64  // hashName of the subdomain Name[:RegStart-1]; 0 without one
}

// Hasher returns the engine's Hasher.
func (e *Engine) Hasher() Hasher { return Hasher{seed: e.cold.seed, engine: e} }

// Hash fills o's hashes from its Name and RegStart, which must be set and
// not change until o is observed (the bytes may move: an observation
// copied with its names into a batch keeps valid hashes).
func (h *Hasher) Hash(o *Observation) {
	if h.engine == nil || len(o.Name) == 0 || o.RegStart < 0 || o.RegStart > len(o.Name) {
		o.hashes = observationHashes{}
		return
	}
	o.hashes = observationHashes{by: h.engine,
		reg:  maphash.Bytes(h.seed, o.Name[o.RegStart:]),
		name: maphash.Bytes(h.seed, o.Name) | 1}
	if o.RegStart > 1 {
		o.hashes.sub = hashName(o.Name[:o.RegStart-1])
	}
}

// hashed reports whether o's hashes are this engine's.
func (e *Engine) hashed(o *Observation) bool { return o.hashes.by == e }

// subHash returns hashName(sub), sub being o's subdomain, from o's hashes
// when they are this engine's.
func (e *Engine) subHash(o *Observation, sub []byte) uint64 {
	if e.hashed(o) {
		return o.hashes.sub
	}
	return hashName(sub)
}

// nameKey returns expansionKey(o.Name), from o's hashes when they are
// this engine's.
func (e *Engine) nameKey(o *Observation) uint64 {
	if e.hashed(o) {
		return o.hashes.name
	}
	return e.expansionKey(o.Name)
}

// expansionKey returns the key of a whole name in the search-path tables
// (expand.go): the index hash, made odd so that 0 marks an empty slot.
func (e *Engine) expansionKey(name []byte) uint64 { return e.cold.hash(name) | 1 }
