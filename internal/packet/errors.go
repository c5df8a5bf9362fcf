package packet

// decodeError is the type of every error Decode returns. The values are
// package-level sentinels, so returning one never allocates, and they compare
// with == as well as errors.Is.
type decodeError struct {
	msg string
	// truncated marks the sentinels that also match ErrTruncated.
	truncated bool
}

func (e *decodeError) Error() string { return e.msg }

// Is makes every truncation sentinel match ErrTruncated as well as itself.
func (e *decodeError) Is(target error) bool {
	return e.truncated && target == ErrTruncated
}

// Sentinel errors returned by Decode. Compare them with errors.Is.
var (
	// ErrUnsupportedLinkType: the link type is not one Decode understands.
	ErrUnsupportedLinkType error = &decodeError{msg: "packet: unsupported link type"}
	// ErrNotIP: a well-formed frame that does not carry IPv4 or IPv6 (ARP,
	// LLDP, STP, an unknown EtherType or loopback family, ...). Callers count
	// these as skipped.
	ErrNotIP error = &decodeError{msg: "packet: not an IP frame"}
	// ErrBadIPHeader: an IP header that is inconsistent with itself (wrong
	// version, IHL below 5, total length shorter than the header).
	ErrBadIPHeader error = &decodeError{msg: "packet: malformed IP header"}
	// ErrBadTransportHeader: a UDP length of 1..7 or a TCP data offset below 5.
	ErrBadTransportHeader error = &decodeError{msg: "packet: malformed UDP or TCP header"}
	// ErrNotTransport: an IP datagram that carries neither UDP nor TCP (ICMP,
	// ESP, GRE, an IPv6 "no next header", ...).
	ErrNotTransport error = &decodeError{msg: "packet: not UDP or TCP"}
	// ErrFragment: a non-first IP fragment (or a first fragment too short to
	// hold its UDP/TCP header). Packet.Frag is set and Packet.Payload holds
	// the fragment's IP payload.
	ErrFragment error = &decodeError{msg: "packet: IP fragment without transport header"}

	// ErrTruncated matches (with errors.Is) every ErrTruncatedXxx below. It is
	// never returned itself.
	ErrTruncated error = &decodeError{msg: "packet: truncated", truncated: true}
	// ErrTruncatedLink: the frame is shorter than its link-layer header
	// (including VLAN tags, loopback family, LLC/SNAP).
	ErrTruncatedLink error = &decodeError{msg: "packet: truncated link-layer header", truncated: true}
	// ErrTruncatedIPv4: the IPv4 header, or the datagram its total length
	// announces, does not fit in the frame.
	ErrTruncatedIPv4 error = &decodeError{msg: "packet: truncated IPv4 datagram", truncated: true}
	// ErrTruncatedIPv6: the IPv6 header, an extension header, or the payload
	// its payload length announces, does not fit in the frame.
	ErrTruncatedIPv6 error = &decodeError{msg: "packet: truncated IPv6 datagram", truncated: true}
	// ErrTruncatedUDP: the UDP header, or the datagram its length field
	// announces, does not fit in the IP payload.
	ErrTruncatedUDP error = &decodeError{msg: "packet: truncated UDP datagram", truncated: true}
	// ErrTruncatedTCP: the TCP header (with options) does not fit in the IP payload.
	ErrTruncatedTCP error = &decodeError{msg: "packet: truncated TCP header", truncated: true}
)
