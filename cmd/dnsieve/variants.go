package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/dnsieve/dnsieve/internal/eval"
	"github.com/dnsieve/dnsieve/internal/variants"
)

const variantsUsage = `Usage: dnsieve variants --labels labels.json -o DIR [flags]

Builds a hostile corpus: for every tunnel capture of labels.json, writes
one evasion variant per kind into DIR (<stem>.<kind>.pcap, in the capture's
subdirectory) and DIR/labels.json with the original labels, so that
"dnsieve eval --labels DIR/labels.json" measures detection on them.

Kinds:
  fragmented  UDP DNS datagrams over 200 bytes sent as shuffled IP fragments
  case        0x20 case randomisation of query names (echoed in responses)
  tcp-split   UDP DNS carried over TCP in 1-20 byte segments, some out of
              order, some retransmitted
  off-port    DNS moved from port 53 to 5353 or a random high port per client
  slow        timeline stretched x60
  spread      clients spread over 50 addresses of their /16, round robin
  encapsulated  every IP frame wrapped as mirrored traffic arrives: VXLAN
              (4789, 8472), Geneve, GRE with ERSPAN II, IP-in-IP

The same seed gives byte-identical files. With --check, the originals and
the variants are evaluated and compared: exit 1 when a variant loses its
tunnel, its severity, its tool, or more than 1% of packet recall.

Exit status: 0 done (and, with --check, detection held), 1 a capture could
not be read or written (or a variant evaded detection), 2 bad usage.

Flags:
`

func runVariants(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("variants", flag.ContinueOnError)
	fl.SetOutput(stderr)
	labels := fl.String("labels", "", "labels `FILE` of the original captures (required)")
	var out string
	fl.StringVar(&out, "o", "", "output `DIR` (required)")
	fl.StringVar(&out, "output", "", "output `DIR` (same as -o)")
	kinds := fl.String("kinds", "all", "comma-separated variant `KINDS`")
	seed := fl.Uint64("seed", variants.DefaultOptions.Seed, "random `SEED`")
	idle := fl.Duration("tcp-idle", 30*time.Second, "tcp-split: close a connection idle for `DURATION` (0: never)")
	check := fl.Bool("check", false, "evaluate originals and variants and compare them (needs tshark)")
	asJSON := fl.Bool("json", false, "with --check: print the comparison as JSON")
	configFile := fl.String("config", "", "with --check: detector configuration `FILE` (default: ./config.ini when present)")
	quiet := fl.Bool("quiet", false, "no progress lines")
	setUsage(fl, variantsUsage, "\nExamples:\n  dnsieve variants --labels testdata/corpus/labels.json -o /tmp/hostile\n  dnsieve eval --labels /tmp/hostile/labels.json\n  dnsieve variants --labels testdata/corpus/labels.json -o /tmp/hostile --kinds fragmented,case --seed 7 --check\n")
	if code, done := parseFlags(fl, args, stdout, stderr); done {
		return code
	}
	if *labels == "" || out == "" || fl.NArg() > 0 {
		return usageError(fl, stderr, "--labels FILE and -o DIR are required, and nothing else")
	}
	ks, err := variants.ParseKinds(*kinds)
	if err != nil {
		fmt.Fprintln(stderr, "dnsieve variants:", err)
		return 2
	}
	var progress io.Writer
	if !*quiet {
		progress = stderr
	}
	opt := variants.DefaultOptions
	opt.Seed = *seed
	opt.TCPIdle = int64(*idle)
	if *idle <= 0 {
		opt.TCPIdle = -1
	}
	if _, err := variants.Generate(*labels, out, ks, opt, progress); err != nil {
		fmt.Fprintln(stderr, "dnsieve variants:", err)
		return 1
	}
	if !*check {
		return 0
	}
	cfg, err := loadConfig(*configFile, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "dnsieve variants:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rows, err := variants.Check(ctx, out, eval.Options{Config: cfg, Progress: progress})
	if err != nil {
		fmt.Fprintln(stderr, "dnsieve variants:", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", " ")
		enc.Encode(rows)
	} else {
		variants.WriteTable(stdout, rows)
	}
	status := 0
	for _, r := range rows {
		if len(r.Evaded) > 0 {
			status = 1
		}
	}
	return status
}
