package scan

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dnsieve/dnsieve/internal/checks"
	"github.com/dnsieve/dnsieve/internal/config"
	"github.com/dnsieve/dnsieve/internal/engine"
	"github.com/dnsieve/dnsieve/internal/fingerprint"
	"github.com/dnsieve/dnsieve/internal/output"
	"github.com/dnsieve/dnsieve/internal/report"
)

// scannedFile is a capture of this run and its records' range in the spool.
type scannedFile struct {
	name     string
	stats    *output.FileStats
	from, to int
}

// domainRow is how out.csv reports the packets of a domain with a verdict.
type domainRow struct {
	level  checks.Level
	reason string
	// byTool, for a finding that names more than one tool, holds the
	// reason of a packet whose own protocol was recognised, by tool.
	byTool map[uint8]string
	// zone limits the rows to the names under the tunnel's own zone
	// (labels below the registered domain; "" for all its names), so that
	// ordinary names of the same registered domain are not reported as
	// tunnel traffic.
	zone string
	// tools is the set of the finding's tools (bit by fingerprint.Tool).
	tools uint32
	// shared: the zone is the whole registered domain and others use it
	// (engine.Finding.SharedDomain): only packets with evidence are rows.
	shared bool
}

// evidence reports whether a record of the row's domain outside its zone
// shows the tunnel of its own: data in its name (dataReasons), a tool's
// protocol, or the structure of one of the finding's tools (Cobalt
// Strike's check-ins and task queries are weak matches outside the zone
// of its stager's names).
func (d *domainRow) evidence(r *spoolRec) bool {
	if d.level < checks.High {
		return false
	}
	if r.reasons&dataReasons != 0 || r.strongTool() != 0 {
		return true
	}
	t := r.tool &^ weakTool
	return r.tool&weakTool != 0 && t < 32 && d.tools&(1<<t) != 0
}

// sharedEvidence reports whether a record of a shared domain's finding
// (engine.Finding.SharedDomain) shows the channel: a check that data in a
// name trips (long labels, entropy, a hex run, bytes that are not UTF-8),
// a tool's protocol, or the structure of one of the finding's tools. The
// domain's ordinary lookups trip none of them; its channel's packets
// nearly all do, at any severity of the finding.
func (d *domainRow) sharedEvidence(r *spoolRec) bool {
	if r.reasons&(dataReasons|checks.HexEncoding|checks.NotUTF8) != 0 || r.strongTool() != 0 {
		return true
	}
	t := r.tool &^ weakTool
	return r.tool&weakTool != 0 && t < 32 && d.tools&(1<<t) != 0
}

// dataReasons are the checks that data in a name trips (long labels, high
// entropy): a tunnel domain's packet outside the tunnel's zone that trips
// them is listed with the tunnel's. Rare symbols and invalid UTF-8 alone
// are typos and local names as often ("my host", "café").
const dataReasons = checks.LongLabel | checks.HighEntropy

// writeCSV writes out.csv from the spool: every packet of a domain judged
// a tunnel (high, or 100% where the tool's protocol was recognised) that
// lies in the tunnel's zone or shows evidence of its own (a check for
// encoded data fired, or a tool's protocol: a second session whose names
// end in a session label of their own lies outside the zone of the first;
// in a shared domain, engine.Finding.SharedDomain, only those that show
// the channel, sharedEvidence),
// every
// other packet that a per-message check flagged (with the check's level),
// and, at low, the remaining packets of domains judged suspicious. It sets
// each file's malicious_packets_count and returns the number of rows.
//
// With the engine on, the per-message checks are evidence, not verdicts:
// a check row of a packet whose domain the engine did not judge a tunnel
// is written at most "low", so that alerts (medium and above) mean the
// engine found a tunnel. checksOnly keeps the checks' own levels, as the
// old tool wrote them.
func writeCSV(path string, sp *spool, files []scannedFile, findings []engine.Finding, checksOnly bool) (uint64, error) {
	rows := map[uint32]domainRow{}
	for i := range findings {
		f := &findings[i]
		zone := output.SafeText([]byte(f.Domain))
		switch f.Verdict {
		case "tunnel":
			tools := f.Tool
			if len(f.Tools) > 1 {
				tools = strings.Join(f.Tools, ", ")
			}
			r := domainRow{level: checks.High, reason: "tunnel domain " + zone + " (" + tools + ")",
				zone: strings.TrimSuffix(strings.TrimSuffix(f.Domain, f.RegisteredDomain), "."), shared: f.SharedDomain}
			if len(f.Tools) > 1 {
				r.byTool = map[uint8]string{}
				for _, name := range f.Tools {
					if t, ok := fingerprint.ParseTool(name); ok {
						r.byTool[uint8(t)] = "tunnel domain " + zone + " (" + name + ")"
					}
				}
			}
			if f.ToolRecognised {
				r.level = checks.Certain
			}
			for _, name := range f.Tools {
				if t, ok := fingerprint.ParseTool(name); ok && t < 32 {
					r.tools |= 1 << t
				}
			}
			rows[f.ID] = r
		case "suspicious":
			rows[f.ID] = domainRow{level: checks.Low, reason: "suspicious domain " + zone, shared: f.SharedDomain}
		}
	}
	out, err := output.CreateAtomic(path)
	if err != nil {
		return 0, err
	}
	defer out.Abort()
	w := output.NewCSVWriter(out)
	w.WriteRow(output.CSVHeader...)
	var reasons [32]string
	for i := range reasons {
		reasons[i] = checks.Reason(i).String()
	}

	var total uint64
	fi := 0
	var cur spoolRec
	var curLevel checks.Level
	var curReason string
	have := false
	flush := func() {
		if !have || curLevel == checks.None {
			have = false
			return
		}
		w.WriteFlag(files[fi].name, cur.frame, curLevel.String(), curReason)
		files[fi].stats.MaliciousPacketsCount++
		total++
		have = false
	}
	err = sp.each(func(i int, r spoolRec) error {
		for fi < len(files) && i >= files[fi].to {
			flush()
			fi++
		}
		if fi >= len(files) {
			return fmt.Errorf("spool record %d beyond the last file", i)
		}
		level, reason := r.level, reasons[r.reasons&31]
		if d, ok := rows[r.domain]; ok && r.domain != 0 && (d.shared && d.sharedEvidence(&r) || !d.shared && (underZone(r, d.zone) || d.evidence(&r))) {
			if text, ok := d.byTool[r.strongTool()]; ok {
				d.reason = text
			}
			switch {
			case d.level >= checks.High:
				if level > d.level {
					d.level = level
				}
				if r.level != checks.None {
					reason = d.reason + "; " + reason
				} else {
					reason = d.reason
				}
				level = d.level
			case level == checks.None:
				level, reason = d.level, d.reason
			case level > checks.Low:
				level = checks.Low
			}
		} else if !checksOnly && level > checks.Low {
			level = checks.Low
		}
		if have && r.frame == cur.frame {
			if level > curLevel {
				curLevel, curReason = level, reason
			}
			return nil
		}
		flush()
		cur, curLevel, curReason, have = r, level, reason, true
		return nil
	})
	flush()
	if err != nil {
		return total, err
	}
	if err := out.Commit(); err != nil {
		return total, err
	}
	return total, nil
}

// WriteFindings writes findings.jsonl (one JSON object per finding) and
// domains.csv (the same, one row per finding, in out.csv's dialect).
func WriteFindings(dir string, findings []engine.Finding) error {
	jf, err := output.CreateAtomic(filepath.Join(dir, FindingsName))
	if err != nil {
		return err
	}
	defer jf.Abort()
	cf, err := output.CreateAtomic(filepath.Join(dir, DomainsName))
	if err != nil {
		return err
	}
	defer cf.Abort()
	cw := output.NewCSVWriter(cf)
	cw.WriteRow("domain", "registered_domain", "verdict", "severity", "score", "tool", "tools", "clients", "first_seen", "last_seen",
		"queries", "unique_names", "bytes_up", "bytes_down", "pcaps", "evidence")
	enc := json.NewEncoder(jf)
	enc.SetEscapeHTML(true)
	for i := range findings {
		f := findings[i] // a copy: names are made safe for output
		f.Domain = output.SafeText([]byte(f.Domain))
		f.RegisteredDomain = output.SafeText([]byte(f.RegisteredDomain))
		f.Samples = safeAll(f.Samples)
		f.Evidence = safeAll(f.Evidence)
		f.Pcaps = safeAll(f.Pcaps)
		if err := enc.Encode(&f); err != nil {
			return err
		}
		// The clients that used the channel: hosts that only looked up
		// other names of the registered domain are in findings.jsonl.
		clients := make([]string, 0, len(f.Clients))
		for _, c := range f.Clients {
			if c.UsesChannel {
				clients = append(clients, c.Addr)
			}
		}
		cw.WriteRow(f.Domain, f.RegisteredDomain, f.Verdict, f.SeverityText, strconv.FormatFloat(f.Score, 'f', 3, 64), f.Tool, strings.Join(f.Tools, " "),
			strings.Join(clients, " "), f.FirstSeen.Format(time.RFC3339Nano), f.LastSeen.Format(time.RFC3339Nano),
			strconv.FormatUint(f.Queries, 10), strconv.FormatUint(f.UniqueNames, 10),
			strconv.FormatUint(f.BytesUp, 10), strconv.FormatUint(f.BytesDown, 10),
			strings.Join(f.Pcaps, ", "), strings.Join(f.Evidence, "; "))
	}
	if err := jf.Commit(); err != nil {
		return err
	}
	return cf.Commit()
}

func safeAll(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = output.SafeText([]byte(s))
	}
	return out
}

// ReportInput is what the report of a run shows.
func ReportInput(cfg config.Config, version string, sum *Summary) *report.Input {
	c := [][2]string{
		{"output_dir", cfg.OutputDir},
		{"engine", map[bool]string{true: "off (per-message checks only)", false: "on"}[cfg.ChecksOnly]},
		{"engine max_memory", fmt.Sprintf("%d MiB", engineMemory(cfg)>>20)},
		{"dns_ports", fmt.Sprint(cfg.DNSPorts)},
		{"max_label_length", strconv.Itoa(cfg.Checks.MaxLabelLen)},
		{"max_entropy", strconv.FormatFloat(cfg.Checks.MaxEntropy, 'f', -1, 64)},
		{"min_hex_run", strconv.Itoa(cfg.Checks.MinHexRun)},
		{"allowlist", map[bool]string{true: cfg.Allowlist, false: "disabled"}[cfg.EnableAllowlist]},
		{"recursive", strconv.FormatBool(cfg.Recursive)},
		{"ignore_parsed_pcaps", strconv.FormatBool(cfg.IgnoreParsed)},
	}
	return &report.Input{Version: version, Generated: time.Now().UTC(), OutputDir: sum.OutputDir, Config: c,
		Captures: sum.Captures, Totals: sum.Totals, Findings: sum.Findings, TopByQueries: sum.TopByQueries,
		TopByUnique: sum.TopByUnique, LengthBackground: sum.LengthBackground, ChecksOnly: cfg.ChecksOnly, Kept: sum.Kept,
		Deeper: sum.Deeper}
}

// engineMemory is the engine's memory cap in force.
func engineMemory(cfg config.Config) int64 {
	if cfg.Engine.MaxMemory > 0 {
		return cfg.Engine.MaxMemory
	}
	return engine.DefaultMaxMemory
}

// writeReport writes report.html.
func writeReport(cfg config.Config, version string, sum *Summary) error {
	f, err := output.CreateAtomic(filepath.Join(cfg.OutputDir, ReportName))
	if err != nil {
		return err
	}
	defer f.Abort()
	if err := report.HTML(f, ReportInput(cfg, version, sum)); err != nil {
		return err
	}
	return f.Commit()
}
