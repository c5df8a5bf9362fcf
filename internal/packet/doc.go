// Package packet decodes captured frames down to their UDP or TCP payload.
//
// It owns the link, IP and transport layers of dnsieve's pipeline: Ethernet
// (with any stack of 802.1Q/802.1ad/0x9100 VLAN tags, RFC 1042 LLC/SNAP,
// MPLS and PPPoE), Linux cooked captures (SLL and SLL2), raw IPv4/IPv6,
// BSD loopback, PPP and IEEE 802.11 (with or without radiotap); IPv4 with
// options and IPv6 with extension headers; UDP and TCP. Encapsulated
// traffic (VXLAN, Geneve, GRE with ERSPAN, IP-in-IP) is unwrapped to its
// innermost packet (encap.go, Packet.Encapsulated). It is the
// measured hot path: Decode never allocates and returns package-level
// sentinel errors, so callers can count every kind of skipped frame.
//
// IP fragments are described (Packet.Frag, with each fragment's bytes in
// Fragment.Data) but reassembled elsewhere (ipreasm); TCP segments
// are handed on one by one for stream reassembly elsewhere (tcpstream).
// Checksums are not verified.
package packet
