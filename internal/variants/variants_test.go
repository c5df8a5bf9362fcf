package variants

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sort"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/dns/dnsmessage"

	"github.com/dnsieve/dnsieve/internal/packet"
	"github.com/dnsieve/dnsieve/internal/tcpstream"
	"github.com/dnsieve/dnsieve/internal/testcap"
)

const nTunnel, nBenign = 300, 600

func mustApply(t *testing.T, k Kind, in []Frame, opt Options) []Frame {
	t.Helper()
	before := make([][]byte, len(in))
	for i, f := range in {
		before[i] = append([]byte(nil), f.Data...)
	}
	out, err := Apply(k, in, "test.pcap", opt)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range in {
		if !bytes.Equal(f.Data, before[i]) {
			t.Fatalf("%s modified input frame %d", k, i)
		}
	}
	return out
}

// reassembleIP collects fragments (IPv4 and IPv6, by gopacket) and returns
// the reassembled IP payload once a datagram is complete.
type reassembleIP struct {
	parts map[string]map[int][]byte
	total map[string]int
}

func (r *reassembleIP) add(t *testing.T, i int, d decoded) (key string, whole []byte, done bool) {
	var off, n int
	var more bool
	var data []byte
	switch {
	case d.frag6 != nil:
		key = fmt.Sprintf("6/%s/%s/%d", d.src, d.dst, d.frag6.Identification)
		off, more, data = int(d.frag6.FragmentOffset)*8, d.frag6.MoreFragments, d.frag6.Payload
	case d.ip4 != nil:
		key = fmt.Sprintf("4/%s/%s/%d", d.src, d.dst, d.ip4.Id)
		off, more, data = int(d.ip4.FragOffset)*8, d.ip4.Flags&layers.IPv4MoreFragments != 0, d.ip4.Payload
	}
	n = len(data)
	if more && (n%8 != 0 || n < 128 || n > 256) {
		t.Errorf("frame %d: fragment of %d bytes, want a multiple of 8 in 128..256", i, n)
	}
	if !more && (n < 1 || n > 256) {
		t.Errorf("frame %d: last fragment of %d bytes", i, n)
	}
	if r.parts[key] == nil {
		r.parts[key] = map[int][]byte{}
	}
	if _, dup := r.parts[key][off]; dup {
		t.Errorf("frame %d: fragment offset %d twice", i, off)
	}
	r.parts[key][off] = data
	if !more {
		r.total[key] = off + n
	}
	tot, ok := r.total[key]
	if !ok {
		return key, nil, false
	}
	var buf []byte
	for o := 0; o < tot; {
		p, ok := r.parts[key][o]
		if !ok {
			return key, nil, false
		}
		buf = append(buf, p...)
		o += len(p)
	}
	return key, buf, true
}

func TestFragmented(t *testing.T) {
	in := testFrames(t, nTunnel, nBenign)
	out := mustApply(t, Fragmented, in, Options{})
	r := &reassembleIP{parts: map[string]map[int][]byte{}, total: map[string]int{}}
	j := 0
	var datagrams, shuffled int
	for i, f := range in {
		var p ipPacket
		var payload []byte
		ok := parseIP(&f, &p)
		if ok {
			var sp, dp uint16
			sp, dp, payload, ok = p.udp()
			ok = ok && (sp == 53 || dp == 53)
		}
		if !ok || len(payload) <= 200 {
			if !bytes.Equal(out[j].Data, f.Data) || out[j].Time != f.Time {
				t.Fatalf("frame %d (variant %d) changed", i, j)
			}
			j++
			continue
		}
		// A fragmented datagram: fragments until it is whole.
		datagrams++
		var offsets []int
		for {
			if j >= len(out) {
				t.Fatalf("frame %d: fragments missing", i)
			}
			d := decode(t, out[j])
			checkChecksums(t, j, d)
			if out[j].Time != f.Time {
				t.Errorf("fragment %d: time %d, want %d", j, out[j].Time, f.Time)
			}
			if d.ip4 != nil {
				offsets = append(offsets, int(d.ip4.FragOffset))
				if d.ip4.Flags&layers.IPv4DontFragment != 0 {
					t.Errorf("fragment %d has DF", j)
				}
			}
			j++
			_, whole, done := r.add(t, j-1, d)
			if done {
				if !bytes.Equal(whole, p.l4) {
					t.Fatalf("frame %d: reassembled datagram differs from the original", i)
				}
				break
			}
		}
		if !sort.IntsAreSorted(offsets) {
			shuffled++
		}
	}
	if j != len(out) {
		t.Fatalf("%d extra frames", len(out)-j)
	}
	if datagrams < nTunnel {
		t.Fatalf("only %d datagrams fragmented, want at least the %d tunnel responses", datagrams, nTunnel)
	}
	if shuffled < datagrams/4 {
		t.Errorf("fragments shuffled in %d of %d datagrams", shuffled, datagrams)
	}
	t.Logf("%d frames -> %d; %d datagrams fragmented, %d out of order", len(in), len(out), datagrams, shuffled)
}

// TestFragmentedHeaders covers IPv4 options (copied and not copied), DF,
// IPv6 with Hop-by-Hop and Destination Options headers, and other links.
func TestFragmentedHeaders(t *testing.T) {
	big := testcap.Response(0x1234, "a.example.com", testcap.TypeTXT, 0, testcap.AnswerTXT(strings.Repeat("x", 250), strings.Repeat("y", 250), strings.Repeat("z", 200)))
	c4, s4 := netip.MustParseAddrPort("192.0.2.1:3333"), netip.MustParseAddrPort("192.0.2.53:53")
	c6, s6 := netip.MustParseAddrPort("[2001:db8::1]:3333"), netip.MustParseAddrPort("[2001:db8::53]:53")
	ra := layers.IPv4Option{OptionType: 148, OptionLength: 4, OptionData: []byte{0, 0}} // copied flag set
	ts := layers.IPv4Option{OptionType: 68, OptionLength: 8, OptionData: []byte{5, 0, 0, 0, 0, 0}}
	cases := []struct {
		name string
		link testcap.Link
		data []byte
	}{
		{"ipv4-options", testcap.Ethernet, testcap.UDP(testcap.Ethernet, s4, c4, big, testcap.WithIPv4Options(ra, ts), testcap.WithDontFragment())},
		{"ipv6-ext", testcap.Ethernet, testcap.UDP(testcap.Ethernet, s6, c6, big, testcap.WithHopByHop(), testcap.WithDestinationOptions())},
		{"sll2-v6", testcap.LinuxSLL2, testcap.UDP(testcap.LinuxSLL2, s6, c6, big)},
		{"vlan", testcap.EthernetVLAN, testcap.UDP(testcap.EthernetVLAN, s4, c4, big, testcap.WithVLAN(7))},
		{"raw", testcap.RawIP, testcap.UDP(testcap.RawIP, s4, c4, big, testcap.WithZeroUDPChecksum())},
		{"null", testcap.Null, testcap.UDP(testcap.Null, s6, c6, big)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := []Frame{{Time: 5, LinkType: tc.link.LinkType(), OrigLen: len(tc.data), Data: tc.data}}
			var orig ipPacket
			if !parseIP(&in[0], &orig) {
				t.Fatal("parseIP refused the input")
			}
			out := mustApply(t, Fragmented, in, Options{})
			if len(out) < 3 {
				t.Fatalf("%d fragments", len(out))
			}
			r := &reassembleIP{parts: map[string]map[int][]byte{}, total: map[string]int{}}
			var whole []byte
			for i, f := range out {
				d := decode(t, f)
				checkChecksums(t, i, d)
				if d.src != orig.src || d.dst != orig.dst {
					t.Fatalf("fragment %d: addresses %s > %s", i, d.src, d.dst)
				}
				if !bytes.Equal(f.Data[:len(orig.link)], orig.link) {
					t.Errorf("fragment %d: link header changed", i)
				}
				if d.ip4 != nil {
					// Router Alert in every fragment, the timestamp option only in the first.
					var types []uint8
					for _, o := range d.ip4.Options {
						if o.OptionType > 1 {
							types = append(types, o.OptionType)
						}
					}
					want := []uint8{148}
					if d.ip4.FragOffset == 0 {
						want = []uint8{148, 68}
					}
					if tc.name == "ipv4-options" && fmt.Sprint(types) != fmt.Sprint(want) {
						t.Errorf("fragment %d (offset %d): options %v, want %v", i, d.ip4.FragOffset*8, types, want)
					}
				}
				if d.ip6 != nil && tc.name == "ipv6-ext" {
					// Hop-by-Hop stays before the Fragment header; the
					// Destination Options travel in the fragmentable part.
					if d.ip6.NextHeader != layers.IPProtocolIPv6HopByHop {
						t.Errorf("fragment %d: next header %v", i, d.ip6.NextHeader)
					}
					if d.frag6 == nil || d.frag6.NextHeader != layers.IPProtocolIPv6Destination {
						t.Errorf("fragment %d: fragment header %+v", i, d.frag6)
					}
				}
				if _, w, done := r.add(t, i, d); done {
					whole = w
				}
			}
			var want []byte
			if orig.v6 {
				want = append(append(want, orig.hdr[orig.unfrag:]...), orig.l4...)
			} else {
				want = orig.l4
			}
			if !bytes.Equal(whole, want) {
				t.Fatalf("reassembled %d bytes, want the %d of the original", len(whole), len(want))
			}
		})
	}
}

func TestFragSizes(t *testing.T) {
	opt := DefaultOptions.withDefaults()
	rng := newTestRand()
	for n := 1; n < 2000; n++ {
		sizes := fragSizes(n, rng, &opt)
		sum := 0
		for i, s := range sizes {
			sum += s
			if i < len(sizes)-1 && (s%8 != 0 || (n > 256+8 && (s < 128 || s > 256))) {
				t.Fatalf("n=%d: sizes %v", n, sizes)
			}
		}
		if sum != n || (n > 8 && len(sizes) < 2) {
			t.Fatalf("n=%d: sizes %v", n, sizes)
		}
	}
}

func TestCase(t *testing.T) {
	in := testFrames(t, nTunnel, nBenign)
	out := mustApply(t, Case, in, Options{})
	if len(out) != len(in) {
		t.Fatalf("%d frames, want %d", len(out), len(in))
	}
	queries := map[uint16]string{} // ID -> question name as sent
	var letters, flipped, changedFrames int
	for i := range in {
		a, b := in[i].Data, out[i].Data
		if len(a) != len(b) || in[i].Time != out[i].Time {
			t.Fatalf("frame %d: length or time changed", i)
		}
		da, db := decode(t, in[i]), decode(t, out[i])
		checkChecksums(t, i, db)
		if !bytes.Equal(a, b) {
			changedFrames++
			if db.udp == nil || !isDNS(db) {
				t.Fatalf("frame %d: a non-DNS frame changed", i)
			}
		}
		if !bytes.Equal(bytes.ToLower(da.payload), bytes.ToLower(db.payload)) {
			t.Fatalf("frame %d: payload differs beyond letter case", i)
		}
		// Outside the UDP payload only the checksum may change.
		if da.udp != nil {
			for k := range a {
				inPayload := k >= da.l4off+8 && k < da.l4off+8+len(da.payload)
				if a[k] != b[k] && !inPayload && k != da.l4off+6 && k != da.l4off+7 {
					t.Fatalf("frame %d: byte %d outside the DNS message changed", i, k)
				}
			}
		}
		if db.udp == nil || !isDNS(db) {
			continue
		}
		var ma, mb dnsmessage.Message
		if ma.Unpack(da.payload) != nil || mb.Unpack(db.payload) != nil {
			continue
		}
		for q := range mb.Questions {
			na, nb := ma.Questions[q].Name.String(), mb.Questions[q].Name.String()
			for k := range na {
				if isLetter(na[k]) {
					letters++
					if na[k] != nb[k] {
						flipped++
					}
				}
			}
			if !mb.Header.Response {
				queries[mb.Header.ID] = nb
			} else if sent, ok := queries[mb.Header.ID]; ok && q == 0 && sent != nb {
				t.Errorf("frame %d: response question %q, query sent %q", i, nb, sent)
			}
		}
		// An answer owner that names the question reads exactly as the
		// question (pointer or spelled out); other owners keep their letters.
		for _, an := range mb.Answers {
			if len(mb.Questions) > 0 && equalFold(an.Header.Name.String(), mb.Questions[0].Name.String()) &&
				an.Header.Name.String() != mb.Questions[0].Name.String() {
				t.Errorf("frame %d: answer owner %q, question %q", i, an.Header.Name, mb.Questions[0].Name)
			}
		}
	}
	if flipped < letters*4/10 || flipped > letters*6/10 {
		t.Errorf("%d of %d question letters flipped, want about half", flipped, letters)
	}
	t.Logf("%d frames changed, %d of %d letters flipped", changedFrames, flipped, letters)
}

func newTestRand() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }

func equalFold(a, b string) bool { return bytes.EqualFold([]byte(a), []byte(b)) }

func TestFlipCaseCompression(t *testing.T) {
	// A response whose answer owner is a pointer to the question, and an
	// answer spelled out: both must read as the flipped question.
	q := testcap.RawName(testcap.Labels("Www.Example.com")...)
	msg := testcap.RawMsg{ID: 77, Flags: testcap.FlagQR,
		Questions: []testcap.RawQuestion{{Name: q, Type: testcap.TypeA}},
		Answers: []testcap.RawRR{
			{Name: testcap.RawNamePtr(12), Type: testcap.TypeA, TTL: 1, Data: []byte{1, 2, 3, 4}},
			{Name: q, Type: testcap.TypeA, TTL: 1, Data: []byte{1, 2, 3, 5}},
		}}.Bytes()
	orig := append([]byte(nil), msg...)
	if !flipCase(msg, 99) {
		t.Fatal("flipCase refused a valid message")
	}
	if !bytes.Equal(bytes.ToLower(msg), bytes.ToLower(orig)) || bytes.Equal(msg, orig) {
		t.Fatalf("flip: %q -> %q", orig, msg)
	}
	var m dnsmessage.Message
	if err := m.Unpack(msg); err != nil {
		t.Fatal(err)
	}
	qn := m.Questions[0].Name.String()
	for _, a := range m.Answers {
		if a.Header.Name.String() != qn {
			t.Errorf("answer owner %q, question %q", a.Header.Name, qn)
		}
	}
	// Malformed messages are left alone.
	for _, bad := range [][]byte{orig[:11], orig[:20], append(append([]byte(nil), orig[:12]...), 0xC0, 0x0C)} {
		b := append([]byte(nil), bad...)
		b[5] = 1 // one question
		c := append([]byte(nil), b...)
		if flipCase(b, 1) || !bytes.Equal(b, c) {
			t.Errorf("malformed message %x changed", c)
		}
	}
}

type flowDir struct{ src, dst netip.AddrPort }

func TestTCPSplit(t *testing.T) {
	in := testFrames(t, nTunnel, nBenign)
	out := mustApply(t, TCPSplit, in, Options{})
	// The original UDP DNS messages per direction, in order.
	want := map[flowDir][][]byte{}
	var others [][]byte
	for _, f := range in {
		d := decode(t, f)
		if d.udp != nil && isDNS(d) && len(d.payload) >= 12 {
			k := flowDir{netip.AddrPortFrom(d.src, uint16(d.udp.SrcPort)), netip.AddrPortFrom(d.dst, uint16(d.udp.DstPort))}
			want[k] = append(want[k], d.payload)
			continue
		}
		others = append(others, f.Data)
	}
	converted := func(k flowDir) bool { return want[k] != nil || want[flowDir{k.dst, k.src}] != nil }
	// Reassemble the variant with the project's TCP reassembler.
	a := tcpstream.New(tcpstream.Config{})
	got := map[flowDir][][]byte{}
	dirOf := map[uint64]flowDir{}
	var keptOthers [][]byte
	seen := map[flowDir]map[uint32]bool{}
	maxSeq := map[flowDir]uint32{}
	var syns, reordered, retrans, segs int
	for i, f := range out {
		d := decode(t, f)
		checkChecksums(t, i, d)
		if d.udp != nil && isDNS(d) {
			t.Fatalf("frame %d: UDP DNS left", i)
		}
		var k flowDir
		if d.tcp != nil {
			k = flowDir{netip.AddrPortFrom(d.src, uint16(d.tcp.SrcPort)), netip.AddrPortFrom(d.dst, uint16(d.tcp.DstPort))}
		}
		if d.tcp == nil || !converted(k) {
			keptOthers = append(keptOthers, f.Data)
			continue
		}
		if d.tcp.SYN {
			syns++
		}
		if n := len(d.payload); n > 0 {
			segs++
			if n > 20 {
				t.Errorf("frame %d: segment of %d bytes", i, n)
			}
			if seen[k] == nil {
				seen[k] = map[uint32]bool{}
				maxSeq[k] = d.tcp.Seq
			}
			if seen[k][d.tcp.Seq] {
				retrans++
			} else if int32(d.tcp.Seq-maxSeq[k]) < 0 {
				reordered++
			}
			seen[k][d.tcp.Seq] = true
			if int32(d.tcp.Seq-maxSeq[k]) > 0 {
				maxSeq[k] = d.tcp.Seq
			}
		}
		var p packet.Packet
		if err := packet.Decode(f.LinkType, f.Data, &p); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		dirOf[uint64(i+1)] = k
		a.Add(uint64(i+1), f.Time, &p, func(frame uint64, msg []byte) {
			k := dirOf[frame]
			got[k] = append(got[k], append([]byte(nil), msg...))
		})
	}
	a.Flush()
	if len(got) != len(want) {
		t.Fatalf("%d directions carry messages, want %d", len(got), len(want))
	}
	for k, w := range want {
		g := got[k]
		if len(g) != len(w) {
			t.Fatalf("%s > %s: %d messages, want %d", k.src, k.dst, len(g), len(w))
		}
		for i := range w {
			if !bytes.Equal(g[i], w[i]) {
				t.Fatalf("%s > %s: message %d differs", k.src, k.dst, i)
			}
		}
	}
	conns := 0
	for k := range want {
		if k.dst.Port() == 53 || want[flowDir{k.dst, k.src}] == nil {
			conns++
		}
	}
	if syns != 2*conns {
		t.Errorf("%d SYNs, want %d (SYN and SYN-ACK of %d connections)", syns, 2*conns, conns)
	}
	if reordered < segs/40 || retrans < segs/40 {
		t.Errorf("%d segments: %d out of order, %d retransmitted", segs, reordered, retrans)
	}
	if len(keptOthers) != len(others) {
		t.Fatalf("%d other frames, want %d", len(keptOthers), len(others))
	}
	for i := range others {
		if !bytes.Equal(others[i], keptOthers[i]) {
			t.Fatalf("other frame %d changed", i)
		}
	}
	t.Logf("%d frames -> %d: %d segments, %d out of order, %d retransmitted, %d connections", len(in), len(out), segs, reordered, retrans, conns)
}

func TestOffPort(t *testing.T) {
	in := testFrames(t, nTunnel, nBenign)
	out := mustApply(t, OffPort, in, Options{})
	if len(out) != len(in) {
		t.Fatalf("%d frames, want %d", len(out), len(in))
	}
	portOf := map[netip.AddrPort]uint16{}
	var to5353, toHigh int
	for i := range in {
		a, b := in[i].Data, out[i].Data
		da, db := decode(t, in[i]), decode(t, out[i])
		checkChecksums(t, i, db)
		if !isDNS(da) {
			if !bytes.Equal(a, b) {
				t.Fatalf("frame %d: non-DNS frame changed", i)
			}
			continue
		}
		if len(a) != len(b) || in[i].Time != out[i].Time || !bytes.Equal(da.payload, db.payload) {
			t.Fatalf("frame %d: more than ports changed", i)
		}
		// Offsets of the transport header: only ports and checksum differ.
		l4 := da.l4off
		sumAt := l4 + 6
		if da.tcp != nil {
			sumAt = l4 + 16
		}
		for k := range a {
			if a[k] != b[k] && !(k >= l4 && k < l4+4) && k != sumAt && k != sumAt+1 {
				t.Fatalf("frame %d: byte %d changed", i, k)
			}
		}
		var sa, sb [2]uint16
		if da.udp != nil {
			sa = [2]uint16{uint16(da.udp.SrcPort), uint16(da.udp.DstPort)}
			sb = [2]uint16{uint16(db.udp.SrcPort), uint16(db.udp.DstPort)}
		} else {
			sa = [2]uint16{uint16(da.tcp.SrcPort), uint16(da.tcp.DstPort)}
			sb = [2]uint16{uint16(db.tcp.SrcPort), uint16(db.tcp.DstPort)}
		}
		srv, cli := 0, 1
		client := netip.AddrPortFrom(da.dst, sa[1])
		if sa[1] == 53 {
			srv, cli = 1, 0
			client = netip.AddrPortFrom(da.src, sa[0])
		}
		if sb[cli] != sa[cli] || sb[srv] == 53 || sb[srv] < 1024 {
			t.Fatalf("frame %d: ports %v -> %v", i, sa, sb)
		}
		if p, ok := portOf[client]; ok && p != sb[srv] {
			t.Fatalf("frame %d: client %s moved to %d and %d", i, client, p, sb[srv])
		} else if !ok {
			portOf[client] = sb[srv]
			if sb[srv] == 5353 {
				to5353++
			} else {
				toHigh++
			}
		}
	}
	n := to5353 + toHigh
	if to5353 < n*4/10 || toHigh < n*4/10 {
		t.Errorf("%d clients on 5353, %d on high ports", to5353, toHigh)
	}
}

func TestSlow(t *testing.T) {
	in := testFrames(t, nTunnel, nBenign)
	out := mustApply(t, Slow, in, Options{})
	if len(out) != len(in) {
		t.Fatal("frame count changed")
	}
	for i := range in {
		if !bytes.Equal(in[i].Data, out[i].Data) {
			t.Fatalf("frame %d changed", i)
		}
		if got, want := out[i].Time-out[0].Time, (in[i].Time-in[0].Time)*60; got != want {
			t.Fatalf("frame %d: delta %d, want %d", i, got, want)
		}
	}
	if span := out[len(out)-1].Time - out[0].Time; span < int64(9*60*60e9) {
		t.Errorf("slowed capture spans %ds, want about 10 hours", span/1e9)
	}
}

func TestSpread(t *testing.T) {
	in := testFrames(t, nTunnel, nBenign)
	out := mustApply(t, Spread, in, Options{})
	if len(out) != len(in) {
		t.Fatal("frame count changed")
	}
	original := map[netip.Addr]bool{}
	for _, f := range in {
		d := decode(t, f)
		original[d.src], original[d.dst] = true, true
	}
	tunnelPfx := netip.MustParsePrefix("10.9.0.0/16")
	var tunnelSrcs []netip.Addr
	queryAddr := map[uint16]netip.Addr{}
	for i := range in {
		da, db := decode(t, in[i]), decode(t, out[i])
		checkChecksums(t, i, db)
		if !isDNS(da) {
			if !bytes.Equal(in[i].Data, out[i].Data) {
				t.Fatalf("frame %d: non-DNS frame changed", i)
			}
			continue
		}
		if !bytes.Equal(da.payload, db.payload) {
			t.Fatalf("frame %d: payload changed", i)
		}
		isQuery := (da.udp != nil && da.udp.DstPort == 53) || (da.tcp != nil && da.tcp.DstPort == 53)
		server, client, newClient := da.dst, da.src, db.src
		if !isQuery {
			server, client, newClient = da.src, da.dst, db.dst
		}
		if (isQuery && db.dst != server) || (!isQuery && db.src != server) {
			t.Fatalf("frame %d: server address changed", i)
		}
		pa, _ := client.Prefix(16)
		if client.Is6() {
			pa, _ = client.Prefix(112)
		}
		if !pa.Contains(newClient) || original[newClient] {
			t.Fatalf("frame %d: client %s became %s", i, client, newClient)
		}
		if client == tunnelClient.Addr() && da.udp != nil {
			id := binary.BigEndian.Uint16(da.payload)
			if isQuery {
				tunnelSrcs = append(tunnelSrcs, newClient)
				queryAddr[id] = newClient
			} else if queryAddr[id] != newClient {
				t.Fatalf("frame %d: response to %s, query came from %s", i, newClient, queryAddr[id])
			}
		}
	}
	distinct := map[netip.Addr]bool{}
	for _, a := range tunnelSrcs {
		distinct[a] = true
		if !tunnelPfx.Contains(a) {
			t.Fatalf("tunnel client %s outside %s", a, tunnelPfx)
		}
	}
	if len(distinct) != 50 {
		t.Errorf("tunnel queries from %d addresses, want 50", len(distinct))
	}
}

func TestDeterministic(t *testing.T) {
	in := testFrames(t, 40, 100)
	for _, k := range Kinds {
		a := mustApply(t, k, in, Options{Seed: 5})
		b := mustApply(t, k, in, Options{Seed: 5})
		c := mustApply(t, k, in, Options{Seed: 6})
		if !framesEqual(a, b) {
			t.Errorf("%s: same seed, different output", k)
		}
		if k != Slow && framesEqual(a, c) {
			t.Errorf("%s: seeds 5 and 6 give the same output", k)
		}
	}
}

func framesEqual(a, b []Frame) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Time != b[i].Time || a[i].LinkType != b[i].LinkType || a[i].OrigLen != b[i].OrigLen || !bytes.Equal(a[i].Data, b[i].Data) {
			return false
		}
	}
	return true
}

// TestTruncatedFramesUntouched: frames cut by the snapshot length are
// copied as they are by every kind but slow (which only moves time).
func TestTruncatedFramesUntouched(t *testing.T) {
	big := testcap.UDP(testcap.Ethernet, resolver, tunnelClient, testcap.Response(1, "a.example.com", testcap.TypeTXT, 0,
		testcap.AnswerTXT(strings.Repeat("y", 250))))
	in := []Frame{{Time: 1, LinkType: 1, OrigLen: len(big), Data: big[:100]}}
	for _, k := range Kinds {
		out := mustApply(t, k, in, Options{})
		if !framesEqual(out, in) {
			t.Errorf("%s changed a truncated frame", k)
		}
	}
}

func TestParseKinds(t *testing.T) {
	ks, err := ParseKinds("case, slow,case")
	if err != nil || fmt.Sprint(ks) != "[case slow]" {
		t.Fatalf("got %v, %v", ks, err)
	}
	if ks, _ := ParseKinds(""); len(ks) != len(Kinds) {
		t.Fatalf("empty: %v", ks)
	}
	if _, err := ParseKinds("case,bogus"); err == nil {
		t.Fatal("bogus kind accepted")
	}
}

func TestSplitName(t *testing.T) {
	for _, c := range []struct{ in, dir, stem string }{
		{"ggy/iodine.pcap", "ggy", "iodine"},
		{"a.pcapng.zst", ".", "a"},
		{"../x/b.cap.gz", "", "b"},
		{"/abs/c.pcap", "", "c"},
	} {
		if d, s := splitName(c.in); d != c.dir || s != c.stem {
			t.Errorf("splitName(%q) = %q, %q; want %q, %q", c.in, d, s, c.dir, c.stem)
		}
	}
}
