package variants

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
)

// TCP flags (RFC 9293 section 3.1).
const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpPSH = 0x08
	tcpACK = 0x10
)

// tcpConn is one DNS-over-TCP connection made out of a UDP flow.
type tcpConn struct {
	client, server netip.AddrPort
	// next sequence number of each side
	cseq, sseq uint32
	// last is the time of the connection's latest message.
	last int64
}

type connKey struct{ client, server netip.AddrPort }

// tcpSplit turns every UDP DNS message on a DNS port into DNS over TCP
// (RFC 1035 section 4.2.2, RFC 7766 section 8: a two-byte length before
// each message). Each UDP flow (client address and port, server address
// and port) becomes one connection, opened with a three-way handshake just
// before its first message. A connection idle for longer than opt.TCPIdle
// is closed by the server (FIN, FIN, ACK) when its next message comes, and
// a new one is opened on the same ports, as a resolver closes idle
// DNS-over-TCP connections (RFC 7766 section 6.2.3; unbound's
// tcp-idle-timeout is 30 s). Each message with its length
// prefix is cut into segments of opt.SegMin to opt.SegMax bytes; with
// probability opt.Reorder a segment is sent after the one that follows it,
// and with probability opt.Retransmit a segment is sent a second time
// after the next one. All the frames of a message carry its original
// timestamp. UDP payloads that are not DNS messages (shorter than a DNS
// header) and every other frame are copied unchanged.
func tcpSplit(frames []Frame, rng *rand.Rand, opt *Options) []Frame {
	out := make([]Frame, 0, len(frames)*8)
	conns := map[connKey]*tcpConn{}
	var p ipPacket
	for _, f := range frames {
		if !parseIP(&f, &p) {
			out = append(out, f)
			continue
		}
		sport, dport, payload, ok := p.udp()
		if !ok || len(payload) < 12 || len(payload) > 0xFFFF {
			out = append(out, f)
			continue
		}
		src, dst := netip.AddrPortFrom(p.src, sport), netip.AddrPortFrom(p.dst, dport)
		var key connKey
		switch {
		case isDNSPort(opt.Ports, dport):
			key = connKey{src, dst}
		case isDNSPort(opt.Ports, sport):
			key = connKey{dst, src}
		default:
			out = append(out, f)
			continue
		}
		emit := func(from, to netip.AddrPort, seq, ack uint32, flags uint8, data []byte) {
			l4 := tcpSegment(from.Addr(), to.Addr(), from.Port(), to.Port(), seq, ack, flags, data)
			var d []byte
			if from == key.client {
				d = p.build(key.client.Addr(), key.server.Addr(), protoTCP, l4)
			} else {
				d = p.build(key.server.Addr(), key.client.Addr(), protoTCP, l4)
			}
			out = append(out, Frame{Time: f.Time, LinkType: f.LinkType, OrigLen: len(d), Data: d})
		}
		c := conns[key]
		if c != nil && opt.TCPIdle > 0 && f.Time-c.last > opt.TCPIdle {
			emit(c.server, c.client, c.sseq, c.cseq, tcpFIN|tcpACK, nil)
			emit(c.client, c.server, c.cseq, c.sseq+1, tcpFIN|tcpACK, nil)
			emit(c.server, c.client, c.sseq+1, c.cseq+1, tcpACK, nil)
			c = nil
		}
		if c == nil {
			c = &tcpConn{client: key.client, server: key.server, cseq: rng.Uint32(), sseq: rng.Uint32()}
			conns[key] = c
			// The handshake goes in the direction of the connection, whatever
			// the direction of this first message: build reuses this frame's
			// IP header, so addresses are set per segment.
			emit(c.client, c.server, c.cseq, 0, tcpSYN, nil)
			emit(c.server, c.client, c.sseq, c.cseq+1, tcpSYN|tcpACK, nil)
			c.cseq++
			c.sseq++
			emit(c.client, c.server, c.cseq, c.sseq, tcpACK, nil)
		}
		stream := make([]byte, 2+len(payload))
		binary.BigEndian.PutUint16(stream, uint16(len(payload)))
		copy(stream[2:], payload)
		from, to, seq, ack := c.client, c.server, &c.cseq, c.sseq
		if src != key.client {
			from, to, seq, ack = c.server, c.client, &c.sseq, c.cseq
		}
		for _, s := range segmentPlan(len(stream), rng, opt) {
			flags := uint8(tcpACK)
			if s.off+s.n == len(stream) {
				flags |= tcpPSH
			}
			emit(from, to, *seq+uint32(s.off), ack, flags, stream[s.off:s.off+s.n])
		}
		*seq += uint32(len(stream))
		c.last = f.Time
	}
	return out
}

// segment is a piece of a message's byte stream, by offset.
type segment struct{ off, n int }

// segmentPlan cuts n bytes into segments of opt.SegMin..opt.SegMax bytes
// and returns them in sending order: mostly in order, some swapped with
// their successor, some sent twice.
func segmentPlan(n int, rng *rand.Rand, opt *Options) []segment {
	var segs []segment
	for off := 0; off < n; {
		s := opt.SegMin + rng.IntN(opt.SegMax-opt.SegMin+1)
		if off+s > n {
			s = n - off
		}
		segs = append(segs, segment{off, s})
		off += s
	}
	for i := 0; i+1 < len(segs); i++ {
		if rng.Float64() < opt.Reorder {
			segs[i], segs[i+1] = segs[i+1], segs[i]
			i++ // a segment moves at most once
		}
	}
	plan := make([]segment, 0, len(segs)+len(segs)/4)
	for i, s := range segs {
		plan = append(plan, s)
		if i > 0 && rng.Float64() < opt.Retransmit {
			plan = append(plan, segs[i-1])
		}
	}
	return plan
}
