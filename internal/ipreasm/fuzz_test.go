package ipreasm

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/dnsieve/dnsieve/internal/packet"
)

// fuzzCfg is small enough for the fuzzer to reach every cap.
var fuzzCfg = Config{MaxDatagrams: 3, MaxDatagramLen: 4096, MaxTotalBytes: 6000, Timeout: 40, MaxFragments: 16}

// fuzzKey is one of the fuzzed datagrams: two IPv4 and two IPv6 ones, the
// IPv4 pair and the IPv6 pair differing only by identification.
type fuzzKey struct {
	src, dst netip.Addr
	id       uint32
	ref      []byte // the genuine UDP datagram the non-garbage fragments are cut from
}

var fuzzKeys = func() [4]fuzzKey {
	sizes := []int{40, 333, 1500, 2600}
	var ks [4]fuzzKey
	for i := range ks {
		src, dst := srv4, cli4
		if i >= 2 {
			src, dst = srv6, cli6
		}
		msg := make([]byte, sizes[i])
		for j := range msg {
			msg[j] = byte(i*31 + j*7 + j>>8)
		}
		ks[i] = fuzzKey{src.Addr(), dst.Addr(), uint32(1 + i%2), udpBytes(src, dst, msg)}
	}
	return ks
}()

// fuzzOp is one fragment decoded from fuzz input.
type fuzzOp struct {
	key     int
	off     int
	more    bool
	data    []byte
	garbage bool
	tsStep  int64
}

// decodeFuzzOps turns fuzz input into fragments. Each op is 4 bytes:
//
//	b0: bits 0-1 key, bit 2 More, bit 3 garbage, bit 4 far offset, bits 5-7 time step
//	b1: offset in 8-byte units (far: high byte of a 13-bit offset)
//	b2: length bits 8-10 (far: low byte of the offset)
//	b3: length bits 0-7
//
// A non-garbage fragment is cut from the key's genuine datagram; a garbage
// one takes its bytes from the following input.
func decodeFuzzOps(in []byte) []fuzzOp {
	steps := [8]int64{0, 0, 0, 1, 2, 5, 20, 50}
	var ops []fuzzOp
	for len(in) >= 4 && len(ops) < 1000 {
		b := in[:4]
		in = in[4:]
		op := fuzzOp{key: int(b[0] & 3), more: b[0]&4 != 0, garbage: b[0]&8 != 0, tsStep: steps[b[0]>>5]}
		n := int(b[3])
		if b[0]&16 != 0 {
			op.off = (int(b[1])<<8 | int(b[2])) & 0x1fff * 8
		} else {
			op.off = int(b[1]) * 8
			n |= int(b[2]&7) << 8
		}
		if op.garbage {
			n = min(n, len(in))
			op.data = in[:n]
			in = in[n:]
		} else {
			ref := fuzzKeys[op.key].ref
			lo := min(op.off, len(ref))
			op.data = ref[lo:min(lo+n, len(ref))]
		}
		ops = append(ops, op)
	}
	return ops
}

// model is the reference state of one datagram: which bytes are held and
// their values, kept by plain byte arrays under the documented policy.
type model struct {
	present bool
	cov     []bool
	val     []byte
	hasLast bool
	end     int
	frags   int
}

func (m *model) reset() {
	m.present, m.hasLast, m.end, m.frags = false, false, 0, 0
	clear(m.cov)
}

func (m *model) held() (n, maxEnd int) {
	for i, c := range m.cov {
		if c {
			n++
			maxEnd = i + 1
		}
	}
	return n, maxEnd
}

// FuzzReassembler feeds fragment sequences decoded from the input to a
// small Reassembler and compares it with a byte-array model of the
// documented policy. Invariants: no panic; internal consistency and every
// cap (check) after each call; each call's counters match the outcome the
// model predicts; the held bytes of every datagram match the model's; and a
// completed datagram is exactly the model's bytes (its length the sum of
// its pieces), decoded as UDP.
func FuzzReassembler(f *testing.F) {
	seed := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	// Key 1 (333-byte datagram) in two fragments, key 2 in three reversed
	// then a duplicate, overlaps with garbage, a far fragment.
	f.Add(seed([]byte{1 | 4, 0, 0, 200}, []byte{1, 25, 1, 0}))
	f.Add(seed([]byte{2, 100, 7, 255}, []byte{2 | 4, 50, 1, 144}, []byte{2 | 4, 0, 1, 144}, []byte{2 | 4, 0, 1, 144}))
	f.Add(seed([]byte{3 | 4, 0, 0, 64}, []byte{3 | 4, 6, 0, 64}, []byte{3 | 4 | 8, 2, 0, 8}, []byte{1, 2, 3, 4, 5, 6, 7, 8}))
	f.Add(seed([]byte{0 | 4 | 8, 0, 0, 16}, []byte("0123456789abcdef"), []byte{0 | 4, 1, 0, 16}, []byte{0, 3, 0, 255}))
	f.Add(seed([]byte{0 | 16, 0x1f, 0xfe, 100}, []byte{0 | 4 | 0xe0, 0, 0, 16}, []byte{0, 2, 0, 30}))
	f.Fuzz(func(t *testing.T, in []byte) { fuzzOne(t, in) })
}

// TestFuzzModel makes sure the fuzz model is live on the seeds: it must
// predict completions.
func TestFuzzModel(t *testing.T) {
	in := []byte{1 | 4, 0, 0, 200, 1, 25, 1, 0, 2, 100, 7, 255, 2 | 4, 50, 1, 144, 2 | 4, 0, 1, 144, 2 | 4, 0, 1, 144}
	if n := fuzzOne(t, in); n != 2 {
		t.Fatalf("%d completions checked, want 2", n)
	}
}

func fuzzOne(t *testing.T, in []byte) int {
	r := New(fuzzCfg)
	cfg := r.Config()
	var models [4]model
	for i := range models {
		models[i].cov = make([]bool, cfg.MaxDatagramLen)
		models[i].val = make([]byte, cfg.MaxDatagramLen)
	}
	completions := 0
	var ts int64
	var out packet.Packet
	for i, op := range decodeFuzzOps(in) {
		k := fuzzKeys[op.key]
		v6 := op.key >= 2
		m := &models[op.key]
		ts += op.tsStep
		p := &packet.Packet{Src: k.src, Dst: k.dst, Proto: packet.ProtoUDP, Frag: packet.Fragment{
			IsFragment: true, ID: k.id, Offset: uint32(op.off), More: op.more, Proto: packet.ProtoUDP, Data: op.data,
		}}

		// The datagram of this key times out first if it has been idle too long.
		if d := r.table[key{k.src, k.dst, k.id, map[bool]uint8{false: packet.ProtoUDP, true: 0}[v6]}]; d != nil {
			now := max(r.now, ts)
			if now-d.lastSeen > cfg.Timeout {
				m.reset()
			}
		}

		// Predict the outcome.
		var want Stats
		want.Fragments = 1
		data, end := op.data, op.off+len(op.data)
		valid := true
		if op.more {
			if end&7 != 0 {
				if v6 {
					valid = false
				} else {
					end &^= 7
					data = data[:end-op.off]
				}
			}
			if end == op.off {
				valid = false
			}
		}
		_, maxEnd := m.held()
		switch {
		case !valid:
			want.Invalid = 1
		case end > cfg.MaxDatagramLen:
			want.TooLarge = 1
		case m.present && ((m.hasLast && (end > m.end || (!op.more && end != m.end))) || (!op.more && end < maxEnd)):
			want.Invalid = 1
		default:
			m.present = true
			if !op.more {
				m.hasLast, m.end = true, end
			}
			overlap, conflict, newBytes := false, false, 0
			for j, c := range data {
				if m.cov[op.off+j] {
					overlap = true
					conflict = conflict || m.val[op.off+j] != c
				} else {
					newBytes++
				}
			}
			switch {
			case overlap && newBytes == 0 && !conflict:
				want.Duplicates = 1
			case overlap && newBytes == 0:
				want.Overlaps, want.Conflicts = 1, 1
			case overlap && v6:
				want.Overlaps, want.Discarded = 1, 1
				if conflict {
					want.Conflicts = 1
				}
				m.reset()
			case m.frags >= cfg.MaxFragments:
				want.TooMany = 1
				if overlap {
					want.Overlaps = 1
				}
				if conflict {
					want.Conflicts = 1
				}
				m.reset()
			default:
				if overlap {
					want.Overlaps = 1
				}
				if conflict {
					want.Conflicts = 1
				}
				m.frags++
				for j, c := range data {
					if !m.cov[op.off+j] {
						m.cov[op.off+j], m.val[op.off+j] = true, c
					}
				}
			}
		}
		var wantPayload []byte
		if held, _ := m.held(); m.present && m.hasLast && held == m.end {
			b := m.val[:m.end]
			ulen := 0
			if len(b) >= 8 {
				ulen = int(binary.BigEndian.Uint16(b[4:6]))
				if ulen == 0 {
					ulen = len(b)
				}
			}
			if ulen < 8 || ulen > len(b) {
				want.Unusable = 1
			} else {
				want.Datagrams = 1
				wantPayload = b[8:ulen]
			}
			m.reset()
		}

		before := r.Stats()
		done := r.Add(uint64(i+1), ts, p, &out)
		if err := r.check(); err != nil {
			t.Fatalf("op %d: %v", i, err)
		}
		after := r.Stats()
		got := Stats{
			Fragments: after.Fragments - before.Fragments, Invalid: after.Invalid - before.Invalid,
			TooLarge: after.TooLarge - before.TooLarge, Duplicates: after.Duplicates - before.Duplicates,
			Overlaps: after.Overlaps - before.Overlaps, Conflicts: after.Conflicts - before.Conflicts,
			Discarded: after.Discarded - before.Discarded, TooMany: after.TooMany - before.TooMany,
			Datagrams: after.Datagrams - before.Datagrams, Unusable: after.Unusable - before.Unusable,
		}
		if got != want {
			t.Fatalf("op %d %+v: counters %+v, model %+v", i, op, got, want)
		}
		if done != (want.Datagrams == 1) {
			t.Fatalf("op %d: Add returned %v", i, done)
		}
		if done {
			completions++
			if !bytes.Equal(out.Payload, wantPayload) || out.Src != k.src || out.Dst != k.dst || out.Proto != packet.ProtoUDP {
				t.Fatalf("op %d: reassembled %d bytes, model %d", i, len(out.Payload), len(wantPayload))
			}
		}

		// Datagrams evicted or timed out leave their models; every datagram
		// held matches its model byte for byte.
		for j := range models {
			kj := fuzzKeys[j]
			proto := uint8(packet.ProtoUDP)
			if j >= 2 {
				proto = 0
			}
			d := r.table[key{kj.src, kj.dst, kj.id, proto}]
			mj := &models[j]
			if d == nil {
				if mj.present && after.Evicted == before.Evicted && after.TimedOut == before.TimedOut {
					t.Fatalf("op %d: datagram %d vanished", i, j)
				}
				mj.reset()
				continue
			}
			held, _ := mj.held()
			if !mj.present || held != d.held || mj.hasLast != d.hasLast || (d.hasLast && mj.end != d.end) || mj.frags != d.frags {
				t.Fatalf("op %d: datagram %d differs from its model", i, j)
			}
			for _, pc := range d.pieces {
				for o := pc.off; o < pc.end; o++ {
					if !mj.cov[o] || mj.val[o] != d.buf[pc.at+o-pc.off] {
						t.Fatalf("op %d: datagram %d byte %d differs from its model", i, j, o)
					}
				}
			}
		}
	}
	r.Flush()
	if err := r.check(); err != nil {
		t.Fatal(err)
	}
	if st := r.Stats(); st.Active != 0 || st.BufferedBytes != 0 {
		t.Fatalf("after Flush: %+v", st)
	}
	return completions
}
