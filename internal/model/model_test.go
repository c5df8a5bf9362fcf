package model

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dnsieve/dnsieve/internal/engine"
)

// tunnelish is an iodine-like domain's features.
func tunnelish() engine.Features {
	return engine.Features{Lookups: 220, Queries: 220, Responses: 220, Unique: 219, UniqueRatio: 0.995, DataNames: 215,
		InfoBytes: 30000, InfoPerName: 150, MeanSubLen: 200, SubLenStddev: 60, MaxLabel: 62, NgramBits: -8.1,
		RareTypeShare: 1, AnswerBytes: 30, FlaggedShare: 0.95, Clients: 1}
}

// ordinary is a CDN-like domain's features.
func ordinary() engine.Features {
	return engine.Features{Lookups: 300, Queries: 300, Responses: 300, Unique: 40, UniqueRatio: 0.13, DataNames: 2,
		InfoBytes: 300, InfoPerName: 7, MeanSubLen: 12, MaxLabel: 20, NgramBits: -4.5, AnswerBytes: 40, Clients: 30}
}

func TestDefaultParsesAndRoundTrips(t *testing.T) {
	m := Default()
	if m.Version != Version || len(m.Features) == 0 {
		t.Fatalf("default model: version %d, %d features", m.Version, len(m.Features))
	}
	b, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, DefaultJSON()) {
		t.Errorf("re-encoding the shipped model changes it:\n%s", b)
	}
	m2, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := m2.Bytes()
	if !bytes.Equal(b, b2) {
		t.Error("round trip changes the bytes")
	}
	for _, name := range m.Features {
		if strings.Contains(name, "tool") || name == "clients" || name == "mixed_case_share" {
			t.Errorf("feature %q must not be a model input", name)
		}
	}
}

// oracle computes p straight from the JSON file.
func oracle(t *testing.T, raw []byte, f *engine.Features) float64 {
	var j struct {
		Features               []string
		Means, Scales, Weights []float64
		Bias                   float64
	}
	if err := json.Unmarshal(raw, &j); err != nil {
		t.Fatal(err)
	}
	all := FeatureNames()
	x := Inputs(f)
	z := j.Bias
	for i, name := range j.Features {
		for k, n := range all {
			if n == name {
				z += j.Weights[i] * (x[k] - j.Means[i]) / j.Scales[i]
			}
		}
	}
	return 1 / (1 + math.Exp(-z))
}

func TestScoreMatchesOracleAndContributions(t *testing.T) {
	m := Default()
	for _, f := range []engine.Features{tunnelish(), ordinary(), {}} {
		p, cs := m.Score(&f)
		if want := oracle(t, DefaultJSON(), &f); math.Abs(p-want) > 1e-12 {
			t.Errorf("p = %v, oracle %v", p, want)
		}
		if q := m.Probability(&f); q != p {
			t.Errorf("Probability %v != Score %v", q, p)
		}
		z := m.Bias
		for i, c := range cs {
			z += c.Effect
			if i > 0 && c.Effect > cs[i-1].Effect {
				t.Error("contributions not sorted by effect")
			}
			if c.Words == "" {
				t.Error("contribution without words")
			}
		}
		if math.Abs(Sigmoid(z)-p) > 1e-12 {
			t.Errorf("contributions do not add up: %v vs %v", Sigmoid(z), p)
		}
	}
	pt, _ := m.Score(&[]engine.Features{tunnelish()}[0])
	po, _ := m.Score(&[]engine.Features{ordinary()}[0])
	if pt < m.Thresholds.High || po >= m.Thresholds.Low {
		t.Errorf("tunnel p %v (high from %v), ordinary p %v (low from %v)", pt, m.Thresholds.High, po, m.Thresholds.Low)
	}
}

func TestScoreMonotonicInInformation(t *testing.T) {
	m := Default()
	// More distinct-name information (more, longer, less compressible
	// names) must never lower the score.
	f := ordinary()
	start := m.Probability(&f)
	prev := -1.0
	for i := 0; i < 12; i++ {
		p := m.Probability(&f)
		if p < prev {
			t.Fatalf("step %d: p fell from %v to %v", i, prev, p)
		}
		if i > 0 && p == prev {
			t.Fatalf("step %d: p did not rise (%v)", i, p)
		}
		prev = p
		f.InfoBytes *= 2
		f.InfoPerName += 10
		f.MeanSubLen += 12
		f.MaxLabel = min(63, f.MaxLabel+4)
		f.NgramBits -= 0.3
	}
	if prev < 5*start {
		t.Errorf("p rose only from %v to %v", start, prev)
	}
}

func TestVectorSafe(t *testing.T) {
	m := Default()
	nan, inf := math.NaN(), math.Inf(1)
	for _, f := range []engine.Features{
		{},
		{UniqueRatio: nan, InfoPerName: inf, MeanSubLen: -inf, NgramBits: nan, AnswerBytes: inf, InfoBytes: inf, Unique: math.MaxUint64},
		{NgramBits: -1e300, RareTypeShare: 7, FlaggedShare: -3},
	} {
		x := m.Vector(&f)
		if len(x) != len(m.Features) {
			t.Fatalf("vector of %d for %d features", len(x), len(m.Features))
		}
		for i, v := range x {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Errorf("%v: %s = %v", f, m.Features[i], v)
			}
		}
		if p := m.Probability(&f); !(p >= 0 && p <= 1) {
			t.Errorf("p = %v", p)
		}
	}
	// Zero features read as zero before the transform.
	for i, v := range RawInputs(&engine.Features{}) {
		if v != 0 {
			t.Errorf("%s of zero features = %v", FeatureNames()[i], v)
		}
	}
	if got := Inputs(&engine.Features{Unique: 9})[0]; got != math.Log1p(9) {
		t.Errorf("unique_names transform = %v, want log1p(9)", got)
	}
}

func TestParseRejects(t *testing.T) {
	good := string(DefaultJSON())
	cases := map[string]string{
		"malformed":        good[:len(good)/2],
		"empty":            "",
		"version":          strings.Replace(good, `"version": 1`, `"version": 2`, 1),
		"unknown field":    strings.Replace(good, `"seed":`, `"colour": 1, "seed":`, 1),
		"trailing":         good + "{}",
		"unknown feature":  strings.Replace(good, `"unique_names"`, `"tool_strong"`, 1),
		"duplicate":        strings.Replace(good, `"unique_ratio"`, `"unique_names"`, 1),
		"short list":       strings.Replace(good, `"weights": [`, `"weights": [1, `, 1),
		"thresholds order": strings.Replace(good, `"high": `, `"high": 0.01, "x": `, 1),
	}
	for name, s := range cases {
		if _, err := Parse([]byte(s)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	m := *Default()
	m.Scales = append([]float64(nil), m.Scales...)
	m.Scales[0] = 0
	if _, err := New(m); err == nil {
		t.Error("zero scale accepted")
	}
	m = *Default()
	m.Thresholds.High = 1
	if _, err := New(m); err == nil {
		t.Error("threshold 1 accepted")
	}
	dir := t.TempDir()
	if _, err := Load(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("missing file accepted")
	}
	p := filepath.Join(dir, "bad.json")
	os.WriteFile(p, []byte(cases["version"]), 0o644)
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), "version 2") {
		t.Errorf("Load of a version-2 file: %v", err)
	}
	p = filepath.Join(dir, "good.json")
	os.WriteFile(p, DefaultJSON(), 0o644)
	if m, err := Load(p); err != nil || m.Bias != Default().Bias {
		t.Errorf("Load of the shipped file: %v", err)
	}
}

func TestJudge(t *testing.T) {
	m := Default()
	f := tunnelish()
	d := m.Judge(&f)
	if d.Verdict != "tunnel" || d.Severity != engine.SeverityHigh || d.Fingerprinted {
		t.Fatalf("tunnel-like domain: %+v", d)
	}
	if len(d.Evidence) < 2 || !strings.HasPrefix(d.Evidence[0], "behaviour model: ") {
		t.Errorf("evidence: %q", d.Evidence)
	}
	if j := m.Verdict(&f); j.Verdict != d.Verdict || j.Severity != d.Severity || j.Score != d.P ||
		!slices.Equal(j.Evidence, d.Evidence) || !slices.Equal(j.Explained, d.Explained) {
		t.Errorf("Verdict disagrees with Judge: %+v", j)
	}
	// Every feature line after the headline names its feature, in order.
	if n := len(d.Explained); n == 0 || n != len(d.Evidence)-1 {
		t.Errorf("explained %q for evidence %q", d.Explained, d.Evidence)
	}
	for i, name := range d.Explained {
		c, ok := lookup(name)
		if !ok || !strings.Contains(d.Evidence[i+1], c.words) {
			t.Errorf("evidence line %q is not about %s", d.Evidence[i+1], name)
		}
	}
	// Below the gate: no verdict at all.
	small := tunnelish()
	small.Unique, small.DataNames = 9, 2
	if d := m.Judge(&small); d.Verdict != "" || d.Evidence != nil {
		t.Errorf("nine names, two of them data, judged: %+v", d)
	}
	// Nine names carrying unmistakable data (engine.Judgeable) are judged.
	small.DataNames = 9
	if d := m.Judge(&small); d.Verdict != "tunnel" {
		t.Errorf("nine data names carrying %.0f bytes not judged: %+v", small.InfoBytes, d)
	}
	// The fingerprint floor: a recognised protocol makes it medium (see
	// engine.ToolRecognised).
	fp := ordinary()
	fp.ToolStrong, fp.Tool = 6, "iodine"
	if d := m.Judge(&fp); d.Severity != engine.SeverityMedium || !d.Fingerprinted || d.ModelSeverity != engine.SeverityNone {
		t.Errorf("fingerprinted ordinary behaviour: %+v", d)
	}
	// A busy service's random name that meets a fingerprint by accident,
	// looked up twice (4 messages) in 600, raises nothing.
	fp.ToolStrong = 5
	if d := m.Judge(&fp); d.Verdict != "" || d.Fingerprinted {
		t.Errorf("5 strong messages in 600: %+v", d)
	}
	fp.ToolStrong, fp.RawPackets = 0, 5
	if d := m.Judge(&fp); d.Verdict != "tunnel" || !d.Fingerprinted {
		t.Errorf("raw tunnel packets: %+v", d)
	}
	o := ordinary()
	if d := m.Judge(&o); d.Verdict != "" {
		t.Errorf("ordinary domain: %+v", d)
	}
}

func TestExplainWords(t *testing.T) {
	m := Default()
	f := tunnelish()
	_, cs := m.Score(&f)
	lines := Explain(cs, 3, 1)
	if len(lines) == 0 || len(lines) > 4 {
		t.Fatalf("explanations: %q", lines)
	}
	if !strings.Contains(lines[0], " is ") || !strings.Contains(lines[0], "ordinary domains: about") {
		t.Errorf("first explanation: %q", lines[0])
	}
	if m.Severity(m.Thresholds.High) != engine.SeverityHigh || m.Severity(m.Thresholds.Medium) != engine.SeverityMedium ||
		m.Severity(0) != engine.SeverityNone {
		t.Error("Severity does not follow the thresholds")
	}
}

func BenchmarkScore(b *testing.B) {
	m := Default()
	f := tunnelish()
	b.ReportAllocs()
	for b.Loop() {
		m.Score(&f)
	}
}

func BenchmarkProbability(b *testing.B) {
	m := Default()
	f := tunnelish()
	b.ReportAllocs()
	for b.Loop() {
		m.Probability(&f)
	}
}

// TestNumber checks the explanation numbers: whole numbers with thousands
// separators, fractions as their format says.
func TestNumber(t *testing.T) {
	for _, c := range []struct {
		format string
		v      float64
		want   string
	}{
		{"%.0f", 82458, "82,458"}, {"%.0f", 999, "999"}, {"%.0f", 1000, "1,000"}, {"%.0f", -1234567, "-1,234,567"},
		{"%.0f", 0.4, "0"}, {"%.2f", 12345.678, "12345.68"}, {"%.1f", -3.75, "-3.8"},
	} {
		if got := number(c.format, c.v); got != c.want {
			t.Errorf("number(%q, %v) = %q, want %q", c.format, c.v, got, c.want)
		}
	}
}
