package variants

import "testing"

// BenchmarkApply measures each kind on the test capture (per input frame).
func BenchmarkApply(b *testing.B) {
	in := testFrames(b, nTunnel, nBenign)
	for _, k := range Kinds {
		b.Run(string(k), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := Apply(k, in, "bench", Options{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(in)), "ns/frame")
		})
	}
}
