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

// decodeOps turns fuzz input into segments. Each op is 5 bytes:
//
//	b0: bits 0-1 flow, bit 2 garbage, bits 3-7 flags selector
//	b1-b2: stream offset, or sequence delta for garbage
//	b3: payload length
//	b4: capture time step
//
// A garbage op takes its payload from the following input bytes.
func decodeOps(in []byte) []fuzzOp {
	var ops []fuzzOp
	for len(in) >= 5 && len(ops) < 2000 {
		b := in[:5]
		in = in[5:]
		op := fuzzOp{flow: int(b[0] & 3), garbage: b[0]&4 != 0, tsStep: int64(b[4] >> 4)}
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
			op.seq = fuzzISN(op.flow) + uint32(int16(v))
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

// fuzzSeeds returns an in-order, a swapped-order and a mixed input.
func fuzzSeeds() (inOrder, swapped, mixed []byte) {
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
	return inOrder, swapped, mixed
}

// FuzzAssembler feeds decoded segment sequences through a small Assembler.
// Invariants: no panic; buffer accounting matches the buffers held and never
// exceeds MaxFlowBuffer or MaxTotalBuffer (also checked during callbacks);
// emitted messages are at most 65535 bytes; and for every flow that started
// with its SYN and has seen no anomaly (gap, eviction, timeout, garbage,
// FIN/RST, foreign SYN), the messages emitted are exactly the stream's
// messages in order, each emitted message matching its length prefix.
func FuzzAssembler(f *testing.F) {
	inOrder, swapped, mixed := fuzzSeeds()
	f.Add(inOrder)
	f.Add(swapped)
	f.Add(mixed)
	f.Fuzz(func(t *testing.T, in []byte) { fuzzOne(t, in) })
}

// TestFuzzOracle makes sure the fuzz oracle is live: the in-order seed checks
// every message of both flows.
func TestFuzzOracle(t *testing.T) {
	inOrder, swapped, _ := fuzzSeeds()
	want := len(fuzzMsgs[0]) + len(fuzzMsgs[1])
	if n := fuzzOne(t, inOrder); n != want {
		t.Fatalf("in-order seed checked %d messages, want %d", n, want)
	}
	if n := fuzzOne(t, swapped); n != want {
		t.Fatalf("swapped seed checked %d messages, want %d", n, want)
	}
}

// fuzzOne runs one fuzz input and returns how many emitted messages it
// checked against the streams.
func fuzzOne(t *testing.T, in []byte) int {
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
		p := seg(uint16(1000+k), seq, op.flags, op.payload)
		a.Add(uint64(i+1), ts, p, emit)
		if err := a.check(); err != nil {
			t.Fatalf("op %d: %v", i, err)
		}
		after := a.Stats()
		if after.Gaps != before.Gaps || after.EvictedFlows != before.EvictedFlows ||
			after.TimedOutFlows != before.TimedOutFlows || after.Truncated != before.Truncated ||
			after.Overflows != before.Overflows {
			clean = [fuzzFlows]bool{}
			continue
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
	a.Flush()
	if err := a.check(); err != nil {
		t.Fatal(err)
	}
	if st := a.Stats(); st.BufferedBytes != 0 || st.TrackedFlows != 0 {
		t.Fatalf("after Flush: %+v", st)
	}
	return checked
}
