package scan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dnsieve/dnsieve/bench/traffic"
	"github.com/dnsieve/dnsieve/internal/allocs"
	"github.com/dnsieve/dnsieve/internal/analyze"
	"github.com/dnsieve/dnsieve/internal/capture"
	"github.com/dnsieve/dnsieve/internal/checks"
	"github.com/dnsieve/dnsieve/internal/config"
	"github.com/dnsieve/dnsieve/internal/engine"
	"github.com/dnsieve/dnsieve/internal/tcpstream"
	"github.com/dnsieve/dnsieve/internal/testcap"
)

// TestSteadyStateAllocatesNothing runs a batch of realistic traffic (the
// benchmark generator: CDN and PTR names, answers, tunnels) through a
// worker's analysis and the collector (engine with the learned model,
// spool) again and again: once every domain, name and client is known,
// a packet costs no allocation anywhere on the path.
func TestSteadyStateAllocatesNothing(t *testing.T) {
	var pcap bytes.Buffer
	// The generator's traffic, then responses whose answers carry data
	// (a stager's TXT chunks, four records each): every record goes into
	// the batch's arena.
	const stager = 512
	if err := traffic.Write(&pcap, traffic.New(traffic.Config{Seed: 7, Domains: 300}), batchRecords-stager, "pcap", "none"); err != nil {
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
	client, server := netip.MustParseAddrPort("192.0.2.10:40000"), netip.MustParseAddrPort("192.0.2.53:53")
	last := frames[len(frames)-1].rec
	for i := range stager {
		var chunks []testcap.Answer
		for k := range 4 {
			chunks = append(chunks, testcap.AnswerTXT(fmt.Sprintf("%04d%d", i%64, k)+strings.Repeat("QmFzZTY0IGVuY29kZWQgcGF5bG9h", 5)))
		}
		rec := last
		rec.Frame, rec.Time = last.Frame+uint64(i+1), last.Time+int64(i+1)*int64(time.Millisecond)
		data := testcap.UDP(testcap.Ethernet, server, client, testcap.Response(uint16(i), fmt.Sprintf("p%d.stage.example.net", i%64), testcap.TypeTXT, 0, chunks...))
		frames = append(frames, frame{rec, data})
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
	// The fewest of three rounds: an allocation of another goroutine
	// (the testing package's, the runtime's) lands in one round, an
	// allocation of the path under test in every round.
	before := eng.Stats()
	fewest := allocs.Fewest(3, func() {
		for range 10 {
			run()
		}
	})
	after := eng.Stats()
	perRun := (after.Messages - before.Messages) / 30
	if f := eng.Findings(); !slices.ContainsFunc(f, func(f engine.Finding) bool { return f.RegisteredDomain == "example.net" && f.Features.DataAnswers > 0 }) {
		t.Fatal("test too weak: the stager's answers were not counted")
	}
	if perRun < batchRecords*9/10 || after.Domains < 100 || after.Domains != before.Domains {
		t.Fatalf("test too weak: %d messages per run, %d domains (%d before)", perRun, after.Domains, before.Domains)
	}
	if fewest != 0 {
		t.Fatalf("%d allocations in 10 batches of %d packets in the steady state (the fewest of 3 rounds)", fewest, len(frames))
	}
}

// TestBatchArenasStopGrowing: messages whose names, labels and data
// records overflow a batch's first arenas (hostile names of 127 labels,
// answers full of records) make the batch allocate only until its arenas
// have grown; then it allocates nothing.
func TestBatchArenasStopGrowing(t *testing.T) {
	name := []byte(strings.Repeat("a.", 126) + "a")
	labels := make([]uint8, 127)
	for i := range labels {
		labels[i] = 1
	}
	var buf [engine.MaxDataRecords]engine.DataRecord
	o := engine.Observation{Response: true, Name: name, Labels: labels, RegStart: len(name) - 1}
	for k := range engine.MaxDataRecords {
		o.AddDataRecord(&buf, 100, uint64(k+1))
	}
	b := newBatch()
	fill := func() {
		b.reset(0, 0)
		for i := range 2 * batchRecords {
			b.addMessage(uint64(i), checks.Result{}, false, &o)
		}
	}
	for range 3 {
		fill()
	}
	if len(b.msgs) != 2*batchRecords {
		t.Fatalf("%d messages", len(b.msgs))
	}
	last := b.msgs[len(b.msgs)-1].obs
	if string(last.Name) != string(name) || len(last.Labels) != 127 || len(last.DataRecords) != engine.MaxDataRecords {
		t.Fatalf("stored message %q %d labels %d records", last.Name, len(last.Labels), len(last.DataRecords))
	}
	if n := testing.AllocsPerRun(5, fill); n != 0 {
		t.Fatalf("%v allocations per batch once the arenas have grown", n)
	}
}
