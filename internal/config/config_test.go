package config

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dnsieve/dnsieve/internal/checks"
)

// oldFile is a config.ini as the old tool shipped it.
const oldFile = `[files settings]
pcap_dir = pcaps
output_dir: results
ignore_parsed_pcaps = True

[whitelist settings]
whitelist = whitelist.txt
enable_whitelist = yes
`

func TestOldFile(t *testing.T) {
	c, warn, err := Parse(strings.NewReader(oldFile), "config.ini")
	if err != nil || len(warn) != 0 {
		t.Fatalf("err %v warnings %v", err, warn)
	}
	want := Default()
	want.PcapDir, want.OutputDir, want.IgnoreParsed = "pcaps", "results", true
	want.Allowlist, want.EnableAllowlist = "whitelist.txt", true
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got %+v\nwant %+v", c, want)
	}
}

func TestNewKeys(t *testing.T) {
	c, warn, err := Parse(strings.NewReader(`[CHECKS]
Max_Label_Length = 50
max_entropy = 4.0
min_hex_run = 0
hex_level = high
rare_symbols = off
[network]
dns_ports = 53, 5353 853
[engine]
max_memory_mb = 64
window_minutes = 5
judge_known_services = yes
[files settings]
recursive = on
rename_parsed = 1
[extra]
foo = bar
`), "x.ini")
	if err != nil {
		t.Fatal(err)
	}
	if len(warn) != 1 || !strings.Contains(warn[0], "x.ini:16: unknown section [extra]") {
		t.Fatalf("warnings %q", warn)
	}
	if c.Checks.MaxLabelLen != 50 || c.Checks.MaxEntropy != 4.0 || c.Checks.MinHexRun != 0 ||
		c.Checks.HexLevel != checks.High || c.Checks.RareSymbols || !c.Recursive || !c.RenameParsed {
		t.Fatalf("checks %+v", c)
	}
	if c.Engine.MaxMemory != 64<<20 || c.Engine.Window != 5*time.Minute || !c.Engine.JudgeKnownServices {
		t.Fatalf("engine %+v", c.Engine)
	}
	if !reflect.DeepEqual(c.DNSPorts, []uint16{53, 5353, 853}) {
		t.Fatalf("ports %v", c.DNSPorts)
	}
}

func TestErrorsNameTheLine(t *testing.T) {
	cases := map[string]string{
		"[files settings]\nignore_parsed_pcaps = maybe\n": "f.ini:2: ignore_parsed_pcaps",
		"pcap_dir = x\n":                    "f.ini:1: key outside",
		"[checks]\nmax_entropy = nine\n":    "f.ini:2: max_entropy",
		"[checks]\n\nhex_level = extreme\n": "f.ini:3: hex_level",
		"[network]\ndns_ports = 53,70000\n": "f.ini:2: dns_ports",
		"[files settings\n":                 "f.ini:1: unterminated",
		"[files settings]\njust words\n":    "f.ini:2: expected key = value",
	}
	for in, want := range cases {
		_, _, err := Parse(strings.NewReader(in), "f.ini")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want error containing %q", in, err, want)
		}
	}
}

func TestUnknownKeyWarns(t *testing.T) {
	_, warn, err := Parse(strings.NewReader("[whitelist settings]\nwhitelst = a.txt\n"), "c.ini")
	if err != nil || len(warn) != 1 || !strings.Contains(warn[0], `c.ini:2: unknown key "whitelst"`) {
		t.Fatalf("err %v warn %q", err, warn)
	}
}
