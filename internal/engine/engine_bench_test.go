package engine_test

import (
	"testing"

	"github.com/dnsieve/dnsieve/bench/traffic"
	"github.com/dnsieve/dnsieve/internal/analyze"
	"github.com/dnsieve/dnsieve/internal/checks"
	"github.com/dnsieve/dnsieve/internal/engine"
)

// observations turns n frames of generated realistic traffic into engine
// observations, as the scan pipeline does.
func observations(b testing.TB, n int) []engine.Observation {
	b.Helper()
	cfg := checks.Default()
	a := analyze.New(analyze.Config{Checks: &cfg, Ports: analyze.NewPortSet([]uint16{53})})
	g := traffic.New(traffic.Config{Seed: 1})
	obs := make([]engine.Observation, 0, n)
	var cnt analyze.Counts
	var allowed bool
	for len(obs) < n {
		t, f := g.Next()
		if a.Frame(1, f) != analyze.UDPDNS {
			b.Fatal("not UDP DNS")
		}
		var o engine.Observation
		if _, ok := a.Message(a.Packet().Payload, &cnt, &o, &allowed); !ok {
			b.Fatal("not a DNS message")
		}
		o.Client, o.Server = a.Endpoints(a.Packet(), o.Response)
		o.Time = t
		o.Name = append([]byte(nil), o.Name...)
		o.Labels = append([]uint8(nil), o.Labels...)
		obs = append(obs, o)
	}
	return obs
}

// BenchmarkObserveRealistic feeds the engine the messages of generated
// realistic traffic. "stream" is a first pass over 500k messages (about
// 90k registered domains, most of them new to the engine: the long tail
// of a real resolver); "warm" cycles over 65,536 messages whose domains
// are all known, with time moving on.
func BenchmarkObserveRealistic(b *testing.B) {
	all := observations(b, 500_000)
	b.Run("stream", func(b *testing.B) {
		e := engine.New(engine.Config{})
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			if i == len(all) {
				b.StopTimer()
				e, i = engine.New(engine.Config{}), 0
				b.StartTimer()
			}
			e.Observe(&all[i])
			i++
		}
		b.ReportMetric(float64(e.Stats().Domains), "domains")
	})
	b.Run("warm", func(b *testing.B) {
		const n = 1 << 16
		obs := append([]engine.Observation(nil), all[:n]...)
		e := engine.New(engine.Config{})
		for i := range obs {
			e.Observe(&obs[i])
		}
		span := obs[n-1].Time - obs[0].Time + 1
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			o := &obs[i&(n-1)]
			o.Time += span
			e.Observe(o)
			i++
		}
	})
}
