package testcap

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

func parseMsg(t testing.TB, msg []byte) dnsmessage.Message {
	t.Helper()
	var m dnsmessage.Message
	if err := m.Unpack(msg); err != nil {
		t.Fatalf("dnsmessage cannot parse % x: %v", msg, err)
	}
	return m
}

func TestQuery(t *testing.T) {
	long := strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 61)
	cases := []struct {
		name  string
		qtype uint16
	}{
		{"example.com", TypeA}, {"www.example.com.", TypeAAAA}, {".", TypeNS}, {"x", TypeTXT},
		{"_sip._tcp.example.org", TypeSRV}, {long, TypeNULL}, {"UPPER.lower.Example", TypeMX}, {"q.example", 65535},
	}
	for _, c := range cases {
		msg := Query(0xbeef, c.name, c.qtype)
		m := parseMsg(t, msg)
		want := strings.TrimSuffix(c.name, ".") + "."
		if m.Header.ID != 0xbeef || m.Header.Response || !m.Header.RecursionDesired || len(m.Questions) != 1 ||
			len(m.Answers)+len(m.Authorities)+len(m.Additionals) != 0 {
			t.Fatalf("%s: header %+v", c.name, m.Header)
		}
		q := m.Questions[0]
		if q.Name.String() != want || uint16(q.Type) != c.qtype || q.Class != dnsmessage.ClassINET {
			t.Errorf("%s: question %v %v %v", c.name, q.Name, q.Type, q.Class)
		}
		// The hand encoder agrees byte for byte.
		if raw := RawQuery(0xbeef, RawName(Labels(c.name)...), c.qtype); !bytes.Equal(raw, msg) {
			t.Errorf("%s: RawQuery % x != Query % x", c.name, raw, msg)
		}
	}
}

func TestQueryEDNS(t *testing.T) {
	m := parseMsg(t, QueryEDNS(3, "edns.example", TypeA, 1232))
	if len(m.Additionals) != 1 || m.Additionals[0].Header.Type != dnsmessage.TypeOPT ||
		m.Additionals[0].Header.Class != 1232 || m.Additionals[0].Header.Name.String() != "." {
		t.Fatalf("additionals %+v", m.Additionals)
	}
	if m.Questions[0].Name.String() != "edns.example." {
		t.Errorf("question %v", m.Questions[0].Name)
	}
}

func TestResponseAllAnswerTypes(t *testing.T) {
	v4 := netip.MustParseAddr("192.0.2.1")
	v6 := netip.MustParseAddr("2001:db8::1")
	answers := []Answer{
		AnswerAddr(v4), AnswerAddr(v6), AnswerCNAME("target.example"),
		AnswerTXT("hello", "", strings.Repeat("t", 255)), AnswerNULL([]byte{0, 1, 2, 0xff}),
		AnswerMX(10, "mx.example"), AnswerSRV(1, 2, 5060, "sip.example"),
		AnswerNS("ns1.example"), AnswerPTR("host.example"),
		{Name: "other.example", Type: 99, Class: 3, TTL: 7, Data: []byte("raw")},
	}
	msg := Response(0x1234, "q.example", TypeANY, RcodeSuccess, answers...)
	m := parseMsg(t, msg)
	if !m.Header.Response || !m.Header.RecursionAvailable || m.Header.ID != 0x1234 || m.Header.RCode != 0 {
		t.Fatalf("header %+v", m.Header)
	}
	if len(m.Answers) != len(answers) {
		t.Fatalf("%d answers, want %d", len(m.Answers), len(answers))
	}
	for i, rr := range m.Answers {
		a := answers[i]
		wantName := "q.example."
		if a.Name != "" {
			wantName = a.Name + "."
		}
		if rr.Header.Name.String() != wantName || uint16(rr.Header.Type) != a.Type || rr.Header.TTL != a.TTL {
			t.Errorf("answer %d header %v", i, rr.Header)
		}
		wantClass := a.Class
		if wantClass == 0 {
			wantClass = ClassIN
		}
		if uint16(rr.Header.Class) != wantClass {
			t.Errorf("answer %d class %v", i, rr.Header.Class)
		}
		var ok bool
		switch b := rr.Body.(type) {
		case *dnsmessage.AResource:
			ok = netip.AddrFrom4(b.A) == a.Addr
		case *dnsmessage.AAAAResource:
			ok = netip.AddrFrom16(b.AAAA) == a.Addr
		case *dnsmessage.CNAMEResource:
			ok = b.CNAME.String() == a.Target+"."
		case *dnsmessage.TXTResource:
			ok = strings.Join(b.TXT, "|") == strings.Join(a.TXT, "|") && len(b.TXT) == len(a.TXT)
		case *dnsmessage.MXResource:
			ok = b.Pref == a.Pref && b.MX.String() == a.Target+"."
		case *dnsmessage.SRVResource:
			ok = b.Priority == a.Priority && b.Weight == a.Weight && b.Port == a.Port && b.Target.String() == a.Target+"."
		case *dnsmessage.NSResource:
			ok = b.NS.String() == a.Target+"."
		case *dnsmessage.PTRResource:
			ok = b.PTR.String() == a.Target+"."
		case *dnsmessage.UnknownResource:
			ok = bytes.Equal(b.Data, a.Data)
		}
		if !ok {
			t.Errorf("answer %d (type %d): body %v", i, a.Type, rr.Body)
		}
	}
	// Compression is on: the question name is written once, then pointed to.
	if n := bytes.Count(msg, []byte("\x01q\x07example")); n != 1 {
		t.Errorf("question name appears %d times, want 1 (compression)", n)
	}
}

func TestResponseRcodes(t *testing.T) {
	for rc := 0; rc < 16; rc++ {
		m := parseMsg(t, Response(1, "nx.example", TypeA, rc))
		if int(m.Header.RCode) != rc || len(m.Answers) != 0 {
			t.Errorf("rcode %d: got %v with %d answers", rc, m.Header.RCode, len(m.Answers))
		}
	}
}

func TestRawName(t *testing.T) {
	got := RawName([]byte("a.b"), []byte{0, 0xff}, []byte(`\`))
	want := []byte{3, 'a', '.', 'b', 2, 0, 0xff, 1, '\\', 0}
	if !bytes.Equal(got, want) {
		t.Errorf("RawName = % x, want % x", got, want)
	}
	if got := RawName(); !bytes.Equal(got, []byte{0}) {
		t.Errorf("root = % x", got)
	}
	if got := RawNamePtr(12, []byte("x")); !bytes.Equal(got, []byte{1, 'x', 0xc0, 12}) {
		t.Errorf("RawNamePtr = % x", got)
	}
	if got := RawNamePtr(0x3fff); !bytes.Equal(got, []byte{0xff, 0xff}) {
		t.Errorf("bare pointer = % x", got)
	}
	// An over-long name (5 labels of 63 = 320 bytes) is built, not refused.
	var labels [][]byte
	for range 5 {
		labels = append(labels, bytes.Repeat([]byte{'z'}, 63))
	}
	if n := len(RawName(labels...)); n != 5*64+1 {
		t.Errorf("long name length %d", n)
	}
	if got := Labels("a.b.c."); len(got) != 3 || string(got[2]) != "c" {
		t.Errorf("Labels = %q", got)
	}
	if got := Labels("."); got != nil {
		t.Errorf("Labels(.) = %q", got)
	}
}

func TestRawQueryBinaryLabels(t *testing.T) {
	name := RawName([]byte{0x00, 0x01, 0xfe}, []byte("has.dot"), []byte("example"))
	msg := RawQuery(9, name, TypeTXT)
	// Parse with dnsmessage: the header and question framing must be right.
	var p dnsmessage.Parser
	h, err := p.Start(msg)
	if err != nil || h.ID != 9 || !h.RecursionDesired || h.Response {
		t.Fatalf("header %+v err %v", h, err)
	}
	// dnsmessage refuses to turn such a name into a Name (it is a valid
	// wire name, but not expressible as dotted text)...
	if _, err := p.Question(); err == nil {
		t.Errorf("dnsmessage unexpectedly accepted a name with '.' and NUL inside labels")
	}
	// ...but skips it as a well-formed question ending the message.
	if _, err := p.Start(msg); err != nil {
		t.Fatal(err)
	}
	if err := p.SkipAllQuestions(); err != nil {
		t.Fatalf("skip questions: %v", err)
	}
	if _, err := p.AnswerHeader(); err != dnsmessage.ErrSectionDone {
		t.Errorf("after the question: %v, want ErrSectionDone", err)
	}
	if !bytes.Equal(msg[12:12+len(name)], name) || len(msg) != 12+len(name)+4 {
		t.Errorf("message % x does not hold the raw name", msg)
	}
}

func TestRawResponseAndMsg(t *testing.T) {
	name := RawName(Labels("r.example")...)
	msg := RawResponse(5, name, TypeA, RcodeNXDomain,
		RawRR{Type: TypeA, TTL: 60, Data: []byte{192, 0, 2, 7}},
		RawRR{Name: RawNamePtr(12, []byte("sub")), Type: TypeNULL, Data: []byte{1, 2, 3}})
	m := parseMsg(t, msg)
	if !m.Header.Response || m.Header.RCode != dnsmessage.RCodeNameError || len(m.Answers) != 2 {
		t.Fatalf("header %+v answers %d", m.Header, len(m.Answers))
	}
	if m.Answers[0].Header.Name.String() != "r.example." || m.Answers[0].Body.(*dnsmessage.AResource).A != [4]byte{192, 0, 2, 7} {
		t.Errorf("answer 0 %v", m.Answers[0])
	}
	if m.Answers[1].Header.Name.String() != "sub.r.example." || !bytes.Equal(m.Answers[1].Body.(*dnsmessage.UnknownResource).Data, []byte{1, 2, 3}) {
		t.Errorf("answer 1 %v", m.Answers[1])
	}

	// Lying counts and trailing bytes are written as asked.
	lie := RawMsg{ID: 1, Flags: FlagQR, Questions: []RawQuestion{{Name: name, Type: TypeA}},
		Counts: &[4]uint16{1, 5, 0, 0}, Trailer: []byte{0xde, 0xad}}.Bytes()
	if lie[6] != 0 || lie[7] != 5 || !bytes.HasSuffix(lie, []byte{0xde, 0xad}) {
		t.Errorf("lying message % x", lie)
	}
	var lm dnsmessage.Message
	if err := lm.Unpack(lie); err == nil {
		t.Errorf("dnsmessage accepted a message claiming 5 missing answers")
	}
}
