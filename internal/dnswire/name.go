package dnswire

// Limits of a domain name in wire form (RFC 1035 sections 2.3.4 and 4.1.4).
const (
	// MaxNameWireLen is the longest a name may be in uncompressed wire form,
	// length octets and the final root octet included.
	MaxNameWireLen = 255
	// MaxLabelLen is the longest a single label may be.
	MaxLabelLen = 63
	// MaxLabels is the most labels a name can have within MaxNameWireLen.
	MaxLabels = 127
	// MaxPointers bounds how many compression pointers one name may
	// follow. Pointers must point strictly backwards, so even without it
	// a name could not loop; the bound keeps long pointer-only chains
	// cheap. A name has at most MaxLabels labels, so it never needs more
	// jumps than that.
	MaxPointers = MaxLabels
	// maxPresentationLen is the longest Name.Bytes() can be: the labels
	// and the dots between them (MaxNameWireLen minus the first length
	// octet and the root octet).
	maxPresentationLen = MaxNameWireLen - 2
	// copySlack is the size of the block ReadName copies a label of at
	// most that many bytes in.
	copySlack = 16
)

// Name is a decoded domain name: its labels' raw bytes joined by '.', with
// no escaping and no trailing dot (the root name is empty). A label may
// itself contain any byte, '.' included; use Labels and Label to see the
// real label boundaries. The zero Name is the root. A Name holds its bytes
// in fixed arrays, so decoding into one never allocates.
type Name struct {
	// buf has copySlack bytes beyond the longest name so that a short
	// label can be copied as one fixed-size block; the bytes past length
	// are scratch.
	buf     [maxPresentationLen + copySlack]byte
	length  uint8            // bytes used in buf
	labels  uint8            // number of labels
	wireLen uint8            // uncompressed wire length (1 for the root)
	start   [MaxLabels]uint8 // offset in buf of each label
}

// Bytes returns the name as its labels joined by '.', e.g. "www.example.com".
// The slice points into n and is valid until n is next written.
func (n *Name) Bytes() []byte { return n.buf[:n.length] }

// String returns Bytes as a string (it allocates; for logs and tests).
func (n *Name) String() string { return string(n.Bytes()) }

// Len returns len(n.Bytes()).
func (n *Name) Len() int { return int(n.length) }

// Labels returns the number of labels (0 for the root).
func (n *Name) Labels() int { return int(n.labels) }

// Label returns the raw bytes of the i-th label, 0 being the leftmost. It
// panics if i is not in [0, Labels()).
func (n *Name) Label(i int) []byte {
	if i < 0 || i >= int(n.labels) {
		panic("dnswire: label index out of range")
	}
	start := int(n.start[i])
	end := int(n.length)
	if i+1 < int(n.labels) {
		end = int(n.start[i+1]) - 1
	}
	return n.buf[start:end]
}

// WireLen returns the length of the name in uncompressed wire form: one
// length octet per label, the labels, and the root octet (1 for the root).
func (n *Name) WireLen() int {
	if n.wireLen == 0 {
		return 1
	}
	return int(n.wireLen)
}

// ReadName decodes the name at msg[off:] into n (n may be nil to only
// validate it) and returns the offset just after the name's last byte at
// off: after its root octet or after its first compression pointer. Use it
// for names inside RDATA (NS, CNAME, PTR, MX, SRV, SOA targets); the caller
// checks that next stays within the RDATA.
//
// Compression pointers (RFC 1035 section 4.1.4) must point strictly before
// the first byte read since the previous jump (or since off), so every jump
// goes backwards past everything already read: forward pointers and
// self-pointers give ErrBadPointer, backward pointers into the labels just
// read give ErrPointerLoop. Label types 01 and 10 give ErrBadLabelType, a
// name over 255 wire octets ErrNameTooLong, and running out of message
// ErrShortName. On error next is off and n is left in an unspecified but
// valid state.
func ReadName(msg []byte, off int, n *Name) (next int, err error) {
	var (
		pos      = off // read position
		runStart = off // first byte read since the last jump
		next0    = -1  // offset after the name in place, once known
		wire     = 1   // uncompressed wire length so far (root octet)
		length   = 0   // presentation length so far
		labels   = 0   // labels so far
		hops     = 0   // pointers followed
	)
	if off < 0 {
		return off, ErrShortName
	}
	for {
		if pos >= len(msg) {
			return off, ErrShortName
		}
		c := int(msg[pos])
		switch c & 0xC0 {
		case 0x00:
			if c == 0 {
				if next0 < 0 {
					next0 = pos + 1
				}
				if n != nil {
					n.length = uint8(length)
					n.labels = uint8(labels)
					n.wireLen = uint8(wire)
				}
				return next0, nil
			}
			end := pos + 1 + c
			if end > len(msg) {
				return off, ErrShortName
			}
			wire += 1 + c
			if wire > MaxNameWireLen {
				return off, ErrNameTooLong
			}
			if n != nil {
				if labels > 0 {
					n.buf[length] = '.'
					length++
				}
				n.start[labels] = uint8(length)
				if c <= copySlack && pos+1+copySlack <= len(msg) {
					// Most labels are short: one fixed-size move, spilling
					// into the scratch past the label, instead of a call
					// to memmove sized by the label.
					*(*[copySlack]byte)(n.buf[length:]) = *(*[copySlack]byte)(msg[pos+1:])
					length += c
				} else {
					length += copy(n.buf[length:], msg[pos+1:end])
				}
			}
			labels++
			pos = end
		case 0xC0:
			if pos+1 >= len(msg) {
				return off, ErrShortName
			}
			target := (c&0x3F)<<8 | int(msg[pos+1])
			if target >= pos {
				return off, ErrBadPointer
			}
			if target >= runStart {
				return off, ErrPointerLoop
			}
			hops++
			if hops > MaxPointers {
				return off, ErrPointerLoop
			}
			if next0 < 0 {
				next0 = pos + 2
			}
			pos = target
			runStart = target
		default:
			return off, ErrBadLabelType
		}
	}
}
