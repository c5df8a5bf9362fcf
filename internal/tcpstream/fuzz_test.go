package tcpstream

import (
	"encoding/binary"
	"testing"

	"github.com/dnsieve/dnsieve/internal/packet"
)

const fuzzFlows = 4

// fuzzStreams are the byte streams of the fuzzed flows: well-formed DNS over
// TCP framing of messages with varied sizes, so segments cut from them can be
// checked against the messages they carry.
var fuzzStreams, fuzzMsgs = func() ([fuzzFlows][]byte, [fuzzFlows][][]byte) {
	var streams [fuzzFlows][]byte
	var msgs [fuzzFlows][][]byte
	sizes := []int{5, 0, 1, 40, 300, 2, 1000, 7, 0, 3, 60, 513}
	for k := range fuzzFlows {
		var all [][]byte
		for i, n := range sizes {
			all = append(all, body(n, byte(16*k+i)))
		}
		streams[k] = frameMsgs(all...)
		for _, m := range all {
			if len(m) > 0 {
				msgs[k] = append(msgs[k], m)
			}
		}
	}
	return streams, msgs
}()

// fuzzISN is the initial sequence number of flow k, close to the wrap.
func fuzzISN(k int) uint32 { return 0xffffff00 + uint32(k)*0x50 }

// fuzzOp is one segment decoded from fuzz input.
type fuzzOp struct {
	flow    int
	flags   uint8
	garbage bool   // payload from the input at a free sequence number
	off     int    // offset into the flow's stream (not garbage)
	seq     uint32 // sequence number (garbage)
	payload []byte
	tsStep  int64
}

// fuzzPause is the capture time step of a long pause: beyond the fuzzed
// FlowTimeout, so every flow times out before the segment.
const fuzzPause = 100

// decodeOps turns fuzz input into segments. Each op is 5 bytes:
//
//	b0: bits 0-1 flow, bit 2 garbage, bits 3-7 flags selector
//	b1-b2: stream offset, or sequence delta for garbage
//	b3: payload length
//	b4: bits 4-7 capture time step; low bits 0xf: a long pause
//	    (fuzzPause more); 0xe: a garbage sequence delta times 8
//
// A garbage op takes its payload from the following input bytes.
func decodeOps(in []byte) []fuzzOp {
	var ops []fuzzOp
	for len(in) >= 5 && len(ops) < 2000 {
		b := in[:5]
		in = in[5:]
		op := fuzzOp{flow: int(b[0] & 3), garbage: b[0]&4 != 0, tsStep: int64(b[4] >> 4)}
		if b[4]&0xf == 0xf {
			op.tsStep += fuzzPause
		}
		switch b[0] >> 3 {
		case 1:
			op.flags = packet.TCPFlagSYN
		case 2:
			op.flags = packet.TCPFlagFIN | packet.TCPFlagACK
		case 3:
			op.flags = packet.TCPFlagRST
		case 4:
			op.flags = packet.TCPFlagSYN | packet.TCPFlagFIN
		default:
			op.flags = packet.TCPFlagACK
		}
		v := int(binary.BigEndian.Uint16(b[1:3]))
		n := int(b[3])
		if op.garbage {
			n = min(n, len(in))
			op.payload = in[:n]
			in = in[n:]
			delta := uint32(int16(v))
			if b[4]&0xf == 0xe {
				delta *= 8 // beyond MaxFlowBuffer: too far to resume
			}
			op.seq = fuzzISN(op.flow) + delta
		} else {
			s := fuzzStreams[op.flow]
			op.off = v % len(s)
			op.payload = s[op.off:min(op.off+n, len(s))]
			op.seq = fuzzISN(op.flow) + 1 + uint32(op.off)
		}
		ops = append(ops, op)
	}
	return ops
}

// fuzzSeeds returns an in-order, a swapped-order, a mixed input, and one
// where both flows pause beyond FlowTimeout inside a message and then go on
// with pairs of segments in reverse order.
func fuzzSeeds() (inOrder, swapped, mixed, paused []byte) {
	seedOp := func(out []byte, flow int, flags byte, off, n int, ts byte) []byte {
		return append(out, byte(flow)|flags<<3, byte(off>>8), byte(off), byte(n), ts)
	}
	for k := range 2 {
		inOrder = seedOp(inOrder, k, 1, 0, 0, 0)
		swapped = seedOp(swapped, k, 1, 0, 0, 0)
	}
	for off := 0; off < len(fuzzStreams[0]); off += 200 {
		inOrder = seedOp(inOrder, 0, 0, off, 200, 0x10)
		inOrder = seedOp(inOrder, 1, 0, off, 200, 0)
	}
	for off := 0; off < len(fuzzStreams[0]); off += 200 {
		swapped = seedOp(swapped, 0, 0, off+100, 100, 0)
		swapped = seedOp(swapped, 1, 0, off+90, 110, 0)
		swapped = seedOp(swapped, 0, 0, off, 100, 0)
		swapped = seedOp(swapped, 1, 0, off, 100, 0)
	}
	mixed = seedOp(mixed, 2, 1, 0, 0, 0)
	mixed = seedOp(mixed, 2, 0, 9, 30, 0)
	mixed = seedOp(mixed, 2, 0, 0, 10, 0)
	mixed = append(mixed, 4|2, 0, 50, 4, 0, 0xff, 0xff, 0, 0)
	mixed = seedOp(mixed, 3, 2, 5, 20, 0xf0)
	for k := range 2 {
		paused = seedOp(paused, k, 1, 0, 0, 0)
	}
	for off := 0; off < fuzzPauseAt; off += 200 {
		paused = seedOp(paused, 0, 0, off, 200, 0x10)
		paused = seedOp(paused, 1, 0, off, 200, 0)
	}
	ts := byte(0x0f)
	for off := fuzzPauseAt; off < len(fuzzStreams[0]); off += 200 {
		paused = seedOp(paused, 0, 0, off+100, 100, ts)
		paused = seedOp(paused, 1, 0, off+100, 100, 0)
		paused = seedOp(paused, 0, 0, off, 100, 0x10)
		paused = seedOp(paused, 1, 0, off, 100, 0)
		ts = 0x10
	}
	return inOrder, swapped, mixed, paused
}

// fuzzPauseAt is the stream offset of the pause in the paused seed: inside
// the 1000-byte message at [360, 1362), which is skipped.
const fuzzPauseAt = 600

// FuzzAssembler feeds decoded segment sequences through a small Assembler.
// Invariants: no panic; buffer accounting matches the buffers held and never
// exceeds MaxFlowBuffer or MaxTotalBuffer (also checked during callbacks);
// the remembered points stay within their bounds and index; emitted messages
// are at most 65535 bytes; and for every flow that started with its SYN and
// has seen no anomaly (gap, overflow, garbage, FIN/RST, foreign SYN, its
// remembered point forgotten), the messages emitted are exactly the stream's
// messages in order, each emitted message matching its length prefix. A
// timeout or an eviction is no anomaly: the flow must go on from where its
// stream stood, skipping only the message it was dropped in.
func FuzzAssembler(f *testing.F) {
	inOrder, swapped, mixed, paused := fuzzSeeds()
	f.Add(inOrder)
	f.Add(swapped)
	f.Add(mixed)
	f.Add(paused)
	f.Add(forgottenSeed())
	f.Fuzz(func(t *testing.T, in []byte) { fuzzOne(t, in) })
}

// TestFuzzOracle makes sure the fuzz oracle is live: the in-order and
// swapped seeds check every message of both flows, the paused seed every
// message but the one each flow was dropped in.
func TestFuzzOracle(t *testing.T) {
	inOrder, swapped, _, paused := fuzzSeeds()
	want := len(fuzzMsgs[0]) + len(fuzzMsgs[1])
	if n, _ := fuzzOne(t, inOrder); n != want {
		t.Fatalf("in-order seed checked %d messages, want %d", n, want)
	}
	if n, _ := fuzzOne(t, swapped); n != want {
		t.Fatalf("swapped seed checked %d messages, want %d", n, want)
	}
	n, st := fuzzOne(t, paused)
	if n != want-2 || st.ResumedFlows != 2 || st.TimedOutFlows != 2 || st.Truncated != 2 {
		t.Fatalf("paused seed checked %d messages, want %d; stats %+v", n, want-2, st)
	}
	// Flow 0's three first messages are checked; once its point is
	// forgotten it restarts inside a message and is checked no more.
	n, st = fuzzOne(t, forgottenSeed())
	if n != 3 || st.ForgottenPoints != 2 || st.EvictedFlows != 1 || st.TimedOutFlows != 4 || st.ResumedFlows != 0 {
		t.Fatalf("forgotten seed checked %d messages, want 3; stats %+v", n, st)
	}
}

// forgottenSeed returns an input where flow 0 is evicted inside a message,
// and the pause that times out flows 1-3 forgets flow 0's remembered point
// (the table holds MaxFlows points) in the same Add that brings flow 0's next
// segment, from the middle of a message: the flow restarts there, and its
// framing is no longer the stream's. A later pause drops it again and
// forgets flow 1's point in the Add that restarts flow 1.
func forgottenSeed() []byte {
	op := func(out []byte, flow int, flags byte, off, n int, ts byte) []byte {
		return append(out, byte(flow)|flags<<3, byte(off>>8), byte(off), byte(n), ts)
	}
	var in []byte
	in = op(in, 0, 1, 0, 0, 0)
	in = op(in, 0, 0, 0, 200, 0)
	for k := 1; k < fuzzFlows; k++ {
		in = op(in, k, 1, 0, 0, 0) // the fourth flow evicts flow 0
	}
	in = op(in, 0, 0, 700, 50, 0x0f)
	in = op(in, 1, 0, 0, 10, 0x0f)
	return in
}

// fuzzMsgsBefore returns how many non-empty messages of flow k's stream
// start before stream offset off.
func fuzzMsgsBefore(k int, off uint32) int {
	s := fuzzStreams[k]
	n := 0
	for pos := 0; pos+2 <= len(s) && uint32(pos) < off; {
		l := int(binary.BigEndian.Uint16(s[pos:]))
		if l > 0 {
			n++
		}
		pos += 2 + l
	}
	return n
}

// fuzzOne runs one fuzz input and returns how many emitted messages it
// checked against the streams, and the final counters (before Flush).
func fuzzOne(t *testing.T, in []byte) (int, Stats) {
	checked := 0
	cfg := Config{
		MaxFlows:        3,
		MaxFlowBuffer:   MinFlowBuffer,
		MaxTotalBuffer:  MinFlowBuffer + 4000,
		FlowTimeout:     40,
		MaxFlowSegments: 8,
	}
	a := New(cfg)
	var seen, clean [fuzzFlows]bool
	var next [fuzzFlows]int
	var emitted []string
	emit := func(_ uint64, msg []byte) {
		if len(msg) == 0 || len(msg) > 65535 {
			t.Fatalf("emitted %d bytes", len(msg))
		}
		if a.total > a.cfg.MaxTotalBuffer {
			t.Fatalf("total %d during emit", a.total)
		}
		emitted = append(emitted, string(msg))
	}
	var ts int64
	for i, op := range decodeOps(in) {
		k := op.flow
		switch {
		case !seen[k]:
			clean[k] = op.flags == packet.TCPFlagSYN && !op.garbage && op.off == 0
		case op.garbage || op.flags&(packet.TCPFlagFIN|packet.TCPFlagRST) != 0:
			clean[k] = false
		case op.flags&packet.TCPFlagSYN != 0 && op.off != 0:
			clean[k] = false // a SYN with another ISN restarts the stream
		}
		seen[k] = true
		seq := op.seq
		if op.flags&packet.TCPFlagSYN != 0 && !op.garbage {
			seq-- // a SYN at the flow's ISN; its data follows it
		}
		before := a.Stats()
		emitted = emitted[:0]
		ts += op.tsStep
		// Where each open flow stands, and whether it times out now.
		now := max(a.now, ts)
		var prev [fuzzFlows]*flow
		var prevNext [fuzzFlows]uint32
		var expires, hadPoint [fuzzFlows]bool
		for j := range fuzzFlows {
			key := keyOf(uint16(1000 + j))
			if f := a.flows[key]; f != nil && !f.closed {
				prev[j], prevNext[j] = f, f.nextSeq
				expires[j] = now-f.lastSeen > cfg.FlowTimeout
			}
			_, ent := a.resume.find(key)
			hadPoint[j] = ent >= 0
		}
		p := seg(uint16(1000+k), seq, op.flags, op.payload)
		a.Add(uint64(i+1), ts, p, emit)
		if err := a.check(); err != nil {
			t.Fatalf("op %d: %v", i, err)
		}
		after := a.Stats()
		if after.Gaps != before.Gaps || after.Overflows != before.Overflows {
			clean = [fuzzFlows]bool{}
			continue
		}
		for j := range fuzzFlows {
			key := keyOf(uint16(1000 + j))
			dropped := prev[j] != nil && (a.flows[key] == nil || expires[j])
			if dropped && clean[j] {
				// The message the flow stood in, if any, is skipped.
				n := fuzzMsgsBefore(j, prevNext[j]-(fuzzISN(j)+1))
				if n < next[j] || n > next[j]+1 {
					t.Fatalf("op %d flow %d: dropped at message %d after %d", i, j, n, next[j])
				}
				next[j] = n
			}
			_, ent := a.resume.find(key)
			resumed := j == k && after.ResumedFlows > before.ResumedFlows
			if a.flows[key] == nil && ent < 0 || hadPoint[j] && ent < 0 && !resumed {
				// Forgotten (possibly in the Add that then started the
				// flow afresh): framing may restart anywhere.
				clean[j] = false
			}
		}
		if !clean[k] {
			continue
		}
		for _, m := range emitted {
			if next[k] >= len(fuzzMsgs[k]) || m != string(fuzzMsgs[k][next[k]]) {
				t.Fatalf("op %d flow %d: message %d wrong (%d bytes)", i, k, next[k], len(m))
			}
			next[k]++
			checked++
		}
	}
	final := a.Stats()
	a.Flush()
	if err := a.check(); err != nil {
		t.Fatal(err)
	}
	if st := a.Stats(); st.BufferedBytes != 0 || st.TrackedFlows != 0 || st.ResumePoints != 0 {
		t.Fatalf("after Flush: %+v", st)
	}
	return checked, final
}
