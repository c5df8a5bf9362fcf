package testcap

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

func TestLinkTypes(t *testing.T) {
	want := map[Link]uint16{
		Ethernet: 1, EthernetVLAN: 1, EthernetQinQ: 1, LinuxSLL: 113, LinuxSLL2: 276,
		RawIP: 101, RawIPv4: 228, RawIPv6: 229, Null: 0, Loop: 108,
	}
	if got := len(Links()); got != len(want) {
		t.Fatalf("Links() has %d entries, want %d", got, len(want))
	}
	for _, l := range Links() {
		if got := l.LinkType(); got != want[l] {
			t.Errorf("%v.LinkType() = %d, want %d", l, got, want[l])
		}
	}
	if got := OtherLink(147).LinkType(); got != 147 {
		t.Errorf("OtherLink(147).LinkType() = %d", got)
	}
	if got := OtherLink(0).LinkType(); got != 0 {
		t.Errorf("OtherLink(0).LinkType() = %d", got)
	}
}

// checkLinkHeader checks the link-layer header bytes by hand against the
// LINKTYPE_* layouts and against gopacket's decoded link layer.
func checkLinkHeader(t *testing.T, link Link, data []byte, p gopacket.Packet, etherType uint16) {
	t.Helper()
	be := binary.BigEndian
	switch link {
	case Ethernet, EthernetVLAN, EthernetQinQ:
		eth := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
		if !bytes.Equal(eth.SrcMAC, DefaultSrcMAC) || !bytes.Equal(eth.DstMAC, DefaultDstMAC) && etherType != 0x0806 {
			t.Errorf("%v: MACs %v -> %v", link, eth.SrcMAC, eth.DstMAC)
		}
		if len(data) < 60 {
			t.Errorf("%v: Ethernet frame of %d bytes is not padded to 60", link, len(data))
		}
		var tags []*layers.Dot1Q
		for _, l := range p.Layers() {
			if d, ok := l.(*layers.Dot1Q); ok {
				tags = append(tags, d)
			}
		}
		switch link {
		case Ethernet:
			if be.Uint16(data[12:]) != etherType || len(tags) != 0 {
				t.Errorf("Ethernet: type %#x, %d tags", be.Uint16(data[12:]), len(tags))
			}
		case EthernetVLAN:
			if be.Uint16(data[12:]) != 0x8100 || be.Uint16(data[14:])&0xfff != DefaultVLAN || be.Uint16(data[16:]) != etherType {
				t.Errorf("VLAN header % x", data[:18])
			}
			if len(tags) != 1 || tags[0].VLANIdentifier != DefaultVLAN {
				t.Errorf("VLAN: gopacket tags %v", tags)
			}
		case EthernetQinQ:
			if be.Uint16(data[12:]) != 0x88a8 || be.Uint16(data[14:])&0xfff != DefaultOuterVLAN ||
				be.Uint16(data[16:]) != 0x8100 || be.Uint16(data[18:])&0xfff != DefaultVLAN || be.Uint16(data[20:]) != etherType {
				t.Errorf("QinQ header % x", data[:22])
			}
			if len(tags) != 2 || tags[0].VLANIdentifier != DefaultOuterVLAN || tags[1].VLANIdentifier != DefaultVLAN {
				t.Errorf("QinQ: gopacket tags %v", tags)
			}
		}
	case LinuxSLL:
		if be.Uint16(data[0:]) != 0 || be.Uint16(data[2:]) != 1 || be.Uint16(data[4:]) != 6 ||
			!bytes.Equal(data[6:12], DefaultSrcMAC) || !bytes.Equal(data[12:14], []byte{0, 0}) || be.Uint16(data[14:]) != etherType {
			t.Errorf("SLL header % x", data[:16])
		}
		sll := p.Layer(layers.LayerTypeLinuxSLL).(*layers.LinuxSLL)
		if uint16(sll.EthernetType) != etherType || sll.AddrType != 1 || !bytes.Equal(sll.Addr, DefaultSrcMAC) {
			t.Errorf("SLL: gopacket %+v", sll)
		}
	case LinuxSLL2:
		if be.Uint16(data[0:]) != etherType || be.Uint16(data[2:]) != 0 || be.Uint32(data[4:]) != DefaultIfIndex ||
			be.Uint16(data[8:]) != 1 || data[10] != 0 || data[11] != 6 || !bytes.Equal(data[12:18], DefaultSrcMAC) ||
			!bytes.Equal(data[18:20], []byte{0, 0}) {
			t.Errorf("SLL2 header % x", data[:20])
		}
		sll := p.Layer(layers.LayerTypeLinuxSLL2).(*layers.LinuxSLL2)
		if uint16(sll.ProtocolType) != etherType || sll.InterfaceIndex != DefaultIfIndex || !bytes.Equal(sll.Addr, DefaultSrcMAC) {
			t.Errorf("SLL2: gopacket %+v", sll)
		}
	case Null, Loop:
		af := uint32(2)
		if etherType == 0x86dd {
			af = 24
		}
		got := binary.LittleEndian.Uint32(data)
		if link == Loop {
			got = be.Uint32(data)
		}
		if got != af {
			t.Errorf("%v header % x, want family %d", link, data[:4], af)
		}
		lb := p.Layer(layers.LayerTypeLoopback).(*layers.Loopback)
		if uint32(lb.Family) != af {
			t.Errorf("%v: gopacket family %v", link, lb.Family)
		}
	case RawIP, RawIPv4, RawIPv6:
		v := data[0] >> 4
		if (etherType == 0x0800 && v != 4) || (etherType == 0x86dd && v != 6) {
			t.Errorf("%v: first nibble %d", link, v)
		}
	}
}

func etherTypeFor(a netip.Addr) uint16 {
	if a.Is4() {
		return 0x0800
	}
	return 0x86dd
}

func TestUDPAllLinksAndOptions(t *testing.T) {
	payloads := [][]byte{nil, {0x42}, Query(7, "example.com", TypeA), bytes.Repeat([]byte{0xa5}, 1400)}
	optSets := map[string][]Option{
		"plain":   nil,
		"options": {WithIPv4Options(), WithHopByHop(), WithDestinationOptions()},
		"hbh":     {WithHopByHop()},
		"dst":     {WithDestinationOptions()},
		"misc":    {WithTTL(3), WithIPID(0x9999), WithDontFragment()},
		"zerosum": {WithZeroUDPChecksum()},
	}
	for _, link := range Links() {
		for _, ep := range endpointsFor(link) {
			for oname, opts := range optSets {
				for pi, pl := range payloads {
					name := fmt.Sprintf("%v/%v/%s/%d", link, ep[0].Addr(), oname, pi)
					data := UDP(link, ep[0], ep[1], pl, opts...)
					p := decode(t, link, data)
					checkLinkHeader(t, link, data, p, etherTypeFor(ep[0].Addr()))
					src, dst := netAddrs(t, p)
					if src != ep[0].Addr() || dst != ep[1].Addr() {
						t.Errorf("%s: addresses %v -> %v", name, src, dst)
					}
					udp, ok := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
					if !ok {
						t.Fatalf("%s: no UDP layer in %v", name, p)
					}
					if uint16(udp.SrcPort) != ep[0].Port() || uint16(udp.DstPort) != ep[1].Port() {
						t.Errorf("%s: ports %d -> %d", name, udp.SrcPort, udp.DstPort)
					}
					if !bytes.Equal(udp.Payload, pl) || int(udp.Length) != 8+len(pl) {
						t.Errorf("%s: payload %d bytes, length field %d, want %d", name, len(udp.Payload), udp.Length, len(pl))
					}
					seg := append(append([]byte(nil), udp.Contents...), udp.Payload...)
					if oname == "zerosum" && ep[0].Addr().Is4() {
						if udp.Checksum != 0 {
							t.Errorf("%s: checksum %#x, want 0", name, udp.Checksum)
						}
					} else if !l4ChecksumOK(src, dst, 17, seg) {
						t.Errorf("%s: bad UDP checksum %#x", name, udp.Checksum)
					}
					checkIP(t, name, link, data, p, ep[0].Addr().Is4(), opts)
				}
			}
		}
	}
}

// checkIP checks the IP header fields the options control.
func checkIP(t *testing.T, name string, link Link, data []byte, p gopacket.Packet, v4 bool, opts []Option) {
	t.Helper()
	c := newConfig(opts)
	pkt := ipPacket(t, link, data)
	if v4 {
		ip := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		if int(ip.Length) != len(pkt) || ip.TTL != c.ttl || ip.Id != c.ipID {
			t.Errorf("%s: IPv4 length %d (packet %d) TTL %d id %#x", name, ip.Length, len(pkt), ip.TTL, ip.Id)
		}
		if !ipHeaderChecksumOK(ip.Contents) {
			t.Errorf("%s: bad IPv4 header checksum", name)
		}
		if (ip.Flags&layers.IPv4DontFragment != 0) != c.dontFragment {
			t.Errorf("%s: flags %v", name, ip.Flags)
		}
		wantIHL := uint8(5)
		if len(c.ipv4Options) > 0 {
			wantIHL = 6
			if len(ip.Options) == 0 || ip.Options[0].OptionType != 148 {
				t.Errorf("%s: options %v", name, ip.Options)
			}
		}
		if ip.IHL != wantIHL {
			t.Errorf("%s: IHL %d, want %d", name, ip.IHL, wantIHL)
		}
		return
	}
	ip := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
	if int(ip.Length)+40 != len(pkt) || ip.HopLimit != c.ttl {
		t.Errorf("%s: IPv6 payload length %d (packet %d) hop limit %d", name, ip.Length, len(pkt), ip.HopLimit)
	}
	// Walk the extension header chain by hand.
	next, off, chain := pkt[6], 40, []byte{}
	for next == 0 || next == 60 || next == 44 {
		chain = append(chain, next)
		next, off = pkt[off], off+8*int(pkt[off+1])+8
	}
	var want []byte
	if c.hopByHop {
		want = append(want, 0)
	}
	if c.destOpts {
		want = append(want, 60)
	}
	if !bytes.Equal(chain, want) {
		t.Errorf("%s: extension chain %v, want %v", name, chain, want)
	}
	if c.hopByHop {
		if _, ok := p.Layer(layers.LayerTypeIPv6HopByHop).(*layers.IPv6HopByHop); !ok && ip.HopByHop == nil {
			t.Errorf("%s: gopacket sees no hop-by-hop header", name)
		}
		if pkt[40+2] != 5 || pkt[40+3] != 2 {
			t.Errorf("%s: hop-by-hop option % x is not Router Alert", name, pkt[40:48])
		}
	}
	if c.destOpts && p.Layer(layers.LayerTypeIPv6Destination) == nil {
		t.Errorf("%s: gopacket sees no destination options header", name)
	}
}

func TestTCP(t *testing.T) {
	for _, link := range Links() {
		for _, ep := range endpointsFor(link) {
			for _, flags := range []uint8{TCPSyn, TCPSyn | TCPAck, TCPPsh | TCPAck, TCPFin | TCPAck, TCPRst, 0xff} {
				pl := []byte("hello, tcp")
				if flags&TCPSyn != 0 {
					pl = nil
				}
				data := TCP(link, ep[0], ep[1], 0xfffffff0, flags, pl, WithAck(77), WithWindow(1000), WithHopByHop())
				p := decode(t, link, data)
				tcp := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
				src, dst := netAddrs(t, p)
				name := fmt.Sprintf("%v/%v/%#x", link, src, flags)
				if src != ep[0].Addr() || dst != ep[1].Addr() ||
					uint16(tcp.SrcPort) != ep[0].Port() || uint16(tcp.DstPort) != ep[1].Port() {
					t.Errorf("%s: endpoints %v:%d -> %v:%d", name, src, tcp.SrcPort, dst, tcp.DstPort)
				}
				if tcp.Seq != 0xfffffff0 || tcp.Ack != 77 || tcp.Window != 1000 || tcp.DataOffset != 5 {
					t.Errorf("%s: seq %d ack %d win %d off %d", name, tcp.Seq, tcp.Ack, tcp.Window, tcp.DataOffset)
				}
				gotFlags := tcp.Contents[13]
				if gotFlags != flags {
					t.Errorf("%s: flags byte %#x", name, gotFlags)
				}
				if !bytes.Equal(tcp.Payload, pl) {
					t.Errorf("%s: payload %q", name, tcp.Payload)
				}
				if !l4ChecksumOK(src, dst, 6, append(append([]byte(nil), tcp.Contents...), tcp.Payload...)) {
					t.Errorf("%s: bad TCP checksum", name)
				}
			}
		}
	}
}

func TestIP(t *testing.T) {
	data := IP(RawIP, c4.Addr(), s4.Addr(), 47, []byte{1, 2, 3, 4})
	p := decode(t, RawIP, data)
	ip := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	if ip.Protocol != 47 || !bytes.Equal(data[20:], []byte{1, 2, 3, 4}) || ip.Length != 24 {
		t.Errorf("IP: proto %v length %d", ip.Protocol, ip.Length)
	}
	data = IP(Ethernet, c6.Addr(), s6.Addr(), 132, []byte{9, 9}, WithDestinationOptions())
	pkt := data[14:]
	if pkt[6] != 60 || pkt[40] != 132 || !bytes.Equal(pkt[48:], []byte{9, 9}) {
		t.Errorf("IPv6 IP: % x", pkt)
	}
}

func TestUDPDatagram(t *testing.T) {
	pl := []byte("datagram")
	d := UDPDatagram(c4, s4, pl)
	if len(d) != 16 || binary.BigEndian.Uint16(d[0:]) != c4.Port() || binary.BigEndian.Uint16(d[2:]) != 53 ||
		binary.BigEndian.Uint16(d[4:]) != 16 || !bytes.Equal(d[8:], pl) || !l4ChecksumOK(c4.Addr(), s4.Addr(), 17, d) {
		t.Errorf("UDPDatagram % x", d)
	}
	// The frame builder puts exactly these bytes after the IP header.
	f := UDP(RawIP, c4, s4, pl)
	if !bytes.Equal(f[20:], d) {
		t.Errorf("UDP frame % x does not end with % x", f, d)
	}
}

func TestIPv4Fragments(t *testing.T) {
	payload := make([]byte, 3000)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	for _, link := range []Link{Ethernet, EthernetQinQ, LinuxSLL2, RawIP, RawIPv4, Null, Loop} {
		for _, size := range []int{8, 13, 576, 1480, 5000} {
			for _, opts := range [][]Option{nil, {WithIPv4Options(), WithIPID(0x4242)}} {
				c := newConfig(opts)
				name := fmt.Sprintf("%v/%d/%d", link, size, len(opts))
				frags := IPv4Fragments(link, c4, s4, payload, size, opts...)
				want := UDPDatagram(c4, s4, payload, opts...)
				step := size &^ 7
				if n := (len(want) + step - 1) / step; len(frags) != n {
					t.Fatalf("%s: %d fragments, want %d", name, len(frags), n)
				}
				got := make([]byte, len(want)+64)
				var total int
				for i, f := range frags {
					p := decode(t, link, f)
					ip := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
					more := ip.Flags&layers.IPv4MoreFragments != 0
					if more != (i < len(frags)-1) || ip.Id != c.ipID || ip.Protocol != layers.IPProtocolUDP {
						t.Errorf("%s[%d]: MF %v id %#x proto %v", name, i, more, ip.Id, ip.Protocol)
					}
					if !ipHeaderChecksumOK(ip.Contents) || int(ip.Length) != len(ip.Contents)+len(ip.Payload) {
						t.Errorf("%s[%d]: bad header checksum or length", name, i)
					}
					if more && len(ip.Payload)%8 != 0 {
						t.Errorf("%s[%d]: non-final fragment of %d bytes", name, i, len(ip.Payload))
					}
					if len(opts) > 0 && (ip.IHL != 6 || ip.Options[0].OptionType != 148) {
						t.Errorf("%s[%d]: options not copied", name, i)
					}
					off := int(ip.FragOffset) * 8
					if off+len(ip.Payload) > len(got) {
						t.Fatalf("%s[%d]: fragment beyond datagram", name, i)
					}
					copy(got[off:], ip.Payload)
					total += len(ip.Payload)
				}
				if total != len(want) || !bytes.Equal(got[:total], want) {
					t.Errorf("%s: reassembled %d bytes differ from the %d-byte datagram", name, total, len(want))
				}
				u := gopacket.NewPacket(got[:total], layers.LayerTypeUDP, gopacket.Default).Layer(layers.LayerTypeUDP).(*layers.UDP)
				if !bytes.Equal(u.Payload, payload) || !l4ChecksumOK(c4.Addr(), s4.Addr(), 17, got[:total]) {
					t.Errorf("%s: reassembled UDP payload or checksum wrong", name)
				}
			}
		}
	}
}

func TestIPv6Fragments(t *testing.T) {
	payload := make([]byte, 2500)
	for i := range payload {
		payload[i] = byte(i * 13)
	}
	for _, link := range []Link{Ethernet, EthernetVLAN, LinuxSLL, RawIP, RawIPv6, Null, Loop} {
		for _, size := range []int{8, 100, 1232, 4000} {
			for _, opts := range [][]Option{nil, {WithHopByHop(), WithDestinationOptions(), WithFragmentID(99)}} {
				c := newConfig(opts)
				name := fmt.Sprintf("%v/%d/%d", link, size, len(opts))
				frags := IPv6Fragments(link, c6, s6, payload, size, opts...)
				want := IPv6Fragmentable(c6, s6, payload, opts...)
				got := make([]byte, len(want)+64)
				var total int
				for i, f := range frags {
					p := decode(t, link, f)
					fh, ok := p.Layer(layers.LayerTypeIPv6Fragment).(*layers.IPv6Fragment)
					if !ok {
						t.Fatalf("%s[%d]: no fragment header in %v", name, i, p)
					}
					if fh.MoreFragments != (i < len(frags)-1) || fh.Identification != c.fragID {
						t.Errorf("%s[%d]: M %v id %d", name, i, fh.MoreFragments, fh.Identification)
					}
					wantNext := layers.IPProtocolUDP
					if c.destOpts {
						wantNext = layers.IPProtocolIPv6Destination
					}
					if fh.NextHeader != wantNext {
						t.Errorf("%s[%d]: fragment next header %v", name, i, fh.NextHeader)
					}
					if c.hopByHop && p.Layer(layers.LayerTypeIPv6HopByHop) == nil && p.Layer(layers.LayerTypeIPv6).(*layers.IPv6).HopByHop == nil {
						t.Errorf("%s[%d]: no hop-by-hop header", name, i)
					}
					ip := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
					if int(ip.Length) != len(ipPacket(t, link, f))-40 {
						t.Errorf("%s[%d]: payload length %d", name, i, ip.Length)
					}
					if fh.MoreFragments && len(fh.Payload)%8 != 0 {
						t.Errorf("%s[%d]: non-final fragment of %d bytes", name, i, len(fh.Payload))
					}
					off := int(fh.FragmentOffset) * 8
					copy(got[off:], fh.Payload)
					total += len(fh.Payload)
				}
				if total != len(want) || !bytes.Equal(got[:total], want) {
					t.Fatalf("%s: reassembled %d bytes differ from the %d-byte fragmentable part", name, total, len(want))
				}
				udp := got[:total]
				if c.destOpts {
					if udp[0] != 17 || udp[1] != 0 {
						t.Errorf("%s: destination options header % x", name, udp[:8])
					}
					udp = udp[8:]
				}
				if !bytes.Equal(udp[8:], payload) || !l4ChecksumOK(c6.Addr(), s6.Addr(), 17, udp) ||
					int(binary.BigEndian.Uint16(udp[4:])) != len(udp) {
					t.Errorf("%s: reassembled UDP datagram wrong", name)
				}
			}
		}
	}
}

func TestARP(t *testing.T) {
	for _, link := range []Link{Ethernet, EthernetVLAN, EthernetQinQ, LinuxSLL, LinuxSLL2} {
		data := ARP(link)
		p := decode(t, link, data)
		checkLinkHeader(t, link, data, p, 0x0806)
		arp, ok := p.Layer(layers.LayerTypeARP).(*layers.ARP)
		if !ok {
			t.Fatalf("%v: no ARP layer", link)
		}
		if arp.Operation != layers.ARPRequest || !bytes.Equal(arp.SourceProtAddress, []byte{192, 0, 2, 1}) ||
			!bytes.Equal(arp.DstProtAddress, []byte{192, 0, 2, 2}) || !bytes.Equal(arp.SourceHwAddress, DefaultSrcMAC) {
			t.Errorf("%v: ARP %+v", link, arp)
		}
		if link.IsEthernet() && !bytes.Equal(data[:6], net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}) {
			t.Errorf("%v: ARP request not broadcast", link)
		}
	}
	for _, link := range []Link{RawIP, Null} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("ARP(%v) did not panic", link)
				}
			}()
			ARP(link)
		}()
	}
}

func TestICMPEcho(t *testing.T) {
	for _, link := range Links() {
		for _, ep := range endpointsFor(link) {
			src, dst := ep[0].Addr(), ep[1].Addr()
			data := ICMPEcho(link, src, dst, 0x1111, 9, []byte("ping"), WithHopByHop())
			p := decode(t, link, data)
			gs, gd := netAddrs(t, p)
			if gs != src || gd != dst {
				t.Errorf("%v: addresses %v %v", link, gs, gd)
			}
			if src.Is4() {
				ic := p.Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4)
				if ic.TypeCode.Type() != 8 || ic.Id != 0x1111 || ic.Seq != 9 || !bytes.Equal(ic.Payload, []byte("ping")) {
					t.Errorf("%v: ICMPv4 %+v", link, ic)
				}
				if fold(onesSum(0, append(append([]byte(nil), ic.Contents...), ic.Payload...))) != 0xffff {
					t.Errorf("%v: bad ICMPv4 checksum", link)
				}
				continue
			}
			ic := p.Layer(layers.LayerTypeICMPv6).(*layers.ICMPv6)
			echo := p.Layer(layers.LayerTypeICMPv6Echo).(*layers.ICMPv6Echo)
			if ic.TypeCode.Type() != 128 || echo.Identifier != 0x1111 || echo.SeqNumber != 9 || !bytes.Equal(echo.Payload, []byte("ping")) {
				t.Errorf("%v: ICMPv6 %+v %+v", link, ic, echo)
			}
			if !l4ChecksumOK(src, dst, 58, append(append([]byte(nil), ic.Contents...), ic.Payload...)) {
				t.Errorf("%v: bad ICMPv6 checksum", link)
			}
		}
	}
}

func TestTCPDNSSegments(t *testing.T) {
	msgs := [][]byte{Query(1, "a.example", TypeA), Query(2, "bb.example", TypeAAAA), Response(1, "a.example", TypeA, 0, AnswerAddr(netip.MustParseAddr("192.0.2.9")))}
	stream := TCPStream(msgs)
	if want := 3*2 + len(msgs[0]) + len(msgs[1]) + len(msgs[2]); len(stream) != want {
		t.Fatalf("stream length %d, want %d", len(stream), want)
	}
	cases := [][]int{nil, {1}, {1, 2, 3}, {100000}, {len(msgs[0]) + 3, 5}}
	for _, sizes := range cases {
		segs := TCPDNSSegments(Ethernet, c4, s4, 0xfffffffe, msgs, sizes, WithAck(5))
		var got []byte
		seq := uint32(0xfffffffe)
		for i, s := range segs {
			p := decode(t, Ethernet, s)
			tcp := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
			if tcp.Seq != seq || !tcp.PSH || !tcp.ACK || tcp.Ack != 5 {
				t.Errorf("%v[%d]: seq %d (want %d) flags %v/%v", sizes, i, tcp.Seq, seq, tcp.PSH, tcp.ACK)
			}
			want := len(stream)
			if len(sizes) > 0 {
				want = sizes[min(i, len(sizes)-1)]
			}
			if i < len(segs)-1 && len(tcp.Payload) != want {
				t.Errorf("%v[%d]: %d bytes, want %d", sizes, i, len(tcp.Payload), want)
			}
			seq += uint32(len(tcp.Payload))
			got = append(got, tcp.Payload...)
		}
		if !bytes.Equal(got, stream) {
			t.Errorf("%v: segments do not concatenate to the stream", sizes)
		}
		// Parse the stream by hand: 2-byte length, message.
		for i, rest := 0, got; len(rest) > 0; i++ {
			n := int(binary.BigEndian.Uint16(rest))
			if !bytes.Equal(rest[2:2+n], msgs[i]) {
				t.Errorf("%v: message %d differs", sizes, i)
			}
			rest = rest[2+n:]
		}
	}
}

func TestTCPHandshake(t *testing.T) {
	hs := TCPHandshake(LinuxSLL2, c6, s6, 1000, 0xffffffff)
	want := []struct {
		src       netip.Addr
		seq, ack  uint32
		syn, ackf bool
	}{
		{c6.Addr(), 1000, 0, true, false},
		{s6.Addr(), 0xffffffff, 1001, true, true},
		{c6.Addr(), 1001, 0, false, true},
	}
	for i, w := range want {
		p := decode(t, LinuxSLL2, hs[i])
		tcp := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		src, _ := netAddrs(t, p)
		if src != w.src || tcp.Seq != w.seq || tcp.Ack != w.ack || tcp.SYN != w.syn || tcp.ACK != w.ackf || len(tcp.Payload) != 0 {
			t.Errorf("handshake[%d]: src %v seq %d ack %d SYN %v ACK %v", i, src, tcp.Seq, tcp.Ack, tcp.SYN, tcp.ACK)
		}
	}
}

func TestOptionsMACsAndSLL(t *testing.T) {
	src := net.HardwareAddr{1, 2, 3, 4, 5, 6}
	dst := net.HardwareAddr{7, 8, 9, 10, 11, 12}
	d := UDP(EthernetQinQ, c4, s4, nil, WithMACs(src, dst), WithVLAN(7), WithOuterVLAN(4094))
	if !bytes.Equal(d[0:6], dst) || !bytes.Equal(d[6:12], src) ||
		binary.BigEndian.Uint16(d[14:])&0xfff != 4094 || binary.BigEndian.Uint16(d[18:])&0xfff != 7 {
		t.Errorf("QinQ with options: % x", d[:22])
	}
	d = UDP(LinuxSLL, c4, s4, nil, WithSLLPacketType(PacketOutgoing), WithMACs(src, dst))
	if binary.BigEndian.Uint16(d) != 4 || !bytes.Equal(d[6:12], src) {
		t.Errorf("SLL with options: % x", d[:16])
	}
	d = UDP(LinuxSLL2, c4, s4, nil, WithSLLPacketType(PacketOutgoing), WithInterfaceIndex(0x01020304))
	if d[10] != 4 || binary.BigEndian.Uint32(d[4:]) != 0x01020304 {
		t.Errorf("SLL2 with options: % x", d[:20])
	}
}

func TestBuilderPanics(t *testing.T) {
	cases := map[string]func(){
		"family mismatch": func() { UDP(Ethernet, c4, s6, nil) },
		"v6 on RawIPv4":   func() { UDP(RawIPv4, c6, s6, nil) },
		"v4 on RawIPv6":   func() { TCP(RawIPv6, c4, s4, 0, 0, nil) },
		"other link":      func() { UDP(OtherLink(147), c4, s4, nil) },
		"tiny fragment":   func() { IPv4Fragments(Ethernet, c4, s4, nil, 7) },
		"v6 frag of v4":   func() { IPv6Fragments(Ethernet, c4, s4, nil, 8) },
		"zero segment":    func() { TCPDNSSegments(Ethernet, c4, s4, 0, [][]byte{{1}}, []int{0}) },
		"bad name":        func() { Query(1, "a..b", TypeA) },
		"long label":      func() { RawName(bytes.Repeat([]byte{'a'}, 64)) },
		"A with v6":       func() { Response(1, "x", TypeA, 0, Answer{Type: TypeA, Addr: s6.Addr()}) },
		"bad rcode":       func() { Response(1, "x", TypeA, 16) },
	}
	for name, f := range cases {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
