package model

import (
	"math"

	"github.com/dnsieve/dnsieve/internal/engine"
)

// feature is one input of the model: how it is read from the engine's
// features, how it is transformed, and how it is said to an analyst.
type feature struct {
	name string
	// raw reads the value an analyst sees (before any transform).
	raw func(f *engine.Features) float64
	// log applies log1p to the raw value (counts and byte sizes, whose
	// effect is multiplicative).
	log bool
	// lo and hi clamp the raw value: hostile or degenerate inputs (NaN,
	// infinities, absurd sizes) cannot push a score anywhere.
	lo, hi float64
	// words describes the raw value; format is a printf verb for it.
	words, format string
}

// share divides safely: 0 when the denominator is 0.
func share(n, d uint64) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}

// catalogue lists every feature the model may use, in the order of the
// model file. Left out on purpose: tool fingerprint counts and raw tunnel
// packets (the model judges behaviour, the fingerprints name the tool, and
// a tunnel nobody fingerprinted must still be judged); the number of
// clients and the share of mixed-case names (they depend on where the
// sensor sits: a capture on one host has one client for every domain, and
// a sensor behind a resolver with 0x20 randomisation sees mixed case
// everywhere); time and rates (they depend on the capture's length).
var catalogue = []feature{
	{name: "unique_names", raw: func(f *engine.Features) float64 { return float64(f.Unique) }, log: true, hi: 1e9,
		words: "distinct subdomains", format: "%.0f"},
	{name: "unique_ratio", raw: func(f *engine.Features) float64 { return f.UniqueRatio }, hi: 1,
		words: "distinct subdomains per lookup", format: "%.2f"},
	{name: "info_bytes", raw: func(f *engine.Features) float64 { return f.InfoBytes }, log: true, hi: 1e12,
		words: "information carried by distinct names (compressed bytes)", format: "%.0f"},
	{name: "info_per_name", raw: func(f *engine.Features) float64 { return f.InfoPerName }, hi: 255,
		words: "information per distinct name (compressed bytes)", format: "%.1f"},
	{name: "mean_subdomain_length", raw: func(f *engine.Features) float64 { return f.MeanSubLen }, hi: 255,
		words: "mean subdomain length (bytes)", format: "%.0f"},
	{name: "subdomain_length_stddev", raw: func(f *engine.Features) float64 { return f.SubLenStddev }, hi: 255,
		words: "spread of data-like subdomain lengths (bytes)", format: "%.1f"},
	{name: "max_label_length", raw: func(f *engine.Features) float64 { return float64(f.MaxLabel) }, hi: 255,
		words: "longest label (bytes)", format: "%.0f"},
	{name: "ngram_bits", raw: func(f *engine.Features) float64 { return f.NgramBits }, lo: -16, hi: 0,
		words: "likeness to ordinary host names (bits/char, lower is stranger)", format: "%.1f"},
	{name: "data_name_share", raw: func(f *engine.Features) float64 { return share(f.DataNames, f.Unique) }, hi: 1,
		words: "share of distinct names that look like encoded data", format: "%.2f"},
	{name: "ip_shaped_share", raw: func(f *engine.Features) float64 { return share(f.IPShaped, f.Unique) }, hi: 1,
		words: "share of names shaped like reversed IP addresses", format: "%.2f"},
	{name: "digest_share", raw: func(f *engine.Features) float64 { return share(f.DigestNames, f.DataNames) }, hi: 1,
		words: "share of data-like names holding one hash-sized label", format: "%.2f"},
	{name: "rare_type_share", raw: func(f *engine.Features) float64 { return f.RareTypeShare }, hi: 1,
		words: "share of queries for NULL, KEY, private-use or obsolete records", format: "%.2f"},
	{name: "data_type_share", raw: func(f *engine.Features) float64 { return f.DataTypeShare }, hi: 1,
		words: "share of queries for TXT, CNAME, MX or SRV records", format: "%.2f"},
	{name: "nxdomain_share", raw: func(f *engine.Features) float64 { return f.NXShare }, hi: 1,
		words: "share of answers that are NXDOMAIN", format: "%.2f"},
	{name: "answer_bytes", raw: func(f *engine.Features) float64 { return f.AnswerBytes }, log: true, hi: 65535,
		words: "answer data per response (bytes)", format: "%.0f"},
	{name: "flagged_share", raw: func(f *engine.Features) float64 { return f.FlaggedShare }, hi: 1,
		words: "share of messages failing the per-name checks", format: "%.2f"},
}

// FeatureNames lists the features a model can use, in catalogue order.
func FeatureNames() []string {
	out := make([]string, len(catalogue))
	for i, c := range catalogue {
		out[i] = c.name
	}
	return out
}

// rawValue reads feature c of f, clamped and with NaN as 0.
func (c *feature) rawValue(f *engine.Features) float64 {
	v := c.raw(f)
	if math.IsNaN(v) {
		return 0
	}
	return math.Min(c.hi, math.Max(c.lo, v))
}

// transform maps a raw value to the model's scale.
func (c *feature) transform(v float64) float64 {
	if c.log {
		return math.Log1p(v)
	}
	return v
}

// lookup returns the catalogue entry of a feature name.
func lookup(name string) (*feature, bool) {
	for i := range catalogue {
		if catalogue[i].name == name {
			return &catalogue[i], true
		}
	}
	return nil, false
}

// Inputs returns every catalogue feature of f on the model's scale, in
// FeatureNames order (for training).
func Inputs(f *engine.Features) []float64 {
	x := make([]float64, len(catalogue))
	for i := range catalogue {
		c := &catalogue[i]
		x[i] = c.transform(c.rawValue(f))
	}
	return x
}

// RawInputs returns every catalogue feature of f before transforms, in
// FeatureNames order (for reports).
func RawInputs(f *engine.Features) []float64 {
	x := make([]float64, len(catalogue))
	for i := range catalogue {
		x[i] = catalogue[i].rawValue(f)
	}
	return x
}

// IsLog reports whether a feature is read through log1p.
func IsLog(name string) bool {
	c, ok := lookup(name)
	return ok && c.log
}
