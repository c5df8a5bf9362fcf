package train

import (
	"fmt"
	"sort"

	"github.com/dnsieve/dnsieve/internal/engine"
	"github.com/dnsieve/dnsieve/internal/model"
)

// Config is a training recipe.
type Config struct {
	// Seed drives the synthetic set.
	Seed int64
	// Lambda is the L2 penalty (relative to a total sample weight of 2:
	// each class weighs 1).
	Lambda float64
	// TrainedOn describes the data, written into the model.
	TrainedOn string
	// Targets are the benign false-positive rates, in lookups per million
	// benign lookups, that set the thresholds (see Thresholds).
	LowFPM, MediumFPM, HighFPM float64
}

// DefaultConfig is the shipped model's recipe (with the committed corpus
// and the synthetic set of DefaultSeed).
func DefaultConfig() Config {
	return Config{Seed: DefaultSeed, Lambda: 0.02, LowFPM: 10000, MediumFPM: 100, HighFPM: 10}
}

// DefaultSeed seeds the shipped model's synthetic set.
const DefaultSeed = 1

// thresholdGrid are the probabilities thresholds are chosen from (a grid
// keeps them stable under tiny changes of the scores).
var thresholdGrid = []float64{0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97, 0.98, 0.99, 0.995, 0.998, 0.999}

// Floors keep the severities meaningful whatever the benign data: medium
// and high are "more likely a tunnel than not", high clearly so.
const (
	lowFloor    = 0.3
	mediumFloor = 0.5
	highFloor   = 0.9
)

// design turns samples into the regression's inputs.
func design(ss []*Sample) (x [][]float64, y, w []float64) {
	var tw, bw float64
	for _, s := range ss {
		if s.Tunnel {
			tw += s.Weight
		} else {
			bw += s.Weight
		}
	}
	for _, s := range ss {
		x = append(x, model.Inputs(&s.Features))
		if s.Tunnel {
			y = append(y, 1)
			w = append(w, s.Weight/tw)
		} else {
			y = append(y, 0)
			w = append(w, s.Weight/bw)
		}
	}
	return x, y, w
}

// fitLinear fits the regression on samples and returns a model with
// provisional thresholds.
func fitLinear(ss []*Sample, cfg Config) (*model.Model, error) {
	x, y, w := design(ss)
	f, err := logistic(x, y, w, cfg.Lambda)
	if err != nil {
		return nil, err
	}
	names := model.FeatureNames()
	m := model.Model{
		TrainedOn: cfg.TrainedOn, Seed: cfg.Seed, Lambda: cfg.Lambda, Features: names,
		Means: f.means, Scales: f.scales, Weights: f.weights, Bias: f.bias,
		Thresholds:    model.Thresholds{Low: lowFloor, Medium: mediumFloor, High: highFloor},
		TunnelTypical: typical(ss, true), BenignTypical: typical(ss, false),
	}
	return model.New(m)
}

// typical returns the median raw value of each feature over the final
// samples of one class.
func typical(ss []*Sample, tunnel bool) []float64 {
	var rows [][]float64
	for _, s := range ss {
		if s.Tunnel == tunnel && !s.Early {
			rows = append(rows, model.RawInputs(&s.Features))
		}
	}
	out := make([]float64, len(model.FeatureNames()))
	for j := range out {
		col := make([]float64, len(rows))
		for i := range rows {
			col[i] = rows[i][j]
		}
		sort.Float64s(col)
		if n := len(col); n > 0 {
			out[j] = round9((col[(n-1)/2] + col[n/2]) / 2)
		}
	}
	return out
}

// Fit trains a model on the samples: the regression on every sample, and
// thresholds from the benign false-positive rates of out-of-fold scores
// (each benign network scored by a model trained without it).
func Fit(d *Dataset, keep func(*Sample) bool, cfg Config) (*model.Model, error) {
	ss := d.selected(keep)
	m, err := fitLinear(ss, cfg)
	if err != nil {
		return nil, err
	}
	oof, err := d.outOfFold(keep, cfg)
	if err != nil {
		return nil, err
	}
	m.Thresholds = chooseThresholds(oof, cfg)
	return model.New(*m)
}

// selected returns pointers to the samples keep accepts (all when nil).
func (d *Dataset) selected(keep func(*Sample) bool) []*Sample {
	var out []*Sample
	for i := range d.Samples {
		if keep == nil || keep(&d.Samples[i]) {
			out = append(out, &d.Samples[i])
		}
	}
	return out
}

// scored is a benign domain's out-of-fold probability and lookups.
type scored struct {
	p       float64
	lookups uint64
}

// benignOOF is the out-of-fold benign scores and the total benign lookups.
type benignOOF struct {
	scores  []scored
	lookups uint64
}

// outOfFold scores each benign network's final samples with a model fitted
// without that network.
func (d *Dataset) outOfFold(keep func(*Sample) bool, cfg Config) (benignOOF, error) {
	var o benignOOF
	for _, net := range d.benignNetworks(keep) {
		m, err := fitLinear(d.selected(func(s *Sample) bool {
			return (keep == nil || keep(s)) && s.Source.Network != net
		}), cfg)
		if err != nil {
			return o, err
		}
		for i, src := range d.Sources {
			if src.Network == net {
				o.lookups += d.Traffic[i].BenignLookups
			}
		}
		for _, s := range d.selected(keep) {
			if s.Source.Network == net && !s.Tunnel && !s.Early {
				o.scores = append(o.scores, scored{m.Probability(&s.Features), s.Features.Lookups})
			}
		}
	}
	return o, nil
}

// benignNetworks lists, in order, the networks with benign final samples.
func (d *Dataset) benignNetworks(keep func(*Sample) bool) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range d.selected(keep) {
		if !s.Tunnel && !s.Early && !seen[s.Source.Network] {
			seen[s.Source.Network] = true
			out = append(out, s.Source.Network)
		}
	}
	sort.Strings(out)
	return out
}

// fpm is the benign lookups per million at or above threshold t.
func (o *benignOOF) fpm(t float64) float64 {
	if o.lookups == 0 {
		return 0
	}
	var n uint64
	for _, s := range o.scores {
		if s.p >= t {
			n += s.lookups
		}
	}
	return 1e6 * float64(n) / float64(o.lookups)
}

// chooseThresholds picks, for each severity, the lowest grid probability
// (not below the severity's floor) whose out-of-fold benign false-positive
// rate is within its target.
func chooseThresholds(o benignOOF, cfg Config) model.Thresholds {
	pick := func(floor, target float64) float64 {
		for _, t := range thresholdGrid {
			if t >= floor && o.fpm(t) <= target {
				return t
			}
		}
		return thresholdGrid[len(thresholdGrid)-1]
	}
	t := model.Thresholds{Low: pick(lowFloor, cfg.LowFPM)}
	t.Medium = pick(max(mediumFloor, t.Low), cfg.MediumFPM)
	t.High = pick(max(highFloor, t.Medium), cfg.HighFPM)
	return t
}

// FoldResult is one held-out group of a validation.
type FoldResult struct {
	Group string
	// Files and tunnel domains held out, and how many the model found
	// (medium or high) alone and with the fingerprints.
	Sources, Tunnels, FoundModel, FoundCombined, FoundHand int
	// MinP is the lowest probability of a held-out tunnel domain.
	MinP float64
	// Missed lists tunnel domains the combined decision missed, and
	// MissedModel those with enough breadth for a behavioural verdict
	// (ten distinct names) that the model alone missed.
	Missed, MissedModel []string
	// EarlyTunnels counts the early snapshots of held-out tunnel domains
	// (with ten distinct names or more) and EarlyFound those the model
	// alone put at medium or above.
	EarlyTunnels, EarlyFound int
	// TunnelP and BenignP are the held-out final samples' probabilities
	// (BenignLookupsP their lookups), for curves.
	TunnelP, BenignP []float64
	BenignLookupsP   []uint64
	// Benign domains held out, and those at low, medium or high; benign
	// lookups and the rate at medium or above per million.
	Benign, BenignLow, BenignMedium, BenignHigh int
	BenignLookups                               uint64
	// BenignHand counts benign domains the hand-tuned engine put at
	// medium or high.
	BenignHand int
	FPM        float64
	MaxBenignP float64
	Thresholds model.Thresholds
}

// LeaveOneToolOut trains without each tool's sources and tests on them.
func LeaveOneToolOut(d *Dataset, cfg Config) ([]FoldResult, error) {
	var tools []string
	seen := map[string]bool{}
	for _, s := range d.Sources {
		if s.Tool != "" && !seen[s.Tool] {
			seen[s.Tool] = true
			tools = append(tools, s.Tool)
		}
	}
	sort.Strings(tools)
	var out []FoldResult
	for _, tool := range tools {
		m, err := Fit(d, func(s *Sample) bool { return s.Source.Tool != tool }, cfg)
		if err != nil {
			return nil, err
		}
		r := Evaluate(m, d, func(s Source) bool { return s.Tool == tool })
		r.Group = tool
		out = append(out, r)
	}
	return out, nil
}

// LeaveOneNetworkOut trains without each benign network and tests on it.
func LeaveOneNetworkOut(d *Dataset, cfg Config) ([]FoldResult, error) {
	var out []FoldResult
	for _, net := range d.benignNetworks(nil) {
		m, err := Fit(d, func(s *Sample) bool { return s.Source.Network != net }, cfg)
		if err != nil {
			return nil, err
		}
		r := Evaluate(m, d, func(s Source) bool { return s.Network == net })
		r.Group = net
		out = append(out, r)
	}
	return out, nil
}

// Evaluate judges the final samples of the sources in d that in accepts
// with m.
func Evaluate(m *model.Model, d *Dataset, in func(Source) bool) FoldResult {
	r := FoldResult{MinP: 1, Thresholds: m.Thresholds}
	for i, src := range d.Sources {
		if in(src) {
			r.Sources++
			r.BenignLookups += d.Traffic[i].BenignLookups
		}
	}
	var fpLookups uint64
	for i := range d.Samples {
		s := &d.Samples[i]
		if !in(s.Source) {
			continue
		}
		dec := m.Judge(&s.Features)
		if s.Early {
			if s.Tunnel && s.Features.Unique >= minUnique {
				r.EarlyTunnels++
				if dec.ModelSeverity >= engine.SeverityMedium {
					r.EarlyFound++
				}
			}
			continue
		}
		if s.Tunnel {
			r.Tunnels++
			r.MinP = min(r.MinP, dec.P)
			r.TunnelP = append(r.TunnelP, dec.P)
			if dec.ModelSeverity >= engine.SeverityMedium {
				r.FoundModel++
			} else if s.Features.Unique >= minUnique {
				r.MissedModel = append(r.MissedModel, fmt.Sprintf("%s %s (p=%.3f, model alone)", s.Source.Name, s.Domain, dec.P))
			}
			if dec.Severity >= engine.SeverityMedium {
				r.FoundCombined++
			} else {
				r.Missed = append(r.Missed, fmt.Sprintf("%s %s (p=%.3f)", s.Source.Name, s.Domain, dec.P))
			}
			if s.Hand >= engine.SeverityMedium {
				r.FoundHand++
			}
			continue
		}
		r.Benign++
		if s.Hand >= engine.SeverityMedium {
			r.BenignHand++
		}
		r.MaxBenignP = max(r.MaxBenignP, dec.P)
		r.BenignP = append(r.BenignP, dec.P)
		r.BenignLookupsP = append(r.BenignLookupsP, s.Features.Lookups)
		switch dec.Severity {
		case engine.SeverityLow:
			r.BenignLow++
		case engine.SeverityMedium:
			r.BenignMedium++
		case engine.SeverityHigh:
			r.BenignHigh++
		}
		if dec.Severity >= engine.SeverityMedium {
			fpLookups += s.Features.Lookups
		}
	}
	if r.Tunnels == 0 {
		r.MinP = 0
	}
	if r.BenignLookups > 0 {
		r.FPM = 1e6 * float64(fpLookups) / float64(r.BenignLookups)
	}
	return r
}

// Accepted reports whether every held-out tool was found: every held-out
// tunnel domain at medium or above with the fingerprints, and every one
// with ten distinct names or more by the model alone (fewer names give
// behaviour too little to judge: iodine's raw mode sends its data outside
// DNS). It lists what was not found.
func Accepted(loto []FoldResult) (bool, []string) {
	var missed []string
	for _, r := range loto {
		missed = append(missed, r.Missed...)
		missed = append(missed, r.MissedModel...)
	}
	return len(missed) == 0, missed
}
