package traffic

// Frames returns copies of the first n frames of the traffic cfg
// describes, for benchmarks that cycle over an in-memory sample.
func Frames(cfg Config, n int) [][]byte {
	g := New(cfg)
	out := make([][]byte, n)
	for i := range out {
		_, f := g.Next()
		out[i] = append([]byte(nil), f...)
	}
	return out
}

// Payload returns the DNS message of a frame made by a Generator
// (Ethernet II, IPv4 without options or IPv6 without extension headers,
// UDP), or nil for any other frame.
func Payload(frame []byte) []byte {
	if len(frame) < 14 {
		return nil
	}
	ip := 14
	switch uint16(frame[12])<<8 | uint16(frame[13]) {
	case 0x0800:
		ip += 20
	case 0x86DD:
		ip += 40
	default:
		return nil
	}
	if len(frame) < ip+8 {
		return nil
	}
	return frame[ip+8:]
}

// QuestionName returns the question name of a message made by a
// Generator as text (labels joined by '.') and its label lengths; the
// generator never compresses the question name.
func QuestionName(msg []byte) (name []byte, labels []uint8) {
	off := 12
	for off < len(msg) {
		l := int(msg[off])
		if l == 0 || l&0xC0 != 0 || off+1+l > len(msg) {
			break
		}
		if len(name) > 0 {
			name = append(name, '.')
		}
		name = append(name, msg[off+1:off+1+l]...)
		labels = append(labels, uint8(l))
		off += 1 + l
	}
	return name, labels
}
