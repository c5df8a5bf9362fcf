package tcpstream

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/dnsieve/dnsieve/internal/packet"
)

var (
	cliAddr = netip.MustParseAddr("192.0.2.1")
	srvAddr = netip.MustParseAddr("2001:db8::53")
)

// got is one delivered message.
type got struct {
	frame uint64
	msg   string
}

// recorder collects delivered messages.
type recorder struct{ out []got }

func (r *recorder) emit(frame uint64, msg []byte) {
	r.out = append(r.out, got{frame, string(msg)})
}

// seg builds a TCP segment from cliAddr:sport to srvAddr:53.
func seg(sport uint16, seq uint32, flags uint8, payload []byte) *packet.Packet {
	return &packet.Packet{
		Src: cliAddr, Dst: srvAddr, SrcPort: sport, DstPort: 53,
		Proto: packet.ProtoTCP, TCPSeq: seq, TCPFlags: flags, Payload: payload,
	}
}

func keyOf(sport uint16) flowKey {
	return flowKey{src: cliAddr, dst: srvAddr, srcPort: sport, dstPort: 53}
}

// body returns n deterministic bytes tagged by tag.
func body(n int, tag byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = tag ^ byte(i*7+i>>8)
	}
	return b
}

// frameMsgs concatenates msgs, each preceded by its two-byte length.
func frameMsgs(msgs ...[]byte) []byte {
	var out []byte
	for _, m := range msgs {
		out = binary.BigEndian.AppendUint16(out, uint16(len(m)))
		out = append(out, m...)
	}
	return out
}

// span is a byte range [off, end) of a test stream.
type span struct{ off, end int }

// oracle returns the messages a correct reassembler delivers when the
// segments covering arrivals reach it in that order, arrival i being frame
// i+1: a message is delivered by the first arrival after which every byte
// from the stream start to its end has been seen. Empty messages are skipped.
func oracle(stream []byte, arrivals []span) []got {
	seen := make([]bool, len(stream))
	contig, pos := 0, 0
	var out []got
	for i, s := range arrivals {
		for j := s.off; j < s.end; j++ {
			seen[j] = true
		}
		for contig < len(stream) && seen[contig] {
			contig++
		}
		for pos+2 <= contig {
			n := int(binary.BigEndian.Uint16(stream[pos:]))
			if pos+2+n > contig {
				break
			}
			if n > 0 {
				out = append(out, got{uint64(i + 1), string(stream[pos+2 : pos+2+n])})
			}
			pos += 2 + n
		}
	}
	return out
}

// feed runs a SYN (frame 0) and then the arrivals (frame i+1) of stream
// through a, on source port sport with initial sequence number isn.
func feed(a *Assembler, sport uint16, isn uint32, stream []byte, arrivals []span) []got {
	var r recorder
	a.Add(0, 0, seg(sport, isn, packet.TCPFlagSYN, nil), r.emit)
	for i, s := range arrivals {
		a.Add(uint64(i+1), int64(i+1), seg(sport, isn+1+uint32(s.off), packet.TCPFlagACK, stream[s.off:s.end]), r.emit)
	}
	return r.out
}

func equalGot(a, b []got) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// check verifies the internal invariants of a: accounting, caps, LRU list
// and the ordering of held chunks.
func (a *Assembler) check() error {
	var total int64
	n, open := 0, 0
	var prevSeen int64
	for f := a.head; f != nil; f = f.next {
		n++
		if a.flows[f.key] != f {
			return fmt.Errorf("flow %v in LRU list but not in map", f.key)
		}
		if n > 1 && f.lastSeen > prevSeen {
			return fmt.Errorf("LRU order broken: %d after %d", f.lastSeen, prevSeen)
		}
		prevSeen = f.lastSeen
		if f.next != nil && f.next.prev != f {
			return fmt.Errorf("LRU back link broken")
		}
		bytes := cap(f.pend)
		for i, c := range f.chunks {
			bytes += cap(c.data)
			if len(c.data) == 0 {
				return fmt.Errorf("empty chunk")
			}
			if int32(c.seq-f.nextSeq) <= 0 {
				return fmt.Errorf("chunk at %d not after nextSeq %d", c.seq, f.nextSeq)
			}
			if i > 0 {
				p := f.chunks[i-1]
				if int32(c.seq-(p.seq+uint32(len(p.data)))) < 0 {
					return fmt.Errorf("chunks overlap or unsorted")
				}
			}
		}
		if len(f.chunks) > a.cfg.MaxFlowSegments {
			return fmt.Errorf("%d chunks > %d", len(f.chunks), a.cfg.MaxFlowSegments)
		}
		if bytes != f.bytes {
			return fmt.Errorf("flow accounts %d bytes, holds %d", f.bytes, bytes)
		}
		if f.bytes > a.cfg.MaxFlowBuffer {
			return fmt.Errorf("flow holds %d bytes > %d", f.bytes, a.cfg.MaxFlowBuffer)
		}
		if f.closed && f.bytes != 0 {
			return fmt.Errorf("closed flow holds %d bytes", f.bytes)
		}
		if !f.closed {
			open++
		}
		if len(f.pend) >= 2 && len(f.pend) >= 2+int(binary.BigEndian.Uint16(f.pend)) {
			return fmt.Errorf("complete message left pending")
		}
		total += int64(f.bytes)
	}
	if n != len(a.flows) {
		return fmt.Errorf("LRU list has %d flows, map %d", n, len(a.flows))
	}
	if n > a.cfg.MaxFlows {
		return fmt.Errorf("%d flows > %d", n, a.cfg.MaxFlows)
	}
	if open != a.open {
		return fmt.Errorf("open count %d, counted %d", a.open, open)
	}
	if total != a.total {
		return fmt.Errorf("total accounts %d bytes, flows hold %d", a.total, total)
	}
	if a.total > a.cfg.MaxTotalBuffer {
		return fmt.Errorf("total %d > %d", a.total, a.cfg.MaxTotalBuffer)
	}
	return a.checkResume()
}

// checkResume verifies the remembered points: bounds, index consistency,
// the age list and the free list, and that no key is both a flow and a
// remembered point.
func (a *Assembler) checkResume() error {
	t := &a.resume
	if t.max != a.cfg.MaxFlows || cap(t.ents) > t.max || t.bytes() > resumeBound(t.max) || t.n > t.max {
		return fmt.Errorf("resume table: max %d, cap %d, %d bytes, n %d", t.max, cap(t.ents), t.bytes(), t.n)
	}
	live := 0
	prev := int32(-1)
	for i := t.oldest; i >= 0; i = t.ents[i].next {
		p := t.ents[i]
		if !p.live || p.prev != prev || live > len(t.ents) {
			return fmt.Errorf("age list broken at %d", i)
		}
		prev = i
		live++
		if _, ent := t.find(p.key); ent != int(i) {
			return fmt.Errorf("entry %d found at %d", i, ent)
		}
		if a.flows[p.key] != nil {
			return fmt.Errorf("key %v both a flow and a remembered point", p.key)
		}
		if p.skip > 65537 || (p.half && p.skip != 0) {
			return fmt.Errorf("entry %d: skip %d half %v", i, p.skip, p.half)
		}
	}
	if prev != t.newest {
		return fmt.Errorf("newest %d, list ends at %d", t.newest, prev)
	}
	free := 0
	for i := t.free; i >= 0; i = t.ents[i].next {
		if p := t.ents[i]; p.live || p.key != (flowKey{}) || free > len(t.ents) {
			return fmt.Errorf("free entry %d: %+v", i, p)
		}
		free++
	}
	if live+free != len(t.ents) {
		return fmt.Errorf("%d live + %d free entries of %d", live, free, len(t.ents))
	}
	used := 0
	for _, s := range t.slots {
		if s != 0 {
			used++
			if int(s) > len(t.ents) || !t.ents[s-1].live {
				return fmt.Errorf("slot points to entry %d", s-1)
			}
		}
	}
	if live != t.n || used != t.n {
		return fmt.Errorf("resume table: n %d, live %d, indexed %d", t.n, live, used)
	}
	if len(t.slots) > 0 && 2*cap(t.ents) > len(t.slots) {
		return fmt.Errorf("index of %d slots for %d entries", len(t.slots), cap(t.ents))
	}
	return nil
}

// pending returns the data bytes (not capacity) held over all flows.
func (a *Assembler) pending() int {
	n := 0
	for _, f := range a.flows {
		n += len(f.pend)
		for _, c := range f.chunks {
			n += len(c.data)
		}
	}
	return n
}
