package train

import (
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/dnsieve/dnsieve/internal/engine"
	"github.com/dnsieve/dnsieve/internal/eval"
)

// Source is where samples came from: one labelled capture or one
// synthetic scenario.
type Source struct {
	// Name is the capture's path relative to its labels file, or the
	// synthetic scenario's name.
	Name string
	// Tool is the labelled tool of the source's tunnel domains
	// ("iodine", "dns2tcp", "synthetic-hex", ...; "" when none): the
	// leave-one-tool-out groups.
	Tool string
	// Network is where its benign domains were recorded (the capture, or
	// the synthetic family): the leave-one-network-out groups.
	Network string
	// Synthetic marks generated data.
	Synthetic bool
}

// Sample is one domain of one source, as the engine saw it at the end of
// the source (or, Early, part-way through).
type Sample struct {
	Source   Source
	Domain   string
	Tunnel   bool
	Early    bool
	Weight   float64
	Features engine.Features
	// Hand is the hand-tuned engine's severity for the domain (final
	// samples only), for comparison.
	Hand engine.Severity
}

// Traffic counts a source's lookups by label (every domain, also those
// too small to be samples): the denominators of false-positive rates.
type Traffic struct {
	TunnelLookups, BenignLookups uint64
}

// Dataset is every sample of a training or validation run.
type Dataset struct {
	Samples []Sample
	Sources []Source
	Traffic []Traffic // per source, parallel to Sources
}

// add appends a source's samples.
func (d *Dataset) add(src Source, s []Sample, tr Traffic) {
	d.Sources = append(d.Sources, src)
	d.Traffic = append(d.Traffic, tr)
	d.Samples = append(d.Samples, s...)
}

// Merge appends o to d.
func (d *Dataset) Merge(o *Dataset) {
	d.Samples = append(d.Samples, o.Samples...)
	d.Sources = append(d.Sources, o.Sources...)
	d.Traffic = append(d.Traffic, o.Traffic...)
}

// toolName normalises a label's tool ("iodine-raw" is iodine in raw
// mode), as eval does.
func toolName(t string) string {
	t = strings.ToLower(t)
	if i := strings.IndexByte(t, '-'); i > 0 && t[:i] == "iodine" {
		return "iodine"
	}
	return t
}

// FromLabels reads every capture of a labels.json into a dataset.
func FromLabels(path string) (*Dataset, error) {
	l, err := eval.LoadLabels(path)
	if err != nil {
		return nil, err
	}
	d := &Dataset{}
	for i := range l.Files {
		e := &l.Files[i]
		lab := labeler{domains: e.TunnelDomains, raw: e.RawTunnel}
		if e.TunnelRegex != "" {
			if lab.rx, err = regexp.Compile(e.TunnelRegex); err != nil {
				return nil, err
			}
		}
		f := newFeeder(lab)
		if err := f.readCapture(e.Path()); err != nil {
			return nil, err
		}
		src := Source{Name: e.File, Network: strings.TrimSuffix(filepath.ToSlash(e.File), filepath.Ext(e.File))}
		if e.ExpectedVerdict == "tunnel" {
			src.Tool = toolName(e.Tool)
			if src.Tool == "" {
				src.Tool = "unknown"
			}
		}
		s, tr := f.samples(src)
		d.add(src, s, tr)
	}
	return d, nil
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// String describes a sample for tables.
func (s *Sample) String() string {
	kind := "benign"
	if s.Tunnel {
		kind = "tunnel"
	}
	return fmt.Sprintf("%s %s (%s)", s.Source.Name, s.Domain, kind)
}
