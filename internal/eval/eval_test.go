package eval

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dnsieve/dnsieve/internal/config"
)

func TestIsTunnel(t *testing.T) {
	e := Entry{TunnelDomains: []string{"t1.example.com"}, RawTunnel: true}
	cases := map[string]bool{"t1.example.com": true, "abc.t1.example.com": true, "xt1.example.com": false,
		"example.com": false, "": true, "<root>": true, "www.google.com": false}
	for q, want := range cases {
		if got := e.IsTunnel(q); got != want {
			t.Errorf("IsTunnel(%q) = %v", q, got)
		}
	}
	if toolName("iodine-raw") != "iodine" || toolName("DNScat2") != "dnscat2" {
		t.Error("toolName")
	}
	if !coversName("example.com", "t1.example.com") || !coversName("t1.example.com", "t1.example.com") || coversName("xample.com", "t1.example.com") {
		t.Error("coversName")
	}
}

func TestParseTruthLikeScorePy(t *testing.T) {
	tr, err := parseTruth(strings.NewReader("1\tWWW.Example.COM,other.example\n2\t\n\n3\t<Root>\n4\ta\xffb.example\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := Truth{1: "www.example.com", 2: "", 3: "<root>", 4: "a\ufffdb.example"}
	if len(tr) != len(want) {
		t.Fatalf("%v", tr)
	}
	for k, v := range want {
		if tr[k] != v {
			t.Errorf("frame %d: %q, want %q", k, tr[k], v)
		}
	}
}

// TestAgreesWithScorePy runs the evaluation on ../shared/corpus and checks
// that, file by file, its packet and flagged counts equal those of
// ../shared/eval/score.py on the same out.csv rows.
func TestAgreesWithScorePy(t *testing.T) {
	labels := filepath.Join("..", "..", "..", "shared", "corpus", "labels.json")
	score := filepath.Join("..", "..", "..", "shared", "eval", "score.py")
	if _, err := os.Stat(labels); err != nil {
		t.Skip("../shared/corpus is not here")
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed")
	}
	l, err := LoadLabels(labels)
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	s, err := Run(context.Background(), l, Options{Config: config.Default(), WorkDir: work, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	// One out.csv of all files, as score.py wants it.
	var all bytes.Buffer
	for i := range l.Files {
		b, err := os.ReadFile(filepath.Join(work, strconv.Itoa(i), "out.csv"))
		if err != nil {
			t.Fatal(err)
		}
		all.Write(b)
	}
	csv := filepath.Join(work, "all.csv")
	os.WriteFile(csv, all.Bytes(), 0o644)
	out, err := exec.Command("python3", score, "--labels", labels, "--csv", csv, "--json").Output()
	if err != nil {
		t.Fatalf("score.py: %v", err)
	}
	var py struct {
		Files []struct {
			File          string `json:"file"`
			Tunnel        int    `json:"tunnel"`
			TunnelFlagged int    `json:"tunnel_flagged"`
			Benign        int    `json:"benign"`
			BenignFlagged int    `json:"benign_flagged"`
		} `json:"files"`
	}
	if err := json.Unmarshal(out, &py); err != nil {
		t.Fatal(err)
	}
	if len(py.Files) != len(s.Files) {
		t.Fatalf("score.py scored %d files, eval %d", len(py.Files), len(s.Files))
	}
	for i, p := range py.Files {
		r := s.Files[i]
		if filepath.Base(r.File) != p.File || r.TunnelPackets != p.Tunnel || r.TunnelFlagged != p.TunnelFlagged ||
			r.BenignPackets != p.Benign || r.BenignFlagged != p.BenignFlagged {
			t.Errorf("%s: eval %d/%d %d/%d, score.py %d/%d %d/%d", p.File, r.TunnelPackets, r.TunnelFlagged, r.BenignPackets, r.BenignFlagged,
				p.Tunnel, p.TunnelFlagged, p.Benign, p.BenignFlagged)
		}
	}
}

// TestProjectCorpusQualityFloor evaluates the project's own recorded
// corpora (testdata/corpus: real iodine and dns2tcp runs, benign traffic;
// testdata/downstream: payloads pulled through TXT, AAAA and A answers beside
// ordinary lookups) and fails when the quality drops below the floor
// recorded beside each.
func TestProjectCorpusQualityFloor(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark is not installed: the ground truth of testdata/corpus is Wireshark's reading (apt-get install tshark)")
	}
	for _, corpus := range []string{"corpus", "downstream"} {
		t.Run(corpus, func(t *testing.T) { checkCorpusFloor(t, filepath.Join("..", "..", "testdata", corpus)) })
	}
}

func checkCorpusFloor(t *testing.T, dir string) {
	labels := filepath.Join(dir, "labels.json")
	floor, err := LoadFloor(filepath.Join(dir, "quality-floor.json"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := LoadLabels(labels)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Run(context.Background(), l, Options{Config: config.Default(), CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	s.Text(&b)
	t.Log("\n" + b.String())
	for _, bad := range s.Check(floor) {
		t.Error(bad)
	}
	// Every tunnel capture's tool is named, and only that tool; a capture
	// of no known tool names none.
	for _, r := range s.Files {
		if r.ExpectedVerdict != "tunnel" {
			continue
		}
		if r.Tool == "" && len(r.ToolsNamed) != 0 || r.Tool != "" && (len(r.ToolsNamed) != 1 || r.ToolsNamed[0] != r.Tool) {
			t.Errorf("%s: tools named %v, want exactly %q", r.File, r.ToolsNamed, r.Tool)
		}
	}
}
