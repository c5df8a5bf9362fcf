package tcpstream

import (
	"encoding/binary"
	"net/netip"
	"slices"

	"github.com/dnsieve/dnsieve/internal/packet"
)

// Default configuration values, used for zero (or negative) Config fields.
const (
	DefaultMaxFlows        = 65536
	DefaultMaxFlowBuffer   = 256 << 10
	DefaultMaxTotalBuffer  = 64 << 20
	DefaultFlowTimeout     = int64(2 * 60 * 1e9)
	DefaultMaxFlowSegments = 256
)

// MinFlowBuffer is the smallest accepted Config.MaxFlowBuffer: one maximum
// size DNS message (65535 bytes) plus its two-byte length prefix.
const MinFlowBuffer = 65535 + 2

const (
	// minPend is the smallest capacity allocated for a partial message.
	minPend = 512
	// retainPend is the largest partial-message buffer a flow keeps once
	// the message it held has been delivered; larger buffers are released
	// so an idle flow holds little memory.
	retainPend = 4096
)

// Config bounds the resources of an Assembler. Zero fields take the defaults.
type Config struct {
	// MaxFlows is the number of flow directions tracked at once (default
	// 65536). A new flow beyond it evicts the least recently used flow. It
	// also bounds the number of remembered resumption points of flows that
	// timed out or were evicted.
	MaxFlows int
	// MaxFlowBuffer is the number of buffer bytes one flow direction may hold,
	// counting the partial message and out-of-order data (default 256 KiB).
	// Values below MinFlowBuffer are raised to it.
	MaxFlowBuffer int
	// MaxTotalBuffer is the number of buffer bytes held over all flows
	// (default 64 MiB). When a flow needs more, least recently used flows are
	// evicted. Values below MaxFlowBuffer are raised to it.
	MaxTotalBuffer int64
	// FlowTimeout is the capture time in nanoseconds without a segment after
	// which a flow is dropped (default 2 minutes). Where the stream of an
	// open flow stood is remembered, so the flow resumes if it goes on.
	FlowTimeout int64
	// MaxFlowSegments is the number of separate out-of-order pieces one flow
	// direction may hold (default 256). It bounds the work per segment.
	MaxFlowSegments int
}

func (c Config) withDefaults() Config {
	if c.MaxFlows <= 0 {
		c.MaxFlows = DefaultMaxFlows
	}
	if c.MaxFlowBuffer <= 0 {
		c.MaxFlowBuffer = DefaultMaxFlowBuffer
	}
	if c.MaxFlowBuffer < MinFlowBuffer {
		c.MaxFlowBuffer = MinFlowBuffer
	}
	if c.MaxTotalBuffer <= 0 {
		c.MaxTotalBuffer = DefaultMaxTotalBuffer
	}
	if c.MaxTotalBuffer < int64(c.MaxFlowBuffer) {
		c.MaxTotalBuffer = int64(c.MaxFlowBuffer)
	}
	if c.FlowTimeout <= 0 {
		c.FlowTimeout = DefaultFlowTimeout
	}
	if c.MaxFlowSegments <= 0 {
		c.MaxFlowSegments = DefaultMaxFlowSegments
	}
	return c
}

// Stats counts what an Assembler has seen and done. All counters are
// cumulative except ActiveFlows, TrackedFlows, BufferedBytes and
// ResumePoints.
type Stats struct {
	// Segments is the number of TCP segments passed to Add.
	Segments uint64
	// Ignored is the number of packets passed to Add that were not usable TCP
	// segments (another protocol, or an IP fragment).
	Ignored uint64
	// Messages is the number of non-empty DNS messages delivered.
	Messages uint64
	// EmptyMessages is the number of zero-length messages skipped.
	EmptyMessages uint64
	// Retransmissions is the number of segments that carried bytes already
	// received (duplicates and partial overlaps); those bytes were ignored.
	Retransmissions uint64
	// OutOfOrder is the number of segments held because bytes before them
	// were missing.
	OutOfOrder uint64
	// Gaps is the number of holes declared lost: the flow skipped to the next
	// held data and restarted message framing there.
	Gaps uint64
	// Overflows is the number of times a flow would have exceeded
	// MaxFlowBuffer or MaxFlowSegments (out-of-order data was discarded or a
	// gap declared).
	Overflows uint64
	// Truncated is the number of times buffered data that did not form a
	// complete message was discarded (gap, eviction, timeout, close, Flush).
	Truncated uint64
	// EvictedFlows is the number of open flows evicted because MaxFlows or
	// MaxTotalBuffer was reached.
	EvictedFlows uint64
	// TimedOutFlows is the number of open flows dropped after FlowTimeout.
	TimedOutFlows uint64
	// ClosedFlows is the number of flows closed by FIN or RST.
	ClosedFlows uint64
	// ActiveFlows is the number of open flow directions tracked now.
	ActiveFlows uint64
	// TrackedFlows is ActiveFlows plus closed flows still remembered so that
	// late retransmissions are recognised.
	TrackedFlows uint64
	// BufferedBytes is the buffer capacity, in bytes, held over all flows now.
	BufferedBytes uint64
	// ResumedFlows is the number of flows recreated from the point where
	// their stream stood when they timed out or were evicted.
	ResumedFlows uint64
	// ResumeTooFar is the number of remembered points given up because the
	// data segment of the returning flow was more than MaxFlowBuffer sequence
	// numbers away from them; framing then started at that segment.
	ResumeTooFar uint64
	// ForgottenPoints is the number of remembered points overwritten before
	// use because MaxFlows newer points were remembered after them.
	ForgottenPoints uint64
	// ResumePoints is the number of remembered points held now.
	ResumePoints uint64
}

// flowKey identifies one direction of a TCP connection.
type flowKey struct {
	src, dst         netip.Addr
	srcPort, dstPort uint16
}

// chunk is a piece of out-of-order data starting at sequence number seq.
type chunk struct {
	seq  uint32
	data []byte
}

// flow is the reassembly state of one direction of a connection.
type flow struct {
	key        flowKey
	prev, next *flow // LRU list (head is most recent); next links the free list
	lastSeen   int64

	nextSeq uint32 // sequence number of the next in-order byte
	isn     uint32 // initial sequence number, valid if synSeen
	synSeen bool
	finSet  bool
	finSeq  uint32 // sequence number just after the last byte before FIN
	closed  bool   // tombstone: FIN/RST seen, buffers released
	endSeq  uint32 // for a tombstone, nextSeq when it was closed

	// Rest of a message to discard before framing goes on (a flow resumed
	// mid-message): skip bytes, or, if skipHalf, the message whose length
	// prefix starts with the byte skipHi (its second byte is next).
	skip     int
	skipHalf bool
	skipHi   byte

	pend   []byte  // partial message (prefix included), in-order bytes not yet delivered
	chunks []chunk // out-of-order data, sorted, disjoint, all after nextSeq
	bytes  int     // accounted buffer capacity of pend and chunks
}

// Assembler reassembles DNS messages from DNS-over-TCP segments. It is not
// safe for concurrent use, and emit callbacks must not call back into it.
type Assembler struct {
	cfg   Config
	flows map[flowKey]*flow
	head  *flow // most recently used
	tail  *flow // least recently used
	free  *flow // free list of flow structs
	open  int   // flows that are not tombstones
	total int64 // sum of flow.bytes

	now    int64 // latest capture time seen (capture time never goes back here)
	nowSet bool

	tmp    []chunk     // scratch for chunk insertion
	resume resumeTable // where dropped open flows stood
	stats  Stats
}

// New returns an Assembler bounded by cfg (zero fields take the defaults).
func New(cfg Config) *Assembler {
	cfg = cfg.withDefaults()
	return &Assembler{
		cfg:    cfg,
		flows:  make(map[flowKey]*flow),
		resume: newResumeTable(cfg.MaxFlows),
	}
}

// Config returns the effective configuration, defaults applied.
func (a *Assembler) Config() Config { return a.cfg }

// Stats returns the current counters.
func (a *Assembler) Stats() Stats {
	s := a.stats
	s.ActiveFlows = uint64(a.open)
	s.TrackedFlows = uint64(len(a.flows))
	s.BufferedBytes = uint64(a.total)
	s.ResumePoints = uint64(a.resume.n)
	return s
}

// serialLE reports whether a <= b in RFC 1982 serial number arithmetic.
func serialLE(a, b uint32) bool { return int32(a-b) <= 0 }

// Add feeds one TCP segment (p.Proto == packet.ProtoTCP) seen in frame frame
// at capture time ts (Unix nanoseconds). For each complete DNS message now
// available in the segment's direction it calls emit(frame, msg): frame is
// the frame of the segment that completed the message and msg is the message
// without its length prefix, valid only during the call. Packets that are not
// TCP segments, and IP fragments, are counted in Stats.Ignored.
//
// Segment policy: SYN fixes the initial sequence number; a flow first seen
// without SYN starts at the first segment carrying data. Bytes before the
// next expected sequence number are ignored (retransmissions; the first copy
// of a byte always wins, also among out-of-order pieces). Out-of-order data
// is held until the hole before it fills, within MaxFlowBuffer and
// MaxFlowSegments. When an out-of-order segment does not fit, the hole before
// the earliest held data (or before this segment, if it is earlier) is
// declared lost: the partial message is discarded and framing restarts at
// that data, which is assumed to begin with a length prefix. When in-order
// data needs room for its partial message, the furthest out-of-order data is
// discarded instead. FIN closes the direction once every byte before it has
// arrived; RST closes it at once. Complete messages are always delivered
// before a close, partial ones are counted in Stats.Truncated.
//
// An open flow that times out or is evicted leaves a remembered point (its
// next expected sequence number and how much of the current message is
// left). A later segment of the same flow within MaxFlowBuffer sequence
// numbers of it recreates the flow there: the rest of a message cut by the
// drop is skipped and framing continues at the next message boundary.
func (a *Assembler) Add(frame uint64, ts int64, p *packet.Packet, emit func(frame uint64, msg []byte)) {
	if p == nil || p.Proto != packet.ProtoTCP || p.Frag.IsFragment {
		a.stats.Ignored++
		return
	}
	a.stats.Segments++
	if !a.nowSet || ts > a.now {
		a.now, a.nowSet = ts, true
	}
	a.expire()

	flags := p.TCPFlags
	syn := flags&packet.TCPFlagSYN != 0
	rst := flags&packet.TCPFlagRST != 0
	data := p.Payload
	seq := p.TCPSeq
	key := flowKey{src: p.Src, dst: p.Dst, srcPort: p.SrcPort, dstPort: p.DstPort}

	f := a.flows[key]
	if f == nil && a.resume.n > 0 {
		f = a.resumeFlow(key, seq, flags, len(data))
	}
	switch {
	case f == nil:
		if rst || (!syn && len(data) == 0) {
			return // nothing to track
		}
		f = a.newFlow(key)
		if syn {
			f.startSyn(seq)
		} else {
			f.nextSeq = seq
		}
	case f.closed:
		if syn {
			if f.synSeen && seq == f.isn {
				return // retransmitted SYN of the closed connection
			}
			a.reopen(f)
			f.startSyn(seq)
			break
		}
		if rst || len(data) == 0 {
			return
		}
		if serialLE(seq+uint32(len(data)), f.endSeq) {
			a.stats.Retransmissions++
			return // late retransmission of the closed connection
		}
		a.reopen(f)
		if serialLE(seq, f.endSeq) {
			f.nextSeq = f.endSeq
		} else {
			f.nextSeq = seq // a new connection whose SYN was not seen
		}
	case syn && !(f.synSeen && seq == f.isn):
		// A new connection on the same addresses and ports.
		a.discard(f)
		f.finSet = false
		f.startSyn(seq)
	}
	a.touch(f)

	if rst {
		a.close(f)
		return
	}
	if syn {
		seq++ // data in a SYN segment follows the SYN's sequence number
	}
	if len(data) > 0 {
		a.segment(f, frame, seq, data, emit)
	}
	if flags&packet.TCPFlagFIN != 0 {
		f.finSet = true
		f.finSeq = seq + uint32(len(data))
	}
	if f.finSet && serialLE(f.finSeq, f.nextSeq) {
		a.close(f)
	}
}

// Flush ends the input: it drops every flow. Buffered data that did not form
// a complete message is counted in Stats.Truncated, not delivered.
func (a *Assembler) Flush() {
	for a.tail != nil {
		a.drop(a.tail)
	}
	a.resume.reset()
	a.nowSet = false
	a.now = 0
}

func (f *flow) startSyn(seq uint32) {
	f.synSeen = true
	f.isn = seq
	f.nextSeq = seq + 1
}

// segment processes the data of one segment starting at sequence number seq.
func (a *Assembler) segment(f *flow, frame uint64, seq uint32, d []byte, emit func(uint64, []byte)) {
	overlap := false
	for len(d) > 0 {
		diff := int64(int32(seq - f.nextSeq))
		if diff < 0 {
			overlap = true
			if -diff >= int64(len(d)) {
				break
			}
			d = d[-diff:]
			seq = f.nextSeq
			diff = 0
		}
		if diff == 0 {
			piece := d
			if len(f.chunks) > 0 {
				if hole := int(f.chunks[0].seq - f.nextSeq); len(piece) > hole {
					piece = piece[:hole]
				}
			}
			a.stream(f, frame, piece, emit)
			d = d[len(piece):]
			seq += uint32(len(piece))
			a.drain(f, frame, emit)
			continue // what is left overlaps held data: trimmed above
		}
		fitted, dup := a.insert(f, seq, d)
		if fitted {
			if dup {
				overlap = true
			} else {
				a.stats.OutOfOrder++
			}
			break
		}
		a.stats.Overflows++
		a.skipGap(f, frame, seq, emit)
	}
	if overlap {
		a.stats.Retransmissions++
	}
}

// stream appends in-order bytes d (which must not overlap held chunks) to the
// flow and delivers every message they complete.
func (a *Assembler) stream(f *flow, frame uint64, d []byte, emit func(uint64, []byte)) {
	f.nextSeq += uint32(len(d))
	if f.skip > 0 || f.skipHalf {
		if d = f.skipRest(d); len(d) == 0 {
			return
		}
	}
	if len(f.pend) > 0 {
		if len(f.pend) < 2 {
			k := min(2-len(f.pend), len(d))
			a.appendPend(f, d[:k])
			d = d[k:]
			if len(f.pend) < 2 {
				return
			}
		}
		total := 2 + int(binary.BigEndian.Uint16(f.pend))
		k := min(total-len(f.pend), len(d))
		a.appendPend(f, d[:k])
		d = d[k:]
		if len(f.pend) < total {
			return
		}
		a.deliver(frame, f.pend[2:], emit)
		a.resetPend(f)
	}
	for len(d) >= 2 {
		total := 2 + int(binary.BigEndian.Uint16(d))
		if len(d) < total {
			break
		}
		a.deliver(frame, d[2:total], emit)
		d = d[total:]
	}
	if len(d) > 0 {
		a.appendPend(f, d)
	}
}

func (a *Assembler) deliver(frame uint64, msg []byte, emit func(uint64, []byte)) {
	if len(msg) == 0 {
		a.stats.EmptyMessages++
		return
	}
	a.stats.Messages++
	if emit != nil {
		emit(frame, msg)
	}
}

// appendPend appends d to the partial message, growing its buffer within the
// caps. d never extends past the end of the message being assembled.
func (a *Assembler) appendPend(f *flow, d []byte) {
	need := len(f.pend) + len(d)
	if need > cap(f.pend) {
		// Size of the whole message, when its prefix is known.
		total := 0
		switch {
		case len(f.pend) >= 2:
			total = 2 + int(binary.BigEndian.Uint16(f.pend))
		case len(f.pend) == 1 && len(d) >= 1:
			total = 2 + (int(f.pend[0])<<8 | int(d[0]))
		case len(f.pend) == 0 && len(d) >= 2:
			total = 2 + int(binary.BigEndian.Uint16(d))
		}
		newCap := max(need, 2*cap(f.pend), minPend)
		if total > 0 && newCap > total {
			newCap = max(total, need)
		}
		delta := newCap - cap(f.pend)
		if f.bytes+delta > a.cfg.MaxFlowBuffer {
			a.dropFar(f, delta)
		}
		a.reserve(f, delta)
		nb := make([]byte, len(f.pend), newCap)
		copy(nb, f.pend)
		f.pend = nb
		f.bytes += delta
		a.total += int64(delta)
	}
	f.pend = append(f.pend, d...)
}

// resetPend empties the partial message, releasing a large buffer.
func (a *Assembler) resetPend(f *flow) {
	if cap(f.pend) > retainPend {
		f.bytes -= cap(f.pend)
		a.total -= int64(cap(f.pend))
		f.pend = nil
		return
	}
	f.pend = f.pend[:0]
}

// dropFar discards out-of-order chunks, furthest first, until delta more
// bytes fit in the flow's cap.
func (a *Assembler) dropFar(f *flow, delta int) {
	a.stats.Overflows++
	for len(f.chunks) > 0 && f.bytes+delta > a.cfg.MaxFlowBuffer {
		last := len(f.chunks) - 1
		a.releaseChunk(f, last)
		f.chunks = f.chunks[:last]
	}
}

func (a *Assembler) releaseChunk(f *flow, i int) {
	c := cap(f.chunks[i].data)
	f.bytes -= c
	a.total -= int64(c)
	f.chunks[i].data = nil
}

// drain delivers the held chunks that have become in order.
func (a *Assembler) drain(f *flow, frame uint64, emit func(uint64, []byte)) {
	for len(f.chunks) > 0 && f.chunks[0].seq == f.nextSeq {
		d := f.chunks[0].data
		a.releaseChunk(f, 0)
		// Re-slice rather than shift, so draining k chunks costs O(k).
		f.chunks = f.chunks[1:]
		if len(f.chunks) == 0 {
			f.chunks = f.chunks[:0:0]
		}
		a.stream(f, frame, d, emit)
	}
}

// skipGap declares the hole before the earliest held data lost; seq is the
// start of a segment that did not fit, used if it is earlier than any chunk.
func (a *Assembler) skipGap(f *flow, frame uint64, seq uint32, emit func(uint64, []byte)) {
	a.stats.Gaps++
	f.skip, f.skipHalf = 0, false
	if len(f.pend) > 0 {
		a.stats.Truncated++
		a.resetPend(f)
	}
	if len(f.chunks) > 0 && serialLE(f.chunks[0].seq, seq) {
		f.nextSeq = f.chunks[0].seq
		a.drain(f, frame, emit)
		return
	}
	f.nextSeq = seq
}

// insert holds out-of-order data d starting at seq (after nextSeq). Bytes
// already held are kept (first copy wins). It reports whether the data fitted
// within the caps, and whether every byte was already held.
func (a *Assembler) insert(f *flow, seq uint32, d []byte) (fitted, dup bool) {
	next := f.nextSeq
	off := int(seq - next)
	end := off + len(d)
	start := func(c *chunk) int { return int(c.seq - next) }

	// Data just after the last chunk: extend it (the common case of a lost
	// segment followed by in-order ones), growing its buffer geometrically.
	if n := len(f.chunks); n > 0 {
		last := &f.chunks[n-1]
		lastEnd := start(last) + len(last.data)
		if off == lastEnd {
			need := len(last.data) + len(d)
			if need > cap(last.data) {
				room := a.cfg.MaxFlowBuffer - (f.bytes - cap(last.data))
				if need > room {
					return false, false
				}
				newCap := min(max(need, 2*cap(last.data)), room)
				delta := newCap - cap(last.data)
				a.reserve(f, delta)
				nb := make([]byte, len(last.data), newCap)
				copy(nb, last.data)
				last.data = nb
				f.bytes += delta
				a.total += int64(delta)
			}
			last.data = append(last.data, d...)
			return true, false
		}
	}

	// First chunk ending after off.
	lo, hi := 0, len(f.chunks)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if start(&f.chunks[m])+len(f.chunks[m].data) <= off {
			lo = m + 1
		} else {
			hi = m
		}
	}
	first := lo
	// Count the uncovered pieces of [off, end).
	pieces, bytes := 0, 0
	at, from, to := 0, 0, 0 // where the last piece goes, and its range
	cur := off
	k := first
	for ; k < len(f.chunks) && start(&f.chunks[k]) < end; k++ {
		if s := start(&f.chunks[k]); s > cur {
			pieces++
			bytes += s - cur
			at, from, to = k, cur, s
		}
		cur = max(cur, start(&f.chunks[k])+len(f.chunks[k].data))
	}
	if cur < end {
		pieces++
		bytes += end - cur
		at, from, to = k, cur, end
	}
	if pieces == 0 {
		return true, true
	}
	if len(f.chunks)+pieces > a.cfg.MaxFlowSegments || f.bytes+bytes > a.cfg.MaxFlowBuffer {
		return false, false
	}
	a.reserve(f, bytes)
	f.bytes += bytes
	a.total += int64(bytes)

	if pieces == 1 {
		f.chunks = slices.Insert(f.chunks, at, newChunk(next, from, d[from-off:to-off]))
		return true, false
	}
	// Merge the existing chunks and the new pieces through a scratch slice.
	tmp := append(a.tmp[:0], f.chunks[:first]...)
	cur = off
	for k = first; k < len(f.chunks) && start(&f.chunks[k]) < end; k++ {
		c := f.chunks[k]
		if s := start(&c); s > cur {
			tmp = append(tmp, newChunk(next, cur, d[cur-off:s-off]))
		}
		tmp = append(tmp, c)
		cur = max(cur, start(&c)+len(c.data))
	}
	if cur < end {
		tmp = append(tmp, newChunk(next, cur, d[cur-off:]))
	}
	tmp = append(tmp, f.chunks[k:]...)
	f.chunks = append(f.chunks[:0], tmp...)
	clear(tmp)
	a.tmp = tmp[:0]
	return true, false
}

func newChunk(next uint32, off int, d []byte) chunk {
	b := make([]byte, len(d))
	copy(b, d)
	return chunk{seq: next + uint32(off), data: b}
}

// reserve makes room for delta more buffer bytes in flow f by evicting least
// recently used flows other than f.
func (a *Assembler) reserve(f *flow, delta int) {
	for a.total+int64(delta) > a.cfg.MaxTotalBuffer && a.tail != nil && a.tail != f {
		a.evict(a.tail)
	}
}

// expire drops flows idle for longer than FlowTimeout, oldest first.
func (a *Assembler) expire() {
	for t := a.tail; t != nil; t = a.tail {
		// a.now >= t.lastSeen, so the difference fits in a uint64.
		if uint64(a.now)-uint64(t.lastSeen) <= uint64(a.cfg.FlowTimeout) {
			return
		}
		if !t.closed {
			a.stats.TimedOutFlows++
			a.remember(t)
		}
		a.drop(t)
	}
}

func (a *Assembler) evict(f *flow) {
	if !f.closed {
		a.stats.EvictedFlows++
		a.remember(f)
	}
	a.drop(f)
}

// newFlow returns a new open flow for key, at the head of the LRU list.
func (a *Assembler) newFlow(key flowKey) *flow {
	if len(a.flows) >= a.cfg.MaxFlows && a.tail != nil {
		a.evict(a.tail)
	}
	f := a.free
	if f != nil {
		a.free = f.next
		f.next = nil
	} else {
		f = new(flow)
	}
	f.key = key
	a.flows[key] = f
	a.open++
	a.pushHead(f)
	return f
}

// touch marks f as just used.
func (a *Assembler) touch(f *flow) {
	f.lastSeen = a.now
	if a.head == f {
		return
	}
	a.unlink(f)
	a.pushHead(f)
}

func (a *Assembler) pushHead(f *flow) {
	f.prev = nil
	f.next = a.head
	if a.head != nil {
		a.head.prev = f
	}
	a.head = f
	if a.tail == nil {
		a.tail = f
	}
	f.lastSeen = a.now
}

func (a *Assembler) unlink(f *flow) {
	if f.prev != nil {
		f.prev.next = f.next
	} else {
		a.head = f.next
	}
	if f.next != nil {
		f.next.prev = f.prev
	} else {
		a.tail = f.prev
	}
	f.prev, f.next = nil, nil
}

// discard drops the buffered data of f, counting a partial message or held data as truncated.
func (a *Assembler) discard(f *flow) {
	if len(f.pend) > 0 || len(f.chunks) > 0 {
		a.stats.Truncated++
	}
	for i := range f.chunks {
		a.releaseChunk(f, i)
	}
	f.chunks = f.chunks[:0]
	a.total -= int64(cap(f.pend))
	f.bytes -= cap(f.pend)
	f.pend = nil
	f.skip, f.skipHalf = 0, false
}

// close turns f into a tombstone that remembers where the stream ended.
func (a *Assembler) close(f *flow) {
	a.discard(f)
	f.chunks = nil
	f.closed = true
	f.finSet = false
	f.endSeq = f.nextSeq
	a.open--
	a.stats.ClosedFlows++
}

// reopen turns tombstone f back into an open flow.
func (a *Assembler) reopen(f *flow) {
	f.closed = false
	f.synSeen, f.finSet = false, false
	a.open++
}

// drop forgets f entirely and puts it on the free list.
func (a *Assembler) drop(f *flow) {
	if !f.closed {
		a.discard(f)
		a.open--
	}
	a.unlink(f)
	delete(a.flows, f.key)
	*f = flow{next: a.free}
	a.free = f
}

// skipRest discards the rest of the message a resumed flow stood in (from
// the in-order bytes d) and returns the bytes after it.
func (f *flow) skipRest(d []byte) []byte {
	if f.skipHalf {
		if len(d) == 0 {
			return d
		}
		// The second prefix byte, then the message body.
		f.skipHalf = false
		f.skip = 1 + (int(f.skipHi)<<8 | int(d[0]))
	}
	k := min(f.skip, len(d))
	f.skip -= k
	return d[k:]
}

// remember records where the stream of open flow f stands before f is
// dropped by a timeout or an eviction: the next expected sequence number and
// how much of the current message is left, if f holds a partial message
// (that partial message is discarded and counted as truncated by the drop).
// Held out-of-order data is not remembered.
func (a *Assembler) remember(f *flow) {
	p := resumePoint{key: f.key, seq: f.nextSeq, isn: f.isn, synSeen: f.synSeen}
	switch {
	case f.skipHalf:
		p.half, p.hi = true, f.skipHi
	case f.skip > 0:
		p.skip = uint32(f.skip)
	case len(f.pend) == 1:
		p.half, p.hi = true, f.pend[0]
	case len(f.pend) >= 2:
		p.skip = uint32(2 + int(binary.BigEndian.Uint16(f.pend)) - len(f.pend))
	}
	if a.resume.put(p) {
		a.stats.ForgottenPoints++
	}
}

// resumeFlow returns a flow recreated from the point remembered for key, or
// nil if there is none or the segment (seq, flags, n bytes of data) does not
// continue it. A SYN resumes only if it repeats the remembered connection's
// SYN; any other SYN is a new connection and the point is dropped. A pure ACK
// leaves the point alone. Otherwise the segment must lie within
// MaxFlowBuffer sequence numbers of the point: a data segment further away
// drops the point (counted in ResumeTooFar) and starts a flow as if none was
// remembered; a FIN or RST without data further away is ignored as before.
func (a *Assembler) resumeFlow(key flowKey, seq uint32, flags uint8, n int) *flow {
	slot, ent := a.resume.find(key)
	if ent < 0 {
		return nil
	}
	p := &a.resume.ents[ent]
	syn := flags&packet.TCPFlagSYN != 0
	switch {
	case syn:
		if !p.synSeen || seq != p.isn {
			a.resume.remove(slot, ent)
			return nil
		}
	case n == 0 && flags&(packet.TCPFlagFIN|packet.TCPFlagRST) == 0:
		return nil
	default:
		w := int64(a.cfg.MaxFlowBuffer)
		ahead := int64(int32(seq - p.seq))
		endAhead := int64(int32(seq + uint32(n) - p.seq))
		if ahead > w || endAhead < -w {
			if n == 0 {
				return nil
			}
			a.stats.ResumeTooFar++
			a.resume.remove(slot, ent)
			return nil
		}
	}
	pt := *p
	a.resume.remove(slot, ent)
	a.stats.ResumedFlows++
	f := a.newFlow(key)
	f.nextSeq = pt.seq
	f.isn, f.synSeen = pt.isn, pt.synSeen
	f.skip = int(pt.skip)
	f.skipHalf, f.skipHi = pt.half, pt.hi
	return f
}
