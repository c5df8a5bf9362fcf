package main

import (
	"bytes"
	"errors"
	"flag"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// runCLI runs dnsieve with args and returns its exit status and output.
func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// commandNames lists every subcommand of main.go.
func commandNames(t *testing.T) []string {
	t.Helper()
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	if len(names) < 9 {
		t.Fatalf("only %d commands: %v", len(names), names)
	}
	return names
}

// helpOf is a command's full help, as "dnsieve NAME --help" prints it.
func helpOf(t *testing.T, name string) string {
	t.Helper()
	code, out, errs := runCLI(name, "--help")
	if code != 0 || errs != "" || !strings.HasPrefix(out, "Usage: dnsieve "+name) {
		t.Fatalf("%s --help: exit %d\nstdout:\n%s\nstderr:\n%s", name, code, out, errs)
	}
	return out
}

// TestBadFlagHint checks that a bad flag, in every subcommand, prints
// one line saying what is wrong and one saying where the help is, on
// stderr, not the whole help, and exits 2.
func TestBadFlagHint(t *testing.T) {
	for _, name := range commandNames(t) {
		t.Run(name, func(t *testing.T) {
			code, out, errs := runCLI(name, "--bogus", "x.pcap")
			want := "dnsieve " + name + ": flag provided but not defined: -bogus\n" +
				"Run 'dnsieve " + name + " --help' for usage.\n"
			if code != 2 || out != "" || errs != want {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s\nwant stderr:\n%s", code, out, errs, want)
			}
		})
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"flag after a path", []string{"scan", "x.pcap", "--bogus"},
			"dnsieve scan: flag provided but not defined: -bogus\nRun 'dnsieve scan --help' for usage.\n"},
		{"bad value", []string{"scan", "--max-entropy", "9", "x.pcap"},
			"dnsieve scan: invalid value \"9\" for flag -max-entropy: want a number from 0 to 8\nRun 'dnsieve scan --help' for usage.\n"},
		{"missing value", []string{"watch", "--settle"},
			"dnsieve watch: flag needs an argument: -settle\nRun 'dnsieve watch --help' for usage.\n"},
		{"no directory", []string{"watch"},
			"dnsieve watch: give exactly one directory\nRun 'dnsieve watch --help' for usage.\n"},
		{"no labels", []string{"eval"},
			"dnsieve eval: --labels FILE is required, and nothing else\nRun 'dnsieve eval --help' for usage.\n"},
		{"no interface", []string{"live"},
			"dnsieve live: give at least one -i IFACE, and nothing else\nRun 'dnsieve live --help' for usage.\n"},
		{"no socket", []string{"dnstap"},
			"dnsieve dnstap: give exactly one of --unix PATH and --tcp ADDR\nRun 'dnsieve dnstap --help' for usage.\n"},
		{"no logs", []string{"zeek"},
			"dnsieve zeek: give dns.log files or directories\nRun 'dnsieve zeek --help' for usage.\n"},
		{"no output", []string{"variants", "--labels", "x.json"},
			"dnsieve variants: --labels FILE and -o DIR are required, and nothing else\nRun 'dnsieve variants --help' for usage.\n"},
		{"train arguments", []string{"train", "extra"},
			"dnsieve train: unexpected arguments: [extra]\nRun 'dnsieve train --help' for usage.\n"},
		{"version arguments", []string{"version", "extra"},
			"dnsieve version: unexpected arguments: [extra]\nRun 'dnsieve version --help' for usage.\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := runCLI(c.args...)
			if code != 2 || out != "" || errs != c.want {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s\nwant stderr:\n%s", code, out, errs, c.want)
			}
		})
	}
}

// TestScanNoInputHint checks that scan with nothing to scan says so and
// where the help is, not the whole help.
func TestScanNoInputHint(t *testing.T) {
	t.Chdir(t.TempDir()) // no config.ini, so no pcap_dir
	code, out, errs := runCLI("scan")
	want := "dnsieve scan: no input: give capture files or directories, or set pcap_dir in config.ini\n" +
		"Run 'dnsieve scan --help' for usage.\n"
	if code != 2 || out != "" || errs != want {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
}

// TestHelp checks that -h, --help, -help=true and "dnsieve help NAME"
// print the same full help of every subcommand on stdout and exit 0, and
// that "dnsieve help" refuses unknown commands.
func TestHelp(t *testing.T) {
	for _, name := range commandNames(t) {
		t.Run(name, func(t *testing.T) {
			full := helpOf(t, name)
			for _, args := range [][]string{
				{name, "-h"},
				{name, "-help=true"},
				{name, "--bogus", "--help"},
				{"help", name},
			} {
				code, out, errs := runCLI(args...)
				if code != 0 || errs != "" || out != full {
					t.Errorf("%q: exit %d\nstdout:\n%s\nstderr:\n%s\nwant stdout:\n%s", args, code, out, errs, full)
				}
			}
			if name != "version" && !strings.Contains(full, "\nFlags:\n  -") {
				t.Errorf("%s --help lists no flags:\n%s", name, full)
			}
		})
	}
	if !strings.Contains(helpOf(t, "scan"), "Examples:\n  dnsieve scan capture.pcapng\n") {
		t.Error("scan --help lacks its examples")
	}
	if got, want := helpOf(t, "version"), versionUsage; got != want {
		t.Errorf("version --help:\n%s\nwant:\n%s", got, want)
	}

	var top bytes.Buffer
	usage(&top)
	for _, args := range [][]string{{"help"}, {"--help"}, {"help", "help"}} {
		code, out, errs := runCLI(args...)
		if code != 0 || errs != "" || out != top.String() {
			t.Errorf("%q: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, out, errs)
		}
	}
	if !strings.Contains(top.String(), `Run "dnsieve help <command>" or "dnsieve <command> --help"`) {
		t.Errorf("top-level help does not mention dnsieve help <command>:\n%s", top.String())
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"help", "nosuch"}, "dnsieve help: unknown command \"nosuch\"\nRun 'dnsieve help' for the list of commands.\n"},
		{[]string{"help", "scan", "eval"}, "dnsieve help: give one command, e.g. dnsieve help scan\n"},
		{[]string{"help", "sacn"}, "dnsieve help: unknown command \"sacn\" (did you mean scan?)\nRun 'dnsieve help' for the list of commands.\n"},
		{[]string{"sacn", "x.pcap"}, "dnsieve: unknown command \"sacn\" (did you mean scan?)\nRun 'dnsieve help' for the list of commands.\n"},
		{[]string{"lvie"}, "dnsieve: unknown command \"lvie\" (did you mean live?)\nRun 'dnsieve help' for the list of commands.\n"},
		{[]string{"nosuch.pcap"}, "dnsieve: unknown command \"nosuch.pcap\"\nRun 'dnsieve help' for the list of commands.\n"},
		{[]string{"main.go"}, "dnsieve: unknown command \"main.go\" (to analyse it: dnsieve scan main.go)\nRun 'dnsieve help' for the list of commands.\n"},
		{[]string{".."}, "dnsieve: unknown command \"..\" (to analyse it: dnsieve scan ..)\nRun 'dnsieve help' for the list of commands.\n"},
	} {
		code, out, errs := runCLI(c.args...)
		if code != 2 || out != "" || errs != c.want {
			t.Errorf("%q: exit %d\nstdout:\n%s\nstderr:\n%s\nwant stderr:\n%s", c.args, code, out, errs, c.want)
		}
	}

	code, out, errs := runCLI("version")
	if code != 0 || errs != "" || out != "dnsieve "+version+"\n" {
		t.Errorf("version: exit %d %q %q", code, out, errs)
	}
}

// TestHelpPaths checks that help names no developer-only paths and that
// every path of the source tree it names exists in it.
func TestHelpPaths(t *testing.T) {
	root := filepath.Join("..", "..")
	treePath := regexp.MustCompile(`\b(?:testdata|internal|docs|deploy)/[A-Za-z0-9_./-]*[A-Za-z0-9_]`)
	var top bytes.Buffer
	usage(&top)
	helps := map[string]string{"dnsieve --help": top.String()}
	for _, name := range commandNames(t) {
		helps[name] = helpOf(t, name)
	}
	checked := 0
	for name, h := range helps {
		for _, bad := range []string{"../", "shared/", "score.py", "/work/"} {
			if strings.Contains(h, bad) {
				t.Errorf("%s help contains %q:\n%s", name, bad, h)
			}
		}
		for _, p := range treePath.FindAllString(h, -1) {
			checked++
			if _, err := os.Stat(filepath.Join(root, p)); err != nil {
				t.Errorf("%s help names %s, which is not in the source tree: %v", name, p, err)
			}
		}
	}
	if checked < 5 {
		t.Errorf("only %d source-tree paths found in the help: the pattern is broken", checked)
	}
}

// TestFlagPlaceholders checks that every flag that takes a value shows a
// meaningful upper-case placeholder (not the flag package's "string",
// "int", "value", ...), and a few exactly.
func TestFlagPlaceholders(t *testing.T) {
	// "  -name PLACEHOLDER" then a tab, or "  -x\t" for a short flag
	// without one.
	line := regexp.MustCompile(`^  -([a-z0-9-]+)(?: (\S+))?$`)
	got := map[string]string{} // "command -flag" -> placeholder
	for _, name := range commandNames(t) {
		h := helpOf(t, name)
		_, flags, ok := strings.Cut(h, "\nFlags:\n")
		if !ok {
			continue
		}
		n := 0
		for _, l := range strings.Split(flags, "\n") {
			if !strings.HasPrefix(l, "  -") {
				continue
			}
			head, _, _ := strings.Cut(l, "\t")
			m := line.FindStringSubmatch(head)
			if m == nil {
				t.Errorf("%s: unexpected flag line %q", name, l)
				continue
			}
			n++
			got[name+" -"+m[1]] = m[2]
			if m[2] != "" && !regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`).MatchString(m[2]) {
				t.Errorf("%s -%s: placeholder %q, want an upper-case word", name, m[1], m[2])
			}
		}
		if n == 0 {
			t.Errorf("%s: no flags found in\n%s", name, h)
		}
	}
	for k, want := range map[string]string{
		"scan -o":             "DIR",
		"scan -output":        "DIR",
		"scan -workers":       "N",
		"scan -ports":         "PORTS",
		"scan -quiet":         "",
		"scan -q":             "",
		"live -i":             "IFACE",
		"live -interface":     "IFACE",
		"live -o":             "DIR",
		"live -metrics":       "ADDR",
		"live -checkpoint":    "DURATION",
		"live -alerts":        "SPEC",
		"dnstap -types":       "TYPES",
		"dnstap -unix":        "PATH",
		"watch -settle":       "DURATION",
		"watch -poll":         "DURATION",
		"watch -once":         "",
		"zeek -metrics":       "ADDR",
		"train -seed":         "N",
		"train -lambda":       "LAMBDA",
		"train -validate":     "FILE",
		"variants -tcp-idle":  "DURATION",
		"variants -seed":      "SEED",
		"eval -labels":        "FILE",
		"eval -keep":          "DIR",
		"variants -o":         "DIR",
		"scan -max-entropy":   "BITS",
		"scan -min-hex-run":   "N",
		"dnstap -checkpoint":  "DURATION",
		"scan -no-allowlist":  "",
		"scan -allowlist":     "FILE",
		"zeek -state":         "FILE",
		"variants -kinds":     "KINDS",
		"live -filter":        "EXPR",
		"scan -recursive":     "",
		"train -o":            "FILE",
		"eval -min":           "FILE",
		"watch -o":            "DIR",
		"dnstap -tcp":         "ADDR",
		"live -user":          "USER",
		"scan -memprofile":    "FILE",
		"variants -check":     "",
		"watch -recursive":    "",
		"live -group":         "GROUP",
		"zeek -o":             "DIR",
		"dnstap -o":           "DIR",
		"scan -model":         "MODEL",
		"train -report":       "FILE",
		"train -labels":       "FILE",
		"scan -config":        "FILE",
		"watch -metrics":      "ADDR",
		"dnstap -metrics":     "ADDR",
		"live -model":         "MODEL",
		"scan -cpuprofile":    "FILE",
		"variants -labels":    "FILE",
		"scan -ignore-parsed": "",
	} {
		p, ok := got[k]
		if !ok {
			t.Errorf("%s: not in the help", k)
		} else if p != want {
			t.Errorf("%s: placeholder %q, want %q", k, p, want)
		}
	}
}

// TestMetricsDefault checks the metrics address each kind of run uses:
// continuous runs serve on 127.0.0.1:9530 unless told otherwise, one-shot
// runs (zeek, watch --once) serve nothing unless --metrics is given.
func TestMetricsDefault(t *testing.T) {
	for _, c := range []struct {
		kind runKind
		once bool
		args []string
		want string
	}{
		{continuous, false, nil, "127.0.0.1:9530"},
		{continuous, false, []string{"--metrics", "off"}, ""},
		{continuous, false, []string{"--metrics", ""}, ""},
		{continuous, false, []string{"--metrics", "[::1]:9999"}, "[::1]:9999"},
		{oneShot, false, nil, ""},
		{oneShot, false, []string{"--metrics", "127.0.0.1:9530"}, "127.0.0.1:9530"},
		{oneShot, false, []string{"--metrics", "off"}, ""},
		{onceFlag, false, nil, "127.0.0.1:9530"},
		{onceFlag, true, nil, ""},
		{onceFlag, true, []string{"--metrics", "127.0.0.1:9531"}, "127.0.0.1:9531"},
		{onceFlag, false, []string{"--metrics", "off"}, ""},
	} {
		var f streamFlags
		fl := flag.NewFlagSet("x", flag.ContinueOnError)
		f.register(fl, c.kind)
		if err := fl.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		f.once = c.once
		if got := f.metricsAddr(); got != c.want {
			t.Errorf("kind %d once %v %q: %q, want %q", c.kind, c.once, c.args, got, c.want)
		}
	}
}

// TestOneShotRunsServeNoMetrics runs watch --once and zeek without
// --metrics while 127.0.0.1:9530 is taken: they must neither serve
// metrics nor fail; with --metrics they serve on the address given.
func TestOneShotRunsServeNoMetrics(t *testing.T) {
	ln, err := net.Listen("tcp", defaultMetrics)
	if err == nil {
		defer ln.Close()
	} else if !errors.Is(err, syscall.EADDRINUSE) {
		t.Logf("cannot hold %s (%v): testing without it", defaultMetrics, err)
	}
	dir := t.TempDir()
	spool := filepath.Join(dir, "spool")
	if err := os.Mkdir(spool, 0o755); err != nil {
		t.Fatal(err)
	}
	dnslog := filepath.Join(dir, "dns.log")
	if err := os.WriteFile(dnslog, []byte(`{"ts":1704110400.0,"uid":"C1","id.orig_h":"192.0.2.10","id.orig_p":40001,"id.resp_h":"192.0.2.53","id.resp_p":53,"proto":"udp","trans_id":1,"query":"www.example.com","qtype":1,"qtype_name":"A","rcode":0,"rcode_name":"NOERROR","answers":["192.0.2.1"],"TTLs":[300.0]}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const served = "metrics and health served"
	for _, c := range []struct {
		name  string
		args  []string
		serve bool
	}{
		{"watch --once", []string{"watch", "--once", "--no-state", "-o", filepath.Join(dir, "w1"), spool}, false},
		{"zeek", []string{"zeek", "--no-state", "-o", filepath.Join(dir, "z1"), dnslog}, false},
		{"watch --once --metrics", []string{"watch", "--once", "--no-state", "--metrics", "127.0.0.1:0", "-o", filepath.Join(dir, "w2"), spool}, true},
		{"zeek --metrics", []string{"zeek", "--no-state", "--metrics", "127.0.0.1:0", "-o", filepath.Join(dir, "z2"), dnslog}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, errs := runCLI(c.args...)
			if code != 0 || strings.Contains(errs, served) != c.serve {
				t.Fatalf("exit %d, serves metrics: %v, want %v\nstderr:\n%s", code, strings.Contains(errs, served), c.serve, errs)
			}
			if c.serve && strings.Contains(errs, "address=127.0.0.1:9530") {
				t.Fatalf("served on the default address:\n%s", errs)
			}
		})
	}
}

// TestShellQuote checks the scan command line suggested for a path.
func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"capture.pcap":        "capture.pcap",
		"/tmp/a-b_c/x+1.pcap": "/tmp/a-b_c/x+1.pcap",
		"my capture.pcap":     "'my capture.pcap'",
		"it's.pcap":           `'it'\''s.pcap'`,
		"$(rm -rf x)":         "'$(rm -rf x)'",
		"":                    "''",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
