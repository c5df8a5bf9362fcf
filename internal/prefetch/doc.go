// Package prefetch asks the processor to start loading a cache line
// without waiting for it: a software prefetch instruction (PREFETCHT0 on
// amd64, PRFM PLDL1KEEP on arm64; nothing elsewhere).
//
// Go has no prefetch of its own, and an ordinary load is no substitute:
// a load that misses the cache holds up every instruction after it from
// retiring, so touching the next message's memory early only moves the
// wait (bench/floor's BenchmarkPrefetch measures both). A prefetch does
// not hold up the instructions after it until its data arrives, and never
// faults, whatever the address.
//
// The engine's collector uses it to have a message's index slot and
// record on their way while it observes the messages before it.
package prefetch
