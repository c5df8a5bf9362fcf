package eval

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dnsieve/dnsieve/internal/config"
	"github.com/dnsieve/dnsieve/internal/engine"
	"github.com/dnsieve/dnsieve/internal/output"
	"github.com/dnsieve/dnsieve/internal/scan"
)

// alertLevels are the out.csv probabilities that count as an alert, as in
// score.py.
var alertLevels = map[string]bool{"100%": true, "high": true, "medium": true}

// TunnelResult is how one labelled tunnel domain fared.
type TunnelResult struct {
	Domain string `json:"domain"`
	Found  bool   `json:"found"`
	// Finding is the domain of the finding that covered it.
	Finding  string `json:"finding,omitempty"`
	Severity string `json:"severity,omitempty"`
	Tool     string `json:"tool,omitempty"`
	// AlertSeconds is the capture time from the domain's first packet to
	// the engine's first tunnel verdict; AlertLookups the lookups it took.
	AlertSeconds *float64 `json:"alert_seconds,omitempty"`
	AlertLookups uint64   `json:"alert_lookups,omitempty"`
}

// FileResult is the evaluation of one capture.
type FileResult struct {
	File            string `json:"file"`
	ExpectedVerdict string `json:"expected_verdict"`
	Tool            string `json:"tool,omitempty"`
	// Packet counts, as score.py counts them.
	TunnelPackets int            `json:"tunnel"`
	TunnelFlagged int            `json:"tunnel_flagged"`
	BenignPackets int            `json:"benign"`
	BenignFlagged int            `json:"benign_flagged"`
	Tunnels       []TunnelResult `json:"tunnels,omitempty"`
	ToolRight     bool           `json:"tool_right"`
	ToolsNamed    []string       `json:"tools_named,omitempty"`
	BenignDomains []string       `json:"benign_domains_flagged,omitempty"`
	Seconds       float64        `json:"seconds"`
	Error         string         `json:"error,omitempty"`
}

// Summary totals a run.
type Summary struct {
	Files                []FileResult `json:"files"`
	TunnelPackets        int          `json:"tunnel_packets"`
	TunnelFlagged        int          `json:"tunnel_flagged"`
	Recall               *float64     `json:"recall"`
	BenignPackets        int          `json:"benign_packets"`
	BenignFlagged        int          `json:"benign_flagged"`
	FPRate               *float64     `json:"fp_rate"`
	TunnelDomains        int          `json:"tunnel_domains"`
	TunnelDomainsFound   int          `json:"tunnel_domains_found"`
	ToolsRight           int          `json:"tools_right"`
	ToolsWrong           int          `json:"tools_wrong"`
	BenignDomainsFlagged int          `json:"benign_domains_flagged"`
	MissedTunnelFiles    []string     `json:"missed_tunnel_files"`
	Errors               int          `json:"errors"`
}

// Options configure an evaluation.
type Options struct {
	// Config is the detector configuration (its OutputDir is replaced).
	Config config.Config
	// WorkDir receives each capture's scan output (a temporary directory
	// when empty).
	WorkDir string
	// CacheDir caches tshark's ground truth (default: the user cache dir).
	CacheDir string
	// Progress, when set, receives a line per capture.
	Progress io.Writer
}

// Run evaluates every capture of the labels.
func Run(ctx context.Context, l *Labels, opt Options) (*Summary, error) {
	work := opt.WorkDir
	if work == "" {
		d, err := os.MkdirTemp("", "dnsieve-eval-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		work = d
	}
	cache := opt.CacheDir
	if cache == "" {
		if d, err := os.UserCacheDir(); err == nil {
			cache = filepath.Join(d, "dnsieve-truth")
		} else {
			cache = filepath.Join(work, "truth-cache")
		}
	}
	s := &Summary{}
	for i := range l.Files {
		if err := ctx.Err(); err != nil {
			return s, err
		}
		e := &l.Files[i]
		r := evalFile(ctx, e, opt.Config, filepath.Join(work, strconv.Itoa(i)), cache)
		if opt.Progress != nil {
			fmt.Fprintf(opt.Progress, "evaluated %s (%.1fs)\n", e.File, r.Seconds)
		}
		s.add(r)
	}
	return s, nil
}

func (s *Summary) add(r FileResult) {
	s.Files = append(s.Files, r)
	s.TunnelPackets += r.TunnelPackets
	s.TunnelFlagged += r.TunnelFlagged
	s.BenignPackets += r.BenignPackets
	s.BenignFlagged += r.BenignFlagged
	if s.TunnelPackets > 0 {
		v := round(float64(s.TunnelFlagged)/float64(s.TunnelPackets), 4)
		s.Recall = &v
	}
	if s.BenignPackets > 0 {
		v := round(float64(s.BenignFlagged)/float64(s.BenignPackets), 5)
		s.FPRate = &v
	}
	for _, t := range r.Tunnels {
		s.TunnelDomains++
		if t.Found {
			s.TunnelDomainsFound++
		}
	}
	if r.Tool != "" && r.ExpectedVerdict == "tunnel" {
		if r.ToolRight {
			s.ToolsRight++
		} else {
			s.ToolsWrong++
		}
	}
	s.BenignDomainsFlagged += len(r.BenignDomains)
	if r.TunnelPackets > 0 && r.TunnelFlagged == 0 {
		s.MissedTunnelFiles = append(s.MissedTunnelFiles, filepath.Base(r.File))
	}
	if r.Error != "" {
		s.Errors++
	}
}

func round(x float64, digits int) float64 {
	p := 1.0
	for i := 0; i < digits; i++ {
		p *= 10
	}
	return float64(int64(x*p+0.5)) / p
}

// evalFile scans one capture on its own and scores it.
func evalFile(ctx context.Context, e *Entry, cfg config.Config, out, cache string) FileResult {
	start := time.Now()
	r := FileResult{File: e.File, ExpectedVerdict: e.ExpectedVerdict, Tool: toolName(e.Tool)}
	fail := func(err error) FileResult {
		r.Error = err.Error()
		r.Seconds = time.Since(start).Seconds()
		return r
	}
	truth, err := LoadTruth(e.Path(), cache)
	if err != nil {
		return fail(err)
	}
	cfg.OutputDir = out
	cfg.IgnoreParsed, cfg.RenameParsed = false, false
	sum, err := scan.Run(ctx, scan.Options{Config: cfg, Paths: []string{e.Path()}, Quiet: true})
	if err != nil {
		return fail(err)
	}
	if sum.Failed > 0 {
		return fail(fmt.Errorf("%s could not be read to its end (see %s)", e.File, filepath.Join(out, scan.LogName)))
	}
	flagged, err := readFlags(filepath.Join(out, scan.CSVName))
	if err != nil {
		return fail(err)
	}
	for frame, q := range truth {
		alert := alertLevels[flagged[frame]]
		if e.IsTunnel(q) {
			r.TunnelPackets++
			if alert {
				r.TunnelFlagged++
			}
		} else {
			r.BenignPackets++
			if alert {
				r.BenignFlagged++
			}
		}
	}
	r.score(e, sum.Findings)
	r.Seconds = time.Since(start).Seconds()
	return r
}

// score judges the findings against the labelled tunnel domains.
func (r *FileResult) score(e *Entry, findings []engine.Finding) {
	alerting := func(f *engine.Finding) bool { return f.Severity >= engine.SeverityMedium }
	for _, d := range e.TunnelDomains {
		t := TunnelResult{Domain: d}
		for i := range findings {
			f := &findings[i]
			if !alerting(f) || !(coversName(f.Domain, d) || coversName(f.RegisteredDomain, d)) {
				continue
			}
			t.Found, t.Finding, t.Severity, t.Tool = true, f.Domain, f.SeverityText, f.Tool
			if !f.FirstAlert.IsZero() {
				s := f.FirstAlert.Sub(f.FirstSeen).Seconds()
				t.AlertSeconds, t.AlertLookups = &s, f.AlertLookups
			}
			break
		}
		r.Tunnels = append(r.Tunnels, t)
	}
	named := map[string]bool{}
	for i := range findings {
		f := &findings[i]
		if !alerting(f) {
			continue
		}
		tunnel := e.coversDomain(f.Domain) || e.coversDomain(f.RegisteredDomain) ||
			e.rx != nil && (e.rx.MatchString(f.Domain) || anyMatch(e, f.Samples)) ||
			e.RawTunnel && strings.HasPrefix(f.RegisteredDomain, "raw:")
		if !tunnel {
			r.BenignDomains = append(r.BenignDomains, output.SafeText([]byte(f.Domain)))
			continue
		}
		for _, t := range append([]string{f.Tool}, f.Tools...) {
			if t != "" && t != "unknown" && !named[t] {
				named[t] = true
				r.ToolsNamed = append(r.ToolsNamed, t)
			}
		}
	}
	// A pattern-labelled tunnel (no domain) is found when some alerting
	// finding matches it.
	if len(e.TunnelDomains) == 0 && e.rx != nil {
		t := TunnelResult{Domain: e.TunnelRegex}
		for i := range findings {
			f := &findings[i]
			if alerting(f) && anyMatch(e, f.Samples) {
				t.Found, t.Finding, t.Severity, t.Tool = true, f.Domain, f.SeverityText, f.Tool
				if !f.FirstAlert.IsZero() {
					s := f.FirstAlert.Sub(f.FirstSeen).Seconds()
					t.AlertSeconds, t.AlertLookups = &s, f.AlertLookups
				}
				break
			}
		}
		r.Tunnels = append(r.Tunnels, t)
	}
	r.ToolRight = r.Tool != "" && len(r.ToolsNamed) > 0 && r.ToolsNamed[0] == r.Tool
	if !r.ToolRight && r.Tool != "" {
		// Several tools in one finding (a shared test zone): right when
		// the labelled one is among them and is the first of its file's
		// findings.
		for _, t := range r.ToolsNamed {
			if t == r.Tool {
				r.ToolRight = true
			}
		}
	}
}

func anyMatch(e *Entry, names []string) bool {
	for _, n := range names {
		if e.rx.MatchString(strings.ToLower(n)) {
			return true
		}
	}
	return false
}

// coversName reports whether finding domain f names labelled domain d or
// a zone around it.
func coversName(f, d string) bool {
	f = strings.ToLower(f)
	return f == d || strings.HasSuffix(d, "."+f) || strings.HasSuffix(f, "."+d)
}

// readFlags reads out.csv into frame -> strongest probability.
func readFlags(path string) (map[uint64]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rank := map[string]int{"": 0, "low": 1, "medium": 2, "high": 3, "100%": 4}
	out := map[uint64]string{}
	r := output.NewCSVReader(f)
	for {
		row, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(row) < 4 || row[0] == "pcap_name" {
			continue
		}
		n, err := strconv.ParseUint(row[1], 10, 64)
		if err != nil {
			continue
		}
		p := strings.ToLower(strings.TrimSpace(row[2]))
		if rank[p] > rank[out[n]] {
			out[n] = p
		}
	}
}
