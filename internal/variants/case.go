package variants

import (
	"encoding/binary"
	"math/rand/v2"
)

// caseRandomised applies "0x20" case randomisation (draft-vixie-dnsext-dns0x20)
// to every DNS message carried in a UDP datagram on a DNS port: letters of
// the question names and of the answer owner names are flipped between
// upper and lower case, in place (wire lengths and compression pointers
// stay valid). The pattern depends only on the seed, the message ID and the
// name, so a response echoes exactly the case of its query, and an answer
// owner name spelled out again gets the same case as the question. UDP
// checksums are recomputed; everything else is copied unchanged.
func caseRandomised(frames []Frame, seed uint64, opt *Options) []Frame {
	out := make([]Frame, 0, len(frames))
	var p ipPacket
	for _, f := range frames {
		if !parseIP(&f, &p) {
			out = append(out, f)
			continue
		}
		sport, dport, payload, ok := p.udp()
		if !ok || !(isDNSPort(opt.Ports, sport) || isDNSPort(opt.Ports, dport)) {
			out = append(out, f)
			continue
		}
		msg := append([]byte(nil), payload...)
		if !flipCase(msg, seed) {
			out = append(out, f)
			continue
		}
		zero := !p.v6 && binary.BigEndian.Uint16(p.l4[6:8]) == 0
		// Bytes after the UDP datagram (in the IP payload) are dropped with
		// the rebuild; build keeps the IP header and its options.
		d := p.build(p.src, p.dst, protoUDP, udpDatagram(p.src, p.dst, sport, dport, msg, zero))
		d = append(d, f.Data[len(p.link)+len(p.hdr)+len(p.l4):]...) // link-layer trailer/padding
		out = append(out, Frame{Time: f.Time, LinkType: f.LinkType, OrigLen: len(d), Data: d})
	}
	return out
}

// maxPointerHops bounds compression pointer chains when reading a name.
const maxPointerHops = 64

// nameRef is a name found in a message: where its literal labels start,
// where its wire form at that place ends, and the whole name lowercased
// (labels joined by '.', pointers followed).
type nameRef struct {
	start, litEnd int
	lower         []byte
}

// readName reads the name at off. litEnd is the end of the literal labels
// at off (before any pointer); next is the offset after the name's wire
// form. Pointers must go strictly backwards.
func readName(msg []byte, off int) (ref nameRef, next int, ok bool) {
	ref.start = off
	pos, limit := off, off
	jumped := false
	for hops := 0; ; {
		if pos >= len(msg) {
			return ref, 0, false
		}
		l := int(msg[pos])
		switch {
		case l == 0:
			if !jumped {
				ref.litEnd, next = pos, pos+1
			}
			return ref, next, true
		case l&0xC0 == 0xC0:
			if pos+1 >= len(msg) {
				return ref, 0, false
			}
			target := int(binary.BigEndian.Uint16(msg[pos:pos+2]) & 0x3FFF)
			if target >= limit || hops >= maxPointerHops {
				return ref, 0, false
			}
			if !jumped {
				ref.litEnd, next = pos, pos+2
				jumped = true
			}
			hops++
			pos, limit = target, target
		case l&0xC0 != 0:
			return ref, 0, false
		default:
			if pos+1+l > len(msg) || len(ref.lower)+l+1 > 255 {
				return ref, 0, false
			}
			if len(ref.lower) > 0 {
				ref.lower = append(ref.lower, '.')
			}
			for _, c := range msg[pos+1 : pos+1+l] {
				ref.lower = append(ref.lower, lowerASCII(c))
			}
			pos += 1 + l
		}
	}
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isLetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

// flipCase randomises the case of the question names and answer owner
// names of msg in place. It reports false, leaving msg untouched, when msg
// is not a well-formed DNS message up to the end of its answer section.
func flipCase(msg []byte, seed uint64) bool {
	if len(msg) < 12 {
		return false
	}
	id := binary.BigEndian.Uint16(msg[0:2])
	qd := int(binary.BigEndian.Uint16(msg[4:6]))
	an := int(binary.BigEndian.Uint16(msg[6:8]))
	var names []nameRef
	off := 12
	for i := 0; i < qd; i++ {
		ref, next, ok := readName(msg, off)
		if !ok || next+4 > len(msg) {
			return false
		}
		names = append(names, ref)
		off = next + 4
	}
	for i := 0; i < an; i++ {
		ref, next, ok := readName(msg, off)
		if !ok || next+10 > len(msg) {
			return false
		}
		names = append(names, ref)
		rdlen := int(binary.BigEndian.Uint16(msg[next+8 : next+10]))
		off = next + 10 + rdlen
		if off > len(msg) {
			return false
		}
	}
	changed := false
	for _, n := range names {
		r := rand.New(rand.NewPCG(seed^uint64(id)<<48, hashBytes(n.lower)))
		for pos := n.start; pos < n.litEnd; {
			l := int(msg[pos])
			for j := pos + 1; j <= pos+l; j++ {
				// One random bit per byte position, letters or not, so the
				// pattern of a position does not depend on its neighbours.
				if r.Uint32()&1 == 1 && isLetter(msg[j]) {
					msg[j] ^= 0x20
					changed = true
				}
			}
			pos += 1 + l
		}
	}
	return changed
}

// hashBytes is FNV-1a (64 bit) of b.
func hashBytes(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}
