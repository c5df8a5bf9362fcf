package engine

import (
	"fmt"
	"math"
	"net/netip"
	"testing"
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
// estimate, and never fewer than the tracked clients and one more.
func TestClientCount(t *testing.T) {
	if n, est := clientCount(7, false, sketchOf("10.0.0.1")); n != 7 || est {
		t.Fatalf("all tracked: %d %v", n, est)
	}
	if n, est := clientCount(7, true, sketchOf("10.0.0.1")); n != 8 || !est {
		t.Fatalf("sketch below the tracked clients: %d %v", n, est)
	}
	var s clientSketch
	for i := range 200 {
		s.add(netip.AddrFrom4([4]byte{10, 9, byte(i), 1}))
	}
	if n, est := clientCount(4, true, s); n != int(s.estimate()) || !est || n < 100 {
		t.Fatalf("estimate: %d %v (sketch says %d)", n, est, s.estimate())
	}
}
