package zeek

import (
	"bytes"
	"encoding/base32"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/dnsieve/dnsieve/internal/analyze"
	"github.com/dnsieve/dnsieve/internal/capture"
	"github.com/dnsieve/dnsieve/internal/checks"
	"github.com/dnsieve/dnsieve/internal/engine"
	"github.com/dnsieve/dnsieve/internal/fingerprint"
	"github.com/dnsieve/dnsieve/internal/testcap"
)

var update = flag.Bool("update", false, "rewrite testdata/tsv/dns.log and testdata/json/dns.log")

// base is the time of the first generated packet.
var base = time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)

// exchange is a query and its response (either may be missing).
type exchange struct {
	client, server netip.AddrPort
	query, resp    []byte
	rtt            time.Duration
}

// Small encoders for tunnel-shaped names, written from the tools'
// protocol documents (see internal/fingerprint/README.md for the facts).
var iodB32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz012345").WithPadding(base32.NoPadding)

func chunk(s string, n int) []string {
	var out []string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	return append(out, s)
}

// dnscat2 MSG packet: packet ID, type 0x01, session, seq, ack, data
// (iagox86/dnscat2 doc/protocol.md).
func dc2Msg(packetID, session, seq, ack uint16, data []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, packetID)
	b = append(b, 0x01)
	b = binary.BigEndian.AppendUint16(b, session)
	b = binary.BigEndian.AppendUint16(b, seq)
	b = binary.BigEndian.AppendUint16(b, ack)
	return append(b, data...)
}

// dnstt query payload: client ID, padding prefix 224+n, length-prefixed
// packet, base32 lower case without padding (dnstt-client/dns.go).
func dnsttName(clientID [8]byte, pad int, pkt []byte, zone string) string {
	b := append([]byte{}, clientID[:]...)
	b = append(b, byte(224+pad))
	b = append(b, make([]byte, pad)...)
	b = append(b, byte(len(pkt)))
	b = append(b, pkt...)
	enc := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
	return strings.Join(chunk(enc, 63), ".") + "." + zone
}

// traffic is the round trip's packets: ordinary lookups of every answer
// type Zeek describes, the odd cases (no response, response only, EDNS,
// NXDOMAIN, escaped bytes, mixed case, IPv6) and tunnel traffic of four
// tools.
func traffic() []exchange {
	c4 := netip.MustParseAddrPort("192.0.2.10:40000")
	s4 := netip.MustParseAddrPort("192.0.2.53:53")
	c6 := netip.MustParseAddrPort("[2001:db8::10]:41000")
	s6 := netip.MustParseAddrPort("[2001:db8::53]:53")
	port := uint16(40000)
	cli := func(a netip.AddrPort) netip.AddrPort {
		port++
		return netip.AddrPortFrom(a.Addr(), port)
	}
	a := func(s string) testcap.Answer { return testcap.AnswerAddr(netip.MustParseAddr(s)) }
	var xs []exchange
	add := func(c, s netip.AddrPort, q, r []byte, rtt time.Duration) {
		xs = append(xs, exchange{client: cli(c), server: s, query: q, resp: r, rtt: rtt})
	}
	id := uint16(0x1000)
	next := func() uint16 { id += 7; return id }

	// Ordinary traffic.
	i := next()
	cname := testcap.AnswerCNAME("www.example.com.cdn.cloudflare.net")
	tail := a("104.16.1.1")
	tail.Name = "www.example.com.cdn.cloudflare.net"
	tail2 := a("104.16.1.2")
	tail2.Name = tail.Name
	add(c4, s4, testcap.Query(i, "www.example.com", 1), testcap.Response(i, "www.example.com", 1, 0, cname, tail, tail2), 12345*time.Microsecond)
	i = next()
	add(c4, s4, testcap.Query(i, "example.org", 28), testcap.Response(i, "example.org", 28, 0, a("2001:db8::1")), 8*time.Millisecond)
	i = next()
	add(c4, s4, testcap.Query(i, "example.net", 15), testcap.Response(i, "example.net", 15, 0, testcap.AnswerMX(10, "mx1.example.net"), testcap.AnswerMX(20, "mx2.mail.example.org")), 3*time.Millisecond)
	i = next()
	add(c4, s4, testcap.Query(i, "_ldap._tcp.example.com", 33), testcap.Response(i, "_ldap._tcp.example.com", 33, 0, testcap.AnswerSRV(0, 100, 389, "dc1.example.com")), 2*time.Millisecond)
	i = next()
	add(c4, s4, testcap.Query(i, "example.com", 2), testcap.Response(i, "example.com", 2, 0, testcap.AnswerNS("ns1.example.com"), testcap.AnswerNS("ns2.example.com")), 4*time.Millisecond)
	i = next()
	add(c4, s4, testcap.Query(i, "4.3.2.1.in-addr.arpa", 12), testcap.Response(i, "4.3.2.1.in-addr.arpa", 12, 0, testcap.AnswerPTR("host.example.com")), 5*time.Millisecond)
	i = next()
	add(c4, s4, testcap.Query(i, "example.com", 16), testcap.Response(i, "example.com", 16, 0,
		testcap.AnswerTXT("v=spf1 include:_spf.example.com ~all"), testcap.AnswerTXT("hello world", "a, b TXT 3 c")), 6*time.Millisecond)
	i = next()
	add(c4, s4, testcap.Query(i, "nonexistent.example.com", 1), testcap.Response(i, "nonexistent.example.com", 1, testcap.RcodeNXDomain), 7*time.Millisecond)
	i = next()
	add(c4, s4, testcap.QueryEDNS(i, "edns.example.com", 1, 1232), testcap.Response(i, "edns.example.com", 1, 0, a("198.51.100.7")), 9*time.Millisecond)
	i = next()
	add(c4, s4, testcap.Query(i, "lost.example.com", 1), nil, 0)
	i = next()
	add(c4, s4, nil, testcap.Response(i, "orphan.example.com", 1, 0, a("198.51.100.8")), 0)
	i = next()
	add(c6, s6, testcap.Query(i, "v6.example.com", 28), testcap.Response(i, "v6.example.com", 28, 0, a("2001:db8::abcd")), 11*time.Millisecond)
	i = next()
	add(c4, s4, testcap.Query(i, "WwW.Example.COM", 1), testcap.Response(i, "WwW.Example.COM", 1, 0, a("93.184.216.34")), 10*time.Millisecond)
	i = next()
	odd := testcap.RawName([]byte("tab\there"), []byte("comma,x"), []byte{0xff, 'a', 0x01}, []byte(`back\x41slash`), []byte("-"), []byte("example"), []byte("com"))
	add(c4, s4, testcap.RawQuery(i, odd, 16), testcap.RawResponse(i, odd, 16, 0,
		testcap.RawRR{Type: 16, TTL: 60, Data: append([]byte{8}, "x\ty,z\\\xfe-"...)}), 13*time.Millisecond)

	// iodine: version handshake (NULL answer, which Zeek cannot describe).
	v := binary.BigEndian.AppendUint32(nil, 0x00000502)
	v = binary.BigEndian.AppendUint16(v, 0x4d2)
	iv := "v" + iodB32.EncodeToString(v) + ".t1.pirate.sea"
	i = next()
	add(c4, s4, testcap.Query(i, iv, 10), testcap.Response(i, iv, 10, 0, testcap.AnswerNULL([]byte("VACK\x00\x00\x00\x01\x02"))), 20*time.Millisecond)

	// dnscat2: a session of split MSG queries answered in TXT.
	for k := 0; k < 24; k++ {
		data := []byte(fmt.Sprintf("command output line %02d: the quick brown fox jumps over the lazy dog", k))
		q := strings.Join(chunk(hex.EncodeToString(dc2Msg(uint16(0x2000+k), 0xbeef, uint16(100+k), 200, data)), 60), ".") + ".biillpi.com"
		reply := hex.EncodeToString(dc2Msg(uint16(0x3000+k), 0xbeef, 200, uint16(101+k), nil))
		i = next()
		add(c4, s4, testcap.Query(i, q, 16), testcap.Response(i, q, 16, 0, testcap.AnswerTXT(reply)), time.Duration(30+k)*time.Millisecond)
	}

	// dnstt data queries.
	var clientID [8]byte
	copy(clientID[:], "\x11\x22\x33\x44\x55\x66\x77\x88")
	for k := 0; k < 6; k++ {
		pkt := bytes.Repeat([]byte{byte(k + 1)}, 40+k*10)
		q := dnsttName(clientID, 3, pkt, "t.example.com")
		i = next()
		add(c4, s4, testcap.QueryEDNS(i, q, 16, 4096), testcap.Response(i, q, 16, 0, testcap.AnswerTXT("\x01\x02\x03 reply")), 25*time.Millisecond)
	}

	// Cobalt Strike DNS beacon upload.
	for k := 0; k < 4; k++ {
		q := fmt.Sprintf("post.2%08x%08x.%08x%08x.%d1d3e1999.dns.example.com", k, k+1, k+2, k+3, k)
		i = next()
		add(c4, s4, testcap.Query(i, q, 1), testcap.Response(i, q, 1, 0, a("0.0.0.0")), 40*time.Millisecond)
	}
	return xs
}

// frames lays the exchanges out in time: one every 150 ms, the response
// rtt later.
func frames(xs []exchange) []testcap.Frame {
	var fs []testcap.Frame
	for k, x := range xs {
		t := base.Add(time.Duration(k) * 150 * time.Millisecond)
		if x.query != nil {
			fs = append(fs, testcap.Frame{Time: t, Link: testcap.Ethernet, Data: testcap.UDP(testcap.Ethernet, x.client, x.server, x.query)})
		}
		if x.resp != nil {
			fs = append(fs, testcap.Frame{Time: t.Add(x.rtt), Link: testcap.Ethernet, Data: testcap.UDP(testcap.Ethernet, x.server, x.client, x.resp)})
		}
	}
	return fs
}

// expected is what the packet path produces for one message, and how much
// of its size Zeek cannot see.
type expected struct {
	obs engine.Observation
	// unseen is the part of Size no dns.log field describes: EDNS and
	// other additional or authority records, and the RDATA of answer
	// types Zeek does not describe ("<unknown type=N>").
	unseen, unseenAnswer int
}

// unseenBytes measures, with dnsmessage, the parts of msg Zeek does not
// log.
func unseenBytes(t *testing.T, msg []byte) (total, answer int) {
	t.Helper()
	var p dnsmessage.Parser
	if _, err := p.Start(msg); err != nil {
		t.Fatal(err)
	}
	if err := p.SkipAllQuestions(); err != nil {
		t.Fatal(err)
	}
	known := map[dnsmessage.Type]bool{dnsmessage.TypeA: true, dnsmessage.TypeAAAA: true, dnsmessage.TypeCNAME: true,
		dnsmessage.TypeNS: true, dnsmessage.TypePTR: true, dnsmessage.TypeMX: true, dnsmessage.TypeSRV: true, dnsmessage.TypeTXT: true}
	for {
		h, err := p.AnswerHeader()
		if err == dnsmessage.ErrSectionDone {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !known[h.Type] {
			answer += int(h.Length)
		}
		if err := p.SkipAnswer(); err != nil {
			t.Fatal(err)
		}
	}
	// Authority and additional records are not logged at all: they are
	// the bytes after the answer section.
	return answer + len(msg) - answerEnd(msg), answer
}

// answerEnd returns the offset after the answer section, walking the
// (already validated) message by hand: dnsmessage does not expose offsets.
func answerEnd(msg []byte) int {
	qd, an := int(binary.BigEndian.Uint16(msg[4:])), int(binary.BigEndian.Uint16(msg[6:]))
	off := 12
	for i := 0; i < qd; i++ {
		off = skipName(msg, off) + 4
	}
	for i := 0; i < an; i++ {
		off = skipName(msg, off)
		off += 10 + int(binary.BigEndian.Uint16(msg[off+8:]))
	}
	return off
}

// skipName returns the offset after the wire name at off.
func skipName(msg []byte, off int) int {
	for {
		l := int(msg[off])
		switch {
		case l == 0:
			return off + 1
		case l >= 0xc0:
			return off + 2
		}
		off += 1 + l
	}
}

// oracle reads the capture with internal/capture and the packet analyzer
// and returns the Observations it produces, keyed by (client, server,
// DNS ID, response).
func oracle(t *testing.T, pcap []byte) map[string]expected {
	t.Helper()
	cfg := checks.Default()
	a := analyze.New(analyze.Config{Checks: &cfg, Ports: analyze.NewPortSet([]uint16{53})})
	rd, err := capture.NewReader(bytes.NewReader(pcap), "roundtrip.pcap")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]expected{}
	var rec capture.Record
	for {
		if err := rd.Next(&rec); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if a.Frame(rec.LinkType, rec.Data) != analyze.UDPDNS {
			t.Fatalf("frame %d: not UDP DNS", rec.Frame)
		}
		p := a.Packet()
		var obs engine.Observation
		var c analyze.Counts
		var allowed bool
		if _, ok := a.Message(p.Payload, &c, &obs, &allowed); !ok {
			t.Fatalf("frame %d: not DNS", rec.Frame)
		}
		obs.Client, obs.Server = a.Endpoints(p, obs.Response)
		obs.Time = rec.Time
		obs.Name = bytes.Clone(obs.Name)
		obs.Labels = bytes.Clone(obs.Labels)
		e := expected{obs: obs}
		e.unseen, e.unseenAnswer = unseenBytes(t, p.Payload)
		id := binary.BigEndian.Uint16(p.Payload)
		cp, sp := p.SrcPort, p.DstPort
		if obs.Response {
			cp, sp = sp, cp
		}
		out[key(netip.AddrPortFrom(obs.Client, cp), netip.AddrPortFrom(obs.Server, sp), id, obs.Response)] = e
	}
	return out
}

func key(c, s netip.AddrPort, id uint16, resp bool) string {
	return fmt.Sprintf("%v %v %d %v", c, s, id, resp)
}

// zeekInfos runs the capture through the Zeek-like logger.
func zeekInfos(t *testing.T, pcap []byte) []*info {
	t.Helper()
	cfg := checks.Default()
	a := analyze.New(analyze.Config{Checks: &cfg, Ports: analyze.NewPortSet([]uint16{53})})
	rd, err := capture.NewReader(bytes.NewReader(pcap), "roundtrip.pcap")
	if err != nil {
		t.Fatal(err)
	}
	z := newZeekLog()
	var rec capture.Record
	for {
		if err := rd.Next(&rec); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		a.Frame(rec.LinkType, rec.Data)
		p := a.Packet()
		src, dst := netip.AddrPortFrom(p.Src, p.SrcPort), netip.AddrPortFrom(p.Dst, p.DstPort)
		if err := z.message(time.Unix(0, rec.Time).UTC(), src, dst, p.Payload); err != nil {
			t.Fatal(err)
		}
	}
	return z.finish()
}

// roundTrip builds the capture and the three logs (TSV, JSON epoch, JSON
// ISO 8601).
func roundTrip(t *testing.T) (pcap []byte, tsv, js, iso []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := testcap.WritePCAP(&buf, frames(traffic()), false); err != nil {
		t.Fatal(err)
	}
	pcap = buf.Bytes()
	infos := zeekInfos(t, pcap)
	var b1, b2, b3 bytes.Buffer
	writeTSV(&b1, infos, base)
	writeJSON(&b2, infos, false)
	writeJSON(&b3, infos, true)
	return pcap, b1.Bytes(), b2.Bytes(), b3.Bytes()
}

func readAll(t *testing.T, data []byte, name string) []Record {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data), name)
	if err != nil {
		t.Fatal(err)
	}
	var out []Record
	for {
		var rec Record
		err := r.Next(&rec)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rec.Query = bytes.Clone(rec.Query)
		rec.Answers = append([]string(nil), rec.Answers...)
		rec.TTLs = append([]float64(nil), rec.TTLs...)
		out = append(out, rec)
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	pcap, tsv, js, iso := roundTrip(t)
	want := oracle(t, pcap)
	if len(want) != 2*len(traffic())-2 {
		t.Fatalf("oracle: %d messages", len(want))
	}
	logs := map[string][]byte{"dns.log": tsv, "dns.json.log": js, "dns.iso.log": iso}
	var first []Record
	for _, name := range []string{"dns.log", "dns.json.log", "dns.iso.log"} {
		recs := readAll(t, logs[name], name)
		if len(recs) != len(traffic()) {
			t.Fatalf("%s: %d records, want %d", name, len(recs), len(traffic()))
		}
		if first == nil {
			first = recs
		} else {
			for k := range recs {
				a, b := recs[k], first[k]
				a.Line, b.Line = 0, 0
				if fmt.Sprintf("%+v", a) != fmt.Sprintf("%+v", b) {
					t.Errorf("%s record %d differs from the TSV one:\n%+v\n%+v", name, k, a, b)
				}
			}
		}
		checkObservations(t, name, recs, want)
	}
	// Every tool in the traffic is recognised through the log.
	tools := map[fingerprint.Tool]bool{}
	c := NewConverter()
	for _, rec := range first {
		var q, r engine.Observation
		c.Observations(&rec, &q, &r)
		if q.Match.Strength == fingerprint.Strong {
			tools[q.Match.Tool] = true
		}
		if r.Match.Strength == fingerprint.Strong {
			tools[r.Match.Tool] = true
		}
	}
	for _, tool := range []fingerprint.Tool{fingerprint.Iodine, fingerprint.Dnscat2, fingerprint.Dnstt, fingerprint.CobaltStrike} {
		if !tools[tool] {
			t.Errorf("no strong %v match through the log", tool)
		}
	}
}

// checkObservations compares the converted records with the packet path.
func checkObservations(t *testing.T, name string, recs []Record, want map[string]expected) {
	t.Helper()
	c := NewConverter()
	seen := 0
	for _, rec := range recs {
		var q, r engine.Observation
		hasResp := c.Observations(&rec, &q, &r)
		wq, qok := want[key(rec.Client, rec.Server, rec.TransID, false)]
		wr, rok := want[key(rec.Client, rec.Server, rec.TransID, true)]
		if hasResp != rok {
			t.Errorf("%s:%d: hasResponse %v, capture has a response: %v", name, rec.Line, hasResp, rok)
		}
		if qok {
			seen++
			compareObs(t, fmt.Sprintf("%s:%d query", name, rec.Line), &q, &wq, true)
		} else if !rok {
			t.Errorf("%s:%d: no such message in the capture", name, rec.Line)
		}
		if rok && hasResp {
			seen++
			compareObs(t, fmt.Sprintf("%s:%d response", name, rec.Line), &r, &wr, rec.RTTSet)
			if !rec.RTTSet && r.Time != q.Time {
				t.Errorf("%s:%d: response without rtt at %d, want the query time %d", name, rec.Line, r.Time, q.Time)
			}
		}
	}
	if seen != len(want) {
		t.Errorf("%s: compared %d messages, the capture has %d", name, seen, len(want))
	}
}

// compareObs checks one Observation against the packet path's. Sizes
// must equal the packet's minus what Zeek cannot see (see expected).
func compareObs(t *testing.T, what string, got *engine.Observation, w *expected, checkTime bool) {
	t.Helper()
	want := w.obs
	if checkTime && got.Time != want.Time {
		t.Errorf("%s: Time %d, want %d", what, got.Time, want.Time)
	}
	// Zeek lower-cases the query: the case mix is lost.
	if got.MixedCase {
		t.Errorf("%s: MixedCase set from a Zeek log", what)
	}
	if got.Client != want.Client || got.Server != want.Server || got.Response != want.Response ||
		got.QType != want.QType || got.RCode != want.RCode || got.RegStart != want.RegStart ||
		got.Answer != want.Answer || got.Match != want.Match ||
		!bytes.Equal(got.Name, want.Name) || !bytes.Equal(got.Labels, want.Labels) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, *got, want)
	}
	if got.Size != want.Size-w.unseen {
		t.Errorf("%s: Size %d, want %d - %d unseen", what, got.Size, want.Size, w.unseen)
	}
	if got.AnswerData != want.AnswerData-w.unseenAnswer {
		t.Errorf("%s: AnswerData %d, want %d - %d unseen", what, got.AnswerData, want.AnswerData, w.unseenAnswer)
	}
}

// TestTestdata keeps the committed example logs equal to what the round
// trip writes (go test -run TestTestdata -update rewrites them).
func TestTestdata(t *testing.T) {
	_, tsv, js, _ := roundTrip(t)
	files := map[string][]byte{
		filepath.Join("testdata", "tsv", "dns.log"):  tsv,
		filepath.Join("testdata", "json", "dns.log"): js,
	}
	for path, data := range files {
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s missing: run go test -run TestTestdata -update", path)
		}
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data) {
			t.Errorf("%s differs from the generated log: run go test -run TestTestdata -update", path)
		}
		// And it reads back through Open and Files.
		dir := filepath.Dir(path)
		names, err := Files(dir)
		if err != nil || len(names) != 1 || names[0] != path {
			t.Errorf("Files(%s) = %v, %v", dir, names, err)
		}
		r, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		var rec Record
		for r.Next(&rec) == nil {
			n++
		}
		r.Close()
		if n != len(traffic()) {
			t.Errorf("%s: %d records, want %d", path, n, len(traffic()))
		}
	}
}
