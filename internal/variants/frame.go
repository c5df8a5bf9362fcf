package variants

import (
	"encoding/binary"
	"net/netip"
)

// Link types handled when rewriting frames (LINKTYPE_* values of
// https://www.tcpdump.org/linktypes.html). Frames of any other link type
// are copied unchanged.
const (
	linkNull      = 0
	linkEthernet  = 1
	linkRaw12     = 12
	linkRaw14     = 14
	linkRaw       = 101
	linkLoop      = 108
	linkLinuxSLL  = 113
	linkIPv4      = 228
	linkIPv6      = 229
	linkLinuxSLL2 = 276
)

// IP protocol numbers (IANA) and IPv6 extension headers (RFC 8200 section 4).
const (
	protoTCP     = 6
	protoUDP     = 17
	ipv6HopByHop = 0
	ipv6Routing  = 43
	ipv6Fragment = 44
	ipv6DestOpts = 60
)

// Frame is one captured frame.
type Frame struct {
	// Time is the capture time in Unix nanoseconds.
	Time int64
	// LinkType is the LINKTYPE_* value of the frame's interface.
	LinkType uint16
	// OrigLen is the length of the frame on the wire (>= len(Data)).
	OrigLen int
	// Data holds the captured bytes.
	Data []byte
}

// ipPacket is a frame split into its layers, for rewriting. Every slice
// points into the frame.
type ipPacket struct {
	link []byte // everything before the IP header
	v6   bool
	// hdr is the IPv4 header with options, or the IPv6 header with every
	// extension header before the transport header.
	hdr []byte
	// unfrag is, for IPv6, the length of the unfragmentable part of hdr
	// (RFC 8200 section 4.5: the IPv6 header, Hop-by-Hop and Routing
	// headers and any Destination Options header before a Routing header).
	unfrag int
	// protoAt is the offset in hdr of the byte naming the transport protocol.
	protoAt  int
	proto    uint8
	src, dst netip.Addr
	l4       []byte // transport header and payload, as long as the IP length says
}

// parseIP splits a frame down to its transport layer. It reports false for
// anything it does not rewrite: other link types and EtherTypes, truncated
// frames (captured length below the original), IP fragments, headers that
// are malformed or inconsistent with the captured bytes.
func parseIP(f *Frame, p *ipPacket) bool {
	*p = ipPacket{}
	if len(f.Data) < f.OrigLen {
		return false
	}
	d := f.Data
	var off int
	switch f.LinkType {
	case linkEthernet:
		if len(d) < 14 {
			return false
		}
		et := binary.BigEndian.Uint16(d[12:14])
		off = 14
		for et == 0x8100 || et == 0x88A8 || et == 0x9100 {
			if len(d) < off+4 {
				return false
			}
			et = binary.BigEndian.Uint16(d[off+2 : off+4])
			off += 4
		}
		if et != 0x0800 && et != 0x86DD {
			return false
		}
	case linkLinuxSLL:
		if len(d) < 16 {
			return false
		}
		off = 16
	case linkLinuxSLL2:
		if len(d) < 20 {
			return false
		}
		off = 20
	case linkNull, linkLoop:
		off = 4
	case linkRaw, linkRaw12, linkRaw14, linkIPv4, linkIPv6:
		off = 0
	default:
		return false
	}
	if len(d) <= off {
		return false
	}
	p.link = d[:off]
	ip := d[off:]
	switch ip[0] >> 4 {
	case 4:
		return parseIPv4(ip, p)
	case 6:
		return parseIPv6(ip, p)
	}
	return false
}

func parseIPv4(ip []byte, p *ipPacket) bool {
	if len(ip) < 20 {
		return false
	}
	hl := int(ip[0]&0x0F) * 4
	total := int(binary.BigEndian.Uint16(ip[2:4]))
	if hl < 20 || total < hl || total > len(ip) {
		return false
	}
	if binary.BigEndian.Uint16(ip[6:8])&0x3FFF != 0 { // MF or an offset
		return false
	}
	p.hdr = ip[:hl]
	p.protoAt = 9
	p.proto = ip[9]
	p.src = netip.AddrFrom4([4]byte(ip[12:16]))
	p.dst = netip.AddrFrom4([4]byte(ip[16:20]))
	p.l4 = ip[hl:total]
	return true
}

func parseIPv6(ip []byte, p *ipPacket) bool {
	if len(ip) < 40 {
		return false
	}
	plen := int(binary.BigEndian.Uint16(ip[4:6]))
	if plen == 0 || 40+plen > len(ip) {
		return false
	}
	ip = ip[:40+plen]
	p.v6 = true
	p.src = netip.AddrFrom16([16]byte(ip[8:24]))
	p.dst = netip.AddrFrom16([16]byte(ip[24:40]))
	next, at, off := ip[6], 6, 40
	p.unfrag = 40
	sawRouting := false
	// Every extension header is at least 8 bytes long, so the loop ends.
	for {
		switch next {
		case ipv6HopByHop, ipv6Routing, ipv6DestOpts:
			if len(ip) < off+8 {
				return false
			}
			n := (int(ip[off+1]) + 1) * 8
			if len(ip) < off+n {
				return false
			}
			if next == ipv6Routing {
				p.unfrag, sawRouting = off+n, true
			} else if next == ipv6HopByHop && !sawRouting {
				p.unfrag = off + n
			}
			next, at, off = ip[off], off, off+n
		case ipv6Fragment:
			return false
		default:
			p.hdr = ip[:off]
			p.protoAt = at
			p.proto = next
			p.l4 = ip[off:]
			return true
		}
	}
}

// udp returns the ports and payload of a UDP datagram, false when the
// header is short or its length disagrees with the IP payload.
func (p *ipPacket) udp() (sport, dport uint16, payload []byte, ok bool) {
	if p.proto != protoUDP || len(p.l4) < 8 {
		return 0, 0, nil, false
	}
	n := int(binary.BigEndian.Uint16(p.l4[4:6]))
	if n < 8 || n > len(p.l4) {
		return 0, 0, nil, false
	}
	return binary.BigEndian.Uint16(p.l4[0:2]), binary.BigEndian.Uint16(p.l4[2:4]), p.l4[8:n], true
}

// tcp returns the ports, sequence number, flags and payload of a TCP
// segment.
func (p *ipPacket) tcp() (sport, dport uint16, payload []byte, ok bool) {
	if p.proto != protoTCP || len(p.l4) < 20 {
		return 0, 0, nil, false
	}
	off := int(p.l4[12]>>4) * 4
	if off < 20 || off > len(p.l4) {
		return 0, 0, nil, false
	}
	return binary.BigEndian.Uint16(p.l4[0:2]), binary.BigEndian.Uint16(p.l4[2:4]), p.l4[off:], true
}

// build assembles a frame from the link header, a copy of the IP header
// (addresses src and dst, protocol proto) and a new transport layer l4,
// fixing the IP lengths and the IPv4 header checksum. The transport
// checksum is the caller's business (see setUDP, tcpSegment).
func (p *ipPacket) build(src, dst netip.Addr, proto uint8, l4 []byte) []byte {
	out := make([]byte, 0, len(p.link)+len(p.hdr)+len(l4))
	out = append(out, p.link...)
	h := len(out)
	out = append(out, p.hdr...)
	out = append(out, l4...)
	hdr := out[h : h+len(p.hdr)]
	hdr[p.protoAt] = proto
	if p.v6 {
		binary.BigEndian.PutUint16(hdr[4:6], uint16(len(hdr)-40+len(l4)))
		s, d := src.As16(), dst.As16()
		copy(hdr[8:24], s[:])
		copy(hdr[24:40], d[:])
		return out
	}
	binary.BigEndian.PutUint16(hdr[2:4], uint16(len(hdr)+len(l4)))
	s, d := src.As4(), dst.As4()
	copy(hdr[12:16], s[:])
	copy(hdr[16:20], d[:])
	setIPv4Checksum(hdr)
	return out
}

// setIPv4Checksum recomputes the header checksum of an IPv4 header (RFC 791).
func setIPv4Checksum(hdr []byte) {
	hdr[10], hdr[11] = 0, 0
	binary.BigEndian.PutUint16(hdr[10:12], ^fold(sum(0, hdr)))
}

// sum adds b to a one's complement running sum as big-endian 16-bit words
// (RFC 1071), padding an odd length with a zero byte.
func sum(s uint32, b []byte) uint32 {
	for len(b) >= 2 {
		s += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	return s
}

func fold(s uint32) uint16 {
	for s > 0xFFFF {
		s = s>>16 + s&0xFFFF
	}
	return uint16(s)
}

// transportChecksum is the UDP/TCP checksum of l4 (its checksum field
// zeroed by the caller) under the IPv4 or IPv6 pseudo-header (RFC 768,
// RFC 9293 section 3.1, RFC 8200 section 8.1).
func transportChecksum(src, dst netip.Addr, proto uint8, l4 []byte) uint16 {
	var s uint32
	s = sum(s, src.AsSlice())
	s = sum(s, dst.AsSlice())
	s += uint32(proto)
	s += uint32(len(l4) & 0xFFFF)
	s += uint32(len(l4) >> 16)
	return ^fold(sum(s, l4))
}

// udpDatagram builds a UDP header and payload with its checksum. With
// zeroSum (IPv4 only) the checksum is left at zero ("none", RFC 768).
func udpDatagram(src, dst netip.Addr, sport, dport uint16, payload []byte, zeroSum bool) []byte {
	l4 := make([]byte, 8+len(payload))
	binary.BigEndian.PutUint16(l4[0:2], sport)
	binary.BigEndian.PutUint16(l4[2:4], dport)
	binary.BigEndian.PutUint16(l4[4:6], uint16(len(l4)))
	copy(l4[8:], payload)
	if zeroSum && src.Is4() {
		return l4
	}
	c := transportChecksum(src, dst, protoUDP, l4)
	if c == 0 {
		c = 0xFFFF // RFC 768: a computed zero is sent as all ones
	}
	binary.BigEndian.PutUint16(l4[6:8], c)
	return l4
}

// tcpSegment builds a 20-byte TCP header (no options) and payload with its
// checksum.
func tcpSegment(src, dst netip.Addr, sport, dport uint16, seq, ack uint32, flags uint8, payload []byte) []byte {
	l4 := make([]byte, 20+len(payload))
	binary.BigEndian.PutUint16(l4[0:2], sport)
	binary.BigEndian.PutUint16(l4[2:4], dport)
	binary.BigEndian.PutUint32(l4[4:8], seq)
	binary.BigEndian.PutUint32(l4[8:12], ack)
	l4[12] = 5 << 4
	l4[13] = flags
	binary.BigEndian.PutUint16(l4[14:16], 65535)
	copy(l4[20:], payload)
	binary.BigEndian.PutUint16(l4[16:18], transportChecksum(src, dst, protoTCP, l4))
	return l4
}

// setTCPChecksum recomputes the checksum of a whole TCP segment in place.
func setTCPChecksum(src, dst netip.Addr, l4 []byte) {
	l4[16], l4[17] = 0, 0
	binary.BigEndian.PutUint16(l4[16:18], transportChecksum(src, dst, protoTCP, l4))
}

// isDNSPort reports whether port is one of ports.
func isDNSPort(ports []uint16, port uint16) bool {
	for _, p := range ports {
		if p == port {
			return true
		}
	}
	return false
}
