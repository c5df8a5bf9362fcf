package variants

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/dnsieve/dnsieve/internal/packet"
	"github.com/dnsieve/dnsieve/internal/tcpstream"
	"github.com/dnsieve/dnsieve/internal/testcap"
)

func TestCompare(t *testing.T) {
	r := func(v float64) *float64 { return &v }
	orig := Outcome{Found: true, Severity: "high", ToolRight: true, Tools: []string{"iodine"}, Recall: r(0.95)}
	cases := []struct {
		v    Outcome
		lost string
	}{
		{Outcome{Found: true, Severity: "high", ToolRight: true, Recall: r(0.941)}, ""},
		{Outcome{Found: true, Severity: "high", ToolRight: true, Recall: r(0.939)}, "recall 0.9390, was 0.9500"},
		{Outcome{Found: true, Severity: "medium", ToolRight: true, Recall: r(1)}, "severity medium, was high"},
		{Outcome{Found: false, ToolRight: false, Tools: []string{"dnscat2"}, Recall: r(1)}, "tunnel not found; tool not named (named: dnscat2)"},
		{Outcome{Found: true, Severity: "high", ToolRight: true}, "no tunnel packets in the variant's ground truth"},
		{Outcome{Error: "boom", Found: true, Severity: "high", ToolRight: true, Recall: r(1)}, "error: boom"},
	}
	for i, c := range cases {
		if got := strings.Join(Compare(orig, c.v), "; "); got != c.lost {
			t.Errorf("case %d: %q, want %q", i, got, c.lost)
		}
	}
	// An original without a named tool or found tunnel asks nothing of those.
	if lost := Compare(Outcome{Recall: r(0)}, Outcome{Recall: r(0)}); len(lost) != 0 {
		t.Errorf("nothing to lose: %v", lost)
	}
}

// TestTCPSplitIdle: a connection idle for longer than TCPIdle is closed
// and a new one opened; the reassembled stream is unchanged.
func TestTCPSplitIdle(t *testing.T) {
	c, s := netip.MustParseAddrPort("192.0.2.1:4000"), netip.MustParseAddrPort("192.0.2.53:53")
	var in []Frame
	var want [][]byte
	for i := 0; i < 6; i++ {
		q := testcap.Query(uint16(i), "a"+strings.Repeat("b", i)+".example.org", testcap.TypeA)
		d := testcap.UDP(testcap.Ethernet, c, s, q)
		at := int64(i) * 20e9 // every 20 s
		in = append(in, Frame{Time: at, LinkType: 1, OrigLen: len(d), Data: d})
		want = append(want, q)
	}
	out := mustApply(t, TCPSplit, in, Options{TCPIdle: 30e9})
	out2 := mustApply(t, TCPSplit, in, Options{TCPIdle: 10e9})
	count := func(fr []Frame) (syn, fin int, msgs [][]byte) {
		a := tcpstream.New(tcpstream.Config{})
		for i, f := range fr {
			d := decode(t, f)
			checkChecksums(t, i, d)
			if d.tcp.SYN && !d.tcp.ACK {
				syn++
			}
			if d.tcp.FIN {
				fin++
			}
			var p packet.Packet
			if err := packet.Decode(1, f.Data, &p); err != nil {
				t.Fatal(err)
			}
			a.Add(uint64(i+1), f.Time, &p, func(_ uint64, m []byte) { msgs = append(msgs, append([]byte(nil), m...)) })
		}
		return
	}
	if syn, fin, msgs := count(out); syn != 1 || fin != 0 || len(msgs) != len(want) {
		t.Errorf("idle 30s: %d connections, %d FINs, %d messages", syn, fin, len(msgs))
	}
	syn, fin, msgs := count(out2)
	if syn != 6 || fin != 10 || len(msgs) != len(want) {
		t.Errorf("idle 10s: %d connections, %d FINs, %d messages", syn, fin, len(msgs))
	}
	for i := range want {
		if i < len(msgs) && !bytes.Equal(msgs[i], want[i]) {
			t.Errorf("message %d differs", i)
		}
	}
}

// FuzzFlipCase: on any bytes, flipCase never panics, never changes the
// length or anything but ASCII letter case, and leaves a refused input
// untouched.
func FuzzFlipCase(f *testing.F) {
	f.Add(testcap.Query(1, "www.Example.com", testcap.TypeA), uint64(1))
	f.Add(testcap.Response(2, "a.b.c", testcap.TypeCNAME, 0, testcap.AnswerCNAME("d.e.f")), uint64(2))
	f.Add([]byte{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 0x0C, 0, 1, 0, 1}, uint64(3))
	f.Fuzz(func(t *testing.T, msg []byte, seed uint64) {
		orig := append([]byte(nil), msg...)
		ok := flipCase(msg, seed)
		if len(msg) != len(orig) || !bytes.Equal(bytes.ToLower(msg), bytes.ToLower(orig)) {
			t.Fatalf("%x -> %x", orig, msg)
		}
		if !ok && !bytes.Equal(msg, orig) {
			t.Fatalf("refused but changed: %x -> %x", orig, msg)
		}
		for i := range msg {
			if msg[i] != orig[i] && !isLetter(orig[i]) {
				t.Fatalf("byte %d (%#x) changed", i, orig[i])
			}
		}
	})
}

// FuzzApply: every kind on arbitrary frames of every handled link type
// never panics, keeps one frame per frame for the one-to-one kinds, and
// never yields a frame longer than a fragment-free rebuild (or a wrapping)
// could make.
func FuzzApply(f *testing.F) {
	big := testcap.Response(9, "x.example.com", testcap.TypeTXT, 0, testcap.AnswerTXT(strings.Repeat("z", 240)))
	f.Add(testcap.UDP(testcap.Ethernet, resolver, tunnelClient, big), uint16(1), uint64(1))
	f.Add(testcap.UDP(testcap.LinuxSLL, netip.MustParseAddrPort("[2001:db8::53]:53"), netip.MustParseAddrPort("[2001:db8::2]:999"), big, testcap.WithHopByHop()), uint16(113), uint64(2))
	f.Add(testcap.TCP(testcap.RawIP, tunnelClient, resolver, 5, testcap.TCPSyn, nil), uint16(101), uint64(3))
	f.Fuzz(func(t *testing.T, data []byte, link uint16, seed uint64) {
		in := []Frame{{Time: 1, LinkType: link, OrigLen: len(data), Data: data}, {Time: 2, LinkType: link, OrigLen: len(data), Data: data}}
		for _, k := range Kinds {
			out, err := Apply(k, in, "fuzz", Options{Seed: seed})
			if err != nil {
				t.Fatal(err)
			}
			switch k {
			case Case, OffPort, Slow, Spread, Encapsulated:
				if len(out) != len(in) {
					t.Fatalf("%s: %d frames from %d", k, len(out), len(in))
				}
			}
			limit := len(data) + 8 + 20 + 8
			if k == Encapsulated {
				limit = len(data) + maxWrapOverhead
			}
			for _, o := range out {
				if o.OrigLen < len(o.Data) || len(o.Data) > limit && k != TCPSplit {
					t.Fatalf("%s: frame of %d bytes (orig %d) from %d", k, len(o.Data), o.OrigLen, len(data))
				}
			}
		}
	})
}

func TestSpreadPoolsDisjoint(t *testing.T) {
	s := &spreader{n: 50, rng: rand.New(rand.NewPCG(1, 1)), used: map[netip.Addr]bool{}, pools: map[netip.Prefix]*pool{}}
	a := s.pool(netip.MustParseAddr("10.1.2.3"))
	b := s.pool(netip.MustParseAddr("10.1.9.9"))
	c := s.pool(netip.MustParseAddr("2001:db8::1"))
	if a != b || len(a.addrs) != 50 || len(c.addrs) != 50 {
		t.Fatalf("pools: %d %d, same /16: %v", len(a.addrs), len(c.addrs), a == b)
	}
	pfx := netip.MustParsePrefix("2001:db8::/112")
	for _, x := range c.addrs {
		if !pfx.Contains(x) {
			t.Fatalf("%s outside %s", x, pfx)
		}
	}
}
