package checks_test

import (
	"testing"

	"github.com/dnsieve/dnsieve/bench/traffic"
	"github.com/dnsieve/dnsieve/internal/checks"
)

// BenchmarkNameRealistic runs every check on a cycle of 65,536 question
// names of generated realistic DNS traffic (hosts, CDN names, PTR and
// ip6.arpa names, DNSBL lookups, 0.5% tunnel names).
func BenchmarkNameRealistic(b *testing.B) {
	frames := traffic.Frames(traffic.Config{Seed: 1}, 1<<16)
	names := make([][]byte, len(frames))
	lens := make([][]uint8, len(frames))
	for i, f := range frames {
		names[i], lens[i] = traffic.QuestionName(traffic.Payload(f))
	}
	cfg := checks.Default()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		k := i & (1<<16 - 1)
		cfg.Name(names[k], lens[k])
		i++
	}
}
