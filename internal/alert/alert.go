package alert

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dnsieve/dnsieve/internal/engine"
	"github.com/dnsieve/dnsieve/internal/output"
)

// ecsVersion is the Elastic Common Schema version the field names follow.
const ecsVersion = "8.11.0"

// Alert is one alert line. Field names are ECS where ECS has one; the
// finding itself is under "dnsieve".
type Alert struct {
	Timestamp time.Time   `json:"@timestamp"`
	ECS       ecs         `json:"ecs"`
	Event     event       `json:"event"`
	Rule      rule        `json:"rule"`
	Message   string      `json:"message"`
	DNS       dnsFields   `json:"dns"`
	Source    endpoint    `json:"source"`
	Related   related     `json:"related"`
	Threat    threat      `json:"threat"`
	Observer  observer    `json:"observer"`
	Dnsieve   engineAlert `json:"dnsieve"`
}

type ecs struct {
	Version string `json:"version"`
}

type event struct {
	Kind      string    `json:"kind"`
	Category  []string  `json:"category"`
	Type      []string  `json:"type"`
	Action    string    `json:"action"`
	Module    string    `json:"module"`
	Dataset   string    `json:"dataset"`
	Severity  int       `json:"severity"`
	RiskScore float64   `json:"risk_score"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Created   time.Time `json:"created"`
	ID        string    `json:"id"`
}

type rule struct {
	Name     string `json:"name"`
	Category string `json:"category"`
}

type dnsFields struct {
	Question struct {
		Name             string `json:"name"`
		RegisteredDomain string `json:"registered_domain"`
		Subdomain        string `json:"subdomain,omitempty"`
	} `json:"question"`
}

type endpoint struct {
	IP string `json:"ip,omitempty"`
}

type related struct {
	IP    []string `json:"ip,omitempty"`
	Hosts []string `json:"hosts,omitempty"`
}

type threat struct {
	Framework string `json:"framework"`
	Technique struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"technique"`
	Software struct {
		Name string `json:"name,omitempty"`
	} `json:"software"`
}

type observer struct {
	Product string `json:"product"`
	Vendor  string `json:"vendor"`
	Version string `json:"version"`
	Type    string `json:"type"`
}

// engineAlert is the finding, with the fields ECS has no place for.
type engineAlert struct {
	Domain   string   `json:"domain"`
	Verdict  string   `json:"verdict"`
	Severity string   `json:"severity"`
	Score    float64  `json:"score"`
	Tool     string   `json:"tool"`
	Tools    []string `json:"tools,omitempty"`
	Clients  int      `json:"clients"`
	// ClientsEstimated: Clients is an estimate beyond the clients the
	// engine tracks one by one.
	ClientsEstimated bool     `json:"clients_estimated,omitempty"`
	Queries          uint64   `json:"queries"`
	UniqueNames      uint64   `json:"unique_names"`
	BytesUp          uint64   `json:"bytes_up"`
	BytesDown        uint64   `json:"bytes_down"`
	Evidence         []string `json:"evidence"`
	Samples          []string `json:"sample_names,omitempty"`
	Update           bool     `json:"update"`
}

// severityNumber maps severities to ECS event.severity (0-100 here).
var severityNumber = map[engine.Severity]int{engine.SeverityLow: 25, engine.SeverityMedium: 50, engine.SeverityHigh: 75}

// FromFinding builds the alert of a finding; update is true when an
// earlier alert of the same finding exists (its severity rose).
func FromFinding(f *engine.Finding, update bool, version string, now time.Time) Alert {
	safe := func(s string) string { return output.SafeText([]byte(s)) }
	a := Alert{Timestamp: now.UTC(), ECS: ecs{ecsVersion}}
	a.Event = event{Kind: "alert", Category: []string{"network", "intrusion_detection"}, Type: []string{"info"},
		Action: "dns-tunnel-detected", Module: "dnsieve", Dataset: "dnsieve.finding", Severity: severityNumber[f.Severity],
		RiskScore: f.Score, Start: f.FirstSeen, End: f.LastSeen, Created: now.UTC(), ID: FindingID(f)}
	if update {
		a.Event.Action = "dns-tunnel-severity-raised"
	}
	if f.Verdict != "tunnel" {
		a.Event.Action = "dns-suspicious-domain"
	}
	a.Rule = rule{Name: "DNS tunnel or exfiltration (behavioural)", Category: "Command and Control"}
	a.Message = fmt.Sprintf("%s domain %s (%s severity, tool %s): %s", f.Verdict, safe(f.Domain), f.SeverityText, f.Tool,
		safe(strings.Join(firstN(f.Evidence, 3), "; ")))
	if len(f.Samples) > 0 {
		a.DNS.Question.Name = safe(f.Samples[0])
	} else {
		a.DNS.Question.Name = safe(f.Domain)
	}
	a.DNS.Question.RegisteredDomain = safe(f.RegisteredDomain)
	if name := a.DNS.Question.Name; strings.HasSuffix(name, "."+a.DNS.Question.RegisteredDomain) {
		a.DNS.Question.Subdomain = strings.TrimSuffix(name, "."+a.DNS.Question.RegisteredDomain)
	}
	if len(f.Clients) > 0 {
		a.Source.IP = f.Clients[0].Addr
	}
	for _, c := range firstN(f.Clients, 16) {
		a.Related.IP = append(a.Related.IP, c.Addr)
	}
	a.Related.Hosts = []string{safe(f.Domain)}
	// MITRE ATT&CK: Application Layer Protocol: DNS (T1071.004) for a
	// tunnel; Exfiltration Over Alternative Protocol (T1048) would also
	// apply to upload-only channels.
	a.Threat.Framework = "MITRE ATT&CK"
	a.Threat.Technique.ID, a.Threat.Technique.Name = "T1071.004", "Application Layer Protocol: DNS"
	if f.Tool != "" && f.Tool != "unknown" {
		a.Threat.Software.Name = f.Tool
	}
	a.Observer = observer{Product: "dnsieve", Vendor: "dnsieve", Version: version, Type: "ids"}
	a.Dnsieve = engineAlert{Domain: safe(f.Domain), Verdict: f.Verdict, Severity: f.SeverityText, Score: f.Score, Tool: f.Tool,
		Tools: f.Tools, Clients: len(f.Clients) + int(f.OtherClients), ClientsEstimated: f.Features.ClientsEstimated,
		Queries: f.Queries, UniqueNames: f.UniqueNames,
		BytesUp: f.BytesUp, BytesDown: f.BytesDown, Update: update}
	for _, e := range f.Evidence {
		a.Dnsieve.Evidence = append(a.Dnsieve.Evidence, safe(e))
	}
	for _, s := range firstN(f.Samples, 3) {
		a.Dnsieve.Samples = append(a.Dnsieve.Samples, safe(s))
	}
	return a
}

// FindingID names a finding stably across alerts and restarts: the
// registered domain and the packet time it was first seen.
func FindingID(f *engine.Finding) string {
	return "dnsieve-" + strings.ReplaceAll(output.SafeText([]byte(f.RegisteredDomain)), `\`, "_") + "-" + strconv.FormatInt(f.FirstSeen.UnixNano(), 36)
}

func firstN[T any](s []T, n int) []T {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Sink receives alert lines.
type Sink interface {
	WriteLine(line []byte) error
	Close() error
}

// Writer turns findings into alerts on a sink.
type Writer struct {
	mu      sync.Mutex
	sink    Sink
	version string
	now     func() time.Time
	seen    map[string]engine.Severity
	// Written counts alerts written, Errors failed writes.
	Written, Errors uint64
}

// NewWriter returns a Writer on sink.
func NewWriter(sink Sink, version string) *Writer {
	return &Writer{sink: sink, version: version, now: time.Now, seen: map[string]engine.Severity{}}
}

// Finding writes an alert for f unless one of at least its severity was
// already written for the same finding. It is safe for concurrent use.
func (w *Writer) Finding(f engine.Finding) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	id := FindingID(&f)
	prev, seen := w.seen[id]
	if !seen && f.Alerted > engine.SeverityNone {
		// Announced before this writer existed (a restored state).
		prev, seen = f.Alerted, true
	}
	if seen && f.Severity <= prev {
		return nil
	}
	w.seen[id] = f.Severity
	b, err := json.Marshal(FromFinding(&f, seen, w.version, w.now()))
	if err == nil {
		err = w.sink.WriteLine(b)
	}
	if err != nil {
		// Not written: forget it, so that the next report of the same
		// finding tries again (the sink may be back by then).
		if seen {
			w.seen[id] = prev
		} else {
			delete(w.seen, id)
		}
		w.Errors++
		return err
	}
	w.Written++
	return nil
}

// Close closes the sink.
func (w *Writer) Close() error { return w.sink.Close() }

// Open returns the sink named by spec:
//
//   - "stdout" (or "" or "-"): standard output.
//   - "file:PATH" or "file:PATH,SIZE_MB,KEEP": a file rotated at SIZE_MB
//     MiB (default 100) keeping KEEP old files (default 5).
//   - "syslog" or "syslog:TAG": the local syslog daemon (/dev/log).
//   - "syslog+udp:HOST:PORT[,TAG]": a remote collector over UDP.
//   - "syslog+tcp:HOST:PORT[,TAG]": a remote collector over TCP, one
//     record per line.
//   - "syslog+unix:PATH[,TAG]": a syslog daemon listening on the Unix
//     datagram socket PATH.
//
// Syslog records have facility daemon and severity warning (PRI 28),
// tag TAG (default "dnsieve"; 1 to 32 letters, digits, '.', '_', '-' or
// '/') and the alert's JSON as their message. The package README states
// the exact framing and size limits.
func Open(spec string, stdout io.Writer) (Sink, error) {
	switch {
	case spec == "" || spec == "stdout" || spec == "-":
		return &streamSink{w: stdout}, nil
	case spec == "syslog" || strings.HasPrefix(spec, "syslog:") || strings.HasPrefix(spec, "syslog+"):
		t, err := parseSyslogSpec(spec)
		if err != nil {
			return nil, err
		}
		w, err := dialSyslog(t.network, t.addr, syslogPriority, t.tag)
		if err != nil {
			return nil, fmt.Errorf("syslog: %w", err)
		}
		return &syslogSink{w: w}, nil
	case strings.HasPrefix(spec, "file:"):
		parts := strings.Split(strings.TrimPrefix(spec, "file:"), ",")
		r := &RotatingFile{Path: parts[0], MaxBytes: 100 << 20, Keep: 5}
		if len(parts) > 1 {
			mb, err := strconv.Atoi(parts[1])
			if err != nil || mb < 1 {
				return nil, fmt.Errorf("alert file size %q: want megabytes >= 1", parts[1])
			}
			r.MaxBytes = int64(mb) << 20
		}
		if len(parts) > 2 {
			k, err := strconv.Atoi(parts[2])
			if err != nil || k < 0 {
				return nil, fmt.Errorf("alert files kept %q: want a number >= 0", parts[2])
			}
			r.Keep = k
		}
		if err := r.open(); err != nil {
			return nil, err
		}
		return r, nil
	}
	return nil, unknownSpec(spec)
}

func unknownSpec(spec string) error {
	return fmt.Errorf("unknown alert output %q (stdout, file:PATH[,MB,KEEP], syslog[:TAG], "+
		"syslog+udp:HOST:PORT[,TAG], syslog+tcp:HOST:PORT[,TAG], syslog+unix:PATH[,TAG])", spec)
}

type streamSink struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *streamSink) WriteLine(b []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.w.Write(append(b, '\n'))
	return err
}

func (s *streamSink) Close() error { return nil }

// RotatingFile appends lines to Path and rotates it when it would exceed
// MaxBytes: Path becomes Path.1, Path.1 becomes Path.2, ..., keeping Keep
// old files.
type RotatingFile struct {
	Path     string
	MaxBytes int64
	Keep     int

	mu   sync.Mutex
	f    *os.File
	size int64
}

func (r *RotatingFile) open() error {
	if err := os.MkdirAll(filepath.Dir(r.Path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(r.Path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	r.f, r.size = f, fi.Size()
	return nil
}

// WriteLine appends one line, rotating first if needed.
func (r *RotatingFile) WriteLine(b []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		if err := r.open(); err != nil {
			return err
		}
	}
	if r.size > 0 && r.size+int64(len(b))+1 > r.MaxBytes {
		if err := r.rotate(); err != nil {
			return err
		}
	}
	n, err := r.f.Write(append(b, '\n'))
	r.size += int64(n)
	return err
}

func (r *RotatingFile) rotate() error {
	r.f.Close()
	r.f = nil
	if r.Keep == 0 {
		os.Remove(r.Path)
	} else {
		os.Remove(fmt.Sprintf("%s.%d", r.Path, r.Keep))
		for i := r.Keep - 1; i >= 1; i-- {
			os.Rename(fmt.Sprintf("%s.%d", r.Path, i), fmt.Sprintf("%s.%d", r.Path, i+1))
		}
		if err := os.Rename(r.Path, r.Path+".1"); err != nil {
			return err
		}
	}
	return r.open()
}

// Close closes the file.
func (r *RotatingFile) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}
