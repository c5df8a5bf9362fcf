package engine

import (
	"hash/maphash"
	"iter"
	"net/netip"
)

// clientTable maps a full domain's tracked client addresses to their
// state. It replaces a Go map keyed by netip.Addr, whose hash and
// comparison cover the address's zone pointer: popular domains look a
// client up on every message, and that map was the engine's largest
// single cost (BENCHMARKS.md). Open addressing with linear probing over a
// power-of-two slot array, keyed by the 16-byte form of the address (a
// zone is dropped: packets carry none), grown at three-quarters load.
// The hash is seeded per process (clientSeed): source addresses are the
// sender's to choose, and with a fixed hash they could be picked to share
// one probe run, making every lookup walk it. Entries are never removed,
// so a *clientState stays valid for the domain's life. The number of
// entries is bounded by Config.MaxClientsPerDomain.
type clientTable struct {
	slots []clientSlot
	n     int
}

// clientSlot is one entry; c is nil in an empty slot.
type clientSlot struct {
	addr [16]byte
	is4  bool
	c    *clientState
}

// clientSeed seeds the client tables' hash.
var clientSeed = maphash.MakeSeed()

// clientHash hashes a client key.
func clientHash(k [16]byte) uint64 { return maphash.Comparable(clientSeed, k) }

// clientKey returns the key of a: its 16-byte form and whether it is an
// IPv4 address (so 192.0.2.1 and ::ffff:192.0.2.1 stay distinct, as
// netip.Addr keeps them).
func clientKey(a netip.Addr) ([16]byte, bool) { return a.As16(), a.Is4() }

// len returns the number of clients held.
func (t *clientTable) len() int { return t.n }

// get returns the state of client a, or nil.
func (t *clientTable) get(a netip.Addr) *clientState {
	if t.n == 0 {
		return nil
	}
	k, is4 := clientKey(a)
	mask := uint64(len(t.slots) - 1)
	for i := clientHash(k) & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.c == nil {
			return nil
		}
		if s.addr == k && s.is4 == is4 {
			return s.c
		}
	}
}

// put adds client a, which must not be held yet, with state c.
func (t *clientTable) put(a netip.Addr, c *clientState) {
	if (t.n+1)*4 > len(t.slots)*3 {
		t.grow()
	}
	t.place(a, c)
	t.n++
}

// place writes (a, c) into the first free slot of a's probe run.
func (t *clientTable) place(a netip.Addr, c *clientState) {
	k, is4 := clientKey(a)
	mask := uint64(len(t.slots) - 1)
	i := clientHash(k) & mask
	for t.slots[i].c != nil {
		i = (i + 1) & mask
	}
	t.slots[i] = clientSlot{addr: k, is4: is4, c: c}
}

// grow doubles the slot array (at least 8 slots) and re-places every
// entry.
func (t *clientTable) grow() {
	old := t.slots
	t.slots = make([]clientSlot, max(8, 2*len(old)))
	for i := range old {
		if s := &old[i]; s.c != nil {
			t.place(slotAddr(s), s.c)
		}
	}
}

// slotAddr returns the address held in s.
func slotAddr(s *clientSlot) netip.Addr {
	a := netip.AddrFrom16(s.addr)
	if s.is4 {
		return a.Unmap()
	}
	return a
}

// all yields every client and its state, in slot order.
func (t *clientTable) all() iter.Seq2[netip.Addr, *clientState] {
	return func(yield func(netip.Addr, *clientState) bool) {
		for i := range t.slots {
			if s := &t.slots[i]; s.c != nil && !yield(slotAddr(s), s.c) {
				return
			}
		}
	}
}
