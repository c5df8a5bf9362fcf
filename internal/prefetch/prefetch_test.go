package prefetch

import (
	"testing"
	"unsafe"
)

// TestLineNeverFaults prefetches addresses no load could read: a prefetch
// must not fault, whatever the address (an implementation that loaded
// instead would crash here).
func TestLineNeverFaults(t *testing.T) {
	for _, addr := range []uintptr{0, 1, 4096, ^uintptr(0), ^uintptr(0) >> 1, 0xdead0000} {
		Line(addr)
	}
	x := make([]uint64, 1024)
	Line(uintptr(unsafe.Pointer(&x[512])))
	if x[512] != 0 {
		t.Fatal("a prefetch changed memory")
	}
}

// TestLineAllocatesNothing: the collector calls it for every message.
func TestLineAllocatesNothing(t *testing.T) {
	x := make([]uint64, 64)
	if n := testing.AllocsPerRun(100, func() { Line(uintptr(unsafe.Pointer(&x[8]))) }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}
