package analyze_test

import (
	"testing"

	"github.com/dnsieve/dnsieve/bench/traffic"
	"github.com/dnsieve/dnsieve/internal/analyze"
	"github.com/dnsieve/dnsieve/internal/checks"
	"github.com/dnsieve/dnsieve/internal/engine"
)

// BenchmarkFrameAndMessageRealistic is a worker's whole per-packet path
// (decode, DNS parse, checks on questions and answers, registered-domain
// split, fingerprints) over generated realistic traffic. "warm" cycles
// over 65,536 frames (every suffix cached after the first pass); "stream"
// is a first pass over 500k frames, where new hosts keep arriving.
func BenchmarkFrameAndMessageRealistic(b *testing.B) {
	for _, c := range []struct {
		name string
		n    int
	}{{"warm", 1 << 16}, {"stream", 500_000}} {
		b.Run(c.name, func(b *testing.B) {
			frames := traffic.Frames(traffic.Config{Seed: 1}, c.n)
			cfg := checks.Default()
			newA := func() *analyze.Analyzer {
				return analyze.New(analyze.Config{Checks: &cfg, Ports: analyze.NewPortSet([]uint16{53})})
			}
			a := newA()
			var cnt analyze.Counts
			var obs engine.Observation
			var allowed bool
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				if i == len(frames) {
					if c.name == "stream" {
						b.StopTimer()
						a = newA()
						b.StartTimer()
					}
					i = 0
				}
				if a.Frame(1, frames[i]) != analyze.UDPDNS {
					b.Fatal("not UDP DNS")
				}
				a.Message(a.Packet().Payload, &cnt, &obs, &allowed)
				i++
			}
		})
	}
}
