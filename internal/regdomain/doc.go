// Package regdomain splits a query name into its registered domain (the
// public suffix plus one label, from golang.org/x/net/publicsuffix) and the
// subdomain part to its left, with a cache in front of the public suffix
// list: a list lookup costs more than decoding the whole packet.
//
// The cache is keyed by as many trailing labels as the public suffix rules
// ending in the name's last two labels can need (psl_depth.go, built from
// Debian's publicsuffix package by `go run ./internal/regdomain/gen`), so
// that all hosts of a registered domain share one entry. The cache
// (cache.go) is a seeded open-addressing table of fixed maximum size that
// allocates nothing once grown: a cached name costs one probe, and a new
// registered domain costs one public suffix list lookup (whose only
// allocation is inside golang.org/x/net/publicsuffix).
//
// Names are case-folded (DNS is case-insensitive, RFC 4343, and tunnels and
// resolvers randomise case with 0x20 encoding). Reverse-lookup names under
// in-addr.arpa and ip6.arpa are grouped under those zones.
package regdomain
