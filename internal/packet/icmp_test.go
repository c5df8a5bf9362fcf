package packet

import (
	"errors"
	"net"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// icmpFrame builds Ethernet/IPv4/ICMP(type, code) quoting an IPv4/UDP
// datagram whose payload is cut to keep bytes.
func icmpFrame(t *testing.T, typ, code uint8, payload []byte, keep int) []byte {
	t.Helper()
	innerIP := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP,
		SrcIP: net.IP{192, 0, 2, 10}, DstIP: net.IP{192, 0, 2, 53}}
	innerUDP := &layers.UDP{SrcPort: 40000, DstPort: 53}
	innerUDP.SetNetworkLayerForChecksum(innerIP)
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, innerIP, innerUDP, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	quote := buf.Bytes()[:20+8+keep]
	outer := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(outer, opts,
		&layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4},
		&layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolICMPv4, SrcIP: net.IP{192, 0, 2, 53}, DstIP: net.IP{192, 0, 2, 10}},
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(typ, code)},
		gopacket.Payload(quote))
	if err != nil {
		t.Fatal(err)
	}
	return outer.Bytes()
}

func TestICMPQuote(t *testing.T) {
	dns := []byte("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x07example\x03com\x00\x00\x01\x00\x01")
	var p, inner Packet
	frame := icmpFrame(t, 3, 3, dns, len(dns))
	if err := Decode(LinkTypeEthernet, frame, &p); !errors.Is(err, ErrNotTransport) || p.Proto != ProtoICMP {
		t.Fatalf("outer: %v proto %d", err, p.Proto)
	}
	if err := ICMPQuote(&p, &inner); err != nil {
		t.Fatalf("quote: %v", err)
	}
	if inner.Proto != ProtoUDP || inner.SrcPort != 40000 || inner.DstPort != 53 || string(inner.Payload) != string(dns) ||
		inner.Src.String() != "192.0.2.10" || inner.Dst.String() != "192.0.2.53" {
		t.Fatalf("inner %+v", inner)
	}
	// A quote cut short: what is there is returned, with the truncation.
	frame = icmpFrame(t, 3, 3, dns, 10)
	Decode(LinkTypeEthernet, frame, &p)
	if err := ICMPQuote(&p, &inner); !errors.Is(err, ErrTruncated) || string(inner.Payload) != string(dns[:10]) {
		t.Fatalf("cut quote: %v %q", err, inner.Payload)
	}
	// An echo request quotes nothing.
	frame = icmpFrame(t, 8, 0, dns, len(dns))
	Decode(LinkTypeEthernet, frame, &p)
	if err := ICMPQuote(&p, &inner); !errors.Is(err, ErrNotTransport) {
		t.Fatalf("echo: %v", err)
	}
	if n := testing.AllocsPerRun(100, func() { ICMPQuote(&p, &inner) }); n != 0 {
		t.Fatalf("%v allocs", n)
	}
}

func FuzzICMPQuote(f *testing.F) {
	f.Add(uint8(ProtoICMP), []byte("\x03\x03\x00\x00\x00\x00\x00\x00E\x00\x00\x1c"))
	f.Fuzz(func(t *testing.T, proto uint8, payload []byte) {
		p := Packet{Proto: proto, Payload: payload}
		var inner Packet
		ICMPQuote(&p, &inner)
		if len(inner.Payload) > len(payload) {
			t.Fatal("inner payload larger than the quote")
		}
	})
}
