package engine

import (
	"iter"
	"maps"
	"math/bits"
	"net/netip"
)

// contactSet remembers the addresses seen in non-DNS traffic, which tells
// whether the addresses a domain resolved to were then used
// (Features.AnswersUsed).
//
// It starts as an exact set. When that would hold more memory than the
// filter, it becomes a Bloom filter of fixed size in two generations: new
// addresses go into the current one, and when it holds a generation's
// worth (one address per 32 bits) the older one is cleared and becomes
// current. So the memory is bounded whatever the traffic (a full
// enterprise capture, or a sender spraying packets at random addresses to
// crowd the domains out of the memory cap), the newest addresses are
// always recorded, and an address seen again is copied forward; one is
// forgotten only after one to two generations of newer ones. The filter
// takes a 32nd of the engine's memory cap, rounded down to a power of two,
// between 1 KiB and 4 MiB (4 MiB at the default cap: 2^24 bits a
// generation, 2^19 addresses).
//
// The filter is blocked (Putze, Sanders and Singler, "Cache-, Hash- and
// Space-Efficient Bloom Filters", WEA 2007): an address's contactHashes
// bits all lie in one 512-bit block, one cache line, so adding or looking
// up an address costs one memory access a generation, not six.
//
// A Bloom filter can answer "contacted" for an address that was not
// (about 1 in 10,000 lookups when both generations are full, at 32 bits
// an address). That errs towards "the answers were used", the harmless
// direction: a sender can make it true anyway by contacting the address.
// The hash is fixed (not seeded) so that a snapshot's filter reads back in
// any process; choosing colliding addresses gains a sender nothing it
// could not get by contacting them.
type contactSet struct {
	exact map[netip.Addr]struct{}
	// genBits is the size of a generation when the set becomes a filter
	// (a power of two; set from the memory cap).
	genBits int
	// gens are the filter's two generations once exact has overflowed
	// (then exact is nil); gens[cur] receives new addresses, fill counts
	// them.
	gens [2][]uint64
	cur  int
	fill int
}

const (
	// contactHashes is the number of bits an address sets.
	contactHashes = 6
	// contactBlockWords is the size of a block in 64-bit words (512 bits).
	contactBlockWords = 8
	// contactBitsPerAddr is the filter's bits per address of a full
	// generation.
	contactBitsPerAddr = 32
	// minContactGenBits and maxContactGenBits bound a generation.
	minContactGenBits = 1 << 12
	maxContactGenBits = 1 << 24
	// maxExactContacts is the most addresses an exact set holds (at the
	// largest filter).
	maxExactContacts = 2 * maxContactGenBits / 8 / memContacted
)

// contactGenBits returns the generation size for a memory cap.
func contactGenBits(maxMemory int64) int {
	total := max(maxMemory/32, 1) // bytes, both generations
	b := int64(1) << (63 - bits.LeadingZeros64(uint64(total)))
	return int(min(max(b*8/2, minContactGenBits), maxContactGenBits))
}

// filtered reports whether the set has become a filter.
func (s *contactSet) filtered() bool { return s.gens[0] != nil }

// bitsPerGen returns the size of a generation: the filter's own, or the
// one it will have.
func (s *contactSet) bitsPerGen() int {
	if s.filtered() {
		return 64 * len(s.gens[0])
	}
	return s.genBits
}

// filterBytes is the filter's memory, both generations.
func (s *contactSet) filterBytes() int64 { return int64(2 * s.bitsPerGen() / 8) }

// generation is how many new addresses a generation takes.
func (s *contactSet) generation() int { return s.bitsPerGen() / contactBitsPerAddr }

// mem returns the memory the set holds.
func (s *contactSet) mem() int64 {
	if s.filtered() {
		return s.filterBytes()
	}
	return memContacted * int64(len(s.exact))
}

// add records a; it returns the change in memory.
func (s *contactSet) add(a netip.Addr) int64 {
	if s.genBits == 0 {
		s.genBits = minContactGenBits // a zero contactSet works too
	}
	if !s.filtered() {
		if _, ok := s.exact[a]; ok {
			return 0
		}
		if memContacted*int64(len(s.exact)+1) <= s.filterBytes() {
			if s.exact == nil {
				s.exact = map[netip.Addr]struct{}{}
			}
			s.exact[a] = struct{}{}
			return memContacted
		}
		before := s.mem()
		s.toFilter()
		s.add(a)
		return s.mem() - before
	}
	h := contactHash(a)
	if s.inGen(s.cur, h) {
		return 0
	}
	if s.fill >= s.generation() {
		s.cur ^= 1
		clear(s.gens[s.cur])
		s.fill = 0
	}
	s.setGen(s.cur, h)
	s.fill++
	return 0
}

// has reports whether a was recorded (or, once filtered, most likely was).
func (s *contactSet) has(a netip.Addr) bool {
	if !s.filtered() {
		_, ok := s.exact[a]
		return ok
	}
	h := contactHash(a)
	return s.inGen(s.cur, h) || s.inGen(s.cur^1, h)
}

// count returns the number of addresses held exactly (0 once filtered).
func (s *contactSet) count() int { return len(s.exact) }

// addresses yields the addresses held exactly.
func (s *contactSet) addresses() iter.Seq[netip.Addr] { return maps.Keys(s.exact) }

// toFilter moves the exact set into a new filter of genBits a generation.
func (s *contactSet) toFilter() {
	for i := range s.gens {
		s.gens[i] = make([]uint64, s.genBits/64)
	}
	s.cur = 0
	for a := range s.exact {
		s.setGen(0, contactHash(a))
	}
	// A snapshot may bring more than a generation (version 6 held up to
	// 2^20 addresses): the next new address starts the other one. The
	// overfull generation answers "contacted" more often (about 1 in
	// 1,000 for 2^20 addresses at the default cap, far more at small
	// caps) until that rotation's successor clears it.
	s.fill = min(len(s.exact), s.generation())
	s.exact = nil
}

// The block of hash h in a generation of n blocks is h mod n, from the
// hash's low bits; its bits in the block are six 9-bit fields of a second
// mix of h. n is a power of two, so a filter folds onto half its size by
// OR-ing its halves block by block, and tiles onto twice its size by
// repeating them (ReadSnapshot, for another cap): both keep every
// address's bits where a lookup at the new size finds them.

// block returns the words of h's block in generation g, and the bits of
// h in each of them.
func (s *contactSet) block(g int, h uint64) ([]uint64, [contactBlockWords]uint64) {
	words := s.gens[g]
	n := uint64(len(words) / contactBlockWords)
	i := (h & (n - 1)) * contactBlockWords
	var bits [contactBlockWords]uint64
	f := fmix64(h ^ 0x9e3779b97f4a7c15)
	for k := range contactHashes {
		b := f >> (9 * k) & 511
		bits[b/64] |= 1 << (b % 64)
	}
	return words[i : i+contactBlockWords : i+contactBlockWords], bits
}

// inGen reports whether every bit of h is set in generation g.
func (s *contactSet) inGen(g int, h uint64) bool {
	ws, bits := s.block(g, h)
	for k, b := range bits {
		if ws[k]&b != b {
			return false
		}
	}
	return true
}

// setGen sets every bit of h in generation g.
func (s *contactSet) setGen(g int, h uint64) {
	ws, bits := s.block(g, h)
	for k, b := range bits {
		ws[k] |= b
	}
}

// contactHash hashes an address for the filter: hashAddr (fixed, so that
// snapshots carry the filter between processes), with the family mixed in
// so that 192.0.2.1 and ::ffff:192.0.2.1 stay distinct.
func contactHash(a netip.Addr) uint64 {
	h := hashAddr(a)
	if a.Is4() {
		h = fmix64(h ^ 0x2545f4914f6cdd1d)
	}
	return h
}
