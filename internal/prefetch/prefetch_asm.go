//go:build amd64 || arm64

package prefetch

// Line starts loading the cache line holding address addr into every
// level of the cache. It never faults: addr may be anything.
func Line(addr uintptr)
