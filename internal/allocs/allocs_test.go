package allocs

import "testing"

var sink []*[64]byte

// TestFewestCountsEveryAllocation: a function that allocates n times a
// run is counted n, not rounded down.
func TestFewestCountsEveryAllocation(t *testing.T) {
	for _, n := range []int{0, 1, 3} {
		got := Fewest(3, func() {
			sink = sink[:0]
			for range n {
				sink = append(sink[:0], new([64]byte))
			}
		})
		if got != uint64(n) {
			t.Errorf("%d allocations counted, want %d", got, n)
		}
	}
}
