package engine

import (
	"net/netip"
	"testing"
)

// TestClientTable: every address put is found with its own state, IPv4 and
// IPv4-mapped IPv6 forms stay distinct (as netip.Addr keeps them), absent
// addresses are not found, and all yields each client once.
func TestClientTable(t *testing.T) {
	var tab clientTable
	if tab.get(netip.MustParseAddr("192.0.2.1")) != nil || tab.len() != 0 {
		t.Fatal("empty table finds something")
	}
	want := map[netip.Addr]*clientState{}
	for i := range 1000 {
		v4 := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
		for _, a := range []netip.Addr{v4, netip.AddrFrom16(v4.As16())} {
			c := &clientState{queries: uint64(len(want))}
			tab.put(a, c)
			want[a] = c
		}
	}
	if tab.len() != 2000 || len(tab.slots) != 4096 {
		t.Fatalf("%d clients in %d slots", tab.len(), len(tab.slots))
	}
	for a, c := range want {
		if got := tab.get(a); got != c {
			t.Fatalf("%v: %p, want %p", a, got, c)
		}
	}
	for _, a := range []string{"10.0.4.0", "::ffff:10.0.4.0", "2001:db8::1", "0.0.0.0"} {
		if c := tab.get(netip.MustParseAddr(a)); c != nil {
			t.Fatalf("%s found: %+v", a, c)
		}
	}
	seen := 0
	for a, c := range tab.all() {
		if want[a] != c {
			t.Fatalf("all yields %v with the wrong state", a)
		}
		seen++
	}
	if seen != 2000 {
		t.Fatalf("all yields %d clients", seen)
	}
	if n := testing.AllocsPerRun(100, func() { tab.get(netip.MustParseAddr("10.0.3.7")) }); n != 0 {
		t.Fatalf("get allocates %v times", n)
	}
}

// TestClientZoneDropped: a client's address zone (never in packets) does
// not make another client.
func TestClientZoneDropped(t *testing.T) {
	e := New(Config{})
	d := &domain{}
	a := netip.MustParseAddr("fe80::1")
	c := d.client(e, a, 1)
	if z := d.client(e, a.WithZone("eth0"), 2); z != c || d.clients.len() != 1 || c.last != 2 {
		t.Fatalf("zoned address: %p and %p, %d clients", c, z, d.clients.len())
	}
}

// TestClientTableResistsChosenAddresses: addresses chosen so that the
// fixed hashAddr sends them all to one slot (as a sender of spoofed
// queries could choose them) spread over the table, whose hash is seeded:
// no probe run comes near their number.
func TestClientTableResistsChosenAddresses(t *testing.T) {
	var chosen []netip.Addr
	for i := uint32(0); len(chosen) < 256; i++ {
		a := netip.AddrFrom4([4]byte{byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)})
		if hashAddr(a)&511 == 0 {
			chosen = append(chosen, a)
		}
	}
	var tab clientTable
	for _, a := range chosen {
		tab.put(a, &clientState{})
	}
	longest, run := 0, 0
	for i := range 2 * len(tab.slots) { // twice round: runs that wrap
		if tab.slots[i%len(tab.slots)].c != nil {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	if longest >= 64 {
		t.Fatalf("a probe run of %d slots among %d clients in %d slots", longest, len(chosen), len(tab.slots))
	}
}
