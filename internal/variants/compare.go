package variants

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/dnsieve/dnsieve/internal/eval"
)

// RecallTolerance is how far a variant's packet recall may fall below the
// original's before the variant counts as an evasion (absolute, 1%).
const RecallTolerance = 0.01

// Outcome is what the detector made of one capture, reduced to what a
// variant must keep.
type Outcome struct {
	// Found: every labelled tunnel domain was found; Severity is the
	// weakest severity among them ("" when one was missed).
	Found    bool   `json:"found"`
	Severity string `json:"severity,omitempty"`
	// ToolRight: the labelled tool was named; Tools are the tools named.
	ToolRight bool     `json:"tool_right"`
	Tools     []string `json:"tools,omitempty"`
	// Recall is tunnel packets flagged / tunnel packets (nil: none).
	Recall        *float64 `json:"recall"`
	TunnelPackets int      `json:"tunnel_packets"`
	TunnelFlagged int      `json:"tunnel_flagged"`
	Error         string   `json:"error,omitempty"`
}

// OutcomeOf reduces an eval.FileResult.
func OutcomeOf(r *eval.FileResult) Outcome {
	o := Outcome{Found: len(r.Tunnels) > 0, ToolRight: r.ToolRight, Tools: r.ToolsNamed,
		TunnelPackets: r.TunnelPackets, TunnelFlagged: r.TunnelFlagged, Error: r.Error}
	rank := map[string]int{"low": 1, "medium": 2, "high": 3}
	for _, t := range r.Tunnels {
		if !t.Found {
			o.Found, o.Severity = false, ""
			break
		}
		if o.Severity == "" || rank[t.Severity] < rank[o.Severity] {
			o.Severity = t.Severity
		}
	}
	if r.TunnelPackets > 0 {
		v := float64(r.TunnelFlagged) / float64(r.TunnelPackets)
		o.Recall = &v
	}
	return o
}

// Row compares a variant with its original.
type Row struct {
	Source  string  `json:"source"`
	Variant Kind    `json:"variant"`
	File    string  `json:"file"`
	Tool    string  `json:"tool,omitempty"`
	Orig    Outcome `json:"original"`
	Var     Outcome `json:"variant_outcome"`
	// Evaded lists what the variant lost (empty: detection held).
	Evaded []string `json:"evaded,omitempty"`
}

// Compare judges a variant's outcome against its original's: the tunnel
// must still be found, at a severity at least as strong (high stays high),
// the tool must still be named when it was, and packet recall may not
// drop by more than RecallTolerance.
func Compare(orig, v Outcome) []string {
	var lost []string
	rank := map[string]int{"low": 1, "medium": 2, "high": 3}
	if v.Error != "" {
		lost = append(lost, "error: "+v.Error)
	}
	if orig.Found && !v.Found {
		lost = append(lost, "tunnel not found")
	} else if orig.Found && rank[v.Severity] < rank[orig.Severity] {
		lost = append(lost, fmt.Sprintf("severity %s, was %s", v.Severity, orig.Severity))
	}
	if orig.ToolRight && !v.ToolRight {
		lost = append(lost, fmt.Sprintf("tool not named (named: %s)", strings.Join(v.Tools, ",")))
	}
	switch {
	case orig.Recall != nil && v.Recall == nil:
		lost = append(lost, "no tunnel packets in the variant's ground truth")
	case orig.Recall != nil && *v.Recall < *orig.Recall-RecallTolerance:
		lost = append(lost, fmt.Sprintf("recall %.4f, was %.4f", *v.Recall, *orig.Recall))
	}
	return lost
}

// Check evaluates the originals and the variants of a Generate run (the
// labels.json in outDir) with eval and compares them pairwise.
func Check(ctx context.Context, outDir string, opt eval.Options) ([]Row, error) {
	b, err := os.ReadFile(filepath.Join(outDir, LabelsName))
	if err != nil {
		return nil, err
	}
	var vl Labels
	if err := json.Unmarshal(b, &vl); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(outDir, LabelsName), err)
	}
	// The originals, once each, as a labels file eval can load.
	var origs []Entry
	index := map[string]int{}
	for _, e := range vl.Files {
		if _, ok := index[e.Source]; !ok {
			index[e.Source] = len(origs)
			o := e
			o.File = e.Source
			origs = append(origs, o)
		}
	}
	tmp, err := os.MkdirTemp("", "dnsieve-variants-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	ob, err := json.Marshal(Labels{Seed: vl.Seed, Files: origs})
	if err != nil {
		return nil, err
	}
	op := filepath.Join(tmp, "originals.json")
	if err := os.WriteFile(op, ob, 0o644); err != nil {
		return nil, err
	}
	ol, err := eval.LoadLabels(op)
	if err != nil {
		return nil, err
	}
	os1, err := eval.Run(ctx, ol, opt)
	if err != nil {
		return nil, err
	}
	l, err := eval.LoadLabels(filepath.Join(outDir, LabelsName))
	if err != nil {
		return nil, err
	}
	vs, err := eval.Run(ctx, l, opt)
	if err != nil {
		return nil, err
	}
	var rows []Row
	for i, e := range vl.Files {
		r := Row{Source: e.SourceFile, Variant: e.Variant, File: e.File, Tool: e.Tool,
			Orig: OutcomeOf(&os1.Files[index[e.Source]]), Var: OutcomeOf(&vs.Files[i])}
		r.Evaded = Compare(r.Orig, r.Var)
		rows = append(rows, r)
	}
	return rows, nil
}

// WriteTable prints rows as a Markdown table.
func WriteTable(w io.Writer, rows []Row) {
	fmt.Fprintln(w, "| capture | variant | tool | original | variant | recall orig → variant | held |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for _, r := range rows {
		held := "yes"
		if len(r.Evaded) > 0 {
			held = "**no**: " + strings.Join(r.Evaded, "; ")
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s → %s | %s |\n", r.Source, r.Variant, r.Tool,
			r.Orig.short(), r.Var.short(), pct(r.Orig.Recall), pct(r.Var.Recall), held)
	}
}

func (o Outcome) short() string {
	if o.Error != "" {
		return "error"
	}
	s := "missed"
	if o.Found {
		s = o.Severity
	}
	if len(o.Tools) > 0 {
		s += " " + strings.Join(o.Tools, ",")
	}
	return s
}

func pct(r *float64) string {
	if r == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.1f%%", math.Round(*r*1000)/10)
}
