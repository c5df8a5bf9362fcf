package packet

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// ---- frame builders -------------------------------------------------------

var (
	mac1  = net.HardwareAddr{0x02, 0, 0, 0, 0, 1}
	mac2  = net.HardwareAddr{0x02, 0, 0, 0, 0, 2}
	ip4a  = net.IP{192, 0, 2, 1}
	ip4b  = net.IP{198, 51, 100, 53}
	ip6a  = net.ParseIP("2001:db8::1")
	ip6b  = net.ParseIP("2001:db8:ffff::53")
	dnsQ  = []byte("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x07example\x03com\x00\x00\x01\x00\x01")
	tcpPL = []byte("\x00\x1d\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x07example\x03com\x00\x00\x01\x00\x01")
)

// serialize builds a frame with gopacket, fixing lengths and checksums.
func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	for _, l := range ls {
		switch tl := l.(type) {
		case *layers.UDP:
			for _, n := range ls {
				if nl, ok := n.(gopacket.NetworkLayer); ok {
					if err := tl.SetNetworkLayerForChecksum(nl); err != nil {
						t.Fatal(err)
					}
				}
			}
		case *layers.TCP:
			for _, n := range ls {
				if nl, ok := n.(gopacket.NetworkLayer); ok {
					if err := tl.SetNetworkLayerForChecksum(nl); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatalf("serialize: %v", err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

func ipv4(proto layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: 0x4242, Protocol: proto, SrcIP: ip4a, DstIP: ip4b}
}

func ipv6(next layers.IPProtocol) *layers.IPv6 {
	return &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: next, SrcIP: ip6a, DstIP: ip6b}
}

func udp(sport, dport uint16) *layers.UDP {
	return &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
}

func tcp() *layers.TCP {
	return &layers.TCP{
		SrcPort: 40000, DstPort: 53, Seq: 0xDEADBEEF, Ack: 7, PSH: true, ACK: true, Window: 1024,
		Options: []layers.TCPOption{
			{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{0x05, 0xb4}},
			{OptionType: layers.TCPOptionKindNop},
			{OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10, OptionData: []byte{1, 2, 3, 4, 5, 6, 7, 8}},
		},
	}
}

func eth(et layers.EthernetType) *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: mac1, DstMAC: mac2, EthernetType: et}
}

// rawUDP is a hand-built UDP datagram (checksum 0: "not computed", RFC 768).
func rawUDP(sport, dport uint16, payload []byte) []byte {
	b := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint16(b[0:], sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	binary.BigEndian.PutUint16(b[4:], uint16(8+len(payload)))
	return append(b, payload...)
}

// ip6Frame is an Ethernet/IPv6 frame whose IPv6 payload (extension headers
// and all) is given as bytes.
func ip6Frame(t testing.TB, next layers.IPProtocol, payload []byte) []byte {
	return serialize(t, eth(layers.EthernetTypeIPv6), ipv6(next), gopacket.Payload(payload))
}

// extHdr builds an 8-byte-unit IPv6 extension header (hop-by-hop, routing,
// destination options) of the given total length with PadN filling.
func extHdr(next byte, units int) []byte {
	b := make([]byte, units*8)
	b[0] = next
	b[1] = byte(units - 1)
	b[2] = 1 // PadN
	b[3] = byte(len(b) - 4)
	return b
}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func sllHeader(proto uint16) []byte {
	h := make([]byte, 16)
	binary.BigEndian.PutUint16(h[0:], 0) // to us
	binary.BigEndian.PutUint16(h[2:], 1) // ARPHRD_ETHER
	binary.BigEndian.PutUint16(h[4:], 6)
	copy(h[6:], mac1)
	binary.BigEndian.PutUint16(h[14:], proto)
	return h
}

func sll2Header(proto uint16) []byte {
	h := make([]byte, 20)
	binary.BigEndian.PutUint16(h[0:], proto)
	binary.BigEndian.PutUint32(h[4:], 3) // interface index
	binary.BigEndian.PutUint16(h[8:], 1) // ARPHRD_ETHER
	h[10] = 4                            // outgoing
	h[11] = 6
	copy(h[12:], mac1)
	return h
}

func nullHeader(family uint32, order binary.ByteOrder) []byte {
	h := make([]byte, 4)
	order.PutUint32(h, family)
	return h
}

// ---- oracle ---------------------------------------------------------------

// expect is what a frame decodes to, as gopacket sees it.
type expect struct {
	src, dst         netip.Addr
	sport, dport     uint16
	proto            uint8
	payload          []byte
	seq              uint32
	flags            uint8
	transportOK      bool // gopacket decoded a UDP/TCP header without error
	truncated        bool // gopacket flagged the packet as truncated somewhere
	networkLayerSeen bool
	// versionMismatch: gopacket decoded an IP layer whose version nibble
	// does not match it (gopacket does not check; Decode does).
	versionMismatch bool
	// laxLink: gopacket went through an LLC/SNAP header (it accepts any
	// control byte and OUI; Decode only RFC 1042 / 802.1H SNAP) or took
	// its private EtherType 0xFFFF as "raw IP", or read a PPPoE discovery
	// frame (EtherType 0x8863, which carries tags, never PPP: RFC 2516
	// section 5) as a session frame.
	laxLink bool
	// encap is how many IP layers gopacket went through before the
	// innermost UDP/TCP header: the encapsulations it removed.
	encap uint8
}

// gopacketDecoder maps a link type to the gopacket decoder for it.
func gopacketDecoder(linkType uint16) gopacket.Decoder {
	switch linkType {
	case LinkTypeIPv4:
		return layers.LayerTypeIPv4
	case LinkTypeIPv6:
		return layers.LayerTypeIPv6
	case LinkTypeRawDLT12, LinkTypeRawDLT14:
		return layers.LinkTypeRaw
	}
	return layers.LinkType(linkType)
}

type feedback struct{ truncated bool }

func (f *feedback) SetTruncated() { f.truncated = true }

func tcpFlagsByte(t *layers.TCP) uint8 {
	var f uint8
	for i, b := range []bool{t.FIN, t.SYN, t.RST, t.PSH, t.ACK, t.URG, t.ECE, t.CWR} {
		if b {
			f |= 1 << i
		}
	}
	return f
}

// oracle decodes frame with gopacket, down to the innermost UDP or TCP
// header (through VXLAN, Geneve, GRE, IP-in-IP, as gopacket follows them).
// Each transport header is decoded again from the bytes the layer below
// handed over, so that a failure in an application layer (gopacket decodes
// DNS too) does not hide a good UDP/TCP header, and a failing UDP/TCP
// decode is not mistaken for a good one.
func oracle(linkType uint16, frame []byte) expect {
	var e expect
	pkt := gopacket.NewPacket(frame, gopacketDecoder(linkType), gopacket.DecodeOptions{NoCopy: true})
	e.truncated = pkt.Metadata().Truncated
	var below gopacket.Layer
	var src, dst netip.Addr
	ips := 0
	for _, l := range pkt.Layers() {
		switch l := l.(type) {
		case *layers.IPv4:
			src, _ = netip.AddrFromSlice(l.SrcIP)
			dst, _ = netip.AddrFromSlice(l.DstIP)
			ips++
			e.networkLayerSeen = true
			e.versionMismatch = e.versionMismatch || l.Version != 4
		case *layers.IPv6:
			src, _ = netip.AddrFromSlice(l.SrcIP)
			dst, _ = netip.AddrFromSlice(l.DstIP)
			ips++
			e.networkLayerSeen = true
			e.versionMismatch = e.versionMismatch || l.Version != 6
		case *layers.SNAP:
			e.laxLink = true
		case *layers.Ethernet:
			e.laxLink = e.laxLink || l.EthernetType == layers.EthernetTypeRaw || l.EthernetType == layers.EthernetTypePPPoEDiscovery
		case *layers.Dot1Q:
			e.laxLink = e.laxLink || l.Type == layers.EthernetTypeRaw
		case *layers.LinuxSLL:
			e.laxLink = e.laxLink || l.EthernetType == layers.EthernetTypeRaw
		case *layers.LinuxSLL2:
			e.laxLink = e.laxLink || l.ProtocolType == layers.EthernetTypeRaw
		case *layers.UDP:
			var u layers.UDP
			var fb feedback
			if below == nil || u.DecodeFromBytes(below.LayerPayload(), &fb) != nil {
				return e
			}
			e.truncated = e.truncated || fb.truncated
			e.transportOK = true
			e.src, e.dst, e.encap = src, dst, uint8(max(ips-1, 0))
			e.proto = ProtoUDP
			e.sport, e.dport = uint16(u.SrcPort), uint16(u.DstPort)
			e.payload = u.Payload
			e.seq, e.flags = 0, 0
		case *layers.TCP:
			var tc layers.TCP
			var fb feedback
			if below == nil || tc.DecodeFromBytes(below.LayerPayload(), &fb) != nil {
				return e
			}
			e.truncated = e.truncated || fb.truncated
			e.transportOK = true
			e.src, e.dst, e.encap = src, dst, uint8(max(ips-1, 0))
			e.proto = ProtoTCP
			e.sport, e.dport = uint16(tc.SrcPort), uint16(tc.DstPort)
			e.payload = tc.Payload
			e.seq = tc.Seq
			e.flags = tcpFlagsByte(&tc)
		}
		below = l
	}
	if !e.transportOK {
		e.src, e.dst = src, dst
	}
	return e
}

// compare reports every field of p that differs from e.
func compare(t testing.TB, name string, p *Packet, e expect) {
	t.Helper()
	if p.Src != e.src || p.Dst != e.dst {
		t.Errorf("%s: addresses %v -> %v, gopacket %v -> %v", name, p.Src, p.Dst, e.src, e.dst)
	}
	if p.SrcPort != e.sport || p.DstPort != e.dport {
		t.Errorf("%s: ports %d -> %d, gopacket %d -> %d", name, p.SrcPort, p.DstPort, e.sport, e.dport)
	}
	if p.Proto != e.proto {
		t.Errorf("%s: proto %d, gopacket %d", name, p.Proto, e.proto)
	}
	if !bytes.Equal(p.Payload, e.payload) {
		t.Errorf("%s: payload %x, gopacket %x", name, p.Payload, e.payload)
	}
	if p.TCPSeq != e.seq || p.TCPFlags != e.flags {
		t.Errorf("%s: tcp seq/flags %#x/%#x, gopacket %#x/%#x", name, p.TCPSeq, p.TCPFlags, e.seq, e.flags)
	}
	if p.Encapsulated != e.encap {
		t.Errorf("%s: %d encapsulations removed, gopacket %d", name, p.Encapsulated, e.encap)
	}
}

// ---- tests ----------------------------------------------------------------

type frameCase struct {
	name     string
	linkType uint16
	frame    []byte
	// oracleLinkType/oracleFrame replace the input for gopacket when it
	// cannot decode the real one (0x9100 tags).
	oracleFrame []byte
	// encap is the number of encapsulations Decode must remove.
	encap uint8
}

func goodFrames(t testing.TB) []frameCase {
	udpIPv4 := serialize(t, ipv4(layers.IPProtocolUDP), udp(5353, 53), gopacket.Payload(dnsQ))
	udpIPv6 := serialize(t, ipv6(layers.IPProtocolUDP), udp(5353, 53), gopacket.Payload(dnsQ))
	tcpIPv4 := serialize(t, ipv4(layers.IPProtocolTCP), tcp(), gopacket.Payload(tcpPL))
	opts := ipv4(layers.IPProtocolUDP)
	opts.Options = []layers.IPv4Option{
		{OptionType: 7, OptionLength: 7, OptionData: []byte{4, 0, 0, 0, 0}}, // record route
		{OptionType: 1}, // NOP
	}
	tagged9100 := serialize(t, eth(0x9100), &layers.Dot1Q{VLANIdentifier: 10, Type: layers.EthernetTypeDot1Q},
		&layers.Dot1Q{VLANIdentifier: 20, Type: layers.EthernetTypeIPv4}, ipv4(layers.IPProtocolUDP), udp(1, 53), gopacket.Payload(dnsQ))
	oracle9100 := append([]byte(nil), tagged9100...)
	binary.BigEndian.PutUint16(oracle9100[12:], 0x8100)

	return append([]frameCase{
		{name: "eth/ipv4/udp", linkType: LinkTypeEthernet, frame: serialize(t, eth(layers.EthernetTypeIPv4), ipv4(layers.IPProtocolUDP), udp(5353, 53), gopacket.Payload(dnsQ))},
		{name: "eth/ipv4/udp-short-padded", linkType: LinkTypeEthernet, frame: serialize(t, eth(layers.EthernetTypeIPv4), ipv4(layers.IPProtocolUDP), udp(1, 2), gopacket.Payload("x"))},
		{name: "eth/ipv4+options/udp", linkType: LinkTypeEthernet, frame: serialize(t, eth(layers.EthernetTypeIPv4), opts, udp(5353, 53), gopacket.Payload(dnsQ))},
		{name: "eth/ipv4/tcp", linkType: LinkTypeEthernet, frame: serialize(t, eth(layers.EthernetTypeIPv4), ipv4(layers.IPProtocolTCP), tcp(), gopacket.Payload(tcpPL))},
		{name: "eth/ipv4/tcp-syn-no-payload", linkType: LinkTypeEthernet, frame: serialize(t, eth(layers.EthernetTypeIPv4), ipv4(layers.IPProtocolTCP), &layers.TCP{SrcPort: 1, DstPort: 53, Seq: 1, SYN: true})},
		{name: "eth/dot1q/ipv4/tcp", linkType: LinkTypeEthernet, frame: serialize(t, eth(layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 100, Type: layers.EthernetTypeIPv4}, ipv4(layers.IPProtocolTCP), tcp(), gopacket.Payload(tcpPL))},
		{name: "eth/qinq/dot1q/ipv6/udp", linkType: LinkTypeEthernet, frame: serialize(t, eth(layers.EthernetTypeQinQ), &layers.Dot1Q{VLANIdentifier: 7, Type: layers.EthernetTypeDot1Q},
			&layers.Dot1Q{VLANIdentifier: 8, Type: layers.EthernetTypeIPv6}, ipv6(layers.IPProtocolUDP), udp(5353, 53), gopacket.Payload(dnsQ))},
		{name: "eth/0x9100/dot1q/dot1q/ipv4/udp", linkType: LinkTypeEthernet, frame: tagged9100, oracleFrame: oracle9100},
		{name: "eth/ipv6/udp", linkType: LinkTypeEthernet, frame: serialize(t, eth(layers.EthernetTypeIPv6), ipv6(layers.IPProtocolUDP), udp(5353, 53), gopacket.Payload(dnsQ))},
		{name: "eth/ipv6/tcp", linkType: LinkTypeEthernet, frame: serialize(t, eth(layers.EthernetTypeIPv6), ipv6(layers.IPProtocolTCP), tcp(), gopacket.Payload(tcpPL))},
		{name: "eth/ipv6/hbh/dest/udp", linkType: LinkTypeEthernet, frame: ip6Frame(t, 0, cat(extHdr(60, 1), extHdr(17, 2), rawUDP(1000, 53, dnsQ)))},
		{name: "eth/ipv6/routing/udp", linkType: LinkTypeEthernet, frame: ip6Frame(t, 43, cat([]byte{17, 2, 4, 0, 0, 0, 0, 0}, make([]byte, 16), rawUDP(1000, 53, dnsQ)))},
		{name: "eth/ipv6/ah/udp", linkType: LinkTypeEthernet, frame: ip6Frame(t, 51, cat([]byte{17, 4, 0, 0, 0, 0, 0, 1, 0, 0, 0, 9}, make([]byte, 12), rawUDP(1000, 53, dnsQ)))},
		{name: "eth/llc-snap/ipv4/udp", linkType: LinkTypeEthernet, frame: serialize(t, &layers.Ethernet{SrcMAC: mac1, DstMAC: mac2, EthernetType: layers.EthernetTypeLLC, Length: uint16(8 + 20 + 8 + len(dnsQ))},
			&layers.LLC{DSAP: 0xAA, SSAP: 0xAA, Control: 3}, &layers.SNAP{OrganizationalCode: []byte{0, 0, 0}, Type: layers.EthernetTypeIPv4},
			ipv4(layers.IPProtocolUDP), udp(5353, 53), gopacket.Payload(dnsQ))},
		{name: "sll/ipv4/udp", linkType: LinkTypeLinuxSLL, frame: cat(sllHeader(0x0800), udpIPv4)},
		{name: "sll/ipv6/udp", linkType: LinkTypeLinuxSLL, frame: cat(sllHeader(0x86DD), udpIPv6)},
		{name: "sll/ipv4/tcp", linkType: LinkTypeLinuxSLL, frame: cat(sllHeader(0x0800), tcpIPv4)},
		{name: "sll2/ipv4/udp", linkType: LinkTypeLinuxSLL2, frame: cat(sll2Header(0x0800), udpIPv4)},
		{name: "sll2/ipv6/udp", linkType: LinkTypeLinuxSLL2, frame: cat(sll2Header(0x86DD), udpIPv6)},
		{name: "raw101/ipv4", linkType: LinkTypeRaw, frame: udpIPv4},
		{name: "raw101/ipv6", linkType: LinkTypeRaw, frame: udpIPv6},
		{name: "raw12/ipv4", linkType: LinkTypeRawDLT12, frame: tcpIPv4},
		{name: "raw14/ipv6", linkType: LinkTypeRawDLT14, frame: udpIPv6},
		{name: "ipv4-228", linkType: LinkTypeIPv4, frame: udpIPv4},
		{name: "ipv6-229", linkType: LinkTypeIPv6, frame: udpIPv6},
		{name: "null-le/ipv4", linkType: LinkTypeNull, frame: cat(nullHeader(2, binary.LittleEndian), udpIPv4)},
		{name: "null-be/ipv4", linkType: LinkTypeNull, frame: cat(nullHeader(2, binary.BigEndian), udpIPv4)},
		{name: "null-le/ipv6-24", linkType: LinkTypeNull, frame: cat(nullHeader(24, binary.LittleEndian), udpIPv6)},
		{name: "null-be/ipv6-28", linkType: LinkTypeNull, frame: cat(nullHeader(28, binary.BigEndian), udpIPv6)},
		{name: "null-le/ipv6-30", linkType: LinkTypeNull, frame: cat(nullHeader(30, binary.LittleEndian), udpIPv6)},
		{name: "loop-be/ipv4", linkType: LinkTypeLoop, frame: cat(nullHeader(2, binary.BigEndian), tcpIPv4)},
		{name: "loop-be/ipv6-30", linkType: LinkTypeLoop, frame: cat(nullHeader(30, binary.BigEndian), udpIPv6)},
		{name: "loopback-serialized", linkType: LinkTypeNull, frame: serialize(t, &layers.Loopback{Family: layers.ProtocolFamilyIPv4}, ipv4(layers.IPProtocolUDP), udp(5353, 53), gopacket.Payload(dnsQ))},
		{name: "eth/ipv4/udp-with-fcs-trailer", linkType: LinkTypeEthernet, frame: cat(serialize(t, eth(layers.EthernetTypeIPv4), ipv4(layers.IPProtocolUDP), udp(5353, 53), gopacket.Payload(dnsQ)), []byte{0xde, 0xad, 0xbe, 0xef})},
	}, encapFrames(t)...)
}

func TestDecodeAgainstGopacket(t *testing.T) {
	for _, c := range goodFrames(t) {
		t.Run(c.name, func(t *testing.T) {
			var p Packet
			if err := Decode(c.linkType, c.frame, &p); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			of := c.frame
			if c.oracleFrame != nil {
				of = c.oracleFrame
			}
			e := oracle(c.linkType, of)
			if !e.transportOK || e.truncated {
				t.Fatalf("gopacket did not decode the test frame cleanly: %+v", e)
			}
			compare(t, c.name, &p, e)
			if p.Encapsulated != c.encap {
				t.Errorf("%d encapsulations removed, want %d", p.Encapsulated, c.encap)
			}
			if p.Frag.IsFragment {
				t.Errorf("not a fragment, got %+v", p.Frag)
			}
			// Sanity: the built payload is really what we get.
			if p.Proto == ProtoUDP && len(p.Payload) > 1 && !bytes.Equal(p.Payload, dnsQ) {
				t.Errorf("udp payload %q, built %q", p.Payload, dnsQ)
			}
			if p.Proto == ProtoTCP && len(p.Payload) > 0 && !bytes.Equal(p.Payload, tcpPL) {
				t.Errorf("tcp payload %q, built %q", p.Payload, tcpPL)
			}
		})
	}
}

func TestDecodeExactFields(t *testing.T) {
	frame := serialize(t, eth(layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 5, Type: layers.EthernetTypeIPv4},
		ipv4(layers.IPProtocolTCP), tcp(), gopacket.Payload(tcpPL))
	var p Packet
	if err := Decode(LinkTypeEthernet, frame, &p); err != nil {
		t.Fatal(err)
	}
	want := Packet{
		Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("198.51.100.53"),
		SrcPort: 40000, DstPort: 53, Proto: ProtoTCP, TCPSeq: 0xDEADBEEF, TCPFlags: TCPFlagPSH | TCPFlagACK,
	}
	got := p
	got.Payload = nil
	if got.Src != want.Src || got.Dst != want.Dst || got.SrcPort != want.SrcPort || got.DstPort != want.DstPort ||
		got.Proto != want.Proto || got.TCPSeq != want.TCPSeq || got.TCPFlags != want.TCPFlags || !sameFrag(got.Frag, want.Frag) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if !bytes.Equal(p.Payload, tcpPL) {
		t.Errorf("payload %q", p.Payload)
	}
}

func TestIPv4TotalLengthZero(t *testing.T) {
	frame := serialize(t, eth(layers.EthernetTypeIPv4), ipv4(layers.IPProtocolUDP), udp(1, 53), gopacket.Payload(dnsQ))
	binary.BigEndian.PutUint16(frame[14+2:], 0) // TSO: total length 0
	binary.BigEndian.PutUint16(frame[14+20+4:], 0)
	var p Packet
	if err := Decode(LinkTypeEthernet, frame, &p); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p.Payload, dnsQ) {
		t.Errorf("payload %q", p.Payload)
	}
	compare(t, "tso", &p, oracle(LinkTypeEthernet, frame))
}

// TestFragmentData checks Fragment.Data: the IP payload of every fragment,
// trimmed by the IP length (not the Ethernet padding), transport header
// included, and nil for a datagram that is not fragmented.
func TestFragmentData(t *testing.T) {
	udpBytes := rawUDP(1234, 53, bytes.Repeat([]byte("B"), 40))
	var p Packet
	// A short non-first fragment in a frame padded to the Ethernet minimum.
	last := ipv4(layers.IPProtocolUDP)
	last.Id = 7
	last.FragOffset = 5 // 40 bytes
	frame := serialize(t, eth(layers.EthernetTypeIPv4), last, gopacket.Payload(udpBytes[40:]))
	frame = append(frame, make([]byte, 60-len(frame))...)
	if err := Decode(LinkTypeEthernet, frame, &p); err != ErrFragment || !bytes.Equal(p.Frag.Data, udpBytes[40:]) ||
		&p.Frag.Data[0] != &frame[14+20] {
		t.Fatalf("padded last fragment: %v data %x", err, p.Frag.Data)
	}
	// A first fragment: Data starts with the UDP header that Payload skips.
	first := ipv4(layers.IPProtocolUDP)
	first.Id = 7
	first.Flags = layers.IPv4MoreFragments
	frame = serialize(t, eth(layers.EthernetTypeIPv4), first, gopacket.Payload(udpBytes[:40]))
	if err := Decode(LinkTypeEthernet, frame, &p); err != nil || !bytes.Equal(p.Frag.Data, udpBytes[:40]) ||
		!bytes.Equal(p.Payload, udpBytes[8:40]) {
		t.Fatalf("first fragment: %v data %x payload %x", err, p.Frag.Data, p.Payload)
	}
	// Not a fragment: no Data.
	whole := serialize(t, eth(layers.EthernetTypeIPv4), ipv4(layers.IPProtocolUDP), gopacket.Payload(udpBytes))
	if err := Decode(LinkTypeEthernet, whole, &p); err != nil || p.Frag.Data != nil {
		t.Fatalf("whole datagram: %v %+v", err, p.Frag)
	}
}

func TestFragments(t *testing.T) {
	// IPv4 first fragment: MF set, offset 0, the UDP header is present but
	// its length covers the whole datagram.
	first := ipv4(layers.IPProtocolUDP)
	first.Flags = layers.IPv4MoreFragments
	first.Id = 0xBEEF
	udpBytes := rawUDP(1234, 53, bytes.Repeat([]byte("A"), 100))
	f1 := serialize(t, eth(layers.EthernetTypeIPv4), first, gopacket.Payload(udpBytes[:48]))
	var p Packet
	if err := Decode(LinkTypeEthernet, f1, &p); err != nil {
		t.Fatalf("first fragment: %v", err)
	}
	wantFrag := Fragment{IsFragment: true, ID: 0xBEEF, Offset: 0, More: true, Proto: ProtoUDP, Data: udpBytes[:48]}
	if !sameFrag(p.Frag, wantFrag) || p.SrcPort != 1234 || p.DstPort != 53 || p.Proto != ProtoUDP || !bytes.Equal(p.Payload, udpBytes[8:48]) {
		t.Errorf("first fragment: %+v", p)
	}
	// gopacket agrees on the fragment fields.
	g := gopacket.NewPacket(f1, layers.LayerTypeEthernet, gopacket.Default)
	gip := g.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	if uint32(gip.Id) != p.Frag.ID || uint32(gip.FragOffset)*8 != p.Frag.Offset || g.Layer(layers.LayerTypeUDP) != nil {
		t.Errorf("gopacket fragment view differs: id %d off %d", gip.Id, gip.FragOffset)
	}

	// IPv4 non-first fragment.
	second := ipv4(layers.IPProtocolUDP)
	second.Id = 0xBEEF
	second.FragOffset = 6 // 48 bytes
	f2 := serialize(t, eth(layers.EthernetTypeIPv4), second, gopacket.Payload(udpBytes[48:]))
	if err := Decode(LinkTypeEthernet, f2, &p); err != ErrFragment {
		t.Fatalf("second fragment: %v", err)
	}
	wantFrag = Fragment{IsFragment: true, ID: 0xBEEF, Offset: 48, More: false, Proto: ProtoUDP, Data: udpBytes[48:]}
	if !sameFrag(p.Frag, wantFrag) || p.SrcPort != 0 || p.Proto != ProtoUDP || !bytes.Equal(p.Payload, udpBytes[48:]) ||
		p.Src != netip.MustParseAddr("192.0.2.1") {
		t.Errorf("second fragment: %+v", p)
	}

	// IPv4 first fragment too short for the UDP header.
	tiny := serialize(t, eth(layers.EthernetTypeIPv4), first, gopacket.Payload(udpBytes[:4]))
	if err := Decode(LinkTypeEthernet, tiny, &p); err != ErrFragment || !bytes.Equal(p.Payload, udpBytes[:4]) || p.Proto != ProtoUDP ||
		!bytes.Equal(p.Frag.Data, udpBytes[:4]) {
		t.Errorf("tiny first fragment: %v %+v", err, p)
	}

	// IPv4 ICMP fragment.
	icmpFrag := ipv4(layers.IPProtocolICMPv4)
	icmpFrag.Flags = layers.IPv4MoreFragments
	if err := Decode(LinkTypeEthernet, serialize(t, eth(layers.EthernetTypeIPv4), icmpFrag, gopacket.Payload(make([]byte, 16))), &p); err != ErrNotTransport {
		t.Errorf("icmp first fragment: %v", err)
	}

	// IPv6 first fragment, with a destination options header after the
	// fragment header.
	fragHdr := func(next byte, offset uint16, more bool, id uint32) []byte {
		b := make([]byte, 8)
		b[0] = next
		v := offset
		if more {
			v |= 1
		}
		binary.BigEndian.PutUint16(b[2:], v)
		binary.BigEndian.PutUint32(b[4:], id)
		return b
	}
	v6first := ip6Frame(t, 44, cat(fragHdr(60, 0, true, 0xCAFEBABE), extHdr(17, 1), udpBytes[:40]))
	if err := Decode(LinkTypeEthernet, v6first, &p); err != nil {
		t.Fatalf("ipv6 first fragment: %v", err)
	}
	wantFrag = Fragment{IsFragment: true, ID: 0xCAFEBABE, Offset: 0, More: true, Proto: 60, Data: cat(extHdr(17, 1), udpBytes[:40])}
	if !sameFrag(p.Frag, wantFrag) || p.SrcPort != 1234 || p.DstPort != 53 || p.Proto != ProtoUDP || !bytes.Equal(p.Payload, udpBytes[8:40]) {
		t.Errorf("ipv6 first fragment: %+v", p)
	}
	g = gopacket.NewPacket(v6first, layers.LayerTypeEthernet, gopacket.Default)
	if gf, ok := g.Layer(layers.LayerTypeIPv6Fragment).(*layers.IPv6Fragment); !ok || gf.Identification != p.Frag.ID || !gf.MoreFragments {
		t.Errorf("gopacket ipv6 fragment view: %v", g)
	}

	v6second := ip6Frame(t, 44, cat(fragHdr(17, 48, false, 0xCAFEBABE), udpBytes[48:]))
	if err := Decode(LinkTypeEthernet, v6second, &p); err != ErrFragment {
		t.Fatalf("ipv6 second fragment: %v", err)
	}
	wantFrag = Fragment{IsFragment: true, ID: 0xCAFEBABE, Offset: 48, More: false, Proto: ProtoUDP, Data: udpBytes[48:]}
	if !sameFrag(p.Frag, wantFrag) || p.Proto != ProtoUDP || !bytes.Equal(p.Payload, udpBytes[48:]) || p.Dst != netip.MustParseAddr("2001:db8:ffff::53") {
		t.Errorf("ipv6 second fragment: %+v", p)
	}
	g = gopacket.NewPacket(v6second, layers.LayerTypeEthernet, gopacket.Default)
	if gf, ok := g.Layer(layers.LayerTypeIPv6Fragment).(*layers.IPv6Fragment); !ok || uint32(gf.FragmentOffset)*8 != p.Frag.Offset {
		t.Errorf("gopacket ipv6 fragment view: %v", g)
	}

	// Atomic fragment (RFC 6946): offset 0 and M clear is a whole datagram.
	atomic := ip6Frame(t, 44, cat(fragHdr(17, 0, false, 1), rawUDP(7, 53, dnsQ)))
	if err := Decode(LinkTypeEthernet, atomic, &p); err != nil || p.Frag.IsFragment || !bytes.Equal(p.Payload, dnsQ) {
		t.Errorf("atomic fragment: %v %+v", err, p)
	}
}

// sameFrag compares two Fragment values field by field, Data by content.
func sameFrag(a, b Fragment) bool {
	return a.IsFragment == b.IsFragment && a.ID == b.ID && a.Offset == b.Offset && a.More == b.More &&
		a.Proto == b.Proto && bytes.Equal(a.Data, b.Data) && (a.Data == nil) == (b.Data == nil)
}

func TestErrorsAreComparable(t *testing.T) {
	for _, e := range []error{ErrTruncatedLink, ErrTruncatedIPv4, ErrTruncatedIPv6, ErrTruncatedUDP, ErrTruncatedTCP} {
		if !errors.Is(e, ErrTruncated) {
			t.Errorf("%v is not ErrTruncated", e)
		}
		if errors.Is(e, ErrNotIP) || errors.Is(ErrTruncated, e) {
			t.Errorf("%v matches too much", e)
		}
	}
	for _, e := range []error{ErrUnsupportedLinkType, ErrNotIP, ErrBadIPHeader, ErrBadTransportHeader, ErrNotTransport, ErrFragment} {
		if errors.Is(e, ErrTruncated) {
			t.Errorf("%v should not be ErrTruncated", e)
		}
	}
}

func TestBadFrames(t *testing.T) {
	v4 := serialize(t, ipv4(layers.IPProtocolUDP), udp(5353, 53), gopacket.Payload(dnsQ))
	v6 := serialize(t, ipv6(layers.IPProtocolUDP), udp(5353, 53), gopacket.Payload(dnsQ))
	tcp4 := serialize(t, ipv4(layers.IPProtocolTCP), tcp(), gopacket.Payload(tcpPL))
	ethHdr := func(et uint16) []byte {
		b := make([]byte, 14)
		copy(b, mac2)
		copy(b[6:], mac1)
		binary.BigEndian.PutUint16(b[12:], et)
		return b
	}
	mod := func(b []byte, f func([]byte)) []byte {
		c := append([]byte(nil), b...)
		f(c)
		return c
	}
	// v4 header: 20 bytes; UDP header at 20.
	cases := []struct {
		name string
		lt   uint16
		f    []byte
		want error
	}{
		{"unknown link type", 9999, v4, ErrUnsupportedLinkType},
		{"unknown link type (USER0)", 147, v4, ErrUnsupportedLinkType},
		{"empty ethernet", LinkTypeEthernet, nil, ErrTruncatedLink},
		{"13-byte ethernet", LinkTypeEthernet, ethHdr(0x0800)[:13], ErrTruncatedLink},
		{"ethernet header only", LinkTypeEthernet, ethHdr(0x0800), ErrTruncatedIPv4},
		{"arp", LinkTypeEthernet, cat(ethHdr(0x0806), make([]byte, 28)), ErrNotIP},
		{"lldp", LinkTypeEthernet, cat(ethHdr(0x88CC), make([]byte, 46)), ErrNotIP},
		{"vlan arp", LinkTypeEthernet, cat(ethHdr(0x8100), []byte{0, 1, 0x08, 0x06}, make([]byte, 28)), ErrNotIP},
		{"cut vlan tag", LinkTypeEthernet, cat(ethHdr(0x8100), []byte{0, 1, 0x08}), ErrTruncatedLink},
		{"stp llc", LinkTypeEthernet, cat(ethHdr(38), []byte{0x42, 0x42, 0x03}, make([]byte, 35)), ErrNotIP},
		{"snap non-zero oui", LinkTypeEthernet, cat(ethHdr(46), []byte{0xAA, 0xAA, 0x03, 0x00, 0x00, 0x0c, 0x08, 0x00}, v4), ErrNotIP},
		{"snap control not UI", LinkTypeEthernet, cat(ethHdr(46), []byte{0xAA, 0xAA, 0x37, 0x00, 0x00, 0x00, 0x08, 0x00}, v4), ErrNotIP},
		{"snap carrying a length", LinkTypeEthernet, cat(ethHdr(46), []byte{0xAA, 0xAA, 0x03, 0x00, 0x00, 0x00, 0x00, 0x40}, v4), ErrNotIP},
		{"snap 802.1H ipv6", LinkTypeEthernet, cat(ethHdr(46), []byte{0xAA, 0xAA, 0x03, 0x00, 0x00, 0xF8, 0x86, 0xDD}, v6[:39]), ErrTruncatedIPv6},
		{"cut snap", LinkTypeEthernet, cat(ethHdr(46), []byte{0xAA, 0xAA, 0x03, 0x00}), ErrTruncatedLink},
		{"cut llc", LinkTypeEthernet, cat(ethHdr(46), []byte{0xAA}), ErrTruncatedLink},
		{"ipv4 19 bytes", LinkTypeIPv4, v4[:19], ErrTruncatedIPv4},
		{"ipv4 version 5", LinkTypeIPv4, mod(v4, func(b []byte) { b[0] = 0x55 }), ErrBadIPHeader},
		{"ipv4 version 6 on ethertype 0800", LinkTypeEthernet, cat(ethHdr(0x0800), v6), ErrBadIPHeader},
		{"ipv4 ihl 4", LinkTypeIPv4, mod(v4, func(b []byte) { b[0] = 0x44 }), ErrBadIPHeader},
		{"ipv4 total length 10", LinkTypeIPv4, mod(v4, func(b []byte) { b[3] = 10; b[2] = 0 }), ErrBadIPHeader},
		{"ipv4 total < ihl", LinkTypeIPv4, mod(v4, func(b []byte) { b[0] = 0x4F; b[2] = 0; b[3] = 40 }), ErrBadIPHeader},
		{"ipv4 options past frame", LinkTypeIPv4, mod(v4[:40], func(b []byte) { b[0] = 0x4F; b[2] = 0; b[3] = 100 }), ErrTruncatedIPv4},
		{"ipv4 total length past frame", LinkTypeIPv4, mod(v4, func(b []byte) { b[2] = 0x10 }), ErrTruncatedIPv4},
		{"ipv4 icmp", LinkTypeIPv4, mod(v4, func(b []byte) { b[9] = 1 }), ErrNotTransport},
		{"ipv4 gre", LinkTypeIPv4, mod(v4, func(b []byte) { b[9] = 47 }), ErrNotTransport},
		{"ipv4 udp 7 bytes", LinkTypeIPv4, mod(v4[:27], func(b []byte) { b[3] = 27 }), ErrTruncatedUDP},
		{"udp length 5", LinkTypeIPv4, mod(v4, func(b []byte) { b[24] = 0; b[25] = 5 }), ErrBadTransportHeader},
		{"udp length past ip payload", LinkTypeIPv4, mod(v4, func(b []byte) { b[24] = 0x10 }), ErrTruncatedUDP},
		{"tcp 19 bytes", LinkTypeIPv4, mod(tcp4[:39], func(b []byte) { b[3] = 39 }), ErrTruncatedTCP},
		{"tcp data offset 4", LinkTypeIPv4, mod(tcp4, func(b []byte) { b[32] = 0x40 }), ErrBadTransportHeader},
		{"tcp options past segment", LinkTypeIPv4, mod(tcp4[:50], func(b []byte) { b[3] = 50; b[32] = 0xF0 }), ErrTruncatedTCP},
		{"ipv6 39 bytes", LinkTypeIPv6, v6[:39], ErrTruncatedIPv6},
		{"ipv6 version 4", LinkTypeIPv6, mod(v6, func(b []byte) { b[0] = 0x40 }), ErrBadIPHeader},
		{"ipv6 payload length past frame", LinkTypeIPv6, mod(v6, func(b []byte) { b[4] = 0x10 }), ErrTruncatedIPv6},
		{"ipv6 icmpv6", LinkTypeIPv6, mod(v6, func(b []byte) { b[6] = 58 }), ErrNotTransport},
		{"ipv6 esp", LinkTypeIPv6, mod(v6, func(b []byte) { b[6] = 50 }), ErrNotTransport},
		{"ipv6 no next header", LinkTypeIPv6, mod(v6, func(b []byte) { b[6] = 59 }), ErrNotTransport},
		{"ipv6 hbh cut", LinkTypeIPv6, mod(v6[:46], func(b []byte) { b[6] = 0; b[4] = 0; b[5] = 6 }), ErrTruncatedIPv6},
		{"ipv6 hbh longer than payload", LinkTypeIPv6, mod(v6, func(b []byte) { b[6] = 0; b[41] = 200 }), ErrTruncatedIPv6},
		{"ipv6 ah longer than payload", LinkTypeIPv6, mod(v6, func(b []byte) { b[6] = 51; b[41] = 200 }), ErrTruncatedIPv6},
		{"ipv6 fragment header cut", LinkTypeIPv6, mod(v6[:44], func(b []byte) { b[6] = 44; b[4] = 0; b[5] = 4 }), ErrTruncatedIPv6},
		{"ipv6 udp cut", LinkTypeIPv6, mod(v6[:44], func(b []byte) { b[4] = 0; b[5] = 4 }), ErrTruncatedUDP},
		{"raw empty", LinkTypeRaw, nil, ErrTruncatedLink},
		{"raw version 5", LinkTypeRaw, mod(v4, func(b []byte) { b[0] = 0x55 }), ErrBadIPHeader},
		{"raw ipv4 type given ipv6", LinkTypeIPv4, v6, ErrBadIPHeader},
		{"raw ipv6 type given ipv4", LinkTypeIPv6, cat(v4, make([]byte, 20)), ErrBadIPHeader},
		{"null 3 bytes", LinkTypeNull, []byte{2, 0, 0}, ErrTruncatedLink},
		{"null family 7", LinkTypeNull, cat(nullHeader(7, binary.LittleEndian), v4), ErrNotIP},
		{"null family 10 (linux af_inet6)", LinkTypeNull, cat(nullHeader(10, binary.LittleEndian), v6), ErrNotIP},
		{"null family huge", LinkTypeNull, cat([]byte{0, 2, 0, 2}, v4), ErrNotIP},
		{"loop family 2 with ipv6 inside", LinkTypeLoop, cat(nullHeader(2, binary.BigEndian), v6), ErrBadIPHeader},
		{"sll 15 bytes", LinkTypeLinuxSLL, sllHeader(0x0800)[:15], ErrTruncatedLink},
		{"sll arp", LinkTypeLinuxSLL, cat(sllHeader(0x0806), make([]byte, 28)), ErrNotIP},
		{"sll 802.2 protocol", LinkTypeLinuxSLL, cat(sllHeader(0x0004), make([]byte, 28)), ErrNotIP},
		{"sll2 19 bytes", LinkTypeLinuxSLL2, sll2Header(0x0800)[:19], ErrTruncatedLink},
		{"sll2 header only", LinkTypeLinuxSLL2, sll2Header(0x86DD), ErrTruncatedIPv6},
		{"sll2 lldp", LinkTypeLinuxSLL2, cat(sll2Header(0x88CC), make([]byte, 28)), ErrNotIP},
	}
	for _, c := range cases {
		var p Packet
		p.SrcPort = 99 // must be reset
		err := Decode(c.lt, c.f, &p)
		if err != c.want {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
		if c.want != ErrTruncatedIPv4 && c.want != ErrTruncatedIPv6 && c.want != ErrTruncatedUDP && p.SrcPort == 99 {
			t.Errorf("%s: packet not reset", c.name)
		}
	}
}

// A length field that promises more than was captured still yields the
// captured payload, with the precise truncation error.
func TestTruncatedPayloadStillFilled(t *testing.T) {
	v4 := serialize(t, ipv4(layers.IPProtocolUDP), udp(5353, 53), gopacket.Payload(dnsQ))
	cut := v4[:len(v4)-5]
	var p Packet
	if err := Decode(LinkTypeIPv4, cut, &p); err != ErrTruncatedIPv4 {
		t.Fatalf("got %v", err)
	}
	if p.SrcPort != 5353 || p.DstPort != 53 || !bytes.Equal(p.Payload, dnsQ[:len(dnsQ)-5]) {
		t.Errorf("partial packet: %+v", p)
	}
	e := oracle(LinkTypeIPv4, cut)
	if !e.truncated {
		t.Errorf("gopacket should flag truncation")
	}
	compare(t, "snaplen", &p, e)

	v6 := serialize(t, ipv6(layers.IPProtocolUDP), udp(5353, 53), gopacket.Payload(dnsQ))
	if err := Decode(LinkTypeIPv6, v6[:len(v6)-1], &p); err != ErrTruncatedIPv6 || !bytes.Equal(p.Payload, dnsQ[:len(dnsQ)-1]) {
		t.Errorf("ipv6 partial: %v %+v", err, p)
	}
	// UDP length larger than the (complete) IP datagram.
	bad := append([]byte(nil), v4...)
	binary.BigEndian.PutUint16(bad[24:], uint16(8+len(dnsQ)+10))
	if err := Decode(LinkTypeIPv4, bad, &p); err != ErrTruncatedUDP || !bytes.Equal(p.Payload, dnsQ) {
		t.Errorf("udp partial: %v %+v", err, p)
	}
	// UDP length 0 (jumbogram / offload): the IP length delimits the data.
	zero := append([]byte(nil), v4...)
	binary.BigEndian.PutUint16(zero[24:], 0)
	if err := Decode(LinkTypeIPv4, zero, &p); err != nil || !bytes.Equal(p.Payload, dnsQ) {
		t.Errorf("udp length 0: %v %+v", err, p)
	}
	compare(t, "udp length 0", &p, oracle(LinkTypeIPv4, zero))
}

func TestZeroAllocs(t *testing.T) {
	frames := goodFrames(t)
	var p Packet
	allocs := testing.AllocsPerRun(200, func() {
		for _, c := range frames {
			_ = Decode(c.linkType, c.frame, &p)
		}
		_ = Decode(LinkTypeEthernet, frames[0].frame[:20], &p)
		_ = Decode(9999, nil, &p)
	})
	if allocs != 0 {
		t.Fatalf("Decode allocates %v times per run, want 0", allocs)
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, name := range []string{"eth/ipv4/udp", "eth/dot1q/ipv4/tcp", "eth/ipv6/hbh/dest/udp", "sll2/ipv6/udp"} {
		var c frameCase
		for _, fc := range goodFrames(b) {
			if fc.name == name {
				c = fc
			}
		}
		b.Run(name, func(b *testing.B) {
			var p Packet
			b.ReportAllocs()
			b.SetBytes(int64(len(c.frame)))
			for b.Loop() {
				if err := Decode(c.linkType, c.frame, &p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
