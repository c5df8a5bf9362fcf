package stream

import (
	"bytes"
	"context"
	"encoding/base32"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dnsieve/dnsieve/internal/alert"
	"github.com/dnsieve/dnsieve/internal/capture"
	"github.com/dnsieve/dnsieve/internal/config"
	"github.com/dnsieve/dnsieve/internal/testcap"
)

var (
	cli = netip.MustParseAddrPort("192.0.2.10:40000")
	srv = netip.MustParseAddrPort("192.0.2.53:53")
)

// tunnelMessages returns n query/response pairs of a base32 TXT tunnel.
func tunnelMessages(n int, seed uint64) (qs, rs [][]byte) {
	rng := rand.New(rand.NewPCG(seed, 1))
	enc := base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)
	for i := 0; i < n; i++ {
		data := make([]byte, 35)
		for j := range data {
			data[j] = byte(rng.IntN(256))
		}
		name := enc.EncodeToString(data) + ".t1.stream-test.net"
		qs = append(qs, testcap.Query(uint16(i), name, 16))
		rs = append(rs, testcap.Response(uint16(i), name, 16, 0, testcap.AnswerTXT(strings.Repeat("z", 120))))
	}
	return qs, rs
}

func newRunner(t *testing.T, state string, out io.Writer) *Runner {
	t.Helper()
	cfg := config.Default()
	cfg.OutputDir = filepath.Join(t.TempDir(), "out")
	os.MkdirAll(cfg.OutputDir, 0o755)
	sink, _ := alert.Open("stdout", out)
	r, err := New(Options{Config: cfg, Alerts: alert.NewWriter(sink, "test"), StateFile: state, Input: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestFramesRaiseAlertsAndMetrics(t *testing.T) {
	var alerts bytes.Buffer
	r := newRunner(t, "", &alerts)
	qs, rs := tunnelMessages(200, 1)
	base := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	frame := uint64(0)
	for i := range qs {
		for _, d := range [][]byte{testcap.UDP(testcap.Ethernet, cli, srv, qs[i]), testcap.UDP(testcap.Ethernet, srv, cli, rs[i])} {
			frame++
			r.Frame(&capture.Record{Frame: frame, Time: base.Add(time.Duration(frame) * 50 * time.Millisecond).UnixNano(), LinkType: 1, Data: d})
		}
	}
	if !strings.Contains(alerts.String(), `"registered_domain":"stream-test.net"`) {
		t.Fatalf("no alert while the traffic flowed:\n%s", alerts.String())
	}
	if r.C.Frames.Load() != 400 || r.C.DNSMessages.Load() != 400 || r.C.Queries.Load() != 200 {
		t.Fatalf("counters %d %d %d", r.C.Frames.Load(), r.C.DNSMessages.Load(), r.C.Queries.Load())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, err := Serve(ctx, "127.0.0.1:0", r.Registry(func() (uint64, uint64) { return 7, 0 }))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr.String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"dnsieve_packets_total 400", "dnsieve_dns_messages_total 400", "dnsieve_kernel_drops_total 7", "dnsieve_engine_domains 1", "dnsieve_unwrapped_total 0"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if resp, err := http.Get("http://" + addr.String() + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Errorf("healthz: %v", err)
	}
	fs, err := r.Close()
	if err != nil || len(fs) != 1 || fs[0].Domain != "t1.stream-test.net" {
		t.Fatalf("close: %v %+v", err, fs)
	}
	if _, err := os.Stat(filepath.Join(r.opt.Config.OutputDir, "findings.jsonl")); err != nil {
		t.Fatal(err)
	}
}

func TestMessagesCheckpointAndRestore(t *testing.T) {
	state := filepath.Join(t.TempDir(), "engine.bin")
	r := newRunner(t, state, io.Discard)
	base := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	feedTunnel(r, base, 2)
	first, err := r.Close()
	if err != nil || len(first) != 1 {
		t.Fatalf("first run: %v %+v", err, first)
	}
	// A new runner restores the state and continues the same finding.
	var alerts bytes.Buffer
	r2 := newRunner(t, state, &alerts)
	more, mrs := tunnelMessages(10, 3)
	for i := range more {
		at := base.Add(time.Hour + time.Duration(i)*time.Second)
		r2.Message(at, cli.Addr(), srv.Addr(), more[i])
		r2.Message(at, cli.Addr(), srv.Addr(), mrs[i])
	}
	second, err := r2.Close()
	if err != nil || len(second) != 1 {
		t.Fatalf("second run: %v %+v", err, second)
	}
	if second[0].Queries != first[0].Queries+10 || !second[0].FirstSeen.Equal(first[0].FirstSeen) {
		t.Fatalf("restored finding: queries %d (was %d), first seen %v (was %v)", second[0].Queries, first[0].Queries,
			second[0].FirstSeen, first[0].FirstSeen)
	}
	// The finding was announced by the first process at this severity:
	// the second does not announce it again (a restart must not repeat
	// every alert to the SIEM).
	if second[0].Severity != first[0].Severity || alerts.Len() != 0 {
		t.Fatalf("after restore, severity %v (was %v), alerts %q", second[0].Severity, first[0].Severity, alerts.String())
	}
	// Nor does a third with nothing new.
	var third bytes.Buffer
	r3 := newRunner(t, state, &third)
	if fs, err := r3.Close(); err != nil || len(fs) != 1 || third.Len() != 0 {
		t.Fatalf("third run: %v, %d findings, alerts %q", err, len(fs), third.String())
	}
}

// TestCloseAlertsOnce checks that a finding is announced by the process
// that found it, and that the state records the announcement: a restart
// over the same state announces nothing.
func TestCloseAlertsOnce(t *testing.T) {
	state := filepath.Join(t.TempDir(), "engine.bin")
	var alerts bytes.Buffer
	r := newRunner(t, state, &alerts)
	feedTunnel(r, time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), 5)
	fs, err := r.Close()
	if err != nil || len(fs) != 1 {
		t.Fatalf("%v %+v", err, fs)
	}
	lines := strings.Split(strings.TrimSpace(alerts.String()), "\n")
	var last map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
		t.Fatalf("alerts %q", alerts.String())
	}
	var again bytes.Buffer
	if fs, err := newRunner(t, state, &again).Close(); err != nil || len(fs) != 1 || again.Len() != 0 {
		t.Fatalf("restart: %v, %d findings, alerts %q", err, len(fs), again.String())
	}
}

func TestReloadAppliesAllowlist(t *testing.T) {
	r := newRunner(t, "", io.Discard)
	dir := t.TempDir()
	allow := filepath.Join(dir, "allow.txt")
	os.WriteFile(allow, []byte("*.stream-test.net\n"), 0o644)
	cfg := config.Default()
	cfg.OutputDir = filepath.Join(dir, "out")
	cfg.Allowlist, cfg.EnableAllowlist = allow, true
	if err := r.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	qs, _ := tunnelMessages(50, 4)
	for i, q := range qs {
		r.Message(time.Unix(1700000000+int64(i), 0), cli.Addr(), srv.Addr(), q)
	}
	if fs := r.Findings(); len(fs) != 0 || r.EngineStats().Domains != 0 {
		t.Fatalf("allowlisted traffic reached the engine: %+v", fs)
	}
	cfg.Allowlist = filepath.Join(dir, "missing.txt")
	if err := r.Reload(cfg); err == nil {
		t.Fatal("a reload with a missing allowlist succeeded")
	}
}

// feedTunnel gives r 120 lookups of a tunnel, one a second from base.
func feedTunnel(r *Runner, base time.Time, seed uint64) {
	qs, rs := tunnelMessages(120, seed)
	for i := range qs {
		at := base.Add(time.Duration(i) * time.Second)
		r.Message(at, cli.Addr(), srv.Addr(), qs[i])
		r.Message(at.Add(10*time.Millisecond), cli.Addr(), srv.Addr(), rs[i])
	}
}

// flakySink is an alert sink that can be down.
type flakySink struct {
	down         bool
	lines, fails int
}

func (s *flakySink) WriteLine([]byte) error {
	if s.down {
		s.fails++
		return errors.New("sink down")
	}
	s.lines++
	return nil
}

func (s *flakySink) Close() error { return nil }

// TestFailedAlertRetried checks that an alert the sink refused while the
// traffic flowed is not taken as announced: Close writes it, once the
// sink is back, and a restart over the saved state announces nothing
// more.
func TestFailedAlertRetried(t *testing.T) {
	state := filepath.Join(t.TempDir(), "engine.bin")
	cfg := config.Default()
	cfg.OutputDir = filepath.Join(t.TempDir(), "out")
	sink := &flakySink{down: true}
	r, err := New(Options{Config: cfg, Alerts: alert.NewWriter(sink, "test"), StateFile: state, Input: "test"})
	if err != nil {
		t.Fatal(err)
	}
	feedTunnel(r, time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), 5)
	if sink.fails == 0 || sink.lines != 0 {
		t.Fatalf("while down: %d refused, %d written", sink.fails, sink.lines)
	}
	sink.down = false
	fs, err := r.Close()
	if err != nil || len(fs) != 1 || sink.lines != 1 {
		t.Fatalf("Close: %v, %d findings, %d alerts written", err, len(fs), sink.lines)
	}
	again := &flakySink{}
	r2, err := New(Options{Config: cfg, Alerts: alert.NewWriter(again, "test"), StateFile: state, Input: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r2.Close(); err != nil || again.lines != 0 {
		t.Fatalf("restart: %v, %d alerts written", err, again.lines)
	}
}
