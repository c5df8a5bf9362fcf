package tcpstream

import (
	"encoding/binary"
	"hash/maphash"
	"unsafe"
)

// resumePoint remembers where the byte stream of one flow direction stood
// when the flow was dropped by a timeout or an eviction, so that framing can
// continue at a message boundary if the connection goes on.
type resumePoint struct {
	key  flowKey
	seq  uint32 // next expected sequence number
	isn  uint32 // initial sequence number, valid if synSeen
	skip uint32 // bytes of the current message still to skip
	// prev and next link the entries in the order they were remembered
	// (live entries) or the free list (next only); -1 ends a list.
	prev, next int32
	// half: one byte (hi) of the current message's length prefix was seen;
	// the message is skipped once the second byte arrives.
	half    bool
	hi      byte
	synSeen bool
	live    bool
}

// resumeEntrySize is the size of one remembered point in bytes.
const resumeEntrySize = int(unsafe.Sizeof(resumePoint{}))

// resumeTable holds at most max remembered points, in an entry array with an
// open-addressing index (linear probing, backward-shift deletion). When it is
// full, the point remembered first is forgotten (FIFO; a point is never used
// more than once, so this is also LRU). Storage grows with the number of
// points held at once, up to max entries and an index of nextPow2(2*max)
// int32 slots, and is never released (Flush keeps it); once grown, nothing
// on the put, find and remove paths allocates.
type resumeTable struct {
	max    int
	ents   []resumePoint // len <= cap <= max
	slots  []int32       // 0: empty, else ents index + 1; len is a power of two
	oldest int32         // first remembered live entry, or -1
	newest int32         // last remembered live entry, or -1
	free   int32         // free list of entries, or -1
	n      int           // live entries
	seed   maphash.Seed
}

func newResumeTable(n int) resumeTable {
	return resumeTable{max: n, oldest: -1, newest: -1, free: -1, seed: maphash.MakeSeed()}
}

// hashKey hashes a flow key (the address zone is left out: equal keys still
// hash equally).
func (t *resumeTable) hashKey(k flowKey) int {
	var b [36]byte
	s, d := k.src.As16(), k.dst.As16()
	copy(b[0:16], s[:])
	copy(b[16:32], d[:])
	binary.BigEndian.PutUint16(b[32:], k.srcPort)
	binary.BigEndian.PutUint16(b[34:], k.dstPort)
	h := maphash.Bytes(t.seed, b[:])
	return int(uint32(h ^ h>>32))
}

// find returns the index slot and the entry index of key, or -1, -1.
func (t *resumeTable) find(key flowKey) (slot, ent int) {
	if t.n == 0 {
		return -1, -1
	}
	mask := len(t.slots) - 1
	for i := t.hashKey(key) & mask; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			return -1, -1
		}
		if t.ents[s-1].key == key {
			return i, int(s - 1)
		}
	}
}

// take removes and returns the point remembered for key.
func (t *resumeTable) take(key flowKey) (resumePoint, bool) {
	slot, ent := t.find(key)
	if ent < 0 {
		return resumePoint{}, false
	}
	p := t.ents[ent]
	t.remove(slot, ent)
	return p, true
}

// remove deletes the entry ent, indexed at slot, and frees it.
func (t *resumeTable) remove(slot, ent int) {
	e := &t.ents[ent]
	if e.prev >= 0 {
		t.ents[e.prev].next = e.next
	} else {
		t.oldest = e.next
	}
	if e.next >= 0 {
		t.ents[e.next].prev = e.prev
	} else {
		t.newest = e.prev
	}
	*e = resumePoint{prev: -1, next: t.free}
	t.free = int32(ent)
	t.n--
	// Backward-shift deletion: move later entries of the probe run into the
	// hole unless their home slot lies cyclically in (hole, j].
	mask := len(t.slots) - 1
	hole := slot
	t.slots[hole] = 0
	for j := (hole + 1) & mask; t.slots[j] != 0; j = (j + 1) & mask {
		home := t.hashKey(t.ents[t.slots[j]-1].key) & mask
		if (j-home)&mask < (j-hole)&mask {
			continue // home is after the hole: the entry stays reachable
		}
		t.slots[hole] = t.slots[j]
		t.slots[j] = 0
		hole = j
	}
}

// put remembers p, replacing an earlier point for the same key. It reports
// whether the oldest point of another flow had to be forgotten to make room.
func (t *resumeTable) put(p resumePoint) (forgot bool) {
	if t.max <= 0 {
		return false
	}
	if slot, ent := t.find(p.key); ent >= 0 {
		t.remove(slot, ent)
	}
	if t.n >= t.max {
		old := int(t.oldest)
		slot, _ := t.find(t.ents[old].key)
		t.remove(slot, old)
		forgot = true
	}
	var ent int
	switch {
	case t.free >= 0:
		ent = int(t.free)
		t.free = t.ents[ent].next
	default:
		if len(t.ents) == cap(t.ents) {
			t.grow()
		}
		ent = len(t.ents)
		t.ents = t.ents[:ent+1]
	}
	p.live = true
	p.prev, p.next = t.newest, -1
	t.ents[ent] = p
	if t.newest >= 0 {
		t.ents[t.newest].next = int32(ent)
	} else {
		t.oldest = int32(ent)
	}
	t.newest = int32(ent)
	t.n++
	t.index(ent)
	return forgot
}

// index adds entry ent to the index.
func (t *resumeTable) index(ent int) {
	mask := len(t.slots) - 1
	i := t.hashKey(t.ents[ent].key) & mask
	for t.slots[i] != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = int32(ent + 1)
}

// grow enlarges the entry storage (up to max; called only when every entry
// is live) and rebuilds the index so that it is at most half full.
func (t *resumeTable) grow() {
	newCap := min(max(2*cap(t.ents), 64), t.max)
	ents := make([]resumePoint, len(t.ents), newCap)
	copy(ents, t.ents)
	t.ents = ents
	if size := indexSize(newCap); size != len(t.slots) {
		t.slots = make([]int32, size)
		for i := range t.ents {
			if t.ents[i].live {
				t.index(i)
			}
		}
	}
}

// reset forgets every point, keeping the storage.
func (t *resumeTable) reset() {
	clear(t.ents)
	t.ents = t.ents[:0]
	clear(t.slots)
	t.oldest, t.newest, t.free, t.n = -1, -1, -1, 0
}

// bytes returns the memory held by the table's storage.
func (t *resumeTable) bytes() int {
	return cap(t.ents)*resumeEntrySize + 4*cap(t.slots)
}

// indexSize returns the number of index slots for n entries: a power of two
// at least 2n (and 16).
func indexSize(n int) int {
	size := 16
	for size < 2*n {
		size <<= 1
	}
	return size
}

// resumeBound returns the most memory a table of n entries can hold.
func resumeBound(n int) int {
	return n*resumeEntrySize + 4*indexSize(n)
}
