package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnsieve/dnsieve/internal/variants"
)

func TestRunVariants(t *testing.T) {
	var out, errb bytes.Buffer
	if code := runVariants([]string{"--help"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "tcp-split") {
		t.Fatalf("--help: %d %q", code, out.String())
	}
	if code := runVariants([]string{"--labels", "x.json"}, &out, &errb); code != 2 {
		t.Fatalf("missing -o: exit %d", code)
	}
	if code := runVariants([]string{"--labels", "x.json", "-o", t.TempDir(), "--kinds", "bogus"}, &out, &errb); code != 2 {
		t.Fatalf("bad kind: exit %d", code)
	}
	if code := runVariants([]string{"--labels", filepath.Join(t.TempDir(), "none.json"), "-o", t.TempDir()}, &out, &errb); code != 1 {
		t.Fatalf("missing labels: exit %d", code)
	}
	sample := filepath.Join("..", "..", "testdata", "corpus", "sample.pcap")
	if _, err := os.Stat(sample); err != nil {
		t.Skip("no testdata/corpus/sample.pcap")
	}
	abs, _ := filepath.Abs(sample)
	dir := t.TempDir()
	labels := filepath.Join(dir, "labels.json")
	os.WriteFile(labels, []byte(`{"files":[{"file":"`+filepath.ToSlash(abs)+`","expected_verdict":"tunnel","tool":"iodine","tunnel_domains":["t.cdn-sync.net"]}]}`), 0o644)
	outDir := filepath.Join(dir, "out")
	errb.Reset()
	if code := runVariants([]string{"--labels", labels, "-o", outDir, "--kinds", "slow,spread", "--seed", "9"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var l variants.Labels
	b, err := os.ReadFile(filepath.Join(outDir, "labels.json"))
	if err != nil || json.Unmarshal(b, &l) != nil {
		t.Fatalf("labels.json: %v %s", err, b)
	}
	if l.Seed != 9 || len(l.Files) != 2 || l.Files[0].File != "sample.slow.pcap" || l.Files[1].File != "sample.spread.pcap" {
		t.Fatalf("labels: %+v", l)
	}
	for _, e := range l.Files {
		if _, err := os.Stat(filepath.Join(outDir, e.File)); err != nil {
			t.Error(err)
		}
	}
}
