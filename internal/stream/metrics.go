package stream

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dnsieve/dnsieve/internal/engine"
)

// DropCounter reports packet drops of a capture source (kernel and user
// space); nil when the source cannot drop.
type DropCounter func() (kernel, user uint64)

// Registry returns a Prometheus registry exposing the runner's counters:
// packets, DNS messages, findings and alerts by severity, drops, engine
// state size, evictions, checkpoints and processing lag.
func (r *Runner) Registry(drops DropCounter) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	counter := func(name, help string, f func() float64) {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "dnsieve", Name: name, Help: help}, f))
	}
	gauge := func(name, help string, f func() float64) {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "dnsieve", Name: name, Help: help}, f))
	}
	counter("packets_total", "Frames analysed.", func() float64 { return float64(r.C.Frames.Load()) })
	counter("dns_messages_total", "DNS messages decoded.", func() float64 { return float64(r.C.DNSMessages.Load()) })
	counter("dns_queries_total", "DNS queries decoded.", func() float64 { return float64(r.C.Queries.Load()) })
	counter("dns_responses_total", "DNS responses decoded.", func() float64 { return float64(r.C.Responses.Load()) })
	counter("malformed_total", "Frames on a DNS port that could not be decoded.", func() float64 { return float64(r.C.Malformed.Load()) })
	counter("unwrapped_total", "Frames whose packet was taken out of VXLAN, Geneve, GRE or IP-in-IP.", func() float64 { return float64(r.C.Unwrapped.Load()) })
	counter("checkpoints_total", "Engine checkpoints written.", func() float64 { return float64(r.C.Checkpoints.Load()) })
	counter("checkpoint_errors_total", "Engine checkpoints that failed.", func() float64 { return float64(r.C.CheckpointErrors.Load()) })
	for _, sev := range []engine.Severity{engine.SeverityLow, engine.SeverityMedium, engine.SeverityHigh} {
		s := sev
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "dnsieve", Name: "alerts_total",
			Help: "Alerts raised, by severity.", ConstLabels: prometheus.Labels{"severity": s.String()}},
			func() float64 { return float64(r.C.Alerts[s].Load()) }))
	}
	gauge("engine_domains", "Domains in the engine's state.", func() float64 { return float64(r.EngineStats().Domains) })
	gauge("engine_memory_bytes", "The engine's estimate of its state size.", func() float64 { return float64(r.EngineStats().MemoryBytes) })
	counter("engine_evictions_total", "Domains evicted to stay under the memory cap.", func() float64 { return float64(r.EngineStats().Evictions) })
	gauge("processing_lag_seconds", "Wall-clock time minus the capture time of the latest packet.", func() float64 {
		t := r.C.LastPacketTime.Load()
		if t == 0 {
			return 0
		}
		return time.Since(time.Unix(0, t)).Seconds()
	})
	gauge("last_packet_timestamp_seconds", "Capture time of the latest packet.", func() float64 { return float64(r.C.LastPacketTime.Load()) / 1e9 })
	if drops != nil {
		counter("kernel_drops_total", "Packets the kernel dropped before dnsieve read them.", func() float64 { k, _ := drops(); return float64(k) })
		counter("user_drops_total", "Packets dropped inside dnsieve (queue full).", func() float64 { _, u := drops(); return float64(u) })
	}
	return reg
}

// Serve exposes /metrics and /healthz on addr until ctx ends. It returns
// once the listener is open (or failed).
func Serve(ctx context.Context, addr string, reg *prometheus.Registry) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("ok\n"))
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	go srv.Serve(ln) // returns http.ErrServerClosed after Shutdown
	return ln.Addr(), nil
}
