// Package analyze is the per-packet and per-message analysis shared by
// every input: it decodes a frame down to its DNS payload (package
// packet), parses the message (dnswire), applies the allowlist and the
// per-name checks, and describes the message for the behavioural engine
// (registered domain, fingerprint match, answer sizes, how much answer
// content looks like encoded data: rdata.go). An Analyzer holds
// all its scratch space, so the hot path allocates nothing; each goroutine
// owns one.
//
// Batch scans (package scan) call Frame and Message from their workers;
// inputs that already carry DNS messages (dnstap) call Message directly.
package analyze
