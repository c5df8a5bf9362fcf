package variants

import (
	"bytes"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/dnsieve/dnsieve/internal/packet"
)

// TestEncapsulated: every IP frame comes out wrapped in one of the five
// encapsulations, each used; the inner IP packet is the original's byte
// for byte (gopacket finds it behind the outer layers it knows, Decode
// behind all five), the outer IPv4 and UDP checksums hold, and frames
// that are not IP are copied as they were.
func TestEncapsulated(t *testing.T) {
	in := testFrames(t, nTunnel, nBenign)
	out := mustApply(t, Encapsulated, in, Options{})
	if len(out) != len(in) {
		t.Fatalf("%d frames, want %d", len(out), len(in))
	}
	used := map[string]int{}
	var p ipPacket
	for i := range in {
		f := in[i]
		if !parseIP(&f, &p) {
			if !bytes.Equal(f.Data, out[i].Data) || out[i].LinkType != f.LinkType {
				t.Fatalf("frame %d: not IP, but changed", i)
			}
			continue
		}
		ip := f.Data[len(p.link) : len(p.link)+len(p.hdr)+len(p.l4)]
		o := out[i]
		if o.LinkType != linkEthernet || o.Time != f.Time || o.OrigLen != len(o.Data) {
			t.Fatalf("frame %d: link type %d, time %d, orig len %d", i, o.LinkType, o.Time, o.OrigLen)
		}
		if !bytes.HasSuffix(o.Data, ip) {
			t.Fatalf("frame %d: the inner packet is not the original's", i)
		}
		// The outer headers as gopacket reads them.
		pkt := gopacket.NewPacket(o.Data, layers.LinkTypeEthernet, gopacket.NoCopy)
		outer, _ := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		if outer == nil || outer.SrcIP.String() != "198.18.0.1" || int(outer.Length) != len(o.Data)-14 {
			t.Fatalf("frame %d: outer IPv4 %+v", i, outer)
		}
		if err, r := outer.VerifyChecksum(); err != nil || !r.Valid {
			t.Fatalf("frame %d: outer IPv4 checksum", i)
		}
		kind := ""
		switch outer.Protocol {
		case layers.IPProtocolUDP:
			u := pkt.Layer(layers.LayerTypeUDP).(*layers.UDP)
			if err := u.SetNetworkLayerForChecksum(outer); err != nil {
				t.Fatal(err)
			}
			if err, r := u.VerifyChecksum(); err != nil || !r.Valid {
				t.Fatalf("frame %d: outer UDP checksum", i)
			}
			kind = map[layers.UDPPort]string{4789: "vxlan", 8472: "vxlan-8472", 6081: "geneve"}[u.DstPort]
		case layers.IPProtocolGRE:
			if pkt.Layer(layers.LayerTypeERSPANII) == nil {
				t.Fatalf("frame %d: GRE without ERSPAN", i)
			}
			kind = "erspan"
		case layers.IPProtocolIPv4, layers.IPProtocolIPv6:
			kind = "ip-in-ip"
		}
		if kind == "" {
			t.Fatalf("frame %d: outer protocol %v", i, outer.Protocol)
		}
		used[kind]++
		// gopacket reaches the original packet behind every layer it knows.
		if kind != "vxlan-8472" {
			var inner gopacket.Layer
			for _, l := range pkt.Layers()[1:] {
				if (l.LayerType() == layers.LayerTypeIPv4 || l.LayerType() == layers.LayerTypeIPv6) && l != gopacket.Layer(outer) {
					inner = l
				}
			}
			if inner == nil || !bytes.Equal(append(append([]byte(nil), inner.LayerContents()...), inner.LayerPayload()...), ip) {
				t.Fatalf("frame %d (%s): gopacket does not find the original packet", i, kind)
			}
		}
		// And Decode reports the packet the original decodes to.
		var a, b packet.Packet
		ea := packet.Decode(f.LinkType, f.Data, &a)
		eb := packet.Decode(o.LinkType, o.Data, &b)
		if ea != eb || b.Encapsulated != 1 || a.Src != b.Src || a.Dst != b.Dst || a.SrcPort != b.SrcPort || a.DstPort != b.DstPort ||
			!bytes.Equal(a.Payload, b.Payload) {
			t.Fatalf("frame %d (%s): Decode %v %+v, original %v %+v", i, kind, eb, b, ea, a)
		}
	}
	if len(used) != numWraps {
		t.Fatalf("encapsulations used %v, want all %d", used, numWraps)
	}
}
