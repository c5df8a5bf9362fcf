//go:build linux

package afpacket

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
	"golang.org/x/net/dns/dnsmessage"
	"golang.org/x/sys/unix"

	"github.com/dnsieve/dnsieve/internal/capture"
)

// dnsQuery builds a DNS query with dnsmessage.
func dnsQuery(t testing.TB, id uint16, name string) []byte {
	t.Helper()
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: id, RecursionDesired: true})
	if err := b.StartQuestions(); err != nil {
		t.Fatal(err)
	}
	if err := b.Question(dnsmessage.Question{Name: dnsmessage.MustNewName(name), Type: dnsmessage.TypeTXT, Class: dnsmessage.ClassINET}); err != nil {
		t.Fatal(err)
	}
	msg, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// udpConn opens an unconnected UDP socket inside ns.
func udpConn(t testing.TB, ns, network, laddr string) *net.UDPConn {
	t.Helper()
	var c *net.UDPConn
	inNetns(t, ns, func() {
		var err error
		c, err = net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.MustParseAddrPort(laddr)))
		if err != nil {
			t.Fatal(err)
		}
	})
	t.Cleanup(func() { c.Close() })
	return c
}

func openIn(t testing.TB, ns string, cfg Config) *Source {
	t.Helper()
	var src *Source
	var err error
	inNetns(t, ns, func() { src, err = Open(cfg) })
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// readN reads n frames, failing after timeout.
func readN(t testing.TB, src *Source, n int, timeout time.Duration) []capture.Record {
	t.Helper()
	type res struct {
		recs []capture.Record
		err  error
	}
	done := make(chan res, 1)
	go func() {
		var out []capture.Record
		var rec capture.Record
		for len(out) < n {
			if err := src.Next(&rec); err != nil {
				done <- res{out, err}
				return
			}
			r := rec
			r.Data = bytes.Clone(rec.Data)
			out = append(out, r)
		}
		done <- res{out, nil}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("after %d of %d frames: %v", len(r.recs), n, r.err)
		}
		return r.recs
	case <-time.After(timeout):
		src.Close()
		r := <-done
		t.Fatalf("timeout: %d of %d frames arrived", len(r.recs), n)
		return nil
	}
}

// sent describes a datagram sent by a test.
type sent struct {
	dst     netip.AddrPort
	payload []byte
}

// checkUDP decodes rec with gopacket and compares it with s.
func checkUDP(t testing.TB, rec capture.Record, s sent, src netip.Addr) {
	t.Helper()
	var first gopacket.Decoder = layers.LayerTypeEthernet
	if rec.LinkType == LinkTypeRaw {
		first = layers.LayerTypeIPv4
		if s.dst.Addr().Is6() {
			first = layers.LayerTypeIPv6
		}
	}
	p := gopacket.NewPacket(rec.Data, first, gopacket.Default)
	if el := p.ErrorLayer(); el != nil {
		t.Fatalf("frame %d: gopacket: %v", rec.Frame, el.Error())
	}
	var gotSrc, gotDst netip.Addr
	if ip4, ok := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ok {
		gotSrc, _ = netip.AddrFromSlice(ip4.SrcIP.To4())
		gotDst, _ = netip.AddrFromSlice(ip4.DstIP.To4())
	} else if ip6, ok := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6); ok {
		gotSrc, _ = netip.AddrFromSlice(ip6.SrcIP)
		gotDst, _ = netip.AddrFromSlice(ip6.DstIP)
	} else {
		t.Fatalf("frame %d: no IP layer: %v", rec.Frame, p)
	}
	udp, ok := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
	if !ok {
		t.Fatalf("frame %d: no UDP layer: %v", rec.Frame, p)
	}
	if gotDst != s.dst.Addr() || uint16(udp.DstPort) != s.dst.Port() || gotSrc != src {
		t.Fatalf("frame %d: %v -> %v:%d, want %v -> %v", rec.Frame, gotSrc, gotDst, udp.DstPort, src, s.dst)
	}
	if !bytes.Equal(udp.Payload, s.payload) {
		t.Fatalf("frame %d: payload differs:\n got %x\nwant %x", rec.Frame, udp.Payload, s.payload)
	}
	if rec.OrigLen != len(rec.Data) {
		t.Fatalf("frame %d: OrigLen %d, captured %d", rec.Frame, rec.OrigLen, len(rec.Data))
	}
	var m dnsmessage.Message
	if s.dst.Port() == 53 {
		if err := m.Unpack(udp.Payload); err != nil {
			t.Fatalf("frame %d: dnsmessage: %v", rec.Frame, err)
		}
	}
}

// TestLiveFilter sends N DNS queries (IPv4 and IPv6) and N NTP-port
// datagrams from namespace B and captures on the veth in namespace A with the
// default filter: exactly the DNS frames arrive, byte for byte, in order.
func TestLiveFilter(t *testing.T) {
	tn := newTestNet(t)
	src := openIn(t, tn.nsA, Config{Interfaces: []string{tn.vA}})
	// Listeners in A so that no ICMP port-unreachable comes back.
	for _, a := range []string{tn.ipA() + ":53", tn.ipA() + ":123", "[" + tn.ip6A() + "]:53"} {
		udpConn(t, tn.nsA, "udp", a)
	}
	c4 := udpConn(t, tn.nsB, "udp4", tn.ipB()+":40053")
	c6 := udpConn(t, tn.nsB, "udp6", fmt.Sprintf("[fd77:%d::2]:40053", tn.n))

	const N = 60
	start := time.Now().UnixNano()
	var want []sent
	for i := range N {
		q := sent{netip.MustParseAddrPort(tn.ipA() + ":53"), dnsQuery(t, uint16(i), fmt.Sprintf("q%d.tunnel.example.", i))}
		c := c4
		if i%3 == 2 {
			q.dst = netip.MustParseAddrPort("[" + tn.ip6A() + "]:53")
			c = c6
		}
		if _, err := c.WriteToUDPAddrPort(q.payload, q.dst); err != nil {
			t.Fatal(err)
		}
		want = append(want, q)
		ntp := make([]byte, 48)
		ntp[0] = 0x23
		if _, err := c4.WriteToUDPAddrPort(ntp, netip.MustParseAddrPort(tn.ipA()+":123")); err != nil {
			t.Fatal(err)
		}
	}
	recs := readN(t, src, N, 5*time.Second)
	end := time.Now().UnixNano()
	last := int64(0)
	for i, rec := range recs {
		if rec.Frame != uint64(i+1) || rec.LinkType != LinkTypeEthernet || rec.Offset != 0 {
			t.Fatalf("record %d: frame %d link %d offset %d", i, rec.Frame, rec.LinkType, rec.Offset)
		}
		if rec.Time < start || rec.Time > end || rec.Time < last {
			t.Fatalf("record %d: time %d not in [%d, %d] or before %d", i, rec.Time, start, end, last)
		}
		last = rec.Time
		from := netip.MustParseAddr(tn.ipB())
		if want[i].dst.Addr().Is6() {
			from = netip.MustParseAddr(fmt.Sprintf("fd77:%d::2", tn.n))
		}
		checkUDP(t, rec, want[i], from)
	}
	time.Sleep(50 * time.Millisecond)
	st := src.Stats()
	var bytesWant uint64
	for _, r := range recs {
		bytesWant += uint64(r.OrigLen)
	}
	if st != (Stats{Packets: N, Bytes: bytesWant}) {
		t.Fatalf("stats %+v, want %d packets, %d bytes, no drops", st, N, bytesWant)
	}
	// Counters survive Close and Next then reports io.EOF.
	src.Close()
	if st2 := src.Stats(); st2 != st {
		t.Fatalf("stats after close %+v, want %+v", st2, st)
	}
	var rec capture.Record
	if err := src.Next(&rec); err != io.EOF {
		t.Fatalf("Next after Close: %v, want io.EOF", err)
	}
}

// TestLiveLoopbackAndMulti captures on the veth and on lo at once: frames
// on lo are seen once (not leaving and arriving), frame numbers run across
// both interfaces.
func TestLiveLoopbackAndMulti(t *testing.T) {
	tn := newTestNet(t)
	src := openIn(t, tn.nsA, Config{Interfaces: []string{tn.vA, "lo"}, Ports: []uint16{53, 5353}})
	udpConn(t, tn.nsA, "udp", tn.ipA()+":53")
	udpConn(t, tn.nsA, "udp", "127.0.0.1:5353")
	cl := udpConn(t, tn.nsA, "udp4", "127.0.0.1:40000")
	cv := udpConn(t, tn.nsB, "udp4", tn.ipB()+":40000")
	const N = 20
	var wantLo, wantV []sent
	for i := range N {
		q := sent{netip.MustParseAddrPort("127.0.0.1:5353"), dnsQuery(t, uint16(i), fmt.Sprintf("lo%d.example.", i))}
		if _, err := cl.WriteToUDPAddrPort(q.payload, q.dst); err != nil {
			t.Fatal(err)
		}
		wantLo = append(wantLo, q)
		v := sent{netip.MustParseAddrPort(tn.ipA() + ":53"), dnsQuery(t, uint16(i), fmt.Sprintf("v%d.example.", i))}
		if _, err := cv.WriteToUDPAddrPort(v.payload, v.dst); err != nil {
			t.Fatal(err)
		}
		wantV = append(wantV, v)
	}
	recs := readN(t, src, 2*N, 5*time.Second)
	var nLo, nV int
	for i, rec := range recs {
		if rec.Frame != uint64(i+1) || rec.LinkType != LinkTypeEthernet {
			t.Fatalf("record %d: frame %d link %d", i, rec.Frame, rec.LinkType)
		}
		if bytes.Contains(rec.Data, []byte{127, 0, 0, 1}) {
			checkUDP(t, rec, wantLo[nLo], netip.MustParseAddr("127.0.0.1"))
			nLo++
		} else {
			checkUDP(t, rec, wantV[nV], netip.MustParseAddr(tn.ipB()))
			nV++
		}
	}
	time.Sleep(50 * time.Millisecond)
	if st := src.Stats(); st.Packets != 2*N || st.KernelDrops != 0 {
		t.Fatalf("stats %+v, want %d packets", st, 2*N)
	}
}

// TestLiveAny captures on "any": bare IP packets (LINKTYPE_RAW).
func TestLiveAny(t *testing.T) {
	tn := newTestNet(t)
	src := openIn(t, tn.nsA, Config{Interfaces: []string{"any"}, Filter: "udp dst port 53"})
	udpConn(t, tn.nsA, "udp", tn.ipA()+":53")
	udpConn(t, tn.nsA, "udp", "127.0.0.1:53")
	cv := udpConn(t, tn.nsB, "udp4", tn.ipB()+":40000")
	cl := udpConn(t, tn.nsA, "udp4", "127.0.0.1:40000")
	udpConn(t, tn.nsB, "udp", tn.ipB()+":53")
	co := udpConn(t, tn.nsA, "udp4", tn.ipA()+":40000")
	const N = 12
	var want []sent
	var from []netip.Addr
	for i := range N {
		v := sent{netip.MustParseAddrPort(tn.ipA() + ":53"), dnsQuery(t, uint16(i), fmt.Sprintf("any%d.example.", i))}
		c, f := cv, tn.ipB()
		switch i % 3 {
		case 1: // on lo, seen once
			v.dst, c, f = netip.MustParseAddrPort("127.0.0.1:53"), cl, "127.0.0.1"
		case 2: // outgoing on the veth
			v.dst, c, f = netip.MustParseAddrPort(tn.ipB()+":53"), co, tn.ipA()
		}
		from = append(from, netip.MustParseAddr(f))
		if _, err := c.WriteToUDPAddrPort(v.payload, v.dst); err != nil {
			t.Fatal(err)
		}
		want = append(want, v)
		time.Sleep(time.Millisecond) // keep the two interfaces' frames in order
	}
	recs := readN(t, src, N, 5*time.Second)
	for i, rec := range recs {
		if rec.LinkType != LinkTypeRaw {
			t.Fatalf("record %d: link type %d, want %d", i, rec.LinkType, LinkTypeRaw)
		}
		checkUDP(t, rec, want[i], from[i])
	}
	time.Sleep(50 * time.Millisecond)
	if st := src.Stats(); st.Packets != N {
		t.Fatalf("stats %+v, want %d packets (loopback frames once)", st, N)
	}
}

// TestLiveTun captures on a tun device (ARPHRD_NONE, like iodine's dns0):
// frames are LINKTYPE_RAW and equal the IP packets written to the tun.
func TestLiveTun(t *testing.T) {
	tn := newTestNet(t)
	name := "aft" + strings.TrimPrefix(tn.vA, "afa")
	var tunFd int
	inNetns(t, tn.nsA, func() {
		fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Skipf("no tun device: %v", err)
		}
		ifr, err := unix.NewIfreq(name)
		if err != nil {
			t.Fatal(err)
		}
		ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
		if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
			unix.Close(fd)
			t.Skipf("TUNSETIFF: %v", err)
		}
		tunFd = fd
	})
	t.Cleanup(func() { unix.Close(tunFd) })
	ipCmd(t, "-n", tn.nsA, "addr", "add", "10.79.0.1/24", "dev", name)
	ipCmd(t, "-n", tn.nsA, "link", "set", name, "up")
	src := openIn(t, tn.nsA, Config{Interfaces: []string{name}})

	build := func(dport uint16, payload []byte) []byte {
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP,
			SrcIP: net.IP{10, 79, 0, 2}, DstIP: net.IP{10, 79, 0, 1}}
		udp := &layers.UDP{SrcPort: 40000, DstPort: layers.UDPPort(dport)}
		udp.SetNetworkLayerForChecksum(ip)
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
			ip, udp, gopacket.Payload(payload)); err != nil {
			t.Fatal(err)
		}
		return bytes.Clone(buf.Bytes())
	}
	const N = 10
	var want [][]byte
	for i := range N {
		pkt := build(53, dnsQuery(t, uint16(i), fmt.Sprintf("t%d.dns0.example.", i)))
		if _, err := unix.Write(tunFd, pkt); err != nil {
			t.Fatal(err)
		}
		want = append(want, pkt)
		if _, err := unix.Write(tunFd, build(123, make([]byte, 48))); err != nil {
			t.Fatal(err)
		}
	}
	recs := readN(t, src, N, 5*time.Second)
	for i, rec := range recs {
		if rec.LinkType != LinkTypeRaw || !bytes.Equal(rec.Data, want[i]) {
			t.Fatalf("record %d: link %d data %x, want link %d data %x", i, rec.LinkType, rec.Data, LinkTypeRaw, want[i])
		}
	}
	time.Sleep(50 * time.Millisecond)
	if st := src.Stats(); st.Packets != N {
		t.Fatalf("stats %+v, want %d packets", st, N)
	}
}

// TestLiveVLAN injects tagged frames on vB with a packet socket. On the
// receiving veth the kernel moves the outer tag to metadata: single-tagged
// frames come untagged, 802.1ad+802.1Q frames keep the inner tag in-line and
// the filter steps over it. On the sending veth the tags are in-line: the
// filter matches one tag, not two (a documented limit).
func TestLiveVLAN(t *testing.T) {
	tn := newTestNet(t)
	var fd, index int
	inNetns(t, tn.nsB, func() {
		ifi, err := net.InterfaceByName(tn.vB)
		if err != nil {
			t.Fatal(err)
		}
		index = ifi.Index
		if fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0); err != nil {
			t.Fatal(err)
		}
	})
	defer unix.Close(fd)
	srcA := openIn(t, tn.nsA, Config{Interfaces: []string{tn.vA}})
	srcB := openIn(t, tn.nsB, Config{Interfaces: []string{tn.vB}})

	frame := func(tags []uint16, dport uint16, payload []byte) []byte {
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, DstMAC: layers.EthernetBroadcast}
		ls := []gopacket.SerializableLayer{eth}
		types := map[uint16]layers.EthernetType{100: layers.EthernetTypeDot1Q, 200: layers.EthernetTypeQinQ}
		eth.EthernetType = layers.EthernetTypeIPv4
		for i, vid := range tags {
			if i == 0 {
				eth.EthernetType = types[vid]
			}
			next := layers.EthernetTypeIPv4
			if i+1 < len(tags) {
				next = types[tags[i+1]]
			}
			ls = append(ls, &layers.Dot1Q{VLANIdentifier: vid, Type: next})
		}
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IP{10, 78, 0, 2}, DstIP: net.IP{10, 78, 0, 1}}
		udp := &layers.UDP{SrcPort: 40000, DstPort: layers.UDPPort(dport)}
		udp.SetNetworkLayerForChecksum(ip)
		ls = append(ls, ip, udp, gopacket.Payload(payload))
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
			t.Fatal(err)
		}
		return bytes.Clone(buf.Bytes())
	}
	send := func(b []byte) {
		sa := &unix.SockaddrLinklayer{Ifindex: index, Halen: 6}
		copy(sa.Addr[:], layers.EthernetBroadcast)
		if err := unix.Sendto(fd, b, 0, sa); err != nil {
			t.Fatal(err)
		}
	}
	const N = 10
	var single, double [][]byte
	for i := range N {
		q := dnsQuery(t, uint16(i), fmt.Sprintf("vlan%d.example.", i))
		single = append(single, frame([]uint16{100}, 53, q))
		double = append(double, frame([]uint16{200, 100}, 53, q))
		send(single[i])
		send(double[i])
		send(frame([]uint16{100}, 123, make([]byte, 48)))
	}
	untag := func(b []byte) []byte { return append(bytes.Clone(b[:12]), b[16:]...) }
	for i, rec := range readN(t, srcA, 2*N, 5*time.Second) {
		want := untag(single[i/2])
		if i%2 == 1 {
			want = untag(double[i/2])
		}
		if !bytes.Equal(rec.Data, want) {
			t.Fatalf("receiving side, record %d:\n got %x\nwant %x", i, rec.Data, want)
		}
	}
	for i, rec := range readN(t, srcB, N, 5*time.Second) {
		if !bytes.Equal(rec.Data, single[i]) {
			t.Fatalf("sending side, record %d:\n got %x\nwant %x", i, rec.Data, single[i])
		}
	}
	time.Sleep(50 * time.Millisecond)
	if a, b := srcA.Stats(), srcB.Stats(); a.Packets != 2*N || b.Packets != N {
		t.Fatalf("stats: receiving %+v, sending %+v", a, b)
	}
}

// TestLiveDrops fills a tiny ring without reading: the kernel drops and
// says so, and exactly the packets it kept can then be read.
func TestLiveDrops(t *testing.T) {
	tn := newTestNet(t)
	src := openIn(t, tn.nsA, Config{Interfaces: []string{tn.vA}, BlockSize: os.Getpagesize(), NumBlocks: 2, BlockTimeout: time.Millisecond})
	udpConn(t, tn.nsA, "udp", tn.ipA()+":53")
	c := udpConn(t, tn.nsB, "udp4", tn.ipB()+":40000")
	const N = 500
	q := dnsQuery(t, 1, "drop.example.")
	dst := netip.MustParseAddrPort(tn.ipA() + ":53")
	for range N {
		if _, err := c.WriteToUDPAddrPort(q, dst); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(100 * time.Millisecond)
	st := src.Stats()
	if st.Packets != N || st.KernelDrops == 0 || st.KernelDrops >= N || st.KernelFreezes == 0 || st.UserDrops != 0 {
		t.Fatalf("stats %+v: want %d packets, some kernel drops and freezes", st, N)
	}
	kept := int(st.Packets - st.KernelDrops)
	recs := readN(t, src, kept, 5*time.Second)
	for _, rec := range recs {
		checkUDP(t, rec, sent{dst, q}, netip.MustParseAddr(tn.ipB()))
	}
	// Nothing more is pending.
	ctxSrc := src
	go func() { time.Sleep(100 * time.Millisecond); ctxSrc.Close() }()
	var rec capture.Record
	if err := src.Next(&rec); err != io.EOF {
		t.Fatalf("a frame beyond the %d kept: %v (frame %d)", kept, err, rec.Frame)
	}
	t.Logf("%d sent, %d dropped, %d freezes, %d read", N, st.KernelDrops, st.KernelFreezes, kept)
}

// TestLiveCloseAndContext checks that Close and context cancellation wake a
// blocked Next with io.EOF.
func TestLiveCloseAndContext(t *testing.T) {
	tn := newTestNet(t)
	src := openIn(t, tn.nsA, Config{Interfaces: []string{tn.vA}})
	errc := make(chan error, 1)
	go func() {
		var rec capture.Record
		errc <- src.Next(&rec)
	}()
	time.Sleep(50 * time.Millisecond)
	src.Close()
	select {
	case err := <-errc:
		if err != io.EOF {
			t.Fatalf("Next: %v, want io.EOF", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not wake Next")
	}
	if err := src.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	var src2 *Source
	var err error
	inNetns(t, tn.nsA, func() { src2, err = OpenContext(ctx, Config{Interfaces: []string{tn.vA}}) })
	if err != nil {
		t.Fatal(err)
	}
	defer src2.Close()
	go func() {
		var rec capture.Record
		errc <- src2.Next(&rec)
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-errc:
		if err != io.EOF {
			t.Fatalf("Next: %v, want io.EOF", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("cancel did not wake Next")
	}
}

// TestLivePromiscuous checks that the interface is promiscuous exactly while
// the Source is open.
func TestLivePromiscuous(t *testing.T) {
	tn := newTestNet(t)
	promisc := func() string {
		out, err := exec.Command("ip", "-n", tn.nsA, "-d", "link", "show", tn.vA).CombinedOutput()
		if err != nil {
			t.Fatalf("ip link show: %v: %s", err, out)
		}
		i := strings.Index(string(out), "promiscuity ")
		if i < 0 {
			return "?"
		}
		return strings.Fields(string(out)[i:])[1]
	}
	if p := promisc(); p != "0" {
		t.Fatalf("promiscuity %s before Open", p)
	}
	var src *Source
	var err error
	inNetns(t, tn.nsA, func() { src, err = Open(Config{Interfaces: []string{tn.vA}, Promiscuous: true}) })
	if err != nil {
		t.Fatal(err)
	}
	if p := promisc(); p != "1" {
		t.Fatalf("promiscuity %s while open", p)
	}
	src.Close()
	if p := promisc(); p != "0" {
		t.Fatalf("promiscuity %s after Close", p)
	}
}

func TestOpenErrors(t *testing.T) {
	tn := newTestNet(t)
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{}, "no interface"},
		{Config{Interfaces: []string{"nosuchif0"}}, "nosuchif0: interface: no such device"},
		{Config{Interfaces: []string{tn.vA, tn.vA}}, "given twice"},
		{Config{Interfaces: []string{"any", tn.vA}}, "must be given alone"},
		{Config{Interfaces: []string{"any"}, Promiscuous: true}, "not supported on \"any\""},
		{Config{Interfaces: []string{tn.vA}, Filter: "port x"}, `filter "port x": byte 5`},
		{Config{Interfaces: []string{tn.vA}, Filter: "port 53", BPF: []bpf.Instruction{bpf.RetConstant{Val: 65535}}}, "both set"},
		{Config{Interfaces: []string{tn.vA}, BlockSize: 1000}, "multiple of the"},
		{Config{Interfaces: []string{tn.vA}, SnapLen: -1}, "snap length"},
		{Config{Interfaces: []string{strings.Repeat("x", 16)}}, "bad interface name"},
	}
	for _, tc := range tests {
		var err error
		inNetns(t, tn.nsA, func() {
			var s *Source
			if s, err = Open(tc.cfg); err == nil {
				s.Close()
			}
		})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.cfg, err, tc.want)
		}
	}
	// A raw BPF program is used as given (here: keep 20 bytes of everything).
	src := openIn(t, tn.nsA, Config{Interfaces: []string{tn.vA}, BPF: []bpf.Instruction{bpf.RetConstant{Val: 20}}})
	c := udpConn(t, tn.nsB, "udp4", tn.ipB()+":40000")
	udpConn(t, tn.nsA, "udp", tn.ipA()+":7")
	if _, err := c.WriteToUDPAddrPort([]byte("hello"), netip.MustParseAddrPort(tn.ipA()+":7")); err != nil {
		t.Fatal(err)
	}
	for {
		rec := readN(t, src, 1, 5*time.Second)[0]
		if len(rec.Data) != 20 || rec.OrigLen <= 20 {
			t.Fatalf("raw BPF: captured %d of %d bytes, want 20", len(rec.Data), rec.OrigLen)
		}
		if rec.Data[12] == 0x08 && rec.Data[13] == 0x00 {
			break // the IPv4 datagram (ARP and IPv6 ND may come first)
		}
	}
	if !errors.Is(func() error { _, err := CompileFilter("", LinkTypeRaw, 1); return err }(), ErrFilter) {
		t.Error("empty filter text accepted by CompileFilter")
	}
}

// TestNextAllocs asserts that Next allocates nothing per frame.
func TestNextAllocs(t *testing.T) {
	tn := newTestNet(t)
	src := openIn(t, tn.nsA, Config{Interfaces: []string{tn.vA}, BlockTimeout: time.Millisecond})
	udpConn(t, tn.nsA, "udp", tn.ipA()+":53")
	c := udpConn(t, tn.nsB, "udp4", tn.ipB()+":40000")
	q := dnsQuery(t, 7, "alloc.example.")
	dst := netip.MustParseAddrPort(tn.ipA() + ":53")
	const N = 300
	for range N {
		if _, err := c.WriteToUDPAddrPort(q, dst); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(50 * time.Millisecond)
	var rec capture.Record
	allocs := testing.AllocsPerRun(N-10, func() {
		if err := src.Next(&rec); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Next: %v allocations per frame, want 0", allocs)
	}
}

// BenchmarkNext measures frames per second through the ring while another
// goroutine sends DNS queries over the veth.
func BenchmarkNext(b *testing.B) {
	tn := newTestNet(b)
	src := openIn(b, tn.nsA, Config{Interfaces: []string{tn.vA}, BlockTimeout: time.Millisecond})
	udpConn(b, tn.nsA, "udp", tn.ipA()+":53")
	c := udpConn(b, tn.nsB, "udp4", tn.ipB()+":40000")
	q := dnsQuery(b, 7, "bench.example.")
	dst := netip.MustParseAddrPort(tn.ipA() + ":53")
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
				c.WriteToUDPAddrPort(q, dst)
			}
		}
	}()
	var rec capture.Record
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := src.Next(&rec); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	st := src.Stats()
	b.ReportMetric(float64(st.KernelDrops), "kdrops")
}
