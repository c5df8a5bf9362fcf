// Package tcpstream reassembles DNS-over-TCP byte streams from TCP segments
// seen in capture order and hands out whole DNS messages.
//
// On TCP every DNS message is preceded by a two-byte big-endian length
// (RFC 1035 section 4.2.2, RFC 7766 section 8). An [Assembler] tracks each
// direction of each connection (source address:port to destination
// address:port) as its own flow, puts segments back in sequence order,
// removes the length prefixes and calls a callback once per complete message.
//
// The package owns:
//   - sequence tracking with RFC 1982 style serial arithmetic on uint32, so
//     streams that wrap the sequence space are handled;
//   - the retransmission and overlap policy (bytes already accepted always
//     win: the first copy of a byte is kept, later copies are ignored);
//   - bounded buffering of out-of-order data and the resynchronisation policy
//     when a hole never fills;
//   - flow lifetime: SYN, FIN, RST, idle timeouts in capture time and LRU
//     eviction under memory pressure;
//   - resumption: for open flows that time out or are evicted, a bounded
//     table (at most MaxFlows entries, oldest forgotten first) remembers the
//     next expected sequence number and how much of the current message is
//     left, so that when the connection goes on, framing continues at the
//     next message boundary instead of at whatever segment comes first.
//
// Memory is bounded by [Config] whatever the input: the number of flows, the
// bytes buffered per flow direction and the bytes buffered over all flows are
// all capped, as is the number of remembered points, and every cap breach is
// counted in [Stats]. The package does not parse DNS; it only frames
// messages.
package tcpstream
