package model

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/dnsieve/dnsieve/internal/engine"
)

// Version is the model file format this package reads and writes.
const Version = 1

// Thresholds are the probabilities at which a domain becomes a low,
// medium or high finding. Training sets them from the false-positive rate
// they produce on benign traffic.
type Thresholds struct {
	Low    float64 `json:"low"`
	Medium float64 `json:"medium"`
	High   float64 `json:"high"`
}

// Model is a regularised logistic regression over a domain's behaviour
// features: p = 1 / (1 + exp(-(Bias + Σ Weights[i]·(x[i]-Means[i])/Scales[i]))),
// where x is Vector's output.
type Model struct {
	// Version is the file format (must equal the package's Version).
	Version int `json:"version"`
	// TrainedOn says what the model was trained from (the recipe).
	TrainedOn string `json:"trained_on"`
	// Seed is the training seed (synthetic data generation).
	Seed int64 `json:"seed"`
	// Lambda is the L2 penalty it was trained with.
	Lambda float64 `json:"lambda"`
	// Features names the inputs, a subset of FeatureNames in any order.
	Features []string `json:"features"`
	// Means and Scales standardise each input.
	Means  []float64 `json:"means"`
	Scales []float64 `json:"scales"`
	// Weights are per standardised input; Bias is the intercept.
	Weights []float64 `json:"weights"`
	Bias    float64   `json:"bias"`
	// Thresholds map the probability to a severity.
	Thresholds Thresholds `json:"thresholds"`
	// TunnelTypical and BenignTypical are the median raw value of each
	// feature among tunnel and benign training domains: the reference
	// points of the explanations.
	TunnelTypical []float64 `json:"tunnel_typical"`
	BenignTypical []float64 `json:"benign_typical"`

	feats []*feature
}

//go:embed default_model.json
var defaultJSON []byte

var defaultModel *Model

// Default returns the model shipped in the binary. It panics if the
// embedded file is broken, which the package's tests rule out.
func Default() *Model {
	if defaultModel == nil {
		m, err := Parse(defaultJSON)
		if err != nil {
			panic("model: embedded default_model.json: " + err.Error())
		}
		defaultModel = m
	}
	return defaultModel
}

// DefaultJSON returns the bytes of the shipped model file.
func DefaultJSON() []byte { return bytes.Clone(defaultJSON) }

// Load reads a model file.
func Load(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Parse decodes and validates a model file.
func Parse(b []byte) (*Model, error) {
	var m Model
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	if dec.More() {
		return nil, errors.New("model: trailing data after the model")
	}
	if err := m.init(); err != nil {
		return nil, err
	}
	return &m, nil
}

// init validates the model and resolves its features.
func (m *Model) init() error {
	if m.Version != Version {
		return fmt.Errorf("model: version %d, this dnsieve reads version %d", m.Version, Version)
	}
	n := len(m.Features)
	if n == 0 {
		return errors.New("model: no features")
	}
	for _, s := range [][]float64{m.Means, m.Scales, m.Weights, m.TunnelTypical, m.BenignTypical} {
		if len(s) != n {
			return fmt.Errorf("model: %d features but a list of %d values", n, len(s))
		}
	}
	m.feats = make([]*feature, n)
	seen := map[string]bool{}
	for i, name := range m.Features {
		c, ok := lookup(name)
		if !ok {
			return fmt.Errorf("model: unknown feature %q", name)
		}
		if seen[name] {
			return fmt.Errorf("model: feature %q twice", name)
		}
		seen[name] = true
		m.feats[i] = c
		if !finite(m.Means[i]) || !finite(m.Weights[i]) || !finite(m.Scales[i]) || m.Scales[i] <= 0 {
			return fmt.Errorf("model: feature %q: bad mean, scale or weight", name)
		}
	}
	if !finite(m.Bias) {
		return errors.New("model: bad bias")
	}
	t := m.Thresholds
	if !(0 < t.Low && t.Low <= t.Medium && t.Medium <= t.High && t.High < 1) {
		return fmt.Errorf("model: thresholds must satisfy 0 < low <= medium <= high < 1, got %v", t)
	}
	return nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// Vector returns f's inputs on the model's scale (before standardisation):
// log1p of counts and sizes, ratios as they are, every value clamped to
// its feature's range and NaN read as 0.
func (m *Model) Vector(f *engine.Features) []float64 {
	x := make([]float64, len(m.feats))
	for i, c := range m.feats {
		x[i] = c.transform(c.rawValue(f))
	}
	return x
}

// Contribution is one feature's part in a score.
type Contribution struct {
	// Feature is the feature's name.
	Feature string
	// Words says the value and its reference points for an analyst.
	Words string
	// Value is the raw value (before transform).
	Value float64
	// Effect is the feature's term in the log-odds: positive pushes
	// towards "tunnel".
	Effect float64
}

// Score returns the probability that f is a tunnel's behaviour and every
// feature's contribution, strongest push towards "tunnel" first.
func (m *Model) Score(f *engine.Features) (float64, []Contribution) {
	z := m.Bias
	cs := make([]Contribution, len(m.feats))
	for i, c := range m.feats {
		v := c.rawValue(f)
		e := float64(m.Weights[i] * ((c.transform(v) - m.Means[i]) / m.Scales[i]))
		z += e
		cs[i] = Contribution{Feature: c.name, Value: v, Effect: e}
	}
	sort.SliceStable(cs, func(a, b int) bool { return cs[a].Effect > cs[b].Effect })
	for i := range cs {
		cs[i].Words = m.words(&cs[i])
	}
	return Sigmoid(z), cs
}

// Probability returns only the probability (no explanations).
func (m *Model) Probability(f *engine.Features) float64 {
	z := m.Bias
	for i, c := range m.feats {
		z += float64(m.Weights[i] * ((c.transform(c.rawValue(f)) - m.Means[i]) / m.Scales[i]))
	}
	return Sigmoid(z)
}

// Sigmoid is the logistic function, stable for large |z|.
func Sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// words says a contribution in plain words.
func (m *Model) words(c *Contribution) string {
	i := m.index(c.Feature)
	f := m.feats[i]
	if c.Effect >= 0 {
		return fmt.Sprintf("%s is %s (ordinary domains: about %s)", f.words, number(f.format, c.Value), number(f.format, m.BenignTypical[i]))
	}
	return fmt.Sprintf("%s is %s (tunnels: about %s)", f.words, number(f.format, c.Value), number(f.format, m.TunnelTypical[i]))
}

// number formats v with format; whole numbers ("%.0f") get thousands
// separators, as every count in the reports does ("82,458").
func number(format string, v float64) string {
	s := fmt.Sprintf(format, v)
	if format != "%.0f" {
		return s
	}
	sign, digits := "", s
	if strings.HasPrefix(s, "-") {
		sign, digits = "-", s[1:]
	}
	if len(digits) <= 3 || strings.ContainsAny(digits, ".eE+InfNa") {
		return s
	}
	var b strings.Builder
	b.WriteString(sign)
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func (m *Model) index(name string) int {
	for i, n := range m.Features {
		if n == name {
			return i
		}
	}
	return -1
}

// Severity maps a probability to a severity with the model's thresholds.
func (m *Model) Severity(p float64) engine.Severity {
	switch {
	case p >= m.Thresholds.High:
		return engine.SeverityHigh
	case p >= m.Thresholds.Medium:
		return engine.SeverityMedium
	case p >= m.Thresholds.Low:
		return engine.SeverityLow
	}
	return engine.SeverityNone
}

// Decision is a domain's verdict under the model and the fingerprints.
type Decision struct {
	Verdict  string // "tunnel", "suspicious" or ""
	Severity engine.Severity
	// P is the model's probability; ModelSeverity the severity it alone
	// gives.
	P             float64
	ModelSeverity engine.Severity
	// Fingerprinted is true when a tool's protocol (or raw tunnel
	// packets) raised the severity beyond the model's.
	Fingerprinted bool
	// Floor says why the data the domain moved (engine.VolumeFloor)
	// raised the severity beyond the model's and the fingerprints' (""
	// when it did not).
	Floor string
	// Evidence explains the decision: the model's headline, the features
	// that pushed it over the line, then the strongest ones against.
	Evidence []string
	// Explained names the features Evidence words (for the engine, which
	// then leaves out its own rules' texts about them).
	Explained []string
}

// Enough reports whether a domain has enough breadth to be judged at all:
// the engine's gate, engine.Judgeable (ten distinct names or ten distinct
// data-carrying answers, a recognised protocol, raw tunnel packets, or a
// few names carrying unmistakable data).
func Enough(f *engine.Features) bool { return engine.Judgeable(f) }

// Judge decides a domain: the model's probability sets the severity; a
// tool's protocol recognised (engine.ToolRecognised: in three or more
// messages, its fingerprints in one message or distinct name in a hundred
// at least), or raw tunnel
// packets, make it at least a medium tunnel (fingerprints are exact
// protocol structure, and they name the tool), and so does a downstream
// channel's volume of encoded answer data (engine.DownstreamFloor, which
// can also make it high), an upstream channel's volume of information in
// its names (engine.UpstreamFloor) or names of hex that decodes to text
// (engine.TextFloor): engine.VolumeFloor.
func (m *Model) Judge(f *engine.Features) Decision {
	var d Decision
	if !Enough(f) {
		return d
	}
	p := m.Probability(f) // the explanation only for a verdict: no allocation otherwise
	d.P, d.ModelSeverity = p, m.Severity(p)
	d.Severity = d.ModelSeverity
	if (engine.ToolRecognised(f) || f.RawPackets > 0) && d.Severity < engine.SeverityMedium {
		d.Severity, d.Fingerprinted = engine.SeverityMedium, true
	}
	floor, why := engine.VolumeFloor(f)
	if floor > d.Severity {
		d.Severity, d.Floor = floor, why
	}
	switch {
	case d.Severity >= engine.SeverityMedium:
		d.Verdict = "tunnel"
	case d.Severity == engine.SeverityLow:
		d.Verdict = "suspicious"
	default:
		return d
	}
	_, cs := m.Score(f)
	d.Evidence = append(d.Evidence, fmt.Sprintf("behaviour model: %.1f%% tunnel-like (%s from %.0f%%, %s from %.0f%%)",
		100*p, engine.SeverityMedium, 100*m.Thresholds.Medium, engine.SeverityHigh, 100*m.Thresholds.High))
	if d.Fingerprinted && d.Floor == "" {
		d.Evidence = append(d.Evidence, "raised to medium: the tool's protocol was recognised although the behaviour alone is below the line")
	}
	if d.Floor != "" {
		d.Evidence = append(d.Evidence, fmt.Sprintf("raised to %s: %s", d.Severity, d.Floor))
	}
	for _, c := range explained(cs, 4, 2) {
		d.Evidence = append(d.Evidence, c.words)
		d.Explained = append(d.Explained, c.Feature)
	}
	return d
}

// Explain words the strongest contributions: up to pro pushing towards
// "tunnel" (effect above 0.25 in log-odds) and up to con against (below
// -0.5), the latter prefixed "against: ".
func Explain(cs []Contribution, pro, con int) []string {
	var out []string
	for _, c := range explained(cs, pro, con) {
		out = append(out, c.words)
	}
	return out
}

// wordedContribution is a contribution Explain words, and its line.
type wordedContribution struct {
	*Contribution
	words string
}

// explained returns the contributions Explain words, with their lines.
func explained(cs []Contribution, pro, con int) []wordedContribution {
	var out []wordedContribution
	for i := 0; i < len(cs) && i < pro && cs[i].Effect > 0.25; i++ {
		out = append(out, wordedContribution{&cs[i], cs[i].Words})
	}
	for i, n := len(cs)-1, 0; i >= 0 && n < con && cs[i].Effect < -0.5; i, n = i-1, n+1 {
		out = append(out, wordedContribution{&cs[i], "against: " + cs[i].Words})
	}
	return out
}

// MarshalJSON writes the model with a fixed field order, floats in Go's
// shortest round-trip form ('g', -1) and one feature per line, so that
// the file is small, diffable and reproducible byte for byte.
func (m *Model) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	str := func(s string) {
		q, _ := json.Marshal(s)
		b.Write(q)
	}
	num := func(x float64) {
		b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
	}
	list := func(key string, xs []float64) {
		fmt.Fprintf(&b, "  %q: [", key)
		for i, x := range xs {
			if i > 0 {
				b.WriteString(", ")
			}
			num(x)
		}
		b.WriteString("],\n")
	}
	for _, x := range append(append(append([]float64{m.Bias, m.Lambda, m.Thresholds.Low, m.Thresholds.Medium, m.Thresholds.High},
		m.Means...), m.Scales...), m.Weights...) {
		if !finite(x) {
			return nil, errors.New("model: non-finite number")
		}
	}
	fmt.Fprintf(&b, "{\n  \"version\": %d,\n  \"trained_on\": ", m.Version)
	str(m.TrainedOn)
	fmt.Fprintf(&b, ",\n  \"seed\": %d,\n  \"lambda\": ", m.Seed)
	num(m.Lambda)
	b.WriteString(",\n  \"features\": [")
	for i, f := range m.Features {
		if i > 0 {
			b.WriteString(", ")
		}
		str(f)
	}
	b.WriteString("],\n")
	list("means", m.Means)
	list("scales", m.Scales)
	list("weights", m.Weights)
	b.WriteString("  \"bias\": ")
	num(m.Bias)
	b.WriteString(",\n  \"thresholds\": {\"low\": ")
	num(m.Thresholds.Low)
	b.WriteString(", \"medium\": ")
	num(m.Thresholds.Medium)
	b.WriteString(", \"high\": ")
	num(m.Thresholds.High)
	b.WriteString("},\n")
	list("tunnel_typical", m.TunnelTypical)
	list("benign_typical", m.BenignTypical)
	// The last list ends without a comma.
	out := b.Bytes()
	out = append(out[:len(out)-2], "\n}\n"...)
	return out, nil
}

// Bytes is the model file (MarshalJSON's output).
func (m *Model) Bytes() ([]byte, error) { return m.MarshalJSON() }

// New builds a model from its parts and validates it.
func New(m Model) (*Model, error) {
	m.Version = Version
	if err := m.init(); err != nil {
		return nil, err
	}
	return &m, nil
}

// Verdict is Judge in the shape of an engine scorer: the verdict
// ("tunnel", "suspicious" or ""), its severity, the probability as the
// score, the evidence lines and the features they word.
func (m *Model) Verdict(f *engine.Features) engine.Judgement {
	d := m.Judge(f)
	j := engine.Judgement{Verdict: d.Verdict, Severity: d.Severity, Score: d.P, Evidence: d.Evidence, Explained: d.Explained}
	if d.Floor != "" {
		j.Quoted = []string{d.Floor}
	}
	return j
}
