package fingerprint

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/dnsieve/dnsieve/internal/capture"
	"github.com/dnsieve/dnsieve/internal/packet"
)

const corpusDir = "/work/shared/corpus"

type corpusLabel struct {
	File            string `json:"file"`
	ExpectedVerdict string `json:"expected_verdict"`
	Tool            string `json:"tool"`
}

// corpusStats counts one capture's verdicts.
type corpusStats struct {
	dns, raw int
	counts   map[Match]int // Evidence and Detail zeroed
	strong   [numTools]int
	weak     [numTools]int
	examples map[Tool]string
}

func scanCapture(t *testing.T, path string) *corpusStats {
	t.Helper()
	r, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	st := &corpusStats{counts: map[Match]int{}, examples: map[Tool]string{}}
	b := newBuilder()
	var rec capture.Record
	var p packet.Packet
	var m Message
	for {
		err := r.Next(&rec)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if err := packet.Decode(rec.LinkType, rec.Data, &p); err != nil && !errors.Is(err, packet.ErrTruncatedUDP) {
			continue
		}
		if p.Proto != packet.ProtoUDP || p.Frag.IsFragment || (p.SrcPort != 53 && p.DstPort != 53) {
			continue
		}
		var got Match
		if b.message(p.Payload, &m) {
			st.dns++
			got = Classify(&m)
		} else {
			got = ClassifyRaw(p.Payload)
			if got.Strength == None {
				continue
			}
			st.raw++
		}
		key := Match{Tool: got.Tool, Strength: got.Strength}
		st.counts[key]++
		switch got.Strength {
		case Strong:
			st.strong[got.Tool]++
		case Weak:
			st.weak[got.Tool]++
		}
		if got.Strength != None && got.Tool != Unknown {
			if _, ok := st.examples[got.Tool]; !ok || (got.Strength == Strong && strings.Contains(st.examples[got.Tool], " weak:")) {
				st.examples[got.Tool] = fmt.Sprintf("frame %d %q: %s", rec.Frame, m.Sub, got)
			}
		}
	}
	return st
}

// TestCorpus classifies every UDP/53 payload of the shared corpus and
// checks the requirements: in a tunnel file only the labelled tool has
// strong matches, and on a good share of its messages; benign files have
// no strong match and few weak ones.
func TestCorpus(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(corpusDir, "labels.json"))
	if err != nil {
		t.Skipf("no corpus: %v", err)
	}
	var labels struct{ Files []corpusLabel }
	if err := json.Unmarshal(raw, &labels); err != nil {
		t.Fatal(err)
	}
	var table strings.Builder
	fmt.Fprintf(&table, "%-52s %-10s %7s %6s  %s\n", "file", "label", "dns", "raw", "verdicts (tool/strength: count)")
	for _, f := range labels.Files {
		path := filepath.Join(corpusDir, f.File)
		if _, err := os.Stat(path); err != nil {
			t.Errorf("%s: %v", f.File, err)
			continue
		}
		st := scanCapture(t, path)
		var parts []string
		for k, n := range st.counts {
			parts = append(parts, fmt.Sprintf("%s/%s:%d", k.Tool, k.Strength, n))
		}
		sort.Strings(parts)
		label := f.Tool
		if label == "" {
			label = "benign"
		}
		fmt.Fprintf(&table, "%-52s %-10s %7d %6d  %s\n", f.File, label, st.dns, st.raw, strings.Join(parts, " "))
		for tool, ex := range st.examples {
			t.Logf("  %s %s example: %s", f.File, tool, ex)
		}
		total := st.dns + st.raw
		switch f.ExpectedVerdict {
		case "tunnel":
			want, ok := ParseTool(f.Tool)
			if !ok {
				t.Errorf("%s: unknown tool label %q", f.File, f.Tool)
				continue
			}
			for tool := Tool(1); tool < numTools; tool++ {
				if tool != want && st.strong[tool] > 0 {
					t.Errorf("%s (%s): %d strong %s matches", f.File, want, st.strong[tool], tool)
				}
			}
			// A good share: at least a quarter of the file's DNS messages
			// (tunnel files also hold some ordinary lookups).
			if share := float64(st.strong[want]) / float64(total); share < 0.25 {
				t.Errorf("%s: strong %s on %.1f%% of %d messages, want >= 25%%", f.File, want, 100*share, total)
			}
		case "benign":
			for tool := Tool(1); tool < numTools; tool++ {
				if st.strong[tool] > 0 {
					t.Errorf("%s (benign): %d strong %s matches (%s)", f.File, st.strong[tool], tool, st.examples[tool])
				}
			}
			weak := 0
			for _, n := range st.weak {
				weak += n
			}
			if total > 0 && float64(weak)/float64(total) > 0.01 {
				t.Errorf("%s (benign): %d weak matches of %d messages (> 1%%)", f.File, weak, total)
			}
		}
	}
	t.Logf("per-file verdicts:\n%s", table.String())
}
