package packet

import "encoding/binary"

// Encapsulations. Traffic mirrored from a cloud network or a switch often
// arrives wrapped: AWS VPC Traffic Mirroring and many overlays in VXLAN,
// Google Cloud's packet mirroring and AWS's Gateway Load Balancer in
// Geneve, Cisco and Arista port mirrors in GRE with an ERSPAN header,
// Kubernetes (flannel) node traffic in VXLAN on Linux's default port, and
// tunnels between sites in GRE or plain IP-in-IP. A DNS tunnel inside is
// still a DNS tunnel: Decode removes these and reports the innermost
// packet, counting the layers it removed (Packet.Encapsulated), up to
// maxEncapsulations deep. When the inner frame holds no IP header (an ARP
// frame in VXLAN, a payload that only looks like VXLAN), the outer packet
// is kept as it was.
//
// Link-level shims that carry an EtherType or a PPP protocol (MPLS label
// stacks, PPPoE sessions, PPP links, 802.11 data frames) are not counted:
// they carry the packet itself, not a second one.

// Ports and protocol numbers of the encapsulations Decode removes.
const (
	portVXLAN      = 4789 // RFC 7348
	portVXLANLinux = 8472 // the Linux kernel's pre-IANA VXLAN port (flannel)
	portGeneve     = 6081 // RFC 8926

	protoIPIP     = 4   // IPv4 in IP, RFC 2003
	protoIPv6inIP = 41  // IPv6 in IP, RFC 2473 and RFC 4213
	protoGRE      = 47  // RFC 2784, RFC 2890
	protoMPLSinIP = 137 // RFC 4023

	etherTypeTEB     = 0x6558 // transparent Ethernet bridging (a whole Ethernet frame)
	etherTypeERSPAN2 = 0x88BE // ERSPAN type I (no header) and II
	etherTypeERSPAN3 = 0x22EB // ERSPAN type III
	etherTypeMPLS    = 0x8847 // RFC 3032
	etherTypeMPLSM   = 0x8848
	etherTypePPPoE   = 0x8864 // PPPoE session stage, RFC 2516

	pppIPv4 = 0x0021 // RFC 1332
	pppIPv6 = 0x0057 // RFC 5072
)

// maxEncapsulations bounds the IP-level encapsulations removed from one
// frame. Every layer costs at least 28 bytes, so the frame bounds them too;
// real traffic has one, rarely two.
const maxEncapsulations = 4

// Link types of the shims (https://www.tcpdump.org/linktypes.html).
const (
	LinkTypePPP       uint16 = 9   // PPP, RFC 1661 (with or without the HDLC address and control bytes)
	LinkTypePPPHDLC   uint16 = 50  // PPP in HDLC-like framing, RFC 1662
	LinkTypeIEEE80211 uint16 = 105 // IEEE 802.11 frames without a radio header
	LinkTypeRadiotap  uint16 = 127 // IEEE 802.11 frames behind a radiotap header
)

// decodeInner decodes the packet that data carries, starting at the
// EtherType etherType (0: data is a whole Ethernet frame), into a fresh
// Packet one encapsulation deeper. When that reaches an IP header, it
// replaces *p and ok is true, with that decoding's error; otherwise *p is
// left as it was (ok false).
func decodeInner(etherType uint16, data []byte, p *Packet) (ok bool, err error) {
	if p.Encapsulated >= maxEncapsulations {
		return false, nil
	}
	inner := Packet{Encapsulated: p.Encapsulated + 1}
	if etherType == 0 {
		if len(data) < 14 {
			return false, nil
		}
		etherType, data = binary.BigEndian.Uint16(data[12:14]), data[14:]
	}
	err = decodeEtherType(etherType, data, &inner)
	if !inner.Src.IsValid() {
		return false, nil
	}
	*p = inner
	return true, err
}

// decodeUDPEncapsulation removes a VXLAN or Geneve header from the
// payload of a UDP datagram sent to port (the destination port, as the
// encapsulations use it both ways).
func decodeUDPEncapsulation(port uint16, data []byte, p *Packet) (bool, error) {
	switch port {
	case portVXLAN, portVXLANLinux:
		// Flags(1: I bit 0x08 says the VNI is valid) reserved(3) VNI(3)
		// reserved(1), then an Ethernet frame (RFC 7348 section 5).
		if len(data) < 8 {
			return false, nil
		}
		return decodeInner(0, data[8:], p)
	case portGeneve:
		// Ver(2 bits) Opt Len(6 bits, 4-byte words) flags(1) Protocol
		// Type(2) VNI(3) reserved(1), options (RFC 8926 section 3.4).
		if len(data) < 8 || data[0]>>6 != 0 {
			return false, nil
		}
		n := 8 + int(data[0]&0x3F)*4
		if len(data) < n {
			return false, nil
		}
		proto := binary.BigEndian.Uint16(data[2:4])
		if proto == etherTypeTEB {
			proto = 0
		}
		return decodeInner(proto, data[n:], p)
	}
	return false, nil
}

// decodeIPEncapsulation removes IP-in-IP, GRE and MPLS-in-IP from an IP
// payload of protocol proto.
func decodeIPEncapsulation(proto uint8, data []byte, p *Packet) (bool, error) {
	switch proto {
	case protoIPIP:
		return decodeInner(etherTypeIPv4, data, p)
	case protoIPv6inIP:
		return decodeInner(etherTypeIPv6, data, p)
	case protoMPLSinIP:
		return decodeInner(etherTypeMPLS, data, p)
	case protoGRE:
		return decodeGRE(data, p)
	}
	return false, nil
}

// maxGRERoutes bounds the source route entries of a GRE header (RFC 1701;
// deprecated, but still parsed so that the payload is found).
const maxGRERoutes = 32

// decodeGRE removes a GRE header (RFC 2784 with the key and sequence
// number of RFC 2890; RFC 1701's routing; the acknowledgment of version 1,
// RFC 2637) and, for ERSPAN, its header.
func decodeGRE(data []byte, p *Packet) (bool, error) {
	if len(data) < 4 {
		return false, nil
	}
	flags, version := data[0], data[1]&7
	if version > 1 {
		return false, nil
	}
	proto := binary.BigEndian.Uint16(data[2:4])
	n := 4
	if flags&0xC0 != 0 { // checksum or routing present: checksum and offset
		n += 4
	}
	if flags&0x20 != 0 { // key
		n += 4
	}
	seq := flags&0x10 != 0
	if seq {
		n += 4
	}
	if flags&0x40 != 0 {
		// Source route entries: address family(2) offset(1) length(1)
		// information, up to an entry of family 0 and length 0.
		for i := 0; ; i++ {
			if len(data) < n+4 || i > maxGRERoutes {
				return false, nil
			}
			family, l := binary.BigEndian.Uint16(data[n:n+2]), int(data[n+3])
			n += 4 + l
			if family == 0 && l == 0 {
				break
			}
		}
	}
	if version == 1 && data[1]&0x80 != 0 { // acknowledgment
		n += 4
	}
	if len(data) < n {
		return false, nil
	}
	data = data[n:]
	switch proto {
	case etherTypeTEB:
		return decodeInner(0, data, p)
	case etherTypeERSPAN2:
		// Type II has an 8-byte header and sets the GRE sequence bit;
		// type I has neither (draft-foschiano-erspan section 4).
		if seq {
			if len(data) < 8 {
				return false, nil
			}
			data = data[8:]
		}
		return decodeInner(0, data, p)
	case etherTypeERSPAN3:
		// A 12-byte header; its O bit (the last bit) announces an 8-byte
		// platform-specific subheader (draft-foschiano-erspan section 4.3).
		if len(data) < 12 {
			return false, nil
		}
		skip := 12
		if data[11]&1 != 0 {
			skip += 8
		}
		if len(data) < skip {
			return false, nil
		}
		return decodeInner(0, data[skip:], p)
	}
	return decodeInner(proto, data, p)
}

// decodeMPLS pops an MPLS label stack (RFC 3032: label(20 bits) TC(3)
// S(1) TTL(8), S set on the last) and decodes the IP packet under it,
// telling IPv4 from IPv6 by its version nibble (RFC 4928 section 2). A
// pseudowire (an Ethernet frame under a control word) is not decoded.
func decodeMPLS(data []byte, p *Packet) error {
	for {
		if len(data) < 4 {
			return ErrTruncatedLink
		}
		bottom := data[2]&1 != 0
		data = data[4:]
		if bottom {
			break
		}
	}
	if len(data) < 1 {
		return ErrTruncatedLink
	}
	switch data[0] >> 4 {
	case 4:
		return decodeIPv4(data, p)
	case 6:
		return decodeIPv6(data, p)
	}
	return ErrNotIP
}

// decodePPPoE decodes a PPPoE session frame (RFC 2516 section 4: ver and
// type(1), 0x11; code(1), 0; session id(2); length(2)) and the PPP frame it
// carries. The EtherType says it is the session stage, so the version,
// type and code are not checked (as gopacket does not).
func decodePPPoE(data []byte, p *Packet) error {
	if len(data) < 6 {
		return ErrTruncatedLink
	}
	return decodePPP(data[6:], p)
}

// decodePPP decodes a PPP frame (RFC 1661): the HDLC address and control
// bytes 0xFF 0x03 when present (RFC 1662), a protocol field of two bytes
// or, compressed, one (its low bit set, RFC 1661 section 6.5), and IPv4 or
// IPv6.
func decodePPP(data []byte, p *Packet) error {
	if len(data) >= 2 && data[0] == 0xFF && data[1] == 0x03 {
		data = data[2:]
	}
	if len(data) < 1 {
		return ErrTruncatedLink
	}
	proto := uint16(data[0])
	if proto&1 != 0 {
		data = data[1:]
	} else {
		if len(data) < 2 {
			return ErrTruncatedLink
		}
		proto = binary.BigEndian.Uint16(data[:2])
		data = data[2:]
	}
	switch proto {
	case pppIPv4:
		return decodeIPv4(data, p)
	case pppIPv6:
		return decodeIPv6(data, p)
	}
	return ErrNotIP
}

// decodeRadiotap skips a radiotap header (version(1) = 0, pad(1),
// length(2, little-endian), present flags; https://www.radiotap.org) and
// decodes the 802.11 frame behind it.
func decodeRadiotap(frame []byte, p *Packet) error {
	if len(frame) < 8 {
		return ErrTruncatedLink
	}
	n := int(binary.LittleEndian.Uint16(frame[2:4]))
	if frame[0] != 0 || n < 8 {
		return ErrNotIP
	}
	if n > len(frame) {
		return ErrTruncatedLink
	}
	return decode80211(frame[n:], p)
}

// decode80211 decodes an IEEE 802.11 data frame (IEEE 802.11-2020 section
// 9.2): frame control(2) duration(2) three addresses(18) sequence
// control(2), a fourth address between two access points, QoS control(2)
// for QoS subtypes and HT control(4) behind it when the order bit is set;
// then LLC/SNAP and the EtherType. Management, control, null-data and
// protected (encrypted) frames, and A-MSDU aggregates, carry no IP packet
// Decode can read: ErrNotIP.
func decode80211(data []byte, p *Packet) error {
	if len(data) < 24 {
		return ErrTruncatedLink
	}
	fc, flags := data[0], data[1]
	if fc&3 != 0 || (fc>>2)&3 != 2 {
		return ErrNotIP // not version 0, or not a data frame
	}
	subtype := fc >> 4
	if subtype&4 != 0 || flags&0x40 != 0 {
		return ErrNotIP // no data, or protected
	}
	n := 24
	if flags&3 == 3 {
		n += 6
	}
	if subtype&8 != 0 {
		if len(data) < n+2 {
			return ErrTruncatedLink
		}
		if data[n]&0x80 != 0 {
			return ErrNotIP // A-MSDU present
		}
		n += 2
		if flags&0x80 != 0 {
			n += 4
		}
	}
	if len(data) < n {
		return ErrTruncatedLink
	}
	// An LLC header: decodeEtherType takes it like an 802.3 length.
	return decodeEtherType(0, data[n:], p)
}
