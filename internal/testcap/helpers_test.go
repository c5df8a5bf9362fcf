package testcap

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// decode decodes a frame with gopacket (the oracle) and fails on any
// decoding error layer.
func decode(t testing.TB, link Link, data []byte) gopacket.Packet {
	t.Helper()
	var dec gopacket.Decoder
	switch link.LinkType() {
	case 228:
		dec = layers.LayerTypeIPv4
	case 229:
		dec = layers.LayerTypeIPv6
	default:
		dec = layers.LinkType(link.LinkType())
	}
	p := gopacket.NewPacket(data, dec, gopacket.Default)
	// An error above the transport layer is gopacket failing on a payload
	// that is not the protocol the port suggests (e.g. non-DNS on port 53).
	if el := p.ErrorLayer(); el != nil && p.TransportLayer() == nil {
		t.Fatalf("%v: gopacket decode error: %v\n% x", link, el.Error(), data)
	}
	return p
}

// onesSum is an independent RFC 1071 one's complement sum.
func onesSum(sum uint32, b []byte) uint32 {
	for len(b) >= 2 {
		sum += uint32(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	return sum
}

func fold(sum uint32) uint16 {
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return uint16(sum)
}

// l4ChecksumOK verifies a UDP/TCP/ICMPv6 checksum over the RFC 768 / RFC 8200
// section 8.1 pseudo-header: the folded sum including the checksum field
// must be 0xffff.
func l4ChecksumOK(src, dst netip.Addr, proto uint8, seg []byte) bool {
	var sum uint32
	sum = onesSum(sum, src.AsSlice())
	sum = onesSum(sum, dst.AsSlice())
	sum += uint32(proto)
	sum += uint32(len(seg))
	sum = onesSum(sum, seg)
	return fold(sum) == 0xffff
}

func ipHeaderChecksumOK(h []byte) bool { return fold(onesSum(0, h)) == 0xffff }

// netAddrs returns the source and destination of the packet's network layer.
func netAddrs(t testing.TB, p gopacket.Packet) (netip.Addr, netip.Addr) {
	t.Helper()
	nl := p.NetworkLayer()
	if nl == nil {
		t.Fatalf("no network layer in %v", p)
	}
	src, ok1 := netip.AddrFromSlice(nl.NetworkFlow().Src().Raw())
	dst, ok2 := netip.AddrFromSlice(nl.NetworkFlow().Dst().Raw())
	if !ok1 || !ok2 {
		t.Fatalf("bad network addresses in %v", p)
	}
	return src, dst
}

// ipPacket returns the network-layer packet of a frame built for link: the
// bytes after the link header, without Ethernet padding. Padding is only
// accepted on minimum-size (60-byte) Ethernet frames and must be zeros.
func ipPacket(t testing.TB, link Link, data []byte) []byte {
	t.Helper()
	pkt := data[link.HeaderLen():]
	var n int
	switch pkt[0] >> 4 {
	case 4:
		n = int(binary.BigEndian.Uint16(pkt[2:]))
	case 6:
		n = 40 + int(binary.BigEndian.Uint16(pkt[4:]))
	default:
		t.Fatalf("%v: IP version nibble %d", link, pkt[0]>>4)
	}
	if n > len(pkt) {
		t.Fatalf("%v: IP length %d exceeds the %d bytes after the link header", link, n, len(pkt))
	}
	if n < len(pkt) {
		if !link.IsEthernet() || len(data) != 60 || !bytes.Equal(pkt[n:], make([]byte, len(pkt)-n)) {
			t.Fatalf("%v: %d unexpected bytes after the IP packet", link, len(pkt)-n)
		}
	}
	return pkt[:n]
}

var (
	c4 = netip.MustParseAddrPort("10.1.2.3:40000")
	s4 = netip.MustParseAddrPort("192.0.2.53:53")
	c6 = netip.MustParseAddrPort("[2001:db8::1]:40001")
	s6 = netip.MustParseAddrPort("[2001:db8::53]:53")
)

// endpointsFor returns v4 and/or v6 endpoint pairs the link can carry.
func endpointsFor(link Link) [][2]netip.AddrPort {
	switch link {
	case RawIPv4:
		return [][2]netip.AddrPort{{c4, s4}}
	case RawIPv6:
		return [][2]netip.AddrPort{{c6, s6}}
	}
	return [][2]netip.AddrPort{{c4, s4}, {c6, s6}}
}
