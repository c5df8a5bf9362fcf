package packet

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// outer4 is the IPv4 header of an encapsulating packet, between other
// addresses than the inner packet's (ipv4), so that a test sees which
// packet Decode reports.
func outer4(proto layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: 7, Protocol: proto, SrcIP: net.IP{10, 9, 9, 1}, DstIP: net.IP{10, 9, 9, 2}}
}

// innerDNS is the packet every encapsulation carries: a DNS query over
// IPv4 (ipv4, udp) behind an Ethernet header.
func innerDNS() []gopacket.SerializableLayer {
	return []gopacket.SerializableLayer{eth(layers.EthernetTypeIPv4), ipv4(layers.IPProtocolUDP), udp(5353, 53), gopacket.Payload(dnsQ)}
}

// wrapped serializes outer layers followed by ls.
func wrapped(t testing.TB, outer []gopacket.SerializableLayer, ls ...gopacket.SerializableLayer) []byte {
	return serialize(t, append(outer, ls...)...)
}

// dot11Header is an 802.11 data frame header from an access point
// (FromDS), with QoS control when qos is set, and LLC/SNAP for IPv4.
func dot11Header(qos bool) []byte {
	h := []byte{0x08, 0x02, 0, 0}
	if qos {
		h[0] = 0x88
	}
	h = append(h, mac2...)
	h = append(h, mac1...)
	h = append(h, mac1...)
	h = append(h, 0x10, 0)
	if qos {
		h = append(h, 0, 0)
	}
	return append(h, 0xAA, 0xAA, 0x03, 0, 0, 0, 0x08, 0x00)
}

// encapFrames are frames whose DNS query is wrapped, with the number of
// IP-level encapsulations Decode must remove (goodFrames holds them).
func encapFrames(t testing.TB) []frameCase {
	udp4 := serialize(t, ipv4(layers.IPProtocolUDP), udp(5353, 53), gopacket.Payload(dnsQ))
	udp6 := serialize(t, ipv6(layers.IPProtocolUDP), udp(5353, 53), gopacket.Payload(dnsQ))
	ethOut := eth(layers.EthernetTypeIPv4)
	vx := &layers.VXLAN{ValidIDFlag: true, VNI: 42}
	inner := innerDNS()
	gre := func(g *layers.GRE) []gopacket.SerializableLayer {
		return []gopacket.SerializableLayer{ethOut, outer4(layers.IPProtocolGRE), g}
	}
	return []frameCase{
		{name: "vxlan/eth/ipv4/udp", linkType: LinkTypeEthernet,
			frame: wrapped(t, []gopacket.SerializableLayer{ethOut, outer4(layers.IPProtocolUDP), udp(40001, 4789), vx}, inner...), encap: 1},
		{name: "vxlan/eth/ipv6/udp", linkType: LinkTypeEthernet,
			frame: serialize(t, ethOut, outer4(layers.IPProtocolUDP), udp(40001, 4789), vx, eth(layers.EthernetTypeIPv6), gopacket.Payload(udp6)), encap: 1},
		{name: "geneve/eth/ipv4/udp", linkType: LinkTypeEthernet,
			frame: wrapped(t, []gopacket.SerializableLayer{ethOut, outer4(layers.IPProtocolUDP), udp(40001, 6081),
				&layers.Geneve{Protocol: layers.EthernetTypeTransparentEthernetBridging, VNI: 7}}, inner...), encap: 1},
		{name: "geneve/ipv4/udp", linkType: LinkTypeEthernet,
			frame: serialize(t, ethOut, outer4(layers.IPProtocolUDP), udp(40001, 6081),
				&layers.Geneve{Protocol: layers.EthernetTypeIPv4, VNI: 7}, gopacket.Payload(udp4)), encap: 1},
		{name: "gre/ipv4/udp", linkType: LinkTypeEthernet,
			frame: serialize(t, append(gre(&layers.GRE{Protocol: layers.EthernetTypeIPv4}), gopacket.Payload(udp4))...), encap: 1},
		{name: "gre-key-seq/ipv6/udp", linkType: LinkTypeEthernet,
			frame: serialize(t, append(gre(&layers.GRE{Protocol: layers.EthernetTypeIPv6, KeyPresent: true, Key: 9, SeqPresent: true, Seq: 3}), gopacket.Payload(udp6))...), encap: 1},
		{name: "gre-checksum-teb/eth/ipv4/udp", linkType: LinkTypeEthernet,
			frame: wrapped(t, gre(&layers.GRE{Protocol: layers.EthernetTypeTransparentEthernetBridging, ChecksumPresent: true}), inner...), encap: 1},
		{name: "gre/erspan2/eth/dot1q/ipv4/udp", linkType: LinkTypeEthernet,
			frame: serialize(t, append(gre(&layers.GRE{Protocol: layers.EthernetTypeERSPAN, SeqPresent: true, Seq: 1}),
				&layers.ERSPANII{Version: 1, VLANIdentifier: 10, SessionID: 5}, eth(layers.EthernetTypeDot1Q),
				&layers.Dot1Q{VLANIdentifier: 10, Type: layers.EthernetTypeIPv4}, gopacket.Payload(udp4))...), encap: 1},
		{name: "ipip/ipv4/udp", linkType: LinkTypeEthernet,
			frame: serialize(t, ethOut, outer4(layers.IPProtocolIPv4), gopacket.Payload(udp4)), encap: 1},
		{name: "6in4/ipv6/udp", linkType: LinkTypeEthernet,
			frame: serialize(t, ethOut, outer4(layers.IPProtocolIPv6), gopacket.Payload(udp6)), encap: 1},
		{name: "vxlan/eth/ipv4/gre/ipv4/udp", linkType: LinkTypeEthernet,
			frame: serialize(t, ethOut, outer4(layers.IPProtocolUDP), udp(40001, 4789), vx, eth(layers.EthernetTypeIPv4),
				&layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolGRE, SrcIP: net.IP{172, 16, 0, 1}, DstIP: net.IP{172, 16, 0, 2}},
				&layers.GRE{Protocol: layers.EthernetTypeIPv4}, gopacket.Payload(udp4)), encap: 2},
		{name: "mpls/mpls/ipv4/udp", linkType: LinkTypeEthernet,
			frame: serialize(t, eth(layers.EthernetTypeMPLSUnicast), &layers.MPLS{Label: 100, TTL: 64}, &layers.MPLS{Label: 200, StackBottom: true, TTL: 64},
				gopacket.Payload(udp4)), encap: 0},
		{name: "pppoe/ppp/ipv4/udp", linkType: LinkTypeEthernet,
			frame: serialize(t, eth(layers.EthernetTypePPPoESession), &layers.PPPoE{Version: 1, Type: 1, Code: layers.PPPoECodeSession, SessionId: 3},
				&layers.PPP{PPPType: layers.PPPTypeIPv4}, gopacket.Payload(udp4)), encap: 0},
		{name: "ppp/ipv6/udp", linkType: LinkTypePPP, frame: cat([]byte{0xFF, 0x03, 0x00, 0x57}, udp6), encap: 0},
		{name: "ppp-compressed/ipv4/udp", linkType: LinkTypePPP, frame: cat([]byte{0x21}, udp4), encap: 0},
		// gopacket takes the last four bytes of a frame without a radio
		// header for its FCS (Decode goes by the IP length).
		{name: "802.11/llc/ipv4/udp+fcs", linkType: LinkTypeIEEE80211, frame: cat(dot11Header(false), udp4, []byte{1, 2, 3, 4}), encap: 0},
		{name: "radiotap/802.11-qos/llc/ipv4/udp", linkType: LinkTypeRadiotap,
			frame: cat([]byte{0, 0, 8, 0, 0, 0, 0, 0}, dot11Header(true), udp4), encap: 0},
	}
}

// TestEncapsulationEdges: what Decode does when an encapsulation does not
// hold a packet, is cut short, or nests too deep.
func TestEncapsulationEdges(t *testing.T) {
	vxARP := serialize(t, eth(layers.EthernetTypeIPv4), outer4(layers.IPProtocolUDP), udp(40001, 4789), &layers.VXLAN{ValidIDFlag: true},
		eth(layers.EthernetTypeARP), gopacket.Payload(make([]byte, 28)))
	var p Packet
	// ARP in VXLAN: the outer UDP datagram stays.
	if err := Decode(LinkTypeEthernet, vxARP, &p); err != nil || p.Encapsulated != 0 || p.DstPort != 4789 || p.Dst != netip.MustParseAddr("10.9.9.2") {
		t.Errorf("arp in vxlan: %v %+v", err, p)
	}
	// ICMP in GRE: the inner packet, not UDP or TCP.
	icmp := serialize(t, ipv4(layers.IPProtocolICMPv4), gopacket.Payload([]byte{8, 0, 0, 0, 0, 1, 0, 1}))
	greICMP := serialize(t, eth(layers.EthernetTypeIPv4), outer4(layers.IPProtocolGRE), &layers.GRE{Protocol: layers.EthernetTypeIPv4}, gopacket.Payload(icmp))
	if err := Decode(LinkTypeEthernet, greICMP, &p); err != ErrNotTransport || p.Encapsulated != 1 || p.Proto != ProtoICMP || p.Src != netip.MustParseAddr("192.0.2.1") {
		t.Errorf("icmp in gre: %v %+v", err, p)
	}
	// A truncated inner datagram: the inner packet with its truncation.
	full := serialize(t, eth(layers.EthernetTypeIPv4), outer4(layers.IPProtocolIPv4), ipv4(layers.IPProtocolUDP), udp(5353, 53), gopacket.Payload(dnsQ))
	cut := full[:len(full)-10]
	if err := Decode(LinkTypeEthernet, cut, &p); err != ErrTruncatedIPv4 || p.Encapsulated != 1 || !bytes.Equal(p.Payload, dnsQ[:len(dnsQ)-10]) {
		t.Errorf("truncated ipip: %v %+v", err, p)
	}
	// IP-in-IP nested ten deep: four are removed, then the fifth layer is
	// reported as the IP packet it is (protocol 4, not UDP or TCP).
	frame := serialize(t, ipv4(layers.IPProtocolUDP), udp(5353, 53), gopacket.Payload(dnsQ))
	for range 10 {
		frame = serialize(t, outer4(layers.IPProtocolIPv4), gopacket.Payload(frame))
	}
	if err := Decode(LinkTypeIPv4, frame, &p); err != ErrNotTransport || p.Encapsulated != maxEncapsulations || p.Proto != protoIPIP {
		t.Errorf("ipip ten deep: %v, %d removed, proto %d", err, p.Encapsulated, p.Proto)
	}
	// Headers cut short: the outer packet, whatever is missing.
	vx := serialize(t, eth(layers.EthernetTypeIPv4), outer4(layers.IPProtocolUDP), udp(40001, 4789), &layers.VXLAN{ValidIDFlag: true}, eth(layers.EthernetTypeIPv4))
	for n := len(vx) - 22; n < len(vx); n++ {
		f := append([]byte(nil), vx[:n]...)
		// Keep the outer lengths consistent with the cut.
		binary.BigEndian.PutUint16(f[14+2:], uint16(n-14))
		binary.BigEndian.PutUint16(f[14+20+4:], uint16(n-14-20))
		if err := Decode(LinkTypeEthernet, f, &p); err != nil || p.Encapsulated != 0 || p.DstPort != 4789 {
			t.Errorf("vxlan cut at %d: %v %+v", n, err, p)
		}
	}
	// 802.11: protected and null-data frames carry nothing readable.
	for _, h := range [][]byte{{0x08, 0x42}, {0x48, 0x01}, {0x80, 0x00}} {
		f := dot11Header(false)
		f[0], f[1] = h[0], h[1]
		if err := Decode(LinkTypeIEEE80211, cat(f, make([]byte, 40)), &p); err != ErrNotIP {
			t.Errorf("802.11 frame control %x: %v", h, err)
		}
	}
}
