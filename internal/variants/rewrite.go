package variants

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
)

// dnsFlow identifies the client side and server side of a UDP or TCP frame
// on a DNS port. query is true when the frame goes to the server.
func dnsFlow(p *ipPacket, ports []uint16) (client, server netip.AddrPort, query, ok bool) {
	var sport, dport uint16
	switch p.proto {
	case protoUDP:
		sport, dport, _, ok = p.udp()
	case protoTCP:
		sport, dport, _, ok = p.tcp()
	}
	if !ok {
		return
	}
	src, dst := netip.AddrPortFrom(p.src, sport), netip.AddrPortFrom(p.dst, dport)
	switch {
	case isDNSPort(ports, dport):
		return src, dst, true, true
	case isDNSPort(ports, sport):
		return dst, src, false, true
	}
	return client, server, false, false
}

// rewrite rebuilds a UDP or TCP frame with new addresses and ports, fixing
// every checksum (a zero IPv4 UDP checksum stays zero). Link-layer padding
// after the IP datagram is kept.
func rewrite(f *Frame, p *ipPacket, src, dst netip.AddrPort) Frame {
	l4 := append([]byte(nil), p.l4...)
	binary.BigEndian.PutUint16(l4[0:2], src.Port())
	binary.BigEndian.PutUint16(l4[2:4], dst.Port())
	if p.proto == protoTCP {
		setTCPChecksum(src.Addr(), dst.Addr(), l4)
	} else if p.v6 || binary.BigEndian.Uint16(l4[6:8]) != 0 {
		l4[6], l4[7] = 0, 0
		c := transportChecksum(src.Addr(), dst.Addr(), protoUDP, l4)
		if c == 0 {
			c = 0xFFFF
		}
		binary.BigEndian.PutUint16(l4[6:8], c)
	}
	d := p.build(src.Addr(), dst.Addr(), p.proto, l4)
	d = append(d, f.Data[len(p.link)+len(p.hdr)+len(p.l4):]...)
	return Frame{Time: f.Time, LinkType: f.LinkType, OrigLen: f.OrigLen - len(f.Data) + len(d), Data: d}
}

// offPort moves DNS traffic off its port: for each client (address and
// port) talking to a DNS port, the server port becomes 5353 or, for the
// other half of the clients (drawn at random), a random port in
// 1024-65535 (never a DNS port of opt.Ports, never 5353). UDP and TCP
// frames are both moved; checksums are fixed; only ports change.
func offPort(frames []Frame, rng *rand.Rand, opt *Options) []Frame {
	out := make([]Frame, 0, len(frames))
	moved := map[netip.AddrPort]uint16{}
	var p ipPacket
	for _, f := range frames {
		if !parseIP(&f, &p) {
			out = append(out, f)
			continue
		}
		client, server, query, ok := dnsFlow(&p, opt.Ports)
		if !ok {
			out = append(out, f)
			continue
		}
		port, seen := moved[client]
		if !seen {
			port = 5353
			if rng.IntN(2) == 1 {
				for port == 5353 || isDNSPort(opt.Ports, port) || port == client.Port() {
					port = uint16(1024 + rng.IntN(65536-1024))
				}
			}
			moved[client] = port
		}
		server = netip.AddrPortFrom(server.Addr(), port)
		if query {
			out = append(out, rewrite(&f, &p, client, server))
		} else {
			out = append(out, rewrite(&f, &p, server, client))
		}
	}
	return out
}

// slow stretches the timeline: every timestamp t becomes
// t0 + (t - t0) * factor, t0 the first frame's time.
func slow(frames []Frame, factor int64) []Frame {
	out := make([]Frame, len(frames))
	copy(out, frames)
	if len(out) == 0 {
		return out
	}
	t0 := frames[0].Time
	for i := range out {
		out[i].Time = t0 + (out[i].Time-t0)*factor
	}
	return out
}

// spreader hands out client addresses: one pool of opt.Clients addresses
// per /16 (IPv4) or /112 (IPv6) of the original clients, drawn at random
// inside that prefix and avoiding every address of the capture.
type spreader struct {
	n     int
	rng   *rand.Rand
	used  map[netip.Addr]bool
	pools map[netip.Prefix]*pool
}

type pool struct {
	addrs []netip.Addr
	next  int
}

func (s *spreader) pool(a netip.Addr) *pool {
	bits := 16
	if a.Is6() {
		bits = 112
	}
	pfx, _ := a.Prefix(bits)
	if pl := s.pools[pfx]; pl != nil {
		return pl
	}
	pl := &pool{}
	base := a.As16()
	for tries := 0; len(pl.addrs) < s.n && tries < 1<<20; tries++ {
		host := uint16(s.rng.Uint32())
		lo := byte(host)
		if lo == 0 || lo == 255 {
			continue
		}
		b := base
		b[14], b[15] = byte(host>>8), lo
		c := netip.AddrFrom16(b)
		if a.Is4() {
			c = c.Unmap()
		}
		if s.used[c] {
			continue
		}
		s.used[c] = true
		pl.addrs = append(pl.addrs, c)
	}
	s.pools[pfx] = pl
	return pl
}

// next is the pool's next address, round robin.
func (pl *pool) take() netip.Addr {
	a := pl.addrs[pl.next%len(pl.addrs)]
	pl.next++
	return a
}

type queryKey struct {
	client, server netip.AddrPort
	id             uint16
}

// spread makes the DNS clients many: every UDP DNS query gets the next
// address of its client's pool (opt.Clients addresses in the client's /16,
// round robin over all clients of that /16, as behind a carrier-grade
// NAT); its response goes to the same address (matched by client,
// server and DNS ID; otherwise to the address of the client's latest
// query). A DNS-over-TCP connection keeps one address for all its frames.
// Ports, payloads and every non-DNS frame are unchanged.
func spread(frames []Frame, rng *rand.Rand, opt *Options) []Frame {
	s := &spreader{n: opt.Clients, rng: rng, used: map[netip.Addr]bool{}, pools: map[netip.Prefix]*pool{}}
	var p ipPacket
	for i := range frames {
		if parseIP(&frames[i], &p) {
			s.used[p.src], s.used[p.dst] = true, true
		}
	}
	pending := map[queryKey]netip.Addr{}
	latest := map[connKey]netip.Addr{}
	out := make([]Frame, 0, len(frames))
	for _, f := range frames {
		if !parseIP(&f, &p) {
			out = append(out, f)
			continue
		}
		client, server, query, ok := dnsFlow(&p, opt.Ports)
		if !ok {
			out = append(out, f)
			continue
		}
		flow := connKey{client, server}
		var id uint16
		var payload []byte
		if p.proto == protoUDP {
			_, _, payload, _ = p.udp()
		}
		if len(payload) >= 2 {
			id = binary.BigEndian.Uint16(payload)
		}
		qk := queryKey{client, server, id}
		var a netip.Addr
		switch {
		case p.proto == protoTCP:
			if a = latest[flow]; !a.IsValid() {
				a = s.pool(client.Addr()).take()
				latest[flow] = a
			}
		case query:
			a = s.pool(client.Addr()).take()
			pending[qk], latest[flow] = a, a
		default:
			if a = pending[qk]; a.IsValid() {
				delete(pending, qk)
			} else if a = latest[flow]; !a.IsValid() {
				a = s.pool(client.Addr()).take()
				latest[flow] = a
			}
		}
		c := netip.AddrPortFrom(a, client.Port())
		if query {
			out = append(out, rewrite(&f, &p, c, server))
		} else {
			out = append(out, rewrite(&f, &p, server, c))
		}
	}
	return out
}
