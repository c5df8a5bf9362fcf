package fingerprint

import (
	"testing"

	"github.com/dnsieve/dnsieve/bench/traffic"
)

// realisticMessages returns the Messages of the first n packets of
// generated realistic traffic (ordinary names, Zipf popularity, CDN
// chains), with their own copies of the buffers.
func realisticMessages(n int) []Message {
	b := newBuilder()
	var out []Message
	for _, f := range traffic.Frames(traffic.Config{Seed: 1}, n) {
		var m Message
		if !b.message(traffic.Payload(f), &m) {
			continue
		}
		m.Sub = append([]byte(nil), m.Sub...)
		m.SubLabels = append([]uint8(nil), m.SubLabels...)
		m.Zone = append([]byte(nil), m.Zone...)
		m.Msg = append([]byte(nil), m.Msg...)
		out = append(out, m)
	}
	return out
}

// BenchmarkClassifyRealistic classifies the first questions of generated
// realistic traffic: almost all ordinary names.
func BenchmarkClassifyRealistic(b *testing.B) {
	msgs := realisticMessages(1 << 16)
	msgs = msgs[:1<<15] // a power of two
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		Classify(&msgs[i&(len(msgs)-1)])
		i++
	}
}
