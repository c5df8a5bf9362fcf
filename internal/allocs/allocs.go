// Package allocs counts heap allocations exactly, for tests that must see
// every one (testing.AllocsPerRun rounds an average down, so a few
// allocations a run read as zero).
//
// The runtime counts the whole process's allocations, including those of
// goroutines other than the one under test (the testing package's, the
// runtime's own) that happen to run meanwhile on a busy machine. Fewest
// therefore runs the code several times and keeps the smallest count: an
// allocation of the code under test happens in every round, another
// goroutine's only in some. The price: code that allocates less often
// than once a round (a table that grows every few rounds) can go unseen,
// so a round must be long enough to hold the period a test cares about.
package allocs

import (
	"math"
	"runtime"
)

// Fewest runs f rounds times (at least once) and returns the fewest heap
// allocations the process made during one run.
func Fewest(rounds int, f func()) uint64 {
	fewest := uint64(math.MaxUint64)
	for range max(rounds, 1) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		fewest = min(fewest, after.Mallocs-before.Mallocs)
	}
	return fewest
}
