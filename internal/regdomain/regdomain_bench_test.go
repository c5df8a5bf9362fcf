package regdomain_test

import (
	"testing"

	"github.com/dnsieve/dnsieve/bench/traffic"
	"github.com/dnsieve/dnsieve/internal/regdomain"
)

// benchNames returns the question names of the first n queries of
// generated realistic traffic.
func benchNames(n int) ([][]byte, [][]uint8) {
	frames := traffic.Frames(traffic.Config{Seed: 1}, 2*n)
	var names [][]byte
	var lens [][]uint8
	for _, f := range frames {
		msg := traffic.Payload(f)
		if msg[2]&0x80 != 0 {
			continue // a response repeats its query's name
		}
		name, l := traffic.QuestionName(msg)
		names, lens = append(names, name), append(lens, l)
	}
	return names, lens
}

// BenchmarkSplitRealistic splits the question names of generated
// realistic traffic (a million registered domains, Zipf popularity and a
// long tail). "stream" is a first pass over 250k queries with a fresh
// Splitter, as a long capture sees them: most hosts are new to the
// cache; "warm" cycles over 16k queries whose suffixes are all cached.
func BenchmarkSplitRealistic(b *testing.B) {
	names, lens := benchNames(250_000)
	b.Run("stream", func(b *testing.B) {
		s := regdomain.New(0)
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			if i == len(names) {
				b.StopTimer()
				s, i = regdomain.New(0), 0
				b.StartTimer()
			}
			s.Split(names[i], lens[i])
			i++
		}
		b.ReportMetric(float64(s.Misses)/float64(max(s.Lookups, 1)), "misses/lookup")
	})
	b.Run("warm", func(b *testing.B) {
		s := regdomain.New(0)
		const n = 1 << 14
		for i := 0; i < n; i++ {
			s.Split(names[i], lens[i])
		}
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			s.Split(names[i&(n-1)], lens[i&(n-1)])
			i++
		}
	})
}
