package tcpstream

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/dnsieve/dnsieve/internal/packet"
)

const (
	syn = packet.TCPFlagSYN
	ack = packet.TCPFlagACK
	fin = packet.TCPFlagFIN | packet.TCPFlagACK
	rst = packet.TCPFlagRST
)

// testMsgs covers a 1-byte, an empty, a 300-byte and a 2-byte message.
func testMsgs() [][]byte {
	return [][]byte{body(1, 0x11), {}, body(300, 0x22), body(2, 0x33)}
}

func TestSplitAtEveryBoundary(t *testing.T) {
	stream := frameMsgs(testMsgs()...)
	n := len(stream)
	cases := 0
	for i := 0; i <= n; i++ {
		for j := i; j <= n; j++ {
			var arr []span
			for _, s := range []span{{0, i}, {i, j}, {j, n}} {
				if s.end > s.off {
					arr = append(arr, s)
				}
			}
			a := New(Config{})
			out := feed(a, 1000, 7, stream, arr)
			want := oracle(stream, arr)
			if len(want) != 3 {
				t.Fatalf("oracle gave %d messages", len(want))
			}
			if !equalGot(out, want) {
				t.Fatalf("cuts %d,%d: got %v, want %v", i, j, out, want)
			}
			st := a.Stats()
			if st.Messages != 3 || st.EmptyMessages != 1 || st.Retransmissions != 0 || st.OutOfOrder != 0 {
				t.Fatalf("cuts %d,%d: stats %+v", i, j, st)
			}
			if a.pending() != 0 || st.BufferedBytes > retainPend {
				t.Fatalf("cuts %d,%d: %d bytes still buffered", i, j, a.pending())
			}
			if err := a.check(); err != nil {
				t.Fatal(err)
			}
			cases++
		}
	}
	if cases < n*n/2 {
		t.Fatalf("only %d cases", cases)
	}
}

func TestOneByteSegments(t *testing.T) {
	stream := frameMsgs(testMsgs()...)
	var fwd, rev []span
	for i := range stream {
		fwd = append(fwd, span{i, i + 1})
		rev = append(rev, span{len(stream) - 1 - i, len(stream) - i})
	}
	for name, arr := range map[string][]span{"forward": fwd, "reverse": rev} {
		a := New(Config{MaxFlowSegments: 1024})
		out := feed(a, 1000, 99, stream, arr)
		want := oracle(stream, arr)
		if !equalGot(out, want) || len(want) != 3 {
			t.Fatalf("%s: got %v, want %v", name, out, want)
		}
		if err := a.check(); err != nil {
			t.Fatal(err)
		}
		if a.pending() != 0 {
			t.Fatalf("%s: bytes left buffered", name)
		}
	}
}

func TestMaxSizeMessageOneByteAtATime(t *testing.T) {
	msg := body(65535, 0x5a)
	stream := frameMsgs(msg, body(3, 1))
	a := New(Config{})
	var r recorder
	a.Add(0, 0, seg(1, 0, syn, nil), r.emit)
	for i := range stream {
		a.Add(uint64(i+1), 0, seg(1, 1+uint32(i), ack, stream[i:i+1]), r.emit)
		if err := a.check(); err != nil {
			t.Fatal(err)
		}
		if i == 2 && a.Stats().BufferedBytes != minPend {
			t.Fatalf("huge advertised length: %d bytes buffered for 3 received", a.Stats().BufferedBytes)
		}
	}
	want := []got{{65537, string(msg)}, {uint64(len(stream)), string(body(3, 1))}}
	if !equalGot(r.out, want) {
		t.Fatalf("got %d messages, want 2 exact", len(r.out))
	}
	if b := a.Stats().BufferedBytes; b != minPend || a.pending() != 0 {
		t.Fatalf("%d bytes still buffered", b)
	}
}

func TestThreeMessagesInOneSegment(t *testing.T) {
	m := [][]byte{body(12, 1), body(40, 2), body(3, 3)}
	a := New(Config{})
	var r recorder
	a.Add(1, 0, seg(5, 1000, syn, nil), r.emit)
	a.Add(2, 0, seg(5, 1001, ack, frameMsgs(m...)), r.emit)
	want := []got{{2, string(m[0])}, {2, string(m[1])}, {2, string(m[2])}}
	if !equalGot(r.out, want) {
		t.Fatalf("got %v", r.out)
	}
	// The fast path must not buffer anything.
	if st := a.Stats(); st.BufferedBytes != 0 || st.Messages != 3 || st.Segments != 2 {
		t.Fatalf("stats %+v", st)
	}
}

// permutations calls fn with every permutation of 0..n-1.
func permutations(n int, fn func([]int)) {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	var rec func(k int)
	rec = func(k int) {
		if k == n {
			fn(p)
			return
		}
		for i := k; i < n; i++ {
			p[k], p[i] = p[i], p[k]
			rec(k + 1)
			p[k], p[i] = p[i], p[k]
		}
	}
	rec(0)
}

func TestOutOfOrderPermutations(t *testing.T) {
	stream := frameMsgs(body(3, 1), nil, body(7, 2), body(1, 3), body(5, 4))
	n := len(stream) // 26
	sets := map[string][]span{
		"disjoint":    {{0, 4}, {4, 9}, {9, 12}, {12, 20}, {20, n}},
		"overlapping": {{0, 4}, {2, 12}, {4, 9}, {12, 13}, {13, 20}, {15, n}},
		"bytes":       {{0, 1}, {1, 2}, {2, 3}, {3, 5}, {5, 6}, {6, n}},
	}
	for _, isn := range []uint32{1000, 0xfffffff0, 0xffffffff} {
		for name, segs := range sets {
			count := 0
			permutations(len(segs), func(p []int) {
				arr := make([]span, len(p))
				for i, k := range p {
					arr[i] = segs[k]
				}
				a := New(Config{})
				out := feed(a, 7, isn, stream, arr)
				want := oracle(stream, arr)
				if len(want) != 4 {
					t.Fatalf("oracle gave %d", len(want))
				}
				if !equalGot(out, want) {
					t.Fatalf("isn %#x %s %v: got %v, want %v", isn, name, p, out, want)
				}
				if err := a.check(); err != nil {
					t.Fatal(err)
				}
				st := a.Stats()
				if a.pending() != 0 || st.Gaps != 0 || st.Overflows != 0 || st.Messages != 4 {
					t.Fatalf("isn %#x %s %v: stats %+v", isn, name, p, st)
				}
				count++
			})
			if count < 120 {
				t.Fatalf("%s: %d permutations", name, count)
			}
		}
	}
}

func TestRetransmissions(t *testing.T) {
	m1, m2 := body(10, 1), body(20, 2)
	stream := frameMsgs(m1, m2) // 34 bytes
	a := New(Config{})
	var r recorder
	a.Add(1, 0, seg(9, 100, syn, nil), r.emit)
	a.Add(2, 0, seg(9, 101, ack, stream[:20]), r.emit)
	a.Add(3, 0, seg(9, 101, ack, stream[:20]), r.emit)    // duplicate
	a.Add(4, 0, seg(9, 101+5, ack, stream[5:15]), r.emit) // old, inside
	a.Add(5, 0, seg(9, 101+15, ack, stream[15:]), r.emit) // partial overlap
	a.Add(6, 0, seg(9, 101, ack, stream), r.emit)         // all old
	want := []got{{2, string(m1)}, {5, string(m2)}}
	if !equalGot(r.out, want) {
		t.Fatalf("got %v", r.out)
	}
	if st := a.Stats(); st.Retransmissions != 4 || st.Messages != 2 {
		t.Fatalf("stats %+v", st)
	}
}

// TestFirstCopyWins pins the overlap policy: bytes already received (in
// order or held out of order) are never replaced by a later copy.
func TestFirstCopyWins(t *testing.T) {
	orig := frameMsgs(bytes.Repeat([]byte{'a'}, 30))
	alt := frameMsgs(bytes.Repeat([]byte{'b'}, 30))
	// Held out-of-order bytes [10,20) from orig, then an in-order segment
	// [0,32) from alt, then the held bytes keep their first copy.
	a := New(Config{})
	var r recorder
	a.Add(1, 0, seg(3, 0, syn, nil), r.emit)
	a.Add(2, 0, seg(3, 1+10, ack, orig[10:20]), r.emit)
	a.Add(3, 0, seg(3, 1+25, ack, orig[25:28]), r.emit)
	a.Add(4, 0, seg(3, 1, ack, alt), r.emit)
	want := "bbbbbbbb" + "aaaaaaaaaa" + "bbbbb" + "aaa" + "bbbb"
	if len(r.out) != 1 || r.out[0] != (got{4, want}) {
		t.Fatalf("got %v, want %q", r.out, want)
	}
	// An in-order copy wins over a later conflicting one.
	a.Add(5, 0, seg(4, 0, syn, nil), r.emit)
	a.Add(6, 0, seg(4, 1, ack, orig[:16]), r.emit)
	a.Add(7, 0, seg(4, 1+8, ack, alt[8:]), r.emit)
	want = "aaaaaaaaaaaaaa" + "bbbbbbbbbbbbbbbb"
	if len(r.out) != 2 || r.out[1] != (got{7, want}) {
		t.Fatalf("got %v, want %q", r.out, want)
	}
	// Out-of-order overlapping pieces: the first held piece wins.
	a.Add(8, 0, seg(5, 0, syn, nil), r.emit)
	a.Add(9, 0, seg(5, 1+10, ack, orig[10:20]), r.emit)
	a.Add(10, 0, seg(5, 1+5, ack, alt[5:25]), r.emit)
	a.Add(11, 0, seg(5, 1, ack, orig[:6]), r.emit)
	a.Add(12, 0, seg(5, 1+24, ack, orig[24:]), r.emit)
	want = "aaa" + "bbbbb" + "aaaaaaaaaa" + "bbbbb" + "aaaaaaa"
	if len(r.out) != 3 || r.out[2] != (got{12, want}) {
		t.Fatalf("got %v, want %q", r.out, want)
	}
	if st := a.Stats(); st.Retransmissions != 4 {
		t.Fatalf("retransmissions %d, want 4", st.Retransmissions)
	}
	if err := a.check(); err != nil {
		t.Fatal(err)
	}
}

func TestSequenceWraparound(t *testing.T) {
	msgs := [][]byte{body(100, 1), body(50, 2), body(7, 3)}
	stream := frameMsgs(msgs...)
	for _, isn := range []uint32{0xffffffff - 60, 0xffffffff - 102, 0xffffffff} {
		var arr []span
		for off := 0; off < len(stream); off += 13 {
			arr = append(arr, span{off, min(off+13, len(stream))})
		}
		// Deliver in order, then again with odd and even segments swapped.
		swapped := append([]span(nil), arr...)
		for i := 0; i+1 < len(swapped); i += 2 {
			swapped[i], swapped[i+1] = swapped[i+1], swapped[i]
		}
		for _, order := range [][]span{arr, swapped} {
			a := New(Config{})
			out := feed(a, 1, isn, stream, order)
			if want := oracle(stream, order); !equalGot(out, want) || len(want) != 3 {
				t.Fatalf("isn %#x: got %v, want %v", isn, out, want)
			}
			// A segment from before the wrap is now old.
			var r recorder
			a.Add(99, 99, seg(1, isn+1, ack, stream[:13]), r.emit)
			if len(r.out) != 0 || a.Stats().Retransmissions != 1 {
				t.Fatalf("isn %#x: old segment not ignored: %v %+v", isn, r.out, a.Stats())
			}
		}
	}
}

func TestMidStreamPickup(t *testing.T) {
	m := [][]byte{body(20, 1), body(30, 2), body(5, 3)}
	stream := frameMsgs(m...)
	a := New(Config{})
	var r recorder
	const base = 0x80000000
	a.Add(1, 0, seg(2, base, ack, nil), r.emit) // pure ACK: not tracked
	if a.Stats().TrackedFlows != 0 {
		t.Fatal("pure ACK created a flow")
	}
	a.Add(2, 0, seg(2, base, ack, stream[:30]), r.emit)
	a.Add(3, 0, seg(2, base-10, ack, body(10, 9)), r.emit) // before pickup: old
	a.Add(4, 0, seg(2, base+30, ack, stream[30:]), r.emit)
	want := []got{{2, string(m[0])}, {4, string(m[1])}, {4, string(m[2])}}
	if !equalGot(r.out, want) {
		t.Fatalf("got %v", r.out)
	}
	if st := a.Stats(); st.Retransmissions != 1 || st.ActiveFlows != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestFin(t *testing.T) {
	m := [][]byte{body(20, 1), body(30, 2)}
	stream := frameMsgs(m...)
	a := New(Config{})
	var r recorder
	a.Add(1, 0, seg(2, 50, syn, nil), r.emit)
	a.Add(2, 0, seg(2, 51, ack, stream[:10]), r.emit)
	a.Add(3, 0, seg(2, 61, fin, stream[10:]), r.emit)
	want := []got{{3, string(m[0])}, {3, string(m[1])}}
	if !equalGot(r.out, want) {
		t.Fatalf("got %v", r.out)
	}
	st := a.Stats()
	if st.ClosedFlows != 1 || st.ActiveFlows != 0 || st.TrackedFlows != 1 || st.Truncated != 0 {
		t.Fatalf("stats %+v", st)
	}
	// A late retransmission of the FIN segment is recognised, not re-read.
	a.Add(4, 0, seg(2, 61, fin, stream[10:]), r.emit)
	a.Add(5, 0, seg(2, 50, syn, nil), r.emit) // retransmitted SYN
	if len(r.out) != 2 || a.Stats().Retransmissions != 1 || a.Stats().ActiveFlows != 0 {
		t.Fatalf("after close: %v %+v", r.out, a.Stats())
	}
	// Port reuse: a new SYN opens a new connection.
	a.Add(6, 0, seg(2, 7000, syn, nil), r.emit)
	a.Add(7, 0, seg(2, 7001, ack, stream), r.emit)
	if len(r.out) != 4 || r.out[3] != (got{7, string(m[1])}) || a.Stats().ActiveFlows != 1 {
		t.Fatalf("after reuse: %v %+v", r.out, a.Stats())
	}
}

func TestFinOutOfOrder(t *testing.T) {
	m := [][]byte{body(20, 1), body(30, 2)}
	stream := frameMsgs(m...)
	a := New(Config{})
	var r recorder
	a.Add(1, 0, seg(2, 50, syn, nil), r.emit)
	a.Add(2, 0, seg(2, 51+22, fin, stream[22:]), r.emit) // FIN with m[1], early
	if a.Stats().ActiveFlows != 1 {
		t.Fatal("closed before the hole filled")
	}
	a.Add(3, 0, seg(2, 51, ack, stream[:22]), r.emit)
	want := []got{{3, string(m[0])}, {3, string(m[1])}}
	if !equalGot(r.out, want) {
		t.Fatalf("got %v", r.out)
	}
	if st := a.Stats(); st.ClosedFlows != 1 || st.ActiveFlows != 0 || st.BufferedBytes != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestRst(t *testing.T) {
	m := [][]byte{body(20, 1), body(30, 2)}
	stream := frameMsgs(m...)
	a := New(Config{})
	var r recorder
	a.Add(1, 0, seg(2, 50, syn, nil), r.emit)
	a.Add(2, 0, seg(2, 51, ack, stream[:30]), r.emit)
	a.Add(3, 0, seg(2, 81, rst, nil), r.emit)
	st := a.Stats()
	if len(r.out) != 1 || st.ClosedFlows != 1 || st.Truncated != 1 || st.BufferedBytes != 0 || st.ActiveFlows != 0 {
		t.Fatalf("%v %+v", r.out, st)
	}
	// Data beyond the end of the reset stream is a new stream picked up
	// mid-stream (its framing starts at that segment).
	a.Add(4, 0, seg(2, 200, ack, frameMsgs(m[1])), r.emit)
	if len(r.out) != 2 || r.out[1] != (got{4, string(m[1])}) || a.Stats().ActiveFlows != 1 {
		t.Fatalf("%v %+v", r.out, a.Stats())
	}
	// RST for an unknown flow creates nothing.
	a.Add(5, 0, seg(3, 1, rst, nil), r.emit)
	if a.Stats().TrackedFlows != 1 {
		t.Fatal("RST created a flow")
	}
}

func TestSynOnOpenFlow(t *testing.T) {
	m := body(20, 1)
	stream := frameMsgs(m)
	a := New(Config{})
	var r recorder
	a.Add(1, 0, seg(2, 50, syn, nil), r.emit)
	a.Add(2, 0, seg(2, 51, ack, stream[:5]), r.emit)
	a.Add(3, 0, seg(2, 50, syn, nil), r.emit) // retransmitted SYN: no effect
	a.Add(4, 0, seg(2, 56, ack, stream[5:]), r.emit)
	a.Add(5, 0, seg(2, 51+22, ack, stream[:5]), r.emit)
	a.Add(6, 0, seg(2, 900, syn, nil), r.emit) // new connection, drops partial
	a.Add(7, 0, seg(2, 901, ack, stream), r.emit)
	want := []got{{4, string(m)}, {7, string(m)}}
	if !equalGot(r.out, want) {
		t.Fatalf("got %v", r.out)
	}
	if st := a.Stats(); st.Truncated != 1 || st.ActiveFlows != 1 || st.Retransmissions != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestSynWithData(t *testing.T) {
	m := body(9, 4)
	a := New(Config{})
	var r recorder
	a.Add(1, 0, seg(2, 10, syn, frameMsgs(m)), r.emit) // TCP Fast Open style
	if len(r.out) != 1 || r.out[0] != (got{1, string(m)}) {
		t.Fatalf("got %v", r.out)
	}
}

func TestZeroLengthMessages(t *testing.T) {
	stream := frameMsgs(nil, nil, body(4, 1), nil)
	a := New(Config{})
	var r recorder
	a.Add(1, 0, seg(2, 0, syn, nil), r.emit)
	a.Add(2, 0, seg(2, 1, ack, stream[:3]), r.emit)
	a.Add(3, 0, seg(2, 4, ack, stream[3:]), r.emit)
	if len(r.out) != 1 || r.out[0] != (got{3, string(body(4, 1))}) {
		t.Fatalf("got %v", r.out)
	}
	if st := a.Stats(); st.EmptyMessages != 3 || st.Messages != 1 || a.pending() != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestIgnored(t *testing.T) {
	a := New(Config{})
	var r recorder
	p := seg(2, 0, 0, frameMsgs(body(3, 1)))
	p.Proto = packet.ProtoUDP
	a.Add(1, 0, p, r.emit)
	p = seg(2, 0, 0, frameMsgs(body(3, 1)))
	p.Frag.IsFragment = true
	a.Add(2, 0, p, r.emit)
	a.Add(3, 0, nil, r.emit)
	if st := a.Stats(); st.Ignored != 3 || st.Segments != 0 || len(r.out) != 0 || st.TrackedFlows != 0 {
		t.Fatalf("%v %+v", r.out, st)
	}
}

// TestPerFlowCap: a lost first segment followed by in-order data fills the
// flow buffer; the hole is then declared lost and framing restarts at the
// held data.
func TestPerFlowCap(t *testing.T) {
	const nmsg = 70
	var msgs [][]byte
	for i := range nmsg {
		msgs = append(msgs, body(1000, byte(i)))
	}
	stream := frameMsgs(msgs...)
	a := New(Config{MaxFlowBuffer: 1}) // raised to MinFlowBuffer
	if a.Config().MaxFlowBuffer != MinFlowBuffer {
		t.Fatalf("MaxFlowBuffer %d", a.Config().MaxFlowBuffer)
	}
	var r recorder
	a.Add(0, 0, seg(2, 0, syn, nil), r.emit)
	for i := 1; i < nmsg; i++ { // message 0 is lost
		a.Add(uint64(i), 0, seg(2, 1+uint32(i*1002), ack, stream[i*1002:(i+1)*1002]), r.emit)
		if err := a.check(); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	// 65 messages of 1002 bytes fit in 65537 bytes, the 66th does not.
	var want []got
	for i := 1; i < nmsg; i++ {
		want = append(want, got{uint64(max(i, 66)), string(msgs[i])})
	}
	if !equalGot(r.out, want) {
		t.Fatalf("got %d messages, want %d", len(r.out), len(want))
	}
	st := a.Stats()
	if st.Gaps != 1 || st.Overflows != 1 || st.OutOfOrder != 65 || st.Truncated != 0 || st.BufferedBytes != 0 {
		t.Fatalf("stats %+v", st)
	}
	// The lost message arriving late is old now.
	a.Add(100, 0, seg(2, 1, ack, stream[:1002]), r.emit)
	if len(r.out) != nmsg-1 || a.Stats().Retransmissions != 1 {
		t.Fatalf("late segment: %+v", a.Stats())
	}
}

// TestSegmentLimit: more separate out-of-order pieces than MaxFlowSegments
// declare the first hole lost.
func TestSegmentLimit(t *testing.T) {
	var msgs [][]byte
	for i := range 10 {
		msgs = append(msgs, []byte{byte('0' + i)})
	}
	stream := frameMsgs(msgs...) // message i at [3i, 3i+3)
	a := New(Config{MaxFlowSegments: 4})
	var r recorder
	a.Add(0, 0, seg(2, 0, syn, nil), r.emit)
	send := func(frame uint64, i int) {
		a.Add(frame, 0, seg(2, 1+uint32(3*i), ack, stream[3*i:3*i+3]), r.emit)
		if err := a.check(); err != nil {
			t.Fatal(err)
		}
	}
	send(1, 2)
	send(2, 4)
	send(3, 6)
	send(4, 8)
	send(5, 9) // extends the last piece
	if st := a.Stats(); st.OutOfOrder != 5 || st.Overflows != 0 {
		t.Fatalf("stats %+v", st)
	}
	send(6, 5) // a fifth piece: skip to message 2
	send(7, 3)
	send(8, 7)
	send(9, 0) // old
	want := []got{{6, "2"}, {7, "3"}, {7, "4"}, {7, "5"}, {7, "6"}, {8, "7"}, {8, "8"}, {8, "9"}}
	if !equalGot(r.out, want) {
		t.Fatalf("got %v", r.out)
	}
	if st := a.Stats(); st.Gaps != 1 || st.Overflows != 1 || st.Retransmissions != 1 || st.BufferedBytes != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestGapDropsPartial: when the segment that does not fit is earlier than
// every held piece, framing restarts at that segment and the partial message
// is counted as truncated.
func TestGapDropsPartial(t *testing.T) {
	a := New(Config{MaxFlowSegments: 1})
	var r recorder
	a.Add(0, 0, seg(2, 0, syn, nil), r.emit)
	a.Add(1, 0, seg(2, 1, ack, []byte{0, 5, 'a'}), r.emit)                 // partial
	a.Add(2, 0, seg(2, 100, ack, frameMsgs([]byte("late"))), r.emit)       // held
	a.Add(3, 0, seg(2, 50, ack, frameMsgs([]byte("x"), []byte{})), r.emit) // no room
	want := []got{{3, "x"}}
	if !equalGot(r.out, want) {
		t.Fatalf("got %v", r.out)
	}
	if st := a.Stats(); st.Gaps != 1 || st.Truncated != 1 || st.Overflows != 1 {
		t.Fatalf("stats %+v", st)
	}
	if err := a.check(); err != nil {
		t.Fatal(err)
	}
}

// TestInOrderDataDropsFarPieces: in-order data needing room for its partial
// message discards the furthest held pieces.
func TestInOrderDataDropsFarPieces(t *testing.T) {
	a := New(Config{MaxFlowBuffer: MinFlowBuffer})
	var r recorder
	a.Add(0, 0, seg(2, 0, syn, nil), r.emit)
	far := make([]byte, 40000)
	farther := make([]byte, 20000)
	a.Add(1, 0, seg(2, 200000, ack, far), r.emit)
	a.Add(2, 0, seg(2, 300000, ack, farther), r.emit)
	// A 30000-byte partial message: 30000 + 40000 > 65537, so the furthest
	// piece goes, then the next one.
	part := append([]byte{0xff, 0xff}, make([]byte, 29998)...)
	a.Add(3, 0, seg(2, 1, ack, part), r.emit)
	if err := a.check(); err != nil {
		t.Fatal(err)
	}
	f := a.flows[keyOf(2)]
	if len(f.chunks) != 0 || cap(f.pend) != 30000 {
		t.Fatalf("chunks %d, pend cap %d", len(f.chunks), cap(f.pend))
	}
	if st := a.Stats(); st.Overflows != 1 || st.BufferedBytes != 30000 {
		t.Fatalf("stats %+v", st)
	}
}

func TestTotalCapEvictsLRU(t *testing.T) {
	if c := New(Config{MaxTotalBuffer: 1}).Config(); c.MaxTotalBuffer != int64(c.MaxFlowBuffer) {
		t.Fatalf("total cap %d not raised to the flow cap %d", c.MaxTotalBuffer, c.MaxFlowBuffer)
	}
	a := New(Config{MaxFlowBuffer: MinFlowBuffer, MaxTotalBuffer: MinFlowBuffer})
	var r recorder
	// Each flow holds a 10000-byte partial message of a 20002-byte one.
	part := append([]byte{0x4e, 0x20}, make([]byte, 9998)...)
	for i := range 6 {
		sp := uint16(100 + i)
		a.Add(uint64(i), int64(i), seg(sp, 0, syn, nil), r.emit)
		a.Add(uint64(i), int64(i), seg(sp, 1, ack, part), r.emit)
	}
	if st := a.Stats(); st.BufferedBytes != 60000 || st.EvictedFlows != 0 {
		t.Fatalf("stats %+v", st)
	}
	a.Add(10, 10, seg(100, 1, ack, nil), r.emit) // touch flow 100
	a.Add(11, 11, seg(106, 0, syn, nil), r.emit)
	a.Add(12, 12, seg(106, 1, ack, part), r.emit) // needs 10000 more: evict 101
	if err := a.check(); err != nil {
		t.Fatal(err)
	}
	st := a.Stats()
	if st.BufferedBytes != 60000 || st.EvictedFlows != 1 || st.Truncated != 1 || st.ActiveFlows != 6 {
		t.Fatalf("stats %+v", st)
	}
	for i := range 7 {
		present := a.flows[keyOf(uint16(100+i))] != nil
		if present != (i != 1) {
			t.Fatalf("flow %d present=%v", 100+i, present)
		}
	}
	// Flow 100 survived with its partial message.
	a.Add(13, 13, seg(100, 10001, ack, make([]byte, 10002)), r.emit)
	if len(r.out) != 1 || r.out[0].frame != 13 || len(r.out[0].msg) != 20000 {
		t.Fatalf("got %d messages", len(r.out))
	}
}

func TestMaxFlowsEvictsLRU(t *testing.T) {
	a := New(Config{MaxFlows: 3})
	var r recorder
	a.Add(1, 1, seg(1, 0, syn, nil), r.emit)
	a.Add(2, 2, seg(2, 0, syn, nil), r.emit)
	a.Add(3, 3, seg(3, 0, syn, nil), r.emit)
	a.Add(4, 4, seg(1, 1, ack, []byte{0}), r.emit) // flow 1 partial, now most recent
	a.Add(5, 5, seg(4, 0, syn, nil), r.emit)       // evicts flow 2
	a.Add(6, 6, seg(3, 1, ack, nil), r.emit)       // touch 3
	a.Add(7, 7, seg(5, 0, syn, nil), r.emit)       // evicts flow 1
	var present []uint16
	for f := a.head; f != nil; f = f.next {
		present = append(present, f.key.srcPort)
	}
	if fmt.Sprint(present) != "[5 3 4]" {
		t.Fatalf("LRU order %v", present)
	}
	if st := a.Stats(); st.EvictedFlows != 2 || st.Truncated != 1 || st.ActiveFlows != 3 {
		t.Fatalf("stats %+v", st)
	}
	if err := a.check(); err != nil {
		t.Fatal(err)
	}
}

func TestTimeouts(t *testing.T) {
	const sec = int64(1e9)
	a := New(Config{FlowTimeout: 10 * sec})
	var r recorder
	m := body(10, 1)
	stream := frameMsgs(m)
	a.Add(1, 0, seg(1, 0, syn, nil), r.emit)
	a.Add(2, 0, seg(1, 1, ack, stream[:4]), r.emit)
	a.Add(3, 5*sec, seg(2, 0, syn, nil), r.emit)
	a.Add(4, 10*sec, seg(2, 1, ack, stream[:4]), r.emit) // exactly 10s: flow 1 kept
	if a.Stats().TimedOutFlows != 0 {
		t.Fatal("timed out too early")
	}
	a.Add(5, 10*sec+1, seg(3, 0, syn, nil), r.emit) // flow 1 idle > 10s
	st := a.Stats()
	if st.TimedOutFlows != 1 || st.Truncated != 1 || a.flows[keyOf(1)] != nil || st.ActiveFlows != 2 {
		t.Fatalf("stats %+v", st)
	}
	// Capture time going backwards does not rewind the clock.
	a.Add(6, 0, seg(2, 5, ack, stream[4:]), r.emit)
	if len(r.out) != 1 || r.out[0] != (got{6, string(m)}) {
		t.Fatalf("got %v", r.out)
	}
	// A flow's own late segment: the flow times out first, then the segment
	// recreates it from where its stream stood (sequence number 13, a
	// message boundary).
	a.Add(7, 40*sec, seg(2, 13, ack, frameMsgs(m)), r.emit)
	st = a.Stats()
	if st.TimedOutFlows != 3 || st.ActiveFlows != 1 || len(r.out) != 2 || st.ResumedFlows != 1 {
		t.Fatalf("stats %+v, %d messages", st, len(r.out))
	}
	// Closed flows expire silently.
	a.Add(8, 40*sec, seg(2, 25, fin, nil), r.emit)
	a.Add(9, 60*sec, seg(9, 0, syn, nil), r.emit)
	if st := a.Stats(); st.TimedOutFlows != 3 || st.TrackedFlows != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestFlush(t *testing.T) {
	a := New(Config{})
	var r recorder
	a.Add(1, 0, seg(1, 0, syn, nil), r.emit)
	a.Add(2, 0, seg(1, 1, ack, []byte{0, 9, 1}), r.emit)
	a.Add(3, 0, seg(2, 0, syn, nil), r.emit)
	a.Add(4, 0, seg(2, 10, ack, []byte{0, 9, 1}), r.emit)
	a.Add(5, 0, seg(3, 0, syn, nil), r.emit)
	a.Flush()
	st := a.Stats()
	if st.Truncated != 2 || st.TrackedFlows != 0 || st.BufferedBytes != 0 || len(r.out) != 0 {
		t.Fatalf("stats %+v", st)
	}
	if err := a.check(); err != nil {
		t.Fatal(err)
	}
	// The assembler is usable after Flush, reusing flow structs.
	a.Add(6, 0, seg(1, 0, syn, nil), r.emit)
	a.Add(7, 0, seg(1, 1, ack, frameMsgs([]byte("ok"))), r.emit)
	if len(r.out) != 1 || r.out[0] != (got{7, "ok"}) {
		t.Fatalf("got %v", r.out)
	}
}

// TestSynFloodBounded: a flood of SYNs to distinct ports keeps at most
// MaxFlows flows.
func TestSynFloodBounded(t *testing.T) {
	a := New(Config{MaxFlows: 100})
	for i := range 10000 {
		a.Add(uint64(i), int64(i), seg(uint16(i), uint32(i), syn, nil), nil)
	}
	st := a.Stats()
	if st.TrackedFlows != 100 || st.EvictedFlows != 9900 {
		t.Fatalf("stats %+v", st)
	}
	if err := a.check(); err != nil {
		t.Fatal(err)
	}
}

func TestZeroAllocsInOrder(t *testing.T) {
	a := New(Config{})
	msg := body(120, 1)
	one := frameMsgs(msg)
	two := frameMsgs(msg, msg)
	// Per round: a whole message, a message split in three (prefix alone),
	// and two messages with the second split across segments.
	parts := [][]byte{one, one[:1], one[1:50], one[50:], two[:200], two[200:]}
	pkts := make([]*packet.Packet, len(parts))
	for i, p := range parts {
		pkts[i] = seg(1, 0, ack, p)
	}
	seq := uint32(1)
	n := 0
	emit := func(_ uint64, m []byte) {
		if len(m) == len(msg) {
			n++
		}
	}
	a.Add(0, 0, seg(1, 0, syn, nil), emit)
	round := func() {
		for _, p := range pkts {
			p.TCPSeq = seq
			seq += uint32(len(p.Payload))
			a.Add(1, 1, p, emit)
		}
	}
	round()
	if allocs := testing.AllocsPerRun(100, round); allocs != 0 {
		t.Fatalf("%v allocations per round", allocs)
	}
	if n != 4*102 {
		t.Fatalf("%d messages, want %d", n, 4*102)
	}
}

func BenchmarkInOrder(b *testing.B) {
	msg := body(200, 1)
	for _, tc := range []struct {
		name  string
		split int
	}{{"whole", 0}, {"split", 100}} {
		b.Run(tc.name, func(b *testing.B) {
			a := New(Config{})
			stream := frameMsgs(msg)
			var pkts []*packet.Packet
			if tc.split == 0 {
				pkts = []*packet.Packet{seg(1, 0, ack, stream)}
			} else {
				pkts = []*packet.Packet{seg(1, 0, ack, stream[:tc.split]), seg(1, 0, ack, stream[tc.split:])}
			}
			emit := func(uint64, []byte) {}
			a.Add(0, 0, seg(1, 0, syn, nil), emit)
			seq := uint32(1)
			b.SetBytes(int64(len(stream)))
			b.ReportAllocs()
			for b.Loop() {
				for _, p := range pkts {
					p.TCPSeq = seq
					seq += uint32(len(p.Payload))
					a.Add(1, 1, p, emit)
				}
			}
		})
	}
}

func BenchmarkManyFlows(b *testing.B) {
	a := New(Config{})
	stream := frameMsgs(body(60, 1))
	const nflows = 1000
	pkts := make([]*packet.Packet, nflows)
	seqs := make([]uint32, nflows)
	emit := func(uint64, []byte) {}
	for i := range pkts {
		pkts[i] = seg(uint16(i), 0, ack, stream)
		a.Add(0, 0, seg(uint16(i), 0, syn, nil), emit)
		seqs[i] = 1
	}
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p := pkts[i]
		p.TCPSeq = seqs[i]
		seqs[i] += uint32(len(stream))
		a.Add(1, 1, p, emit)
		i = (i + 1) % nflows
	}
}

// BenchmarkHostileOutOfOrder measures the worst shapes an attacker can pick:
// 1-byte segments delivered in reverse (each one a separate held piece until
// MaxFlowSegments forces a gap), and every other byte held.
func BenchmarkHostileOutOfOrder(b *testing.B) {
	stream := frameMsgs(body(2000, 1), body(2000, 2))
	one := make([]*packet.Packet, len(stream))
	for i := range stream {
		one[i] = seg(1, 0, ack, stream[i:i+1])
	}
	emit := func(uint64, []byte) {}
	b.Run("reverse", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(stream)))
		isn := uint32(0)
		for b.Loop() {
			a := New(Config{})
			a.Add(0, 0, seg(1, isn, syn, nil), emit)
			for i := len(one) - 1; i >= 0; i-- {
				one[i].TCPSeq = isn + 1 + uint32(i)
				a.Add(1, 1, one[i], emit)
			}
			isn += 1 << 20
		}
	})
	b.Run("alternate", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(stream)))
		isn := uint32(0)
		for b.Loop() {
			a := New(Config{MaxFlowSegments: 4096})
			a.Add(0, 0, seg(1, isn, syn, nil), emit)
			for _, start := range []int{1, 0} {
				for i := start; i < len(one); i += 2 {
					one[i].TCPSeq = isn + 1 + uint32(i)
					a.Add(1, 1, one[i], emit)
				}
			}
			isn += 1 << 20
		}
	})
}
