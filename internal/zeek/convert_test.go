package zeek

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/dnsieve/dnsieve/internal/allocs"
	"github.com/dnsieve/dnsieve/internal/analyze"
	"github.com/dnsieve/dnsieve/internal/checks"
	"github.com/dnsieve/dnsieve/internal/engine"
	"github.com/dnsieve/dnsieve/internal/fingerprint"
)

// parseMsg parses the converter's message with dnsmessage: it must always
// be a valid DNS message.
func parseMsg(t *testing.T, msg []byte) (dnsmessage.Header, []dnsmessage.Question, []dnsmessage.Resource) {
	t.Helper()
	var p dnsmessage.Parser
	h, err := p.Start(msg)
	if err != nil {
		t.Fatalf("reconstructed message: %v", err)
	}
	qs, err := p.AllQuestions()
	if err != nil {
		t.Fatalf("reconstructed questions: %v", err)
	}
	as, err := p.AllAnswers()
	if err != nil {
		t.Fatalf("reconstructed answers: %v", err)
	}
	return h, qs, as
}

// builtSize is the length of the message dnsmessage builds, with
// compression, for the same content: the reference for Size.
func builtSize(t *testing.T, h dnsmessage.Header, qs []dnsmessage.Question, as []dnsmessage.Resource) int {
	t.Helper()
	b := dnsmessage.NewBuilder(nil, h)
	b.EnableCompression()
	b.StartQuestions()
	for _, q := range qs {
		if err := b.Question(q); err != nil {
			t.Fatal(err)
		}
	}
	b.StartAnswers()
	for _, a := range as {
		var err error
		switch body := a.Body.(type) {
		case *dnsmessage.AResource:
			err = b.AResource(a.Header, *body)
		case *dnsmessage.AAAAResource:
			err = b.AAAAResource(a.Header, *body)
		case *dnsmessage.CNAMEResource:
			err = b.CNAMEResource(a.Header, *body)
		case *dnsmessage.NSResource:
			err = b.NSResource(a.Header, *body)
		case *dnsmessage.PTRResource:
			err = b.PTRResource(a.Header, *body)
		case *dnsmessage.MXResource:
			err = b.MXResource(a.Header, *body)
		case *dnsmessage.SRVResource:
			err = b.SRVResource(a.Header, *body)
		case *dnsmessage.TXTResource:
			err = b.TXTResource(a.Header, *body)
		case *dnsmessage.SOAResource:
			err = b.SOAResource(a.Header, *body)
		case *dnsmessage.UnknownResource:
			err = b.UnknownResource(a.Header, *body)
		default:
			t.Fatalf("unexpected body %T", body)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	msg, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return len(msg)
}

func TestConverterMessages(t *testing.T) {
	cases := []struct {
		name    string
		rec     Record
		qsize   int    // expected query Size
		answers string // dnsmessage's view of the answers: "TYPE value; ..."
		answer  string // expected r.Answer
	}{
		{"A with CNAME", Record{Query: []byte("www.example.com"), QType: 1, QTypeSet: true, RCodeSet: true,
			Answers: []string{"www.example.com.cdn.example.net", "104.16.1.1", "104.16.1.2"}, TTLs: []float64{60, 30, 30.9}},
			12 + 17 + 4, "TypeCNAME www.example.com.cdn.example.net.; TypeA 104.16.1.1; TypeA 104.16.1.2", "104.16.1.1"},
		{"AAAA and 4in6", Record{Query: []byte("example.org"), QType: 28, RCodeSet: true, Answers: []string{"2001:db8::1", "::ffff:1.2.3.4"}},
			12 + 13 + 4, "TypeAAAA 2001:db8::1; TypeAAAA ::ffff:1.2.3.4", "2001:db8::1"},
		{"MX", Record{Query: []byte("example.net"), QType: 15, RCodeSet: true, Answers: []string{"mx1.example.net", "mx.other.org"}},
			12 + 13 + 4, "TypeMX mx1.example.net.; TypeMX mx.other.org.", ""},
		{"SRV, NS, PTR, SOA by qtype", Record{Query: []byte("_x._tcp.example.com"), QType: 33, RCodeSet: true, Answers: []string{"dc.example.com"}},
			12 + 21 + 4, "TypeSRV dc.example.com.", ""},
		{"NS", Record{Query: []byte("example.com"), QType: 2, RCodeSet: true, Answers: []string{"ns1.example.com"}},
			12 + 13 + 4, "TypeNS ns1.example.com.", ""},
		{"PTR", Record{Query: []byte("4.3.2.1.in-addr.arpa"), QType: 12, RCodeSet: true, Answers: []string{"host.example.com"}},
			12 + 22 + 4, "TypePTR host.example.com.", ""},
		{"SOA", Record{Query: []byte("example.com"), QType: 6, RCodeSet: true, Answers: []string{"ns1.example.com"}},
			12 + 13 + 4, "TypeSOA ns1.example.com.", ""},
		{"TXT with spaces and Zeek's own syntax inside", Record{Query: []byte("example.com"), QType: 16, RCodeSet: true,
			Answers: []string{"TXT 11 hello world TXT 12 a, b TXT 3 c", "TXT 99 short", "SPF 3 a b"}},
			12 + 13 + 4, `TypeTXT ["hello world" "a, b TXT 3 c"]; TypeTXT ["TXT 99 short"]; 99`, ""},
		{"unknown and DNSSEC descriptions", Record{Query: []byte("pirate.sea"), QType: 10, RCodeSet: true,
			Answers: []string{"<unknown type=10>", "RRSIG 1 example.com", "NSEC3", "some text with spaces"}},
			12 + 12 + 4, "10; 46; 50; 0", ""},
		{"odd name", Record{Query: []byte(".a..b." + strings.Repeat("x", 70) + ".com."), QType: 1, RCodeSet: true, RCode: 3},
			12 + 2 + 2 + 64 + 8 + 4 + 1 + 4, "", ""},
		{"no query", Record{QType: 1, RCodeSet: true, RCode: 2}, 12, "", ""},
		{"no query, answers", Record{QType: 1, Answers: []string{"1.2.3.4", "a.example"}}, 12, "TypeA 1.2.3.4; TypeCNAME a.example.", "1.2.3.4"},
		{"root", Record{Query: []byte{}, QType: 2, QTypeSet: true}, 12 + 1 + 4, "", ""},
	}
	c := NewConverter()
	for _, tc := range cases {
		var q, r engine.Observation
		rec := tc.rec
		rec.Time = time.Unix(100, 5).UTC()
		rec.RTT, rec.RTTSet = 3*time.Millisecond, true
		rec.TransID, rec.RD, rec.RA, rec.AA = 0x1234, true, true, true
		rec.Client, rec.Server = ap("192.0.2.1:5000"), ap("192.0.2.53:53")
		has := c.Observations(&rec, &q, &r)
		if q.Size != tc.qsize {
			t.Errorf("%s: query Size %d, want %d", tc.name, q.Size, tc.qsize)
		}
		if q.Time != 100e9+5 || q.Client != rec.Client.Addr() || q.Server != rec.Server.Addr() || q.Response || q.QType != rec.QType {
			t.Errorf("%s: query %+v", tc.name, q)
		}
		if !has {
			if rec.RCodeSet || len(rec.Answers) > 0 {
				t.Errorf("%s: no response", tc.name)
			}
			continue
		}
		if r.Time != q.Time+3e6 || !r.Response || r.RCode != rec.RCode || !bytes.Equal(r.Name, q.Name) || r.Size < q.Size {
			t.Errorf("%s: response %+v", tc.name, r)
		}
		h, qs, as := parseMsg(t, c.msg)
		if h.ID != 0x1234 || !h.Response || !h.Authoritative || !h.RecursionDesired || !h.RecursionAvailable || int(h.RCode) != int(rec.RCode) {
			t.Errorf("%s: header %+v", tc.name, h)
		}
		if (rec.Query != nil) != (len(qs) == 1) {
			t.Errorf("%s: %d questions", tc.name, len(qs))
		}
		var descr []string
		for _, a := range as {
			d := a.Header.Type.String()
			switch b := a.Body.(type) {
			case *dnsmessage.AResource:
				d += " " + netip.AddrFrom4(b.A).String()
			case *dnsmessage.AAAAResource:
				d += " " + netip.AddrFrom16(b.AAAA).String()
			case *dnsmessage.CNAMEResource:
				d += " " + b.CNAME.String()
			case *dnsmessage.MXResource:
				d += " " + b.MX.String()
			case *dnsmessage.SRVResource:
				d += " " + b.Target.String()
			case *dnsmessage.NSResource:
				d += " " + b.NS.String()
			case *dnsmessage.PTRResource:
				d += " " + b.PTR.String()
			case *dnsmessage.SOAResource:
				d += " " + b.NS.String()
			case *dnsmessage.TXTResource:
				d += " ["
				for k, s := range b.TXT {
					if k > 0 {
						d += " "
					}
					d += `"` + s + `"`
				}
				d += "]"
			}
			descr = append(descr, d)
			if int(a.Header.TTL) != int(ttlOf(rec, len(descr)-1)) {
				t.Errorf("%s: TTL %d", tc.name, a.Header.TTL)
			}
		}
		if got := strings.Join(descr, "; "); got != tc.answers {
			t.Errorf("%s: answers %q, want %q", tc.name, got, tc.answers)
		}
		if want := builtSize(t, h, qs, as); r.Size != want || r.Size != len(c.msg) {
			t.Errorf("%s: response Size %d (message %d), dnsmessage builds %d", tc.name, r.Size, len(c.msg), want)
		}
		wantAnswer := netip.Addr{}
		if tc.answer != "" {
			wantAnswer = netip.MustParseAddr(tc.answer)
		}
		if r.Answer != wantAnswer {
			t.Errorf("%s: Answer %v, want %v", tc.name, r.Answer, wantAnswer)
		}
		// Every A record of the rebuilt message counts, with its first
		// octet (the engine's numbered families use them).
		var firsts []byte
		for _, a := range as {
			if ar, ok := a.Body.(*dnsmessage.AResource); ok {
				firsts = append(firsts, ar.A[0])
			}
		}
		if int(r.AnswerV4) != len(firsts) || string(r.AnswerV4Firsts[:min(len(firsts), engine.MaxAnswerV4Firsts)]) != string(firsts) {
			t.Errorf("%s: %d A records, first octets %v; dnsmessage reads %v", tc.name, r.AnswerV4, r.AnswerV4Firsts, firsts)
		}
		owner := 2 // a pointer to the question, or the root without one
		if len(qs) == 0 {
			owner = 1
		}
		if r.AnswerData != len(c.msg)-answerStart(c.msg)-(10+owner)*len(as) {
			t.Errorf("%s: AnswerData %d", tc.name, r.AnswerData)
		}
	}
}

func ttlOf(rec Record, i int) float64 {
	if i < len(rec.TTLs) {
		return rec.TTLs[i]
	}
	return 0
}

// answerStart is the offset of the answer section.
func answerStart(msg []byte) int {
	off := 12
	if msg[5] == 1 {
		off = skipName(msg, off) + 4
	}
	return off
}

func TestConverterNames(t *testing.T) {
	c := NewConverter()
	var q, r engine.Observation
	rec := Record{Query: []byte("PaaaEvfy.T1.biillpi.co.uk"), QType: 1}
	if c.Observations(&rec, &q, &r) {
		t.Error("response without rcode or answers")
	}
	if string(q.Name) != "paaaevfy.t1.biillpi.co.uk" || !bytes.Equal(q.Labels, []byte{8, 2, 7, 2, 2}) || q.RegStart != 12 || !q.MixedCase {
		t.Errorf("%q %v %d %v", q.Name, q.Labels, q.RegStart, q.MixedCase)
	}
	rec = Record{Query: nil, RCodeSet: true}
	c.Observations(&rec, &q, &r)
	if q.Name != nil || q.Labels != nil || r.Name != nil || q.Match != (fingerprint.Match{}) {
		t.Errorf("no query: %+v", q)
	}
	rec = Record{Query: []byte(strings.Repeat("a.", 200))}
	c.Observations(&rec, &q, &r)
	if len(q.Name) != 255 || len(q.Labels) != 128 {
		t.Errorf("long name: %d bytes, %d labels", len(q.Name), len(q.Labels))
	}
	parseMsg(t, c.msg)
	// Answers without an rcode still make a response; rtt unset keeps ts.
	rec = Record{Time: time.Unix(5, 0), Query: []byte("x.example"), Answers: []string{"1.2.3.4"}}
	if !c.Observations(&rec, &q, &r) || r.Time != 5e9 || r.Answer != netip.MustParseAddr("1.2.3.4") {
		t.Errorf("answers only: %+v", r)
	}
}

func TestConverterHugeResponse(t *testing.T) {
	// More answers than a DNS message holds: the message stops at 65535
	// bytes, the size goes on counting.
	var answers []string
	for i := 0; i < 600; i++ {
		answers = append(answers, "TXT 200 "+strings.Repeat(string(rune('a'+i%26)), 200))
	}
	rec := Record{Query: []byte("big.example.com"), QType: 16, RCodeSet: true, Answers: answers}
	c := NewConverter()
	var q, r engine.Observation
	c.Observations(&rec, &q, &r)
	_, _, as := parseMsg(t, c.msg)
	if len(c.msg) > maxMessage || len(as) != (maxMessage-33)/(12+201) {
		t.Errorf("message %d bytes, %d answers", len(c.msg), len(as))
	}
	if want := 12 + 17 + 4 + 600*(12+201); r.Size != want || r.AnswerData != 600*201 {
		t.Errorf("Size %d AnswerData %d, want %d %d", r.Size, r.AnswerData, want, 600*201)
	}
}

func TestParseIPv4(t *testing.T) {
	for _, s := range []string{"1.2.3.4", "0.0.0.0", "255.255.255.255", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4",
		"1..2.3", "", "a.b.c.d", "1.2.3.4 ", "1234.1.1.1", "0.0.0.00"} {
		got, ok := parseIPv4(s)
		want, err := netip.ParseAddr(s)
		if ok != (err == nil && want.Is4()) || ok && got != want {
			t.Errorf("parseIPv4(%q) = %v %v, netip says %v %v", s, got, ok, want, err)
		}
	}
}

func TestZeroAllocs(t *testing.T) {
	// The converter, on responses of every kind.
	recs := []Record{
		{Query: []byte("www.example.com"), QType: 1, RCodeSet: true, Answers: []string{"a.example.net", "1.2.3.4"}, TTLs: []float64{1, 2}},
		{Query: []byte("200001beef006400c8.biillpi.com"), QType: 16, RCodeSet: true, Answers: []string{"TXT 4 abcd"}},
		{Query: []byte("example.net"), QType: 15, RCodeSet: true, Answers: []string{"mx.example.net", "2001:db8::1"}},
	}
	c := NewConverter()
	var q, r engine.Observation
	for i := range recs {
		c.Observations(&recs[i], &q, &r)
	}
	if n := testing.AllocsPerRun(200, func() {
		for i := range recs {
			c.Observations(&recs[i], &q, &r)
		}
	}); n != 0 {
		t.Errorf("Converter: %v allocations per run", n)
	}

	// The readers, on logs of unique transactions (new uid, new query,
	// new answers each line) from a repeating set of hosts.
	for _, format := range []string{"tsv", "json"} {
		var b bytes.Buffer
		infos := manyInfos(8000)
		if format == "tsv" {
			writeTSV(&b, infos, base)
		} else {
			writeJSON(&b, infos, false)
		}
		rd, err := NewReader(bytes.NewReader(b.Bytes()), format)
		if err != nil {
			t.Fatal(err)
		}
		var rec Record
		for i := 0; i < 100; i++ {
			if err := rd.Next(&rec); err != nil {
				t.Fatal(err)
			}
		}
		if n := testing.AllocsPerRun(4000, func() {
			if err := rd.Next(&rec); err != nil {
				t.Fatal(err)
			}
			c.Observations(&rec, &q, &r)
		}); n != 0 {
			t.Errorf("%s reader: %v allocations per line", format, n)
		}
		// The exact count: the string arena's 64 KiB chunks only. The
		// process's count includes what other goroutines allocate (the
		// runtime's, the test framework's) on a busy machine, so the
		// fewest of three rounds counts: a reader that allocates does so
		// in every round.
		n := allocs.Fewest(3, func() {
			for i := 0; i < 800; i++ {
				if err := rd.Next(&rec); err != nil {
					t.Fatal(err)
				}
				c.Observations(&rec, &q, &r)
			}
		})
		if n > 2 {
			t.Errorf("%s reader: %d allocations in 800 lines", format, n)
		} else {
			t.Logf("%s reader: %d allocations in 800 lines", format, n)
		}
	}
}

// manyInfos makes n distinct transactions.
func manyInfos(n int) []*info {
	var out []*info
	z := newZeekLog()
	for i := 0; i < n; i++ {
		conn := [2]netip.AddrPort{netip.AddrPortFrom(netip.MustParseAddr("192.0.2.10"), uint16(1024+i%60000)), ap("192.0.2.53:53")}
		out = append(out, &info{ts: base.Add(time.Duration(i) * time.Millisecond), uid: z.uid(conn), orig: conn[0], resp: conn[1],
			proto: "udp", transID: uint16(i), rtt: time.Millisecond, rttSet: true,
			query: []byte(strings.Repeat("ab", i%20) + "x" + string(rune('a'+i%26)) + ".example.com"), querySet: true,
			qclass: 1, qtype: 1, qSet: true, rcodeSet: true, rd: true, ra: true,
			answers: []string{"cdn" + string(rune('a'+i%26)) + ".example.net", netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}).String()},
			ttls:    []float64{300, 60}})
	}
	return out
}

// TestConverterDataAnswers: TXT content that looks like encoded data
// counts as the packet analysis counts it (the same records, bytes and
// hashes as the wire message it rebuilds); tags, prose and answers under
// an underscore label do not.
func TestConverterDataAnswers(t *testing.T) {
	payload := strings.Repeat("Zm9vYmFyMTIz", 20)
	c := NewConverter()
	cfg := checks.Default()
	a := analyze.New(analyze.Config{Checks: &cfg})
	for _, tc := range []struct {
		query   string
		answers []string
		n       int
	}{
		{"p1.stage.example.net", []string{fmt.Sprintf("TXT %d %s", len(payload), payload)}, 240},
		{"p1.stage.example.net", []string{"TXT 11 hello world", fmt.Sprintf("TXT %d %s TXT 4 abcd", len(payload), payload)}, 244},
		{"p1.stage.example.net", []string{"TXT 18 v=DKIM1; k=rsa; p=", "TXT 11 v=spf1 -all"}, 0},
		{"p1.stage.example.net", []string{"192.0.2.1"}, 0},
		{"_acme-challenge.example.net", []string{fmt.Sprintf("TXT %d %s", len(payload), payload)}, 0},
		// AAAA: a payload's 16 bytes outside every routable block count,
		// an ordinary address does not.
		{"img7.example.net", []string{"4883:e4f0:e8c0:0:0:4151:4150:5251"}, 16},
		{"img7.example.net", []string{"2606:4700::6810:84e5"}, 0},
	} {
		qtype := uint16(16)
		if !strings.HasPrefix(tc.answers[0], "TXT") && strings.Contains(tc.answers[0], ":") {
			qtype = 28
		}
		rec := Record{Query: []byte(tc.query), QType: qtype, RCodeSet: true, Answers: tc.answers}
		var q, r engine.Observation
		if !c.Observations(&rec, &q, &r) {
			t.Fatal("no response")
		}
		got := append([]engine.DataRecord(nil), r.DataRecords...)
		var counts analyze.Counts
		var wire engine.Observation
		var allowed bool
		if _, ok := a.Message(c.msg, &counts, &wire, &allowed); !ok {
			t.Fatalf("%q: rebuilt message rejected", tc.answers)
		}
		n := 0
		for _, d := range got {
			n += d.Bytes
		}
		if n != tc.n || !slices.Equal(got, wire.DataRecords) {
			t.Errorf("%q: %d bytes %v; the wire message %v; want %d bytes", tc.answers, n, got, wire.DataRecords, tc.n)
		}
	}
}
