package testcap

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

func fuzzOpts(bits uint8, v6 bool) []Option {
	var opts []Option
	if bits&1 != 0 {
		opts = append(opts, WithIPv4Options())
	}
	if bits&2 != 0 {
		opts = append(opts, WithHopByHop())
	}
	if bits&4 != 0 {
		opts = append(opts, WithDestinationOptions())
	}
	if bits&8 != 0 {
		opts = append(opts, WithTTL(bits), WithIPID(uint16(bits)*257), WithFragmentID(uint32(bits)))
	}
	return opts
}

func fuzzEndpoints(link Link, v6 bool, sport, dport uint16, a, b uint32) (netip.AddrPort, netip.AddrPort) {
	if link == RawIPv4 {
		v6 = false
	} else if link == RawIPv6 {
		v6 = true
	}
	if v6 {
		var x, y [16]byte
		x[0], y[0] = 0x20, 0x20
		x[12], x[13], x[14], x[15] = byte(a>>24), byte(a>>16), byte(a>>8), byte(a)
		y[12], y[13], y[14], y[15] = byte(b>>24), byte(b>>16), byte(b>>8), byte(b)
		return netip.AddrPortFrom(netip.AddrFrom16(x), sport), netip.AddrPortFrom(netip.AddrFrom16(y), dport)
	}
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)}), sport),
		netip.AddrPortFrom(netip.AddrFrom4([4]byte{byte(b >> 24), byte(b >> 16), byte(b >> 8), byte(b)}), dport)
}

// FuzzUDPFrame builds UDP and TCP frames from fuzzed fields and checks that
// gopacket decodes back the same addresses, ports and payload, with valid
// checksums.
func FuzzUDPFrame(f *testing.F) {
	f.Add(uint8(0), false, uint16(1234), uint16(53), uint32(0x0a000001), uint32(0xc0000235), uint8(0), []byte("hi"))
	f.Add(uint8(4), true, uint16(53), uint16(0), uint32(1), uint32(2), uint8(7), Query(1, "x.example", TypeA))
	f.Add(uint8(9), false, uint16(0), uint16(65535), uint32(0xffffffff), uint32(0), uint8(15), []byte{})
	f.Fuzz(func(t *testing.T, li uint8, v6 bool, sport, dport uint16, a, b uint32, ob uint8, payload []byte) {
		if len(payload) > 9000 {
			payload = payload[:9000]
		}
		link := Links()[int(li)%len(Links())]
		src, dst := fuzzEndpoints(link, v6, sport, dport, a, b)
		opts := fuzzOpts(ob, v6)
		for _, tcp := range []bool{false, true} {
			var data []byte
			if tcp {
				data = TCP(link, src, dst, a^b, ob, payload, opts...)
			} else {
				data = UDP(link, src, dst, payload, opts...)
			}
			p := decode(t, link, data)
			gs, gd := netAddrs(t, p)
			if gs != src.Addr() || gd != dst.Addr() {
				t.Fatalf("addresses %v %v", gs, gd)
			}
			var seg, pl []byte
			var proto uint8
			var gsp, gdp uint16
			if tcp {
				l, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
				if !ok {
					t.Fatalf("no TCP layer: %v", p)
				}
				seg, pl, proto, gsp, gdp = append(append([]byte(nil), l.Contents...), l.Payload...), l.Payload, 6, uint16(l.SrcPort), uint16(l.DstPort)
			} else {
				l, ok := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
				if !ok {
					t.Fatalf("no UDP layer: %v", p)
				}
				seg, pl, proto, gsp, gdp = append(append([]byte(nil), l.Contents...), l.Payload...), l.Payload, 17, uint16(l.SrcPort), uint16(l.DstPort)
			}
			if gsp != sport || gdp != dport || !bytes.Equal(pl, payload) {
				t.Fatalf("tcp=%v: ports %d %d, payload equal %v", tcp, gsp, gdp, bytes.Equal(pl, payload))
			}
			if !l4ChecksumOK(gs, gd, proto, seg) {
				t.Fatalf("tcp=%v: bad checksum", tcp)
			}
			_ = ipPacket(t, link, data) // lengths and padding are exact
		}
	})
}

// FuzzFragments checks that hand reassembly of the fragments of a fuzzed
// datagram gives the datagram back, for IPv4 and IPv6.
func FuzzFragments(f *testing.F) {
	f.Add([]byte("payload"), uint16(8), false, uint8(0))
	f.Add(bytes.Repeat([]byte{1}, 3000), uint16(1232), true, uint8(6))
	f.Fuzz(func(t *testing.T, payload []byte, size uint16, v6 bool, ob uint8) {
		if len(payload) > 3000 {
			payload = payload[:3000]
		}
		fs := int(size)%2048 + 8
		link := Ethernet
		src, dst := fuzzEndpoints(link, v6, 1, 2, 3, 4)
		opts := fuzzOpts(ob, v6)
		var frags [][]byte
		var want []byte
		if v6 {
			frags, want = IPv6Fragments(link, src, dst, payload, fs, opts...), IPv6Fragmentable(src, dst, payload, opts...)
		} else {
			frags, want = IPv4Fragments(link, src, dst, payload, fs, opts...), UDPDatagram(src, dst, payload, opts...)
		}
		got := make([]byte, len(want))
		total := 0
		for i, fr := range frags {
			p := decode(t, link, fr)
			var off int
			var data []byte
			var more bool
			if v6 {
				fh := p.Layer(layers.LayerTypeIPv6Fragment).(*layers.IPv6Fragment)
				off, data, more = int(fh.FragmentOffset)*8, fh.Payload, fh.MoreFragments
			} else {
				ip := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
				off, data, more = int(ip.FragOffset)*8, ip.Payload, ip.Flags&layers.IPv4MoreFragments != 0
			}
			if more != (i < len(frags)-1) || len(data) > fs || off != total || off+len(data) > len(got) {
				t.Fatalf("fragment %d: offset %d len %d more %v", i, off, len(data), more)
			}
			copy(got[off:], data)
			total += len(data)
		}
		if total != len(want) || !bytes.Equal(got, want) {
			t.Fatalf("reassembly differs")
		}
	})
}

// FuzzRawName checks RawName against dnsmessage where a name can be written
// as text, and the hand encoding's structure otherwise.
func FuzzRawName(f *testing.F) {
	f.Add([]byte("www\x00example\x00com"), uint16(1))
	f.Add([]byte("a.b\x00\xff\xfe"), uint16(16))
	f.Fuzz(func(t *testing.T, raw []byte, qtype uint16) {
		var labels [][]byte
		for _, l := range bytes.Split(raw, []byte{0}) {
			if len(l) > 0 && len(l) <= 63 {
				labels = append(labels, l)
			}
		}
		name := RawName(labels...)
		// Walk the encoding by hand.
		off := 0
		for _, l := range labels {
			if int(name[off]) != len(l) || !bytes.Equal(name[off+1:off+1+len(l)], l) {
				t.Fatalf("label at %d wrong", off)
			}
			off += 1 + len(l)
		}
		if off != len(name)-1 || name[off] != 0 {
			t.Fatalf("name does not end with the root label")
		}
		text := true
		var parts []string
		for _, l := range labels {
			for _, c := range l {
				if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
					text = false
				}
			}
			parts = append(parts, string(l))
		}
		if text && len(name) <= 255 && len(labels) > 0 {
			if q := Query(7, strings.Join(parts, "."), qtype); !bytes.Equal(q, RawQuery(7, name, qtype)) {
				t.Fatalf("RawQuery and Query disagree for %q", parts)
			}
		}
	})
}

// FuzzTCPDNSSegments checks that segments always concatenate to the stream
// with contiguous sequence numbers.
func FuzzTCPDNSSegments(f *testing.F) {
	f.Add([]byte("abc"), []byte{1, 2, 3}, uint32(0xffffffff))
	f.Fuzz(func(t *testing.T, msg []byte, sizes []byte, seq uint32) {
		if len(msg) > 4000 {
			msg = msg[:4000]
		}
		var sz []int
		for _, s := range sizes {
			sz = append(sz, int(s)+1)
		}
		msgs := [][]byte{msg, msg[:len(msg)/2]}
		segs := TCPDNSSegments(RawIP, c6, s6, seq, msgs, sz)
		var got []byte
		next := seq
		for _, s := range segs {
			tcp := decode(t, RawIP, s).Layer(layers.LayerTypeTCP).(*layers.TCP)
			if tcp.Seq != next {
				t.Fatalf("seq %d, want %d", tcp.Seq, next)
			}
			next += uint32(len(tcp.Payload))
			got = append(got, tcp.Payload...)
		}
		if !bytes.Equal(got, TCPStream(msgs)) {
			t.Fatalf("segments do not rebuild the stream")
		}
	})
}
