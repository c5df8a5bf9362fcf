package train

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/dnsieve/dnsieve/internal/model"
)

// Options are what `dnsieve train` does.
type Options struct {
	// Labels are labels.json files to train from.
	Labels []string
	// Synthetic adds the synthetic set.
	Synthetic bool
	// Validate are labels.json files to evaluate the model on (never
	// trained on): captures of tools the model never saw.
	Validate []string
	// Config is the recipe (seed, penalty, false-positive targets).
	Config Config
	// Progress, when set, receives a line per step.
	Progress io.Writer
}

// Validation is the model's result on one validation labels file.
type Validation struct {
	Labels string
	Files  []FoldResult // Group is the capture
	Total  FoldResult
}

// Result is a training run.
type Result struct {
	Model      *model.Model
	Data       *Dataset
	LOTO, LONO []FoldResult
	Validation []Validation
	Accepted   bool
	Missed     []string
}

// labelsName names a labels file by its folder and base name, so that
// the model does not depend on the working directory.
func labelsName(path string) string {
	return filepath.ToSlash(filepath.Join(filepath.Base(filepath.Dir(path)), filepath.Base(path)))
}

// Run builds the dataset, fits the model, and validates it.
func Run(opt Options) (*Result, error) {
	say := func(format string, args ...any) {
		if opt.Progress != nil {
			fmt.Fprintf(opt.Progress, format+"\n", args...)
		}
	}
	d := &Dataset{}
	var parts []string
	for _, l := range opt.Labels {
		ld, err := FromLabels(l)
		if err != nil {
			return nil, err
		}
		say("read %s: %d captures, %d samples", l, len(ld.Sources), len(ld.Samples))
		d.Merge(ld)
		parts = append(parts, fmt.Sprintf("%s (%d captures)", labelsName(l), len(ld.Sources)))
	}
	cfg := opt.Config
	if opt.Synthetic {
		sd := Synthetic(cfg.Seed)
		say("synthetic set (seed %d): %d scenarios, %d samples", cfg.Seed, len(sd.Sources), len(sd.Samples))
		d.Merge(sd)
		parts = append(parts, fmt.Sprintf("synthetic set (seed %d, %d scenarios)", cfg.Seed, len(sd.Sources)))
	}
	if cfg.TrainedOn == "" {
		cfg.TrainedOn = strings.Join(parts, " + ")
	}
	m, err := Fit(d, nil, cfg)
	if err != nil {
		return nil, err
	}
	say("model fitted: thresholds low %g, medium %g, high %g", m.Thresholds.Low, m.Thresholds.Medium, m.Thresholds.High)
	res := &Result{Model: m, Data: d}
	if res.LOTO, err = LeaveOneToolOut(d, cfg); err != nil {
		return nil, err
	}
	say("leave-one-tool-out: %d folds", len(res.LOTO))
	if res.LONO, err = LeaveOneNetworkOut(d, cfg); err != nil {
		return nil, err
	}
	say("leave-one-network-out: %d folds", len(res.LONO))
	res.Accepted, res.Missed = Accepted(res.LOTO)
	for _, l := range opt.Validate {
		vd, err := FromLabels(l)
		if err != nil {
			return nil, err
		}
		v := Validation{Labels: filepath.ToSlash(l), Total: Evaluate(m, vd, func(Source) bool { return true })}
		for _, src := range vd.Sources {
			r := Evaluate(m, vd, func(s Source) bool { return s.Name == src.Name })
			r.Group = src.Name
			if src.Tool != "" {
				r.Group += " (" + src.Tool + ")"
			}
			v.Files = append(v.Files, r)
		}
		say("validated on %s: %d captures", l, len(vd.Sources))
		res.Validation = append(res.Validation, v)
	}
	return res, nil
}
