package dnswire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// ---- builders ---------------------------------------------------------------

func mustName(t testing.TB, s string) dnsmessage.Name {
	t.Helper()
	n, err := dnsmessage.NewName(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// fullMessage builds a response with compression on, several questions and
// every common RR type in all three record sections, plus an EDNS OPT.
func fullMessage(t testing.TB) []byte {
	t.Helper()
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{
		ID: 0xBEEF, Response: true, Authoritative: true, RecursionDesired: true, RecursionAvailable: true,
		RCode: dnsmessage.RCodeNameError, OpCode: 0,
	})
	b.EnableCompression()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(b.StartQuestions())
	must(b.Question(dnsmessage.Question{Name: mustName(t, "www.Example.COM."), Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}))
	must(b.Question(dnsmessage.Question{Name: mustName(t, "mail.example.com."), Type: dnsmessage.TypeMX, Class: dnsmessage.ClassINET}))
	must(b.Question(dnsmessage.Question{Name: mustName(t, "."), Type: dnsmessage.TypeNS, Class: dnsmessage.ClassCHAOS}))
	must(b.StartAnswers())
	hdr := func(name string, ttl uint32) dnsmessage.ResourceHeader {
		return dnsmessage.ResourceHeader{Name: mustName(t, name), Class: dnsmessage.ClassINET, TTL: ttl}
	}
	must(b.AResource(hdr("www.example.com.", 300), dnsmessage.AResource{A: [4]byte{192, 0, 2, 1}}))
	must(b.AAAAResource(hdr("www.example.com.", 301), dnsmessage.AAAAResource{AAAA: [16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 1}}))
	must(b.CNAMEResource(hdr("alias.example.com.", 302), dnsmessage.CNAMEResource{CNAME: mustName(t, "www.example.com.")}))
	must(b.MXResource(hdr("example.com.", 303), dnsmessage.MXResource{Pref: 10, MX: mustName(t, "mail.example.com.")}))
	must(b.PTRResource(hdr("1.2.0.192.in-addr.arpa.", 304), dnsmessage.PTRResource{PTR: mustName(t, "www.example.com.")}))
	must(b.TXTResource(hdr("t.example.com.", 305), dnsmessage.TXTResource{TXT: []string{"v=spf1 -all", "", strings.Repeat("x", 255)}}))
	must(b.SRVResource(hdr("_sip._udp.example.com.", 306), dnsmessage.SRVResource{Priority: 1, Weight: 2, Port: 5060, Target: mustName(t, "sip.example.com.")}))
	must(b.UnknownResource(dnsmessage.ResourceHeader{Name: mustName(t, "u.example.com."), Type: 65280, Class: dnsmessage.ClassINET, TTL: 1},
		dnsmessage.UnknownResource{Type: 65280, Data: []byte{0, 1, 2, 0xC0, 0xFF}}))
	must(b.StartAuthorities())
	must(b.NSResource(hdr("example.com.", 3600), dnsmessage.NSResource{NS: mustName(t, "ns1.example.net.")}))
	must(b.SOAResource(hdr("example.com.", 3600), dnsmessage.SOAResource{
		NS: mustName(t, "ns1.example.net."), MBox: mustName(t, "hostmaster.example.com."),
		Serial: 2024010101, Refresh: 7200, Retry: 900, Expire: 1209600, MinTTL: 60,
	}))
	must(b.StartAdditionals())
	must(b.AResource(hdr("ns1.example.net.", 3600), dnsmessage.AResource{A: [4]byte{203, 0, 113, 53}}))
	var opt dnsmessage.ResourceHeader
	must(opt.SetEDNS0(1232, dnsmessage.RCodeSuccess, true))
	must(b.OPTResource(opt, dnsmessage.OPTResource{Options: []dnsmessage.Option{{Code: 10, Data: []byte("cookie!!")}}}))
	msg, err := b.Finish()
	must(err)
	return msg
}

// wireName is a hand-built uncompressed wire name from raw labels.
func wireName(labels ...[]byte) []byte {
	var b []byte
	for _, l := range labels {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return append(b, 0)
}

// header12 is a query header with the given counts.
func header12(qd, an, ns, ar uint16) []byte {
	h := make([]byte, 12)
	binary.BigEndian.PutUint16(h[0:], 0x1234)
	binary.BigEndian.PutUint16(h[2:], 0x0100)
	binary.BigEndian.PutUint16(h[4:], qd)
	binary.BigEndian.PutUint16(h[6:], an)
	binary.BigEndian.PutUint16(h[8:], ns)
	binary.BigEndian.PutUint16(h[10:], ar)
	return h
}

// query is a one-question message whose question name is the given wire bytes.
func query(name []byte) []byte {
	return append(append(header12(1, 0, 0, 0), name...), 0, 1, 0, 1)
}

// ---- comparison against dnsmessage ------------------------------------------

// dmName renders our name the way dnsmessage does: labels, each followed by
// '.', and "." for the root.
func dmName(n *Name) string {
	if n.Labels() == 0 {
		return "."
	}
	return string(n.Bytes()) + "."
}

// checkRData compares our raw RDATA with dnsmessage's decoded body.
func checkRData(t *testing.T, msg []byte, h *ResourceHeader, rdata []byte, body dnsmessage.ResourceBody) {
	t.Helper()
	name := func(off int) (string, int) {
		var n Name
		next, err := ReadName(msg, off, &n)
		if err != nil {
			t.Fatalf("ReadName in rdata at %d: %v", off, err)
		}
		return dmName(&n), next
	}
	end := h.DataOffset + int(h.Length)
	if !bytes.Equal(msg[h.DataOffset:end], rdata) {
		t.Fatalf("DataOffset %d does not locate rdata", h.DataOffset)
	}
	switch b := body.(type) {
	case *dnsmessage.AResource:
		if !bytes.Equal(rdata, b.A[:]) {
			t.Errorf("A %x vs %x", rdata, b.A)
		}
	case *dnsmessage.AAAAResource:
		if !bytes.Equal(rdata, b.AAAA[:]) {
			t.Errorf("AAAA %x vs %x", rdata, b.AAAA)
		}
	case *dnsmessage.CNAMEResource:
		if n, next := name(h.DataOffset); n != b.CNAME.String() || next != end {
			t.Errorf("CNAME %q (end %d) vs %q (end %d)", n, next, b.CNAME.String(), end)
		}
	case *dnsmessage.NSResource:
		if n, next := name(h.DataOffset); n != b.NS.String() || next != end {
			t.Errorf("NS %q vs %q", n, b.NS.String())
		}
	case *dnsmessage.PTRResource:
		if n, next := name(h.DataOffset); n != b.PTR.String() || next != end {
			t.Errorf("PTR %q vs %q", n, b.PTR.String())
		}
	case *dnsmessage.MXResource:
		if binary.BigEndian.Uint16(rdata) != b.Pref {
			t.Errorf("MX pref")
		}
		if n, next := name(h.DataOffset + 2); n != b.MX.String() || next != end {
			t.Errorf("MX %q vs %q", n, b.MX.String())
		}
	case *dnsmessage.SRVResource:
		if binary.BigEndian.Uint16(rdata) != b.Priority || binary.BigEndian.Uint16(rdata[2:]) != b.Weight || binary.BigEndian.Uint16(rdata[4:]) != b.Port {
			t.Errorf("SRV fixed fields")
		}
		if n, next := name(h.DataOffset + 6); n != b.Target.String() || next != end {
			t.Errorf("SRV %q vs %q", n, b.Target.String())
		}
	case *dnsmessage.SOAResource:
		ns, next := name(h.DataOffset)
		mbox, next := name(next)
		if ns != b.NS.String() || mbox != b.MBox.String() || next+20 != end {
			t.Errorf("SOA %q %q vs %q %q", ns, mbox, b.NS.String(), b.MBox.String())
		}
		if binary.BigEndian.Uint32(msg[next:]) != b.Serial || binary.BigEndian.Uint32(msg[next+16:]) != b.MinTTL {
			t.Errorf("SOA numbers")
		}
	case *dnsmessage.TXTResource:
		var got []string
		for r := rdata; len(r) > 0; r = r[1+int(r[0]):] {
			got = append(got, string(r[1:1+int(r[0])]))
		}
		if fmt.Sprint(got) != fmt.Sprint(b.TXT) || len(got) != len(b.TXT) {
			t.Errorf("TXT %q vs %q", got, b.TXT)
		}
	case *dnsmessage.OPTResource:
		var r []byte = rdata
		for _, o := range b.Options {
			if binary.BigEndian.Uint16(r) != o.Code || int(binary.BigEndian.Uint16(r[2:])) != len(o.Data) || !bytes.Equal(r[4:4+len(o.Data)], o.Data) {
				t.Errorf("OPT option %v vs %x", o, r)
			}
			r = r[4+len(o.Data):]
		}
		if len(r) != 0 {
			t.Errorf("OPT trailing %x", r)
		}
	case *dnsmessage.UnknownResource:
		if !bytes.Equal(rdata, b.Data) {
			t.Errorf("unknown %x vs %x", rdata, b.Data)
		}
	default:
		t.Errorf("unexpected body %T", body)
	}
}

// compareWithDNSMessage parses msg with both parsers and compares everything.
func compareWithDNSMessage(t *testing.T, msg []byte) {
	t.Helper()
	var dp dnsmessage.Parser
	dh, err := dp.Start(msg)
	if err != nil {
		t.Fatalf("dnsmessage: %v", err)
	}
	var p Parser
	h, err := p.Start(msg)
	if err != nil {
		t.Fatal(err)
	}
	if h.ID != dh.ID || h.Response() != dh.Response || h.Opcode() != uint8(dh.OpCode) || h.RCode() != uint8(dh.RCode) ||
		h.Truncated() != dh.Truncated || h.RecursionDesired() != dh.RecursionDesired ||
		(h.Flags&FlagAA != 0) != dh.Authoritative || (h.Flags&FlagRA != 0) != dh.RecursionAvailable {
		t.Errorf("header %+v vs %+v", h, dh)
	}
	dqs, err := dp.AllQuestions()
	if err != nil {
		t.Fatal(err)
	}
	if int(h.QDCount) != len(dqs) {
		t.Fatalf("QDCount %d, dnsmessage %d questions", h.QDCount, len(dqs))
	}
	var q Question
	for i, dq := range dqs {
		if err := p.Question(&q); err != nil {
			t.Fatalf("question %d: %v", i, err)
		}
		if dmName(&q.Name) != dq.Name.String() || q.Type != uint16(dq.Type) || q.Class != uint16(dq.Class) {
			t.Errorf("question %d: %q %d %d vs %q %d %d", i, q.Name.Bytes(), q.Type, q.Class, dq.Name.String(), dq.Type, dq.Class)
		}
	}
	if err := p.Question(&q); err != ErrSectionDone {
		t.Fatalf("after last question: %v", err)
	}
	type section struct {
		all  func() ([]dnsmessage.Resource, error)
		next func(*ResourceHeader) ([]byte, error)
	}
	for si, s := range []section{{dp.AllAnswers, p.Answer}, {dp.AllAuthorities, p.Authority}, {dp.AllAdditionals, p.Additional}} {
		drs, err := s.all()
		if err != nil {
			t.Fatal(err)
		}
		var rh ResourceHeader
		for i, dr := range drs {
			rdata, err := s.next(&rh)
			if err != nil {
				t.Fatalf("section %d record %d: %v", si, i, err)
			}
			if dmName(&rh.Name) != dr.Header.Name.String() || rh.Type != uint16(dr.Header.Type) || rh.Class != uint16(dr.Header.Class) ||
				rh.TTL != dr.Header.TTL || rh.Length != dr.Header.Length || len(rdata) != int(rh.Length) {
				t.Errorf("section %d record %d: %q %+v vs %+v", si, i, rh.Name.Bytes(), rh, dr.Header)
			}
			checkRData(t, msg, &rh, rdata, dr.Body)
		}
		if _, err := s.next(&rh); err != ErrSectionDone {
			t.Fatalf("section %d end: %v", si, err)
		}
	}
	if p.Section() != SectionNone || p.Offset() != len(msg) {
		t.Errorf("end state: section %d offset %d of %d", p.Section(), p.Offset(), len(msg))
	}
}

// ---- tests ------------------------------------------------------------------

func TestAgainstDNSMessage(t *testing.T) {
	msg := fullMessage(t)
	// The builder must really have compressed something.
	// ("example.com" of the second question sits at offset 0x26.)
	if !bytes.Contains(msg, []byte{0xC0, 0x26}) {
		t.Fatalf("no compression pointer in %x", msg)
	}
	compareWithDNSMessage(t, msg)
}

func TestManyQuestions(t *testing.T) {
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: 1})
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		t.Fatal(err)
	}
	for i := range 2000 {
		if err := b.Question(dnsmessage.Question{Name: mustName(t, fmt.Sprintf("q%d.example.com.", i)), Type: dnsmessage.TypeTXT, Class: dnsmessage.ClassINET}); err != nil {
			t.Fatal(err)
		}
	}
	msg, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	compareWithDNSMessage(t, msg)
	var p Parser
	if _, err := p.Start(msg); err != nil {
		t.Fatal(err)
	}
	var q Question
	for i := range 2000 {
		if err := p.Question(&q); err != nil || string(q.Name.Bytes()) != fmt.Sprintf("q%d.example.com", i) || q.Name.Labels() != 3 {
			t.Fatalf("question %d: %v %q", i, err, q.Name.Bytes())
		}
	}
	if err := p.Question(&q); err != ErrSectionDone {
		t.Fatal(err)
	}
	if _, err := p.Answer(nil); err != ErrSectionDone {
		t.Fatal(err)
	}
}

func TestHeaderMethods(t *testing.T) {
	for _, c := range []struct {
		flags           uint16
		resp, trunc, rd bool
		opcode, rcode   uint8
	}{
		{0x0100, false, false, true, 0, 0},
		{0x8183, true, false, true, 0, 3},
		{0x8380, true, true, true, 0, 0},
		{0x2800, false, false, false, 5, 0},
		{0xFFFF, true, true, true, 15, 15},
	} {
		h := Header{Flags: c.flags}
		if h.Response() != c.resp || h.Truncated() != c.trunc || h.RecursionDesired() != c.rd || h.Opcode() != c.opcode || h.RCode() != c.rcode {
			t.Errorf("flags %#04x: %v %v %v %d %d", c.flags, h.Response(), h.Truncated(), h.RecursionDesired(), h.Opcode(), h.RCode())
		}
	}
}

func TestNames(t *testing.T) {
	l63 := bytes.Repeat([]byte("a"), 63)
	// 255 octets: 3 labels of 63 + 1 label of 61 = 4*64 - 2 + 1 (root) = 255.
	max255 := wireName(l63, l63, l63, bytes.Repeat([]byte("b"), 61))
	if len(max255) != 255 {
		t.Fatalf("test bug: %d", len(max255))
	}
	over := wireName(l63, l63, l63, bytes.Repeat([]byte("b"), 62))
	cases := []struct {
		name   string
		wire   []byte
		labels [][]byte
		err    error
	}{
		{"root", []byte{0}, nil, nil},
		{"simple", wireName([]byte("www"), []byte("example"), []byte("com")), [][]byte{[]byte("www"), []byte("example"), []byte("com")}, nil},
		{"binary bytes", wireName([]byte{0, 0xFF, 0x80, '\n'}, []byte("x")), [][]byte{{0, 0xFF, 0x80, '\n'}, []byte("x")}, nil},
		{"dot inside label", wireName([]byte("a.b"), []byte("c")), [][]byte{[]byte("a.b"), []byte("c")}, nil},
		{"case kept", wireName([]byte("WwW"), []byte("ExAmple")), [][]byte{[]byte("WwW"), []byte("ExAmple")}, nil},
		{"63-byte label", wireName(l63, []byte("com")), [][]byte{l63, []byte("com")}, nil},
		{"255-octet name", max255, [][]byte{l63, l63, l63, bytes.Repeat([]byte("b"), 61)}, nil},
		{"256-octet name", over, nil, ErrNameTooLong},
		{"64-byte label is type 01", append([]byte{64}, bytes.Repeat([]byte("a"), 65)...), nil, ErrBadLabelType},
		{"label type 10", []byte{0x80, 0}, nil, ErrBadLabelType},
		{"label type 01 (EDNS bitstring)", []byte{0x41, 0}, nil, ErrBadLabelType},
		{"empty", nil, nil, ErrShortName},
		{"no root", []byte{3, 'c', 'o', 'm'}, nil, ErrShortName},
		{"label past end", []byte{5, 'c', 'o'}, nil, ErrShortName},
		{"half pointer", []byte{1, 'a', 0xC0}, nil, ErrShortName},
		{"forward pointer", []byte{0xC0, 12 + 4, 0, 0, 1, 'a', 0}, nil, ErrBadPointer},
		{"self pointer", []byte{0xC0, 12}, nil, ErrBadPointer},
		{"pointer into own labels", []byte{1, 'a', 0xC0, 12}, nil, ErrPointerLoop},
		{"pointer into the header", []byte{0xC0, 0}, nil, ErrBadLabelType}, // ID byte 0x12 = label of 18 bytes... see below
	}
	for _, c := range cases {
		msg := append(header12(1, 0, 0, 0), c.wire...)
		var n Name
		next, err := ReadName(msg, 12, &n)
		if c.name == "pointer into the header" {
			// The header bytes 12 34 01 00 ... read as a label of 0x12
			// bytes: that runs past the name and the message.
			if err != ErrShortName {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if err != c.err {
			t.Errorf("%s: err %v, want %v", c.name, err, c.err)
			continue
		}
		if err != nil {
			if next != 12 {
				t.Errorf("%s: next %d on error", c.name, next)
			}
			continue
		}
		if next != len(msg) {
			t.Errorf("%s: next %d, want %d", c.name, next, len(msg))
		}
		if n.Labels() != len(c.labels) || n.WireLen() != len(c.wire) {
			t.Errorf("%s: %d labels wire %d, want %d %d", c.name, n.Labels(), n.WireLen(), len(c.labels), len(c.wire))
		}
		for i, l := range c.labels {
			if !bytes.Equal(n.Label(i), l) {
				t.Errorf("%s: label %d %q want %q", c.name, i, n.Label(i), l)
			}
		}
		if want := bytes.Join(c.labels, []byte(".")); !bytes.Equal(n.Bytes(), want) || n.Len() != len(want) || n.String() != string(want) {
			t.Errorf("%s: bytes %q want %q", c.name, n.Bytes(), want)
		}
		// Validate-only mode agrees.
		if next2, err := ReadName(msg, 12, nil); err != nil || next2 != next {
			t.Errorf("%s: nil name: %d %v", c.name, next2, err)
		}
	}
	// A Name is reused: a shorter name leaves no trace of the longer one.
	var n Name
	msg := append(header12(0, 0, 0, 0), append(max255, 0)...)
	if _, err := ReadName(msg, 12, &n); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadName(msg, len(msg)-1, &n); err != nil || n.Labels() != 0 || n.Len() != 0 || n.WireLen() != 1 {
		t.Errorf("reuse: %v %q", err, n.Bytes())
	}
	var zero Name
	if zero.WireLen() != 1 || zero.Labels() != 0 || len(zero.Bytes()) != 0 {
		t.Errorf("zero name")
	}
}

func TestLabelPanicsOutOfRange(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	var n Name
	n.Label(0)
}

func TestCompression(t *testing.T) {
	// 12: example.com  25: www -> 12   31: a.b -> 25 (a chain of two jumps)
	// 37: pointer-only chain -> 31 -> 25 -> 12
	msg := header12(0, 0, 0, 0)
	msg = append(msg, wireName([]byte("example"), []byte("com"))...) // 12..24
	msg = append(msg, 3, 'w', 'w', 'w', 0xC0, 12)                    // 25..30
	msg = append(msg, 1, 'a', 1, 'b', 0xC0, 25)                      // 31..36
	msg = append(msg, 0xC0, 31)                                      // 37..38
	for _, c := range []struct {
		off, next int
		want      string
		wire      int
	}{
		{12, 25, "example.com", 13},
		{25, 31, "www.example.com", 17},
		{31, 37, "a.b.www.example.com", 21},
		{37, 39, "a.b.www.example.com", 21},
	} {
		var n Name
		next, err := ReadName(msg, c.off, &n)
		if err != nil || next != c.next || string(n.Bytes()) != c.want || n.WireLen() != c.wire {
			t.Errorf("at %d: %v next %d %q wire %d", c.off, err, next, n.Bytes(), n.WireLen())
		}
	}
	// Pointer loops: two pointers pointing at each other, and long chains.
	loop := append(header12(1, 0, 0, 0), 0xC0, 14, 0xC0, 12)
	if _, err := ReadName(loop, 12, nil); err != ErrBadPointer {
		t.Errorf("forward half of a loop: %v", err)
	}
	// 14 -> 12 is backwards, then 12 -> 14 is forward.
	if _, err := ReadName(loop, 14, nil); err != ErrBadPointer {
		t.Errorf("backward half of a loop: %v", err)
	}
	// A chain of MaxPointers pointer-only hops is fine, one more is not.
	chain := header12(0, 0, 0, 0)
	chain = append(chain, 0)
	for i := range MaxPointers + 1 {
		target := 12 + 2*i - 1
		if i == 0 {
			target = 12
		}
		chain = append(chain, 0xC0|byte(target>>8), byte(target))
	}
	// chain: 12: root; 13: ->12; 15: ->13; ... each pointer adds a hop.
	if _, err := ReadName(chain, 13+2*(MaxPointers-1), nil); err != nil {
		t.Errorf("chain of %d pointers: %v", MaxPointers, err)
	}
	if _, err := ReadName(chain, 13+2*MaxPointers, nil); err != ErrPointerLoop {
		t.Errorf("chain of %d pointers: %v", MaxPointers+1, err)
	}
	// A name that reaches more than 255 octets only through pointers.
	long := header12(0, 0, 0, 0)
	l63 := bytes.Repeat([]byte("z"), 63)
	long = append(long, wireName(l63, l63)...) // 12: 129 octets
	p1 := len(long)
	long = append(long, 63)
	long = append(long, l63...)
	long = append(long, 0xC0, 12) // 193 octets
	p2 := len(long)
	long = append(long, 63)
	long = append(long, l63...)
	long = append(long, 0xC0|byte(p1>>8), byte(p1)) // 257 octets
	if _, err := ReadName(long, p1, nil); err != nil {
		t.Errorf("193-octet compressed name: %v", err)
	}
	if _, err := ReadName(long, p2, nil); err != ErrNameTooLong {
		t.Errorf("257-octet compressed name: %v", err)
	}
}

func TestQuestionThroughPointer(t *testing.T) {
	// Two questions, the second compressed against the first.
	msg := header12(2, 0, 0, 0)
	msg = append(msg, wireName([]byte("Tun"), []byte("Example"), []byte("org"))...)
	msg = append(msg, 0, 16, 0, 1)
	msg = append(msg, 4, 0xFF, '.', 0, 'x', 0xC0, 12, 0, 1, 0, 3)
	var p Parser
	if _, err := p.Start(msg); err != nil {
		t.Fatal(err)
	}
	var q Question
	if err := p.Question(&q); err != nil || string(q.Name.Bytes()) != "Tun.Example.org" || q.Type != 16 || q.Class != 1 {
		t.Fatalf("q1: %v %q", err, q.Name.Bytes())
	}
	if err := p.Question(&q); err != nil || string(q.Name.Bytes()) != "\xff.\x00x.Tun.Example.org" || q.Type != 1 || q.Class != 3 ||
		q.Name.Labels() != 4 || !bytes.Equal(q.Name.Label(0), []byte{0xFF, '.', 0, 'x'}) || q.Name.WireLen() != 22 {
		t.Fatalf("q2: %v %q", err, q.Name.Bytes())
	}
	if err := p.Question(&q); err != ErrSectionDone {
		t.Fatal(err)
	}
	if err := p.Question(&q); err != ErrSectionDone {
		t.Fatal(err)
	}
}

// TestTruncatedEverywhere cuts a full message at every length and checks the
// exact error of the first failing step.
func TestTruncatedEverywhere(t *testing.T) {
	msg := fullMessage(t)
	var p Parser
	if _, err := p.Start(msg); err != nil {
		t.Fatal(err)
	}
	if err := p.SkipAllQuestions(); err != nil {
		t.Fatal(err)
	}
	questionsEnd := p.Offset()
	for cut := 0; cut < len(msg); cut++ {
		m := msg[:cut:cut]
		var want error
		switch {
		case cut < HeaderLen:
			want = ErrShortHeader
		case cut < questionsEnd:
			want = ErrShortQuestion
		default:
			want = ErrShortResource
		}
		got := walk(&p, m)
		if got != want {
			t.Errorf("cut at %d: %v, want %v", cut, got, want)
		}
		if !errors.Is(got, ErrShortMessage) {
			t.Errorf("cut at %d: %v is not ErrShortMessage", cut, got)
		}
		// dnsmessage fails too.
		var dp dnsmessage.Parser
		if _, err := dp.Start(m); err == nil {
			if _, err := dp.AllQuestions(); err == nil {
				if _, err := dp.AllAnswers(); err == nil {
					if _, err := dp.AllAuthorities(); err == nil {
						if _, err := dp.AllAdditionals(); err == nil {
							t.Errorf("cut at %d: dnsmessage accepts it", cut)
						}
					}
				}
			}
		}
	}
	if err := walk(&p, msg); err != nil {
		t.Fatalf("full message: %v", err)
	}
}

// walk parses a whole message and returns the first error other than the
// final ErrSectionDone.
func walk(p *Parser, msg []byte) error {
	if _, err := p.Start(msg); err != nil {
		return err
	}
	var q Question
	for {
		err := p.Question(&q)
		if err == ErrSectionDone {
			break
		}
		if err != nil {
			return err
		}
	}
	var h ResourceHeader
	for {
		_, _, err := p.Resource(&h)
		if err == ErrSectionDone {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func TestParserStates(t *testing.T) {
	var p Parser
	var q Question
	var h ResourceHeader
	if err := p.Question(&q); err != ErrNotStarted {
		t.Errorf("unstarted Question: %v", err)
	}
	if _, err := p.Answer(&h); err != ErrNotStarted {
		t.Errorf("unstarted Answer: %v", err)
	}
	if _, _, err := p.Resource(&h); err != ErrNotStarted {
		t.Errorf("unstarted Resource: %v", err)
	}
	if _, err := p.Start(make([]byte, 11)); err != ErrShortHeader {
		t.Errorf("short header: %v", err)
	}
	if err := p.Question(&q); err != ErrShortHeader {
		t.Errorf("sticky error: %v", err)
	}

	msg := fullMessage(t)
	// Asking for the additional section first skips the others.
	if _, err := p.Start(msg); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Additional(&h); err != nil || string(h.Name.Bytes()) != "ns1.example.net" || h.Type != TypeA {
		t.Fatalf("first additional: %v %q", err, h.Name.Bytes())
	}
	if _, err := p.Answer(&h); err != ErrSectionDone {
		t.Errorf("answer after additional: %v", err)
	}
	if err := p.Question(&q); err != ErrSectionDone {
		t.Errorf("question after additional: %v", err)
	}
	rdata, err := p.Additional(&h)
	if err != nil || h.Type != TypeOPT || h.Class != 1232 || h.TTL != 0x8000 || h.Name.Labels() != 0 || len(rdata) != 12 {
		t.Fatalf("OPT: %v %+v", err, h)
	}
	if _, err := p.Additional(&h); err != ErrSectionDone {
		t.Errorf("end: %v", err)
	}
	if p.Section() != SectionNone {
		t.Errorf("section %d", p.Section())
	}

	// Resource walks every section in order.
	if _, err := p.Start(msg); err != nil {
		t.Fatal(err)
	}
	var secs []Section
	for {
		s, _, err := p.Resource(&h)
		if err == ErrSectionDone {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		secs = append(secs, s)
	}
	if fmt.Sprint(secs) != "[2 2 2 2 2 2 2 2 3 3 4 4]" {
		t.Errorf("sections %v", secs)
	}

	// A bad name in a skipped question is still reported.
	bad := append(header12(1, 1, 0, 0), 0xC0, 12, 0, 1, 0, 1)
	if _, err := p.Start(bad); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Answer(&h); err != ErrBadPointer {
		t.Errorf("skipping bad question: %v", err)
	}
	if _, err := p.Answer(&h); err != ErrBadPointer {
		t.Errorf("sticky: %v", err)
	}
}

func TestHostileCounts(t *testing.T) {
	// 65535 questions announced, one present.
	msg := append(header12(0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF), 0, 0, 1, 0, 1)
	var p Parser
	if err := walk(&p, msg); err != ErrShortQuestion {
		t.Errorf("%v", err)
	}
	// Many root-named empty records: fine, and linear.
	msg = header12(0, 0xFFFF, 0, 0)
	for range 0xFFFF {
		msg = append(msg, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0)
	}
	if err := walk(&p, msg); err != nil {
		t.Errorf("%v", err)
	}
}

func TestZeroAllocs(t *testing.T) {
	msg := fullMessage(t)
	var p Parser
	var q Question
	var h ResourceHeader
	var n Name
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := p.Start(msg); err != nil {
			panic(err)
		}
		for p.Question(&q) == nil {
		}
		for {
			rdata, err := p.Answer(&h)
			if err != nil {
				break
			}
			if h.Type == TypeCNAME {
				if _, err := ReadName(msg, h.DataOffset, &n); err != nil || len(rdata) == 0 {
					panic(err)
				}
			}
		}
		for {
			if _, _, err := p.Resource(&h); err != nil {
				break
			}
		}
		_ = walk(&p, msg[:40])
		_, _ = ReadName(msg, len(msg)-3, &n)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per run, want 0", allocs)
	}
}

func BenchmarkParse(b *testing.B) {
	msg := fullMessage(b)
	b.Run("first-question", func(b *testing.B) {
		var p Parser
		var q Question
		b.ReportAllocs()
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			if _, err := p.Start(msg); err != nil {
				b.Fatal(err)
			}
			if err := p.Question(&q); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("whole-message", func(b *testing.B) {
		var p Parser
		b.ReportAllocs()
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			if err := walk(&p, msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("dnsmessage-whole-message", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			var p dnsmessage.Parser
			if _, err := p.Start(msg); err != nil {
				b.Fatal(err)
			}
			if _, err := p.AllQuestions(); err != nil {
				b.Fatal(err)
			}
			if _, err := p.AllAnswers(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestAnswerHeader: AnswerHeader leaves the owner name undecoded and says
// where it is; the rest of the record is read as by Answer.
func TestAnswerHeader(t *testing.T) {
	// One question "a.b" at 12; answers owned by a pointer to it (at 21)
	// and by "c" + pointer (at 37).
	msg := append(header12(1, 2, 0, 0), 1, 'a', 1, 'b', 0, 0, 1, 0, 1)
	msg = append(msg, 0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 7, 0, 4, 192, 0, 2, 1)
	msg = append(msg, 1, 'c', 0xC0, 12, 0, 5, 0, 1, 0, 0, 0, 9, 0, 2, 0xC0, 12)
	var p Parser
	if _, err := p.Start(msg); err != nil {
		t.Fatal(err)
	}
	h := ResourceHeader{Type: 99}
	h.Name.buf[0] = 'x'
	want := []struct {
		nameOff, dataOff int
		typ              uint16
		ttl              uint32
		owner            string
	}{{21, 33, 1, 7, "a.b"}, {37, 51, 5, 9, "c.a.b"}}
	for i, w := range want {
		rdata, err := p.AnswerHeader(&h)
		if err != nil {
			t.Fatal(err)
		}
		var owner Name
		if _, err := ReadName(msg, h.NameOffset, &owner); err != nil || string(owner.Bytes()) != w.owner {
			t.Fatalf("answer %d: owner %q (%v)", i, owner.Bytes(), err)
		}
		if h.NameOffset != w.nameOff || h.DataOffset != w.dataOff || h.Type != w.typ || h.TTL != w.ttl || len(rdata) != int(h.Length) || h.Name.Len() != 0 {
			t.Fatalf("answer %d: %+v", i, h)
		}
	}
	if _, err := p.AnswerHeader(&h); err != ErrSectionDone {
		t.Fatalf("after the answers: %v", err)
	}
}

// TestShortLabelsIntoUsedName reads names whose labels are every length
// from 1 to 63, ending at every distance from the message's end (so that
// both the block copy of short labels and the sized copy are taken), into
// a Name whose scratch is full of earlier bytes, and compares each with
// dnsmessage's reading.
func TestShortLabelsIntoUsedName(t *testing.T) {
	var n Name
	long := bytes.Repeat([]byte{'z'}, MaxLabelLen)
	for size := 1; size <= MaxLabelLen; size++ {
		for tail := 0; tail <= 2*copySlack; tail++ {
			label := make([]byte, size)
			for i := range label {
				label[i] = byte('a' + (size+i)%26)
			}
			msg := append(header12(1, 0, 0, 0), wireName(label, []byte("x"), label)...)
			msg = append(msg, bytes.Repeat([]byte{0}, tail)...)
			// Fill the scratch with another name's bytes first.
			if _, err := ReadName(append(wireName(long, long, long), 0), 0, &n); err != nil {
				t.Fatal(err)
			}
			next, err := ReadName(msg, HeaderLen, &n)
			if err != nil {
				t.Fatalf("size %d tail %d: %v", size, tail, err)
			}
			want := string(label) + ".x." + string(label)
			if got := string(n.Bytes()); got != want || n.Labels() != 3 || string(n.Label(2)) != string(label) {
				t.Fatalf("size %d tail %d: %q (%d labels), want %q", size, tail, got, n.Labels(), want)
			}
			if wantNext := len(msg) - tail; next != wantNext {
				t.Fatalf("size %d tail %d: next %d, want %d", size, tail, next, wantNext)
			}
			var p dnsmessage.Parser
			if _, err := p.Start(append(msg[:len(msg)-tail:len(msg)-tail], 0, 1, 0, 1)); err != nil {
				t.Fatal(err)
			}
			q, err := p.Question()
			if err != nil {
				t.Fatal(err)
			}
			if dmName(&n) != q.Name.String() {
				t.Fatalf("size %d tail %d: %q, dnsmessage %q", size, tail, dmName(&n), q.Name.String())
			}
		}
	}
}
