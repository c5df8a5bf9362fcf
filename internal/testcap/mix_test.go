package testcap

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

func TestMixDeterministic(t *testing.T) {
	a := Mix(42, 400, Ethernet, LinuxSLL2)
	b := Mix(42, 400, Ethernet, LinuxSLL2)
	c := Mix(43, 400, Ethernet, LinuxSLL2)
	if len(a) != 400 || len(c) != 400 {
		t.Fatalf("lengths %d %d", len(a), len(c))
	}
	same := true
	for i := range a {
		if !a[i].Time.Equal(b[i].Time) || a[i].Link != b[i].Link || !bytes.Equal(a[i].Data, b[i].Data) {
			t.Fatalf("frame %d differs between two runs with the same seed", i)
		}
		same = same && bytes.Equal(a[i].Data, c[i].Data)
	}
	if same {
		t.Errorf("seeds 42 and 43 give the same mix")
	}
	// A prefix property: the first frames of a shorter mix are not required
	// to match, but each length is exact.
	for _, n := range []int{0, 1, 2, 7} {
		if got := len(Mix(1, n)); got != n {
			t.Errorf("Mix(1, %d) has %d frames", n, got)
		}
	}
	if len(MixDomains()) != 300 {
		t.Errorf("%d domains", len(MixDomains()))
	}
}

// TestMixFramesDecode decodes every frame with gopacket and every DNS
// message with dnsmessage and checks them against MixInfo.
func TestMixFramesDecode(t *testing.T) {
	links := Links()
	frames, info := MixDetailed(2024, 3000, links...)
	seenLink := map[Link]bool{}
	names := map[string]bool{}
	var queries, responses, tcpMsgs, nx, v6 int
	for i, f := range frames {
		if i > 0 && f.Time.Before(frames[i-1].Time) {
			t.Fatalf("frame %d goes back in time", i)
		}
		seenLink[f.Link] = true
		p := decode(t, f.Link, f.Data)
		src, dst := netAddrs(t, p)
		in := info[i]
		var sport, dport uint16
		var dns []byte
		if udp, ok := p.Layer(layers.LayerTypeUDP).(*layers.UDP); ok {
			sport, dport, dns = uint16(udp.SrcPort), uint16(udp.DstPort), udp.Payload
			if in.TCP {
				t.Errorf("frame %d: UDP frame marked TCP", i)
			}
		} else if tcp, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP); ok {
			sport, dport = uint16(tcp.SrcPort), uint16(tcp.DstPort)
			if !in.TCP {
				t.Errorf("frame %d: TCP frame not marked TCP", i)
			}
			if len(tcp.Payload) > 0 {
				if n := int(binary.BigEndian.Uint16(tcp.Payload)); n != len(tcp.Payload)-2 {
					t.Fatalf("frame %d: length prefix %d for %d bytes", i, n, len(tcp.Payload)-2)
				}
				dns = tcp.Payload[2:]
				tcpMsgs++
			}
		} else {
			t.Fatalf("frame %d: neither UDP nor TCP", i)
		}
		if netip.AddrPortFrom(src, sport) != in.Src || netip.AddrPortFrom(dst, dport) != in.Dst {
			t.Errorf("frame %d: %v:%d -> %v:%d, info %v -> %v", i, src, sport, dst, dport, in.Src, in.Dst)
		}
		if src.Is6() {
			v6++
		}
		if dns == nil {
			if in.Name != "" {
				t.Errorf("frame %d: no DNS message but info %+v", i, in)
			}
			continue
		}
		m := parseMsg(t, dns)
		if len(m.Questions) != 1 {
			t.Fatalf("frame %d: %d questions", i, len(m.Questions))
		}
		q := m.Questions[0]
		if q.Name.String() != in.Name+"." || uint16(q.Type) != in.QType || m.Header.ID != in.ID ||
			m.Header.Response != in.Response || int(m.Header.RCode) != in.Rcode {
			t.Errorf("frame %d: %v %v id %d resp %v rcode %v; info %+v", i, q.Name, q.Type, m.Header.ID, m.Header.Response, m.Header.RCode, in)
		}
		if in.Response {
			responses++
			if in.Rcode == RcodeNXDomain {
				nx++
			}
			if in.Rcode == 0 && (in.QType == TypeA || in.QType == TypeAAAA) && len(m.Answers) == 0 {
				t.Errorf("frame %d: NOERROR %v without answers", i, q.Type)
			}
		} else {
			queries++
			if in.Dst.Port() != 53 {
				t.Errorf("frame %d: query to port %d", i, in.Dst.Port())
			}
		}
		names[in.Name[strings.Index(in.Name, ".")+1:]] = true
	}
	for _, l := range links {
		if !seenLink[l] {
			t.Errorf("link %v never used", l)
		}
	}
	if queries < 1200 || responses < 1200 || tcpMsgs == 0 || nx == 0 || v6 == 0 || len(names) < 150 {
		t.Errorf("mix too uniform: %d queries, %d responses, %d TCP messages, %d NXDOMAIN, %d IPv6 frames, %d names",
			queries, responses, tcpMsgs, nx, v6, len(names))
	}
}

func TestMixPCAPNGRoundTrip(t *testing.T) {
	frames := Mix(5, 500, Ethernet, EthernetQinQ, LinuxSLL, RawIPv6)
	var buf bytes.Buffer
	if err := WritePCAPNG(&buf, frames); err != nil {
		t.Fatal(err)
	}
	got, names := readNG(t, &buf)
	compareFrames(t, "mix", got, frames, 1, true)
	if len(names) != 3 { // Ethernet and EthernetQinQ share LINKTYPE_ETHERNET
		t.Errorf("interfaces %v", names)
	}
	if err := WritePCAP(&buf, frames, true); err == nil {
		t.Errorf("pcap accepted a mix of link types")
	}
}
