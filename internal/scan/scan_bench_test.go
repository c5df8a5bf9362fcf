package scan

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/dnsieve/dnsieve/bench/traffic"
	"github.com/dnsieve/dnsieve/internal/config"
)

// benchCapture writes n packets of generated realistic traffic (see
// bench/traffic) to a pcap in dir.
func benchCapture(b *testing.B, dir string, n, domains int) string {
	b.Helper()
	path := filepath.Join(dir, "bench.pcap")
	if n > 0 {
		path = filepath.Join(dir, "bench-"+itoa(n)+"-"+itoa(domains)+".pcap")
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := traffic.Write(f, traffic.New(traffic.Config{Seed: 1, Domains: domains}), n, "pcap", "none"); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// runOnce scans path into a fresh output directory and returns the heap
// allocations the run made.
func runOnce(b *testing.B, cfg config.Config, workers int, path string) uint64 {
	b.Helper()
	out, err := os.MkdirTemp(b.TempDir(), "out")
	if err != nil {
		b.Fatal(err)
	}
	cfg.OutputDir = out
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	if _, err := Run(context.Background(), Options{Config: cfg, Paths: []string{path}, Workers: workers, Quiet: true}); err != nil {
		b.Fatal(err)
	}
	runtime.ReadMemStats(&m1)
	return m1.Mallocs - m0.Mallocs
}

// BenchmarkScanEndToEnd is `dnsieve scan` on a generated capture of
// realistic traffic (400k packets): capture reading, decoding, checks,
// the behavioural engine and every output. It reports packets/s and the
// steady-state heap allocations per packet: the difference in allocations
// between scanning 400k and 100k packets of the same traffic (the latter
// is a prefix of the former), divided by the 300k extra packets, so that
// per-run setup and output costs cancel out.
//
// "domains=1M" draws from a population of a million registered domains:
// new domains keep arriving, as on a real resolver; "domains=2k" reaches
// its working set early, which isolates the per-packet path.
func BenchmarkScanEndToEnd(b *testing.B) {
	const small, large = 100_000, 400_000
	for _, c := range []struct {
		name       string
		domains    int
		checksOnly bool
		workers    int
	}{
		{"engine/domains=1M/workers=1", 1_000_000, false, 1},
		{"engine/domains=1M/workers=2", 1_000_000, false, 2},
		{"engine/domains=2k/workers=1", 2_000, false, 1},
		{"checks-only/domains=1M/workers=1", 1_000_000, true, 1},
	} {
		b.Run(c.name, func(b *testing.B) {
			dir := b.TempDir()
			pSmall := benchCapture(b, dir, small, c.domains)
			pLarge := benchCapture(b, dir, large, c.domains)
			cfg := config.Default()
			cfg.ChecksOnly = c.checksOnly
			aSmall := runOnce(b, cfg, c.workers, pSmall)
			aLarge := runOnce(b, cfg, c.workers, pLarge)
			marginal := (float64(aLarge) - float64(aSmall)) / (large - small)
			fi, err := os.Stat(pLarge)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(fi.Size())
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				runOnce(b, cfg, c.workers, pLarge)
			}
			b.ReportMetric(float64(large)*float64(b.N)/b.Elapsed().Seconds(), "packets/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(large*b.N), "ns/packet")
			b.ReportMetric(marginal, "allocs/packet")
		})
	}
}
