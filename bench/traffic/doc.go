// Package traffic generates realistic, deterministic DNS traffic for
// dnsieve's benchmarks: Ethernet frames carrying IPv4 and IPv6 UDP/53
// queries and responses about a large population of registered domains
// with a Zipf-like popularity and a long tail, CDN and PTR names, DNSBL
// lookups, answers in every successful response, and three DNS tunnels
// (an iodine-like NULL tunnel, a dnscat2-like TXT tunnel and a slow
// base32 exfiltration over A queries) that make up about 0.5% of the
// packets.
//
// Generation is streaming: a Generator holds a bounded amount of state
// (the responses still in flight, a few hundred at most), so captures of
// any length are written in constant memory. The frame sequence depends
// only on the seed and the domain count, never on the number of packets
// asked for, so a short capture is a prefix of a long one with the same
// seed.
//
// The package is benchmark support: it is used by bench/gen (the capture
// generator command) and by the end-to-end benchmark of internal/scan.
package traffic
