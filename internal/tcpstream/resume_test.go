package tcpstream

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"slices"
	"testing"

	"github.com/dnsieve/dnsieve/internal/packet"
)

// resumeStream is five messages: m0 [0,32), m1 [32,84), m2 [84,126),
// m3 [126,148), m4 [148,160).
func resumeStream() ([][]byte, []byte) {
	m := [][]byte{body(30, 0x10), body(50, 0x20), body(40, 0x30), body(20, 0x40), body(10, 0x50)}
	return m, frameMsgs(m...)
}

// TestResumeAfterPause covers the evasion: a flow pauses beyond FlowTimeout
// (or is evicted), then the following segments come in reverse order so the
// first segment after the pause starts inside a message. Framing must go on
// from where the stream stood; a message cut by the pause is discarded.
func TestResumeAfterPause(t *testing.T) {
	m, stream := resumeStream()
	type tc struct {
		name      string
		before    int    // stream bytes delivered before the pause
		after     []span // arrivals after the pause (frames 4, 5, ...)
		want      []got
		truncated uint64
	}
	cases := []tc{{
		// Pause at a message boundary; [130,160) starts inside m3.
		name:   "boundary",
		before: 84,
		after:  []span{{130, 160}, {100, 130}, {84, 100}},
		want:   []got{{2, string(m[0])}, {2, string(m[1])}, {6, string(m[2])}, {6, string(m[3])}, {6, string(m[4])}},
	}, {
		// Pause with 16 bytes of m2 held: m2 is discarded.
		name:      "mid-message",
		before:    100,
		after:     []span{{130, 160}, {100, 130}},
		want:      []got{{2, string(m[0])}, {2, string(m[1])}, {5, string(m[3])}, {5, string(m[4])}},
		truncated: 1,
	}, {
		// Pause with one byte of m2's length prefix held.
		name:      "half-prefix",
		before:    85,
		after:     []span{{130, 160}, {86, 130}, {85, 86}},
		want:      []got{{2, string(m[0])}, {2, string(m[1])}, {6, string(m[3])}, {6, string(m[4])}},
		truncated: 1,
	}, {
		// Pause with one byte of m2's length prefix held, the next
		// segment bringing the second byte and the rest of m2 only.
		name:      "half-prefix-exact",
		before:    85,
		after:     []span{{126, 160}, {85, 126}},
		want:      []got{{2, string(m[0])}, {2, string(m[1])}, {5, string(m[3])}, {5, string(m[4])}},
		truncated: 1,
	}}
	// Wrap: offset 110 is sequence number 0, so the pause point is before
	// the wrap and the segments after it cross it.
	isns := []uint32{1000, 0xffffffff - 110, 0xffffffff - 84}
	for _, cause := range []string{"timeout", "eviction"} {
		for _, isn := range isns {
			for _, c := range cases {
				t.Run(fmt.Sprintf("%s/%#x/%s", cause, isn, c.name), func(t *testing.T) {
					cfg := Config{}
					if cause == "eviction" {
						cfg.MaxFlows = 2
					}
					a := New(cfg)
					var r recorder
					a.Add(1, 0, seg(7, isn, syn, nil), r.emit)
					a.Add(2, 1e9, seg(7, isn+1, ack, stream[:c.before]), r.emit)
					ts := int64(1e9)
					if cause == "timeout" {
						// Another flow's segment after the pause drops flow 7.
						ts += DefaultFlowTimeout + 1
						a.Add(3, ts, seg(8, 0, syn, nil), r.emit)
					} else {
						a.Add(3, ts, seg(8, 0, syn, nil), r.emit)
						a.Add(3, ts, seg(9, 0, syn, nil), r.emit) // evicts flow 7
					}
					st := a.Stats()
					if a.flows[keyOf(7)] != nil || st.ResumePoints != 1 || st.Truncated != c.truncated {
						t.Fatalf("flow not dropped: %+v", st)
					}
					for i, s := range c.after {
						p := seg(7, isn+1+uint32(s.off), ack, stream[s.off:s.end])
						a.Add(uint64(4+i), ts, p, r.emit)
						if err := a.check(); err != nil {
							t.Fatal(err)
						}
					}
					if !equalGot(r.out, c.want) {
						t.Fatalf("got %v\nwant %v", r.out, c.want)
					}
					st = a.Stats()
					// With MaxFlows 2, resuming flow 7 evicts flow 8, whose
					// point is remembered in turn.
					wantPoints := uint64(0)
					if cause == "eviction" {
						wantPoints = 1
					}
					if st.ResumedFlows != 1 || st.ResumePoints != wantPoints || st.Truncated != c.truncated ||
						st.Messages != uint64(len(c.want)) || st.Gaps != 0 || st.Retransmissions != 0 ||
						st.OutOfOrder != uint64(len(c.after)-1) || a.pending() != 0 {
						t.Fatalf("stats %+v", st)
					}
					if cause == "timeout" && (st.TimedOutFlows != 1 || st.EvictedFlows != 0) ||
						cause == "eviction" && (st.EvictedFlows != 2 || st.TimedOutFlows != 0) {
						t.Fatalf("stats %+v", st)
					}
				})
			}
		}
	}
}

// TestResumeTwice: a flow resumed mid-message that is dropped again while
// still skipping keeps skipping the same message.
func TestResumeTwice(t *testing.T) {
	m, stream := resumeStream()
	a := New(Config{FlowTimeout: 10})
	var r recorder
	a.Add(1, 0, seg(7, 0, syn, nil), r.emit)
	a.Add(2, 0, seg(7, 1, ack, stream[:90]), r.emit)        // 6 bytes of m2
	a.Add(3, 20, seg(7, 1+95, ack, stream[95:100]), r.emit) // out of order
	a.Add(4, 20, seg(7, 1+90, ack, stream[90:95]), r.emit)  // skips 10 of 36
	if f := a.flows[keyOf(7)]; f == nil || f.skip != 26 {
		t.Fatalf("flow %+v", f)
	}
	a.Add(5, 40, seg(7, 1+126, ack, stream[126:]), r.emit) // times out again first
	a.Add(6, 40, seg(7, 1+100, ack, stream[100:126]), r.emit)
	want := []got{{2, string(m[0])}, {2, string(m[1])}, {6, string(m[3])}, {6, string(m[4])}}
	if !equalGot(r.out, want) {
		t.Fatalf("got %v", r.out)
	}
	st := a.Stats()
	if st.ResumedFlows != 2 || st.TimedOutFlows != 2 || st.Truncated != 1 || st.Messages != 4 {
		t.Fatalf("stats %+v", st)
	}
	if err := a.check(); err != nil {
		t.Fatal(err)
	}
}

// TestResumeHalfTwice: a flow dropped with one byte of a length prefix,
// resumed by an out-of-order segment and dropped again before the second
// byte came, still skips that message.
func TestResumeHalfTwice(t *testing.T) {
	m, stream := resumeStream()
	a := New(Config{FlowTimeout: 10})
	var r recorder
	a.Add(1, 0, seg(7, 0, syn, nil), r.emit)
	a.Add(2, 0, seg(7, 1, ack, stream[:85]), r.emit)
	a.Add(3, 20, seg(7, 1+130, ack, stream[130:]), r.emit) // resumes, held
	if f := a.flows[keyOf(7)]; f == nil || !f.skipHalf || f.skipHi != stream[84] {
		t.Fatalf("flow %+v", f)
	}
	a.Add(4, 40, seg(7, 1+130, ack, stream[130:]), r.emit) // dropped, resumed, held
	a.Add(5, 40, seg(7, 1+85, ack, stream[85:130]), r.emit)
	want := []got{{2, string(m[0])}, {2, string(m[1])}, {5, string(m[3])}, {5, string(m[4])}}
	if !equalGot(r.out, want) {
		t.Fatalf("got %v", r.out)
	}
	if st := a.Stats(); st.ResumedFlows != 2 || st.TimedOutFlows != 2 || st.Truncated != 2 || st.Messages != 4 {
		t.Fatalf("stats %+v", st)
	}
}

// TestResumeOldAndHeld: after a pause, retransmissions of bytes before the
// remembered point are recognised as old, and a segment after a hole waits
// for it instead of restarting framing.
func TestResumeOldAndHeld(t *testing.T) {
	m, stream := resumeStream()
	a := New(Config{FlowTimeout: 10})
	var r recorder
	a.Add(1, 0, seg(7, 0, syn, nil), r.emit)
	a.Add(2, 0, seg(7, 1, ack, stream[:84]), r.emit)
	a.Add(3, 100, seg(7, 1, ack, stream[:84]), r.emit) // old: resumes, ignored
	a.Add(4, 100, seg(7, 1+140, ack, stream[140:]), r.emit)
	a.Add(5, 100, seg(7, 1+60, ack, stream[60:140]), r.emit)
	want := []got{{2, string(m[0])}, {2, string(m[1])}, {5, string(m[2])}, {5, string(m[3])}, {5, string(m[4])}}
	if !equalGot(r.out, want) {
		t.Fatalf("got %v", r.out)
	}
	st := a.Stats()
	if st.ResumedFlows != 1 || st.Retransmissions != 2 || st.OutOfOrder != 1 || st.Truncated != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestResumeTooFar: a data segment further than MaxFlowBuffer from the
// remembered point falls back to framing at that segment (counted); the
// limit itself is still near.
func TestResumeTooFar(t *testing.T) {
	_, stream := resumeStream()
	x := frameMsgs([]byte("far"))
	w := uint32(MinFlowBuffer)
	for _, isn := range []uint32{5000, 0xffffff00} {
		point := isn + 1 + 84
		for _, tc := range []struct {
			seq     uint32
			far     bool
			emitted int
		}{
			{point + w + 1, true, 1},                   // too far ahead: new framing
			{point + w, false, 0},                      // at the limit: held
			{point - w - uint32(len(x)) - 1, true, 1},  // too far behind
			{point - w - uint32(len(x)), false, 0},     // old: a retransmission
			{point + 0x80000000, true, 1},              // half the sequence space
			{point - 0x7fffffff + 10, true, 1},         // far behind, serially
			{point + uint32(len(x)) - 1, false, 0},     // just ahead: held
			{point - uint32(len(x)) + 1, false, 0},     // overlaps the point: framed at it
			{point, false, 1},                          // at the point
			{point - uint32(len(x)), false, 0},         // just before
			{point - w - uint32(len(x)) + 1, false, 0}, // old, near
		} {
			a := New(Config{MaxFlowBuffer: 1, FlowTimeout: 10})
			var r recorder
			a.Add(1, 0, seg(7, isn, syn, nil), r.emit)
			a.Add(2, 0, seg(7, isn+1, ack, stream[:84]), r.emit)
			a.Add(3, 100, seg(7, tc.seq, ack, x), r.emit)
			st := a.Stats()
			wantFar := uint64(0)
			if tc.far {
				wantFar = 1
			}
			if st.ResumeTooFar != wantFar || st.ResumedFlows != 1-wantFar || st.ResumePoints != 0 ||
				len(r.out) != 2+tc.emitted {
				t.Fatalf("isn %#x seq %#x: %d messages, stats %+v", isn, tc.seq, len(r.out), st)
			}
			if tc.emitted == 1 && r.out[2] != (got{3, "far"}) {
				t.Fatalf("isn %#x seq %#x: got %v", isn, tc.seq, r.out[2])
			}
			if err := a.check(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestResumeControlSegments pins SYN, RST, FIN and pure ACK handling for a
// remembered flow.
func TestResumeControlSegments(t *testing.T) {
	m, stream := resumeStream()
	setup := func() (*Assembler, *recorder) {
		a := New(Config{FlowTimeout: 10})
		r := &recorder{}
		a.Add(1, 0, seg(7, 500, syn, nil), r.emit)
		a.Add(2, 0, seg(7, 501, ack, stream[:84]), r.emit)
		a.Add(3, 100, seg(8, 0, syn, nil), r.emit) // flow 7 times out
		return a, r
	}
	t.Run("ack", func(t *testing.T) {
		a, r := setup()
		a.Add(4, 100, seg(7, 501+84, ack, nil), r.emit)
		if st := a.Stats(); st.ResumePoints != 1 || st.TrackedFlows != 1 || st.ResumedFlows != 0 {
			t.Fatalf("stats %+v", st)
		}
	})
	t.Run("old syn", func(t *testing.T) {
		a, r := setup()
		a.Add(4, 100, seg(7, 500, syn, nil), r.emit) // retransmitted SYN
		a.Add(5, 100, seg(7, 501+126, ack, stream[126:]), r.emit)
		a.Add(6, 100, seg(7, 501+84, ack, stream[84:126]), r.emit)
		if len(r.out) != 5 || r.out[4] != (got{6, string(m[4])}) || a.Stats().ResumedFlows != 1 {
			t.Fatalf("got %v, stats %+v", r.out, a.Stats())
		}
	})
	t.Run("new syn", func(t *testing.T) {
		a, r := setup()
		a.Add(4, 100, seg(7, 9000, syn, nil), r.emit)
		a.Add(5, 100, seg(7, 9001, ack, stream[84:126]), r.emit)
		st := a.Stats()
		if len(r.out) != 3 || r.out[2] != (got{5, string(m[2])}) || st.ResumedFlows != 0 ||
			st.ResumePoints != 0 || st.ResumeTooFar != 0 {
			t.Fatalf("got %v, stats %+v", r.out, st)
		}
	})
	t.Run("rst", func(t *testing.T) {
		a, r := setup()
		a.Add(4, 100, seg(7, 501+84+MinFlowBuffer*4, rst, nil), r.emit) // far: ignored
		if st := a.Stats(); st.ResumePoints != 1 || st.ClosedFlows != 0 || st.TrackedFlows != 1 {
			t.Fatalf("stats %+v", st)
		}
		a.Add(5, 100, seg(7, 501+84, rst, nil), r.emit)
		st := a.Stats()
		if st.ResumePoints != 0 || st.ClosedFlows != 1 || st.TrackedFlows != 2 || st.ActiveFlows != 1 {
			t.Fatalf("stats %+v", st)
		}
		a.Add(6, 100, seg(7, 501+20, ack, stream[20:84]), r.emit) // late retransmission
		if a.Stats().Retransmissions != 1 || len(r.out) != 2 {
			t.Fatalf("got %v, stats %+v", r.out, a.Stats())
		}
	})
	t.Run("fin", func(t *testing.T) {
		a, r := setup()
		a.Add(4, 100, seg(7, 501+84, fin, nil), r.emit)
		st := a.Stats()
		if st.ResumedFlows != 1 || st.ClosedFlows != 1 || st.ActiveFlows != 1 || st.ResumePoints != 0 {
			t.Fatalf("stats %+v", st)
		}
		if len(r.out) != 2 {
			t.Fatalf("got %v", r.out)
		}
	})
	t.Run("flush", func(t *testing.T) {
		a, r := setup()
		a.Flush()
		if st := a.Stats(); st.ResumePoints != 0 || st.TrackedFlows != 0 {
			t.Fatalf("stats %+v", st)
		}
		a.Add(4, 100, seg(7, 501+84, ack, stream[84:126]), r.emit) // fresh flow
		if len(r.out) != 3 || a.Stats().ResumedFlows != 0 {
			t.Fatalf("got %v", r.out)
		}
		if err := a.check(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("closed flows are not remembered", func(t *testing.T) {
		a := New(Config{FlowTimeout: 10})
		var r recorder
		a.Add(1, 0, seg(7, 500, syn, nil), r.emit)
		a.Add(2, 0, seg(7, 501, fin, stream[:84]), r.emit)
		a.Add(3, 100, seg(8, 0, syn, nil), r.emit)
		if st := a.Stats(); st.ResumePoints != 0 || st.TrackedFlows != 1 {
			t.Fatalf("stats %+v", st)
		}
	})
}

// floodSeg returns a segment of flood flow i (distinct for i < 2^32).
func floodSeg(i int, seq uint32, flags uint8, payload []byte) *packet.Packet {
	p := seg(uint16(i), seq, flags, payload)
	p.Src = netip.AddrFrom4([4]byte{10, byte(i >> 24), byte(i >> 16), byte(i >> 8)})
	return p
}

// TestResumeTableBounded floods the assembler with flows, each evicted
// holding a partial message: the table keeps exactly the last MaxFlows
// points, its storage stays within the bound and the heap does not grow
// with the flood.
func TestResumeTableBounded(t *testing.T) {
	const maxFlows = 1000
	a := New(Config{MaxFlows: maxFlows})
	part := []byte{0, 10, 1, 2, 3}
	flood := func(from, to int) {
		for i := from; i < to; i++ {
			a.Add(uint64(i), int64(i), floodSeg(i, uint32(i), syn, nil), nil)
			a.Add(uint64(i), int64(i), floodSeg(i, uint32(i)+1, ack, part), nil)
		}
	}
	var ms runtime.MemStats
	heap := func() uint64 {
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	const n1, n2 = 20000, 200000
	flood(0, n1)
	if err := a.check(); err != nil {
		t.Fatal(err)
	}
	h1 := heap()
	flood(n1, n2)
	h2 := heap()
	st := a.Stats()
	// Flows 0..n2-maxFlows-1 were evicted and remembered; the newest maxFlows
	// of those points are kept.
	evicted := uint64(n2 - maxFlows)
	if st.EvictedFlows != evicted || st.ResumePoints != maxFlows || st.ForgottenPoints != evicted-maxFlows ||
		st.Truncated != evicted {
		t.Fatalf("stats %+v", st)
	}
	for _, i := range []int{n2 - 2*maxFlows - 1, n2 - 2*maxFlows, n2 - maxFlows - 1, n2 - maxFlows} {
		p := floodSeg(i, 0, 0, nil)
		key := flowKey{src: p.Src, dst: p.Dst, srcPort: p.SrcPort, dstPort: p.DstPort}
		_, ent := a.resume.find(key)
		if kept := i >= n2-2*maxFlows && i < n2-maxFlows; kept != (ent >= 0) {
			t.Fatalf("flow %d: remembered %v", i, ent >= 0)
		}
		if ent >= 0 && (a.resume.ents[ent].seq != uint32(i)+1+5 || a.resume.ents[ent].skip != 7) {
			t.Fatalf("flow %d: point %+v", i, a.resume.ents[ent])
		}
	}
	if err := a.check(); err != nil {
		t.Fatal(err)
	}
	bound := resumeBound(maxFlows)
	if b := a.resume.bytes(); b > bound || b != maxFlows*resumeEntrySize+4*2048 {
		t.Fatalf("table holds %d bytes, bound %d", b, bound)
	}
	if h2 > h1+64<<10 {
		t.Fatalf("heap grew from %d to %d bytes over the flood", h1, h2)
	}
	t.Logf("entry %d bytes, table %d bytes, heap %d -> %d", resumeEntrySize, a.resume.bytes(), h1, h2)
}

// TestResumeTableModel checks the table against a model (the live points in
// the order they were remembered; the oldest goes when max are held) under
// random operations, with keys that collide in the index.
func TestResumeTableModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	type rec struct {
		key flowKey
		seq uint32
	}
	for _, limit := range []int{1, 3, 8, 64, 100} {
		tb := newResumeTable(limit)
		var live []rec // oldest first
		peak := 0
		for op := range 20000 {
			k := keyOf(uint16(rng.IntN(3 * limit)))
			at := slices.IndexFunc(live, func(r rec) bool { return r.key == k })
			if rng.IntN(2) == 0 {
				if at >= 0 {
					// Assembler never remembers a key twice: its flow
					// takes the point before it can be dropped again.
					continue
				}
				forgot := tb.put(resumePoint{key: k, seq: uint32(op)})
				if forgot != (len(live) == limit) {
					t.Fatalf("limit %d op %d: forgot %v with %d held", limit, op, forgot, len(live))
				}
				if forgot {
					live = live[1:]
				}
				live = append(live, rec{k, uint32(op)})
			} else {
				p, ok := tb.take(k)
				if ok != (at >= 0) || ok && p.seq != live[at].seq {
					t.Fatalf("limit %d op %d: take %v %d", limit, op, ok, p.seq)
				}
				if ok {
					live = slices.Delete(live, at, at+1)
				}
			}
			peak = max(peak, len(live))
			for _, r := range live {
				if _, ent := tb.find(r.key); ent < 0 || tb.ents[ent].seq != r.seq {
					t.Fatalf("limit %d op %d: lost %v", limit, op, r.key)
				}
			}
			if len(live) != tb.n || cap(tb.ents) > limit || tb.bytes() > resumeBound(limit) {
				t.Fatalf("limit %d op %d: n %d, want %d; cap %d", limit, op, tb.n, len(live), cap(tb.ents))
			}
			// Storage follows the peak number of points held.
			if want := min(limit, 64); peak > 0 && peak <= 64 && cap(tb.ents) != want {
				t.Fatalf("limit %d op %d: cap %d for a peak of %d", limit, op, cap(tb.ents), peak)
			}
			if len(live) > 0 && tb.ents[tb.oldest].key != live[0].key {
				t.Fatalf("limit %d op %d: oldest entry wrong", limit, op)
			}
		}
		tb.reset()
		if _, ent := tb.find(live[len(live)-1].key); ent >= 0 || tb.n != 0 || len(tb.ents) != 0 {
			t.Fatal("reset kept points")
		}
	}
}

// TestZeroAllocsResume: in steady state, flows that time out and resume
// (remember, look up, recreate) allocate nothing.
func TestZeroAllocsResume(t *testing.T) {
	const nflows = 64
	a := New(Config{FlowTimeout: 10})
	msg := frameMsgs(body(100, 1))
	pkts := make([]*packet.Packet, nflows)
	seqs := make([]uint32, nflows)
	n := 0
	emit := func(uint64, []byte) { n++ }
	ts := int64(0)
	for i := range pkts {
		pkts[i] = seg(uint16(i), 0, ack, msg)
		a.Add(0, ts, seg(uint16(i), 0, syn, nil), emit)
		seqs[i] = 1
	}
	round := func() {
		ts += 100 // every flow times out before its next segment
		for i, p := range pkts {
			p.TCPSeq = seqs[i]
			seqs[i] += uint32(len(msg))
			a.Add(1, ts, p, emit)
		}
	}
	for range 10 {
		round()
	}
	if allocs := testing.AllocsPerRun(100, round); allocs != 0 {
		t.Fatalf("%v allocations per round", allocs)
	}
	st := a.Stats()
	if n != 111*nflows || st.ResumedFlows != 111*nflows || st.TimedOutFlows != 111*nflows {
		t.Fatalf("%d messages, stats %+v", n, st)
	}
}

func BenchmarkResume(b *testing.B) {
	a := New(Config{FlowTimeout: 10})
	msg := frameMsgs(body(100, 1))
	const nflows = 1000
	pkts := make([]*packet.Packet, nflows)
	seqs := make([]uint32, nflows)
	emit := func(uint64, []byte) {}
	for i := range pkts {
		pkts[i] = seg(uint16(i), 0, ack, msg)
		a.Add(0, 0, seg(uint16(i), 0, syn, nil), emit)
		seqs[i] = 1
	}
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	ts := int64(0)
	i := 0
	for b.Loop() {
		if i == 0 {
			ts += 100
		}
		p := pkts[i]
		p.TCPSeq = seqs[i]
		seqs[i] += uint32(len(msg))
		a.Add(1, ts, p, emit)
		i = (i + 1) % nflows
	}
}
