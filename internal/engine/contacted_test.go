package engine

import (
	"bytes"
	"encoding/binary"
	"errors"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// sameContacts reports whether two contact sets hold the same state.
func sameContacts(a, b *contactSet) bool {
	return maps.Equal(a.exact, b.exact) && a.cur == b.cur && a.fill == b.fill &&
		slices.Equal(a.gens[0], b.gens[0]) && slices.Equal(a.gens[1], b.gens[1])
}

// addrN returns the n-th of a run of distinct addresses: IPv4 for even n,
// IPv6 for odd n.
func addrN(n uint32) netip.Addr {
	if n%2 == 0 {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], 0x0a000000+n/2)
		return netip.AddrFrom4(b)
	}
	var b [16]byte
	b[0], b[1] = 0x20, 0x01
	binary.BigEndian.PutUint32(b[12:], n)
	return netip.AddrFrom16(b)
}

// TestContactSetExactThenFilter: the set is exact up to exactContacts,
// then a filter of fixed memory that still holds every address, and past
// two generations forgets the oldest ones while the newest stay.
func TestContactSetExactThenFilter(t *testing.T) {
	s := contactSet{genBits: contactGenBits(DefaultMaxMemory)}
	const exactContacts, contactFilterBytes, contactGeneration = 1 << 16, 4 << 20, 1 << 19
	if s.genBits != 1<<24 || s.filterBytes() != contactFilterBytes || s.generation() != contactGeneration {
		t.Fatalf("at the default cap: %d bits a generation, %d bytes, %d addresses a generation", s.genBits, s.filterBytes(), s.generation())
	}
	var mem int64
	for n := range uint32(exactContacts) {
		mem += s.add(addrN(n))
	}
	if s.filtered() || s.count() != exactContacts || mem != exactContacts*memContacted || s.mem() != mem {
		t.Fatalf("exact: filtered %v, %d held, mem %d (%d)", s.filtered(), s.count(), mem, s.mem())
	}
	if d := s.add(addrN(0)); d != 0 {
		t.Fatalf("a repeated address costs %d", d)
	}
	v4 := netip.MustParseAddr("10.0.0.1")
	if !s.has(v4) || s.has(netip.AddrFrom16(v4.As16())) {
		t.Fatal("an IPv4 address and its IPv4-mapped IPv6 form are not told apart")
	}

	mem += s.add(addrN(exactContacts))
	if !s.filtered() || s.count() != 0 || mem != contactFilterBytes || s.mem() != mem || s.fill != exactContacts+1 {
		t.Fatalf("filter: filtered %v, %d held exactly, mem %d (%d), fill %d", s.filtered(), s.count(), mem, s.mem(), s.fill)
	}
	for n := range uint32(exactContacts + 1) {
		if !s.has(addrN(n)) {
			t.Fatalf("address %d lost when the set became a filter", n)
		}
	}

	// Three generations of new addresses: memory stays, the newest two
	// generations' addresses are all held (no false negatives).
	total := uint32(exactContacts + 1 + 3*contactGeneration)
	for n := uint32(exactContacts + 1); n < total; n++ {
		if d := s.add(addrN(n)); d != 0 {
			t.Fatalf("address %d changed the memory by %d", n, d)
		}
	}
	if s.mem() != contactFilterBytes {
		t.Fatalf("mem %d", s.mem())
	}
	for n := total - contactGeneration - 1; n < total; n++ {
		if !s.has(addrN(n)) {
			t.Fatalf("recent address %d forgotten", n)
		}
	}
	// The oldest ones are gone (bar false positives), and addresses never
	// added are rarely reported.
	old, fp := 0, 0
	for n := range uint32(100000) {
		if s.has(addrN(n)) {
			old++
		}
		if s.has(addrN(total + n)) {
			fp++
		}
	}
	if old > 100 || fp > 100 {
		t.Errorf("of 100,000: %d oldest addresses still reported, %d never-added ones", old, fp)
	}
}

// TestContactSetRefresh: an address seen again is copied into the current
// generation, so a steady contact survives any number of rotations, while
// one seen once is forgotten after two generations of newer ones.
func TestContactSetRefresh(t *testing.T) {
	s := contactSet{genBits: 1 << 16} // 2,048 addresses a generation
	keep, once := netip.MustParseAddr("192.0.2.7"), netip.MustParseAddr("192.0.2.8")
	s.add(once)
	n := uint32(0)
	for batch := range 4 * 2048 / 500 {
		s.add(keep)
		for range 500 {
			s.add(addrN(n))
			n++
		}
		if !s.filtered() && batch > 1 {
			t.Fatalf("batch %d: not filtered", batch)
		}
		if !s.has(keep) {
			t.Fatalf("batch %d: steady address forgotten", batch)
		}
	}
	if s.has(once) {
		t.Fatal("an address seen once is still held after two generations")
	}
}

// TestContactFilterSnapshot: a filtered set survives a snapshot round trip
// exactly, and a restored engine answers the same.
func TestContactFilterSnapshot(t *testing.T) {
	f := newFeeder(Config{})
	feedMix(f, 0, 500, allMix)
	const exactContacts = 1 << 16
	addrs := make([]netip.Addr, 0, 2*exactContacts)
	for n := range uint32(2 * exactContacts) {
		addrs = append(addrs, addrN(n))
	}
	f.e.Contacted(addrs)
	if !f.e.contacted.filtered() {
		t.Fatal("not filtered")
	}
	snap := snapshotBytes(t, f.e)
	g := newFeeder(Config{})
	if err := g.e.ReadSnapshot(bytes.NewReader(snap)); err != nil {
		t.Fatal(err)
	}
	if !sameContacts(&f.e.contacted, &g.e.contacted) || g.e.Stats().MemoryBytes != f.e.Stats().MemoryBytes {
		t.Fatalf("restored set differs, or memory %d vs %d", g.e.Stats().MemoryBytes, f.e.Stats().MemoryBytes)
	}
	if again := snapshotBytes(t, g.e); !bytes.Equal(again, snap) {
		t.Fatal("the restored engine writes other bytes")
	}

	target := newFeeder(Config{})
	for i := range 64 {
		n := len(snap) * i / 64
		if err := target.e.ReadSnapshot(bytes.NewReader(snap[:n])); !errors.Is(err, ErrSnapshotTruncated) {
			t.Fatalf("cut at %d of %d: %v", n, len(snap), err)
		}
	}
	// A header that declares exact addresses and a filter at once.
	f.e.contacted.exact = map[netip.Addr]struct{}{addrN(1): {}}
	err := target.e.ReadSnapshot(bytes.NewReader(snapshotBytes(t, f.e)))
	if !errors.Is(err, ErrSnapshotCorrupt) || !strings.Contains(err.Error(), "contacted set: 1 addresses, filter true") {
		t.Fatalf("both modes at once: %v", err)
	}
	if target.e.contacted.filtered() || target.e.contacted.count() != 0 {
		t.Fatal("a failed read changed the engine")
	}
}

// TestReadVersion6Snapshot: a snapshot in the earlier formats (6: no
// contact filter; 7: no numbered families) reads back into the same state
// but for what the format cannot hold, and one with more addresses than
// the exact set holds (version 6 allowed 2^20) becomes a filter holding
// them all.
func TestReadVersion6Snapshot(t *testing.T) {
	f := newFeeder(Config{})
	feedMix(f, 0, 500, allMix)
	numbered := 0
	for _, d := range f.e.domains {
		if d.num != nil {
			numbered++
		}
		d.num = nil                              // not in versions 6 and 7
		d.repeats = [repeatSlots]repeatedLabel{} // not before version 11
		asCommonZone(d)                          // votes not before version 12
		if d.unit != nil {                       // units not before version 13
			f.e.mem -= int64(d.mem)
			d.unit, d.unitZone = nil, nil
			d.mem = memOf(d)
			f.e.mem += int64(d.mem)
		}
	}
	if numbered == 0 {
		t.Fatal("the mix has no numbered names: the test would not see them dropped")
	}
	var old bytes.Buffer
	for _, v := range []uint64{6, 7} {
		old.Reset()
		if err := f.e.writeSnapshot(&old, v); err != nil {
			t.Fatal(err)
		}
		if uint64(old.Bytes()[len(snapshotMagic)]) != v {
			t.Fatalf("not written as version %d", v)
		}
		g := newFeeder(Config{})
		if err := g.e.ReadSnapshot(bytes.NewReader(old.Bytes())); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(snapshotBytes(t, g.e), snapshotBytes(t, f.e)) {
			t.Fatalf("a version %d snapshot reads back into another state", v)
		}
	}
	g := newFeeder(Config{})

	// Version 6 with 100,000 exact addresses.
	for n := range uint32(100000) {
		f.e.contacted.exact[addrN(n)] = struct{}{}
	}
	old.Reset()
	if err := f.e.writeSnapshot(&old, 6); err != nil {
		t.Fatal(err)
	}
	if err := g.e.ReadSnapshot(bytes.NewReader(old.Bytes())); err != nil {
		t.Fatal(err)
	}
	if !g.e.contacted.filtered() || g.e.contacted.fill != len(f.e.contacted.exact) {
		t.Fatalf("filtered %v, fill %d", g.e.contacted.filtered(), g.e.contacted.fill)
	}
	for a := range f.e.contacted.exact {
		if !g.e.contacted.has(a) {
			t.Fatalf("%v lost", a)
		}
	}
	f.e.contacted.toFilter()
	if err := f.e.writeSnapshot(&old, 6); err == nil {
		t.Fatal("a filter written as version 6")
	}
}

// TestContactGenBits: the filter takes a 32nd of the cap, rounded down to
// a power of two, within its bounds.
func TestContactGenBits(t *testing.T) {
	for _, c := range []struct {
		cap  int64
		bits int
	}{
		{0, minContactGenBits},
		{1 << 10, minContactGenBits},
		{1 << 20, 1 << 17},          // 32 KiB
		{3 << 20, 1 << 18},          // 96 KiB rounds down to 64 KiB
		{DefaultMaxMemory, 1 << 24}, // 5 MiB rounds down to 4 MiB
		{1 << 40, maxContactGenBits},
	} {
		if got := contactGenBits(c.cap); got != c.bits {
			t.Errorf("cap %d: %d bits, want %d", c.cap, got, c.bits)
		}
	}
}

// fpRate returns the share of n addresses never added that s reports.
func fpRate(s *contactSet, n uint32) float64 {
	fp := 0
	for k := range n {
		if s.has(addrN(1<<28 + k)) {
			fp++
		}
	}
	return float64(fp) / float64(n)
}

// TestContactFilterResized: a filter restored into an engine with a
// smaller cap folds onto that engine's size, and one restored into a
// larger cap is tiled up to it; either way every address is still held,
// and a filter that was not full stays usable.
func TestContactFilterResized(t *testing.T) {
	feed := func(cfg Config, n uint32) (*Engine, []netip.Addr) {
		e := New(cfg)
		addrs := make([]netip.Addr, 0, n)
		for k := range n {
			addrs = append(addrs, addrN(k))
		}
		e.Contacted(addrs)
		return e, addrs
	}
	holdsAll := func(what string, c *contactSet, addrs []netip.Addr) {
		t.Helper()
		for _, a := range addrs {
			if !c.has(a) {
				t.Fatalf("%s: %v lost", what, a)
			}
		}
	}

	// 5,000 addresses in 2^20-bit generations (an 8 MiB cap) fold onto
	// 2^17 bits (1 MiB): a generation's worth (4,096) and a little more.
	src, addrs := feed(Config{MaxMemory: 8 << 20}, 5000)
	if !src.contacted.filtered() || src.contacted.bitsPerGen() != 1<<20 {
		t.Fatalf("source: filtered %v, %d bits", src.contacted.filtered(), src.contacted.bitsPerGen())
	}
	small := restore(t, Config{MaxMemory: 1 << 20}, snapshotBytes(t, src))
	c := &small.contacted
	if c.bitsPerGen() != 1<<17 || c.mem() != 32<<10 || c.fill != 4096 || small.Stats().MemoryBytes > 1<<20 {
		t.Fatalf("folded: %d bits a generation, %d bytes, fill %d, engine %d bytes", c.bitsPerGen(), c.mem(), c.fill, small.Stats().MemoryBytes)
	}
	holdsAll("folded", c, addrs)
	if fp := fpRate(c, 100000); fp > 0.002 {
		t.Errorf("folded: %.4f of never-added addresses reported", fp)
	}

	// Tiled back up to 2^24 bits (the default cap): as dense as before.
	big := restore(t, Config{}, snapshotBytes(t, small))
	c = &big.contacted
	if c.bitsPerGen() != 1<<24 || c.fill != min(4096*128, c.generation()) {
		t.Fatalf("tiled: %d bits a generation, fill %d", c.bitsPerGen(), c.fill)
	}
	holdsAll("tiled", c, addrs)
	if fp := fpRate(c, 100000); fp > 0.002 {
		t.Errorf("tiled: %.4f of never-added addresses reported", fp)
	}

	// A full filter folded 128 times saturates: every address, added or
	// not, reads as contacted (the harmless direction) until rotations
	// clear it.
	full, addrs := feed(Config{}, 200000)
	sat := restore(t, Config{MaxMemory: 1 << 20}, snapshotBytes(t, full))
	holdsAll("saturated", &sat.contacted, addrs)
	if fp := fpRate(&sat.contacted, 10000); fp < 0.5 {
		t.Errorf("saturated filter reports only %.2f of never-added addresses", fp)
	}
	for k := range uint32(2*sat.contacted.generation() + 1) {
		sat.Contacted([]netip.Addr{addrN(1<<29 + k)})
	}
	if fp := fpRate(&sat.contacted, 10000); fp > 0.01 {
		t.Errorf("after two rotations: %.4f of never-added addresses reported", fp)
	}
}
