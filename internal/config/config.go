package config

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/dnsieve/dnsieve/internal/checks"
	"github.com/dnsieve/dnsieve/internal/engine"
	"github.com/dnsieve/dnsieve/internal/model"
)

// FileName is the name under which the config is looked for in the working
// directory when --config is not given.
const FileName = "config.ini"

// Config is the run configuration after the file was read; command-line
// flags are applied on top of it by the caller.
type Config struct {
	// PcapDir is the input directory used when no path is given.
	PcapDir string
	// OutputDir receives out.csv, stats.json, out.log and the state file.
	OutputDir string
	// IgnoreParsed skips captures already recorded in the state file.
	IgnoreParsed bool
	// Recursive descends into subdirectories of input directories.
	Recursive bool
	// RenameParsed renames each processed capture to *_parsed.<ext>, as the
	// old tool did.
	RenameParsed bool
	// Allowlist is the allowlist file; EnableAllowlist turns it on.
	Allowlist       string
	EnableAllowlist bool
	// DNSPorts are the UDP and TCP ports whose traffic is decoded as DNS.
	DNSPorts []uint16
	// Checks are the per-message check thresholds.
	Checks checks.Config
	// Engine bounds the behavioural engine.
	Engine engine.Config
	// ChecksOnly turns the behavioural engine off: out.csv then holds the
	// per-message checks at their own levels, as the old tool wrote them.
	ChecksOnly bool
}

// Default returns the configuration used when no file is given: the
// learned model (shipped in the binary) decides verdicts.
func Default() Config {
	c := Config{
		OutputDir: "output",
		DNSPorts:  []uint16{53},
		Checks:    checks.Default(),
	}
	c.Engine.Scorer = model.Default()
	return c
}

// SetModel chooses how verdicts are decided: "builtin" (the learned model
// shipped in the binary), "rules" (the hand-set points), or the path of a
// model file written by `dnsieve train`.
func (c *Config) SetModel(v string) error {
	switch v {
	case "", "builtin":
		c.Engine.Scorer = model.Default()
	case "rules", "none":
		c.Engine.Scorer = nil
	default:
		m, err := model.Load(v)
		if err != nil {
			return err
		}
		c.Engine.Scorer = m
	}
	return nil
}

// Error is a config problem at a line of a file.
type Error struct {
	File string
	Line int
	Msg  string
}

// Error formats the problem as FILE:LINE: message.
func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// Load reads the file at path over Default(). Unknown sections and keys are
// returned as warnings (a typo should be seen, but an old file with extra
// keys must still work); malformed lines and values are errors.
func Load(path string) (Config, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, nil, err
	}
	defer f.Close()
	return Parse(f, path)
}

// Parse reads a config from r; name is used in errors and warnings.
//
// Comments follow Python's configparser with comment_prefixes and
// inline_comment_prefixes both (";", "#"), as the old tool read its files:
// a line whose first non-blank character is ';' or '#' is a comment, and on
// a key or section line a ';' or '#' preceded by a space or tab starts a
// comment that runs to the end of the line. A ';' or '#' right after any
// other character is part of the text ("a#b.txt", "http://h/p#frag").
// Values are trimmed, so "key =   ; note" sets key to "", as "key =" does.
// Continuation lines (indented lines extending the previous value) are not
// supported: such a line is read as a line of its own.
func Parse(r io.Reader, name string) (Config, []string, error) {
	c := Default()
	var warnings []string
	section := ""
	sc := bufio.NewScanner(r)
	n := 1
	for ; sc.Scan(); n++ {
		line := stripComment(sc.Text())
		if line == "" {
			continue
		}
		if line[0] == '[' {
			end := strings.LastIndexByte(line, ']')
			switch {
			case end < 0:
				return c, warnings, &Error{name, n, "unterminated section header"}
			// Python's configparser would ignore text after "]"; it is kept an
			// error here, as before, since it is mostly a comment without
			// the space in front.
			case end != len(line)-1:
				return c, warnings, &Error{name, n, fmt.Sprintf("text after ']' in section header %q (a comment needs a space before ';' or '#')", line)}
			}
			section = strings.ToLower(strings.TrimSpace(line[1:end]))
			if _, ok := known[section]; !ok {
				warnings = append(warnings, fmt.Sprintf("%s:%d: unknown section [%s] ignored%s", name, n, section,
					didYouMean(section, maps.Keys(known), "[", "]")))
			}
			continue
		}
		i := strings.IndexAny(line, "=:")
		if i < 0 {
			return c, warnings, &Error{name, n, fmt.Sprintf("expected key = value, got %q", line)}
		}
		key := strings.ToLower(strings.TrimSpace(line[:i]))
		val := strings.TrimSpace(line[i+1:])
		if section == "" {
			return c, warnings, &Error{name, n, "key outside of any [section]"}
		}
		keys, ok := known[section]
		if !ok {
			continue
		}
		set, ok := keys[key]
		if !ok {
			warnings = append(warnings, fmt.Sprintf("%s:%d: unknown key %q in [%s] ignored%s", name, n, key, section,
				didYouMean(key, maps.Keys(keys), "", "")))
			continue
		}
		if err := set(&c, val); err != nil {
			return c, warnings, &Error{name, n, fmt.Sprintf("%s: %v", key, err)}
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return c, warnings, &Error{name, n, fmt.Sprintf("line longer than %d bytes", bufio.MaxScanTokenSize)}
		}
		return c, warnings, err
	}
	return c, warnings, nil
}

// stripComment returns line without its comment, trimmed of white space
// (see Parse): the text before the first ';' or '#' that begins the line or
// follows a space or tab. Both are ASCII, so a byte scan is safe on UTF-8.
func stripComment(line string) string {
	line = strings.TrimSpace(line)
	for i := 0; i < len(line); i++ {
		if c := line[i]; c == ';' || c == '#' {
			if i == 0 || line[i-1] == ' ' || line[i-1] == '\t' {
				return strings.TrimSpace(line[:i])
			}
		}
	}
	return line
}

type setter func(*Config, string) error

// known maps section -> key -> setter.
var known = map[string]map[string]setter{
	"files settings": {
		"pcap_dir":            str(func(c *Config) *string { return &c.PcapDir }),
		"output_dir":          str(func(c *Config) *string { return &c.OutputDir }),
		"ignore_parsed_pcaps": boolean(func(c *Config) *bool { return &c.IgnoreParsed }),
		"recursive":           boolean(func(c *Config) *bool { return &c.Recursive }),
		"rename_parsed":       boolean(func(c *Config) *bool { return &c.RenameParsed }),
	},
	"whitelist settings": {
		"whitelist":        str(func(c *Config) *string { return &c.Allowlist }),
		"enable_whitelist": boolean(func(c *Config) *bool { return &c.EnableAllowlist }),
	},
	"checks": {
		"max_label_length":   integer(func(c *Config) *int { return &c.Checks.MaxLabelLen }),
		"max_entropy":        float(func(c *Config) *float64 { return &c.Checks.MaxEntropy }),
		"min_hex_run":        integer(func(c *Config) *int { return &c.Checks.MinHexRun }),
		"rare_symbols":       boolean(func(c *Config) *bool { return &c.Checks.RareSymbols }),
		"check_utf8":         boolean(func(c *Config) *bool { return &c.Checks.CheckUTF8 }),
		"label_length_level": level(func(c *Config) *checks.Level { return &c.Checks.LongLabelLevel }),
		"rare_symbols_level": level(func(c *Config) *checks.Level { return &c.Checks.RareSymbolsLevel }),
		"entropy_level":      level(func(c *Config) *checks.Level { return &c.Checks.HighEntropyLevel }),
		"hex_level":          level(func(c *Config) *checks.Level { return &c.Checks.HexLevel }),
		"utf8_level":         level(func(c *Config) *checks.Level { return &c.Checks.NotUTF8Level }),
	},
	"engine": {
		"model": func(c *Config, v string) error { return c.SetModel(v) },
		"enabled": func(c *Config, v string) error {
			b, err := ParseBool(v)
			c.ChecksOnly = !b
			return err
		},
		"max_memory_mb": func(c *Config, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 16 || n > 1<<20 {
				return fmt.Errorf("want megabytes from 16 to 1048576, got %q", v)
			}
			c.Engine.MaxMemory = n << 20
			return nil
		},
		"judge_known_services": boolean(func(c *Config) *bool { return &c.Engine.JudgeKnownServices }),
		"window_minutes": func(c *Config, v string) error {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil || n <= 0 || n > 7*24*60 {
				return fmt.Errorf("want minutes from 0 to 10080, got %q", v)
			}
			c.Engine.Window = time.Duration(n * float64(time.Minute))
			return nil
		},
	},
	"network": {
		"dns_ports": func(c *Config, v string) error {
			ports, err := ParsePorts(v)
			if err == nil {
				c.DNSPorts = ports
			}
			return err
		},
	},
}

func str(f func(*Config) *string) setter {
	return func(c *Config, v string) error { *f(c) = v; return nil }
}

func boolean(f func(*Config) *bool) setter {
	return func(c *Config, v string) error {
		b, err := ParseBool(v)
		*f(c) = b
		return err
	}
}

func integer(f func(*Config) *int) setter {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("want a whole number >= 0, got %q", v)
		}
		*f(c) = n
		return nil
	}
}

func float(f func(*Config) *float64) setter {
	return func(c *Config, v string) error {
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || x < 0 || x > 8 {
			return fmt.Errorf("want a number from 0 to 8 (bits per byte), got %q", v)
		}
		*f(c) = x
		return nil
	}
}

func level(f func(*Config) *checks.Level) setter {
	return func(c *Config, v string) error {
		l, ok := checks.ParseLevel(v)
		if !ok {
			return fmt.Errorf("want low, medium, high or 100%%, got %q", v)
		}
		*f(c) = l
		return nil
	}
}

// ParseBool reads a boolean the way Python's configparser does.
func ParseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "yes", "true", "on":
		return true, nil
	case "0", "no", "false", "off":
		return false, nil
	}
	return false, fmt.Errorf("want true/false (yes/no, on/off, 1/0), got %q", v)
}

// ParsePorts reads a comma- or space-separated list of port numbers.
func ParsePorts(v string) ([]uint16, error) {
	var ports []uint16
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		n, err := strconv.ParseUint(f, 10, 16)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("bad port %q", f)
		}
		ports = append(ports, uint16(n))
	}
	if len(ports) == 0 {
		return nil, fmt.Errorf("no ports in %q", v)
	}
	return ports, nil
}

// didYouMean returns " (did you mean NAME?)" for the known name closest to
// got, within two edits (a typo), or "" when none is that close.
func didYouMean(got string, known iter.Seq[string], open, close string) string {
	best := Nearest(got, known)
	if best == "" {
		return ""
	}
	return " (did you mean " + open + best + close + "?)"
}

// Nearest returns the known name closest to got within two edits (a typo;
// ties go to the alphabetically first), or "" when none is that close.
func Nearest(got string, known iter.Seq[string]) string {
	best, bestD := "", 3
	for k := range known {
		if d := editDistance(got, k, 3); d < bestD || d == bestD && d < 3 && k < best {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, or limit when
// it is at least limit (names are short; the bound keeps hostile input
// cheap).
func editDistance(a, b string, limit int) int {
	if d := len(a) - len(b); d >= limit || -d >= limit || len(a) > 64 || len(b) > 64 {
		return limit
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], limit)
}
