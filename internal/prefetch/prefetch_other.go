//go:build !amd64 && !arm64

package prefetch

// Line starts loading the cache line holding address addr into every
// level of the cache. On this architecture it does nothing.
func Line(addr uintptr) {}
