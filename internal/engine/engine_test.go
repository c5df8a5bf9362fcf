package engine

import (
	"encoding/base32"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dnsieve/dnsieve/internal/engine/enginetest"
	"github.com/dnsieve/dnsieve/internal/fingerprint"
	"github.com/dnsieve/dnsieve/internal/regdomain"
)

const (
	tA    = 1
	tNULL = 10
	tTXT  = 16
	tPTR  = 12
	tSRV  = 33
)

var t0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// feeder builds observations from names.
type feeder struct {
	e     *Engine
	split *regdomain.Splitter
}

func newFeeder(cfg Config) *feeder { return &feeder{e: New(cfg), split: regdomain.New(0)} }

// labelLens returns the lengths of name's labels.
func labelLens(name string) []uint8 {
	var lens []uint8
	for _, l := range strings.Split(name, ".") {
		lens = append(lens, uint8(len(l)))
	}
	return lens
}

// lookup feeds a query and its response.
func (f *feeder) lookup(name string, at time.Time, client string, qtype uint16, rcode uint8, answerBytes int) uint32 {
	lens := labelLens(name)
	lower, start := f.split.Split([]byte(name), lens)
	c := netip.MustParseAddr(client)
	s := netip.MustParseAddr("192.0.2.53")
	q := Observation{Time: at.UnixNano(), Client: c, Server: s, QType: qtype, Name: lower, Labels: lens, RegStart: start, Size: 30 + len(name)}
	id := f.e.Observe(&q)
	r := q
	r.Response, r.RCode, r.AnswerData, r.Time = true, rcode, answerBytes, q.Time+int64(20*time.Millisecond)
	f.e.Observe(&r)
	return id
}

func (f *feeder) find(t *testing.T, registered string) *Finding {
	t.Helper()
	for _, fd := range f.e.Findings() {
		if fd.RegisteredDomain == registered {
			return &fd
		}
	}
	return nil
}

var b32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// chunkName encodes data as base32 labels of up to 63 bytes under zone.
func chunkName(data []byte, zone string) string {
	s := b32.EncodeToString(data)
	var labels []string
	for len(s) > 63 {
		labels = append(labels, s[:63])
		s = s[63:]
	}
	labels = append(labels, s)
	return strings.Join(labels, ".") + "." + zone
}

func TestTunnelFoundWithEvidenceAndZone(t *testing.T) {
	f := newFeeder(Config{})
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 600; i++ {
		data := make([]byte, 90)
		for j := range data {
			data[j] = byte(rng.IntN(256))
		}
		f.lookup(chunkName(data, "t1.example-tunnel.com"), t0.Add(time.Duration(i)*200*time.Millisecond), "10.1.1.5", tNULL, 0, 200)
	}
	// Ordinary names of the same registered domain do not hide it.
	for i := 0; i < 200; i++ {
		f.lookup("www.example-tunnel.com", t0.Add(time.Duration(i)*time.Second), "10.1.1.9", tA, 0, 16)
	}
	fd := f.find(t, "example-tunnel.com")
	if fd == nil {
		t.Fatal("tunnel not found")
	}
	if fd.Verdict != "tunnel" || fd.Severity != SeverityHigh {
		t.Fatalf("verdict %s %s score %.1f evidence %q", fd.Verdict, fd.SeverityText, fd.Score, fd.Evidence)
	}
	if fd.Domain != "t1.example-tunnel.com" {
		t.Errorf("zone %q, want t1.example-tunnel.com", fd.Domain)
	}
	if fd.UniqueNames != 601 || fd.Queries != 800 {
		t.Errorf("unique %d queries %d", fd.UniqueNames, fd.Queries)
	}
	if len(fd.Clients) != 2 || fd.Clients[0].Addr != "10.1.1.5" || fd.Clients[0].UniqueNames != 600 {
		t.Errorf("clients %+v", fd.Clients)
	}
	// 600 names of 90 random bytes: about 54 KB that cannot compress below
	// the data itself.
	if fd.BytesUp < 50000 || fd.BytesUp > 100000 {
		t.Errorf("bytes up %d", fd.BytesUp)
	}
	if fd.BytesDown != 600*200+200*16 {
		t.Errorf("bytes down %d", fd.BytesDown)
	}
	// Judged as the traffic went: the alert came early, not at the end.
	if fd.FirstAlert.IsZero() || fd.AlertLookups == 0 || fd.AlertLookups > 60 || fd.FirstAlert.Sub(fd.FirstSeen) > 15*time.Second {
		t.Errorf("first alert at %v after %d lookups (first seen %v)", fd.FirstAlert, fd.AlertLookups, fd.FirstSeen)
	}
	joined := strings.Join(fd.Evidence, "\n")
	for _, want := range []string{"601 distinct subdomains", "NULL", "encoded data"} {
		if !strings.Contains(joined, want) {
			t.Errorf("evidence lacks %q:\n%s", want, joined)
		}
	}
}

// TestLowAndSlow: 4 KB leaked over 24 hours, one query every 13 minutes.
func TestLowAndSlow(t *testing.T) {
	f := newFeeder(Config{})
	rng := rand.New(rand.NewPCG(3, 4))
	secret := make([]byte, 4096)
	for i := range secret {
		secret[i] = byte(rng.IntN(256))
	}
	n := 0
	for off := 0; off < len(secret); off += 36 {
		end := min(off+36, len(secret))
		at := t0.Add(time.Duration(n) * 13 * time.Minute)
		f.lookup(chunkName(secret[off:end], "cdn-metrics.example.net"), at, "10.9.9.9", tA, 3, 0)
		n++
	}
	// Alongside, ordinary lookups of many domains.
	for i := 0; i < 2000; i++ {
		f.lookup(fmt.Sprintf("www.site%d.example", i%300), t0.Add(time.Duration(i)*40*time.Second), "10.9.9.9", tA, 0, 16)
	}
	fd := f.find(t, "example.net")
	if fd == nil || fd.Verdict != "tunnel" || fd.Severity < SeverityMedium {
		t.Fatalf("low-and-slow exfiltration not found as a tunnel: %+v", fd)
	}
	if span := fd.LastSeen.Sub(fd.FirstSeen); span < 23*time.Hour {
		t.Errorf("span %v", span)
	}
	for _, other := range f.e.Findings() {
		if other.RegisteredDomain != "example.net" {
			t.Errorf("ordinary domain flagged: %s %s", other.RegisteredDomain, other.Verdict)
		}
	}
}

// hardNegative feeds a benign family and requires no high or medium finding.
func hardNegative(t *testing.T, fam enginetest.Family) {
	t.Run(fam.Name, func(t *testing.T) {
		f := newFeeder(Config{})
		fam.Feed(func(name string, at time.Time, client string, qtype uint16, rcode uint8, answerBytes int) {
			f.lookup(name, at, client, qtype, rcode, answerBytes)
		}, rand.New(rand.NewPCG(7, 8)))
		for _, fd := range f.e.Findings() {
			if fd.Severity >= SeverityMedium {
				t.Errorf("%s: %s judged %s/%s (score %.1f): %q", fam.Name, fd.Domain, fd.Verdict, fd.SeverityText, fd.Score, fd.Evidence)
			}
		}
	})
}

// TestHardNegatives: benign families that look like tunnels to a naive
// detector, judged by the hand-set points (the learned model's test is in
// package model).
func TestHardNegatives(t *testing.T) {
	for _, fam := range enginetest.HardNegatives {
		hardNegative(t, fam)
	}
}

func TestMemoryCapUnderFlood(t *testing.T) {
	f := newFeeder(Config{MaxMemory: 8 << 20})
	rng := rand.New(rand.NewPCG(5, 6))
	var tunnelID uint32
	for i := 0; i < 300000; i++ {
		at := t0.Add(time.Duration(i) * time.Millisecond)
		f.lookup(fmt.Sprintf("x.flood%d.example", i), at, "10.5.5.5", tA, 3, 0)
		if i%100 == 0 {
			data := make([]byte, 60)
			for j := range data {
				data[j] = byte(rng.IntN(256))
			}
			tunnelID = f.lookup(chunkName(data, "t.evil-tunnel.com"), at, "10.6.6.6", tTXT, 0, 120)
		}
		if f.e.memory() > f.e.cfg.MaxMemory {
			t.Fatalf("memory estimate %d over the cap after %d lookups", f.e.memory(), i)
		}
	}
	st := f.e.Stats()
	if st.Evictions == 0 || st.Domains > 8<<20/coldRecordBytes || st.ColdDomains < st.Domains-10 {
		t.Fatalf("stats %+v", st)
	}
	fd := f.find(t, "evil-tunnel.com")
	if fd == nil || fd.Verdict != "tunnel" || fd.ID != tunnelID {
		t.Fatalf("the active tunnel was lost in the flood: %+v", fd)
	}
}

func TestIPShapedAndDigestShaped(t *testing.T) {
	cases := []struct {
		sub    string
		ip, dg bool
	}{
		{"4.3.2.1.zen", true, false},
		{"255.0.10.1", true, false},
		{"256.0.10.1", false, false},
		{"1.2.3", false, false},
		{"b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4", true, false},
		{"0123456789abcdef0123456789abcdef.v1", false, true},
		{"0123456789abcdef0123456789abcdef01234567", false, true},
		{"0123456789abcdef0123456789abcdef01234567.hash", false, true},
		{"0001.0123456789abcdef0123456789abcdef01234567", false, true},                        // a short label besides
		{"0123456789abcdef0123456789abcde", false, false},                                     // 31 hex: not a digest size
		{"0123456789abcdef0123456789abcdef0123456789abcdef01234567._openpgpkey", false, true}, // RFC 7929: 56 hex
		{"uvg4ugbfgc5r23itftpnmi33f3mr4p3s.v2", false, true},                                  // 32 base32
		{"mfrggzdfmztwq2lknnwg23tpobyxe43u.v2", false, false},                                 // base32 of text: "abcdefghijklmnopqrst"
		{"726f6f743a783a303a303a726f6f743a", false, false},                                    // hex of text: "root:x:0:0:root:"
		{"74657374657374657374657374657374", false, false},                                    // hex of text in base32's characters: "testestestestest"
		{"726f6f743a783a303a303a726f6f743a2f62696e2f626173680a6461", false, false},            // 56 hex of text
		{"abcdefghijklmnopqrstuvwxyz.v2", false, false},                                       // 26 letters: words, not base32
		{"umaqhgmrknppz7c86mjivatdg6", false, false},                                          // 0, 1, 8, 9: not base32
		{"0123456789abcdef0123456789abcdef.0123456789abcdef0123456789abcdef", false, false},
	}
	for _, c := range cases {
		var lens []uint8
		for _, l := range strings.Split(c.sub, ".") {
			lens = append(lens, uint8(len(l)))
		}
		if got := ipShaped([]byte(c.sub), lens); got != c.ip {
			t.Errorf("ipShaped(%q) = %v", c.sub, got)
		}
		if got := digestShaped([]byte(c.sub), lens, 0); got != c.dg {
			t.Errorf("digestShaped(%q) = %v", c.sub, got)
		}
	}
}

// TestQueryTypeClasses: NULL, KEY, private-use, obsolete and unassigned
// types count as rare; types in current use that mail servers, validating
// resolvers and management tools ask for do not.
func TestQueryTypeClasses(t *testing.T) {
	rare := []uint16{10, 25, 0, 3, 4, 7, 8, 9, 11, 14, 19, 20, 21, 22, 23, 24, 26, 27, 30, 31, 32, 34, 38, 40, 41,
		54, 56, 57, 58, 99, 100, 101, 102, 103, 104, 105, 106, 107, 110, 248, 250, 253, 254, 263, 1000, 32769, 32770,
		65279, 65280, 65399, 65534, 65535}
	ordinary := []uint16{2, 6, 13, 17, 18, 29, 35, 36, 37, 39, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 55,
		59, 60, 61, 62, 63, 108, 109, 249, 251, 252, 255, 256, 257, 258, 259, 260, 261, 262, 32768}
	for _, qt := range rare {
		if c := qtypeClass(qt); c != qtNULL && c != qtKEY && c != qtUnusual {
			t.Errorf("type %d: class %d, want a rare one", qt, c)
		}
	}
	for _, qt := range ordinary {
		if c := qtypeClass(qt); c != qtOther {
			t.Errorf("type %d: class %d, want qtOther", qt, c)
		}
	}
	for qt, want := range map[uint16]int{1: qtA, 28: qtAAAA, 16: qtTXT, 5: qtCNAME, 15: qtMX, 33: qtSRV, 12: qtPTR, 64: qtHTTPS, 65: qtHTTPS} {
		if c := qtypeClass(qt); c != want {
			t.Errorf("type %d: class %d, want %d", qt, c, want)
		}
	}
}

// TestRepeatedLongLabelsAreNotData: a long label that every name repeats
// (the account key of a reputation service,
// <hash>._email.<key>.hbl.dq.spamhaus.net) is not data once it has come
// back, so a name whose only new long label is a hash is digest-shaped,
// and a name whose only long label is the key is not data at all; a
// tunnel's ever-new labels never count as repeated, and a label that keeps
// coming back keeps its slot while new ones churn.
func TestRepeatedLongLabelsAreNotData(t *testing.T) {
	const key = "k3y9x7mq2pw8z4rt6v0b1n5c8d"
	d := &domain{}
	for i := range 2 {
		if d.repeated([]byte(key)) {
			t.Fatalf("a label held by %d earlier names taken for a repeated one", i)
		}
	}
	for i := range 100 {
		hash := fmt.Sprintf("%032x", i*7919+1)
		if d.repeated([]byte(hash)) {
			t.Fatalf("name %d: a new hash label taken for a repeated one", i)
		}
		if !d.repeated([]byte(key)) {
			t.Fatalf("name %d: the key lost its slot", i)
		}
		sub := []byte(hash + "._email." + key + ".hbl.dq")
		lens := labelLens(string(sub))
		if !digestShaped(sub, lens, 1<<2) {
			t.Fatalf("name %d: %q with the key skipped is not digest-shaped", i, sub)
		}
		if digestShaped(sub, lens, 0) {
			t.Fatalf("name %d: %q with the key counted is digest-shaped (two long labels)", i, sub)
		}
	}
	if i := slices.IndexFunc(d.repeats[:], func(r repeatedLabel) bool { return r.hash == fnvLabel([]byte(key)) }); i < 0 || d.repeats[i].seen != 102 {
		t.Fatalf("slots %+v: want the key seen 102 times", d.repeats)
	}

	// Through the engine: Spamhaus DBL lookups of ordinary domains behind a
	// DQS key are not data names, and the key is not the longest label.
	f := newFeeder(Config{})
	words := []string{"mail", "shop", "news", "cloud", "bank", "travel", "media", "store"}
	for i := range 200 {
		name := words[i%8] + words[(i/8)%8] + fmt.Sprint(i) + ".com." + key + ".dbl.dq.spamhaus.net"
		f.lookup(name, t0.Add(time.Duration(i)*time.Second), "10.0.0.25", 1, 3, 0)
	}
	feat, ok := f.e.AllFeatures(0)["spamhaus.net"]
	if !ok {
		t.Fatal("no spamhaus.net state")
	}
	// The first two names (the key not yet held by two earlier names) and
	// two whose word pairs the n-gram model finds strange (newsmedia114,
	// newsmedia178).
	if feat.DataNames != 4 {
		t.Fatalf("%d data names, want 4", feat.DataNames)
	}
	// The control: a new long label in every name makes every name data.
	f = newFeeder(Config{})
	for i := range 200 {
		name := words[i%8] + words[(i/8)%8] + fmt.Sprint(i) + ".com." + fmt.Sprintf("%026x", i*104729+7) + ".dbl.dq.example.net"
		f.lookup(name, t0.Add(time.Duration(i)*time.Second), "10.0.0.25", 1, 3, 0)
	}
	if feat := f.e.AllFeatures(0)["example.net"]; feat.DataNames != 200 {
		t.Fatalf("control: %d data names, want 200", feat.DataNames)
	}
}

func TestObserveAllocatesNothingForAKnownName(t *testing.T) {
	f := newFeeder(Config{})
	name := "www.example.com"
	lens := []uint8{3, 7, 3}
	lower, start := f.split.Split([]byte(name), lens)
	o := Observation{Time: t0.UnixNano(), Client: netip.MustParseAddr("10.0.0.1"), QType: tA, Name: append([]byte(nil), lower...), Labels: lens, RegStart: start}
	f.e.Observe(&o)
	if n := testing.AllocsPerRun(1000, func() { o.Time++; f.e.Observe(&o) }); n != 0 {
		t.Fatalf("Observe allocates %v per known message", n)
	}
}

func BenchmarkObserveKnownDomain(b *testing.B) {
	f := newFeeder(Config{})
	lens := []uint8{3, 7, 3}
	lower, start := f.split.Split([]byte("www.example.com"), lens)
	o := Observation{Client: netip.MustParseAddr("10.0.0.1"), QType: tA, Name: append([]byte(nil), lower...), Labels: lens, RegStart: start}
	b.ReportAllocs()
	for b.Loop() {
		o.Time++
		f.e.Observe(&o)
	}
}

func TestNamesUnderNoTLDGroupByServer(t *testing.T) {
	cases := map[string]bool{"example.com": false, "pirate.sea": false, "jz-n-bs.local": false, "xn--p1ai": false,
		"546b03f50000.19e4d098dc8c": true, "a.b1": true, "x.com-": true}
	for reg, want := range cases {
		if got := notUnderTLD([]byte(reg)); got != want {
			t.Errorf("notUnderTLD(%q) = %v", reg, got)
		}
	}
	f := newFeeder(Config{})
	rng := rand.New(rand.NewPCG(9, 9))
	for i := 0; i < 50; i++ {
		name := fmt.Sprintf("dnscat.%016x%016x.%016x", rng.Uint64(), rng.Uint64(), rng.Uint64())
		f.lookup(name, t0.Add(time.Duration(i)*time.Second), "10.2.2.2", tTXT, 0, 80)
	}
	if n := len(f.e.domains); n != 1 {
		t.Fatalf("%d groups, want 1", n)
	}
	if d := f.e.domains["direct:192.0.2.53"]; d == nil || d.unique != 50 {
		t.Fatalf("direct group: %+v", f.e.domains)
	}
}

func TestOnAlertFiresOncePerSeverity(t *testing.T) {
	f := newFeeder(Config{})
	var alerts []Finding
	f.e.OnAlert = func(fd Finding) { alerts = append(alerts, fd) }
	rng := rand.New(rand.NewPCG(21, 22))
	for i := 0; i < 400; i++ {
		data := make([]byte, 40)
		for j := range data {
			data[j] = byte(rng.IntN(256))
		}
		f.lookup(chunkName(data, "x.alert-test.org"), t0.Add(time.Duration(i)*time.Second), "10.3.3.3", tTXT, 0, 90)
	}
	if len(alerts) == 0 || len(alerts) > 3 {
		t.Fatalf("%d alerts", len(alerts))
	}
	for i := 1; i < len(alerts); i++ {
		if alerts[i].Severity <= alerts[i-1].Severity {
			t.Fatalf("alert %d does not raise the severity: %v then %v", i, alerts[i-1].SeverityText, alerts[i].SeverityText)
		}
	}
	if last := alerts[len(alerts)-1]; last.Severity != SeverityHigh || last.RegisteredDomain != "alert-test.org" {
		t.Fatalf("last alert %s %s", last.RegisteredDomain, last.SeverityText)
	}
}

func TestAnswersUsed(t *testing.T) {
	f := newFeeder(Config{})
	var others []netip.Addr
	for i := 0; i < 1200; i++ {
		others = append(others, netip.MustParseAddr("10.0.0.1"), netip.AddrFrom4([4]byte{198, 51, 100, byte(i % 200)}))
	}
	f.e.Contacted(others)
	feed := func(zone string, answer netip.Addr) {
		for i := 0; i < 20; i++ {
			name := fmt.Sprintf("h%d.%s", i, zone)
			var lens []uint8
			for _, l := range strings.Split(name, ".") {
				lens = append(lens, uint8(len(l)))
			}
			lower, start := f.split.Split([]byte(name), lens)
			o := Observation{Time: t0.UnixNano(), Client: netip.MustParseAddr("10.0.0.1"), Server: netip.MustParseAddr("192.0.2.53"),
				Response: true, QType: tA, Name: lower, Labels: lens, RegStart: start, Answer: answer}
			f.e.Observe(&o)
		}
	}
	feed("used.example", netip.MustParseAddr("198.51.100.7"))
	feed("unused.example", netip.MustParseAddr("203.0.113.9"))
	fs := f.e.AllFeatures(1)
	if got := fs["used.example"].AnswersUsed; got != 1 {
		t.Errorf("used.example: answers_used %d", got)
	}
	if got := fs["unused.example"].AnswersUsed; got != 0 {
		t.Errorf("unused.example: answers_used %d", got)
	}
	g := newFeeder(Config{}) // no other traffic: cannot tell
	g.lookup("a.b.example", t0, "10.0.0.1", tA, 0, 4)
	if got := g.e.AllFeatures(0)["b.example"].AnswersUsed; got != -1 {
		t.Errorf("without other traffic: %d", got)
	}
}

// TestEDNSCarrier: tame names whose EDNS options carry the data.
func TestEDNSCarrier(t *testing.T) {
	f := newFeeder(Config{})
	for i := 0; i < 200; i++ {
		name := fmt.Sprintf("host%d.carrier.example", i)
		var lens []uint8
		for _, l := range strings.Split(name, ".") {
			lens = append(lens, uint8(len(l)))
		}
		lower, start := f.split.Split([]byte(name), lens)
		o := Observation{Time: t0.Add(time.Duration(i) * time.Second).UnixNano(), Client: netip.MustParseAddr("10.4.4.4"),
			Server: netip.MustParseAddr("192.0.2.53"), QType: tA, Name: lower, Labels: lens, RegStart: start, EDNSData: 400}
		f.e.Observe(&o)
	}
	fd := f.find(t, "carrier.example")
	if fd == nil || fd.Verdict != "tunnel" || !strings.Contains(strings.Join(fd.Evidence, "\n"), "EDNS options carry 400 bytes") {
		t.Fatalf("EDNS carrier: %+v", fd)
	}
}

// TestFeaturesExact checks the features of a controlled domain value by
// value: 20 distinct names of 20 bytes, each asked twice (once NULL, once
// TXT), answered NXDOMAIN with 50 bytes of answer data, every 10 seconds
// from one client.
func TestFeaturesExact(t *testing.T) {
	f := newFeeder(Config{})
	i := 0
	for round := 0; round < 2; round++ {
		for n := 0; n < 20; n++ {
			name := fmt.Sprintf("q%019d.feat.example", n) // a 20-byte label
			qt := uint16(tNULL)
			if round == 1 {
				qt = tTXT
			}
			f.lookup(name, t0.Add(time.Duration(i)*10*time.Second), "10.7.7.7", qt, 3, 50)
			i++
		}
	}
	fs := f.e.AllFeatures(1)["feat.example"]
	want := Features{Lookups: 40, Queries: 40, Responses: 40, Unique: 20, UniqueRatio: 0.5, DataNames: 20,
		MeanSubLen: 20, MaxLabel: 20, RareTypeShare: 0.5, DataTypeShare: 0.5, NXShare: 1, AnswerBytes: 50,
		Clients: 1, Seconds: 390.02, WindowSeconds: 600, AnswersUsed: -1, Tool: "unknown"}
	got := fs
	got.InfoBytes, got.InfoPerName, got.PeakDayInfo, got.NgramBits, got.SubLenStddev = 0, 0, 0, 0, 0
	got.PeakWinQueries, got.PeakWinUnique = 0, 0
	if got != want {
		t.Fatalf("features\n got %+v\nwant %+v", got, want)
	}
	// All 40 queries and the 20 names fall in one window.
	if fs.InfoBytes <= 0 || fs.InfoBytes > 20*20 || fs.NgramBits >= -3 || fs.PeakWinQueries != 40 || fs.PeakWinUnique != 20 {
		t.Fatalf("info %v ngram %v peak window %d queries %d names", fs.InfoBytes, fs.NgramBits, fs.PeakWinQueries, fs.PeakWinUnique)
	}
	// The client's query gaps: exactly every 10 s, no spread (beaconing).
	d := f.e.domains["feat.example"]
	fd := f.e.finding(d, &fs, 0, nil, nil, "tunnel", SeverityHigh)
	if len(fd.Clients) != 1 || fd.Clients[0].MeanGap != 10 || fd.Clients[0].GapCV != 0 {
		t.Fatalf("client gaps %+v", fd.Clients)
	}
}

// dataResponse feeds a TXT query and its response whose answers carry
// the given records (content hash and size each).
func (f *feeder) dataResponse(name string, at time.Time, recs ...DataRecord) {
	srv, c := netip.MustParseAddr("192.0.2.53"), netip.MustParseAddr("10.3.3.3")
	f.observe(name, at.UnixNano(), c, srv, tTXT, false, 0, 0, netip.Addr{}, fingerprint.Match{}, 0, false, false)
	f.observe(name, at.Add(time.Millisecond).UnixNano(), c, srv, tTXT, true, 0, 300, netip.Addr{}, fingerprint.Match{}, 0, false, false,
		func(o *Observation) { o.DataRecords = recs })
}

// TestDataAnswersCountRecords: a record set a resolver returns in changing
// orders counts each record once, so that an apex's tokens fetched all
// day make no downstream channel; the floor goes by the busiest day.
func TestDataAnswersCountRecords(t *testing.T) {
	f := newFeeder(Config{})
	set := []DataRecord{{1001, 150}, {1002, 180}, {1003, 200}, {1004, 120}, {1005, 90}}
	for i := range 500 {
		recs := slices.Clone(set)
		rng := rand.New(rand.NewPCG(uint64(i), 1))
		rng.Shuffle(len(recs), func(a, b int) { recs[a], recs[b] = recs[b], recs[a] })
		f.dataResponse("contoso.com", t0.Add(time.Duration(i)*time.Minute), recs...)
	}
	d := f.e.domains["contoso.com"]
	if d == nil || d.dataResponses != 500 || d.distinctAnswers != 5 || d.distinctAnswerBytes != 740 || d.peakDayAnswerBytes != 740 ||
		d.dataAnswerBytes != 500*740 {
		t.Fatalf("domain %+v", d)
	}
	if fd := f.find(t, "contoso.com"); fd != nil {
		t.Fatalf("a record set made a finding: %s %q", fd.SeverityText, fd.Evidence)
	}

	// 3 KB of new records every other day for five days: 9 KB in all,
	// never 4 KB in a day nor on average, no floor; then 5 KB in one day,
	// medium.
	g := newFeeder(Config{})
	h := uint64(1)
	for day := 0; day <= 4; day += 2 {
		for k := range 15 {
			g.dataResponse(fmt.Sprintf("c%d.slow.example.org", h), t0.Add(time.Duration(day)*24*time.Hour+time.Duration(k)*time.Minute),
				DataRecord{h * 0x9e3779b97f4a7c15, 200})
			h++
		}
	}
	slow := g.e.features(g.e.domains["example.org"])
	sev, _ := DownstreamFloor(&slow)
	if slow.PeakDayAnswerBytes != 3000 || slow.DistinctAnswerBytes != 9000 || sev != SeverityNone {
		t.Fatalf("slow: %+v, floor %s", slow, sev)
	}
	for k := range 25 {
		g.dataResponse(fmt.Sprintf("c%d.slow.example.org", h), t0.Add(5*24*time.Hour+time.Duration(k)*time.Minute), DataRecord{h * 0x9e3779b97f4a7c15, 200})
		h++
	}
	ft := g.e.features(g.e.domains["example.org"])
	if sev, _ := DownstreamFloor(&ft); ft.PeakDayAnswerBytes != 5000 || sev != SeverityMedium {
		t.Fatalf("busy day: peak %d, floor %s", ft.PeakDayAnswerBytes, sev)
	}

	// 4.4 KB within an hour across midnight: 2.2 KB on each day, but the
	// whole span's rate reaches the floor.
	m := newFeeder(Config{})
	midnight := time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)
	for k := range 22 {
		m.dataResponse(fmt.Sprintf("m%d.night.example.org", k), midnight.Add(time.Duration(k-11)*2*time.Minute), DataRecord{uint64(k+1) * 0x9e3779b97f4a7c15, 200})
	}
	night := m.e.features(m.e.domains["example.org"])
	if sev, _ := DownstreamFloor(&night); night.PeakDayAnswerBytes != 2200 || sev != SeverityMedium {
		t.Fatalf("across midnight: peak %d, floor %s", night.PeakDayAnswerBytes, sev)
	}

	// One response full of large records is no channel.
	one := newFeeder(Config{})
	var big []DataRecord
	for k := range MaxDataRecords {
		big = append(big, DataRecord{uint64(k+1) * 0x9e3779b97f4a7c15, 2000})
	}
	one.dataResponse("example.net", t0, big...)
	single := one.e.features(one.e.domains["example.net"])
	if sev, _ := DownstreamFloor(&single); single.DistinctAnswerBytes != 32000 || sev != SeverityNone {
		t.Fatalf("one response: %d bytes, floor %s", single.DistinctAnswerBytes, sev)
	}
}

// TestHistoryBeforeCandidate checks that the timeline and length chart,
// made when a domain reaches candidateUnique names, place what came
// before: the ordinary lookups at the domain's first-seen time, the
// channel's first queries at its start, and the lengths of the names the
// full state saw.
func TestHistoryBeforeCandidate(t *testing.T) {
	f := newFeeder(Config{})
	f.lookup("www.early-test.net", t0, "10.0.0.10", tA, 0, 4)
	f.lookup("mail.early-test.net", t0.Add(time.Second), "10.0.0.11", tA, 0, 4)
	f.lookup("www.early-test.net", t0.Add(2*time.Second), "10.0.0.11", tA, 0, 4)
	r := rand.New(rand.NewPCG(9, 9))
	start := t0.Add(20 * time.Second)
	for i := range 40 {
		data := make([]byte, 30)
		for k := range data {
			data[k] = byte(r.Uint32())
		}
		f.lookup(chunkName(data, "t.early-test.net"), start.Add(time.Duration(i)*time.Second), "10.0.0.2", tTXT, 0, 120)
	}
	fd := f.find(t, "early-test.net")
	if fd == nil {
		t.Fatal("no finding")
	}
	var lengths uint32
	for _, n := range fd.Lengths {
		lengths += n
	}
	// Every name the full state saw; www and mail came while the domain
	// was a compact record, which keeps no names.
	if fd.UniqueNames != 42 || lengths != 40 {
		t.Errorf("%d distinct names, %d in the length chart", fd.UniqueNames, lengths)
	}
	// Buckets of one second from t0: the three ordinary queries at the
	// first-seen time; the tunnel's first eight, made before the timeline
	// existed, at its start (second 20); then one a second, as sent.
	perSecond := map[int]uint32{}
	for _, b := range fd.Timeline {
		if b.Queries > 0 {
			perSecond[int(b.Start.Sub(t0)/time.Second)] += b.Queries
		}
	}
	want := map[int]uint32{0: 3, 20: 8}
	for i := 8; i < 40; i++ {
		want[20+i] = 1
	}
	if !maps.Equal(perSecond, want) {
		t.Errorf("queries by second %v, want %v", perSecond, want)
	}
}

// stubScorer returns a fixed judgement.
type stubScorer struct{ j Judgement }

func (s stubScorer) Verdict(*Features) Judgement { return s.j }

// TestExplainedRulesLeftOut: a rule whose feature the Scorer's
// explanation words is not restated in the evidence; the others are.
func TestExplainedRulesLeftOut(t *testing.T) {
	for _, explained := range [][]string{nil, {"max_label_length", "rare_type_share"}} {
		j := Judgement{Verdict: "tunnel", Severity: SeverityHigh, Score: 0.99, Evidence: []string{"the model says so"}, Explained: explained}
		f := newFeeder(Config{Scorer: stubScorer{j}})
		for n := range 30 {
			name := fmt.Sprintf("%s.%s.stub.example", strings.Repeat("x", 40)+fmt.Sprintf("%010d", n), b32.EncodeToString([]byte{byte(n)}))
			f.lookup(name, t0.Add(time.Duration(n)*time.Second), "10.1.1.1", tNULL, 0, 100)
		}
		fd := f.find(t, "stub.example")
		if fd == nil {
			t.Fatal("no finding")
		}
		ev := strings.Join(fd.Evidence, "\n")
		labels, rare := strings.Contains(ev, "labels up to 50 bytes"), strings.Contains(ev, "of queries ask for NULL, KEY, private-use or obsolete records")
		if want := explained == nil; labels != want || rare != want || !strings.Contains(ev, "the model says so") ||
			!strings.Contains(ev, "answers carry 100 bytes on average") {
			t.Errorf("explained %q: evidence\n%s", explained, ev)
		}
	}
}

// TestJudgeableSmallChannels: the breadth a domain needs to be judged, at
// its boundaries.
func TestJudgeableSmallChannels(t *testing.T) {
	for _, c := range []struct {
		f    Features
		want bool
	}{
		{Features{Unique: 10}, true},
		{Features{Unique: 9}, false},
		{Features{DistinctAnswers: 10}, true},
		{Features{ToolStrong: 1}, true},
		{Features{RawPackets: 1}, true},
		{Features{Unique: 3, DataNames: 3, InfoBytes: 512}, true},
		{Features{Unique: 3, DataNames: 3, InfoBytes: 511}, false},
		{Features{Unique: 9, DataNames: 2, InfoBytes: 4096}, false},
	} {
		if got := Judgeable(&c.f); got != c.want {
			t.Errorf("%+v: judgeable %v, want %v", c.f, got, c.want)
		}
	}
}

// TestDashedIPv4: addresses written with dashes, with or without a
// hosting prefix, are recognised; numbers out of range, leading zeros,
// other separators and data are not.
func TestDashedIPv4(t *testing.T) {
	for label, want := range map[string]bool{
		"192-168-1-10": true, "10-0-0-1": true, "ip-10-0-0-1": true, "ec2-54-12-3-200": true, "host-1-2-3-4": true, "host7-1-2-3-4": false,
		"0-0-0-0": true, "255-255-255-255": true,
		"256-1-1-1": false, "1-2-3": false, "1-2-3-4-5x": false, "01-2-3-4": false, "1.2.3.4": false,
		"ip_10-0-0-1": false, "-1-2-3-4": false, "Ip-1-2-3-4": false, "a1b2c3d4": false, "1-2-3-4-": false,
		"1234-1-1-1": false, "mfrggzdfmztwq2lk": false, "x-1-2-3-4": true,
	} {
		if got := dashedIPv4([]byte(label)); got != want {
			t.Errorf("dashedIPv4(%q) = %v, want %v", label, got, want)
		}
	}
}

// TestDashedAddressNamesAreAddresses: names that are an address written
// with dashes, beside a server key that keeps coming back, count as
// address lookups (like reversed IP addresses), not as data.
func TestDashedAddressNamesAreAddresses(t *testing.T) {
	f := newFeeder(Config{})
	const key = "7f8c2d4e1a3b5c6d9e0f1a2b3c4d5e6f"
	for i := range 300 {
		at := t0.Add(time.Duration(i) * time.Second)
		f.lookup(fmt.Sprintf("192-168-%d-%d.%s.plex.direct", i/250, 1+i%250, key), at, "10.0.0.7", 1, 0, 16)
		f.lookup(fmt.Sprintf("ip-10-0-%d-%d.example-cloud.com", i/250, 1+i%250), at, "10.0.0.7", 1, 0, 16)
	}
	all := f.e.AllFeatures(0)
	// plex.direct: the first two names hold the key before it has come back.
	if p := all["plex.direct"]; p.Unique != 300 || p.IPShaped != 298 || p.DataNames != 2 {
		t.Errorf("plex.direct: %d names, %d address-shaped, %d data; want 300, 298, 2", p.Unique, p.IPShaped, p.DataNames)
	}
	if c := all["example-cloud.com"]; c.Unique != 300 || c.IPShaped != 300 || c.DataNames != 0 {
		t.Errorf("example-cloud.com: %d names, %d address-shaped, %d data; want 300, 300, 0", c.Unique, c.IPShaped, c.DataNames)
	}
}

// TestPayloadChunksFloor: a payload fetched in a few large answers, or
// spread over weeks, earns the downstream floor although it stays under
// the per-day rate; small rotating records and fewer than three responses
// do not.
func TestPayloadChunksFloor(t *testing.T) {
	floor := func(n int, size int, every time.Duration) (Severity, string, Features) {
		f := newFeeder(Config{})
		for k := range n {
			f.dataResponse(fmt.Sprintf("update-%d.payload.example.org", k), t0.Add(time.Duration(k)*every),
				DataRecord{uint64(k+1) * 0x9e3779b97f4a7c15, size})
		}
		ft := f.e.features(f.e.domains["example.org"])
		sev, why := DownstreamFloor(&ft)
		return sev, why, ft
	}
	for _, c := range []struct {
		name  string
		n     int
		size  int
		every time.Duration
		want  Severity
	}{
		{"8 records of 750 bytes", 8, 750, 2 * time.Second, SeverityMedium},
		{"3 records of 1,400 bytes", 3, 1400, time.Minute, SeverityMedium},
		{"2 records of 3,000 bytes", 2, 3000, time.Minute, SeverityNone},
		{"9 records of 400 bytes (3.6 KB)", 9, 400, time.Minute, SeverityNone},
		{"44 records of 1,000 bytes, one every 8 hours", 44, 1000, 8 * time.Hour, SeverityMedium},
		{"200 rotating records of 200 bytes over 14 days", 200, 200, 100 * time.Minute, SeverityNone},
		{"100 records of 390 bytes, one a day (a key rotating daily)", 100, 390, 24 * time.Hour, SeverityNone},
	} {
		sev, why, ft := floor(c.n, c.size, c.every)
		if sev != c.want {
			t.Errorf("%s: floor %s (%q), want %s; %d records, %d bytes", c.name, sev, why, c.want, ft.DistinctAnswers, ft.DistinctAnswerBytes)
		}
		if judged := Judgeable(&ft); judged != (c.want != SeverityNone || ft.DistinctAnswers >= 10) {
			t.Errorf("%s: judgeable %v", c.name, judged)
		}
	}
	if _, why, _ := floor(8, 750, 2*time.Second); why != "its answers carried 5.9 KiB of distinct encoded-looking data in 8 distinct records of 750 B on average: a payload's chunks" {
		t.Errorf("evidence %q", why)
	}
}

// TestDashedAddressesHideLittle: an address with a long prefix, or two
// addresses in one name, are data, not an address lookup; a stager's
// numbered sweep written as addresses (ip-10-0-1-N) is still followed.
func TestDashedAddressesHideLittle(t *testing.T) {
	f := newFeeder(Config{})
	for i := range 200 {
		at := t0.Add(time.Duration(i) * time.Second)
		f.lookup(fmt.Sprintf("%s-1-2-3-%d.evil-prefix.com", b32.EncodeToString([]byte(fmt.Sprintf("chunk%05d"+"xx", i))), 1+i%250), at, "10.0.0.7", 1, 0, 16)
		f.lookup(fmt.Sprintf("1-2-3-%d.4-5-6-%d.evil-pair.com", 1+i%250, (i*7)%250), at, "10.0.0.7", 1, 0, 16)
		f.lookup(fmt.Sprintf("ip-10-0-1-%d.evil-stager.com", i), at, "10.0.0.7", 1, 0, 16)
	}
	all := f.e.AllFeatures(0)
	if p := all["evil-prefix.com"]; p.IPShaped != 0 || p.DataNames != 200 {
		t.Errorf("long prefixes: %d address-shaped, %d data; want 0 and 200", p.IPShaped, p.DataNames)
	}
	if p := all["evil-pair.com"]; p.IPShaped != 0 {
		t.Errorf("two addresses a name: %d address-shaped, want 0", p.IPShaped)
	}
	if s := all["evil-stager.com"]; s.IPShaped != 200 || s.NumberedNames < 190 {
		t.Errorf("numbered addresses: %d address-shaped, %d numbered; want 200 and nearly all numbered", s.IPShaped, s.NumberedNames)
	}
}

// TestDashedLabelsAlikeInBothTiers: a dashed address beside ordinary
// labels scores the same in a compact record as in a full domain: it is
// left out of the longest label and the n-gram score.
func TestDashedLabelsAlikeInBothTiers(t *testing.T) {
	f := newFeeder(Config{})
	f.lookup("1-2-3-4.www.example.org", t0, "10.0.0.1", 1, 0, 16)
	if _, full := f.e.domains["example.org"]; full {
		t.Fatal("one ordinary lookup made a full domain")
	}
	compact := f.e.AllFeatures(0)["example.org"]
	g := newFeeder(Config{})
	g.lookup("www.example.org", t0, "10.0.0.1", 1, 0, 16)
	plain := g.e.AllFeatures(0)["example.org"]
	if compact.MaxLabel != 3 || compact.NgramBits != plain.NgramBits {
		t.Fatalf("compact: longest label %d, n-gram %.2f; want 3 and %.2f (www alone)", compact.MaxLabel, compact.NgramBits, plain.NgramBits)
	}
}

// TestJudgementStepSaturates: a count near the top of its range (from a
// hostile snapshot) does not wrap the next judgement's step around.
func TestJudgementStepSaturates(t *testing.T) {
	if got := satAdd(math.MaxUint64-100, math.MaxUint64/8); got != math.MaxUint64 {
		t.Fatalf("satAdd wrapped to %d", got)
	}
	if got := satAdd(800, 100); got != 900 {
		t.Fatalf("satAdd(800, 100) = %d", got)
	}
}

// TestToolRecognised: three strong messages at least, and one of the
// domain's messages in a hundred matching, strongly or weakly.
func TestToolRecognised(t *testing.T) {
	for _, c := range []struct {
		name         string
		strong, weak uint32
		messages     uint64
		want         bool
	}{
		{"a tunnel", 300, 0, 300, true},
		{"two strong", 2, 10, 10, false},
		{"3 strong of 300 messages", 3, 0, 300, true},
		{"3 strong of 301 messages", 3, 0, 301, false},
		{"iodine raw (more matches than DNS messages)", 3466, 0, 16, true},
		{"dns2tcp through a case-scrambling resolver", 6, 1021, 1043, true},
		{"the same beside 40,000 ordinary lookups", 280, 509, 80799, false},
		{"random DKIM tokens", 6, 46, 13168, false},
		{"one accidental name looked up 300 times in a busy service", 600, 0, 200000, false},
		{"3 strong, 1 weak of 400 messages", 3, 1, 400, true},
		{"3 strong of 400 messages", 3, 0, 400, false},
	} {
		f := Features{ToolStrong: c.strong, ToolWeak: c.weak, Queries: c.messages / 2, Responses: c.messages - c.messages/2}
		if got := ToolRecognised(&f); got != c.want {
			t.Errorf("%s: %v", c.name, got)
		}
		f.Tool = "dnstt"
		_, rules := judge(&f)
		said := slices.ContainsFunc(rules, func(r rule) bool { return strings.HasPrefix(r.text, "dnstt protocol recognised in ") })
		if said != c.want {
			t.Errorf("%s: the rules say recognised: %v", c.name, said)
		}
	}
}

// TestNotRaised: a cap drops the Scorer's "raised to" lines from a copy,
// never from the Scorer's own slice.
func TestNotRaised(t *testing.T) {
	why := []string{"raised to medium: because", "the model says so"}
	got := notRaised(why)
	if !slices.Equal(got, []string{"the model says so"}) || !slices.Equal(why, []string{"raised to medium: because", "the model says so"}) {
		t.Errorf("notRaised: %q, the Scorer's slice now %q", got, why)
	}
}

// TestEveryToolHasCounters: the per-tool counters (numTools, fixed in the
// snapshot format) hold every tool the fingerprints name; a tool beyond
// them would be counted nowhere.
func TestEveryToolHasCounters(t *testing.T) {
	n := 0
	for tool := fingerprint.Tool(1); tool.String() != fingerprint.Unknown.String(); tool++ {
		n++
		if back, ok := fingerprint.ParseTool(tool.String()); !ok || back != tool {
			t.Fatalf("tool %d %q does not parse back", tool, tool)
		}
	}
	if n+1 > numTools {
		t.Fatalf("%d tools and unknown, counters for %d", n, numTools)
	}
}
