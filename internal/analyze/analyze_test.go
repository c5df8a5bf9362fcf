package analyze

import (
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/dnsieve/dnsieve/internal/allowlist"
	"github.com/dnsieve/dnsieve/internal/checks"
	"github.com/dnsieve/dnsieve/internal/engine"
	"github.com/dnsieve/dnsieve/internal/testcap"
)

var (
	cli = netip.MustParseAddrPort("192.0.2.10:40000")
	srv = netip.MustParseAddrPort("192.0.2.53:53")
)

func newAnalyzer(t *testing.T, allow string) *Analyzer {
	t.Helper()
	cfg := checks.Default()
	var l *allowlist.List
	if allow != "" {
		var err error
		if l, err = allowlist.Parse(strings.NewReader(allow)); err != nil {
			t.Fatal(err)
		}
	}
	return New(Config{Checks: &cfg, Allow: l, Ports: NewPortSet([]uint16{53})})
}

func TestFrameKinds(t *testing.T) {
	a := newAnalyzer(t, "")
	l := testcap.Ethernet
	cases := []struct {
		name  string
		frame []byte
		want  FrameKind
	}{
		{"udp dns", testcap.UDP(l, cli, srv, testcap.Query(1, "www.example.com", 1)), UDPDNS},
		{"udp other port", testcap.UDP(l, cli, netip.MustParseAddrPort("192.0.2.53:123"), []byte("ntp")), Skipped},
		{"tcp dns", testcap.TCP(l, cli, srv, 1, 0x18, []byte{0, 1, 2}), TCPDNS},
		{"arp", testcap.ARP(l), Skipped},
		{"icmp echo", testcap.ICMPEcho(l, cli.Addr(), srv.Addr(), 1, 1, []byte("x")), Skipped},
		{"fragment", testcap.IPv4Fragments(l, srv, cli, make([]byte, 600), 256)[1], Fragment},
	}
	for _, c := range cases {
		if got := a.Frame(l.LinkType(), c.frame); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestMessageDescribesForTheEngine(t *testing.T) {
	a := newAnalyzer(t, "")
	msg := testcap.Response(7, "AbC.T1.Example.co.uk", 1, 0, testcap.AnswerAddr(netip.MustParseAddr("198.51.100.9")))
	var c Counts
	var obs engine.Observation
	var allowed bool
	res, ok := a.Message(msg, &c, &obs, &allowed)
	if !ok || allowed || res.Level != checks.None {
		t.Fatalf("ok %v allowed %v res %+v", ok, allowed, res)
	}
	if string(obs.Name) != "abc.t1.example.co.uk" || string(obs.Name[obs.RegStart:]) != "example.co.uk" || !obs.MixedCase ||
		!obs.Response || obs.QType != 1 || obs.Answer != netip.MustParseAddr("198.51.100.9") || obs.AnswerData != 4 ||
		len(obs.Labels) != 5 || obs.Size != len(msg) {
		t.Fatalf("observation %+v", obs)
	}
	if c.DNSMessages != 1 || c.Responses != 1 || c.Queries != 0 {
		t.Fatalf("counts %+v", c)
	}
}

// TestMessageCountsEveryARecord: every A record of the answer section
// counts, with its first octet, whatever else the answer holds; the
// oracle is golang.org/x/net/dns/dnsmessage's reading of the message.
func TestMessageCountsEveryARecord(t *testing.T) {
	a := newAnalyzer(t, "")
	answers := []testcap.Answer{
		testcap.AnswerCNAME("edge.example.net"),
		{Name: "edge.example.net", Type: testcap.TypeA, TTL: 60, Addr: netip.MustParseAddr("203.0.113.1")},
		{Name: "edge.example.net", Type: testcap.TypeA, TTL: 60, Addr: netip.MustParseAddr("198.51.100.2")},
		{Name: "edge.example.net", Type: testcap.TypeA, TTL: 60, Addr: netip.MustParseAddr("203.0.113.3")},
		testcap.AnswerAddr(netip.MustParseAddr("2001:db8::1")),
		testcap.AnswerTXT("v=spf1 -all"),
	}
	msg := testcap.Response(9, "c7.packed.example", testcap.TypeA, 0, answers...)
	var c Counts
	var obs engine.Observation
	var allowed bool
	if _, ok := a.Message(msg, &c, &obs, &allowed); !ok {
		t.Fatal("not a message")
	}
	var p dnsmessage.Parser
	if _, err := p.Start(msg); err != nil {
		t.Fatal(err)
	}
	if err := p.SkipAllQuestions(); err != nil {
		t.Fatal(err)
	}
	var want []byte
	for {
		h, err := p.AnswerHeader()
		if err != nil {
			break
		}
		if h.Type != dnsmessage.TypeA {
			if err := p.SkipAnswer(); err != nil {
				t.Fatal(err)
			}
			continue
		}
		r, err := p.AResource()
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, r.A[0])
	}
	if len(want) != 3 || int(obs.AnswerV4) != len(want) || string(obs.AnswerV4Firsts[:obs.AnswerV4]) != string(want) ||
		obs.Answer != netip.MustParseAddr("203.0.113.1") {
		t.Fatalf("%d A records, first octets %v; the oracle %v", obs.AnswerV4, obs.AnswerV4Firsts, want)
	}
}

func TestMessageAllowlistAndAnswerChecks(t *testing.T) {
	a := newAnalyzer(t, "*.corp.example\n")
	var c Counts
	var obs engine.Observation
	var allowed bool
	long := strings.Repeat("z", 45)
	if res, _ := a.Message(testcap.Query(1, long+".corp.example", 16), &c, &obs, &allowed); !allowed || res.Level != checks.None || c.Allowlisted != 1 {
		t.Fatalf("allowlisted name: allowed %v res %+v counts %+v", allowed, res, c)
	}
	// A CNAME answer with binary bytes fires the answer checks; a long
	// CDN-like answer name does not.
	bin := testcap.RawResponse(2, testcap.RawName([]byte("q"), []byte("example"), []byte("com")), 5, 0,
		testcap.RawRR{Name: testcap.RawName([]byte("q"), []byte("example"), []byte("com")), Type: 5, Class: 1, TTL: 1,
			Data: testcap.RawName([]byte("\xbc\xfd\xee"), []byte("example"), []byte("com"))})
	if res, ok := a.Message(bin, &c, &obs, &allowed); !ok || res.Level != checks.Certain {
		t.Fatalf("binary CNAME answer: %+v", res)
	}
	cdn := testcap.Response(3, "www.example.com", 1, 0, testcap.AnswerCNAME("e1234567890abcdef0123456789.dscb.akamaiedge.net"))
	if res, _ := a.Message(cdn, &c, &obs, &allowed); res.Level != checks.None {
		t.Fatalf("CDN answer flagged: %+v", res)
	}
}

// TestHotPathAllocatesNothing: decoding, checking and describing a UDP DNS
// response allocates nothing once the registered-domain cache is warm.
func TestHotPathAllocatesNothing(t *testing.T) {
	a := newAnalyzer(t, "*.corp.example\n")
	for i, msg := range [][]byte{
		testcap.Response(9, "r3---sn-5hne6nzk.googlevideo.com", 1, 0,
			testcap.AnswerCNAME("r3.sn-5hne6nzk.googlevideo.com"), testcap.AnswerAddr(netip.MustParseAddr("198.51.100.1"))),
		// Answers carrying data: their records are listed too.
		testcap.Response(10, "p7.stage.example.net", testcap.TypeTXT, 0,
			testcap.AnswerTXT("QmFzZTY0IGVuY29kZWQgcGF5bG9hZCBmb3IgdGhlIHRlc3Q="), testcap.AnswerTXT("a3f09c1e5b7d22480e6f9a1c3b5d7e9f")),
	} {
		frame := testcap.UDP(testcap.Ethernet, srv, cli, msg)
		var c Counts
		var obs engine.Observation
		var allowed bool
		run := func() {
			if a.Frame(1, frame) != UDPDNS {
				t.Fatal("not UDP DNS")
			}
			a.Message(a.Packet().Payload, &c, &obs, &allowed)
			a.Endpoints(a.Packet(), obs.Response)
		}
		run()
		if n := testing.AllocsPerRun(1000, run); n != 0 {
			t.Fatalf("%v allocations per packet", n)
		}
		if len(obs.DataRecords) != 2*i {
			t.Fatalf("message %d: %d data records", i, len(obs.DataRecords))
		}
	}
}

func BenchmarkFrameAndMessage(b *testing.B) {
	cfg := checks.Default()
	a := New(Config{Checks: &cfg, Ports: NewPortSet([]uint16{53})})
	frame := testcap.UDP(testcap.Ethernet, srv, cli, testcap.Response(9, "www.example.com", 1, 0, testcap.AnswerAddr(netip.MustParseAddr("198.51.100.1"))))
	var c Counts
	var obs engine.Observation
	var allowed bool
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		a.Frame(1, frame)
		a.Message(a.Packet().Payload, &c, &obs, &allowed)
	}
}

func TestLooksLikeDNS(t *testing.T) {
	a := newAnalyzer(t, "")
	yes := [][]byte{
		testcap.Query(1, "www.example.com", 1),
		testcap.QueryEDNS(2, "abcdefgh.t1.tunnel.example", 16, 1232),
		testcap.Response(3, "www.example.com", 1, 0, testcap.AnswerAddr(netip.MustParseAddr("192.0.2.1"))),
	}
	for i, m := range yes {
		if !a.LooksLikeDNS(m) {
			t.Errorf("message %d not recognised", i)
		}
	}
	nbns := append([]byte{0x12, 0x34, 0x01, 0x10, 0, 1, 0, 0, 0, 0, 0, 0, 32}, []byte("EBEFEEEBCACACACACACACACACACACAAA")...)
	nbns = append(nbns, 0, 0, 0x20, 0, 1)
	no := map[string][]byte{
		"NetBIOS name query": nbns,
		"single label":       testcap.Query(1, "wpad", 1),
		"query with trailer": append(testcap.Query(1, "www.example.com", 1), 1, 2, 3),
		"two questions":      testcap.RawMsg{ID: 1, Questions: []testcap.RawQuestion{{Name: testcap.RawName([]byte("a"), []byte("b")), Type: 1, Class: 1}, {Name: testcap.RawName([]byte("c"), []byte("d")), Type: 1, Class: 1}}}.Bytes(),
		"short":              {1, 2, 3},
		"tls record":         append([]byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01}, make([]byte, 40)...),
	}
	for what, m := range no {
		if a.LooksLikeDNS(m) {
			t.Errorf("%s taken for DNS", what)
		}
	}
	// Random datagrams: essentially never.
	rng := uint64(1)
	hits := 0
	buf := make([]byte, 120)
	for i := 0; i < 200000; i++ {
		for j := range buf {
			rng = rng*6364136223846793005 + 1442695040888963407
			buf[j] = byte(rng >> 56)
		}
		if a.LooksLikeDNS(buf) {
			hits++
		}
	}
	if hits > 0 {
		t.Errorf("%d of 200000 random datagrams taken for DNS", hits)
	}
	// Off-port DNS through Frame.
	other := netip.MustParseAddrPort("192.0.2.53:443")
	if k := a.Frame(1, testcap.UDP(testcap.Ethernet, cli, other, testcap.Query(9, "x.example.org", 16))); k != UDPDNS || !a.OffPort() {
		t.Fatalf("off-port query: %v offport %v", k, a.OffPort())
	}
	if k := a.Frame(1, testcap.UDP(testcap.Ethernet, cli, srv, testcap.Query(9, "x.example.org", 16))); k != UDPDNS || a.OffPort() {
		t.Fatalf("on-port query: %v offport %v", k, a.OffPort())
	}
}

// TestMixedCase: the case flag comes from the splitter's lowercasing pass;
// it must say exactly whether the question name has both letter cases.
func TestMixedCase(t *testing.T) {
	a := newAnalyzer(t, "")
	for _, c := range []struct {
		name  string
		mixed bool
	}{
		{"www.example.com", false},
		{"WWW.EXAMPLE.COM", false},
		{"123.456.789", false},
		{"wWw.example.com", true},
		{"www.example.coM", true},
		{"a-very-long-label-that-spans-words.example.Com", true},
		{"A-VERY-LONG-LABEL-THAT-SPANS-WORDS.EXAMPLE.COM", false},
	} {
		var cnt Counts
		var obs engine.Observation
		var allowed bool
		if _, ok := a.Message(testcap.Query(1, c.name, 1), &cnt, &obs, &allowed); !ok {
			t.Fatal(c.name)
		}
		if obs.MixedCase != c.mixed || string(obs.Name) != strings.ToLower(c.name) {
			t.Errorf("%s: mixed %v name %q", c.name, obs.MixedCase, obs.Name)
		}
	}
}
