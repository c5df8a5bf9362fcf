package packet

// IP protocol numbers of ICMP (RFC 792) and ICMPv6 (RFC 4443).
const (
	ProtoICMP   uint8 = 1
	ProtoICMPv6 uint8 = 58
)

// ICMPQuote decodes the datagram quoted inside an ICMP or ICMPv6 error
// message: destination unreachable, time exceeded, parameter problem (and
// ICMPv6 packet too big). The network sends these back when it refuses a
// packet, quoting its IP header and the start of its payload (RFC 792; RFC
// 1812 section 4.3.2.3 asks routers to quote as much as fits in 576 bytes;
// RFC 4443 section 2.4 as much as fits in the minimum IPv6 MTU), so a DNS
// query refused with "port unreachable" is usually quoted whole. p must be
// a packet for which Decode returned ErrNotTransport with Proto ProtoICMP
// or ProtoICMPv6. The quoted datagram is decoded into inner; its payload is
// often cut short, and the truncation errors of Decode (ErrTruncatedIPv4,
// ErrTruncatedUDP, ...) are returned with inner filled as far as possible.
// ErrNotTransport means p is not an ICMP error message.
func ICMPQuote(p *Packet, inner *Packet) error {
	*inner = Packet{}
	data := p.Payload
	if len(data) < 8 {
		return ErrNotTransport
	}
	typ := data[0]
	switch p.Proto {
	case ProtoICMP:
		// 3 destination unreachable, 4 source quench, 11 time exceeded,
		// 12 parameter problem.
		if typ != 3 && typ != 4 && typ != 11 && typ != 12 {
			return ErrNotTransport
		}
		if len(data) < 8+20 || data[8]>>4 != 4 {
			return ErrNotTransport
		}
		return decodeIPv4(data[8:], inner)
	case ProtoICMPv6:
		// 1 destination unreachable, 2 packet too big, 3 time exceeded,
		// 4 parameter problem.
		if typ < 1 || typ > 4 {
			return ErrNotTransport
		}
		if len(data) < 8+40 || data[8]>>4 != 6 {
			return ErrNotTransport
		}
		return decodeIPv6(data[8:], inner)
	}
	return ErrNotTransport
}
