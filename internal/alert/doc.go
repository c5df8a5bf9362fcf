// Package alert writes the engine's findings as alerts while traffic
// flows: one JSON object per line, with Elastic Common Schema field names
// (event.kind, source.ip, dns.question.name, ...) so that SIEMs map them
// without work, to standard output, a size-rotated file, the local syslog
// daemon or a remote syslog collector over UDP, TCP or a Unix datagram
// socket. An alert is written once per finding, and again each time its
// severity rises; an alert the sink refused is written at the finding's
// next report.
//
// Open parses the output spec; syslog records carry facility daemon,
// severity warning (PRI 28), a tag, and the JSON line unmodified as their
// message. Framing, size limits and delivery on failure are in README.md
// beside this file; the field mapping is documented in docs/ALERTS.md.
package alert
