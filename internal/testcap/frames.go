package testcap

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// TCP flag bits of the TCP header's flags byte (RFC 9293 section 3.1).
const (
	TCPFin uint8 = 0x01
	TCPSyn uint8 = 0x02
	TCPRst uint8 = 0x04
	TCPPsh uint8 = 0x08
	TCPAck uint8 = 0x10
	TCPUrg uint8 = 0x20
	TCPEce uint8 = 0x40
	TCPCwr uint8 = 0x80
)

var serializeOpts = gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}

// ipVersion returns 4 or 6 for a pair of addresses of the same family and
// panics otherwise.
func ipVersion(src, dst netip.Addr) int {
	switch {
	case src.Is4() && dst.Is4():
		return 4
	case src.Is6() && dst.Is6():
		return 6
	}
	panic(fmt.Sprintf("testcap: address family mismatch or invalid address: %v -> %v", src, dst))
}

// checkLink panics if link cannot carry an IP packet of version v.
func checkLink(link Link, v int) {
	_ = link.HeaderLen() // panics on an unsupported Link
	if (link == RawIPv4 && v != 4) || (link == RawIPv6 && v != 6) {
		panic(fmt.Sprintf("testcap: %v cannot carry IPv%d", link, v))
	}
}

func etherTypeOf(v int) layers.EthernetType {
	if v == 4 {
		return layers.EthernetTypeIPv4
	}
	return layers.EthernetTypeIPv6
}

// frame serializes the link layer selected by link followed by inner (the
// network layer and everything above it).
func frame(link Link, c *config, etherType layers.EthernetType, inner ...gopacket.SerializableLayer) []byte {
	var ls []gopacket.SerializableLayer
	if link.IsEthernet() {
		eth := &layers.Ethernet{SrcMAC: c.srcMAC, DstMAC: c.dstMAC, EthernetType: etherType}
		switch link {
		case EthernetVLAN:
			eth.EthernetType = layers.EthernetTypeDot1Q
			ls = append(ls, eth, &layers.Dot1Q{VLANIdentifier: c.vlan, Type: etherType})
		case EthernetQinQ:
			// IEEE 802.1ad service tag (TPID 0x88a8) then customer tag.
			eth.EthernetType = layers.EthernetTypeQinQ
			ls = append(ls, eth,
				&layers.Dot1Q{VLANIdentifier: c.outerVLAN, Type: layers.EthernetTypeDot1Q},
				&layers.Dot1Q{VLANIdentifier: c.vlan, Type: etherType})
		default:
			ls = append(ls, eth)
		}
	}
	ls = append(ls, inner...)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, serializeOpts, ls...); err != nil {
		panic(fmt.Sprintf("testcap: serialize %v frame: %v", link, err))
	}
	out := buf.Bytes()
	if link.IsEthernet() || link.HeaderLen() == 0 {
		return append([]byte(nil), out...)
	}
	h := cookedHeader(link, etherType, c)
	return append(h, out...)
}

// hopByHopLayer is an 8-byte Hop-by-Hop header holding a Router Alert option
// (RFC 2711: type 5, length 2, value 0, alignment 2n+0) and a 2-byte PadN
// (RFC 8200 section 4.2). The padding is explicit because gopacket's
// automatic padding only works when the options end 4 bytes short of a
// multiple of 8.
func hopByHopLayer(next layers.IPProtocol) *layers.IPv6HopByHop {
	h := &layers.IPv6HopByHop{Options: []*layers.IPv6HopByHopOption{
		{OptionType: 5, OptionData: []byte{0, 0}, OptionAlignment: [2]uint8{2, 0}},
		{OptionType: 1, OptionData: []byte{}},
	}}
	h.NextHeader = next
	return h
}

// destOptsLayer is an 8-byte Destination Options header holding one
// experimental option (type 0x1e, RFC 4727; its top two bits 00 mean
// "skip if unknown", RFC 8200 section 4.2) with 4 data bytes.
func destOptsLayer(next layers.IPProtocol) *layers.IPv6Destination {
	d := &layers.IPv6Destination{Options: []*layers.IPv6DestinationOption{{
		OptionType: 0x1e, OptionData: []byte{0xde, 0xad, 0xbe, 0xef},
	}}}
	d.NextHeader = next
	return d
}

// ipLayers returns the network layer (for checksums) and the header layers
// (IP header plus IPv6 extension headers) that carry protocol proto.
func ipLayers(c *config, src, dst netip.Addr, proto layers.IPProtocol) (gopacket.NetworkLayer, []gopacket.SerializableLayer) {
	if ipVersion(src, dst) == 4 {
		ip := &layers.IPv4{
			Version: 4, TTL: c.ttl, Id: c.ipID, Protocol: proto,
			SrcIP: src.AsSlice(), DstIP: dst.AsSlice(), Options: c.ipv4Options,
		}
		if c.dontFragment {
			ip.Flags = layers.IPv4DontFragment
		}
		return ip, []gopacket.SerializableLayer{ip}
	}
	ip := &layers.IPv6{Version: 6, HopLimit: c.ttl, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
	hdrs := []gopacket.SerializableLayer{ip}
	// RFC 8200 section 4.1 order: Hop-by-Hop, then Destination Options
	// (for the final destination) just before the upper-layer header.
	next := proto
	var dest *layers.IPv6Destination
	if c.destOpts {
		dest = destOptsLayer(next)
		next = layers.IPProtocolIPv6Destination
	}
	if c.hopByHop {
		hdrs = append(hdrs, hopByHopLayer(next))
		next = layers.IPProtocolIPv6HopByHop
	}
	if dest != nil {
		hdrs = append(hdrs, dest)
	}
	ip.NextHeader = next
	return ip, hdrs
}

// zeroChecksumUDP serializes a UDP header with checksum 0.
type zeroChecksumUDP struct{ *layers.UDP }

func (z zeroChecksumUDP) SerializeTo(b gopacket.SerializeBuffer, opts gopacket.SerializeOptions) error {
	opts.ComputeChecksums = false
	z.Checksum = 0
	return z.UDP.SerializeTo(b, opts)
}

func udpLayer(c *config, nl gopacket.NetworkLayer, src, dst netip.AddrPort) gopacket.SerializableLayer {
	u := &layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
	if err := u.SetNetworkLayerForChecksum(nl); err != nil {
		panic(err)
	}
	if c.zeroUDPChecksum && src.Addr().Is4() {
		return zeroChecksumUDP{u}
	}
	return u
}

// UDP returns one frame carrying a UDP datagram from src to dst with the
// given payload, over IPv4 or IPv6 depending on the addresses.
func UDP(link Link, src, dst netip.AddrPort, payload []byte, opts ...Option) []byte {
	c := newConfig(opts)
	v := ipVersion(src.Addr(), dst.Addr())
	checkLink(link, v)
	nl, hdrs := ipLayers(c, src.Addr(), dst.Addr(), layers.IPProtocolUDP)
	ls := append(hdrs, udpLayer(c, nl, src, dst), gopacket.Payload(payload))
	return frame(link, c, etherTypeOf(v), ls...)
}

// TCP returns one frame carrying a TCP segment with the given sequence
// number, flags (TCPSyn|TCPAck, ...) and payload. The acknowledgment number
// comes from WithAck, the window from WithWindow.
func TCP(link Link, src, dst netip.AddrPort, seq uint32, flags uint8, payload []byte, opts ...Option) []byte {
	c := newConfig(opts)
	v := ipVersion(src.Addr(), dst.Addr())
	checkLink(link, v)
	nl, hdrs := ipLayers(c, src.Addr(), dst.Addr(), layers.IPProtocolTCP)
	t := &layers.TCP{
		SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()),
		Seq: seq, Ack: c.ack, Window: c.window,
		FIN: flags&TCPFin != 0, SYN: flags&TCPSyn != 0, RST: flags&TCPRst != 0,
		PSH: flags&TCPPsh != 0, ACK: flags&TCPAck != 0, URG: flags&TCPUrg != 0,
		ECE: flags&TCPEce != 0, CWR: flags&TCPCwr != 0,
	}
	if err := t.SetNetworkLayerForChecksum(nl); err != nil {
		panic(err)
	}
	ls := append(hdrs, t, gopacket.Payload(payload))
	return frame(link, c, etherTypeOf(v), ls...)
}

// IP returns one frame carrying an IP packet of protocol proto whose payload
// is given verbatim (no transport header is built), for protocols the other
// builders do not cover.
func IP(link Link, src, dst netip.Addr, proto uint8, payload []byte, opts ...Option) []byte {
	c := newConfig(opts)
	v := ipVersion(src, dst)
	checkLink(link, v)
	_, hdrs := ipLayers(c, src, dst, layers.IPProtocol(proto))
	ls := append(hdrs, gopacket.Payload(payload))
	return frame(link, c, etherTypeOf(v), ls...)
}

// UDPDatagram returns the UDP header and payload (with the checksum computed
// over the IPv4 or IPv6 pseudo-header of src and dst) as it would appear
// after the IP header. It is the byte string that the fragment builders
// split and that a reassembler must give back.
func UDPDatagram(src, dst netip.AddrPort, payload []byte, opts ...Option) []byte {
	c := newConfig(opts)
	nl, _ := ipLayers(c, src.Addr(), dst.Addr(), layers.IPProtocolUDP)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, serializeOpts, udpLayer(c, nl, src, dst), gopacket.Payload(payload)); err != nil {
		panic(fmt.Sprintf("testcap: serialize UDP: %v", err))
	}
	return append([]byte(nil), buf.Bytes()...)
}

// fragChunks splits data into pieces of at most fragSize bytes rounded down
// to a multiple of 8 (fragment offsets count 8-byte units, RFC 791 and
// RFC 8200 section 4.5).
func fragChunks(data []byte, fragSize int) [][]byte {
	step := fragSize &^ 7
	if step < 8 {
		panic(fmt.Sprintf("testcap: fragment size %d is below 8", fragSize))
	}
	var out [][]byte
	for off := 0; off < len(data) || off == 0; off += step {
		end := min(off+step, len(data))
		out = append(out, data[off:end])
		if end == len(data) {
			break
		}
	}
	return out
}

// IPv4Fragments returns the frames of one UDP datagram (UDPDatagram) split
// into IPv4 fragments of at most fragSize payload bytes each (rounded down
// to a multiple of 8, at least 8), in offset order. All fragments share the
// identification of WithIPID; IPv4 options, if any, are copied into every
// fragment. A datagram that fits in one fragment gives one unfragmented
// frame.
func IPv4Fragments(link Link, src, dst netip.AddrPort, udpPayload []byte, fragSize int, opts ...Option) [][]byte {
	c := newConfig(opts)
	if ipVersion(src.Addr(), dst.Addr()) != 4 {
		panic("testcap: IPv4Fragments needs IPv4 addresses")
	}
	checkLink(link, 4)
	dgram := UDPDatagram(src, dst, udpPayload, opts...)
	chunks := fragChunks(dgram, fragSize)
	var out [][]byte
	off := 0
	for i, ch := range chunks {
		ip := &layers.IPv4{
			Version: 4, TTL: c.ttl, Id: c.ipID, Protocol: layers.IPProtocolUDP,
			SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice(), Options: c.ipv4Options,
			FragOffset: uint16(off / 8),
		}
		if i < len(chunks)-1 {
			ip.Flags = layers.IPv4MoreFragments
		}
		out = append(out, frame(link, c, layers.EthernetTypeIPv4, ip, gopacket.Payload(ch)))
		off += len(ch)
	}
	return out
}

// IPv6Fragments returns the frames of one UDP datagram split into IPv6
// fragments (RFC 8200 section 4.5) of at most fragSize bytes of the
// fragmentable part each (rounded down to a multiple of 8, at least 8), in
// offset order, with the identification of WithFragmentID. WithHopByHop puts
// a Hop-by-Hop header in the unfragmentable part of every fragment;
// WithDestinationOptions puts a Destination Options header at the start of
// the fragmentable part, so only the first fragment has it. A fragment
// header is written even when the datagram fits in one fragment (an "atomic
// fragment").
func IPv6Fragments(link Link, src, dst netip.AddrPort, udpPayload []byte, fragSize int, opts ...Option) [][]byte {
	c := newConfig(opts)
	if ipVersion(src.Addr(), dst.Addr()) != 6 {
		panic("testcap: IPv6Fragments needs IPv6 addresses")
	}
	checkLink(link, 6)
	fragmentable := IPv6Fragmentable(src, dst, udpPayload, opts...)
	fragNext := layers.IPProtocolUDP
	if c.destOpts {
		fragNext = layers.IPProtocolIPv6Destination
	}
	chunks := fragChunks(fragmentable, fragSize)
	var out [][]byte
	off := 0
	for i, ch := range chunks {
		ip := &layers.IPv6{Version: 6, HopLimit: c.ttl, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice(),
			NextHeader: layers.IPProtocolIPv6Fragment}
		ls := []gopacket.SerializableLayer{ip}
		if c.hopByHop {
			ip.NextHeader = layers.IPProtocolIPv6HopByHop
			ls = append(ls, hopByHopLayer(layers.IPProtocolIPv6Fragment))
		}
		ls = append(ls, &layers.IPv6Fragment{
			NextHeader: fragNext, FragmentOffset: uint16(off / 8),
			MoreFragments: i < len(chunks)-1, Identification: c.fragID,
		}, gopacket.Payload(ch))
		out = append(out, frame(link, c, layers.EthernetTypeIPv6, ls...))
		off += len(ch)
	}
	return out
}

// IPv6Fragmentable returns the fragmentable part that IPv6Fragments splits:
// the Destination Options header (with WithDestinationOptions) followed by
// the UDP header and payload. Reassembling the fragments must give it back.
func IPv6Fragmentable(src, dst netip.AddrPort, udpPayload []byte, opts ...Option) []byte {
	c := newConfig(opts)
	nl, _ := ipLayers(c, src.Addr(), dst.Addr(), layers.IPProtocolUDP)
	var ls []gopacket.SerializableLayer
	if c.destOpts {
		ls = append(ls, destOptsLayer(layers.IPProtocolUDP))
	}
	ls = append(ls, udpLayer(c, nl, src, dst), gopacket.Payload(udpPayload))
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, serializeOpts, ls...); err != nil {
		panic(fmt.Sprintf("testcap: serialize UDP: %v", err))
	}
	return append([]byte(nil), buf.Bytes()...)
}

// ARP returns an ARP request (RFC 826) "who has 192.0.2.2? tell 192.0.2.1"
// from the source MAC address, for the Ethernet and Linux cooked links.
// The other links cannot carry ARP and make it panic.
func ARP(link Link, opts ...Option) []byte {
	c := newConfig(opts)
	if !link.IsEthernet() && link != LinuxSLL && link != LinuxSLL2 {
		panic(fmt.Sprintf("testcap: %v cannot carry ARP", link))
	}
	arp := &layers.ARP{
		AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
		HwAddressSize: 6, ProtAddressSize: 4, Operation: layers.ARPRequest,
		SourceHwAddress: c.srcMAC, SourceProtAddress: []byte{192, 0, 2, 1},
		DstHwAddress: make(net.HardwareAddr, 6), DstProtAddress: []byte{192, 0, 2, 2},
	}
	cc := *c
	if link.IsEthernet() {
		cc.dstMAC = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	}
	return frame(link, &cc, layers.EthernetTypeARP, arp)
}

// ICMPEcho returns an ICMP echo request (ICMPv4 type 8, RFC 792, or ICMPv6
// type 128, RFC 4443) with the given identifier, sequence number and data.
func ICMPEcho(link Link, src, dst netip.Addr, id, seq uint16, data []byte, opts ...Option) []byte {
	c := newConfig(opts)
	v := ipVersion(src, dst)
	checkLink(link, v)
	if v == 4 {
		_, hdrs := ipLayers(c, src, dst, layers.IPProtocolICMPv4)
		icmp := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0), Id: id, Seq: seq}
		return frame(link, c, layers.EthernetTypeIPv4, append(hdrs, icmp, gopacket.Payload(data))...)
	}
	nl, hdrs := ipLayers(c, src, dst, layers.IPProtocolICMPv6)
	icmp := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeEchoRequest, 0)}
	if err := icmp.SetNetworkLayerForChecksum(nl); err != nil {
		panic(err)
	}
	echo := &layers.ICMPv6Echo{Identifier: id, SeqNumber: seq}
	return frame(link, c, layers.EthernetTypeIPv6, append(hdrs, icmp, echo, gopacket.Payload(data))...)
}

// TCPStream returns the DNS-over-TCP byte stream of msgs: each message
// preceded by its 2-byte big-endian length (RFC 1035 section 4.2.2,
// RFC 7766).
func TCPStream(msgs [][]byte) []byte {
	var out []byte
	for _, m := range msgs {
		out = binary.BigEndian.AppendUint16(out, uint16(len(m)))
		out = append(out, m...)
	}
	return out
}

// TCPDNSSegments splits the DNS-over-TCP stream of msgs (TCPStream) into TCP
// segments with PSH|ACK set, the first starting at sequence number seq.
// Segment i carries segSizes[i] bytes; once segSizes is exhausted its last
// size repeats, and an empty segSizes sends the whole stream in one segment.
// A message can thus be split inside its length prefix, or several messages
// share a segment. Sizes must be positive.
func TCPDNSSegments(link Link, src, dst netip.AddrPort, seq uint32, msgs [][]byte, segSizes []int, opts ...Option) [][]byte {
	stream := TCPStream(msgs)
	var out [][]byte
	for i, off := 0, 0; off < len(stream); i++ {
		size := len(stream)
		if len(segSizes) > 0 {
			size = segSizes[min(i, len(segSizes)-1)]
		}
		if size <= 0 {
			panic(fmt.Sprintf("testcap: segment size %d is not positive", size))
		}
		end := min(off+size, len(stream))
		out = append(out, TCP(link, src, dst, seq+uint32(off), TCPPsh|TCPAck, stream[off:end], opts...))
		off = end
	}
	return out
}

// TCPHandshake returns the three frames of a TCP three-way handshake
// (RFC 9293 section 3.5): SYN from client with sequence clientISN, SYN|ACK
// from server with serverISN, ACK from client. The client's first data byte
// then has sequence number clientISN+1 and the server's serverISN+1.
func TCPHandshake(link Link, client, server netip.AddrPort, clientISN, serverISN uint32, opts ...Option) [][]byte {
	with := func(ack uint32) []Option { return append(append([]Option(nil), opts...), WithAck(ack)) }
	return [][]byte{
		TCP(link, client, server, clientISN, TCPSyn, nil, with(0)...),
		TCP(link, server, client, serverISN, TCPSyn|TCPAck, nil, with(clientISN+1)...),
		TCP(link, client, server, clientISN+1, TCPAck, nil, with(serverISN+1)...),
	}
}
