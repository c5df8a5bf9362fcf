package engine

import "math/rand/v2"

// nameSet is an open-addressing set of 64-bit name hashes. Zero marks an
// empty slot, so a hash of zero is stored as one. It grows by doubling up
// to a limit; past it, Add reports every unseen hash as new without
// storing it (the count then over-estimates, which only happens for
// domains with a very large number of distinct names).
//
// The hashes are FNV-1a of attacker-chosen text, whose low bits are
// cheap to collide; a probe starts at a keyed mix of the hash (setSeed,
// drawn per process), so that no input can make the probes long. Slots
// hold the hashes themselves, so snapshots stay portable.
type nameSet struct {
	slots []uint64
	n     int
	limit int
}

// add inserts h and reports whether it was new.
func (s *nameSet) add(h uint64) bool {
	if h == 0 {
		h = 1
	}
	if s.slots == nil {
		s.slots = make([]uint64, 8)
	}
	i, found := s.find(h)
	if found {
		return false
	}
	if (s.n+1)*4 > len(s.slots)*3 {
		if len(s.slots)*2 > s.limit {
			return true // full: counted, not stored
		}
		s.grow()
		return s.add(h)
	}
	s.slots[i] = h
	s.n++
	return true
}

// full reports whether s stores no more hashes: add then reports every
// unseen hash as new, so names fetched again count again.
func (s *nameSet) full() bool {
	return (s.n+1)*4 > len(s.slots)*3 && len(s.slots)*2 > s.limit
}

// find returns the slot holding h (non-zero), or the empty slot where its
// probe ends; slots must not be empty.
func (s *nameSet) find(h uint64) (i uint64, found bool) {
	mask := uint64(len(s.slots) - 1)
	for i = slotOf(h) & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case h:
			return i, true
		case 0:
			return i, false
		}
	}
}

func (s *nameSet) grow() {
	old := s.slots
	s.slots = make([]uint64, len(old)*2)
	mask := uint64(len(s.slots) - 1)
	for _, h := range old {
		if h == 0 {
			continue
		}
		i := slotOf(h) & mask
		for s.slots[i] != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = h
	}
}

// has reports whether h is in the set.
func (s *nameSet) has(h uint64) bool {
	if h == 0 {
		h = 1
	}
	if len(s.slots) == 0 {
		return false
	}
	_, found := s.find(h)
	return found
}

// setSeed keys slotOf; it is drawn once per process.
var setSeed = rand.Uint64()

// slotOf mixes h with setSeed (fmix64, a bijection, so distinct hashes
// stay distinct) into the first slot to probe.
func slotOf(h uint64) uint64 { return fmix64(h ^ setSeed) }

// appendTo appends the set's hashes to dst.
func (s *nameSet) appendTo(dst []uint64) []uint64 {
	for _, h := range s.slots {
		if h != 0 {
			dst = append(dst, h)
		}
	}
	return dst
}

// bytes is the set's memory.
func (s *nameSet) bytes() int { return 8 * len(s.slots) }

// hashName is FNV-1a (64 bit) over b.
func hashName(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}
