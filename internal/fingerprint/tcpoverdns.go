package fingerprint

// tcp-over-dns (analogbit, 2008; read in the sunapi386/tcp-over-dns
// mirror). Facts used, from src/common/Packet.java and BaseConverter.java:
//
//   - a packet is clientID (2 bytes, low byte first), packetID,
//     lastPidSeen, flags, checksum, then the data; the checksum is the
//     low byte of minus the sum of clientID (a signed short), packetID,
//     flags, lastPidSeen (signed bytes), the data's length and every data
//     byte (signed).
//   - encodeAsName: 'b' and the packet in base 63 ("a-zA-Z0-9-",
//     ENC_FULL63, the client's default) or 'h' and the packet in base 37
//     ("a-z0-9-", ENC_HEX0x20), each preceded by the packet's length (2
//     bytes, low first) in the same base; the text is cut every 63
//     characters, then the domain (stringToDomain).
//   - BaseConverter: blocks of e bytes become s symbols (big-endian
//     digits), e and s the exponents whose powers 256^e <= n^s come
//     closest within a signed 64-bit register (findBestExponents); a short
//     last block is padded with zero bytes.
//
// The length prefix must announce exactly the symbols that follow, the
// blocks' padding must be zero, and the checksum must hold or be 0 (as
// the packet factories create it): tcp-over-dns's; without the checksum,
// a weak match.

// baseCodec is one of tcp-over-dns's BaseConverter settings.
type baseCodec struct {
	rev        [256]byte // symbol -> digit, 0xFF when invalid
	n          uint64    // symbols
	bytes, sym int       // block: bytes and symbols
}

var (
	tcpOverDNS63 = newBaseCodec("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
	tcpOverDNS37 = newBaseCodec("abcdefghijklmnopqrstuvwxyz0123456789-")
)

// newBaseCodec finds the block exponents as BaseConverter does: for each
// power of 256 that a signed 64-bit register holds, the least power of n
// at or above it; the pair with the least relative waste wins, the later
// on a tie, and an exact fit ends the search.
func newBaseCodec(alphabet string) *baseCodec {
	c := &baseCodec{rev: makeRev(alphabet, false), n: uint64(len(alphabet))}
	n := int64(len(alphabet))
	best := 2.0
	src, dst := int64(256), n
	se, de := 1, 1
search:
	for src > 0 {
		for dst < src {
			dst *= n
			de++
			if dst <= 0 {
				break search
			}
		}
		if d := float64(dst-src) / float64(dst); d <= best {
			best, c.bytes, c.sym = d, se, de
			if src == dst {
				break
			}
		}
		src *= 256
		se++
	}
	return c
}

// encodedSize is BaseConverter.encodedSize: symbols for n bytes.
func (c *baseCodec) encodedSize(n int) int { return c.sym * ((n + c.bytes - 1) / c.bytes) }

// decode decodes whole blocks of src into dst, which must hold the
// blocks' bytes; it reports false for a symbol outside the alphabet or a
// block whose value does not fit its bytes.
func (c *baseCodec) decode(dst, src []byte) ([]byte, bool) {
	if len(src)%c.sym != 0 || len(src)/c.sym*c.bytes > len(dst) {
		return nil, false
	}
	out := dst[:0]
	for i := 0; i < len(src); i += c.sym {
		var v uint64
		for _, ch := range src[i : i+c.sym] {
			d := c.rev[ch]
			if d == 0xFF {
				return nil, false
			}
			v = v*c.n + uint64(d)
		}
		if c.bytes < 8 && v>>(8*c.bytes) != 0 {
			return nil, false
		}
		for b := c.bytes - 1; b >= 0; b-- {
			out = append(out, byte(v>>(8*b)))
		}
	}
	return out, true
}

func tcpOverDNSMatch(v *view, _ *Message) Match {
	l0 := v.label(0)
	var c *baseCodec
	switch l0[0] {
	case 'b':
		c = tcpOverDNS63
	case 'h':
		c = tcpOverDNS37
	default:
		return Match{}
	}
	// The encoded text: labels of 63 and a shorter last one; the domain
	// follows, so the text ends where the length prefix says.
	k := v.run(0, 63, cB64URL) // '_' then fails to decode
	if k == 0 {
		return Match{}
	}
	text := v.join(0, k)[1:]
	pre := c.encodedSize(2)
	if len(text) < pre {
		return Match{}
	}
	lenb, ok := c.decode(v.dec[:], text[:pre])
	if !ok {
		return Match{}
	}
	size := int(lenb[0]) | int(lenb[1])<<8
	if size < 6 || !zeros(lenb[2:]) {
		return Match{}
	}
	end := pre + c.encodedSize(size)
	if end > len(text) || !tcpOverDNSLabelEnd(v, k, 1+end) {
		return Match{}
	}
	pkt, ok := c.decode(v.dec[:], text[pre:end])
	if !ok {
		return Match{}
	}
	if !zeros(pkt[size:]) {
		return Match{}
	}
	pkt = pkt[:size]
	sum := int(int16(uint16(pkt[0])|uint16(pkt[1])<<8)) + int(int8(pkt[2])) + int(int8(pkt[3])) + int(int8(pkt[4])) + len(pkt) - 6
	for _, b := range pkt[6:] {
		sum += int(int8(b))
	}
	hit := Match{Tool: TCPOverDNS, Strength: Weak, Evidence: EvTCPOverDNSPacket, Detail: uint32(pkt[0]) | uint32(pkt[1])<<8}
	// The packet factories create packets with a checksum of 0 and the
	// sender is meant to update it (encodeAsName asserts it is valid, but
	// Java runs without assertions by default): either holds.
	if pkt[5] == 0 || byte(-sum) == pkt[5] {
		hit.Strength = Strong
	}
	return hit
}

// tcpOverDNSLabelEnd reports whether n characters of the first k labels
// end exactly at a label's end.
func tcpOverDNSLabelEnd(v *view, k, n int) bool {
	for i := 0; i < k; i++ {
		n -= int(v.ln[i])
		if n <= 0 {
			return n == 0
		}
	}
	return false
}

// zeros reports whether every byte of b is zero (a block's padding).
func zeros(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
