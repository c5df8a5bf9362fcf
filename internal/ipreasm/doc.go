// Package ipreasm reassembles fragmented IPv4 (RFC 791, RFC 815) and IPv6
// (RFC 8200 section 4.5) datagrams, so that a DNS message that crossed the
// network in fragments (a large TXT, NULL or MX answer over EDNS, a tunnel's
// downstream data) is analysed once, at the frame whose fragment completes
// it, which is where Wireshark shows the reassembled message.
//
// A [Reassembler] takes the fragments that packet.Decode describes
// (Packet.Frag, with each fragment's bytes in Fragment.Data) in capture
// order and, when one completes a datagram, decodes the datagram's UDP or
// TCP header and returns the whole payload.
//
// The package owns:
//   - the identity of a datagram: source, destination, protocol and
//     identification for IPv4; source, destination and identification for
//     IPv6, whose protocol is taken from the offset-zero fragment;
//   - the overlap policy, chosen against evasion. IPv4: the first copy of
//     every byte wins; bytes already held are kept and a later fragment only
//     fills holes. IPv6: a fragment lying entirely within bytes already held
//     is ignored (first copy wins); one that overlaps held bytes and also
//     brings new ones drops the whole datagram (RFC 5722). Exact repeats are
//     harmless duplicates; other overlaps are counted, and those whose bytes
//     differ from the held copy are counted again as conflicts;
//   - the length rules: a non-final IPv4 fragment is cut to a multiple of 8
//     bytes (as Linux does), a non-final IPv6 fragment that is not a
//     multiple of 8 is discarded (RFC 8200), and fragments that contradict
//     the datagram's end are discarded;
//   - bounded resources: datagrams in progress, bytes buffered, fragments
//     per datagram, datagram length and idle time in capture time are all
//     capped by [Config], least recently used datagrams are evicted first,
//     and every cap breach is counted in [Stats].
//
// Memory is charged for the bytes a datagram holds, not for the offsets it
// claims: a fragment at offset 65000 costs what it carries. In the common
// case of a few fragments per datagram Add does not allocate; buffers of
// finished datagrams are reused. The package does not parse DNS and does
// not verify checksums.
package ipreasm
