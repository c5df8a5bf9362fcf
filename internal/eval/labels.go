package eval

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Entry is one labelled capture.
type Entry struct {
	File            string   `json:"file"`
	ExpectedVerdict string   `json:"expected_verdict"`
	Tool            string   `json:"tool,omitempty"`
	TunnelDomains   []string `json:"tunnel_domains"`
	TunnelRegex     string   `json:"tunnel_regex,omitempty"`
	RawTunnel       bool     `json:"raw_tunnel,omitempty"`

	path string
	rx   *regexp.Regexp
}

// Labels is a labels.json file.
type Labels struct {
	Files []Entry `json:"files"`
	dir   string
}

// LoadLabels reads a labels.json; relative file paths are relative to it.
func LoadLabels(path string) (*Labels, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var l Labels
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	l.dir = filepath.Dir(path)
	for i := range l.Files {
		e := &l.Files[i]
		e.path = e.File
		if !filepath.IsAbs(e.path) {
			e.path = filepath.Join(l.dir, e.File)
		}
		if e.TunnelRegex != "" {
			if e.rx, err = regexp.Compile(e.TunnelRegex); err != nil {
				return nil, fmt.Errorf("%s: %s: tunnel_regex: %w", path, e.File, err)
			}
		}
		for j, d := range e.TunnelDomains {
			e.TunnelDomains[j] = strings.TrimSuffix(strings.ToLower(d), ".")
		}
	}
	return &l, nil
}

// Path is the capture's path on disk.
func (e *Entry) Path() string { return e.path }

// IsTunnel reports whether a packet whose first query name is q (lowercased,
// as Wireshark prints it) is tunnel traffic under the labels: at or below a
// tunnel domain, matching the pattern, or (raw_tunnel) a DNS-port packet
// without a parseable name.
func (e *Entry) IsTunnel(q string) bool {
	for _, d := range e.TunnelDomains {
		if q == d || strings.HasSuffix(q, "."+d) {
			return true
		}
	}
	if e.RawTunnel && (q == "" || strings.HasPrefix(q, "<")) {
		return true
	}
	return e.rx != nil && e.rx.MatchString(q)
}

// coversDomain reports whether a finding's domain names a labelled tunnel
// domain: the same name, or one is below the other (a finding may name the
// registered domain of a deeper tunnel zone, or the zone itself).
func (e *Entry) coversDomain(domain string) bool {
	domain = strings.ToLower(domain)
	for _, d := range e.TunnelDomains {
		if domain == d || strings.HasSuffix(domain, "."+d) || strings.HasSuffix(d, "."+domain) {
			return true
		}
	}
	return false
}

// toolName normalises a label's tool ("iodine-raw" is iodine in raw mode).
func toolName(t string) string {
	t = strings.ToLower(t)
	if i := strings.IndexByte(t, '-'); i > 0 && t[:i] == "iodine" {
		return "iodine"
	}
	return t
}
