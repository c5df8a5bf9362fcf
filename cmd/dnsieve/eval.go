package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/dnsieve/dnsieve/internal/eval"
)

const evalUsage = `Usage: dnsieve eval --labels labels.json [flags]

Measures detection quality: scans every capture listed in labels.json (each
on its own, with the configuration scan would use) and compares what it
flagged with ground truth from the labels applied to Wireshark's reading of
each capture (<capture>.truth.tsv beside it, or tshark when installed).
Prints, per file and in total: tunnel packets and how many were flagged,
benign packets and how many were flagged, tunnel domains found, the tools
named, benign domains flagged, and the time to the first alert.

labels.json: {"files": [{"file": "a.pcap", "expected_verdict": "tunnel",
"tool": "iodine", "tunnel_domains": ["t1.example.com"]}, ...]}; optional
"tunnel_regex" (a regular expression matching tunnel query names) and
"raw_tunnel" (true: DNS-port packets without a readable query name are
tunnel traffic). testdata/corpus/labels.json in the source tree is an
example.

Exit status: 0 done (and the quality floor held), 1 below the floor or a
capture failed, 2 bad usage.

Flags:
`

func runEval(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("eval", flag.ContinueOnError)
	fl.SetOutput(stderr)
	labels := fl.String("labels", "", "labels `FILE` (required)")
	asJSON := fl.Bool("json", false, "print the results as JSON")
	markdown := fl.Bool("markdown", false, "print the results as a Markdown table")
	floor := fl.String("min", "", "quality floor `FILE` (JSON: min_recall, max_fp_rate, ...); exit 1 when below it")
	configFile := fl.String("config", "", "configuration `FILE` for the detector (default: ./config.ini when present)")
	checksOnly := fl.Bool("checks-only", false, "evaluate the per-message checks alone (engine off)")
	keep := fl.String("keep", "", "keep each capture's scan output under `DIR`")
	modelFlag := fl.String("model", "", "how verdicts are decided: `MODEL` builtin, rules, or a model file")
	quiet := fl.Bool("quiet", false, "no progress lines")
	setUsage(fl, evalUsage, "\nExamples:\n  dnsieve eval --labels testdata/corpus/labels.json\n  dnsieve eval --labels testdata/corpus/labels.json --json > quality.json\n  dnsieve eval --labels testdata/corpus/labels.json --min testdata/corpus/quality-floor.json\n")
	if code, done := parseFlags(fl, args, stdout, stderr); done {
		return code
	}
	if *labels == "" || fl.NArg() > 0 {
		return usageError(fl, stderr, "--labels FILE is required, and nothing else")
	}
	cfg, err := loadConfig(*configFile, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "dnsieve eval:", err)
		return 2
	}
	cfg.ChecksOnly = cfg.ChecksOnly || *checksOnly
	if *modelFlag != "" {
		if err := cfg.SetModel(*modelFlag); err != nil {
			fmt.Fprintln(stderr, "dnsieve eval: --model:", err)
			return 2
		}
	}
	l, err := eval.LoadLabels(*labels)
	if err != nil {
		fmt.Fprintln(stderr, "dnsieve eval:", err)
		return 2
	}
	var fl2 *eval.Floor
	if *floor != "" {
		if fl2, err = eval.LoadFloor(*floor); err != nil {
			fmt.Fprintln(stderr, "dnsieve eval:", err)
			return 2
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opt := eval.Options{Config: cfg, WorkDir: *keep}
	if !*quiet {
		opt.Progress = stderr
	}
	s, err := eval.Run(ctx, l, opt)
	if err != nil {
		fmt.Fprintln(stderr, "dnsieve eval:", err)
		return 1
	}
	switch {
	case *asJSON:
		s.JSON(stdout)
	case *markdown:
		s.Markdown(stdout)
	default:
		s.Text(stdout)
	}
	status := 0
	if s.Errors > 0 {
		status = 1
	}
	if fl2 != nil {
		for _, b := range s.Check(fl2) {
			fmt.Fprintln(stderr, "dnsieve eval: below the quality floor:", b)
			status = 1
		}
	}
	return status
}
