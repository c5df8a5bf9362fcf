package scan

import (
	"context"
	"errors"
	"fmt"
	"github.com/dnsieve/dnsieve/internal/analyze"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dnsieve/dnsieve/internal/allowlist"
	"github.com/dnsieve/dnsieve/internal/capture"
	"github.com/dnsieve/dnsieve/internal/config"
	"github.com/dnsieve/dnsieve/internal/engine"
	"github.com/dnsieve/dnsieve/internal/output"
)

// Output file names: the old tool's three, and the engine's two.
const (
	CSVName      = "out.csv"
	StatsName    = "stats.json"
	LogName      = "out.log"
	FindingsName = "findings.jsonl"
	DomainsName  = "domains.csv"
	ReportName   = "report.html"
)

// Options configure one run.
type Options struct {
	// Config is the configuration after flags were applied.
	Config config.Config
	// Paths are the files and directories to scan; when empty,
	// Config.PcapDir is scanned.
	Paths []string
	// Workers is the number of decoding goroutines (0: DefaultWorkers).
	Workers int
	// Stderr receives log lines and the progress display; nil discards.
	Stderr io.Writer
	// Terminal draws a progress bar on Stderr; otherwise progress is
	// logged every ProgressEvery.
	Terminal bool
	// Quiet suppresses progress and informational log lines on Stderr
	// (warnings and errors still appear; out.log has everything).
	Quiet bool
	// Verbose prints informational log lines on Stderr even with a
	// progress bar (Terminal), which otherwise shows warnings and errors
	// only. Quiet wins.
	Verbose bool
	// ProgressEvery is the interval of progress log lines (default 10 s).
	ProgressEvery time.Duration
	// Version is written to stats.json.
	Version string
	// Warnings are said before the run (the config file's unknown keys):
	// they are written to out.log too.
	Warnings []string
	// HeapProfile, when set, is called once every capture has been
	// scanned, while the engine still holds its state (the run's largest
	// heap), to write a heap profile.
	HeapProfile func()
}

// Summary is what a run did.
type Summary struct {
	OutputDir string
	Files     int // captures scanned (fully or up to damage)
	Failed    int // captures that could not be read to their end
	Skipped   int // captures skipped as already processed
	Packets   uint64
	Flagged   uint64
	Duration  time.Duration
	// Findings are the engine's verdicts, most severe first.
	Findings []engine.Finding
	// Captures are the captures scanned, with their statistics, in order.
	Captures []output.NamedStats
	// Totals are stats.json's run-wide values.
	Totals output.Totals
	// TopByQueries and TopByUnique are the busiest domains, for context.
	TopByQueries, TopByUnique []engine.Volume
	// LengthBackground is the histogram of distinct subdomain lengths over
	// all domains (buckets of 16 bytes).
	LengthBackground []uint64
	// Kept is true when every input had been processed before and the
	// results already in the output directory were left as they were.
	Kept bool
	// Deeper is true when a run without --recursive found no capture
	// but the inputs' subdirectories hold some.
	Deeper bool
}

// maxHintEntries bounds the directory entries looked at to tell whether
// --recursive would have found captures.
const maxHintEntries = 100000

// ExitCode is 0 when every input was read, 1 when some could not be.
func (s Summary) ExitCode() int {
	if s.Failed > 0 {
		return 1
	}
	return 0
}

// ConfigError is an error in the run's settings found before any capture
// is read: the allowlist, the output directory. Callers report it as bad
// configuration (exit status 2), not as a capture that could not be read.
type ConfigError struct{ Err error }

// Error returns the underlying error's text.
func (e *ConfigError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *ConfigError) Unwrap() error { return e.Err }

// ErrNoInput is returned when there is nothing to scan.
var ErrNoInput = errors.New("no input: give capture files or directories, or set pcap_dir in config.ini")

// Run scans the inputs and writes the output files. An error is returned
// only when the run cannot start or its outputs cannot be written; broken
// captures are reported in the log and in stats.json and the run goes on.
func Run(ctx context.Context, opt Options) (Summary, error) {
	cfg := opt.Config
	sum := Summary{OutputDir: cfg.OutputDir}
	paths := opt.Paths
	if len(paths) == 0 {
		if cfg.PcapDir == "" {
			return sum, ErrNoInput
		}
		paths = []string{cfg.PcapDir}
	}
	var allow *allowlist.List
	if cfg.EnableAllowlist {
		if cfg.Allowlist == "" {
			return sum, &ConfigError{errors.New("the allowlist is enabled but no whitelist file is set")}
		}
		var err error
		if allow, err = allowlist.Load(cfg.Allowlist); err != nil {
			return sum, &ConfigError{fmt.Errorf("allowlist: %w", err)}
		}
	}
	if err := os.MkdirAll(cfg.OutputDir, 0o755); err != nil {
		return sum, &ConfigError{fmt.Errorf("output directory: %w", err)}
	}

	logFile, err := os.Create(filepath.Join(cfg.OutputDir, LogName))
	if err != nil {
		return sum, &ConfigError{fmt.Errorf("output directory: %w", err)}
	}
	defer logFile.Close()
	if opt.Terminal && opt.Stderr != nil {
		// Log lines and the progress bar share the terminal's line.
		opt.Stderr = &barWriter{w: opt.Stderr}
	}
	log := newLogger(logFile, opt.Stderr, !opt.Quiet && (opt.Verbose || !opt.Terminal))

	start := time.Now()
	log.Info("scan started", "version", opt.Version, "output_dir", cfg.OutputDir, "inputs", strings.Join(paths, " "))
	if len(opt.Warnings) > 0 {
		// Already on stderr: to the file alone.
		fileLog := newLogger(logFile, nil, false)
		for _, w := range opt.Warnings {
			fileLog.Warn("configuration", "warning", w)
		}
	}
	if allow != nil {
		log.Info("allowlist loaded", "file", cfg.Allowlist, "entries", allow.Len())
	}

	files, walkErrs := capture.Walk(paths, cfg.Recursive)
	var inputErrs []string
	for _, e := range walkErrs {
		log.Error("input not readable", "error", e)
		inputErrs = append(inputErrs, e.Error())
		sum.Failed++
	}
	if len(files) == 0 && !cfg.Recursive && capture.CaptureInSubdirectories(paths, maxHintEntries) {
		// A corpus kept in one directory per source is common: say that
		// --recursive would find captures rather than report an empty
		// run alone.
		sum.Deeper = true
		log.Warn("no capture file directly in the inputs; their subdirectories hold some: add --recursive (-r)")
	}

	st, err := loadState(cfg.OutputDir)
	if err != nil {
		log.Warn("state file", "error", err)
	}

	// Decide what to scan.
	type job struct {
		path, abs string
		info      os.FileInfo
	}
	var jobs []job
	var totalBytes int64
	for _, p := range files {
		abs, err := filepath.Abs(p)
		if err != nil {
			abs = p
		}
		fi, err := os.Stat(p)
		if err != nil {
			log.Error("input not readable", "file", p, "error", err)
			inputErrs = append(inputErrs, err.Error())
			sum.Failed++
			continue
		}
		if cfg.IgnoreParsed {
			if cfg.RenameParsed && isParsedName(p) {
				log.Info("skipped: renamed as parsed by an earlier run", "file", p)
				sum.Skipped++
				continue
			}
			seen, err := st.seen(abs, fi)
			if err != nil {
				log.Warn("could not check the state of a capture; scanning it", "file", p, "error", err)
			}
			if seen {
				log.Info("skipped: already processed (ignore_parsed_pcaps)", "file", p)
				sum.Skipped++
				continue
			}
		}
		jobs = append(jobs, job{p, abs, fi})
		totalBytes += fi.Size()
	}
	if len(jobs) == 0 && sum.Skipped > 0 && sum.Failed == 0 {
		// Every input was processed before (ignore_parsed_pcaps): the
		// results of that run stay. A job re-run over the same directory
		// must not replace its findings with empty ones.
		if kept := earlierResults(cfg.OutputDir); len(kept) > 0 {
			log.Info("nothing new to scan: the results already in the output directory are kept",
				"skipped", sum.Skipped, "kept", strings.Join(kept, ", "))
			sum.Kept = true
			sum.Totals = output.Totals{FilesSkipped: sum.Skipped, Version: opt.Version}
			log.Info("scan finished", "files", 0, "failed", 0, "skipped", sum.Skipped, "packets", 0, "flagged", 0)
			return sum, nil
		}
	}

	workers := DefaultWorkers(opt.Workers, cfg.ChecksOnly)
	prog := &progress{}
	stopProgress := startProgress(opt, log, prog, totalBytes, len(jobs))

	eng := engine.New(cfg.Engine)
	sp := newSpool(cfg.OutputDir, spoolMemRecords)
	defer sp.close()
	ports := analyze.NewPortSet(cfg.DNSPorts)
	var hasher engine.Hasher // no engine, no hashes for it
	if !cfg.ChecksOnly {
		hasher = eng.Hasher()
	}
	newAnalyzer := func() *analyze.Analyzer {
		return analyze.New(analyze.Config{Checks: &cfg.Checks, Allow: allow, Ports: ports, Hasher: hasher})
	}
	fsc := newFileScanner(ctx, workers, newAnalyzer, eng, sp, prog)
	fsc.checksOnly = cfg.ChecksOnly

	keys := statsKeys(func() []string {
		ps := make([]string, len(jobs))
		for i, j := range jobs {
			ps[i] = j.path
		}
		return ps
	}())
	var named []output.NamedStats
	var scanned []scannedFile
	for i, j := range jobs {
		if ctx.Err() != nil {
			log.Warn("interrupted: the remaining captures are not scanned", "remaining", len(jobs)-i)
			break
		}
		from := sp.len()
		fstats, digest := scanOne(fsc, j.path, len(scanned), cfg.IgnoreParsed, log)
		fstats.Path = j.abs
		fstats.Bytes = j.info.Size()
		named = append(named, output.NamedStats{Name: keys[i], Stats: fstats})
		scanned = append(scanned, scannedFile{name: filepath.Base(j.path), stats: fstats, from: from, to: sp.len()})
		prog.bytesDone.Add(j.info.Size())
		prog.bytesFile.Store(0)
		sum.Files++
		sum.Packets += fstats.PacketsCount
		if !fstats.Complete {
			sum.Failed++
			continue
		}
		if ctx.Err() != nil {
			continue // interrupted inside the file: not complete for the state either
		}
		rec := processedFile{Path: j.abs, Size: j.info.Size(), ModTime: j.info.ModTime(), ScannedAt: time.Now().UTC()}
		if cfg.IgnoreParsed {
			rec.SHA256 = digestOrHash(digest, j.path)
		}
		if cfg.RenameParsed {
			if dst, err := renameParsed(j.path); err != nil {
				log.Error("could not rename the processed capture", "file", j.path, "error", err)
			} else {
				log.Info("renamed processed capture", "file", j.path, "to", dst)
				if a, err := filepath.Abs(dst); err == nil {
					rec.Path = a
				}
			}
		}
		st.record(rec)
	}
	stopProgress()

	// Verdicts, then every output: nothing computed is lost even if a
	// later step fails.
	if opt.HeapProfile != nil {
		opt.HeapProfile()
	}
	findings := eng.Findings()
	es := eng.Stats()
	if es.Evictions > 0 {
		log.Warn("engine memory cap reached: least recently seen domains were evicted", "evictions", es.Evictions,
			"evicted_active", es.EvictedActive, "max_memory_mb", engineMemory(cfg)>>20)
	}
	names := make([]string, len(scanned))
	for i, f := range scanned {
		names[i] = f.name
	}
	for i := range findings {
		for _, f := range findings[i].Files {
			findings[i].Pcaps = append(findings[i].Pcaps, names[f])
		}
	}
	var firstErr error
	keep := func(err error) {
		if err != nil {
			log.Error("writing results", "error", err)
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	flagged, err := writeCSV(filepath.Join(cfg.OutputDir, CSVName), sp, scanned, findings, cfg.ChecksOnly)
	keep(err)
	sum.Flagged = flagged
	keep(WriteFindings(cfg.OutputDir, findings))
	for _, f := range findings {
		log.Info("finding", "domain", output.SafeText([]byte(f.Domain)), "verdict", f.Verdict, "severity", f.SeverityText,
			"tool", f.Tool, "score", f.Score, "queries", f.Queries, "unique_names", f.UniqueNames, "clients", len(f.Clients))
	}
	sum.Findings = findings

	var tot output.Totals
	for _, f := range scanned {
		addTotals(&tot, f.stats)
	}
	sum.Duration = time.Since(start)
	tot.TotalTime = sum.Duration.Seconds()
	if tot.TotalTime > 0 {
		tot.PacketsPerSecond = float64(tot.TotalPackets) / tot.TotalTime
	}
	tot.FilesScanned = sum.Files
	tot.FilesFailed = sum.Failed
	tot.FilesSkipped = sum.Skipped
	tot.InputErrors = inputErrs
	tot.TotalErrors += uint64(len(inputErrs))
	tot.Version = opt.Version
	tot.Findings = map[string]int{"high": 0, "medium": 0, "low": 0}
	for _, f := range findings {
		tot.Findings[f.SeverityText]++
	}
	tot.Engine = es
	sum.Captures, sum.Totals = named, tot
	sum.TopByQueries, sum.TopByUnique = eng.TopDomains(20)
	sum.LengthBackground = eng.LengthHistogram()
	statsJSON, err := output.MarshalStats(named, tot)
	keep(err)
	if err == nil {
		keep(output.WriteFileAtomic(filepath.Join(cfg.OutputDir, StatsName), statsJSON))
	}
	keep(st.save(cfg.OutputDir))
	keep(writeReport(cfg, opt.Version, &sum))
	log.Info("scan finished", "files", sum.Files, "failed", sum.Failed, "skipped", sum.Skipped,
		"packets", sum.Packets, "flagged", sum.Flagged, "seconds", fmt.Sprintf("%.3f", tot.TotalTime),
		"packets_per_second", fmt.Sprintf("%.0f", tot.PacketsPerSecond))
	return sum, firstErr
}

// scanOne opens and scans one capture, logging what went wrong. With
// digest, it also returns the hex SHA-256 of the file's bytes, computed
// while they were read, or "" when the file was not read to its end.
func scanOne(fsc *fileScanner, path string, file int, digest bool, log *slog.Logger) (*output.FileStats, string) {
	var opts []capture.Option
	if digest {
		opts = append(opts, capture.WithSHA256())
	}
	r, err := capture.Open(path, opts...)
	if err != nil {
		log.Error("capture not readable", "file", path, "error", err)
		return &output.FileStats{Format: "unknown", Errors: []string{err.Error()}}, ""
	}
	defer r.Close()
	res := fsc.scan(r, file)
	sum := readerDigest(r)
	if res.readErr != nil {
		log.Error("capture damaged: analysed up to the damage", "file", path, "error", res.readErr,
			"packets_read", res.stats.PacketsCount)
	}
	log.Info("capture scanned", "file", path, "format", res.stats.Format, "packets", res.stats.PacketsCount,
		"dns_messages", res.stats.DNSMessages, "malformed", res.stats.Malformed, "fragments", res.stats.Fragments)
	return &res.stats, sum
}

func addTotals(t *output.Totals, f *output.FileStats) {
	t.TotalPackets += f.PacketsCount
	t.TotalMaliciousPackets += f.MaliciousPacketsCount
	t.TotalDNSMessages += f.DNSMessages
	t.TotalQueries += f.Queries
	t.TotalResponses += f.Responses
	t.TotalMalformed += f.Malformed
	t.TotalSkipped += f.Skipped
	t.TotalFragments += f.Fragments
	t.TotalErrors += uint64(len(f.Errors))
}

// statsKeys names each capture in stats.json by its base name, as the old
// tool did, or by its path where two captures share a base name.
func statsKeys(paths []string) []string {
	count := map[string]int{}
	for _, p := range paths {
		count[filepath.Base(p)]++
	}
	keys := make([]string, len(paths))
	for i, p := range paths {
		keys[i] = filepath.Base(p)
		if count[keys[i]] > 1 {
			keys[i] = p
		}
	}
	return keys
}

// captureExt returns the capture extension of a name (".pcap", ".pcap.gz",
// ...), or "" when it has none.
func captureExt(name string) string {
	low := strings.ToLower(name)
	for _, c := range []string{".gz", ".zst", ""} {
		for _, e := range []string{".pcapng", ".pcap", ".cap"} {
			if strings.HasSuffix(low, e+c) {
				return name[len(name)-len(e+c):]
			}
		}
	}
	return ""
}

// isParsedName reports whether a capture was renamed by --rename-parsed.
func isParsedName(path string) bool {
	base := filepath.Base(path)
	return strings.HasSuffix(base[:len(base)-len(captureExt(base))], "_parsed")
}

// renameParsed renames x.pcap to x_parsed.pcap (x.pcap.gz to
// x_parsed.pcap.gz), as the old tool did, refusing to overwrite.
func renameParsed(path string) (string, error) {
	ext := captureExt(path)
	dst := path[:len(path)-len(ext)] + "_parsed" + ext
	if _, err := os.Lstat(dst); err == nil {
		return "", fmt.Errorf("%s already exists", dst)
	}
	return dst, os.Rename(path, dst)
}

// earlierResults returns the result files of an earlier run present in
// dir (out.log is this run's own).
func earlierResults(dir string) []string {
	var kept []string
	for _, name := range []string{CSVName, StatsName, FindingsName, DomainsName, ReportName} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err == nil && fi.Mode().IsRegular() {
			kept = append(kept, name)
		}
	}
	return kept
}
