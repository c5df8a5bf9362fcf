package scan_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnsieve/dnsieve/internal/config"
	"github.com/dnsieve/dnsieve/internal/scan"
	"github.com/dnsieve/dnsieve/internal/variants"
)

// TestEncapsulatedCaptureScansAlike: the bundled sample with every frame
// wrapped as mirrored traffic arrives (VXLAN, Geneve, GRE with ERSPAN,
// IP-in-IP) gives the same out.csv rows and the same findings as the
// sample itself, and stats.json counts the frames unwrapped.
func TestEncapsulatedCaptureScansAlike(t *testing.T) {
	src := filepath.Join("..", "..", "testdata", "corpus", "sample.pcap")
	frames, err := variants.ReadFrames(src)
	if err != nil {
		t.Fatal(err)
	}
	wrapped, err := variants.Apply(variants.Encapsulated, frames, "sample.pcap", variants.Options{})
	if err != nil {
		t.Fatal(err)
	}
	changed := 0
	for i := range frames {
		if string(frames[i].Data) != string(wrapped[i].Data) {
			changed++
		}
	}
	dir := t.TempDir()
	wrappedPath := filepath.Join(dir, "sample.pcap")
	if err := variants.WriteFrames(wrappedPath, wrapped); err != nil {
		t.Fatal(err)
	}
	run := func(path, out string) (csv []string, findings string, stats map[string]any) {
		cfg := config.Default()
		cfg.OutputDir = out
		if _, err := scan.Run(context.Background(), scan.Options{Config: cfg, Paths: []string{path}, Workers: 1, Quiet: true}); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(out, "out.csv"))
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.ReadFile(filepath.Join(out, "domains.csv"))
		if err != nil {
			t.Fatal(err)
		}
		s, err := os.ReadFile(filepath.Join(out, "stats.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(s, &stats); err != nil {
			t.Fatal(err)
		}
		return strings.Split(string(b), "\n"), string(f), stats
	}
	plainCSV, plainDomains, plainStats := run(src, filepath.Join(dir, "plain"))
	wrapCSV, wrapDomains, wrapStats := run(wrappedPath, filepath.Join(dir, "wrapped"))
	if len(plainCSV) < 100 || strings.Join(plainCSV, "\n") != strings.Join(wrapCSV, "\n") {
		t.Fatalf("out.csv differs: %d rows plain, %d wrapped", len(plainCSV), len(wrapCSV))
	}
	if plainDomains != wrapDomains {
		t.Fatalf("domains.csv differs:\n%s\n---\n%s", plainDomains, wrapDomains)
	}
	file := func(st map[string]any) map[string]any {
		for k, v := range st {
			if m, ok := v.(map[string]any); ok && strings.HasSuffix(k, "sample.pcap") {
				return m
			}
		}
		t.Fatalf("no sample.pcap entry in stats.json")
		return nil
	}
	p, w := file(plainStats), file(wrapStats)
	if _, ok := p["unwrapped"]; ok {
		t.Errorf("plain capture: unwrapped %v", p["unwrapped"])
	}
	if w["unwrapped"] != float64(changed) || changed < 1000 || w["dns_messages"] != p["dns_messages"] || w["packets_count"] != p["packets_count"] {
		t.Errorf("wrapped: unwrapped %v (%d frames wrapped) of %v packets, %v DNS messages (plain %v)", w["unwrapped"], changed, w["packets_count"], w["dns_messages"], p["dns_messages"])
	}
}
