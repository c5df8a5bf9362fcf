// Package stream runs dnsieve continuously: live capture, dnstap, Zeek
// logs and watched folders all feed one Runner, which analyses each frame
// or message as it comes (package analyze), keeps the behavioural engine's
// state, raises alerts as soon as a verdict is reached (package alert),
// exposes Prometheus metrics and a health endpoint, checkpoints the engine
// so that a restart forgets nothing, and writes findings.jsonl and
// domains.csv when it stops.
//
// A new streaming input plugs in by calling Runner.Frame (link-layer
// frames), Runner.Message (DNS messages with addresses) or
// Runner.Observe (already-parsed transactions).
package stream
