package alert

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dnsieve/dnsieve/internal/engine"
)

func finding(sev engine.Severity) engine.Finding {
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	return engine.Finding{Domain: "t1.evil.example", RegisteredDomain: "evil.example", Verdict: "tunnel", Severity: sev,
		SeverityText: sev.String(), Score: 12, Tool: "iodine", Tools: []string{"iodine"},
		Clients:   []engine.Client{{Addr: "10.0.0.5"}, {Addr: "10.0.0.6"}},
		FirstSeen: t0, LastSeen: t0.Add(time.Minute), Queries: 500, UniqueNames: 480, BytesUp: 20000, BytesDown: 90000,
		Evidence: []string{"480 distinct subdomains", "NULL records", "iodine protocol recognised"},
		Samples:  []string{"paaaa\x1b[31m.t1.evil.example"}}
}

func TestECSFieldsAndOncePerSeverity(t *testing.T) {
	var out bytes.Buffer
	w := NewWriter(&streamSink{w: &out}, "1.2.3")
	w.now = func() time.Time { return time.Date(2026, 5, 1, 10, 5, 0, 0, time.UTC) }
	for _, sev := range []engine.Severity{engine.SeverityMedium, engine.SeverityMedium, engine.SeverityLow, engine.SeverityHigh, engine.SeverityHigh} {
		if err := w.Finding(finding(sev)); err != nil {
			t.Fatal(err)
		}
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || w.Written != 2 {
		t.Fatalf("%d alerts, want 2 (first, then the rise to high):\n%s", len(lines), out.String())
	}
	var first, second map[string]any
	json.Unmarshal([]byte(lines[0]), &first)
	json.Unmarshal([]byte(lines[1]), &second)
	get := func(m map[string]any, path string) any {
		var v any = m
		for _, k := range strings.Split(path, ".") {
			v = v.(map[string]any)[k]
		}
		return v
	}
	want := map[string]any{
		"event.kind": "alert", "event.action": "dns-tunnel-detected", "event.severity": 50.0, "event.module": "dnsieve",
		"source.ip": "10.0.0.5", "dns.question.registered_domain": "evil.example", "dns.question.name": `paaaa\x1b[31m.t1.evil.example`,
		"dns.question.subdomain": `paaaa\x1b[31m.t1`, "threat.technique.id": "T1071.004", "threat.software.name": "iodine",
		"observer.version": "1.2.3", "dnsieve.severity": "medium", "ecs.version": ecsVersion, "@timestamp": "2026-05-01T10:05:00Z",
	}
	for path, v := range want {
		if got := get(first, path); got != v {
			t.Errorf("%s = %v, want %v", path, got, v)
		}
	}
	if get(first, "dnsieve.clients") != 2.0 || first["dnsieve"].(map[string]any)["clients_estimated"] != nil {
		t.Errorf("dnsieve.clients %v, clients_estimated %v: want 2, absent", get(first, "dnsieve.clients"),
			first["dnsieve"].(map[string]any)["clients_estimated"])
	}
	if get(second, "event.action") != "dns-tunnel-severity-raised" || get(second, "event.severity") != 75.0 ||
		get(second, "event.id") != get(first, "event.id") || get(second, "dnsieve.update") != true {
		t.Errorf("second alert: %s", lines[1])
	}
	if strings.ContainsRune(out.String(), 0x1b) {
		t.Error("a raw escape byte reached the alert output")
	}
}

func TestRotatingFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "alerts.jsonl")
	r := &RotatingFile{Path: p, MaxBytes: 100, Keep: 2}
	line := []byte(strings.Repeat("x", 39)) // 40 bytes with the newline
	for i := 0; i < 10; i++ {
		if err := r.WriteLine(line); err != nil {
			t.Fatal(err)
		}
	}
	r.Close()
	sizes := map[string]int64{}
	for _, n := range []string{"alerts.jsonl", "alerts.jsonl.1", "alerts.jsonl.2", "alerts.jsonl.3"} {
		if fi, err := os.Stat(filepath.Join(dir, n)); err == nil {
			sizes[n] = fi.Size()
		}
	}
	// 10 lines of 40 bytes, 2 per file: the live file and two old ones
	// hold the last 6 lines; older ones are gone.
	if len(sizes) != 3 || sizes["alerts.jsonl"] != 80 || sizes["alerts.jsonl.1"] != 80 || sizes["alerts.jsonl.2"] != 80 {
		t.Fatalf("files %v", sizes)
	}
}

func TestOpenSpecs(t *testing.T) {
	var out bytes.Buffer
	if s, err := Open("stdout", &out); err != nil || s == nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s, err := Open("file:"+filepath.Join(dir, "a.jsonl")+",1,3", nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := s.(*RotatingFile); r.MaxBytes != 1<<20 || r.Keep != 3 {
		t.Fatalf("%+v", r)
	}
	s.Close()
	for _, bad := range []string{"kafka:x", "file:a,zero", "file:a,1,-1"} {
		if _, err := Open(bad, nil); err == nil {
			t.Errorf("Open(%q) accepted", bad)
		}
	}
}

// TestClientsEstimated: an estimated client count says so in the alert.
func TestClientsEstimated(t *testing.T) {
	f := finding(engine.SeverityHigh)
	f.OtherClients = 40
	f.Features.Clients, f.Features.ClientsEstimated = 42, true
	var out bytes.Buffer
	w := NewWriter(&streamSink{w: &out}, "1.2.3")
	if err := w.Finding(f); err != nil {
		t.Fatal(err)
	}
	var a struct {
		Dnsieve struct {
			Clients          int  `json:"clients"`
			ClientsEstimated bool `json:"clients_estimated"`
		} `json:"dnsieve"`
	}
	if err := json.Unmarshal(out.Bytes(), &a); err != nil || a.Dnsieve.Clients != 42 || !a.Dnsieve.ClientsEstimated {
		t.Fatalf("alert %s (%v)", out.String(), err)
	}
}
