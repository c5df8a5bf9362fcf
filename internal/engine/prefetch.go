package engine

import (
	"unsafe"

	"github.com/dnsieve/dnsieve/internal/prefetch"
)

// A collector that knows the next messages can have their memory on its
// way while it observes the ones before. Over a million domains, Observe
// waits for cache misses one after the other: the index slot, then the
// domain's record, then for a popular domain the slot of its client. The
// Prefetch methods issue prefetch instructions, which do not hold up the
// instructions after them, in three steps, each reading what the step
// before asked for:
//
//	PrefetchIndex(o)   some messages ahead (the scan: 16)
//	PrefetchRecord(o)  closer (6): reads the index slot
//	PrefetchClient(o)  just before (2): reads the index slot and the domain
//
// They also read with ordinary loads what they do not ask for ahead: the
// engine's slice of full domains (8 bytes a domain, mostly in the cache),
// and in PrefetchClient the domain's client table header and count of
// first clients, beyond the part PrefetchRecord asks for. Asking for more
// measured no better (BENCHMARKS.md).
//
// They change nothing, and do nothing for an observation this engine's
// Hasher did not hash. A prefetch of the wrong line costs a little
// bandwidth, never a wrong result.

// PrefetchIndex starts loading the index slot where Observe will look up
// o's registered domain.
func (e *Engine) PrefetchIndex(o *Observation) {
	if !e.hashed(o) || len(e.cold.index) == 0 {
		return
	}
	prefetch.Line(uintptr(unsafe.Pointer(&e.cold.index[e.cold.home(o.hashes.reg)])))
}

// PrefetchRecord starts loading the state Observe will read first for o:
// its domain's compact record, or the start of its full state.
func (e *Engine) PrefetchRecord(o *Observation) {
	t := &e.cold
	if !e.hashed(o) || len(t.index) == 0 {
		return
	}
	switch v := t.prefetchEntry(o.hashes.reg); {
	case v == 0:
	case v&hotBit != 0:
		if d := t.hotAt(v); d != nil {
			lines(unsafe.Pointer(d), hotPrefetchBytes)
		}
	case int(v) <= t.n:
		lines(unsafe.Pointer(t.at(int(v)-1)), int(unsafe.Sizeof(coldDomain{})))
	}
}

// PrefetchClient starts loading the slot of o's client in its domain's
// table of clients, for a full domain that keeps one.
func (e *Engine) PrefetchClient(o *Observation) {
	t := &e.cold
	if !e.hashed(o) || len(t.index) == 0 || !o.Client.IsValid() {
		return
	}
	d := t.hotAt(t.prefetchEntry(o.hashes.reg))
	if d == nil || len(d.clients.slots) == 0 || d.nFew == d.clients.len() {
		return // no table, or one Observe does not look in (domain.client)
	}
	k, _ := clientKey(o.Client)
	prefetch.Line(uintptr(unsafe.Pointer(&d.clients.slots[clientHash(k)&uint64(len(d.clients.slots)-1)])))
}

// prefetchVictim starts loading the index slot of the record CLOCK will
// most likely evict next, the one under its hand if unmarked: removing it
// starts with that slot, a cache miss, and the next eviction comes with
// the next new domain, some messages later. The record itself is read
// with an ordinary load: the hand reads the slab in order.
func (t *coldTable) prefetchVictim() {
	if t.hand >= t.n || len(t.index) == 0 {
		return
	}
	if c := t.at(t.hand); !c.ref {
		prefetch.Line(uintptr(unsafe.Pointer(&t.index[t.home(c.key)])))
	}
}

// prefetchProbe bounds how many index slots a prefetch reads: the index
// is at most half full, so nearly every probe ends within it.
const prefetchProbe = 4

// prefetchEntry returns the index entry whose tag is h's, or 0, reading
// at most prefetchProbe slots. It may be another name's entry with the
// same tag: a prefetch needs no more.
func (t *coldTable) prefetchEntry(h uint64) uint32 {
	mask := uint64(len(t.index) - 1)
	tag := h &^ 0xffffffff
	s := t.home(h)
	for range prefetchProbe {
		w := t.index[s]
		if w == 0 {
			return 0
		}
		if w&^0xffffffff == tag {
			return uint32(w)
		}
		s = (s + 1) & mask
	}
	return 0
}

// hotAt returns the full domain of index entry v, or nil when v names
// none.
func (t *coldTable) hotAt(v uint32) *domain {
	if v&hotBit == 0 {
		return nil
	}
	if i := int(v&^hotBit) - 1; i >= 0 && i < len(t.hot) {
		return t.hot[i]
	}
	return nil
}

// hotPrefetchBytes is how much of a full domain's state PrefetchRecord
// asks for: the lines Observe reads first (the key it is matched by, the
// LRU links, the message counts and times, the set of distinct names).
const hotPrefetchBytes = 256

// lines prefetches every cache line of the n bytes at p.
func lines(p unsafe.Pointer, n int) {
	a := uintptr(p)
	for off := uintptr(0); off < uintptr(n); off += 64 {
		prefetch.Line(a + off)
	}
	prefetch.Line(a + uintptr(n) - 1)
}
