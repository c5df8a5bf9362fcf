package variants

import (
	"encoding/binary"
	"math/rand/v2"
)

// fragmented re-emits every UDP datagram on a DNS port whose payload is
// longer than opt.FragMin as IP fragments (RFC 791 section 3.2 for IPv4,
// RFC 8200 section 4.5 for IPv6) carrying opt.FragSizeMin to
// opt.FragSizeMax bytes each (multiples of 8 except the last), in shuffled
// order, each fragment its own frame with the original timestamp. Every
// other frame is copied unchanged.
func fragmented(frames []Frame, rng *rand.Rand, opt *Options) []Frame {
	out := make([]Frame, 0, len(frames))
	var p ipPacket
	id4 := uint16(rng.Uint32())
	id6 := rng.Uint32()
	for _, f := range frames {
		if !parseIP(&f, &p) {
			out = append(out, f)
			continue
		}
		sport, dport, payload, ok := p.udp()
		if !ok || len(payload) <= opt.FragMin || !(isDNSPort(opt.Ports, sport) || isDNSPort(opt.Ports, dport)) {
			out = append(out, f)
			continue
		}
		var pieces [][]byte
		if p.v6 {
			id6++
			pieces = fragmentIPv6(&p, id6, rng, opt)
		} else {
			id4++
			if id4 == 0 {
				id4++
			}
			pieces = fragmentIPv4(&p, id4, rng, opt)
		}
		rng.Shuffle(len(pieces), func(i, j int) { pieces[i], pieces[j] = pieces[j], pieces[i] })
		for _, d := range pieces {
			out = append(out, Frame{Time: f.Time, LinkType: f.LinkType, OrigLen: len(d), Data: d})
		}
	}
	return out
}

// fragSizes cuts n bytes into pieces of min..max bytes, multiples of 8
// except the last, and at least two pieces.
func fragSizes(n int, rng *rand.Rand, opt *Options) []int {
	lo, hi := opt.FragSizeMin/8, opt.FragSizeMax/8
	if lo < 1 {
		lo = 1
	}
	if hi < lo {
		hi = lo
	}
	var sizes []int
	for n > 0 {
		s := (lo + rng.IntN(hi-lo+1)) * 8
		if len(sizes) == 0 && s >= n {
			// Always at least two fragments.
			s = (n - 1) / 8 * 8
			if s == 0 {
				s = 8
			}
		}
		if s >= n {
			s = n
		}
		sizes = append(sizes, s)
		n -= s
	}
	return sizes
}

// fragmentIPv4 cuts the datagram's IP payload into fragments. Options
// whose "copied" flag is set are repeated in every fragment; the others
// stay in the first (RFC 791 section 3.1). DF is cleared.
func fragmentIPv4(p *ipPacket, id uint16, rng *rand.Rand, opt *Options) [][]byte {
	data := p.l4
	later := copiedOptions(p.hdr[20:])
	var out [][]byte
	off := 0
	for i, n := range fragSizes(len(data), rng, opt) {
		hdr := p.hdr
		if i > 0 {
			hdr = append(append([]byte(nil), p.hdr[:20]...), later...)
			hdr[0] = 0x40 | byte(len(hdr)/4)
		}
		f := make([]byte, 0, len(p.link)+len(hdr)+n)
		f = append(f, p.link...)
		h := len(f)
		f = append(f, hdr...)
		f = append(f, data[off:off+n]...)
		ip := f[h : h+len(hdr)]
		binary.BigEndian.PutUint16(ip[2:4], uint16(len(hdr)+n))
		binary.BigEndian.PutUint16(ip[4:6], id)
		fo := uint16(off / 8)
		if off+n < len(data) {
			fo |= 0x2000 // MF
		}
		binary.BigEndian.PutUint16(ip[6:8], fo)
		setIPv4Checksum(ip)
		out = append(out, f)
		off += n
	}
	return out
}

// copiedOptions returns the IPv4 options with the copied flag (RFC 791
// section 3.1), padded with End of Option List to a multiple of 4 bytes.
func copiedOptions(opts []byte) []byte {
	var out []byte
	for i := 0; i < len(opts); {
		t := opts[i]
		if t == 0 { // end of option list
			break
		}
		if t == 1 { // no operation
			i++
			continue
		}
		if i+1 >= len(opts) || opts[i+1] < 2 || i+int(opts[i+1]) > len(opts) {
			break
		}
		n := int(opts[i+1])
		if t&0x80 != 0 {
			out = append(out, opts[i:i+n]...)
		}
		i += n
	}
	for len(out)%4 != 0 {
		out = append(out, 0)
	}
	return out
}

// fragmentIPv6 inserts a Fragment header after the unfragmentable part and
// cuts the rest (later extension headers and the UDP datagram) into
// fragments.
func fragmentIPv6(p *ipPacket, id uint32, rng *rand.Rand, opt *Options) [][]byte {
	unfrag := p.hdr[:p.unfrag]
	data := make([]byte, 0, len(p.hdr)-p.unfrag+len(p.l4))
	data = append(append(data, p.hdr[p.unfrag:]...), p.l4...)
	// The byte naming what follows the unfragmentable part.
	nextAt := 6
	if p.unfrag > 40 {
		nextAt = lastHeaderBefore(unfrag)
	}
	next := unfrag[nextAt]
	var out [][]byte
	off := 0
	for _, n := range fragSizes(len(data), rng, opt) {
		f := make([]byte, 0, len(p.link)+len(unfrag)+8+n)
		f = append(f, p.link...)
		h := len(f)
		f = append(f, unfrag...)
		var fh [8]byte
		fh[0] = next
		fo := uint16(off)
		if off+n < len(data) {
			fo |= 1 // M
		}
		binary.BigEndian.PutUint16(fh[2:4], fo)
		binary.BigEndian.PutUint32(fh[4:8], id)
		f = append(f, fh[:]...)
		f = append(f, data[off:off+n]...)
		ip := f[h:]
		ip[nextAt] = ipv6Fragment
		binary.BigEndian.PutUint16(ip[4:6], uint16(len(ip)-40))
		out = append(out, f)
		off += n
	}
	return out
}

// lastHeaderBefore returns the offset of the Next Header byte of the last
// extension header in an IPv6 header chain of exactly len(h) bytes.
func lastHeaderBefore(h []byte) int {
	at, off := 6, 40
	for off < len(h) {
		at = off
		off += (int(h[off+1]) + 1) * 8
	}
	return at
}
