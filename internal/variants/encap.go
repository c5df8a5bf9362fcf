package variants

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
)

// The encapsulations of the encapsulated kind: how mirrored and overlay
// traffic reaches a sensor (VXLAN on the IANA port and on Linux's, as
// flannel uses it; Geneve; GRE with an ERSPAN type II header, as switch
// port mirrors send it; IP-in-IP).
const (
	wrapVXLAN = iota
	wrapVXLANLinux
	wrapGeneve
	wrapERSPAN
	wrapIPinIP
	numWraps
)

// The tunnel endpoints of the encapsulated kind (RFC 2544's benchmarking
// range, which no capture of ours uses) and its Ethernet addresses.
var (
	wrapSrc = netip.AddrFrom4([4]byte{198, 18, 0, 1})
	wrapDst = netip.AddrFrom4([4]byte{198, 18, 0, 2})
	wrapMAC = [12]byte{0x02, 0, 0, 0, 0xEE, 0x02, 0x02, 0, 0, 0, 0xEE, 0x01}
)

// maxWrapOverhead bounds the bytes an encapsulation adds in front of the
// IP packet (Ethernet, IPv4, UDP, Geneve or VXLAN or GRE with ERSPAN, and
// the inner Ethernet header).
const maxWrapOverhead = 14 + 20 + 16 + 14

// encapsulated wraps every IP frame (IP fragments and frames parseIP does
// not take stay as they are) in one of the encapsulations, drawn per
// frame, as an Ethernet frame. Only the wrapping changes: the inner IP
// packet is copied byte for byte.
func encapsulated(frames []Frame, rng *rand.Rand) []Frame {
	out := make([]Frame, 0, len(frames))
	var p ipPacket
	for _, f := range frames {
		if !parseIP(&f, &p) {
			out = append(out, f)
			continue
		}
		ip := f.Data[len(p.link) : len(p.link)+len(p.hdr)+len(p.l4)]
		if len(ip)+maxWrapOverhead > 65535 {
			out = append(out, f)
			continue
		}
		data := wrap(rng.IntN(numWraps), ip, p.v6)
		out = append(out, Frame{Time: f.Time, LinkType: linkEthernet, OrigLen: len(data), Data: data})
	}
	return out
}

// wrap returns an Ethernet frame carrying IP packet ip (IPv6 when v6) in
// encapsulation how.
func wrap(how int, ip []byte, v6 bool) []byte {
	etherType := uint16(0x0800)
	if v6 {
		etherType = 0x86DD
	}
	// The inner Ethernet header of the encapsulations that carry frames.
	innerEth := func(b []byte) []byte {
		b = append(b, wrapMAC[6:]...)
		b = append(b, wrapMAC[:6]...)
		return binary.BigEndian.AppendUint16(b, etherType)
	}
	var l4 []byte
	proto := uint8(protoUDP)
	switch how {
	case wrapVXLAN, wrapVXLANLinux:
		port := uint16(4789) // RFC 7348
		if how == wrapVXLANLinux {
			port = 8472
		}
		payload := innerEth([]byte{0x08, 0, 0, 0, 0, 0, 42, 0}) // I flag, VNI 42
		l4 = udpDatagram(wrapSrc, wrapDst, 49152+uint16(len(ip)%1000), port, append(payload, ip...), false)
	case wrapGeneve:
		// Version 0, no options, protocol = the inner EtherType, VNI 7
		// (RFC 8926 section 3.4).
		h := binary.BigEndian.AppendUint16([]byte{0, 0}, etherType)
		h = append(h, 0, 0, 7, 0)
		l4 = udpDatagram(wrapSrc, wrapDst, 49152+uint16(len(ip)%1000), 6081, append(h, ip...), false)
	case wrapERSPAN:
		// GRE with the sequence bit, protocol 0x88BE, then ERSPAN type
		// II's 8 bytes (version 1, session 5) and the mirrored frame.
		proto = 47
		b := []byte{0x10, 0, 0x88, 0xBE, 0, 0, 0, 1}
		b = append(b, 0x10, 0, 0, 5, 0, 0, 0, 0)
		l4 = append(innerEth(b), ip...)
	default: // IP-in-IP
		proto = 4
		if v6 {
			proto = 41
		}
		l4 = ip
	}
	out := make([]byte, 0, 14+20+len(l4))
	out = append(out, wrapMAC[:]...)
	out = binary.BigEndian.AppendUint16(out, 0x0800)
	h := len(out)
	out = append(out, 0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, proto, 0, 0)
	s, d := wrapSrc.As4(), wrapDst.As4()
	out = append(out, s[:]...)
	out = append(out, d[:]...)
	binary.BigEndian.PutUint16(out[h+2:], uint16(20+len(l4)))
	setIPv4Checksum(out[h : h+20])
	return append(out, l4...)
}
