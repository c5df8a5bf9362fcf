// Command dnsieve finds DNS tunnels and DNS exfiltration in packet captures.
//
// Usage:
//
//	dnsieve scan [-o DIR] [--quiet] [--config FILE] PATH...
//
// Run "dnsieve help" for the commands, and "dnsieve help scan" (the same as
// "dnsieve scan --help") for every flag of one.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

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
		{"version", "print the version", runVersion},
	}
}

// lookup returns the subcommand called name.
func lookup(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
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
Run "dnsieve help <command>" or "dnsieve <command> --help" for a command's flags.

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
	case "help":
		return runHelp(args[1:], stdout, stderr)
	case "-h", "--help", "-help":
		usage(stdout)
		return 0
	case "-version", "--version":
		fmt.Fprintln(stdout, "dnsieve", version)
		return 0
	}
	if c, ok := lookup(args[0]); ok {
		return c.run(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "dnsieve: unknown command %q%s\nRun 'dnsieve help' for the list of commands.\n", args[0], suggestCommand(args[0]))
	return 2
}

// suggestCommand returns a scan command line when name is an existing
// file or folder, " (did you mean NAME?)" for the subcommand within two
// edits of name, or "".
func suggestCommand(name string) string {
	if _, err := os.Stat(name); err == nil {
		return " (to analyse it: dnsieve scan " + shellQuote(name) + ")"
	}
	best := config.Nearest(name, func(yield func(string) bool) {
		for _, c := range commands() {
			if !yield(c.name) {
				return
			}
		}
	})
	if best == "" {
		return ""
	}
	return " (did you mean " + best + "?)"
}

// shellQuote returns s as a POSIX shell word: as it is when it holds only
// characters the shell takes literally, otherwise in single quotes.
func shellQuote(s string) string {
	plain := s != ""
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._/-+,:@%=", c)) {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// runHelp is "dnsieve help [COMMAND]": the overview, or the command's own
// help exactly as "dnsieve COMMAND --help" prints it.
func runHelp(args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 0 || len(args) == 1 && args[0] == "help":
		usage(stdout)
		return 0
	case len(args) > 1:
		fmt.Fprintln(stderr, "dnsieve help: give one command, e.g. dnsieve help scan")
		return 2
	}
	c, ok := lookup(args[0])
	if !ok {
		fmt.Fprintf(stderr, "dnsieve help: unknown command %q%s\nRun 'dnsieve help' for the list of commands.\n", args[0], suggestCommand(args[0]))
		return 2
	}
	return c.run([]string{"--help"}, stdout, stderr)
}

const versionUsage = `Usage: dnsieve version

Prints the version (the same as "dnsieve --version").
`

func runVersion(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("version", flag.ContinueOnError)
	fl.SetOutput(stderr)
	setUsage(fl, versionUsage, "")
	if code, done := parseFlags(fl, args, stdout, stderr); done {
		return code
	}
	if fl.NArg() > 0 {
		return usageError(fl, stderr, fmt.Sprint("unexpected arguments: ", fl.Args()))
	}
	fmt.Fprintln(stdout, "dnsieve", version)
	return 0
}

// setMemoryLimit gives the Go runtime a soft memory limit derived from the
// engine's cap: the cap plus 72 MiB for caches, the spool, two workers'
// batches and the garbage between collections, plus extra bytes (a scan's
// batches for more workers than two), so that garbage does not pile up
// beyond what the cap promises. With the default cap a 10M-packet scan
// peaks near 245 MB of RSS (BENCHMARKS.md); a smaller margin costs more
// collections than it saves. GOMEMLIMIT in the environment takes
// precedence.
func setMemoryLimit(cfg config.Config, extra int64) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	mem := cfg.Engine.MaxMemory
	if mem <= 0 {
		mem = engine.DefaultMaxMemory
	}
	debug.SetMemoryLimit(mem + 72<<20 + extra)
}

// setUsage makes fl's usage, the full help, print text, the flags (if
// any), then examples.
func setUsage(fl *flag.FlagSet, text, examples string) {
	fl.Usage = func() {
		fmt.Fprint(fl.Output(), text)
		fl.PrintDefaults()
		fmt.Fprint(fl.Output(), examples)
	}
}

// parseFlags parses a command's flags, which end at the first positional
// argument. done means the command must return code at once: 0 after
// printing the help asked for, 2 on bad flags (after saying what is wrong
// and where the help is).
func parseFlags(fl *flag.FlagSet, args []string, stdout, stderr io.Writer) (code int, done bool) {
	return parseWith(fl, args, stdout, stderr, fl.Parse)
}

// parseWith is parseFlags with the parsing done by parse. The help asked
// for is printed once, on standard output; a bad flag gets one line
// saying what is wrong and one saying how to get the help, on stderr,
// not the whole help (the flag package prints the usage on any error, so
// it is silenced while parsing).
func parseWith(fl *flag.FlagSet, args []string, stdout, stderr io.Writer, parse func([]string) error) (code int, done bool) {
	help := func() (int, bool) {
		fl.SetOutput(stdout)
		fl.Usage()
		fl.SetOutput(stderr)
		return 0, true
	}
	if wantsHelp(args) {
		return help()
	}
	full := fl.Usage
	fl.Usage = func() {}
	fl.SetOutput(io.Discard)
	err := parse(args)
	fl.Usage = full
	fl.SetOutput(stderr)
	switch {
	case errors.Is(err, flag.ErrHelp): // e.g. -help=true
		return help()
	case err != nil:
		return usageError(fl, stderr, err.Error()), true
	}
	return 0, false
}

// usageError says what is wrong with a command's arguments and where its
// help is, and returns exit status 2.
func usageError(fl *flag.FlagSet, stderr io.Writer, msg string) int {
	fmt.Fprintf(stderr, "dnsieve %s: %s\nRun 'dnsieve %s --help' for usage.\n", fl.Name(), msg, fl.Name())
	return 2
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
