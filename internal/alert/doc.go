// Package alert writes the engine's findings as alerts while traffic
// flows: one JSON object per line, with Elastic Common Schema field names
// (event.kind, source.ip, dns.question.name, ...) so that SIEMs map them
// without work, to standard output, a size-rotated file, or syslog. An
// alert is written once per finding, and again each time its severity
// rises.
//
// The field mapping is documented in docs/ALERTS.md.
package alert
