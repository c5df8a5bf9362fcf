package ipreasm

import (
	"bytes"
	"encoding/binary"
	"math/rand"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/dnsieve/dnsieve/internal/packet"
	"github.com/dnsieve/dnsieve/internal/testcap"
)

// stepFor returns a fragment size that splits a datagram of n bytes into
// exactly k fragments.
func stepFor(t testing.TB, n, k int) int {
	for step := 8; step < n; step += 8 {
		if (n+step-1)/step == k {
			return step
		}
	}
	t.Fatalf("no fragment size splits %d bytes in %d", n, k)
	return 0
}

func TestInOrder(t *testing.T) {
	msg := bigResponse(0x1111, "big.example.com", 4000)
	cases := []struct {
		name  string
		pkts  []*packet.Packet
		wantG got
	}{
		{"ipv4", fragments4(t, msg, 1480, 0x1234), got{}},
		{"ipv6", fragments6(t, msg, 1448, 0xdeadbeef), got{}},
		{"ipv6 hop-by-hop dest-opts", fragments6(t, msg, 1440, 7, testcap.WithHopByHop(), testcap.WithDestinationOptions()), got{}},
	}
	for _, c := range cases {
		n := len(c.pkts)
		if n != 3 {
			t.Fatalf("%s: %d fragments", c.name, n)
		}
		want := want4(n, msg)
		if c.name != "ipv4" {
			want = want6(n, msg)
		}
		r := New(Config{})
		res := feed(t, r, c.pkts, nil, nil)
		if !equalGot(res, []got{want}) {
			t.Fatalf("%s: got %v, want %v", c.name, res, want)
		}
		if st := r.Stats(); st != (Stats{Fragments: uint64(n), Datagrams: 1}) {
			t.Fatalf("%s: stats %+v", c.name, st)
		}
	}
}

func TestEveryPermutation(t *testing.T) {
	msg := bigResponse(0x2222, "perm.example.net", 1100)
	dg4 := len(udpBytes(srv4, cli4, msg))
	cases := map[string][]*packet.Packet{
		"ipv4":           fragments4(t, msg, stepFor(t, dg4, 5), 99),
		"ipv6":           fragments6(t, msg, stepFor(t, dg4, 5), 99),
		"ipv6 dest-opts": fragments6(t, msg, stepFor(t, dg4+8, 5), 99, testcap.WithDestinationOptions()),
	}
	for name, pkts := range cases {
		if len(pkts) != 5 {
			t.Fatalf("%s: %d fragments", name, len(pkts))
		}
		want := want4(5, msg)
		if name != "ipv4" {
			want = want6(5, msg)
		}
		r := New(Config{})
		perms := 0
		permutations(5, func(order []int) {
			res := feed(t, r, pkts, order, nil)
			if !equalGot(res, []got{want}) {
				t.Fatalf("%s order %v: got %v", name, order, res)
			}
			perms++
		})
		if perms != 120 {
			t.Fatalf("%d permutations", perms)
		}
		if st := r.Stats(); st != (Stats{Fragments: 5 * 120, Datagrams: 120}) {
			t.Fatalf("%s: stats %+v", name, st)
		}
	}
}

// TestSmallFragments splits messages into 8-byte fragments (the smallest
// non-final size) with a final fragment of 1 to 8 bytes, and feeds them in
// order, reversed and shuffled.
func TestSmallFragments(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for extra := range 8 {
		msg := bigResponse(0x3333, "tiny.example.org", 200)
		msg = append(msg, make([]byte, extra)...) // trailing bytes: only the length matters here
		for _, v6 := range []bool{false, true} {
			var pkts []*packet.Packet
			want := want4(0, msg)
			if v6 {
				pkts = fragments6(t, msg, 8, 5)
				want = want6(0, msg)
			} else {
				pkts = fragments4(t, msg, 8, 5)
			}
			n := len(pkts)
			if last := len(pkts[n-1].Frag.Data); last != (len(msg)+7)%8+1 {
				t.Fatalf("final fragment holds %d bytes", last)
			}
			rev := make([]int, n)
			for i := range rev {
				rev[i] = n - 1 - i
			}
			r := New(Config{MaxFragments: 128})
			for _, order := range [][]int{nil, rev, rng.Perm(n), rng.Perm(n)} {
				res := feed(t, r, pkts, order, nil)
				want.frame = n
				if !equalGot(res, []got{want}) {
					t.Fatalf("v6=%v extra=%d: got %v", v6, extra, res)
				}
			}
			if st := r.Stats(); st != (Stats{Fragments: uint64(4 * n), Datagrams: 4}) {
				t.Fatalf("stats %+v", st)
			}
		}
	}
}

func TestDuplicates(t *testing.T) {
	msg := bigResponse(0x4444, "dup.example.com", 3000)
	pkts := fragments4(t, msg, 1024, 1) // 3 fragments
	// Every fragment twice in a row: the datagram completes with the first
	// copy of the last fragment; its repeat starts a new datagram.
	r := New(Config{})
	res := feed(t, r, pkts, []int{0, 0, 1, 1, 2, 2}, nil)
	if !equalGot(res, []got{want4(5, msg)}) {
		t.Fatalf("got %v", res)
	}
	// The new datagram reuses the completed one's buffer, sized to it.
	size := uint64(len(udpBytes(srv4, cli4, msg)))
	if st := r.Stats(); st != (Stats{Fragments: 6, Datagrams: 1, Duplicates: 2, Active: 1, BufferedBytes: size}) {
		t.Fatalf("stats %+v", st)
	}
	// Repeats out of order.
	r = New(Config{})
	res = feed(t, r, pkts, []int{2, 1, 2, 1, 2, 0}, nil)
	if !equalGot(res, []got{want4(6, msg)}) {
		t.Fatalf("got %v", res)
	}
	if st := r.Stats(); st != (Stats{Fragments: 6, Datagrams: 1, Duplicates: 3}) {
		t.Fatalf("stats %+v", st)
	}
	// IPv6 duplicates are harmless too (RFC 5722 exempts them).
	p6 := fragments6(t, msg, 1024, 1)
	r = New(Config{})
	res = feed(t, r, p6, []int{1, 0, 1, 0, 2}, nil)
	if !equalGot(res, []got{want6(5, msg)}) {
		t.Fatalf("got %v", res)
	}
	if st := r.Stats(); st != (Stats{Fragments: 5, Datagrams: 1, Duplicates: 2}) {
		t.Fatalf("stats %+v", st)
	}
}

// overlapFrags returns three fragments of the UDP datagram u: [0,64),
// [48,128) and [128,len), where the middle one's bytes 48..63 come from
// alt (the genuine bytes when alt is u).
func overlapFrags(t *testing.T, v6 bool, u, alt []byte) []*packet.Packet {
	mid := append(append([]byte(nil), alt[48:64]...), u[64:128]...)
	if v6 {
		return []*packet.Packet{
			frag6(t, srv6.Addr(), cli6.Addr(), 77, packet.ProtoUDP, 0, true, u[:64]),
			frag6(t, srv6.Addr(), cli6.Addr(), 77, packet.ProtoUDP, 48, true, mid),
			frag6(t, srv6.Addr(), cli6.Addr(), 77, packet.ProtoUDP, 128, false, u[128:]),
		}
	}
	return []*packet.Packet{
		frag4(t, srv4.Addr(), cli4.Addr(), 77, packet.ProtoUDP, 0, true, u[:64]),
		frag4(t, srv4.Addr(), cli4.Addr(), 77, packet.ProtoUDP, 48, true, mid),
		frag4(t, srv4.Addr(), cli4.Addr(), 77, packet.ProtoUDP, 128, false, u[128:]),
	}
}

// forge returns a copy of u with bytes 48..63 changed.
func forge(u []byte) []byte {
	f := append([]byte(nil), u...)
	for i := 48; i < 64; i++ {
		f[i] ^= 0x5a
	}
	return f
}

func TestOverlapIPv4FirstWins(t *testing.T) {
	msg := bigResponse(0x5555, "overlap.example.com", 300)
	u := udpBytes(srv4, cli4, msg)
	forged := forge(u)
	// Same bytes: the overlap is harmless whatever the order.
	pkts := overlapFrags(t, false, u, u)
	permutations(3, func(order []int) {
		r := New(Config{})
		res := feed(t, r, pkts, order, nil)
		if !equalGot(res, []got{want4(3, msg)}) {
			t.Fatalf("order %v: got %v", order, res)
		}
		if st := r.Stats(); st != (Stats{Fragments: 3, Datagrams: 1, Overlaps: 1}) {
			t.Fatalf("order %v: stats %+v", order, st)
		}
	})
	// Different bytes: whichever of fragments 0 and 1 came first wins.
	pkts = overlapFrags(t, false, u, forged)
	permutations(3, func(order []int) {
		r := New(Config{})
		res := feed(t, r, pkts, order, nil)
		want := want4(3, msg)
		if bytes.IndexByte(bytesOfInts(order), 1) < bytes.IndexByte(bytesOfInts(order), 0) {
			want.payload = string(forged[8:])
		}
		if !equalGot(res, []got{want}) {
			t.Fatalf("order %v: got %v", order, res)
		}
		if st := r.Stats(); st != (Stats{Fragments: 3, Datagrams: 1, Overlaps: 1, Conflicts: 1}) {
			t.Fatalf("order %v: stats %+v", order, st)
		}
	})
}

func bytesOfInts(v []int) []byte {
	b := make([]byte, len(v))
	for i, x := range v {
		b[i] = byte(x)
	}
	return b
}

// TestOverlapFillsHoles sends a fragment that spans two held pieces and
// the holes around them: only the holes are taken from it.
func TestOverlapFillsHoles(t *testing.T) {
	msg := bigResponse(0x5656, "holes.example.com", 300)
	u := udpBytes(srv4, cli4, msg)
	alt := make([]byte, len(u))
	for i := range alt {
		alt[i] = u[i] ^ 0xff
	}
	a, b := netip.Addr(srv4.Addr()), cli4.Addr()
	cover := append(append([]byte(nil), u[:16]...), alt[16:96]...) // held ranges get alt bytes
	copy(cover[16:32], u[16:32])                                   // the first hole gets genuine bytes
	copy(cover[48:64], u[48:64])                                   // so does the second
	copy(cover[80:96], u[80:96])                                   // and the third
	pkts := []*packet.Packet{
		frag4(t, a, b, 9, packet.ProtoUDP, 0, true, u[:16]),
		frag4(t, a, b, 9, packet.ProtoUDP, 32, true, u[32:48]),
		frag4(t, a, b, 9, packet.ProtoUDP, 64, true, u[64:80]),
		frag4(t, a, b, 9, packet.ProtoUDP, 0, true, cover),
		frag4(t, a, b, 9, packet.ProtoUDP, 96, false, u[96:]),
	}
	r := New(Config{})
	res := feed(t, r, pkts, nil, nil)
	if !equalGot(res, []got{want4(5, msg)}) {
		t.Fatalf("got %v", res)
	}
	if st := r.Stats(); st != (Stats{Fragments: 5, Datagrams: 1, Overlaps: 1, Conflicts: 1}) {
		t.Fatalf("stats %+v", st)
	}
}

func TestOverlapIPv6Drops(t *testing.T) {
	msg := bigResponse(0x6666, "overlap6.example.com", 300)
	u := udpBytes(srv6, cli6, msg)
	for _, alt := range [][]byte{u, forge(u)} {
		conflicts := uint64(0)
		if !bytes.Equal(alt, u) {
			conflicts = 1
		}
		pkts := overlapFrags(t, true, u, alt)
		permutations(3, func(order []int) {
			r := New(Config{})
			if res := feed(t, r, pkts, order, nil); len(res) != 0 {
				t.Fatalf("order %v: overlapping IPv6 datagram completed: %v", order, res)
			}
			// The later of fragments 0 and 1 drops the datagram; what comes
			// after it starts a new one.
			drop := max(bytes.IndexByte(bytesOfInts(order), 0), bytes.IndexByte(bytesOfInts(order), 1))
			active := uint64(0)
			if drop < 2 {
				active = 1
			}
			want := Stats{Fragments: 3, Overlaps: 1, Conflicts: conflicts, Discarded: 1, Active: active}
			if active == 1 {
				want.BufferedBytes = minBuf
			}
			if st := r.Stats(); st != want {
				t.Fatalf("order %v: stats %+v, want %+v", order, st, want)
			}
			// No tombstone: clean fragments sent again are reassembled.
			clean := []*packet.Packet{pkts[0], frag6(t, srv6.Addr(), cli6.Addr(), 77, packet.ProtoUDP, 64, true, u[64:128]), pkts[2]}
			r.Flush()
			if res := feed(t, r, clean, nil, nil); !equalGot(res, []got{want6(3, msg)}) {
				t.Fatalf("order %v: resent datagram: %v", order, res)
			}
		})
	}
	// A fragment inside held data is ignored, first copy wins (as Linux
	// does); the datagram completes.
	forged := forge(u)
	inside := frag6(t, srv6.Addr(), cli6.Addr(), 78, packet.ProtoUDP, 48, true, forged[48:64])
	pkts := []*packet.Packet{
		frag6(t, srv6.Addr(), cli6.Addr(), 78, packet.ProtoUDP, 0, true, u[:128]),
		inside,
		frag6(t, srv6.Addr(), cli6.Addr(), 78, packet.ProtoUDP, 128, false, u[128:]),
	}
	r := New(Config{})
	if res := feed(t, r, pkts, nil, nil); !equalGot(res, []got{want6(3, msg)}) {
		t.Fatalf("contained overlap: %v", res)
	}
	if st := r.Stats(); st != (Stats{Fragments: 3, Datagrams: 1, Overlaps: 1, Conflicts: 1}) {
		t.Fatalf("contained overlap: stats %+v", st)
	}
	// The other way round the later fragment brings new bytes: dropped.
	r = New(Config{})
	if res := feed(t, r, pkts, []int{1, 0, 2}, nil); len(res) != 0 {
		t.Fatalf("got %v", res)
	}
	if st := r.Stats(); st != (Stats{Fragments: 3, Overlaps: 1, Conflicts: 1, Discarded: 1, Active: 1, BufferedBytes: minBuf}) {
		t.Fatalf("stats %+v", st)
	}
}

// TestTinyFirstFragment splits the transport header itself (RFC 1858):
// an IPv4 TCP segment whose first fragment holds 8 bytes of the TCP header,
// and an IPv6 datagram whose first fragment is only a Destination Options
// header.
func TestTinyFirstFragment(t *testing.T) {
	msg := bigResponse(0x7777, "tcp.example.com", 100)
	stream := binary.BigEndian.AppendUint16(nil, uint16(len(msg)))
	stream = append(stream, msg...)
	tcp := &layers.TCP{SrcPort: 53, DstPort: 40000, Seq: 0xfeedf00d, ACK: true, PSH: true, Window: 1000, DataOffset: 5}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, tcp, gopacket.Payload(stream)); err != nil {
		t.Fatal(err)
	}
	seg := buf.Bytes()
	a, b := srv4.Addr(), cli4.Addr()
	pkts := []*packet.Packet{
		frag4(t, a, b, 3, packet.ProtoTCP, 0, true, seg[:8]),
		frag4(t, a, b, 3, packet.ProtoTCP, 8, true, seg[8:24]),
		frag4(t, a, b, 3, packet.ProtoTCP, 24, false, seg[24:]),
	}
	permutations(3, func(order []int) {
		r := New(Config{})
		var out packet.Packet
		for i, j := range order {
			done := r.Add(uint64(i+1), 0, pkts[j], &out)
			if done != (i == 2) {
				t.Fatalf("order %v: fragment %d returned %v", order, i, done)
			}
		}
		if out.Proto != packet.ProtoTCP || out.SrcPort != 53 || out.DstPort != 40000 || out.TCPSeq != 0xfeedf00d ||
			out.TCPFlags != packet.TCPFlagACK|packet.TCPFlagPSH || !bytes.Equal(out.Payload, stream) || out.Src != a || out.Dst != b {
			t.Fatalf("order %v: got %+v", order, out)
		}
	})

	p6 := fragments6(t, msg, 8, 11, testcap.WithDestinationOptions())
	if len(p6[0].Frag.Data) != 8 || p6[0].Frag.Proto != 60 || p6[0].SrcPort != 0 {
		t.Fatalf("first fragment decoded a transport header: %+v", p6[0])
	}
	r := New(Config{MaxFragments: 1000})
	rev := make([]int, len(p6))
	for i := range rev {
		rev[i] = len(p6) - 1 - i
	}
	if res := feed(t, r, p6, rev, nil); !equalGot(res, []got{want6(len(p6), msg)}) {
		t.Fatalf("ipv6 tiny first fragment: %v", res)
	}
}

// TestFragmentLengthRules covers non-final fragments whose length is not a
// multiple of 8 and fragments disagreeing with the datagram's end.
func TestFragmentLengthRules(t *testing.T) {
	msg := bigResponse(0x8888, "rules.example.com", 200)
	u := udpBytes(srv4, cli4, msg)
	a, b := srv4.Addr(), cli4.Addr()
	forged := append([]byte(nil), u[:9]...)
	forged[8] ^= 0xff

	// IPv4: a 9-byte non-final fragment is cut to 8 bytes (Linux); its
	// ninth byte is never used.
	r := New(Config{})
	res := feed(t, r, []*packet.Packet{
		frag4(t, a, b, 1, packet.ProtoUDP, 0, true, forged),
		frag4(t, a, b, 1, packet.ProtoUDP, 8, false, u[8:]),
	}, nil, nil)
	if !equalGot(res, []got{want4(2, msg)}) {
		t.Fatalf("got %v", res)
	}
	if st := r.Stats(); st != (Stats{Fragments: 2, Datagrams: 1}) {
		t.Fatalf("stats %+v", st)
	}

	// IPv4: a 1-byte non-final fragment is empty once cut: invalid.
	// IPv6: a non-final fragment that is not a multiple of 8 is invalid
	// (RFC 8200 section 4.5), and so is an empty one.
	r = New(Config{})
	feed(t, r, []*packet.Packet{
		frag4(t, a, b, 2, packet.ProtoUDP, 8, true, u[8:9]),
		frag6(t, srv6.Addr(), cli6.Addr(), 2, packet.ProtoUDP, 0, true, u[:9]),
		frag6(t, srv6.Addr(), cli6.Addr(), 2, packet.ProtoUDP, 8, true, nil),
	}, nil, nil)
	if st := r.Stats(); st != (Stats{Fragments: 3, Invalid: 3}) {
		t.Fatalf("stats %+v", st)
	}

	// Disagreeing ends: a second final fragment ending elsewhere, data past
	// the known end, a final fragment ending before held data.
	r = New(Config{})
	res = feed(t, r, []*packet.Packet{
		frag4(t, a, b, 3, packet.ProtoUDP, 64, false, u[64:]),
		frag4(t, a, b, 3, packet.ProtoUDP, 64, false, u[64:len(u)-1]),
		frag4(t, a, b, 3, packet.ProtoUDP, 64, true, append(append([]byte(nil), u[64:]...), make([]byte, 16)...)),
		frag4(t, a, b, 4, packet.ProtoUDP, 64, true, u[64:128]),
		frag4(t, a, b, 4, packet.ProtoUDP, 8, false, u[8:64]),
		frag4(t, a, b, 3, packet.ProtoUDP, 0, true, u[:64]),
	}, nil, nil)
	if !equalGot(res, []got{want4(6, msg)}) {
		t.Fatalf("got %v", res)
	}
	if st := r.Stats(); st != (Stats{Fragments: 6, Datagrams: 1, Invalid: 3, Active: 1, BufferedBytes: minBuf}) {
		t.Fatalf("stats %+v", st)
	}
}

func TestTimeout(t *testing.T) {
	msg := bigResponse(0x9999, "slow.example.com", 3000)
	pkts := fragments4(t, msg, 1024, 10) // 3 fragments
	other := fragments4(t, msg, 1024, 11)
	const s = int64(1e9)
	r := New(Config{})
	// Fragments 0 and 1, then 31 s of silence: the datagram is dropped and
	// fragment 2 starts a new one.
	seq := []*packet.Packet{pkts[0], pkts[1], other[0], pkts[2]}
	times := []int64{0, s, 32 * s, 32 * s}
	res := feed(t, r, seq, nil, func(i int) int64 { return times[i] })
	if len(res) != 0 {
		t.Fatalf("got %v", res)
	}
	if st := r.Stats(); st != (Stats{Fragments: 4, TimedOut: 1, Active: 2, BufferedBytes: 2 * minBuf}) {
		t.Fatalf("stats %+v", st)
	}
	// Exactly Timeout of silence is still in time, and the timeout counts
	// from the latest fragment: 3 fragments 30 s apart complete.
	r = New(Config{})
	res = feed(t, r, pkts, nil, func(i int) int64 { return int64(i) * 30 * s })
	if !equalGot(res, []got{want4(3, msg)}) {
		t.Fatalf("got %v", res)
	}
	// Capture time going back does not move the clock back.
	r = New(Config{Timeout: 10})
	res = feed(t, r, pkts, nil, func(i int) int64 { return []int64{100, 5, 111}[i] })
	if len(res) != 0 || r.Stats().TimedOut != 1 {
		t.Fatalf("got %v, stats %+v", res, r.Stats())
	}
	r.Flush()
	if st := r.Stats(); st.Flushed != 1 || st.Active != 0 || st.BufferedBytes != 0 {
		t.Fatalf("after Flush: %+v", st)
	}
}

// firstFragments returns n first fragments (1480 bytes, More set) of
// distinct IPv4 datagrams.
func firstFragments(t testing.TB, n int) []*packet.Packet {
	data := make([]byte, 1480)
	out := make([]*packet.Packet, n)
	for i := range out {
		out[i] = frag4(t, srv4.Addr(), cli4.Addr(), uint16(i), packet.ProtoUDP, 0, true, data)
	}
	return out
}

func TestFloodStaysBounded(t *testing.T) {
	flood := firstFragments(t, 1000)
	// Bytes: each incomplete datagram holds a 2048-byte buffer, so 31 fit
	// in 64 KiB - 1.
	r := New(Config{MaxTotalBytes: 65535})
	feed(t, r, flood, nil, nil)
	if st := r.Stats(); st != (Stats{Fragments: 1000, Evicted: 969, Active: 31, BufferedBytes: 31 * minBuf}) {
		t.Fatalf("stats %+v", st)
	}
	// A genuine datagram still goes through the flood when its fragments
	// are close together.
	msg := bigResponse(0xaaaa, "legit.example.com", 2500)
	legit := fragments4(t, msg, 1480, 0xffff)
	res := feed(t, r, append([]*packet.Packet{legit[0]}, legit[1:]...), nil, nil)
	if !equalGot(res, []got{want4(len(legit), msg)}) {
		t.Fatalf("got %v", res)
	}
	// Datagram count.
	r = New(Config{MaxDatagrams: 10})
	feed(t, r, flood, nil, nil)
	if st := r.Stats(); st != (Stats{Fragments: 1000, Evicted: 990, Active: 10, BufferedBytes: 10 * minBuf}) {
		t.Fatalf("stats %+v", st)
	}
	// Fragments claiming a far offset cost what they hold, not the offset.
	r = New(Config{MaxTotalBytes: 65535})
	var far []*packet.Packet
	for i := range 100 {
		far = append(far, frag4(t, srv4.Addr(), cli4.Addr(), uint16(i), packet.ProtoUDP, 65000, false, make([]byte, 16)))
	}
	feed(t, r, far, nil, nil)
	if st := r.Stats(); st != (Stats{Fragments: 100, Evicted: 69, Active: 31, BufferedBytes: 31 * minBuf}) {
		t.Fatalf("stats %+v", st)
	}
}

func TestTooLarge(t *testing.T) {
	a, b := srv4.Addr(), cli4.Addr()
	r := New(Config{})
	// Ping of death: the final fragment ends at 65528+16 > 65535.
	res := feed(t, r, []*packet.Packet{
		frag4(t, a, b, 1, packet.ProtoUDP, 0, true, make([]byte, 1480)),
		frag4(t, a, b, 1, packet.ProtoUDP, 65528, false, make([]byte, 16)),
		frag6(t, srv6.Addr(), cli6.Addr(), 1, packet.ProtoUDP, 65528, true, make([]byte, 8)),
	}, nil, nil)
	if len(res) != 0 {
		t.Fatalf("got %v", res)
	}
	if st := r.Stats(); st != (Stats{Fragments: 3, TooLarge: 2, Active: 1, BufferedBytes: minBuf}) {
		t.Fatalf("stats %+v", st)
	}
	// A smaller cap.
	r = New(Config{MaxDatagramLen: 1000})
	msg := bigResponse(1, "x.example", 1200)
	feed(t, r, fragments4(t, msg, 512, 1), nil, nil)
	if st := r.Stats(); st.TooLarge != 2 || st.Datagrams != 0 || r.cfg.MaxTotalBytes != DefaultMaxTotalBytes {
		t.Fatalf("stats %+v", st)
	}
}

func TestTooManyFragments(t *testing.T) {
	for _, n := range []int{64, 65} {
		msg := make([]byte, n*8-8-3) // UDP header + msg = n*8 - 3 bytes
		pkts := fragments4(t, msg, 8, 1)
		if len(pkts) != n {
			t.Fatalf("%d fragments", len(pkts))
		}
		// Every fragment twice: duplicates do not count.
		order := make([]int, 0, 2*n)
		for i := range n {
			order = append(order, i, i)
		}
		pkts2 := make([]*packet.Packet, 2*n)
		for i, j := range order {
			pkts2[i] = pkts[j]
		}
		r := New(Config{})
		res := feed(t, r, pkts2, nil, nil)
		var want Stats
		if n == 64 {
			if !equalGot(res, []got{want4(127, msg)}) {
				t.Fatalf("got %v", res)
			}
			want = Stats{Fragments: 128, Datagrams: 1, Duplicates: 63, Active: 1, BufferedBytes: minBuf}
		} else {
			if len(res) != 0 {
				t.Fatalf("got %v", res)
			}
			// Fragment 65 drops the datagram; its copy starts a new one.
			want = Stats{Fragments: 130, Duplicates: 64, TooMany: 1, Active: 1, BufferedBytes: minBuf}
		}
		if st := r.Stats(); st != want {
			t.Fatalf("n=%d: stats %+v, want %+v", n, st, want)
		}
	}
}

func TestIgnoredAndUnusable(t *testing.T) {
	r := New(Config{})
	var out packet.Packet
	whole := &packet.Packet{Src: srv4.Addr(), Dst: cli4.Addr(), Proto: packet.ProtoUDP}
	icmp := frag4(t, srv4.Addr(), cli4.Addr(), 1, 1, 0, true, make([]byte, 16))
	if r.Add(1, 0, nil, &out) || r.Add(2, 0, whole, &out) || r.Add(3, 0, icmp, &out) {
		t.Fatal("completed")
	}
	if st := r.Stats(); st != (Stats{Ignored: 3}) {
		t.Fatalf("stats %+v", st)
	}

	msg := bigResponse(2, "bad.example", 100)
	u := udpBytes(srv4, cli4, msg)
	cases := map[string]struct {
		v6   bool
		next uint8
		data []byte
	}{
		"udp length too long":    {false, packet.ProtoUDP, binary.BigEndian.AppendUint16(append([]byte(nil), u[:4]...), uint16(len(u)+1))},
		"udp length below 8":     {false, packet.ProtoUDP, binary.BigEndian.AppendUint16(append([]byte(nil), u[:4]...), 7)},
		"ipv6 no next header":    {true, 59, u[:6]},
		"ipv6 truncated options": {true, 60, []byte{17, 200, 0, 0, 0, 0}},
		"tcp data offset 0":      {false, packet.ProtoTCP, u[:6]},
	}
	for name, c := range cases {
		r := New(Config{})
		head := append(append([]byte(nil), c.data...), u[len(c.data):8]...)
		var pkts []*packet.Packet
		if c.v6 {
			pkts = []*packet.Packet{
				frag6(t, srv6.Addr(), cli6.Addr(), 1, c.next, 0, true, head),
				frag6(t, srv6.Addr(), cli6.Addr(), 1, packet.ProtoUDP, 8, false, u[8:]),
			}
		} else {
			pkts = []*packet.Packet{
				frag4(t, srv4.Addr(), cli4.Addr(), 1, c.next, 0, true, head),
				frag4(t, srv4.Addr(), cli4.Addr(), 1, c.next, 8, false, u[8:]),
			}
		}
		if res := feed(t, r, pkts, nil, nil); len(res) != 0 {
			t.Fatalf("%s: got %v", name, res)
		}
		if st := r.Stats(); st != (Stats{Fragments: 2, Unusable: 1}) {
			t.Fatalf("%s: stats %+v", name, st)
		}
	}
	// UDP length shorter than the datagram trims the payload; 0 means all.
	for _, ulen := range []int{len(u) - 10, 0} {
		head := binary.BigEndian.AppendUint16(append([]byte(nil), u[:4]...), uint16(ulen))
		head = append(head, u[6:8]...)
		r := New(Config{})
		res := feed(t, r, []*packet.Packet{
			frag4(t, srv4.Addr(), cli4.Addr(), 1, packet.ProtoUDP, 0, true, head),
			frag4(t, srv4.Addr(), cli4.Addr(), 1, packet.ProtoUDP, 8, false, u[8:]),
		}, nil, nil)
		want := want4(2, msg)
		if ulen != 0 {
			want.payload = string(u[8:ulen])
		}
		if !equalGot(res, []got{want}) {
			t.Fatalf("udp length %d: got %v", ulen, res)
		}
	}
}

// TestOutMayBeInput passes the same Packet as fragment and result.
func TestOutMayBeInput(t *testing.T) {
	msg := bigResponse(0xbbbb, "alias.example.com", 2000)
	pkts := fragments6(t, msg, 1024, 3)
	r := New(Config{})
	var done bool
	for i, p := range pkts {
		cp := *p
		done = r.Add(uint64(i+1), 0, &cp, &cp)
		if done {
			if cp.Src != srv6.Addr() || cp.DstPort != cli6.Port() || !bytes.Equal(cp.Payload, msg) || cp.Frag.IsFragment {
				t.Fatalf("got %+v", cp)
			}
		}
	}
	if !done {
		t.Fatal("not completed")
	}
}

// twoFragmentSets returns n datagrams of two fragments each, with distinct
// identifications.
func twoFragmentSets(t testing.TB, n int) [][]*packet.Packet {
	msg := bigResponse(0xcccc, "bench.example.com", 2000)
	sets := make([][]*packet.Packet, n)
	for i := range sets {
		if i%2 == 0 {
			sets[i] = fragments4(t, msg, 1480, uint16(i))
		} else {
			sets[i] = fragments6(t, msg, 1448, uint32(i))
		}
		if len(sets[i]) != 2 {
			t.Fatalf("%d fragments", len(sets[i]))
		}
	}
	return sets
}

func TestZeroAllocs(t *testing.T) {
	sets := twoFragmentSets(t, 256)
	r := New(Config{})
	var out packet.Packet
	k := 0
	run := func() {
		for range 64 {
			s := sets[k%len(sets)]
			k++
			// Interleave two datagrams, reversed: four fragments.
			u := sets[k%len(sets)]
			k++
			r.Add(1, int64(k), s[0], &out)
			r.Add(2, int64(k), u[1], &out)
			if !r.Add(3, int64(k), s[1], &out) || !r.Add(4, int64(k), u[0], &out) {
				t.Fatal("not completed")
			}
		}
	}
	for range 50 {
		run() // warm up: buffers, free list, map
	}
	if n := testing.AllocsPerRun(200, run); n != 0 {
		t.Fatalf("%v allocations per run, want 0", n)
	}
	if st := r.Stats(); st.Active != 0 || st.Datagrams != uint64(k/1) || st.Duplicates != 0 {
		t.Fatalf("stats %+v (k %d)", st, k)
	}
}

func BenchmarkTwoFragments(b *testing.B) {
	sets := twoFragmentSets(b, 256)
	r := New(Config{})
	var out packet.Packet
	b.ReportAllocs()
	b.SetBytes(int64(len(sets[0][0].Frag.Data) + len(sets[0][1].Frag.Data)))
	k := 0
	for b.Loop() {
		s := sets[k%len(sets)]
		k++
		r.Add(1, int64(k), s[0], &out)
		if !r.Add(2, int64(k), s[1], &out) {
			b.Fatal("not completed")
		}
	}
}
