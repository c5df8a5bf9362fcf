// Command dnsieve finds DNS tunnels and DNS exfiltration in packet captures.
//
// Usage:
//
//	dnsieve scan [-o DIR] [--quiet] [--config FILE] PATH...
//
// Run "dnsieve help" or "dnsieve scan --help" for every flag.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/dnsieve/dnsieve/internal/config"
	"github.com/dnsieve/dnsieve/internal/engine"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// command is one subcommand.
type command struct {
	name, summary string
	run           func(args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"scan", "analyse capture files and write out.csv, stats.json, out.log, findings.jsonl and domains.csv", runScan},
		{"eval", "measure detection quality on labelled captures", runEval},
		{"live", "capture DNS on network interfaces and alert on tunnels as they happen", runLive},
		{"dnstap", "analyse a DNS server's dnstap stream, with alerts", runDnstap},
		{"watch", "analyse capture files as they appear in a folder, with alerts", runWatch},
		{"zeek", "analyse Zeek dns.log files", runZeek},
		{"train", "train the behaviour model from labelled captures and validate it", runTrain},
		{"variants", "derive evasion variants of labelled tunnel captures (hostile corpus)", runVariants},
		{"version", "print the version", func([]string, io.Writer, io.Writer) int { fmt.Println("dnsieve", version); return 0 }},
	}
}

func usage(w io.Writer) {
	fmt.Fprintf(w, `dnsieve %s: find DNS tunnels and DNS exfiltration in network traffic.

Usage:
  dnsieve <command> [flags] [arguments]

Commands:
`, version)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run "dnsieve <command> --help" for a command's flags.

Example:
  dnsieve scan -o results captures/
`)
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "--help", "-help", "help":
		usage(stdout)
		return 0
	case "-version", "--version":
		fmt.Fprintln(stdout, "dnsieve", version)
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "dnsieve: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

// setMemoryLimit gives the Go runtime a soft memory limit derived from the
// engine's cap (the cap plus 80 MiB for batches, caches and the rest), so
// that garbage does not pile up beyond what the cap promises. GOMEMLIMIT
// in the environment takes precedence.
func setMemoryLimit(cfg config.Config) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	mem := cfg.Engine.MaxMemory
	if mem <= 0 {
		mem = engine.DefaultMaxMemory
	}
	debug.SetMemoryLimit(mem + 80<<20)
}

// setUsage makes fl's usage print text, the flags, then examples.
func setUsage(fl *flag.FlagSet, text, examples string) {
	fl.Usage = func() {
		fmt.Fprint(fl.Output(), text)
		fl.PrintDefaults()
		fmt.Fprint(fl.Output(), examples)
	}
}

// parseFlags parses a command's flags. done means the command must return
// code at once: 0 after printing the help asked for, 2 on bad flags (the
// flag package has said what is wrong).
func parseFlags(fl *flag.FlagSet, args []string, stdout io.Writer) (code int, done bool) {
	if wantsHelp(args) {
		fl.SetOutput(stdout)
		fl.Usage()
		return 0, true
	}
	err := fl.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return 0, true
	}
	if err != nil {
		return 2, true
	}
	return 0, false
}

// wantsHelp reports whether the arguments ask for help (before any "--"),
// so that it is printed once, on standard output.
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help", "--h":
			return true
		}
	}
	return false
}
