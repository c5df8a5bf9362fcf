package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dnsieve/dnsieve/internal/capture"
	"github.com/dnsieve/dnsieve/internal/checks"
	"github.com/dnsieve/dnsieve/internal/output"
	"github.com/dnsieve/dnsieve/internal/packet"
	"github.com/dnsieve/dnsieve/internal/tcpstream"
)

// Batch sizing: a batch holds whole records copied from the reader. Large
// enough that channel hand-offs cost nothing per packet, small enough that
// a few per worker stay in cache-friendly memory.
const (
	batchRecords = 2048
	batchBytes   = 2 << 20
)

// record locates one frame inside a batch buffer.
type record struct {
	frame      uint64
	time       int64
	linkType   uint16
	start, end int32
}

// flagged is one flagged frame.
type flagged struct {
	frame uint64
	res   checks.Result
}

// tcpSegment is a TCP segment on a DNS port, handed from a worker to the
// collector, which reassembles streams in frame order.
type tcpSegment struct {
	rec int // index into batch.recs
	pkt packet.Packet
}

// batch is the unit of work: whole records, and the worker's results.
type batch struct {
	seq  int
	buf  []byte
	recs []record

	flags  []flagged
	tcp    []tcpSegment
	counts counts
}

func newBatch() *batch {
	return &batch{buf: make([]byte, 0, batchBytes), recs: make([]record, 0, batchRecords)}
}

func (b *batch) reset(seq int) {
	b.seq = seq
	b.buf = b.buf[:0]
	b.recs = b.recs[:0]
	b.flags = b.flags[:0]
	b.tcp = b.tcp[:0]
	b.counts = counts{}
}

// fits reports whether a frame of n bytes can join the batch.
func (b *batch) fits(n int) bool {
	return len(b.recs) < batchRecords && (len(b.buf)+n <= cap(b.buf) || len(b.recs) == 0)
}

// analyze runs a worker's part on every record of the batch.
func (a *analyzer) analyze(b *batch) {
	c := &b.counts
	for i := range b.recs {
		r := &b.recs[i]
		c.frames++
		switch a.decodeFrame(r.linkType, b.buf[r.start:r.end]) {
		case kindSkipped:
			c.skipped++
		case kindMalformed:
			c.malformed++
		case kindFragment:
			c.fragments++
		case kindUDPDNS:
			if res, ok := a.message(a.pkt.Payload, c); ok && res.Level != checks.None {
				b.flags = append(b.flags, flagged{frame: r.frame, res: res})
			}
		case kindTCPDNS:
			b.tcp = append(b.tcp, tcpSegment{rec: i, pkt: a.pkt})
		}
	}
}

// fileResult is what scanning one capture produced.
type fileResult struct {
	stats   output.FileStats
	flagged uint64
	readErr error
}

// progress is shared with the progress reporter.
type progress struct {
	bytesDone   atomic.Int64 // compressed bytes of finished files
	bytesFile   atomic.Int64 // compressed bytes read of the current file
	packetsDone atomic.Uint64
}

// fileScanner scans captures one after another, each with all workers.
type fileScanner struct {
	ctx      context.Context
	workers  int
	checks   *checks.Config
	analyzer func() *analyzer
	tcpCfg   tcpstream.Config
	csv      *output.CSVWriter
	prog     *progress
	batches  []*batch
	reasons  [32]string // Reason.String() for every combination
}

func newFileScanner(workers int, cfg *checks.Config, newAnalyzer func() *analyzer, csv *output.CSVWriter, prog *progress) *fileScanner {
	fs := &fileScanner{workers: workers, checks: cfg, analyzer: newAnalyzer, csv: csv, prog: prog}
	for i := 0; i < 3*workers+2; i++ {
		fs.batches = append(fs.batches, newBatch())
	}
	for i := range fs.reasons {
		fs.reasons[i] = checks.Reason(i).String()
	}
	return fs
}

// scan reads one opened capture to its end (or its damage) and writes its
// out.csv rows. pcapName is the name written in out.csv.
func (fs *fileScanner) scan(r *capture.Reader, pcapName string) fileResult {
	start := time.Now()
	var res fileResult
	st := &res.stats
	st.Format = r.Format().String()
	st.Compression = r.Compression()
	st.Errors = []string{}
	linkTypes := map[uint16]uint64{}

	free := make(chan *batch, len(fs.batches))
	for _, b := range fs.batches {
		free <- b
	}
	work := make(chan *batch, len(fs.batches))
	done := make(chan *batch, len(fs.batches))

	// Reader: copies whole records into batches.
	go func() {
		defer close(work)
		var rec capture.Record
		seq := 0
		b := <-free
		b.reset(seq)
		for {
			if len(b.recs) == 0 && fs.ctx.Err() != nil {
				res.readErr = fmt.Errorf("interrupted after frame %d", rec.Frame)
				break
			}
			err := r.Next(&rec)
			if err != nil {
				if !errors.Is(err, io.EOF) {
					res.readErr = err
				}
				break
			}
			linkTypes[rec.LinkType]++
			if !b.fits(len(rec.Data)) {
				work <- b
				seq++
				b = <-free
				b.reset(seq)
				fs.prog.bytesFile.Store(r.CompressedOffset())
			}
			s := len(b.buf)
			b.buf = append(b.buf, rec.Data...)
			b.recs = append(b.recs, record{frame: rec.Frame, time: rec.Time, linkType: rec.LinkType, start: int32(s), end: int32(len(b.buf))})
		}
		fs.prog.bytesFile.Store(r.CompressedOffset())
		if len(b.recs) > 0 {
			work <- b
		} else {
			free <- b
		}
	}()

	// Workers.
	var wg sync.WaitGroup
	for i := 0; i < fs.workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := fs.analyzer()
			for b := range work {
				a.analyze(b)
				done <- b
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()

	// Collector: frame order, TCP reassembly, rows.
	var total counts
	asm := tcpstream.New(fs.tcpCfg)
	ca := fs.analyzer()
	var tcpFlags []flagged
	pending := map[int]*batch{}
	next := 0
	for b := range done {
		pending[b.seq] = b
		for {
			b, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			tcpFlags = tcpFlags[:0]
			for i := range b.tcp {
				seg := &b.tcp[i]
				rec := &b.recs[seg.rec]
				asm.Add(rec.frame, rec.time, &seg.pkt, func(frame uint64, msg []byte) {
					b.counts.tcpMessages++
					if res, ok := ca.message(msg, &b.counts); ok && res.Level != checks.None {
						tcpFlags = append(tcpFlags, flagged{frame: frame, res: res})
					}
				})
			}
			flags := b.flags
			if len(tcpFlags) > 0 {
				flags = mergeFlags(flags, tcpFlags)
			}
			for _, f := range flags {
				fs.csv.WriteFlag(pcapName, f.frame, f.res.Level.String(), fs.reasons[f.res.Reasons&31])
			}
			res.flagged += uint64(len(flags))
			total.add(&b.counts)
			fs.prog.packetsDone.Add(uint64(len(b.recs)))
			free <- b
		}
	}
	asm.Flush()

	st.PacketsCount = total.frames
	st.MaliciousPacketsCount = res.flagged
	st.DNSMessages = total.dnsMessages
	st.Queries = total.queries
	st.Responses = total.responses
	st.TCPMessages = total.tcpMessages
	st.Allowlisted = total.allowlisted
	st.FlaggedNames = total.flaggedNames
	st.Malformed = total.malformed
	st.Skipped = total.skipped
	st.Fragments = total.fragments
	st.LinkTypes = map[string]uint64{}
	for lt, n := range linkTypes {
		st.LinkTypes[linkTypeName(lt)] += n
	}
	ts := asm.Stats()
	st.TCPStreams = map[string]uint64{
		"segments": ts.Segments, "messages": ts.Messages, "retransmissions": ts.Retransmissions,
		"out_of_order": ts.OutOfOrder, "gaps": ts.Gaps, "overflows": ts.Overflows,
		"evicted_flows": ts.EvictedFlows, "timed_out_flows": ts.TimedOutFlows,
	}
	st.TimeSeconds = time.Since(start).Seconds()
	st.Complete = res.readErr == nil
	if res.readErr != nil {
		st.Errors = append(st.Errors, res.readErr.Error())
	}
	return res
}

// mergeFlags merges the UDP flags (in frame order) with the flags of
// reassembled TCP messages, one row per frame, the strongest result kept.
func mergeFlags(udp, tcp []flagged) []flagged {
	out := make([]flagged, 0, len(udp)+len(tcp))
	out = append(out, udp...)
	out = append(out, tcp...)
	slices.SortStableFunc(out, func(a, b flagged) int {
		switch {
		case a.frame < b.frame:
			return -1
		case a.frame > b.frame:
			return 1
		}
		return 0
	})
	w := 0
	for i := range out {
		if w > 0 && out[w-1].frame == out[i].frame {
			out[w-1].res.Merge(out[i].res)
			continue
		}
		out[w] = out[i]
		w++
	}
	return out[:w]
}

// linkTypeName names the link types dnsieve decodes (tcpdump.org
// LINKTYPE_* values); others are written as numbers.
func linkTypeName(lt uint16) string {
	switch lt {
	case 0:
		return "NULL"
	case 1:
		return "ETHERNET"
	case 12, 14, 101:
		return "RAW"
	case 108:
		return "LOOP"
	case 113:
		return "LINUX_SLL"
	case 228:
		return "IPV4"
	case 229:
		return "IPV6"
	case 276:
		return "LINUX_SLL2"
	}
	return "LINKTYPE_" + strconv.Itoa(int(lt))
}
