package eval

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Text writes the per-file table and the totals.
func (s *Summary) Text(w io.Writer) {
	fmt.Fprintf(w, "%-44s %8s %8s %7s %8s %6s  %-9s %-22s %s\n", "file", "tunnel", "flagged", "recall", "benign", "fp", "domains", "tool", "first alert")
	for _, r := range s.Files {
		fmt.Fprintf(w, "%-44.44s %8d %8d %7s %8d %6d  %-9s %-22.22s %s\n", filepath.Base(r.File), r.TunnelPackets, r.TunnelFlagged,
			ratio(r.TunnelFlagged, r.TunnelPackets), r.BenignPackets, r.BenignFlagged, r.domainsText(), r.toolText(), r.alertText())
		if r.Error != "" {
			fmt.Fprintf(w, "    error: %s\n", r.Error)
		}
		if len(r.BenignDomains) > 0 {
			fmt.Fprintf(w, "    benign domains flagged: %s\n", strings.Join(r.BenignDomains, ", "))
		}
	}
	fmt.Fprintf(w, "\ntunnel packets %d, flagged %d (recall %s); benign packets %d, flagged %d (fp rate %s)\n",
		s.TunnelPackets, s.TunnelFlagged, ptr(s.Recall, 4), s.BenignPackets, s.BenignFlagged, ptr(s.FPRate, 5))
	fmt.Fprintf(w, "tunnel domains found %d of %d; tools named right %d, wrong %d; benign domains flagged %d; missed tunnel files %d; errors %d\n",
		s.TunnelDomainsFound, s.TunnelDomains, s.ToolsRight, s.ToolsWrong, s.BenignDomainsFlagged, len(s.MissedTunnelFiles), s.Errors)
}

// Markdown writes the same as a Markdown table.
func (s *Summary) Markdown(w io.Writer) {
	fmt.Fprintln(w, "| file | tunnel packets | flagged | recall | benign packets | flagged | tunnel domains found | tool named | first alert |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---|---|---|")
	for _, r := range s.Files {
		fmt.Fprintf(w, "| %s | %d | %d | %s | %d | %d | %s | %s | %s |\n", filepath.Base(r.File), r.TunnelPackets, r.TunnelFlagged,
			ratio(r.TunnelFlagged, r.TunnelPackets), r.BenignPackets, r.BenignFlagged, r.domainsText(), r.toolText(), r.alertText())
	}
	fmt.Fprintf(w, "| **total** | %d | %d | %s | %d | %d | %d of %d | %d right, %d wrong | |\n\n", s.TunnelPackets, s.TunnelFlagged,
		ptr(s.Recall, 4), s.BenignPackets, s.BenignFlagged, s.TunnelDomainsFound, s.TunnelDomains, s.ToolsRight, s.ToolsWrong)
	fmt.Fprintf(w, "Benign domains flagged at medium or high: %d. Tunnel files missed: %d. Errors: %d.\n", s.BenignDomainsFlagged, len(s.MissedTunnelFiles), s.Errors)
	for _, r := range s.Files {
		if len(r.BenignDomains) > 0 {
			fmt.Fprintf(w, "- %s: benign domains flagged: %s\n", filepath.Base(r.File), strings.Join(r.BenignDomains, ", "))
		}
	}
}

// JSON writes the summary as indented JSON.
func (s *Summary) JSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(s)
}

func (r *FileResult) domainsText() string {
	if len(r.Tunnels) == 0 {
		return "-"
	}
	found := 0
	for _, t := range r.Tunnels {
		if t.Found {
			found++
		}
	}
	return fmt.Sprintf("%d/%d", found, len(r.Tunnels))
}

func (r *FileResult) toolText() string {
	if r.ExpectedVerdict != "tunnel" {
		return "-"
	}
	named := strings.Join(r.ToolsNamed, ",")
	if named == "" {
		named = "none"
	}
	switch {
	case r.Tool == "":
		return named
	case r.ToolRight:
		return named + " ok"
	}
	return named + " (want " + r.Tool + ")"
}

func (r *FileResult) alertText() string {
	var parts []string
	for _, t := range r.Tunnels {
		if t.AlertSeconds != nil {
			parts = append(parts, fmt.Sprintf("%.1fs/%d lookups", *t.AlertSeconds, t.AlertLookups))
		} else if t.Found {
			parts = append(parts, "at end")
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

func ratio(a, b int) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.3f", float64(a)/float64(b))
}

func ptr(p *float64, digits int) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%.*f", digits, *p)
}

// Floor is the minimum quality a run must keep (a file in the repo records
// it; CI fails below it).
type Floor struct {
	MinRecall            float64 `json:"min_recall"`
	MaxFPRate            float64 `json:"max_fp_rate"`
	MaxBenignDomains     int     `json:"max_benign_domains_flagged"`
	MaxToolsWrong        int     `json:"max_tools_wrong"`
	MaxMissedTunnelFiles int     `json:"max_missed_tunnel_files"`
	MinDomainsFound      float64 `json:"min_tunnel_domains_found_ratio"`
}

// LoadFloor reads a floor file.
func LoadFloor(path string) (*Floor, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f Floor
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &f, nil
}

// Check lists how the summary falls below the floor.
func (s *Summary) Check(f *Floor) []string {
	var bad []string
	if s.Errors > 0 {
		bad = append(bad, fmt.Sprintf("%d capture(s) could not be evaluated", s.Errors))
	}
	if s.Recall != nil && *s.Recall < f.MinRecall {
		bad = append(bad, fmt.Sprintf("recall %.4f below %.4f", *s.Recall, f.MinRecall))
	}
	if s.FPRate != nil && *s.FPRate > f.MaxFPRate {
		bad = append(bad, fmt.Sprintf("fp rate %.5f above %.5f", *s.FPRate, f.MaxFPRate))
	}
	if s.BenignDomainsFlagged > f.MaxBenignDomains {
		bad = append(bad, fmt.Sprintf("%d benign domains flagged, at most %d allowed", s.BenignDomainsFlagged, f.MaxBenignDomains))
	}
	if s.ToolsWrong > f.MaxToolsWrong {
		bad = append(bad, fmt.Sprintf("%d tools named wrong, at most %d allowed", s.ToolsWrong, f.MaxToolsWrong))
	}
	if len(s.MissedTunnelFiles) > f.MaxMissedTunnelFiles {
		bad = append(bad, fmt.Sprintf("tunnel files missed: %s", strings.Join(s.MissedTunnelFiles, ", ")))
	}
	if s.TunnelDomains > 0 && float64(s.TunnelDomainsFound)/float64(s.TunnelDomains) < f.MinDomainsFound {
		bad = append(bad, fmt.Sprintf("tunnel domains found %d of %d, below %.2f", s.TunnelDomainsFound, s.TunnelDomains, f.MinDomainsFound))
	}
	return bad
}
