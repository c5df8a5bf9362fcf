package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"syscall"

	"golang.org/x/term"

	"github.com/dnsieve/dnsieve/internal/config"
	"github.com/dnsieve/dnsieve/internal/report"
	"github.com/dnsieve/dnsieve/internal/scan"
)

const scanUsage = `Usage: dnsieve scan [flags] [PATH...]

Reads every capture given (files and directories, in any mix) and writes to
the output directory:
  report.html         the report: findings with their evidence, for a browser
  findings.jsonl      every finding with its evidence, one JSON object a line
  domains.csv         every finding, one row each
  out.csv             one row per flagged packet: pcap_name|packet_number|probability|reason
  stats.json          per-file and total counts
  out.log             the run's log
  dnsieve-state.json  the captures processed (for --ignore-parsed)
When --ignore-parsed skips every input, the results already in the output
directory are left as they are.
Captures are recognised by content (pcap or pcapng, optionally gzip or zstd
compressed); in a directory, files named *.pcap, *.pcapng, *.cap (optionally
.gz or .zst) are read. With no PATH, pcap_dir from the config is scanned.
config.ini is read from --config or the working directory; flags override it.

Exit status: 0 every input was read, 1 some could not be (see out.log and
stats.json), 2 bad usage or configuration.

Flags:
`

const scanExamples = `
Examples:
  dnsieve scan capture.pcapng
  dnsieve scan -o results --recursive /data/pcaps
  dnsieve scan --config /etc/dnsieve/config.ini --quiet
  dnsieve scan --allowlist allow.txt --ports 53,5353 a.pcap b.pcap.gz
`

// scanFlags are the flags of `dnsieve scan`.
type scanFlags struct {
	output, configFile, allowlist, ports, cpuProfile, memProfile, model string
	quiet, verbose, recursive, noAllowlist, ignoreParsed                bool
	renameParsed, noProgress, checksOnly                                bool
	workers, maxLabel, minHex                                           int
	maxEntropy                                                          float64
}

func runScan(args []string, stdout, stderr io.Writer) int {
	var f scanFlags
	fl := flag.NewFlagSet("scan", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.StringVar(&f.output, "output", "", "write results to `DIR` (default: output_dir from the config, else ./output)")
	fl.StringVar(&f.output, "o", "", "short for --output `DIR`")
	fl.BoolVar(&f.quiet, "quiet", false, "no progress display or informational messages (warnings and errors still print)")
	fl.BoolVar(&f.quiet, "q", false, "short for --quiet")
	fl.BoolVar(&f.verbose, "verbose", false, "print informational log lines (each capture, each finding) beside the progress bar; without a terminal they always print (unless --quiet)")
	fl.BoolVar(&f.verbose, "v", false, "short for --verbose")
	fl.StringVar(&f.configFile, "config", "", "read the configuration from `FILE` (default: ./config.ini when present)")
	fl.BoolVar(&f.recursive, "recursive", false, "descend into subdirectories of input directories")
	fl.BoolVar(&f.recursive, "r", false, "short for --recursive")
	fl.StringVar(&f.allowlist, "allowlist", "", "allowlist `FILE` (one domain a line, *.domain wildcards); enables the allowlist")
	fl.BoolVar(&f.noAllowlist, "no-allowlist", false, "disable the allowlist even if the config enables it")
	fl.BoolVar(&f.ignoreParsed, "ignore-parsed", false, "skip captures already processed into this output directory (ignore_parsed_pcaps): the same path, size and time, or the same bytes (SHA-256, taken only in runs with this setting)")
	fl.BoolVar(&f.renameParsed, "rename-parsed", false, "rename each processed capture to NAME_parsed.EXT, as the old tool did")
	fl.StringVar(&f.ports, "ports", "", "UDP/TCP `PORTS` decoded as DNS, comma-separated (default 53)")
	fl.IntVar(&f.workers, "workers", 0, "run `N` decoding goroutines (default: number of CPUs less one, for the engine's collector, at least 1; with --checks-only, number of CPUs)")
	fl.Func("max-label-length", "flag labels longer than `N` bytes (default 40; 0 disables)", intFlag(&f.maxLabel))
	fl.Func("max-entropy", "flag names whose Shannon entropy exceeds `BITS` per byte (default 4.5; 0 disables)", func(v string) error {
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || x < 0 || x > 8 {
			return errors.New("want a number from 0 to 8")
		}
		f.maxEntropy = x
		return nil
	})
	fl.Func("min-hex-run", "flag names with a run of `N` or more hex digits (default 20; 0 disables)", intFlag(&f.minHex))
	fl.BoolVar(&f.noProgress, "no-progress", false, "no progress bar even on a terminal")
	fl.BoolVar(&f.checksOnly, "checks-only", false, "turn the behavioural engine off: out.csv holds only the per-message checks, at their own levels (the old tool's output)")
	fl.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile to `FILE`")
	fl.StringVar(&f.memProfile, "memprofile", "", "write a heap profile to `FILE` once every capture is scanned (the engine's state at its largest)")
	fl.StringVar(&f.model, "model", "", "how verdicts are decided: `MODEL` builtin (the learned model, default), rules (hand-set points) or a model file from dnsieve train")
	setUsage(fl, scanUsage, scanExamples)
	var paths []string
	if code, done := parseWith(fl, args, stdout, stderr, func(args []string) (err error) {
		paths, err = parseInterspersed(fl, args)
		return err
	}); done {
		return code
	}

	var warnings []string
	cfg, err := loadConfigWarnings(f.configFile, stderr, &warnings)
	if err != nil {
		fmt.Fprintln(stderr, "dnsieve scan:", err)
		return 2
	}
	if err := applyScanFlags(&cfg, fl, &f); err != nil {
		fmt.Fprintln(stderr, "dnsieve scan:", err)
		return 2
	}

	setMemoryLimit(cfg, scan.ExtraPipelineBytes(f.workers, cfg.ChecksOnly))
	if f.cpuProfile != "" {
		pf, err := os.Create(f.cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "dnsieve scan:", err)
			return 2
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			fmt.Fprintln(stderr, "dnsieve scan:", err)
			return 2
		}
		defer pprof.StopCPUProfile()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	terminal := false
	if fd, ok := stderr.(*os.File); ok {
		terminal = term.IsTerminal(int(fd.Fd())) && !f.noProgress
	}
	sum, err := scan.Run(ctx, scan.Options{
		Config:   cfg,
		Paths:    paths,
		Workers:  f.workers,
		Stderr:   stderr,
		Terminal: terminal,
		Verbose:  f.verbose,
		Quiet:    f.quiet,
		Version:  version,
		Warnings: warnings,
		HeapProfile: func() {
			if f.memProfile == "" {
				return
			}
			runtime.GC() // up-to-date live heap
			if err := writeHeapProfile(f.memProfile); err != nil {
				fmt.Fprintln(stderr, "dnsieve scan:", err)
			}
		},
	})
	if errors.Is(err, scan.ErrNoInput) {
		return usageError(fl, stderr, err.Error())
	}
	var bad *scan.ConfigError
	if errors.As(err, &bad) {
		fmt.Fprintln(stderr, "dnsieve scan:", err)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "dnsieve scan:", err)
		return 1
	}
	if !f.quiet {
		color := false
		if fd, ok := stdout.(*os.File); ok {
			color = term.IsTerminal(int(fd.Fd())) && os.Getenv("NO_COLOR") == ""
		}
		report.Terminal(stdout, scan.ReportInput(cfg, version, &sum), color)
	}
	return sum.ExitCode()
}

// parseInterspersed parses flags that may stand before, between or after
// the positional arguments, and returns the positional ones. Everything
// after a "--" is positional.
func parseInterspersed(fl *flag.FlagSet, args []string) ([]string, error) {
	var tail []string
	for i, a := range args {
		if a == "--" {
			args, tail = args[:i], args[i+1:]
			break
		}
	}
	var pos []string
	for {
		if err := fl.Parse(args); err != nil {
			return nil, err
		}
		args = fl.Args()
		if len(args) == 0 {
			return append(pos, tail...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// intFlag parses a whole number >= 0 into p.
func intFlag(p *int) func(string) error {
	return func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return errors.New("want a whole number >= 0")
		}
		*p = n
		return nil
	}
}

// loadConfig reads the config file named by --config, or ./config.ini
// when it exists, or the defaults.
func loadConfig(path string, stderr io.Writer) (config.Config, error) {
	return loadConfigWarnings(path, stderr, nil)
}

// loadConfigWarnings is loadConfig that also appends the file's warnings
// (unknown keys and sections) to *kept, when kept is not nil, for the
// run's log.
func loadConfigWarnings(path string, stderr io.Writer, kept *[]string) (config.Config, error) {
	if path == "" {
		if _, err := os.Stat(config.FileName); err != nil {
			return config.Default(), nil
		}
		path = config.FileName
	}
	cfg, warnings, err := config.Load(path)
	for _, w := range warnings {
		fmt.Fprintln(stderr, "dnsieve: warning:", w)
	}
	if kept != nil {
		*kept = append(*kept, warnings...)
	}
	return cfg, err
}

// applyScanFlags lays the flags that were set over the config.
func applyScanFlags(cfg *config.Config, fl *flag.FlagSet, f *scanFlags) error {
	set := map[string]bool{}
	fl.Visit(func(x *flag.Flag) { set[x.Name] = true })
	if f.output != "" {
		cfg.OutputDir = f.output
	}
	if cfg.OutputDir == "" {
		cfg.OutputDir = "output"
	}
	if f.recursive {
		cfg.Recursive = true
	}
	if f.allowlist != "" {
		cfg.Allowlist, cfg.EnableAllowlist = f.allowlist, true
	}
	if f.noAllowlist {
		cfg.EnableAllowlist = false
	}
	if f.ignoreParsed {
		cfg.IgnoreParsed = true
	}
	if f.renameParsed {
		cfg.RenameParsed = true
	}
	if f.ports != "" {
		p, err := config.ParsePorts(f.ports)
		if err != nil {
			return fmt.Errorf("--ports: %w", err)
		}
		cfg.DNSPorts = p
	}
	if set["max-label-length"] {
		cfg.Checks.MaxLabelLen = f.maxLabel
	}
	if set["max-entropy"] {
		cfg.Checks.MaxEntropy = f.maxEntropy
	}
	if set["min-hex-run"] {
		cfg.Checks.MinHexRun = f.minHex
	}
	if f.checksOnly {
		cfg.ChecksOnly = true
	}
	if f.model != "" {
		if err := cfg.SetModel(f.model); err != nil {
			return fmt.Errorf("--model: %w", err)
		}
	}
	if f.workers < 0 {
		return errors.New("--workers must be >= 0")
	}
	return nil
}

// writeHeapProfile writes the live heap profile to path.
func writeHeapProfile(path string) error {
	pf, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(pf, 0); err != nil {
		pf.Close()
		return err
	}
	return pf.Close()
}
