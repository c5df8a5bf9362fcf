package variants

import (
	"bytes"
	"encoding/base32"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/dnsieve/dnsieve/internal/testcap"
)

// The test capture: a base32 TXT tunnel under tunnelZone from tunnelClient
// through resolver, mixed with testcap.Mix's benign traffic (IPv4, IPv6,
// a few DNS-over-TCP exchanges) and some non-DNS frames.
const tunnelZone = "t.exfil-test.net"

var (
	tunnelClient = netip.MustParseAddrPort("10.9.8.7:41000")
	resolver     = netip.MustParseAddrPort("10.9.0.53:53")
	b32          = base32.StdEncoding.WithPadding(base32.NoPadding)
)

// tunnelName is the query name of the i-th tunnel query: 90 random bytes in
// base32, in labels of at most 52 characters.
func tunnelName(rng *rand.Rand, i int) string {
	data := make([]byte, 90)
	for j := range data {
		data[j] = byte(rng.Uint32())
	}
	s := strings.ToLower(b32.EncodeToString(data))
	var labels []string
	for len(s) > 52 {
		labels = append(labels, s[:52])
		s = s[52:]
	}
	labels = append(labels, s, "s"+strconv.Itoa(i))
	return strings.Join(labels, ".") + "." + tunnelZone
}

// testFrames builds the test capture: tunnelQueries tunnel exchanges over
// ten minutes interleaved with nBenign benign frames.
func testFrames(t testing.TB, tunnelQueries, nBenign int) []Frame {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 7))
	type tf struct {
		t time.Time
		d []byte
	}
	var all []tf
	for _, f := range testcap.Mix(3, nBenign, testcap.Ethernet) {
		all = append(all, tf{f.Time, f.Data})
	}
	start := testcap.MixStart
	step := 10 * time.Minute / time.Duration(tunnelQueries)
	for i := 0; i < tunnelQueries; i++ {
		at := start.Add(time.Duration(i)*step + time.Duration(rng.IntN(int(step/2))))
		id := uint16(rng.Uint32())
		name := tunnelName(rng, i)
		down := make([]byte, 150)
		for j := range down {
			down[j] = byte(rng.Uint32())
		}
		q := testcap.QueryEDNS(id, name, testcap.TypeTXT, 4096)
		r := testcap.Response(id, name, testcap.TypeTXT, testcap.RcodeSuccess, testcap.AnswerTXT(strings.ToLower(b32.EncodeToString(down))))
		all = append(all,
			tf{at, testcap.UDP(testcap.Ethernet, tunnelClient, resolver, q)},
			tf{at.Add(3 * time.Millisecond), testcap.UDP(testcap.Ethernet, resolver, tunnelClient, r)})
	}
	// Non-DNS frames: ARP, ICMP, a UDP datagram on another port.
	all = append(all,
		tf{start.Add(time.Second), testcap.ARP(testcap.Ethernet)},
		tf{start.Add(2 * time.Second), testcap.ICMPEcho(testcap.Ethernet, tunnelClient.Addr(), resolver.Addr(), 1, 1, []byte("ping"))},
		tf{start.Add(3 * time.Second), testcap.UDP(testcap.Ethernet, netip.MustParseAddrPort("10.9.8.7:5000"),
			netip.MustParseAddrPort("10.9.0.9:123"), bytes.Repeat([]byte{0x23}, 300))})
	slices.SortStableFunc(all, func(a, b tf) int { return a.t.Compare(b.t) })
	out := make([]Frame, len(all))
	for i, f := range all {
		out[i] = Frame{Time: f.t.UnixNano(), LinkType: 1, OrigLen: len(f.d), Data: f.d}
	}
	return out
}

// decoded is a frame decoded by gopacket, the test oracle.
type decoded struct {
	pkt     gopacket.Packet
	ip4     *layers.IPv4
	ip6     *layers.IPv6
	frag6   *layers.IPv6Fragment
	udp     *layers.UDP
	tcp     *layers.TCP
	src     netip.Addr
	dst     netip.Addr
	payload []byte // UDP or TCP payload
	l4off   int    // offset of the UDP or TCP header in the frame
}

func decode(t testing.TB, f Frame) decoded {
	t.Helper()
	var d decoded
	d.pkt = gopacket.NewPacket(f.Data, layers.LinkType(f.LinkType), gopacket.NoCopy)
	if l, ok := d.pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ok {
		d.ip4 = l
		d.src, _ = netip.AddrFromSlice(l.SrcIP.To4())
		d.dst, _ = netip.AddrFromSlice(l.DstIP.To4())
	}
	if l, ok := d.pkt.Layer(layers.LayerTypeIPv6).(*layers.IPv6); ok {
		d.ip6 = l
		d.src, _ = netip.AddrFromSlice(l.SrcIP)
		d.dst, _ = netip.AddrFromSlice(l.DstIP)
	}
	if l, ok := d.pkt.Layer(layers.LayerTypeIPv6Fragment).(*layers.IPv6Fragment); ok {
		d.frag6 = l
	}
	if l, ok := d.pkt.Layer(layers.LayerTypeUDP).(*layers.UDP); ok {
		d.udp = l
		d.payload = l.Payload
		d.l4off = cap(f.Data) - cap(l.Contents)
	}
	if l, ok := d.pkt.Layer(layers.LayerTypeTCP).(*layers.TCP); ok {
		d.tcp = l
		d.payload = l.Payload
		d.l4off = cap(f.Data) - cap(l.Contents)
	}
	if nl := d.pkt.NetworkLayer(); nl != nil {
		if d.udp != nil {
			d.udp.SetNetworkLayerForChecksum(nl)
		}
		if d.tcp != nil {
			d.tcp.SetNetworkLayerForChecksum(nl)
		}
	}
	return d
}

// checkChecksums verifies IPv4, UDP and TCP checksums with gopacket.
func checkChecksums(t testing.TB, i int, d decoded) {
	t.Helper()
	if d.ip4 != nil {
		if err, r := d.ip4.VerifyChecksum(); err != nil || !r.Valid {
			t.Errorf("frame %d: IPv4 checksum %#04x wrong (%v, %+v)", i, d.ip4.Checksum, err, r)
		}
	}
	if d.udp != nil && (d.ip4 == nil || d.ip4.Flags&layers.IPv4MoreFragments == 0 && d.ip4.FragOffset == 0) && d.frag6 == nil {
		if d.udp.Checksum == 0 && d.ip4 != nil {
			return
		}
		if err, r := d.udp.VerifyChecksum(); err != nil || !r.Valid {
			t.Errorf("frame %d: UDP checksum %#04x wrong (%v, %+v)", i, d.udp.Checksum, err, r)
		}
	}
	if d.tcp != nil {
		if err, r := d.tcp.VerifyChecksum(); err != nil || !r.Valid {
			t.Errorf("frame %d: TCP checksum %#04x wrong (%v, %+v)", i, d.tcp.Checksum, err, r)
		}
	}
}

func isDNS(d decoded) bool {
	switch {
	case d.udp != nil:
		return d.udp.SrcPort == 53 || d.udp.DstPort == 53
	case d.tcp != nil:
		return d.tcp.SrcPort == 53 || d.tcp.DstPort == 53
	}
	return false
}
