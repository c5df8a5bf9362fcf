package regdomain

import "hash/maphash"

// The suffix cache is an open-addressing hash table of fixed maximum size
// that never allocates once it has grown to that size:
//
//   - cache holds the entries densely, in insertion order; an entry keeps
//     its key inline when it fits (most registered domains do), else in
//     keys, a byte arena;
//   - index is a power-of-two table of slots, each 0 (empty) or a hash tag
//     (the high 32 bits) and an entry number plus one (the low 32),
//     probed linearly and at most half full.
//
// The hash is seeded per Splitter (hash/maphash), so that hostile names
// cannot be chosen to collide. When the cache holds max entries, or the
// arena is full, everything is dropped at once and filling starts over, as
// a bounded cache must.
//
// An entry is identified by its key bytes, the number of labels in the key
// and the length of the name's last label: for names whose labels hold no
// '.' byte the key bytes alone decide those, and for the others the label
// structure makes the cached answer exact rather than dependent on which
// name came first.

// inlineKey is the longest key an entry holds itself.
const inlineKey = 27

// minIndex is the initial number of index slots.
const minIndex = 1 << 10

// entry is one cached suffix.
type entry struct {
	n     uint8 // key length
	w     uint8 // labels in the key
	last  uint8 // length of the name's last label
	width uint8 // two-label keys: ruleWidth of their names
	v     uint8 // the key's lookup result, or noValue
	key   [inlineKey]byte
}

// hash returns the hash of an entry's identity.
func (s *Splitter) hash(key []byte, w, last uint8) uint64 {
	h := maphash.Bytes(s.seed, key)
	return h ^ (uint64(w)<<8|uint64(last)+1)*0x9E3779B97F4A7C15
}

// keyOf returns the key bytes of e.
func (s *Splitter) keyOf(e *entry) []byte {
	if e.n <= inlineKey {
		return e.key[:e.n]
	}
	off := int(e.key[0]) | int(e.key[1])<<8 | int(e.key[2])<<16 | int(e.key[3])<<24
	return s.keys[off : off+int(e.n)]
}

// find returns the number of the entry for (key, w, last), or -1.
func (s *Splitter) find(key []byte, w, last uint8) int {
	if len(s.index) == 0 || len(key) > 255 {
		return -1
	}
	h := s.hash(key, w, last)
	mask := uint64(len(s.index) - 1)
	tag := h >> 32
	for pos := h & mask; ; pos = (pos + 1) & mask {
		slot := s.index[pos]
		if slot == 0 {
			return -1
		}
		if slot>>32 != tag {
			continue
		}
		i := int(uint32(slot)) - 1
		e := &s.cache[i]
		if e.w != w || e.last != last || int(e.n) != len(key) {
			continue
		}
		if len(key) <= inlineKey {
			if string(e.key[:len(key)]) == string(key) {
				return i
			}
		} else if string(s.keyOf(e)) == string(key) {
			return i
		}
	}
}

// insert adds an entry that find did not return. Keys longer than 255
// bytes (only names cut to 256 bytes have them) are not cached.
func (s *Splitter) insert(key []byte, w, last, width, v uint8) {
	if len(key) > 255 {
		return
	}
	long := len(key) > inlineKey
	if len(s.cache) >= s.max || (long && len(s.keys)+len(key) > s.maxKeys()) {
		s.reset()
	}
	if len(s.index) == 0 || 2*(len(s.cache)+1) > len(s.index) {
		s.grow()
	}
	e := entry{n: uint8(len(key)), w: w, last: last, width: width, v: v}
	if long {
		off := len(s.keys)
		s.keys = append(s.keys, key...)
		e.key[0], e.key[1], e.key[2], e.key[3] = byte(off), byte(off>>8), byte(off>>16), byte(off>>24)
	} else {
		copy(e.key[:], key)
	}
	s.cache = append(s.cache, e)
	s.place(s.hash(key, w, last), len(s.cache)-1)
}

// place puts entry i, whose hash is h, into the index.
func (s *Splitter) place(h uint64, i int) {
	mask := uint64(len(s.index) - 1)
	pos := h & mask
	for s.index[pos] != 0 {
		pos = (pos + 1) & mask
	}
	s.index[pos] = h>>32<<32 | uint64(i+1)
}

// maxIndex is the size the index grows to: a power of two at least twice
// max, so that a full cache keeps it at most half full.
func (s *Splitter) maxIndex() int {
	n := minIndex
	for n < 2*s.max {
		n *= 2
	}
	return n
}

// maxKeys bounds the arena of long keys.
func (s *Splitter) maxKeys() int { return max(16*s.max, 1<<12) }

// grow doubles the index (up to maxIndex; at the start, minIndex) and
// places every entry again.
func (s *Splitter) grow() {
	n := max(2*len(s.index), minIndex)
	if m := s.maxIndex(); n > m {
		n = m
	}
	if n == len(s.index) {
		return
	}
	s.index = make([]uint64, n)
	for i := range s.cache {
		e := &s.cache[i]
		s.place(s.hash(s.keyOf(e), e.w, e.last), i)
	}
}

// reset drops every entry, keeping the memory for the next ones.
func (s *Splitter) reset() {
	s.cache = s.cache[:0]
	s.keys = s.keys[:0]
	clear(s.index)
}
