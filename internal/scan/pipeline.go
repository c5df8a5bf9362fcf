package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/dnsieve/dnsieve/internal/analyze"
	"github.com/dnsieve/dnsieve/internal/capture"
	"github.com/dnsieve/dnsieve/internal/checks"
	"github.com/dnsieve/dnsieve/internal/engine"
	"github.com/dnsieve/dnsieve/internal/fingerprint"
	"github.com/dnsieve/dnsieve/internal/ipreasm"
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

// message is one DNS message found in a batch, with its check result and
// the engine's view of it (Name and Labels in the batch's arenas).
type message struct {
	frame   uint64
	res     checks.Result
	allowed bool
	quoted  bool // quoted by an ICMP error: not observed again
	obs     engine.Observation
	// zone1 and zone2 hash the subdomain's last one and two labels for
	// the spool (zoneHashes), computed where the message is analysed.
	zone1, zone2 uint32
}

// rawPacket is a non-DNS payload on a DNS port that a fingerprint
// recognised.
type rawPacket struct {
	frame uint64
	obs   engine.RawObservation
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
	file int
	buf  []byte
	recs []record

	msgs   []message
	raws   []rawPacket
	others []netip.Addr // addresses of non-DNS transport packets
	tcp    []tcpSegment
	frags  []tcpSegment // IP fragments, for reassembly in frame order
	counts analyze.Counts
	names  []byte              // arena for message names
	lens   []uint8             // arena for label lengths
	data   []engine.DataRecord // arena for data-carrying answer records
}

func newBatch() *batch {
	return &batch{buf: make([]byte, 0, batchBytes), recs: make([]record, 0, batchRecords),
		names: make([]byte, 0, batchRecords*256), lens: make([]uint8, 0, batchRecords*64)}
}

func (b *batch) reset(seq, file int) {
	b.seq, b.file = seq, file
	b.buf = b.buf[:0]
	b.recs = b.recs[:0]
	b.msgs = b.msgs[:0]
	b.raws = b.raws[:0]
	b.others = b.others[:0]
	b.tcp = b.tcp[:0]
	b.frags = b.frags[:0]
	b.names = b.names[:0]
	b.lens = b.lens[:0]
	b.data = b.data[:0]
	b.counts = analyze.Counts{}
}

// fits reports whether a frame of n bytes can join the batch.
func (b *batch) fits(n int) bool {
	return len(b.recs) < batchRecords && (len(b.buf)+n <= cap(b.buf) || len(b.recs) == 0)
}

// addMessage stores a message, copying the observation's name and labels
// into the batch's arenas. When an arena is full a new one, twice the size,
// is started (the batch keeps the last, so even hostile batches, such as
// names of 127 labels or TCP segments packed with messages, stop
// allocating); the messages already stored keep pointing into the old one.
func (b *batch) addMessage(frame uint64, res checks.Result, allowed bool, o *engine.Observation) {
	m := message{frame: frame, res: res, allowed: allowed, obs: *o}
	if !allowed {
		if cap(b.names)-len(b.names) < len(o.Name) {
			b.names = make([]byte, 0, max(2*cap(b.names), 4*len(o.Name)))
		}
		if cap(b.lens)-len(b.lens) < len(o.Labels) {
			b.lens = make([]uint8, 0, max(2*cap(b.lens), 4*len(o.Labels)))
		}
		s := len(b.names)
		b.names = append(b.names, o.Name...)
		m.obs.Name = b.names[s:len(b.names):len(b.names)]
		s = len(b.lens)
		b.lens = append(b.lens, o.Labels...)
		m.obs.Labels = b.lens[s:len(b.lens):len(b.lens)]
		if o.RegStart > 1 {
			m.zone1, m.zone2 = zoneHashes(o.Name[:o.RegStart-1])
		}
		if len(o.DataRecords) > 0 {
			// The analyzer's scratch is reused by the next message.
			if cap(b.data)-len(b.data) < len(o.DataRecords) {
				b.data = make([]engine.DataRecord, 0, max(2*cap(b.data), 4*engine.MaxDataRecords))
			}
			s = len(b.data)
			b.data = append(b.data, o.DataRecords...)
			m.obs.DataRecords = b.data[s:len(b.data):len(b.data)]
		}
	}
	b.msgs = append(b.msgs, m)
}

// analyze runs a worker's part on every record of the batch.
func analyzeBatch(a *analyze.Analyzer, b *batch) {
	c := &b.counts
	var obs engine.Observation
	for i := range b.recs {
		r := &b.recs[i]
		c.Frames++
		kind := a.Frame(r.linkType, b.buf[r.start:r.end])
		if a.Packet().Encapsulated > 0 {
			c.Unwrapped++
		}
		switch kind {
		case analyze.Skipped:
			c.Skipped++
			// Other traffic: its addresses tell the engine whether the
			// answers of a domain were ever used.
			if p := a.Packet(); p.Proto == packet.ProtoUDP || p.Proto == packet.ProtoTCP {
				if n := len(b.others); n == 0 || b.others[n-1] != p.Dst {
					b.others = append(b.others, p.Dst, p.Src)
				}
			}
		case analyze.Malformed:
			c.Malformed++
		case analyze.Fragment:
			c.Fragments++
			b.frags = append(b.frags, tcpSegment{rec: i, pkt: *a.Packet()})
		case analyze.UDPDNS:
			var allowed bool
			res, ok := a.Message(a.Packet().Payload, c, &obs, &allowed)
			if !ok {
				rawPayload(a, b, r)
				continue
			}
			obs.Client, obs.Server = a.Endpoints(a.Packet(), obs.Response)
			obs.Time, obs.File = r.time, b.file
			if a.OffPort() {
				obs.OffPort, obs.ServerPort = true, serverPort(a.Packet(), obs.Response)
			}
			b.addMessage(r.frame, res, allowed, &obs)
		case analyze.TCPDNS:
			b.tcp = append(b.tcp, tcpSegment{rec: i, pkt: *a.Packet()})
		case analyze.ICMPDNS:
			// A copy of a DNS datagram that the network refused: checked and
			// reported under its domain, not counted again by the engine.
			c.ICMPQuoted++
			var allowed bool
			res, ok := a.Message(a.Inner().Payload, c, &obs, &allowed)
			if !ok {
				continue
			}
			obs.Client, obs.Server = a.Endpoints(a.Inner(), obs.Response)
			obs.Time, obs.File = r.time, b.file
			b.addMessage(r.frame, res, allowed, &obs)
			b.msgs[len(b.msgs)-1].quoted = true
		}
	}
}

// rawPayload looks for a tunnel in a UDP payload on a DNS port that is not
// a DNS message (iodine's raw mode).
func rawPayload(a *analyze.Analyzer, b *batch, r *record) {
	p := a.Packet()
	m := a.Raw(p.Payload)
	if m.Tool == fingerprint.Unknown {
		return
	}
	client, server := a.Endpoints(p, false)
	b.raws = append(b.raws, rawPacket{frame: r.frame, obs: engine.RawObservation{
		Time: r.time, File: b.file, Client: client, Server: server, Size: len(p.Payload), Match: m}})
}

// fileResult is what scanning one capture produced.
type fileResult struct {
	stats   output.FileStats
	readErr error
}

// progress is shared with the progress reporter.
type progress struct {
	bytesDone   atomic.Int64 // compressed bytes of finished files
	bytesFile   atomic.Int64 // compressed bytes read of the current file
	packetsDone atomic.Uint64
}

// fileScanner scans captures one after another, each with all workers,
// feeding one engine and one spool.
type fileScanner struct {
	ctx        context.Context
	checksOnly bool // the engine is off: only the per-message checks count
	workers    int
	analyzer   func() *analyze.Analyzer
	tcpCfg     tcpstream.Config
	engine     *engine.Engine
	spool      *spool
	prog       *progress
	batches    []*batch
	tcpBatch   *batch // messages reassembled from TCP or IP fragments in the current batch
	ipr        *ipreasm.Reassembler
	whole      packet.Packet // a reassembled datagram
	events     []event
}

// event is one message or raw packet of a batch, in frame order.
type event struct {
	frame uint64
	msg   *message
	raw   *rawPacket
}

// prefetchable reports whether the collector will observe e's message, so
// that asking for its state ahead is worth it: not raw, allowed or quoted.
func (e event) prefetchable() bool { return e.msg != nil && !e.msg.allowed && !e.msg.quoted }

func newFileScanner(ctx context.Context, workers int, newAnalyzer func() *analyze.Analyzer, eng *engine.Engine, sp *spool, prog *progress) *fileScanner {
	fs := &fileScanner{ctx: ctx, workers: workers, analyzer: newAnalyzer, engine: eng, spool: sp, prog: prog, tcpBatch: newBatch()}
	for i := 0; i < batchesFor(workers); i++ {
		fs.batches = append(fs.batches, newBatch())
	}
	return fs
}

// batchesFor is how many batches a scan with workers workers keeps in
// flight: three per worker (being filled, analysed, collected) and two
// for the reader and the collector.
func batchesFor(workers int) int { return 3*workers + 2 }

// batchFootprint is a batch's memory once its arenas have grown to a full
// batch of records: the frames, and per record its place, name, labels
// and message.
const batchFootprint = batchBytes + batchRecords*int64(unsafe.Sizeof(record{})+256+64+unsafe.Sizeof(message{}))

// ExtraPipelineBytes is the memory a scan with workers workers (0: as
// DefaultWorkers decides) keeps in batches beyond what a scan with two
// workers does: the Go memory limit must grow by it, or garbage
// collection runs without end on a machine with many CPUs.
func ExtraPipelineBytes(workers int, checksOnly bool) int64 {
	return max(0, int64(batchesFor(DefaultWorkers(workers, checksOnly))-batchesFor(2))*batchFootprint)
}

// DefaultWorkers returns workers if it is positive, else the number of
// decoding goroutines a scan runs by default: one for each CPU Go may use
// (GOMAXPROCS) but one, since the collector and its engine keep a CPU busy
// on their own, and at least one. On two CPUs one worker beside the
// collector beat two by 5% of wall time on the 10M benchmark capture, with
// 8% less CPU: the second worker only took turns with the collector
// (BENCHMARKS.md). Without the engine (checksOnly) the collector has
// little to do, and there is a worker for each CPU: on two CPUs two
// workers took 3.0 s where one took 4.5 s.
func DefaultWorkers(workers int, checksOnly bool) int {
	switch {
	case workers > 0:
		return workers
	case checksOnly:
		return runtime.GOMAXPROCS(0)
	}
	return max(1, runtime.GOMAXPROCS(0)-1)
}

// scan reads one opened capture to its end (or its damage).
func (fs *fileScanner) scan(r *capture.Reader, file int) fileResult {
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
		b.reset(seq, file)
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
				b.reset(seq, file)
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
				analyzeBatch(a, b)
				done <- b
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()

	// Collector: frame order, TCP reassembly, engine, spool.
	var total analyze.Counts
	asm := tcpstream.New(fs.tcpCfg)
	fs.ipr = ipreasm.New(ipreasm.Config{})
	ca := fs.analyzer()
	pending := map[int]*batch{}
	next := 0
	var spoolErr error
	for b := range done {
		pending[b.seq] = b
		for {
			b, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			if err := fs.collect(b, asm, ca); err != nil && spoolErr == nil {
				spoolErr = err
			}
			total.Add(&b.counts)
			fs.prog.packetsDone.Add(uint64(len(b.recs)))
			free <- b
		}
	}
	asm.Flush()
	fs.ipr.Flush()
	if err := fs.spool.sync(); err != nil && spoolErr == nil {
		spoolErr = err
	}
	if spoolErr != nil && res.readErr == nil {
		res.readErr = spoolErr
	}

	st.PacketsCount = total.Frames
	st.DNSMessages = total.DNSMessages
	st.Queries = total.Queries
	st.Responses = total.Responses
	st.TCPMessages = total.TCPMessages
	st.Allowlisted = total.Allowlisted
	st.FlaggedNames = total.FlaggedNames
	st.Malformed = total.Malformed
	st.Skipped = total.Skipped
	st.Fragments = total.Fragments
	st.ICMPQuoted = total.ICMPQuoted
	st.Unwrapped = total.Unwrapped
	st.Reassembled = total.Reassembled
	is := fs.ipr.Stats()
	st.IPReassembly = map[string]uint64{
		"fragments": is.Fragments, "datagrams": is.Datagrams, "duplicates": is.Duplicates, "overlaps": is.Overlaps,
		"conflicts": is.Conflicts, "invalid": is.Invalid, "discarded": is.Discarded, "too_many": is.TooMany,
		"too_large": is.TooLarge, "evicted": is.Evicted, "timed_out": is.TimedOut, "flushed": is.Flushed,
	}
	st.LinkTypes = map[string]uint64{}
	for lt, n := range linkTypes {
		st.LinkTypes[linkTypeName(lt)] += n
	}
	ts := asm.Stats()
	st.TCPStreams = map[string]uint64{
		"segments": ts.Segments, "messages": ts.Messages, "retransmissions": ts.Retransmissions,
		"out_of_order": ts.OutOfOrder, "gaps": ts.Gaps, "overflows": ts.Overflows, "truncated": ts.Truncated,
		"evicted_flows": ts.EvictedFlows, "timed_out_flows": ts.TimedOutFlows,
		"resumed_flows": ts.ResumedFlows, "resume_too_far": ts.ResumeTooFar, "forgotten_points": ts.ForgottenPoints,
	}
	st.TimeSeconds = time.Since(start).Seconds()
	st.Complete = res.readErr == nil
	if res.readErr != nil {
		st.Errors = append(st.Errors, res.readErr.Error())
	}
	return res
}

// collect takes one batch in order: it reassembles its TCP segments, then
// feeds every message and raw packet to the engine in frame order and
// spools what out.csv will need.
func (fs *fileScanner) collect(b *batch, asm *tcpstream.Assembler, ca *analyze.Analyzer) error {
	tb := fs.tcpBatch
	tb.reset(0, b.file)
	var obs engine.Observation
	var spoolErr error
	// A message completed by frame `frame`: reassembled from TCP segments
	// or IP fragments.
	completed := func(frame uint64, t int64, p *packet.Packet, msg []byte) {
		var allowed bool
		res, ok := ca.Message(msg, &b.counts, &obs, &allowed)
		if !ok {
			if m := ca.Raw(msg); m.Tool != fingerprint.Unknown {
				client, server := ca.Endpoints(p, false)
				tb.raws = append(tb.raws, rawPacket{frame: frame, obs: engine.RawObservation{
					Time: t, File: b.file, Client: client, Server: server, Size: len(msg), Match: m}})
			}
			return
		}
		obs.Client, obs.Server = ca.Endpoints(p, obs.Response)
		obs.Time, obs.File = t, b.file
		tb.addMessage(frame, res, allowed, &obs)
	}
	tcp := func(seg *tcpSegment, rec *record) {
		asm.Add(rec.frame, rec.time, &seg.pkt, func(frame uint64, msg []byte) {
			b.counts.TCPMessages++
			completed(frame, rec.time, &seg.pkt, msg)
		})
	}
	// Fragments and TCP segments interleave: walk both in frame order.
	ti, fi := 0, 0
	for ti < len(b.tcp) || fi < len(b.frags) {
		if fi >= len(b.frags) || ti < len(b.tcp) && b.tcp[ti].rec < b.frags[fi].rec {
			tcp(&b.tcp[ti], &b.recs[b.tcp[ti].rec])
			ti++
			continue
		}
		frag := &b.frags[fi]
		fi++
		rec := &b.recs[frag.rec]
		if !fs.ipr.Add(rec.frame, rec.time, &frag.pkt, &fs.whole) {
			continue
		}
		b.counts.Reassembled++
		w := &fs.whole
		if !ca.OnDNSPort(w) && !(w.Proto == packet.ProtoUDP && ca.LooksLikeDNS(w.Payload)) {
			continue
		}
		switch w.Proto {
		case packet.ProtoUDP:
			completed(rec.frame, rec.time, w, w.Payload)
		case packet.ProtoTCP:
			seg := tcpSegment{rec: frag.rec, pkt: *w}
			tcp(&seg, rec)
		}
	}
	ev := fs.events[:0]
	for i := range b.msgs {
		ev = append(ev, event{frame: b.msgs[i].frame, msg: &b.msgs[i]})
	}
	for i := range b.raws {
		ev = append(ev, event{frame: b.raws[i].frame, raw: &b.raws[i]})
	}
	for i := range tb.raws {
		ev = append(ev, event{frame: tb.raws[i].frame, raw: &tb.raws[i]})
	}
	if len(tb.msgs) > 0 || len(b.raws) > 0 || len(tb.raws) > 0 {
		for i := range tb.msgs {
			ev = append(ev, event{frame: tb.msgs[i].frame, msg: &tb.msgs[i]})
		}
		slices.SortStableFunc(ev, func(x, y event) int {
			switch {
			case x.frame < y.frame:
				return -1
			case x.frame > y.frame:
				return 1
			}
			return 0
		})
	}
	fs.events = ev
	if !fs.checksOnly {
		fs.engine.Contacted(b.others)
	}
	for i, e := range ev {
		if !fs.checksOnly {
			// Start loading the state of the messages to come: Observe
			// otherwise waits for two cache misses in a row per domain.
			if j := i + prefetchIndexAhead; j < len(ev) && ev[j].prefetchable() {
				fs.engine.PrefetchIndex(&ev[j].msg.obs)
			}
			if j := i + prefetchRecordAhead; j < len(ev) && ev[j].prefetchable() {
				fs.engine.PrefetchRecord(&ev[j].msg.obs)
			}
			if j := i + prefetchClientAhead; j < len(ev) && ev[j].prefetchable() {
				fs.engine.PrefetchClient(&ev[j].msg.obs)
			}
		}
		rec := spoolRec{frame: e.frame}
		switch {
		case fs.checksOnly:
			if e.msg == nil || e.msg.allowed {
				continue
			}
			rec.level, rec.reasons = e.msg.res.Level, e.msg.res.Reasons
		case e.raw != nil:
			rec.domain = fs.engine.ObserveRaw(&e.raw.obs)
			rec.tool = toolMark(e.raw.obs.Match)
		case e.msg.allowed:
			continue
		case e.msg.quoted:
			rec.level, rec.reasons = e.msg.res.Level, e.msg.res.Reasons
			if o := &e.msg.obs; len(o.Name) > 0 {
				rec.domain = fs.engine.DomainID(string(o.Name[o.RegStart:]))
			}
		case len(e.msg.obs.Name) == 0 && e.msg.obs.Match.Tool != fingerprint.Unknown:
			o := &e.msg.obs
			rec.level, rec.reasons = e.msg.res.Level, e.msg.res.Reasons
			rec.domain = fs.engine.ObserveRaw(&engine.RawObservation{Time: o.Time, File: o.File, Client: o.Client,
				Server: o.Server, Size: o.Size, Match: o.Match})
		default:
			rec.level, rec.reasons = e.msg.res.Level, e.msg.res.Reasons
			rec.domain = fs.engine.Observe(&e.msg.obs)
			rec.zone1, rec.zone2 = e.msg.zone1, e.msg.zone2
			rec.tool = toolMark(e.msg.obs.Match)
		}
		// A spool that failed loses out.csv's rows, not the analysis:
		// the engine goes on seeing every message.
		if err := fs.spool.add(rec); err != nil && spoolErr == nil {
			spoolErr = err
		}
	}
	return spoolErr
}

// How many events ahead the collector prefetches a message's index slot,
// then its record, then its client's slot (engine.PrefetchIndex,
// PrefetchRecord, PrefetchClient): far enough for a miss to complete while
// the messages between are observed.
const (
	prefetchIndexAhead  = 16
	prefetchRecordAhead = 6
	prefetchClientAhead = 2
)

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
	case 9:
		return "PPP"
	case 50:
		return "PPP_HDLC"
	case 105:
		return "IEEE802_11"
	case 127:
		return "IEEE802_11_RADIOTAP"
	}
	return "LINKTYPE_" + strconv.Itoa(int(lt))
}

// serverPort is the server's port of a DNS packet.
func serverPort(p *packet.Packet, response bool) uint16 {
	if response {
		return p.SrcPort
	}
	return p.DstPort
}

// toolMark is the spool's record of a fingerprint match: the tool, with
// weakTool set for a weak match; 0 for none.
func toolMark(m fingerprint.Match) uint8 {
	switch m.Strength {
	case fingerprint.Strong:
		return uint8(m.Tool)
	case fingerprint.Weak:
		return uint8(m.Tool) | weakTool
	}
	return 0
}
