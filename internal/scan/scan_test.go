package scan

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dnsieve/dnsieve/internal/config"
	"github.com/dnsieve/dnsieve/internal/report"
	"github.com/dnsieve/dnsieve/internal/testcap"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var (
	client  = netip.MustParseAddrPort("192.0.2.10:40000")
	server  = netip.MustParseAddrPort("192.0.2.53:53")
	client6 = netip.MustParseAddrPort("[2001:db8::10]:40001")
	server6 = netip.MustParseAddrPort("[2001:db8::53]:53")
)

const (
	typeA    = 1
	typeTXT  = 16
	typeNULL = 10
	typeSRV  = 33
)

// Names with known verdicts under the default checks.
const (
	benign      = "www.example.com"
	longLabel   = "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz.t.example.net"       // 42-byte label: high
	hexName     = "x.00112233445566778899aabb.cdn.example.org"                     // hex run of 24: medium
	entropyName = "qwertyuiopasdfghjklzxcvbnm1234567.e.example.com"                // entropy > 4.5: high
	srvName     = "_ldap._tcp.dc._msdcs.corp.example.com"                          // service labels: clean
	rareName    = "a+b/c=.r.example.com"                                           // rare symbols: high
	allowName   = "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz.allowed.example.net" // flagged unless allowlisted
)

// mixedFrames is one frame sequence over every link type, IPv6, TCP,
// fragments and non-DNS traffic, with a known result per frame.
func mixedFrames(t *testing.T) []testcap.Frame { return mixedFramesPort(t, 41000) }

// mixedFramesPort is mixedFrames with the TCP client on the given port.
func mixedFramesPort(t *testing.T, tcpPort uint16) []testcap.Frame {
	t.Helper()
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var frames []testcap.Frame
	add := func(l testcap.Link, data []byte) {
		frames = append(frames, testcap.Frame{Time: base.Add(time.Duration(len(frames)) * time.Millisecond), Link: l, Data: data})
	}
	q := func(id uint16, name string, qt uint16) []byte { return testcap.Query(id, name, qt) }
	add(testcap.Ethernet, testcap.UDP(testcap.Ethernet, client, server, q(1, benign, typeA)))               // 1 clean
	add(testcap.EthernetVLAN, testcap.UDP(testcap.EthernetVLAN, client, server, q(2, longLabel, typeNULL))) // 2 high
	add(testcap.EthernetQinQ, testcap.UDP(testcap.EthernetQinQ, server, client,                             // 3 medium (response)
		testcap.Response(3, hexName, typeA, 0, testcap.AnswerAddr(netip.MustParseAddr("198.51.100.1")))))
	add(testcap.LinuxSLL, testcap.UDP(testcap.LinuxSLL, client6, server6, q(4, entropyName, typeTXT))) // 4 high
	add(testcap.LinuxSLL2, testcap.UDP(testcap.LinuxSLL2, client, server, q(5, rareName, typeA)))      // 5 high
	add(testcap.RawIPv4, testcap.UDP(testcap.RawIPv4, client, server,                                  // 6 100%
		testcap.RawQuery(6, testcap.RawName([]byte("bad\xffname"), []byte("example"), []byte("com")), typeA)))
	add(testcap.RawIPv6, testcap.UDP(testcap.RawIPv6, client6, server6, q(7, srvName, typeSRV)))                  // 7 clean
	add(testcap.Null, testcap.UDP(testcap.Null, client, server, q(8, longLabel, typeTXT)))                        // 8 high
	add(testcap.Loop, testcap.UDP(testcap.Loop, client, server, q(9, benign, typeA)))                             // 9 clean
	add(testcap.RawIP, testcap.UDP(testcap.RawIP, client, server, q(10, allowName, typeA)))                       // 10 high, unless allowlisted
	add(testcap.Ethernet, testcap.ARP(testcap.Ethernet))                                                          // 11 skipped
	add(testcap.Ethernet, testcap.ICMPEcho(testcap.Ethernet, client.Addr(), server.Addr(), 1, 1, []byte("ping"))) // 12 skipped
	add(testcap.Ethernet, testcap.UDP(testcap.Ethernet, client, server, []byte{0xde, 0xad}))                      // 13 malformed: garbage on port 53
	add(testcap.Ethernet, testcap.UDP(testcap.Ethernet, client, netip.MustParseAddrPort("192.0.2.53:5353"),       // 14 skipped: not a DNS port
		q(14, longLabel, typeA)))
	// DNS over TCP: handshake, then two messages, the second (flagged) split
	// over three segments delivered out of order; it completes in frame 19.
	tcpClient := netip.AddrPortFrom(client.Addr(), tcpPort)
	for _, f := range testcap.TCPHandshake(testcap.Ethernet, tcpClient, server, 1000, 5000) { // 15, 16, 17
		add(testcap.Ethernet, f)
	}
	segs := testcap.TCPDNSSegments(testcap.Ethernet, tcpClient, server, 1001,
		[][]byte{q(20, benign, typeA), q(21, entropyName, typeTXT)}, []int{10, 29, 30, 1000})
	if len(segs) != 4 {
		t.Fatalf("TCPDNSSegments gave %d segments", len(segs))
	}
	add(testcap.Ethernet, segs[0]) // 18: part of the clean message
	add(testcap.Ethernet, segs[2]) // 19: out of order
	add(testcap.Ethernet, segs[1]) // 20: completes message 1 (clean)
	add(testcap.Ethernet, segs[3]) // 21: completes message 2 (high)
	// A fragmented UDP response: reassembled and analysed at its last
	// fragment, frame 24.
	big := testcap.Response(22, "frag.example.com", typeTXT, 0, testcap.AnswerTXT(strings.Repeat("x", 250), strings.Repeat("y", 250)))
	for _, f := range testcap.IPv4Fragments(testcap.Ethernet, server, client, big, 256) { // 22, 23, 24
		add(testcap.Ethernet, f)
	}
	return frames
}

// checksCfg is the default configuration with the engine off, for tests
// of the per-message checks at their own levels.
func checksCfg() config.Config {
	c := config.Default()
	c.ChecksOnly = true
	return c
}

func runScan(t *testing.T, cfg config.Config, paths ...string) (Summary, string) {
	t.Helper()
	out := t.TempDir()
	cfg.OutputDir = out
	var stderr bytes.Buffer
	sum, err := Run(context.Background(), Options{Config: cfg, Paths: paths, Stderr: &stderr, Workers: 2, Version: "test"})
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, stderr.String())
	}
	return sum, out
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := readFile(t, p)
	if got != want {
		t.Errorf("%s differs from the golden file (go test -run %s -update to rewrite it after checking):\ngot:\n%s\nwant:\n%s", p, t.Name(), got, want)
	}
}

// statsOf decodes stats.json.
func statsOf(t *testing.T, dir string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(dir, StatsName))), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func num(m map[string]any, k string) uint64 {
	f, _ := m[k].(float64)
	return uint64(f)
}

func TestMixedCaptureGolden(t *testing.T) {
	dir := t.TempDir()
	frames := mixedFrames(t)
	testcap.WriteFile(t, filepath.Join(dir, "mixed.pcapng"), frames, "pcapng")
	sum, out := runScan(t, checksCfg(), dir)
	if sum.Files != 1 || sum.Failed != 0 || sum.ExitCode() != 0 {
		t.Fatalf("summary %+v", sum)
	}
	golden(t, "mixed.out.csv", readFile(t, filepath.Join(out, CSVName)))

	st := statsOf(t, out)
	f := st["mixed.pcapng"].(map[string]any)
	want := map[string]uint64{
		"packets_count":           24,
		"malicious_packets_count": 9,  // frames 2 3 4 5 6 8 10 14 21
		"dns_messages":            14, // the fragmented response is reassembled; frame 14 is DNS on port 5353
		"queries":                 12,
		"responses":               2,
		"reassembled_datagrams":   1,
		"tcp_messages":            2,
		"malformed":               1,
		"fragments":               3,
	}
	for k, v := range want {
		if got := num(f, k); got != v {
			t.Errorf("stats %s = %d, want %d", k, got, v)
		}
	}
	if num(st, "total_packets") != 24 || num(st, "total_malicious_packets") != 9 {
		t.Errorf("totals %v", st)
	}
	if f["complete"] != true || len(f["errors"].([]any)) != 0 {
		t.Errorf("file not complete: %v", f)
	}
}

func TestEveryLinkTypeInPCAP(t *testing.T) {
	dir := t.TempDir()
	for _, l := range testcap.Links() {
		c, s := client, server
		if l == testcap.RawIPv6 {
			c, s = client6, server6
		}
		frames := []testcap.Frame{
			{Time: time.Unix(1700000000, 0), Link: l, Data: testcap.UDP(l, c, s, testcap.Query(1, benign, typeA))},
			{Time: time.Unix(1700000001, 0), Link: l, Data: testcap.UDP(l, c, s, testcap.Query(2, longLabel, typeA))},
		}
		testcap.WriteFile(t, filepath.Join(dir, l.String()+".pcap"), frames, "pcap")
	}
	sum, out := runScan(t, checksCfg(), dir)
	if sum.Files != len(testcap.Links()) || sum.Failed != 0 {
		t.Fatalf("summary %+v", sum)
	}
	csv := readFile(t, filepath.Join(out, CSVName))
	for _, l := range testcap.Links() {
		row := l.String() + ".pcap|2|high|packet label length too high\r\n"
		if !strings.Contains(csv, row) {
			t.Errorf("missing row %q in\n%s", row, csv)
		}
	}
	if n := strings.Count(csv, "\r\n"); n != 1+len(testcap.Links()) {
		t.Errorf("%d rows, want %d:\n%s", n, 1+len(testcap.Links()), csv)
	}
}

func TestCompressedAndMisnamedCaptures(t *testing.T) {
	dir := t.TempDir()
	frames := mixedFrames(t)
	testcap.WriteFile(t, filepath.Join(dir, "a.pcapng.gz"), frames, "pcapng.gz")
	testcap.WriteFile(t, filepath.Join(dir, "b.pcapng.zst"), frames, "pcapng.zst")
	testcap.WriteFile(t, filepath.Join(dir, "c.pcap"), frames, "pcapng") // a .pcap that is really pcapng
	testcap.WriteFile(t, filepath.Join(dir, "ignored.txt"), frames, "pcapng")
	sum, out := runScan(t, checksCfg(), dir)
	if sum.Files != 3 || sum.Failed != 0 || sum.Flagged != 27 {
		t.Fatalf("summary %+v", sum)
	}
	st := statsOf(t, out)
	for _, name := range []string{"a.pcapng.gz", "b.pcapng.zst", "c.pcap"} {
		f := st[name].(map[string]any)
		if num(f, "malicious_packets_count") != 9 || f["format"] != "pcapng" {
			t.Errorf("%s: %v", name, f)
		}
	}
}

func TestAllowlist(t *testing.T) {
	dir := t.TempDir()
	testcap.WriteFile(t, filepath.Join(dir, "m.pcapng"), mixedFrames(t), "pcapng")
	allow := filepath.Join(dir, "allow.txt")
	os.WriteFile(allow, []byte("# test\n*.allowed.example.net\n"), 0o644)
	cfg := checksCfg()
	cfg.Allowlist, cfg.EnableAllowlist = allow, true
	_, out := runScan(t, cfg, filepath.Join(dir, "m.pcapng"))
	csv := readFile(t, filepath.Join(out, CSVName))
	if strings.Contains(csv, "m.pcapng|10|") {
		t.Errorf("allowlisted frame 10 flagged:\n%s", csv)
	}
	f := statsOf(t, out)["m.pcapng"].(map[string]any)
	if num(f, "allowlisted") != 1 || num(f, "malicious_packets_count") != 8 || num(f, "dns_messages") != 14 {
		t.Errorf("stats %v", f)
	}
}

func TestPortsConfigurable(t *testing.T) {
	dir := t.TempDir()
	testcap.WriteFile(t, filepath.Join(dir, "m.pcapng"), mixedFrames(t), "pcapng")
	cfg := checksCfg()
	cfg.DNSPorts = []uint16{5353}
	_, out := runScan(t, cfg, dir)
	f := statsOf(t, out)["m.pcapng"].(map[string]any)
	// Port 53 is no longer a DNS port: its TCP streams are not reassembled
	// and its garbage datagram is not malformed DNS; its UDP messages are
	// still recognised by content.
	if num(f, "tcp_messages") != 0 || num(f, "malformed") != 0 || num(f, "dns_messages") != 12 {
		t.Errorf("stats %v", f)
	}
	if csv := readFile(t, filepath.Join(out, CSVName)); !strings.Contains(csv, "m.pcapng|14|high|") || strings.Contains(csv, "m.pcapng|21|") {
		t.Errorf("rows:\n%s", csv)
	}
}

func TestTruncatedCaptureKeepsWhatWasRead(t *testing.T) {
	dir := t.TempDir()
	var frames []testcap.Frame
	for i := 0; i < 10; i++ {
		frames = append(frames, testcap.Frame{Time: time.Unix(1700000000+int64(i), 0), Link: testcap.Ethernet,
			Data: testcap.UDP(testcap.Ethernet, client, server, testcap.Query(uint16(i), longLabel, typeA))})
	}
	data, err := testcap.Encode(frames, "pcap")
	if err != nil {
		t.Fatal(err)
	}
	// Cut inside the 7th record: 24-byte file header, records of 16+len.
	recLen := 16 + len(frames[0].Data)
	cut := 24 + 6*recLen + 20
	os.WriteFile(filepath.Join(dir, "a-broken.pcap"), data[:cut], 0o644)
	testcap.WriteFile(t, filepath.Join(dir, "b-good.pcap"), frames, "pcap")
	os.WriteFile(filepath.Join(dir, "c-garbage.pcap"), []byte("<!DOCTYPE html> this is not a capture"), 0o644)

	out := t.TempDir()
	cfg := checksCfg()
	cfg.OutputDir = out
	sum, err := Run(context.Background(), Options{Config: cfg, Paths: []string{dir}, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Files != 3 || sum.Failed != 2 || sum.ExitCode() != 1 {
		t.Fatalf("summary %+v", sum)
	}
	csv := readFile(t, filepath.Join(out, CSVName))
	if strings.Count(csv, "a-broken.pcap|") != 6 || strings.Count(csv, "b-good.pcap|") != 10 {
		t.Errorf("rows:\n%s", csv)
	}
	st := statsOf(t, out)
	broken := st["a-broken.pcap"].(map[string]any)
	errs := broken["errors"].([]any)
	if len(errs) != 1 || !strings.Contains(errs[0].(string), "a-broken.pcap") ||
		!strings.Contains(errs[0].(string), "byte "+strconv.Itoa(24+6*recLen)) || broken["complete"] != false {
		t.Errorf("broken file stats: %v", broken)
	}
	garbage := st["c-garbage.pcap"].(map[string]any)
	if g := garbage["errors"].([]any); len(g) != 1 || !strings.Contains(g[0].(string), "not a pcap or pcapng") {
		t.Errorf("garbage file stats: %v", garbage)
	}
	log := readFile(t, filepath.Join(out, LogName))
	if !strings.Contains(log, "a-broken.pcap") || !strings.Contains(log, "scan finished") {
		t.Errorf("out.log:\n%s", log)
	}
}

func TestIgnoreParsedAndRename(t *testing.T) {
	dir := t.TempDir()
	frames := mixedFrames(t)
	testcap.WriteFile(t, filepath.Join(dir, "one.pcap"), frames[:1], "pcap")
	out := t.TempDir()
	cfg := checksCfg()
	cfg.OutputDir = out
	cfg.IgnoreParsed = true
	run := func() Summary {
		s, err := Run(context.Background(), Options{Config: cfg, Paths: []string{dir}})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := run(); s.Files != 1 || s.Skipped != 0 {
		t.Fatalf("first run %+v", s)
	}
	if s := run(); s.Files != 0 || s.Skipped != 1 {
		t.Fatalf("second run %+v", s)
	}
	// The same content under another name is recognised by its hash.
	os.Rename(filepath.Join(dir, "one.pcap"), filepath.Join(dir, "copy.pcap"))
	if s := run(); s.Files != 0 || s.Skipped != 1 {
		t.Fatalf("renamed run %+v", s)
	}
	// The evidence is not renamed unless asked.
	if _, err := os.Stat(filepath.Join(dir, "copy.pcap")); err != nil {
		t.Fatal(err)
	}
	cfg.IgnoreParsed, cfg.RenameParsed = false, true
	if s := run(); s.Files != 1 {
		t.Fatalf("rename run %+v", s)
	}
	if _, err := os.Stat(filepath.Join(dir, "copy_parsed.pcap")); err != nil {
		t.Fatalf("not renamed: %v", err)
	}
	cfg.IgnoreParsed = true
	if s := run(); s.Files != 0 || s.Skipped != 1 {
		t.Fatalf("parsed name run %+v", s)
	}
}

func TestCaptureExt(t *testing.T) {
	cases := map[string]string{"a.pcap": ".pcap", "a.PCAPNG.gz": ".PCAPNG.gz", "b.cap.zst": ".cap.zst", "noext": "", "x.pcap.bak": ""}
	for in, want := range cases {
		if got := captureExt(in); got != want {
			t.Errorf("captureExt(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestWorkerCountDoesNotChangeResults runs the same large capture with 1
// and 3 workers: the outputs must be identical (frame order kept).
func TestWorkerCountDoesNotChangeResults(t *testing.T) {
	dir := t.TempDir()
	var frames []testcap.Frame
	for i := 0; i < 200; i++ { // 4800 frames: several batches
		frames = append(frames, mixedFramesPort(t, uint16(42000+i))...)
	}
	testcap.WriteFile(t, filepath.Join(dir, "big.pcapng"), frames, "pcapng")
	outs := []string{}
	for _, w := range []int{1, 3} {
		out := t.TempDir()
		cfg := checksCfg()
		cfg.OutputDir = out
		if _, err := Run(context.Background(), Options{Config: cfg, Paths: []string{dir}, Workers: w}); err != nil {
			t.Fatal(err)
		}
		outs = append(outs, readFile(t, filepath.Join(out, CSVName)))
	}
	if outs[0] != outs[1] {
		t.Fatal("out.csv depends on the number of workers")
	}
	if n := strings.Count(outs[0], "\r\n"); n != 1+200*9 {
		t.Fatalf("%d rows", n)
	}
}

// TestIgnoreParsedKeepsResults checks that a run whose every input was
// processed before leaves the results of that run byte for byte (a cron
// job re-running over the same directory must not replace findings with
// empty ones), says so in out.log, and that a run with a new capture
// writes its own results as usual.
func TestIgnoreParsedKeepsResults(t *testing.T) {
	dir := t.TempDir()
	testcap.WriteFile(t, filepath.Join(dir, "one.pcap"), ethFrames(t), "pcap")
	out := t.TempDir()
	cfg := checksCfg()
	cfg.OutputDir, cfg.IgnoreParsed = out, true
	run := func() Summary {
		t.Helper()
		s, err := Run(context.Background(), Options{Config: cfg, Paths: []string{dir}, Version: "test"})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := run(); s.Files != 1 || s.Flagged == 0 {
		t.Fatalf("first run %+v", s)
	}
	results := []string{CSVName, StatsName, FindingsName, DomainsName, ReportName}
	before := map[string]string{}
	for _, n := range results {
		before[n] = readFile(t, filepath.Join(out, n))
	}
	s := run()
	if s.Files != 0 || s.Skipped != 1 || !s.Kept || s.ExitCode() != 0 {
		t.Fatalf("second run %+v", s)
	}
	for _, n := range results {
		if got := readFile(t, filepath.Join(out, n)); got != before[n] {
			t.Errorf("%s changed by a run that scanned nothing", n)
		}
	}
	log := readFile(t, filepath.Join(out, LogName))
	if !strings.Contains(log, "nothing new to scan: the results already in the output directory are kept") ||
		!strings.Contains(log, "kept=\"out.csv, stats.json, findings.jsonl, domains.csv, report.html\"") ||
		!strings.Contains(log, "scan finished") {
		t.Errorf("out.log:\n%s", log)
	}
	var term bytes.Buffer
	report.Terminal(&term, ReportInput(cfg, "test", &s), false)
	if !strings.Contains(term.String(), "No capture analysed. 1 capture skipped as already processed; the results already in the output directory are kept.") {
		t.Errorf("terminal summary:\n%s", term.String())
	}

	// A new capture: this run's results replace the earlier ones.
	testcap.WriteFile(t, filepath.Join(dir, "two.pcap"), ethFrames(t)[:1], "pcap")
	if s := run(); s.Files != 1 || s.Skipped != 1 || s.Kept {
		t.Fatalf("third run %+v", s)
	}
	if got := readFile(t, filepath.Join(out, StatsName)); got == before[StatsName] || !strings.Contains(got, `"two.pcap"`) {
		t.Errorf("stats.json not rewritten:\n%s", got)
	}
}

// TestMissingInputInStats checks that an input that cannot be read at all
// is named in stats.json and counted as an error, beside the captures
// that were read.
func TestMissingInputInStats(t *testing.T) {
	dir := t.TempDir()
	testcap.WriteFile(t, filepath.Join(dir, "one.pcap"), ethFrames(t), "pcap")
	missing := filepath.Join(dir, "nope.pcap")
	sum, out := runScan(t, checksCfg(), filepath.Join(dir, "one.pcap"), missing)
	if sum.Files != 1 || sum.Failed != 1 || sum.ExitCode() != 1 {
		t.Fatalf("summary %+v", sum)
	}
	var st struct {
		TotalErrors  uint64   `json:"total_errors"`
		FilesFailed  int      `json:"files_failed"`
		InputErrors  []string `json:"input_errors"`
		FilesScanned int      `json:"files_scanned"`
	}
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(out, StatsName))), &st); err != nil {
		t.Fatal(err)
	}
	if st.TotalErrors != 1 || st.FilesFailed != 1 || st.FilesScanned != 1 || len(st.InputErrors) != 1 ||
		!strings.Contains(st.InputErrors[0], missing) {
		t.Errorf("stats.json %+v", st)
	}
}

// TestWarningsInLog checks that the warnings given before the run (the
// config file's unknown keys) are in out.log, and not said again on
// stderr, where the caller already wrote them.
func TestWarningsInLog(t *testing.T) {
	dir := t.TempDir()
	testcap.WriteFile(t, filepath.Join(dir, "one.pcap"), ethFrames(t)[:1], "pcap")
	cfg := checksCfg()
	cfg.OutputDir = t.TempDir()
	var stderr bytes.Buffer
	w := `config.ini:3: unknown key "ignore_parsed_pcap" in [files settings] ignored (did you mean ignore_parsed_pcaps?)`
	if _, err := Run(context.Background(), Options{Config: cfg, Paths: []string{dir}, Stderr: &stderr, Warnings: []string{w}}); err != nil {
		t.Fatal(err)
	}
	log := readFile(t, filepath.Join(cfg.OutputDir, LogName))
	if !strings.Contains(log, `level=WARN msg=configuration warning="config.ini:3: unknown key \"ignore_parsed_pcap\"`) {
		t.Errorf("out.log:\n%s", log)
	}
	if strings.Contains(stderr.String(), "ignore_parsed_pcap") {
		t.Errorf("said twice on stderr:\n%s", stderr.String())
	}
}

// TestStderrLogLevels checks which log lines reach stderr: with a progress
// bar only warnings and errors unless Verbose, without one every
// informational line unless Quiet; out.log always has them all.
func TestStderrLogLevels(t *testing.T) {
	dir := t.TempDir()
	testcap.WriteFile(t, filepath.Join(dir, "one.pcap"), ethFrames(t)[:1], "pcap")
	missing := filepath.Join(dir, "missing.pcap")
	for _, c := range []struct {
		name                     string
		terminal, verbose, quiet bool
		info                     bool
	}{
		{"terminal", true, false, false, false},
		{"terminal verbose", true, true, false, true},
		{"pipe", false, false, false, true},
		{"pipe quiet", false, false, true, false},
		{"terminal verbose quiet", true, true, true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := checksCfg()
			cfg.OutputDir = t.TempDir()
			var stderr bytes.Buffer
			opt := Options{Config: cfg, Paths: []string{dir, missing}, Stderr: &stderr,
				Terminal: c.terminal, Verbose: c.verbose, Quiet: c.quiet}
			if _, err := Run(context.Background(), opt); err != nil {
				t.Fatal(err)
			}
			got := stderr.String()
			if info := strings.Contains(got, `level=INFO msg="capture scanned"`); info != c.info {
				t.Errorf("informational lines on stderr: %v, want %v:\n%s", info, c.info, got)
			}
			if !strings.Contains(got, `level=ERROR msg="input not readable"`) {
				t.Errorf("the error is missing on stderr:\n%s", got)
			}
			log := readFile(t, filepath.Join(cfg.OutputDir, LogName))
			if !strings.Contains(log, `level=INFO msg="capture scanned"`) || !strings.Contains(log, `level=ERROR msg="input not readable"`) {
				t.Errorf("out.log:\n%s", log)
			}
		})
	}
}

// TestLogLinesClearTheBar: on a terminal, a log line written while the
// progress bar is shown first clears the bar's line; before the bar and
// after it, lines are written as they are.
func TestLogLinesClearTheBar(t *testing.T) {
	var out bytes.Buffer
	bw := &barWriter{w: &out}
	io.WriteString(bw, "before\n")
	bw.active.Store(true)
	io.WriteString(bw.bar(), "\rscanning 10%")
	io.WriteString(bw, "level=ERROR msg=x\n")
	io.WriteString(bw.bar(), "\rscanning 20%")
	bw.active.Store(false)
	io.WriteString(bw, "after\n")
	if got, want := out.String(), "before\n\rscanning 10%\r\x1b[Klevel=ERROR msg=x\n\rscanning 20%after\n"; got != want {
		t.Errorf("terminal got %q, want %q", got, want)
	}

	// A scan on a terminal: the error about a broken capture, logged while
	// the bar is up, starts by clearing the line, and has no time.
	dir := t.TempDir()
	testcap.WriteFile(t, filepath.Join(dir, "a.pcap"), ethFrames(t)[:1], "pcap")
	os.WriteFile(filepath.Join(dir, "b.pcap"), []byte("not a capture at all"), 0o644)
	cfg := checksCfg()
	cfg.OutputDir = t.TempDir()
	var stderr bytes.Buffer
	if _, err := Run(context.Background(), Options{Config: cfg, Paths: []string{dir}, Stderr: &stderr, Terminal: true}); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`\r\x1b\[Klevel=ERROR msg="capture not readable"`).MatchString(stderr.String()) {
		t.Errorf("stderr:\n%q", stderr.String())
	}
	if log := readFile(t, filepath.Join(cfg.OutputDir, LogName)); !regexp.MustCompile(`(?m)^time=\S+ level=ERROR msg="capture not readable"`).MatchString(log) {
		t.Errorf("out.log:\n%s", log)
	}
}

// TestExtraPipelineBytes: the memory limit grows by three batches for
// each worker beyond two, and not below two.
func TestExtraPipelineBytes(t *testing.T) {
	for _, c := range []struct {
		workers int
		want    int64
	}{{1, 0}, {2, 0}, {3, 3 * batchFootprint}, {16, 42 * batchFootprint}} {
		if got := ExtraPipelineBytes(c.workers, false); got != c.want {
			t.Errorf("ExtraPipelineBytes(%d) = %d, want %d", c.workers, got, c.want)
		}
	}
	if batchFootprint < 3<<20 || batchFootprint > 4<<20 {
		t.Errorf("a batch's footprint is %d bytes: the 72 MiB margin for two workers' 8 batches was set for about 3.2 MiB", batchFootprint)
	}
}

// TestDefaultWorkers: one worker for each CPU but the engine collector's,
// at least one; for each CPU without the engine; an explicit count is
// kept.
func TestDefaultWorkers(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, c := range []struct {
		procs, workers int
		checksOnly     bool
		want           int
	}{{1, 0, false, 1}, {2, 0, false, 1}, {4, 0, false, 3}, {2, 5, false, 5}, {8, 1, false, 1},
		{1, 0, true, 1}, {2, 0, true, 2}, {4, 3, true, 3}} {
		runtime.GOMAXPROCS(c.procs)
		if got := DefaultWorkers(c.workers, c.checksOnly); got != c.want {
			t.Errorf("GOMAXPROCS %d, workers %d, checks only %v: %d, want %d", c.procs, c.workers, c.checksOnly, got, c.want)
		}
	}
	runtime.GOMAXPROCS(4)
	if got := ExtraPipelineBytes(0, true); got != 6*batchFootprint {
		t.Errorf("checks only on 4 CPUs: %d extra bytes, want %d", got, 6*batchFootprint)
	}
}
