package config

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dnsieve/dnsieve/internal/checks"
)

// TestInlineComments checks trailing comments on every kind of value and
// on section headers, as Python's configparser reads them with
// inline_comment_prefixes=(";", "#"). Each case compares the whole Config.
func TestInlineComments(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want func(*Config)
	}{
		{"bool ;", "[files settings]\nignore_parsed_pcaps = true     ; skip captures\n",
			func(c *Config) { c.IgnoreParsed = true }},
		{"bool #", "[files settings]\nrecursive = yes # new\n",
			func(c *Config) { c.Recursive = true }},
		{"bool tab ;", "[files settings]\nrename_parsed = on\t; old behaviour\n",
			func(c *Config) { c.RenameParsed = true }},
		{"bool tab #", "[whitelist settings]\nenable_whitelist = 1\t\t# on\n",
			func(c *Config) { c.EnableAllowlist = true }},
		{"bool false", "[engine]\nenabled = false ; per-message checks only\n",
			func(c *Config) { c.ChecksOnly = true }},
		{"int ;", "[checks]\nmax_label_length = 50          ; 0 disables\n",
			func(c *Config) { c.Checks.MaxLabelLen = 50 }},
		{"int #", "[checks]\nmin_hex_run = 7 #0 disables\n",
			func(c *Config) { c.Checks.MinHexRun = 7 }},
		{"int engine", "[engine]\nmax_memory_mb = 64\t; state cap; evicted beyond it\n",
			func(c *Config) { c.Engine.MaxMemory = 64 << 20 }},
		{"float ;", "[checks]\nmax_entropy = 3.25 ; bits per byte; 0 disables\n",
			func(c *Config) { c.Checks.MaxEntropy = 3.25 }},
		{"float #", "[engine]\nwindow_minutes = 2.5 # rate windows\n",
			func(c *Config) { c.Engine.Window = 150 * time.Second }},
		{"level", "[checks]\nhex_level = low ; low, medium, high or 100%\nutf8_level = 100%\t# certain\n",
			func(c *Config) { c.Checks.HexLevel, c.Checks.NotUTF8Level = checks.Low, checks.Certain }},
		{"text ;", "[files settings]\npcap_dir = pcaps               ; scanned when no PATH is given\n",
			func(c *Config) { c.PcapDir = "pcaps" }},
		{"text with inner spaces", "[files settings]\npcap_dir = my pcaps  dir # x\n",
			func(c *Config) { c.PcapDir = "my pcaps  dir" }},
		{"text colon separator", "[files settings]\noutput_dir: results ; was output\n",
			func(c *Config) { c.OutputDir = "results" }},
		{"text # without space kept", "[whitelist settings]\nwhitelist = a#b.txt\n",
			func(c *Config) { c.Allowlist = "a#b.txt" }},
		{"text ; without space kept", "[whitelist settings]\nwhitelist = a;b.txt   ; the real comment\n",
			func(c *Config) { c.Allowlist = "a;b.txt" }},
		{"text url fragment kept", "[whitelist settings]\nwhitelist = http://h/p?q=1#frag\t# fetched\n",
			func(c *Config) { c.Allowlist = "http://h/p?q=1#frag" }},
		{"text ; right after = kept", "[whitelist settings]\nwhitelist =;x\n",
			func(c *Config) { c.Allowlist = ";x" }},
		{"text # at end kept", "[whitelist settings]\nwhitelist = a# ;b\n",
			func(c *Config) { c.Allowlist = "a#" }},
		{"first comment wins", "[whitelist settings]\nwhitelist = x.txt #one ;two # three\n",
			func(c *Config) { c.Allowlist = "x.txt" }},
		{"separator in comment", "[whitelist settings]\nwhitelist = x.txt ; key = value: y\n",
			func(c *Config) { c.Allowlist = "x.txt" }},
		{"value only comment", "[files settings]\npcap_dir =                      ; scanned when no path is given\noutput_dir =# none\n",
			func(c *Config) { c.PcapDir, c.OutputDir = "", "# none" }},
		{"value only comment after space", "[files settings]\noutput_dir = # none\n",
			func(c *Config) { c.OutputDir = "" }},
		{"list ;", "[network]\ndns_ports = 53, 5353 ; comma-separated\n",
			func(c *Config) { c.DNSPorts = []uint16{53, 5353} }},
		{"list #", "[network]\ndns_ports = 53 853\t# DNS over TLS is not decoded\n",
			func(c *Config) { c.DNSPorts = []uint16{53, 853} }},
		{"section ;", "[checks]                       ; new: every threshold and level\nmax_label_length = 9\n",
			func(c *Config) { c.Checks.MaxLabelLen = 9 }},
		{"section #", "[Files Settings]\t# old section\npcap_dir = p\n",
			func(c *Config) { c.PcapDir = "p" }},
		{"section ; inside name kept", "[checks]\n[a;b] ; unknown\nmax_label_length = 9\n",
			func(c *Config) {}},
		{"whole-line comments", "; top\n# top\n   ; indented\n[files settings]\n\t# tab-indented = yes\npcap_dir = p\n  ;pcap_dir = q\n",
			func(c *Config) { c.PcapDir = "p" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := Parse(strings.NewReader(tc.in), "c.ini")
			if err != nil {
				t.Fatal(err)
			}
			want := Default()
			tc.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

// TestCommentOnlyValueIsEmpty checks that "key = ; note" is read exactly as
// "key =" is, for keys where an empty value is fine and where it is not.
func TestCommentOnlyValueIsEmpty(t *testing.T) {
	for _, kv := range []string{
		"[files settings]\npcap_dir =",
		"[files settings]\noutput_dir:",
		"[files settings]\nignore_parsed_pcaps =",
		"[checks]\nmax_entropy =",
		"[checks]\nhex_level =",
		"[network]\ndns_ports =",
	} {
		plain, _, plainErr := Parse(strings.NewReader(kv+"\n"), "c.ini")
		commented, _, commentedErr := Parse(strings.NewReader(kv+"    ; nothing here\n"), "c.ini")
		if !reflect.DeepEqual(plain, commented) || errString(plainErr) != errString(commentedErr) {
			t.Errorf("%q: with comment %+v, %v\nwithout %+v, %v", kv, commented, commentedErr, plain, plainErr)
		}
	}
	_, _, err := Parse(strings.NewReader("[files settings]\nignore_parsed_pcaps =   # later\n"), "c.ini")
	if want := `c.ini:2: ignore_parsed_pcaps: want true/false (yes/no, on/off, 1/0), got ""`; errString(err) != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// TestCommentErrors checks that errors on commented lines name the file,
// the line and the value without its comment.
func TestCommentErrors(t *testing.T) {
	long := strings.Repeat("x", 70000)
	cases := []struct{ in, want string }{
		{"[files settings]\nignore_parsed_pcaps = maybe ; c\n",
			`f.ini:2: ignore_parsed_pcaps: want true/false (yes/no, on/off, 1/0), got "maybe"`},
		{"; c\n[files settings]\nrecursive = on;x\n",
			`f.ini:3: recursive: want true/false (yes/no, on/off, 1/0), got "on;x"`},
		{"[checks]\nmax_label_length = 40# 0 disables\n",
			`f.ini:2: max_label_length: want a whole number >= 0, got "40# 0 disables"`},
		{"[network]\ndns_ports = 53;853 ; x\n",
			`f.ini:2: dns_ports: bad port "53;853"`},
		{"[checks];new\n",
			`f.ini:1: text after ']' in section header "[checks];new" (a comment needs a space before ';' or '#')`},
		{"[checks] x ; y\n",
			`f.ini:1: text after ']' in section header "[checks] x" (a comment needs a space before ';' or '#')`},
		{"[checks ; comment]\n", "f.ini:1: unterminated section header"},
		{"[files settings]\npcap_dir ; = x\n", `f.ini:2: expected key = value, got "pcap_dir"`},
		{"\n\npcap_dir = x ; y\n", "f.ini:3: key outside of any [section]"},
		{"[files settings]\n" + long + "\n", "f.ini:2: line longer than 65536 bytes"},
	}
	for _, tc := range cases {
		_, _, err := Parse(strings.NewReader(tc.in), "f.ini")
		if got := errString(err); got != tc.want {
			in := tc.in
			if len(in) > 80 {
				in = in[:80] + "..."
			}
			t.Errorf("Parse(%q):\n got %s\nwant %s", in, got, tc.want)
		}
	}
}

// TestCommentWarnings checks that warnings use names without comments.
func TestCommentWarnings(t *testing.T) {
	_, warn, err := Parse(strings.NewReader("[extra]   ; x\n[checks]\nmax_lable_length = 3 ; typo\n"), "w.ini")
	want := []string{
		"w.ini:1: unknown section [extra] ignored",
		`w.ini:3: unknown key "max_lable_length" in [checks] ignored (did you mean max_label_length?)`,
	}
	if err != nil || !reflect.DeepEqual(warn, want) {
		t.Fatalf("err %v warnings %q, want %q", err, warn, want)
	}
}

// iniBlock returns the first ```ini fenced block after the line heading.
func iniBlock(t *testing.T, path, heading string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	i := 0
	for i < len(lines) && strings.TrimSpace(lines[i]) != heading {
		i++
	}
	if i == len(lines) {
		t.Fatalf("%s: no heading %q", path, heading)
	}
	for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```ini"; i++ {
		if strings.HasPrefix(lines[i], "#") {
			t.Fatalf("%s:%d: next heading before a ```ini block under %q", path, i+1, heading)
		}
	}
	var block []string
	for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
		block = append(block, lines[i])
	}
	if i == len(lines) || len(block) == 0 {
		t.Fatalf("%s: empty or unterminated ```ini block under %q", path, heading)
	}
	return strings.Join(block, "\n") + "\n"
}

// loadText writes text to a temporary config.ini and loads it with Load.
func loadText(t *testing.T, text string) Config {
	t.Helper()
	path := filepath.Join(t.TempDir(), FileName)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	c, warn, err := Load(path)
	if err != nil || len(warn) != 0 {
		t.Fatalf("Load: err %v warnings %q\n%s", err, warn, text)
	}
	return c
}

// TestReadmeExample loads the config.ini shown in the project README.
func TestReadmeExample(t *testing.T) {
	text := iniBlock(t, "../../README.md", "## Configuration: config.ini")
	if !strings.Contains(text, "  ; ") {
		t.Fatal("README example has no inline comment: this test no longer covers them")
	}
	checkExample(t, loadText(t, text), "pcaps", "output", "whitelist.txt", true)
}

// checkExample compares a documented example's configuration with what
// it should give: the defaults but for these settings and
// ignore_parsed_pcaps, which both examples turn on.
func checkExample(t *testing.T, got Config, pcapDir, outputDir, allowlist string, enable bool) {
	t.Helper()
	want := Default()
	want.PcapDir, want.OutputDir = pcapDir, outputDir
	want.IgnoreParsed, want.Recursive, want.RenameParsed = true, false, false
	want.Allowlist, want.EnableAllowlist = allowlist, enable
	want.Checks = checks.Config{
		MaxLabelLen: 40, MaxEntropy: 4.5, MinHexRun: 20, RareSymbols: true, CheckUTF8: true,
		LongLabelLevel: checks.High, RareSymbolsLevel: checks.High, HighEntropyLevel: checks.High,
		HexLevel: checks.Medium, NotUTF8Level: checks.Certain,
	}
	want.ChecksOnly = false
	want.Engine.MaxMemory, want.Engine.Window = 160<<20, 10*time.Minute
	want.DNSPorts = []uint16{53}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
}

// TestDeployExample loads deploy/config.ini.example as shipped.
func TestDeployExample(t *testing.T) {
	b, err := os.ReadFile("../../deploy/config.ini.example")
	if err != nil {
		t.Fatal(err)
	}
	checkExample(t, loadText(t, string(b)), "", "/var/lib/dnsieve", "/etc/dnsieve/allowlist.txt", false)
}

// oracleComment matches where configparser (Python 3.13, which strips
// inline comments with a regular expression) cuts a line: the leftmost
// ';' or '#' at the start or after a space or tab.
var oracleComment = regexp.MustCompile(`(^|[ \t])[;#]`)

// oracleStrip removes the comment of every line of data.
func oracleStrip(data string) string {
	lines := strings.Split(data, "\n")
	for i, l := range lines {
		if loc := oracleComment.FindStringIndex(strings.TrimSpace(l)); loc != nil {
			lines[i] = strings.TrimSpace(l)[:loc[0]]
		}
	}
	return strings.Join(lines, "\n")
}

// FuzzParse checks that Parse does not panic, that its errors name a line
// of the input, and that comments never change the result: a file reads
// exactly as the same file with every comment cut off by an independent
// (regular expression) oracle, so no comment text reaches a value.
func FuzzParse(f *testing.F) {
	f.Add(oldFile)
	f.Add("[checks]   ; new\nmax_entropy = 4.5 ; bits\n[whitelist settings]\nwhitelist = a#b ;c\n")
	f.Add("[files settings]\npcap_dir =   ; none\nignore_parsed_pcaps = true\t# x\n")
	f.Add("[network]\ndns_ports = 53, 853 ;x\n[checks];y\n")
	f.Add("[engine]\nenabled = off ; x\nwindow_minutes = 1.5#x\n")
	f.Fuzz(func(t *testing.T, data string) {
		// model = PATH reads a file; keep the fuzzer away from /dev/zero.
		if len(data) > 32<<10 || strings.Contains(strings.ToLower(data), "model") {
			t.Skip()
		}
		c1, w1, err1 := Parse(strings.NewReader(data), "f.ini")
		if e, ok := err1.(*Error); ok && (e.Line < 1 || e.Line > strings.Count(data, "\n")+1) {
			t.Fatalf("error on line %d of a %d-line input: %v", e.Line, strings.Count(data, "\n")+1, e)
		}
		c2, w2, err2 := Parse(strings.NewReader(oracleStrip(data)), "f.ini")
		if errString(err1) != errString(err2) || !reflect.DeepEqual(w1, w2) || !reflect.DeepEqual(c1, c2) {
			t.Fatalf("comments changed the result\nwith:    %+v %q %v\nwithout: %+v %q %v",
				c1, w1, err1, c2, w2, err2)
		}
	})
}

// FuzzInlineComment builds "whitelist = VALUE<sp>;COMMENT" lines and checks
// the value read against the oracle, and that no part of the comment is in
// it.
func FuzzInlineComment(f *testing.F) {
	f.Add("a#b.txt", "note", byte(0))
	f.Add("x ;y", "z", byte(1))
	f.Add("  ", "only a comment", byte(2))
	f.Add("http://h/p#f", "#;", byte(3))
	f.Fuzz(func(t *testing.T, value, comment string, sep byte) {
		if strings.ContainsAny(value+comment, "\n") {
			t.Skip()
		}
		prefix := []string{" ;", "\t#", "   #", " \t;"}[sep%4]
		line := "whitelist = " + value + prefix + comment
		c, _, err := Parse(strings.NewReader("[whitelist settings]\n"+line+"\n"), "f.ini")
		if err != nil {
			t.Fatal(err)
		}
		want := strings.TrimSpace(strings.TrimPrefix(oracleStrip(line), "whitelist ="))
		if c.Allowlist != want {
			t.Fatalf("%q: got %q, want %q", line, c.Allowlist, want)
		}
		if v := strings.TrimSpace(value); !strings.HasPrefix(v, c.Allowlist) {
			t.Fatalf("%q: value %q is not a prefix of %q: comment text leaked", line, c.Allowlist, v)
		}
	})
}

// TestDidYouMean checks the suggestions for unknown keys and sections:
// the closest known name within two edits, none beyond.
func TestDidYouMean(t *testing.T) {
	_, warn, err := Parse(strings.NewReader("[files settings]\nignore_parsed_pcap = true\nzzz = 1\n[whitelist setting]\n"), "t.ini")
	want := []string{
		`t.ini:2: unknown key "ignore_parsed_pcap" in [files settings] ignored (did you mean ignore_parsed_pcaps?)`,
		`t.ini:3: unknown key "zzz" in [files settings] ignored`,
		`t.ini:4: unknown section [whitelist setting] ignored (did you mean [whitelist settings]?)`,
	}
	if err != nil || !slices.Equal(warn, want) {
		t.Errorf("err %v warnings %q, want %q", err, warn, want)
	}
	for _, c := range []struct {
		a, b string
		want int
	}{{"kitten", "sitting", 3}, {"abc", "abc", 0}, {"ab", "ba", 2}, {"", "ab", 2}, {"a", "abcdef", 3}} {
		if got := editDistance(c.a, c.b, 3); got != c.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
