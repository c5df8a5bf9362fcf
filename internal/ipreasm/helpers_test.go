package ipreasm

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/dnsieve/dnsieve/internal/packet"
	"github.com/dnsieve/dnsieve/internal/testcap"
)

var (
	cli4 = netip.MustParseAddrPort("192.0.2.10:40000")
	srv4 = netip.MustParseAddrPort("198.51.100.53:53")
	cli6 = netip.MustParseAddrPort("[2001:db8::10]:40000")
	srv6 = netip.MustParseAddrPort("[2001:db8::53]:53")
)

// bigResponse returns a DNS response to a TXT query for name whose TXT
// answers hold about n bytes: the kind of message that is fragmented.
func bigResponse(id uint16, name string, n int) []byte {
	var answers []testcap.Answer
	for i := 0; n > 0; i++ {
		k := min(n, 255)
		answers = append(answers, testcap.AnswerTXT(strings.Repeat(string(rune('a'+i%26)), k)))
		n -= k + 12
	}
	return testcap.Response(id, name, testcap.TypeTXT, testcap.RcodeSuccess, answers...)
}

// decodeFrames decodes frames of link into packets, one Packet each, and
// checks that every one is a fragment.
func decodeFrames(t testing.TB, link testcap.Link, frames [][]byte) []*packet.Packet {
	t.Helper()
	out := make([]*packet.Packet, len(frames))
	for i, f := range frames {
		p := new(packet.Packet)
		err := packet.Decode(link.LinkType(), f, p)
		if (err != nil && err != packet.ErrFragment) || !p.Frag.IsFragment {
			t.Fatalf("frame %d: %v, frag %+v", i, err, p.Frag)
		}
		out[i] = p
	}
	return out
}

// fragments4 returns the decoded IPv4 fragments of a UDP datagram carrying msg.
func fragments4(t testing.TB, msg []byte, fragSize int, id uint16) []*packet.Packet {
	t.Helper()
	return decodeFrames(t, testcap.Ethernet, testcap.IPv4Fragments(testcap.Ethernet, srv4, cli4, msg, fragSize, testcap.WithIPID(id)))
}

// fragments6 returns the decoded IPv6 fragments of a UDP datagram carrying msg.
func fragments6(t testing.TB, msg []byte, fragSize int, id uint32, opts ...testcap.Option) []*packet.Packet {
	t.Helper()
	opts = append(opts, testcap.WithFragmentID(id))
	return decodeFrames(t, testcap.Ethernet, testcap.IPv6Fragments(testcap.Ethernet, srv6, cli6, msg, fragSize, opts...))
}

// serializeIP serializes layers into a raw IP packet and decodes it
// (LINKTYPE_RAW), checking that it is a fragment.
func serializeIP(t testing.TB, ls ...gopacket.SerializableLayer) *packet.Packet {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, ls...); err != nil {
		t.Fatal(err)
	}
	frame := append([]byte(nil), buf.Bytes()...)
	p := new(packet.Packet)
	_ = packet.Decode(packet.LinkTypeRaw, frame, p)
	if !p.Frag.IsFragment {
		t.Fatalf("not a fragment: %+v", p)
	}
	return p
}

// frag4 builds and decodes one IPv4 fragment from src to dst: data at byte
// offset off (a multiple of 8) of the datagram with identification id.
func frag4(t testing.TB, src, dst netip.Addr, id uint16, proto uint8, off int, more bool, data []byte) *packet.Packet {
	t.Helper()
	ip := &layers.IPv4{
		Version: 4, IHL: 5, TTL: 64, Id: id, Protocol: layers.IPProtocol(proto),
		SrcIP: src.AsSlice(), DstIP: dst.AsSlice(), FragOffset: uint16(off / 8),
	}
	if more {
		ip.Flags = layers.IPv4MoreFragments
	}
	return serializeIP(t, ip, gopacket.Payload(data))
}

// frag6 builds and decodes one IPv6 fragment; next is the Next Header of
// its Fragment header.
func frag6(t testing.TB, src, dst netip.Addr, id uint32, next uint8, off int, more bool, data []byte) *packet.Packet {
	t.Helper()
	ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolIPv6Fragment, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
	fh := &layers.IPv6Fragment{NextHeader: layers.IPProtocol(next), FragmentOffset: uint16(off / 8), MoreFragments: more, Identification: id}
	return serializeIP(t, ip, fh, gopacket.Payload(data))
}

// got is one completed datagram: the 1-based position of the completing
// fragment in the feed and what Add returned.
type got struct {
	frame            int
	proto            uint8
	src, dst         netip.Addr
	srcPort, dstPort uint16
	payload          string
}

func (g got) String() string {
	return fmt.Sprintf("{frame %d proto %d %v:%d->%v:%d %d bytes}", g.frame, g.proto, g.src, g.srcPort, g.dst, g.dstPort, len(g.payload))
}

// feed adds pkts in the given order of indexes (nil: as they are; an index
// may repeat), fragment i of the order being frame i+1 at time ts(i) (nil: 1 ms apart), checking the
// invariants after every call, and returns the completed datagrams.
func feed(t testing.TB, r *Reassembler, pkts []*packet.Packet, order []int, ts func(i int) int64) []got {
	t.Helper()
	var res []got
	var out packet.Packet
	n := len(pkts)
	if order != nil {
		n = len(order)
	}
	for i := range n {
		j := i
		if order != nil {
			j = order[i]
		}
		when := int64(i) * 1e6
		if ts != nil {
			when = ts(i)
		}
		if r.Add(uint64(i+1), when, pkts[j], &out) {
			if out.Frag.IsFragment || out.Frag.Data != nil {
				t.Fatalf("out.Frag not zero: %+v", out.Frag)
			}
			res = append(res, got{i + 1, out.Proto, out.Src, out.Dst, out.SrcPort, out.DstPort, string(out.Payload)})
		}
		if err := r.check(); err != nil {
			t.Fatalf("after fragment %d: %v", i+1, err)
		}
	}
	return res
}

// want4 and want6 are the completed datagram expected for msg sent from
// srv to cli, completed at frame.
func want4(frame int, msg []byte) got {
	return got{frame, packet.ProtoUDP, srv4.Addr(), cli4.Addr(), srv4.Port(), cli4.Port(), string(msg)}
}

func want6(frame int, msg []byte) got {
	return got{frame, packet.ProtoUDP, srv6.Addr(), cli6.Addr(), srv6.Port(), cli6.Port(), string(msg)}
}

func equalGot(a, b []got) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// check verifies the internal invariants of r: the LRU list and the table
// agree, every datagram's pieces are sorted, disjoint, inside its buffer
// and consistent with its end, and the buffer accounting matches the
// buffers held and stays within every cap.
func (r *Reassembler) check() error {
	var total int64
	n := 0
	var prevSeen int64
	for d := r.head; d != nil; d = d.next {
		n++
		if r.table[d.key] != d {
			return fmt.Errorf("datagram %v in LRU list but not in table", d.key)
		}
		if n > 1 && d.lastSeen > prevSeen {
			return fmt.Errorf("LRU order broken: %d after %d", d.lastSeen, prevSeen)
		}
		prevSeen = d.lastSeen
		if d.next != nil && d.next.prev != d {
			return fmt.Errorf("LRU back link broken")
		}
		if r.now-d.lastSeen > r.cfg.Timeout {
			return fmt.Errorf("datagram idle for %d ns kept", r.now-d.lastSeen)
		}
		if d.v6 != !d.key.src.Is4() || (d.v6 && d.key.proto != 0) {
			return fmt.Errorf("bad key %v", d.key)
		}
		held := 0
		for i, pc := range d.pieces {
			if pc.off >= pc.end || pc.at < 0 || pc.at+pc.end-pc.off > len(d.buf) {
				return fmt.Errorf("bad piece %+v (buffer %d)", pc, len(d.buf))
			}
			if i > 0 && d.pieces[i-1].end > pc.off {
				return fmt.Errorf("pieces overlap or unsorted: %+v", d.pieces)
			}
			if d.hasLast && pc.end > d.end {
				return fmt.Errorf("piece %+v beyond end %d", pc, d.end)
			}
			if pc.end > r.cfg.MaxDatagramLen {
				return fmt.Errorf("piece %+v beyond MaxDatagramLen", pc)
			}
			held += pc.end - pc.off
		}
		if held != d.held || held != len(d.buf) {
			return fmt.Errorf("held %d, pieces %d, buffer %d", d.held, held, len(d.buf))
		}
		if d.hasLast && d.held >= d.end {
			return fmt.Errorf("complete datagram (%d of %d) left active", d.held, d.end)
		}
		if d.frags > r.cfg.MaxFragments || len(d.pieces) > 2*d.frags+1 {
			return fmt.Errorf("%d fragments, %d pieces", d.frags, len(d.pieces))
		}
		if cap(d.buf) > r.cfg.MaxDatagramLen {
			return fmt.Errorf("buffer of %d bytes > MaxDatagramLen", cap(d.buf))
		}
		total += int64(cap(d.buf))
	}
	if n != len(r.table) {
		return fmt.Errorf("LRU list has %d datagrams, table %d", n, len(r.table))
	}
	if n > r.cfg.MaxDatagrams {
		return fmt.Errorf("%d datagrams > %d", n, r.cfg.MaxDatagrams)
	}
	if total != r.total {
		return fmt.Errorf("total accounts %d bytes, datagrams hold %d", r.total, total)
	}
	if r.total > r.cfg.MaxTotalBytes {
		return fmt.Errorf("total %d > %d", r.total, r.cfg.MaxTotalBytes)
	}
	nfree := 0
	for d := r.free; d != nil; d = d.next {
		nfree++
		if len(d.buf) != 0 || len(d.pieces) != 0 || cap(d.buf) > retainBuf || d.prev != nil {
			return fmt.Errorf("dirty free datagram")
		}
	}
	if nfree != r.nfree || nfree > maxFree {
		return fmt.Errorf("free list %d, counted %d", nfree, r.nfree)
	}
	return nil
}

// permutations calls fn with every permutation of 0..n-1.
func permutations(n int, fn func([]int)) {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	var rec func(k int)
	rec = func(k int) {
		if k == n {
			fn(p)
			return
		}
		for i := k; i < n; i++ {
			p[k], p[i] = p[i], p[k]
			rec(k + 1)
			p[k], p[i] = p[i], p[k]
		}
	}
	rec(0)
}

// udpBytes is the UDP datagram (header and payload) testcap fragments.
func udpBytes(src, dst netip.AddrPort, msg []byte) []byte {
	return testcap.UDPDatagram(src, dst, msg)
}
