package report_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dnsieve/dnsieve/internal/config"
	"github.com/dnsieve/dnsieve/internal/report"
	"github.com/dnsieve/dnsieve/internal/scan"
)

func TestDevCorpus(t *testing.T) {
	paths := os.Getenv("DEV_CAPTURES")
	if paths == "" {
		t.Skip()
	}
	cfg := config.Default()
	cfg.OutputDir = "/tmp/devout"
	cfg.EnableAllowlist = false
	sum, err := scan.Run(context.Background(), scan.Options{Config: cfg, Paths: strings.Fields(paths), Quiet: true, Version: "dev"})
	if err != nil {
		t.Log(err)
	}
	in := &report.Input{Version: "dev", Generated: time.Now(), OutputDir: sum.OutputDir, Captures: sum.Captures, Totals: sum.Totals,
		Findings: sum.Findings, TopByQueries: sum.TopByQueries, TopByUnique: sum.TopByUnique, LengthBackground: sum.LengthBackground,
		Config: [][2]string{{"output_dir", cfg.OutputDir}, {"max_entropy", "4.5"}}}
	f, _ := os.Create(filepath.Join(cfg.OutputDir, "report.html"))
	if err := report.HTML(f, in); err != nil {
		t.Fatal(err)
	}
	f.Close()
	report.Terminal(os.Stdout, in, true)
}
