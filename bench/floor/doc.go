// Package floor measures what keeping per-domain state costs on this
// machine, apart from dnsieve: the floor under the engine's time.
//
// Its benchmarks replay the registered domains of the generated realistic
// traffic (bench/traffic: 1M domains, Zipf plus a sweep) against the
// smallest state a behavioural detector needs, one 64-byte record per
// domain found by its hash, and time only the lookups and updates. A
// pointer-chasing benchmark measures the memory latency those lookups
// wait for. BENCHMARKS.md ("The floor under the engine") uses the results
// to bound what one core can reach with any per-domain analysis.
package floor
