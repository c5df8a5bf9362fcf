package engine

import (
	"encoding/base32"
	"fmt"
	"math"
	"net/netip"
	"testing"
	"time"
)

// sketchOf returns the sketch of the given addresses.
func sketchOf(addrs ...string) clientSketch {
	var s clientSketch
	for _, a := range addrs {
		s.add(netip.MustParseAddr(a))
	}
	return s
}

// TestClientSketchEstimates checks the estimate over ranges of distinct
// addresses: exact or nearly so while linear counting applies, within the
// HyperLogLog's error beyond.
func TestClientSketchEstimates(t *testing.T) {
	if got := clientSketch(0).estimate(); got != 0 {
		t.Fatalf("empty sketch estimates %d", got)
	}
	for _, tc := range []struct {
		n   int
		tol float64 // relative error allowed
	}{{1, 0}, {2, 0}, {3, 0.34}, {10, 0.3}, {30, 0.35}, {100, 0.5}, {1000, 0.5}, {100000, 0.5}} {
		var s clientSketch
		for i := range tc.n {
			s.add(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}))
			s.add(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})) // again: no change
		}
		got := float64(s.estimate())
		if math.Abs(got-float64(tc.n)) > tc.tol*float64(tc.n) {
			t.Errorf("%d addresses: estimate %v", tc.n, got)
		}
	}
}

// TestClientSketchGolden pins the hash and the estimator: a sketch written
// by one build must mean the same to another (snapshots carry them).
func TestClientSketchGolden(t *testing.T) {
	s := sketchOf("192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1")
	if s != 0x1200000 || s.estimate() != 2 {
		t.Fatalf("sketch %#x, estimate %d", uint64(s), s.estimate())
	}
	var big clientSketch
	for i := range 5000 {
		big.add(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 14: byte(i >> 8), 15: byte(i)}))
	}
	if big != 0x88a989aa98b899ae || big.estimate() != 5104 {
		t.Fatalf("sketch %#x, estimate %d", uint64(big), big.estimate())
	}
}

// TestClientSketchUnion: the union of two sketches is the sketch of both
// sets, whatever the order of the additions.
func TestClientSketchUnion(t *testing.T) {
	var a, b, both clientSketch
	for i := range 300 {
		addr := netip.MustParseAddr(fmt.Sprintf("10.1.%d.%d", i/200, i%200))
		if i%3 == 0 {
			a.add(addr)
		} else {
			b.add(addr)
		}
		both.add(addr)
	}
	if a.union(b) != both || b.union(a) != both || both.union(a) != both {
		t.Fatalf("union %#x, %#x; want %#x", uint64(a.union(b)), uint64(b.union(a)), uint64(both))
	}
}

// TestClientCount: exact while every client is tracked; otherwise the
// estimate, and never fewer than the tracked clients.
func TestClientCount(t *testing.T) {
	if n, est := clientCount(7, false, sketchOf("10.0.0.1")); n != 7 || est {
		t.Fatalf("all tracked: %d %v", n, est)
	}
	if n, est := clientCount(7, true, sketchOf("10.0.0.1")); n != 7 || !est {
		t.Fatalf("sketch below the known clients: %d %v", n, est)
	}
	var s clientSketch
	for i := range 200 {
		s.add(netip.AddrFrom4([4]byte{10, 9, byte(i), 1}))
	}
	if n, est := clientCount(4, true, s); n != int(s.estimate()) || !est || n < 100 {
		t.Fatalf("estimate: %d %v (sketch says %d)", n, est, s.estimate())
	}
}

// TestClientTrackedLateCountsOnce: three hosts look a domain up while it
// is compact (the third only in its sketch); then the third runs a tunnel
// under it. The finding has three clients, not four, and names them all.
func TestClientTrackedLateCountsOnce(t *testing.T) {
	f := newFeeder(Config{})
	at := t0.UnixNano()
	for i, c := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"} {
		o := coldObs(f, "www.tun-example.com", at+int64(i), c, tA, false)
		f.e.Observe(&o)
	}
	enc := base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)
	for i := range 400 {
		data := enc.EncodeToString([]byte(fmt.Sprintf("secret chunk %04d of the exfiltrated file", i)))
		o := coldObs(f, data[:50]+"."+data[50:]+".tun-example.com", at+int64(i+10)*int64(time.Second), "10.0.0.3", tTXT, false)
		f.e.Observe(&o)
	}
	fs := f.e.Findings()
	if len(fs) != 1 {
		t.Fatalf("%d findings", len(fs))
	}
	fd := fs[0]
	if len(fd.Clients) != 3 || fd.OtherClients != 0 || fd.Features.Clients != 3 || fd.Clients[0].Addr != "10.0.0.3" {
		t.Fatalf("clients %+v, %d others, features say %d (estimated %v)", fd.Clients, fd.OtherClients, fd.Features.Clients, fd.Features.ClientsEstimated)
	}
}
