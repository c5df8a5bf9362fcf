package scan

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime"
	"testing"

	"github.com/dnsieve/dnsieve/bench/traffic"
	"github.com/dnsieve/dnsieve/internal/analyze"
	"github.com/dnsieve/dnsieve/internal/capture"
	"github.com/dnsieve/dnsieve/internal/config"
	"github.com/dnsieve/dnsieve/internal/engine"
	"github.com/dnsieve/dnsieve/internal/tcpstream"
)

// TestSteadyStateAllocatesNothing runs a batch of realistic traffic (the
// benchmark generator: CDN and PTR names, answers, tunnels) through a
// worker's analysis and the collector (engine with the learned model,
// spool) again and again: once every domain, name and client is known,
// a packet costs no allocation anywhere on the path.
func TestSteadyStateAllocatesNothing(t *testing.T) {
	var pcap bytes.Buffer
	if err := traffic.Write(&pcap, traffic.New(traffic.Config{Seed: 7, Domains: 300}), batchRecords, "pcap", "none"); err != nil {
		t.Fatal(err)
	}
	r, err := capture.NewReader(bytes.NewReader(pcap.Bytes()), "steady.pcap")
	if err != nil {
		t.Fatal(err)
	}
	type frame struct {
		rec  capture.Record
		data []byte
	}
	var frames []frame
	for {
		var rec capture.Record
		if err := r.Next(&rec); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			break
		}
		frames = append(frames, frame{rec, bytes.Clone(rec.Data)})
	}
	if len(frames) != batchRecords {
		t.Fatalf("%d frames", len(frames))
	}

	cfg := config.Default()
	ports := analyze.NewPortSet(cfg.DNSPorts)
	newAnalyzer := func() *analyze.Analyzer {
		return analyze.New(analyze.Config{Checks: &cfg.Checks, Ports: ports})
	}
	eng := engine.New(cfg.Engine)
	sp := newSpool(t.TempDir(), 1<<20)
	sp.mem = make([]spoolRec, 0, 1<<20) // the spool's growth is not per packet
	fs := newFileScanner(context.Background(), 1, newAnalyzer, eng, sp, nil)
	worker, collector := newAnalyzer(), newAnalyzer()
	asm := tcpstream.New(fs.tcpCfg)
	b := newBatch()
	run := func() {
		b.reset(0, 0)
		for _, f := range frames {
			s := len(b.buf)
			b.buf = append(b.buf, f.data...)
			b.recs = append(b.recs, record{frame: f.rec.Frame, time: f.rec.Time, linkType: f.rec.LinkType,
				start: int32(s), end: int32(len(b.buf))})
		}
		analyzeBatch(worker, b)
		if err := fs.collect(b, asm, collector); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		run() // every domain, name and client becomes known
	}
	// Every allocation counts (testing.AllocsPerRun would round a few
	// per run down to zero).
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	before := eng.Stats()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for range 10 {
		run()
	}
	runtime.ReadMemStats(&m1)
	after := eng.Stats()
	perRun := (after.Messages - before.Messages) / 10
	if perRun < batchRecords*9/10 || after.Domains < 100 || after.Domains != before.Domains {
		t.Fatalf("test too weak: %d messages per run, %d domains (%d before)", perRun, after.Domains, before.Domains)
	}
	if n := m1.Mallocs - m0.Mallocs; n != 0 {
		t.Fatalf("%d allocations in 10 batches of %d packets in the steady state", n, len(frames))
	}
}
