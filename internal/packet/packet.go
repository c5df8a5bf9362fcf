package packet

import "net/netip"

// IP protocol numbers used by the decoder (IANA "Assigned Internet Protocol Numbers").
const (
	ProtoTCP uint8 = 6
	ProtoUDP uint8 = 17
)

// TCP flag bits as they appear in the TCP header's flags byte (RFC 9293).
const (
	TCPFlagFIN uint8 = 0x01
	TCPFlagSYN uint8 = 0x02
	TCPFlagRST uint8 = 0x04
	TCPFlagPSH uint8 = 0x08
	TCPFlagACK uint8 = 0x10
)

// Fragment describes the IP fragmentation state of a datagram. It is the
// zero value for a datagram that is not fragmented.
type Fragment struct {
	// IsFragment is true when the datagram is one piece of a larger one
	// (IPv4 MF set or offset > 0, or an IPv6 Fragment extension header).
	IsFragment bool
	// ID is the IPv4 identification or IPv6 fragment identification.
	ID uint32
	// Offset is the byte offset of this fragment's payload in the original datagram.
	Offset uint32
	// More is the "more fragments" flag.
	More bool
	// Proto is the upper-layer protocol of the original datagram (for IPv6,
	// the Next Header field of the Fragment header).
	Proto uint8
	// Data is this fragment's piece of the original datagram, to be placed
	// at Offset by a reassembler: for IPv4 the whole IP payload (transport
	// header included in a first fragment), for IPv6 everything after the
	// Fragment header (the fragmentable part: any extension headers that
	// follow it, then the transport header in a first fragment). It points
	// into the frame and holds only the captured bytes. Because of this
	// field, Fragment values cannot be compared with ==.
	Data []byte
}

// Packet is one decoded frame, down to its transport payload. All slices
// point into the frame passed to Decode and are valid only as long as it is.
type Packet struct {
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
	// Proto is ProtoUDP or ProtoTCP for a decoded transport header, or the
	// IP protocol number of a fragment whose transport header was not decoded.
	Proto uint8
	// Payload is the transport payload (UDP data or TCP segment data), or,
	// for a fragment, the IP payload of this fragment.
	Payload []byte
	// TCPSeq is the TCP sequence number; TCPFlags the TCP flags byte.
	TCPSeq   uint32
	TCPFlags uint8
	// Frag describes IP fragmentation; Frag.IsFragment means the transport
	// fields above are only set for a first fragment.
	Frag Fragment
	// Encapsulated counts the IP-level encapsulations Decode removed to
	// reach this packet (IP-in-IP, GRE and ERSPAN, VXLAN, Geneve; see
	// encap.go): 0 for a packet sent as it is. Every field above is the
	// innermost packet's.
	Encapsulated uint8
}
