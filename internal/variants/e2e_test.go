package variants

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnsieve/dnsieve/internal/config"
	"github.com/dnsieve/dnsieve/internal/eval"
)

// knownGap explains a variant that evades detection today, pending a
// capability the detector lacks. A gap that closes makes the test fail so
// that this list stays true.
func knownGap(e Entry) string {
	return ""
}

func needTshark(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark is needed for the ground truth of new captures (apt-get install tshark)")
	}
}

// checkCorpus generates every variant of labels into a temporary
// directory, evaluates originals and variants, and fails on every variant
// that lost its tunnel, severity, tool or recall (known gaps skipped).
// The original must be found (at high when wantHigh), or the comparison
// would be empty; the absolute quality of the originals is the quality
// floor's business.
func checkCorpus(t *testing.T, labels string, wantHigh bool) {
	out := t.TempDir()
	l, err := Generate(labels, out, Kinds, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Files) == 0 {
		t.Fatal("no variants written")
	}
	rows, err := Check(context.Background(), out, eval.Options{Config: config.Default(), CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	var table strings.Builder
	WriteTable(&table, rows)
	t.Logf("\n%s", table.String())
	for i, r := range rows {
		t.Run(filepath.Base(r.Source)+"/"+string(r.Variant), func(t *testing.T) {
			if !r.Orig.Found || wantHigh && r.Orig.Severity != "high" {
				t.Fatalf("original: tunnel not found (at high: %v): %+v", wantHigh, r.Orig)
			}
			gap := knownGap(l.Files[i])
			switch {
			case gap != "" && len(r.Evaded) == 0:
				t.Errorf("known gap closed, remove it from knownGap: %s", gap)
			case gap != "":
				t.Skipf("known gap (%s): %s", strings.Join(r.Evaded, "; "), gap)
			case len(r.Evaded) > 0:
				t.Errorf("detection lost: %s (original %+v, variant %+v)", strings.Join(r.Evaded, "; "), r.Orig, r.Var)
			}
		})
	}
}

// TestEndToEnd runs the detector on the test capture and on each of its
// variants: the tunnel must be found at high in each, with the same
// packet recall.
func TestEndToEnd(t *testing.T) {
	needTshark(t)
	dir := t.TempDir()
	if err := WriteFrames(filepath.Join(dir, "tunnel.pcap"), testFrames(t, nTunnel, nBenign)); err != nil {
		t.Fatal(err)
	}
	labels := filepath.Join(dir, "labels.json")
	b, _ := json.Marshal(map[string]any{"files": []map[string]any{
		{"file": "tunnel.pcap", "expected_verdict": "tunnel", "tunnel_domains": []string{tunnelZone}},
		{"file": "tunnel.pcap", "expected_verdict": "benign", "tunnel_domains": []string{}},
	}})
	if err := os.WriteFile(labels, b, 0o644); err != nil {
		t.Fatal(err)
	}
	checkCorpus(t, labels, true)
}

// TestProjectCorpus is what CI runs: the variants of the project's own
// labelled captures (testdata/corpus and the downstream channels of
// testdata/downstream).
func TestProjectCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the corpus evaluation takes a while")
	}
	needTshark(t)
	for _, corpus := range []string{"corpus", "downstream"} {
		t.Run(corpus, func(t *testing.T) {
			labels := filepath.Join("..", "..", "testdata", corpus, "labels.json")
			if _, err := os.Stat(labels); err != nil {
				t.Skipf("no testdata/%s/labels.json", corpus)
			}
			checkCorpus(t, labels, false)
		})
	}
}

// TestGenerateLabels checks the labels Generate writes and that eval can
// load them.
func TestGenerateLabels(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "src", "ggy")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	frames := testFrames(t, 20, 50)
	if err := WriteFrames(filepath.Join(sub, "t.pcap"), frames); err != nil {
		t.Fatal(err)
	}
	labels := filepath.Join(dir, "src", "labels.json")
	os.WriteFile(labels, []byte(`{"files": [
		{"file": "ggy/t.pcap", "expected_verdict": "tunnel", "tool": "iodine", "tunnel_domains": ["T.Exfil-Test.net."], "raw_tunnel": true},
		{"file": "ggy/t.pcap", "expected_verdict": "benign", "tunnel_domains": []}]}`), 0o644)
	out := filepath.Join(dir, "out")
	l, err := Generate(labels, out, []Kind{Slow, Case}, Options{Seed: 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Files) != 2 || l.Seed != 3 {
		t.Fatalf("labels: %+v", l)
	}
	for i, k := range []Kind{Slow, Case} {
		e := l.Files[i]
		if e.File != "ggy/t."+string(k)+".pcap" || e.Variant != k || e.Tool != "iodine" || !e.RawTunnel ||
			len(e.TunnelDomains) != 1 || e.TunnelDomains[0] != "t.exfil-test.net" || e.SourceFile != "ggy/t.pcap" ||
			e.SourceFrames != len(frames) || e.Frames != len(frames) {
			t.Errorf("entry %d: %+v", i, e)
		}
		got, err := ReadFrames(filepath.Join(out, filepath.FromSlash(e.File)))
		if err != nil {
			t.Fatal(err)
		}
		want, _ := Apply(k, frames, "ggy/t.pcap", Options{Seed: 3})
		if !framesEqual(got, want) {
			t.Errorf("%s: file differs from Apply", k)
		}
	}
	el, err := eval.LoadLabels(filepath.Join(out, LabelsName))
	if err != nil || len(el.Files) != 2 || el.Files[1].Path() != filepath.Join(out, "ggy", "t.case.pcap") {
		t.Fatalf("eval.LoadLabels: %v %+v", err, el)
	}
}
