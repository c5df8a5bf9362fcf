// Package testcap generates packet captures with code so that the tests of
// other dnsieve packages never need third-party capture files.
//
// It owns three things:
//
//   - DNS message builders (Query, Response, RawQuery, RawName, ...) built on
//     golang.org/x/net/dns/dnsmessage, plus hand-encoded wire bytes for names
//     that dnsmessage cannot express (binary labels, '.' inside a label,
//     compression pointers).
//   - Frame builders (UDP, TCP, IPv4Fragments, IPv6Fragments, ARP,
//     ICMPEcho, TCPDNSSegments, TCPHandshake) for every link layer dnsieve
//     reads (see Link). Ethernet, 802.1Q, IPv4, IPv6, UDP, TCP and ICMP are
//     serialized with gopacket/layers with lengths and checksums fixed; the
//     Linux cooked (SLL, SLL2) and BSD loopback (Null, Loop) headers are
//     built by hand from the tcpdump.org LINKTYPE pages.
//   - Capture writers (WritePCAP, WritePCAPSwapped, WritePCAPNG, WriteFile)
//     and Mix, a deterministic pseudo-random mix of benign DNS traffic for
//     golden tests.
//
// The package is meant to be imported only from _test.go files. Builders
// panic on programmer errors (mismatched address families, a link type that
// cannot carry the frame, a DNS name dnsmessage rejects): they are test
// fixtures, and a panic points straight at the faulty call.
package testcap
