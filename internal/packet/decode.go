package packet

import (
	"encoding/binary"
	"net/netip"
)

// Link types understood by Decode: the LINKTYPE_* values of
// https://www.tcpdump.org/linktypes.html as they appear in pcap and pcapng
// files.
const (
	LinkTypeNull      uint16 = 0   // BSD loopback, 4-byte address family in host byte order
	LinkTypeEthernet  uint16 = 1   // IEEE 802.3 Ethernet
	LinkTypeRawDLT12  uint16 = 12  // DLT_RAW as numbered on most BSDs (raw IPv4/IPv6)
	LinkTypeRawDLT14  uint16 = 14  // DLT_RAW as numbered on OpenBSD (raw IPv4/IPv6)
	LinkTypeRaw       uint16 = 101 // raw IPv4 or IPv6, version taken from the first nibble
	LinkTypeLoop      uint16 = 108 // OpenBSD loopback, family in network byte order
	LinkTypeLinuxSLL  uint16 = 113 // Linux "cooked" capture v1 (16-byte header)
	LinkTypeIPv4      uint16 = 228 // raw IPv4
	LinkTypeIPv6      uint16 = 229 // raw IPv6
	LinkTypeLinuxSLL2 uint16 = 276 // Linux "cooked" capture v2 (20-byte header)
)

// EtherType values (IEEE 802 numbers) that Decode follows.
const (
	etherTypeIPv4   = 0x0800
	etherTypeIPv6   = 0x86DD
	etherTypeVLAN   = 0x8100 // IEEE 802.1Q C-tag
	etherTypeQinQ   = 0x88A8 // IEEE 802.1ad S-tag
	etherTypeQinQv1 = 0x9100 // pre-standard Q-in-Q tag
	// Values up to 1500 in the EtherType position are an IEEE 802.3 length:
	// an LLC header follows.
	maxEthernetLength = 1500
)

// IPv6 next-header values that are extension headers (RFC 8200 section 4,
// RFC 4302 for AH, RFC 4303 for ESP).
const (
	ipv6HopByHop = 0
	ipv6Routing  = 43
	ipv6Fragment = 44
	ipv6ESP      = 50
	ipv6AH       = 51
	ipv6NoNext   = 59
	ipv6DestOpts = 60
)

// Decode decodes one frame of the given link type down to its UDP or TCP
// payload, filling p (p is reset first). It never allocates and never reads
// outside frame; all slices in p point into frame.
//
// A nil error means p describes a UDP or TCP datagram whose header was
// complete. If p.Frag.IsFragment is also set, the datagram is the first
// fragment of a larger one and p.Payload is only its first part.
//
// Errors are the sentinels of this package. When a length field announces
// more bytes than were captured (ErrTruncatedIPv4, ErrTruncatedIPv6 from a
// payload length, ErrTruncatedUDP from a UDP length), decoding carries on
// with the bytes present: p is filled completely and p.Payload holds the
// captured part of the payload, so a lenient caller may still use it. On
// every other error p holds whatever was decoded before the failing layer.
func Decode(linkType uint16, frame []byte, p *Packet) error {
	*p = Packet{}
	switch linkType {
	case LinkTypeEthernet:
		if len(frame) < 14 {
			return ErrTruncatedLink
		}
		return decodeEtherType(binary.BigEndian.Uint16(frame[12:14]), frame[14:], p)
	case LinkTypeLinuxSLL:
		// packet type(2) ARPHRD type(2) address length(2) address(8) protocol(2)
		if len(frame) < 16 {
			return ErrTruncatedLink
		}
		return decodeEtherType(binary.BigEndian.Uint16(frame[14:16]), frame[16:], p)
	case LinkTypeLinuxSLL2:
		// protocol(2) reserved(2) interface index(4) ARPHRD type(2)
		// packet type(1) address length(1) address(8)
		if len(frame) < 20 {
			return ErrTruncatedLink
		}
		return decodeEtherType(binary.BigEndian.Uint16(frame[0:2]), frame[20:], p)
	case LinkTypeRaw, LinkTypeRawDLT12, LinkTypeRawDLT14:
		if len(frame) < 1 {
			return ErrTruncatedLink
		}
		switch frame[0] >> 4 {
		case 4:
			return decodeIPv4(frame, p)
		case 6:
			return decodeIPv6(frame, p)
		}
		return ErrBadIPHeader
	case LinkTypeIPv4:
		return decodeIPv4(frame, p)
	case LinkTypeIPv6:
		return decodeIPv6(frame, p)
	case LinkTypeNull, LinkTypeLoop:
		return decodeLoopback(frame, p)
	case LinkTypePPP, LinkTypePPPHDLC:
		return decodePPP(frame, p)
	case LinkTypeIEEE80211:
		return decode80211(frame, p)
	case LinkTypeRadiotap:
		return decodeRadiotap(frame, p)
	}
	return ErrUnsupportedLinkType
}

// decodeLoopback handles the 4-byte BSD loopback header. The family is
// written in the capturing host's byte order for LINKTYPE_NULL and in network
// byte order for LINKTYPE_LOOP; both orders are accepted for both types. The
// values are the BSD AF_INET (2) and the AF_INET6 of NetBSD/OpenBSD (24),
// FreeBSD (28) and Darwin (30), see tcpdump's print-null.c.
func decodeLoopback(frame []byte, p *Packet) error {
	if len(frame) < 4 {
		return ErrTruncatedLink
	}
	family := binary.BigEndian.Uint32(frame[:4])
	if family > 0xFF {
		family = binary.LittleEndian.Uint32(frame[:4])
	}
	switch family {
	case 2:
		return decodeIPv4(frame[4:], p)
	case 24, 28, 30:
		return decodeIPv6(frame[4:], p)
	}
	return ErrNotIP
}

// decodeEtherType dispatches on an EtherType, first peeling off any number of
// VLAN tags (802.1Q, 802.1ad, 0x9100) and an LLC/SNAP header (RFC 1042).
// Every step consumes at least 4 bytes, so the loop ends.
func decodeEtherType(etherType uint16, data []byte, p *Packet) error {
	for {
		switch etherType {
		case etherTypeIPv4:
			return decodeIPv4(data, p)
		case etherTypeIPv6:
			return decodeIPv6(data, p)
		case etherTypeMPLS, etherTypeMPLSM:
			return decodeMPLS(data, p)
		case etherTypePPPoE:
			return decodePPPoE(data, p)
		case etherTypeVLAN, etherTypeQinQ, etherTypeQinQv1:
			// TCI(2) then the inner EtherType(2).
			if len(data) < 4 {
				return ErrTruncatedLink
			}
			etherType = binary.BigEndian.Uint16(data[2:4])
			data = data[4:]
		default:
			if etherType > maxEthernetLength {
				return ErrNotIP
			}
			// 802.2 LLC: only SNAP (DSAP=SSAP=0xAA, control 0x03 UI)
			// with the zero OUI (RFC 1042) or the 802.1H OUI 00-00-F8
			// carries an EtherType.
			if len(data) < 3 || data[0] != 0xAA || data[1] != 0xAA || data[2] != 0x03 {
				if len(data) < 3 {
					return ErrTruncatedLink
				}
				return ErrNotIP
			}
			if len(data) < 8 {
				return ErrTruncatedLink
			}
			if data[3] != 0 || data[4] != 0 || (data[5] != 0 && data[5] != 0xF8) {
				return ErrNotIP
			}
			etherType = binary.BigEndian.Uint16(data[6:8])
			if etherType <= maxEthernetLength {
				return ErrNotIP
			}
			data = data[8:]
		}
	}
}

// decodeIPv4 decodes an IPv4 header (RFC 791). The header checksum is not
// verified. The total length trims link-layer padding and trailers; a total
// length of 0 (seen with TCP segmentation offload) means "the whole frame".
func decodeIPv4(data []byte, p *Packet) error {
	if len(data) < 20 {
		return ErrTruncatedIPv4
	}
	if data[0]>>4 != 4 {
		return ErrBadIPHeader
	}
	hlen := int(data[0]&0x0F) * 4
	if hlen < 20 {
		return ErrBadIPHeader
	}
	total := int(binary.BigEndian.Uint16(data[2:4]))
	if total == 0 {
		total = len(data)
	}
	if total < hlen {
		return ErrBadIPHeader
	}
	if hlen > len(data) {
		return ErrTruncatedIPv4
	}
	var pending error
	if total > len(data) {
		pending = ErrTruncatedIPv4
		total = len(data)
	}
	p.Src = netip.AddrFrom4([4]byte(data[12:16]))
	p.Dst = netip.AddrFrom4([4]byte(data[16:20]))
	proto := data[9]
	flagsOffset := binary.BigEndian.Uint16(data[6:8])
	more := flagsOffset&0x2000 != 0
	offset := uint32(flagsOffset&0x1FFF) * 8
	if more || offset != 0 {
		p.Frag = Fragment{
			IsFragment: true,
			ID:         uint32(binary.BigEndian.Uint16(data[4:6])),
			Offset:     offset,
			More:       more,
			Proto:      proto,
			Data:       data[hlen:total],
		}
	}
	return decodeTransport(proto, data[hlen:total], p, pending)
}

// decodeIPv6 decodes an IPv6 header (RFC 8200) and walks its extension
// headers. A payload length of 0 (a jumbogram, RFC 2675, or an offloaded
// segment) means "the whole frame".
func decodeIPv6(data []byte, p *Packet) error {
	if len(data) < 40 {
		return ErrTruncatedIPv6
	}
	if data[0]>>4 != 6 {
		return ErrBadIPHeader
	}
	var pending error
	rest := data[40:]
	if plen := int(binary.BigEndian.Uint16(data[4:6])); plen != 0 {
		if plen > len(rest) {
			pending = ErrTruncatedIPv6
		} else {
			rest = rest[:plen]
		}
	}
	p.Src = netip.AddrFrom16([16]byte(data[8:24]))
	p.Dst = netip.AddrFrom16([16]byte(data[24:40]))
	next := data[6]
	// Every extension header is at least 8 bytes long, so the loop ends.
	for {
		switch next {
		case ipv6HopByHop, ipv6Routing, ipv6DestOpts:
			// Next Header(1), Hdr Ext Len(1) in 8-octet units not counting
			// the first 8.
			if len(rest) < 8 {
				return ErrTruncatedIPv6
			}
			n := (int(rest[1]) + 1) * 8
			if n > len(rest) {
				return ErrTruncatedIPv6
			}
			next, rest = rest[0], rest[n:]
		case ipv6AH:
			// Payload Len is in 4-octet units, minus 2 (RFC 4302 section 2.2).
			if len(rest) < 8 {
				return ErrTruncatedIPv6
			}
			n := (int(rest[1]) + 2) * 4
			if n > len(rest) {
				return ErrTruncatedIPv6
			}
			next, rest = rest[0], rest[n:]
		case ipv6Fragment:
			// Next Header(1) reserved(1) offset(13 bits) res(2) M(1) ID(4).
			if len(rest) < 8 {
				return ErrTruncatedIPv6
			}
			fo := binary.BigEndian.Uint16(rest[2:4])
			offset := uint32(fo &^ 7)
			more := fo&1 != 0
			next = rest[0]
			// An "atomic fragment" (offset 0, M clear) is a whole
			// datagram (RFC 6946): it is not marked as a fragment.
			if offset != 0 || more {
				p.Frag = Fragment{
					IsFragment: true,
					ID:         binary.BigEndian.Uint32(rest[4:8]),
					Offset:     offset,
					More:       more,
					Proto:      next,
					Data:       rest[8:],
				}
			}
			rest = rest[8:]
			if offset != 0 {
				// The headers after this one belong to the first fragment.
				p.Proto = next
				p.Payload = rest
				return ErrFragment
			}
		case ipv6ESP, ipv6NoNext:
			p.Proto = next
			return ErrNotTransport
		default:
			return decodeTransport(next, rest, p, pending)
		}
	}
}

// decodeTransport decodes a UDP (RFC 768) or TCP (RFC 9293) header from an
// IP payload. pending is a truncation error of the IP layer to return if
// nothing worse happens.
func decodeTransport(proto uint8, data []byte, p *Packet, pending error) error {
	p.Proto = proto
	if p.Frag.IsFragment {
		if p.Frag.Offset != 0 {
			p.Payload = data
			return ErrFragment
		}
		if proto != ProtoUDP && proto != ProtoTCP {
			return ErrNotTransport
		}
		// A first fragment: decode the transport header if it is all
		// there, but its length fields describe the whole datagram.
		if !decodeFirstFragment(proto, data, p) {
			p.Payload = data
			return ErrFragment
		}
		return pending
	}
	switch proto {
	case ProtoUDP:
		if len(data) < 8 {
			return ErrTruncatedUDP
		}
		p.SrcPort = binary.BigEndian.Uint16(data[0:2])
		p.DstPort = binary.BigEndian.Uint16(data[2:4])
		ulen := int(binary.BigEndian.Uint16(data[4:6]))
		switch {
		case ulen == 0:
			// RFC 2675 jumbogram, or an offloaded datagram: the IP length
			// delimits it.
			p.Payload = data[8:]
		case ulen < 8:
			return ErrBadTransportHeader
		case ulen > len(data):
			p.Payload = data[8:]
			if pending == nil {
				pending = ErrTruncatedUDP
			}
		default:
			p.Payload = data[8:ulen]
		}
		if p.DstPort == portVXLAN || p.DstPort == portVXLANLinux || p.DstPort == portGeneve {
			if ok, err := decodeUDPEncapsulation(p.DstPort, p.Payload, p); ok {
				return err
			}
		}
		return pending
	case ProtoTCP:
		if len(data) < 20 {
			return ErrTruncatedTCP
		}
		off := int(data[12]>>4) * 4
		if off < 20 {
			return ErrBadTransportHeader
		}
		if off > len(data) {
			return ErrTruncatedTCP
		}
		fillTCP(data, p)
		p.Payload = data[off:]
		return pending
	}
	if ok, err := decodeIPEncapsulation(proto, data, p); ok {
		return err
	}
	p.Payload = data
	return ErrNotTransport
}

// decodeFirstFragment fills the transport fields from the first fragment of
// a UDP or TCP datagram and reports whether the header was complete.
func decodeFirstFragment(proto uint8, data []byte, p *Packet) bool {
	if proto == ProtoUDP {
		if len(data) < 8 {
			return false
		}
		p.SrcPort = binary.BigEndian.Uint16(data[0:2])
		p.DstPort = binary.BigEndian.Uint16(data[2:4])
		p.Payload = data[8:]
		return true
	}
	if len(data) < 20 {
		return false
	}
	off := int(data[12]>>4) * 4
	if off < 20 || off > len(data) {
		return false
	}
	fillTCP(data, p)
	p.Payload = data[off:]
	return true
}

func fillTCP(data []byte, p *Packet) {
	p.SrcPort = binary.BigEndian.Uint16(data[0:2])
	p.DstPort = binary.BigEndian.Uint16(data[2:4])
	p.TCPSeq = binary.BigEndian.Uint32(data[4:8])
	p.TCPFlags = data[13]
}
