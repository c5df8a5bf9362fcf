package fingerprint

// maxSub bounds Sub: a DNS name has at most 253 presentation bytes.
const maxSub = 255

// view indexes the labels of Message.Sub and holds scratch buffers for the
// decoders, so that matching never allocates (a view lives on the stack).
type view struct {
	sub []byte
	n   int
	off [128]uint8
	ln  [128]uint8
	// joined holds label bytes concatenated without dots; dec the bytes a
	// decoder produced from joined.
	joined [maxSub]byte
	dec    [maxSub]byte
}

// init indexes m.Sub by m.SubLabels. It returns false when they disagree
// (lengths that do not add up, a missing separator): hostile input gets no
// match rather than a guess.
func (v *view) init(m *Message) bool {
	v.sub = m.Sub
	v.n = 0
	if len(m.Sub) > maxSub || len(m.SubLabels) > len(v.off) {
		return false
	}
	if len(m.SubLabels) == 0 {
		return len(m.Sub) == 0
	}
	pos := 0
	for i, l := range m.SubLabels {
		if i > 0 {
			if pos >= len(m.Sub) || m.Sub[pos] != '.' {
				return false
			}
			pos++
		}
		if l == 0 || pos+int(l) > len(m.Sub) {
			return false
		}
		v.off[i] = uint8(pos)
		v.ln[i] = l
		pos += int(l)
	}
	if pos != len(m.Sub) {
		return false
	}
	v.n = len(m.SubLabels)
	return true
}

// label returns the i-th label of Sub (0 is the leftmost).
func (v *view) label(i int) []byte {
	o := int(v.off[i])
	return v.sub[o : o+int(v.ln[i])]
}

// run returns how many labels, starting at from, form one data run of an
// encoder that cuts its output into labels of exactly size characters: the
// run continues past a label only if that label has exactly size
// characters and the next one exists and is entirely of class cls.
func (v *view) run(from, size int, cls uint16) int {
	if from >= v.n || !all(v.label(from), cls) {
		return 0
	}
	k := 1
	for from+k < v.n && int(v.ln[from+k-1]) == size && all(v.label(from+k), cls) {
		k++
	}
	return k
}

// join copies labels [from, from+k) without dots into v.joined.
func (v *view) join(from, k int) []byte {
	n := 0
	for i := from; i < from+k; i++ {
		n += copy(v.joined[n:], v.label(i))
	}
	return v.joined[:n]
}

// Character classes (bit sets in classTab).
const (
	cDigit    uint16 = 1 << iota // 0-9
	cHex                         // 0-9 a-f A-F
	cIodB32                      // iodine base32: a-z 0-5, either case
	cRFC32                       // RFC 4648 base32: a-z 2-7, either case
	cB64                         // RFC 4648 base64: A-Z a-z 0-9 + /
	cB64URL                      // RFC 4648 base64url: A-Z a-z 0-9 - _
	cAlnum                       // A-Z a-z 0-9
	cIodHigh                     // iodine base128 high bytes 0xBC-0xFD
	cSliver32                    // Sliver base32 alphabet, either case
	cSliver58                    // Sliver base58 alphabet
	cLower                       // a-z
	cUpper                       // A-Z
	cPrint                       // printable ASCII 0x20-0x7E
	cPupy32                      // Pupy's translated base32: a-z 1-6 and the padding 9, either case
)

// Alphabets (reverse tables map a byte to its value, 0xFF when invalid).
const (
	iodineB32Alphabet = "abcdefghijklmnopqrstuvwxyz012345" // yarrick/iodine src/base32.c cb32
	rfc32Alphabet     = "abcdefghijklmnopqrstuvwxyz234567" // RFC 4648 section 6, lower-cased
	b64Alphabet       = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b64URLAlphabet    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	// BishopFox/sliver implant/sliver/encoders/base32.go base32Alphabet.
	sliver32Alphabet = "ab1c2d3e4f5g6h7j8k9m0npqrtuvwxyz"
	// BishopFox/sliver implant/sliver/encoders/base58.go alphabet.
	sliver58Alphabet = "213465789aBcDeFgHjKLMNPQRSTUVWXYZAbCdEfGhiJkmnopqrstuvwxyz"
)

var (
	classTab  = makeClassTab()
	revIod32  = makeRev(iodineB32Alphabet, true)
	revRFC32  = makeRev(rfc32Alphabet, true)
	revB64    = makeRev(b64Alphabet, false)
	revB64URL = makeRev(b64URLAlphabet, false)
	revSlv32  = makeRev(sliver32Alphabet, true)
	revSlv58  = makeRev(sliver58Alphabet, false)
)

func makeRev(alpha string, foldCase bool) [256]byte {
	var t [256]byte
	for i := range t {
		t[i] = 0xFF
	}
	for i := 0; i < len(alpha); i++ {
		c := alpha[i]
		t[c] = byte(i)
		if foldCase && 'a' <= c && c <= 'z' {
			t[c-'a'+'A'] = byte(i)
		}
	}
	return t
}

func makeClassTab() [256]uint16 {
	var t [256]uint16
	for c := 0; c < 256; c++ {
		b := byte(c)
		var m uint16
		isLower, isUpper, isDigit := 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9'
		if isDigit {
			m |= cDigit
		}
		if isDigit || ('a' <= b && b <= 'f') || ('A' <= b && b <= 'F') {
			m |= cHex
		}
		if isLower || isUpper || isDigit {
			m |= cAlnum | cB64 | cB64URL
		}
		if isLower {
			m |= cLower
		}
		if isUpper {
			m |= cUpper
		}
		if b == '+' || b == '/' {
			m |= cB64
		}
		if b == '-' || b == '_' {
			m |= cB64URL
		}
		if 0xBC <= b && b <= 0xFD {
			m |= cIodHigh
		}
		if 0x20 <= b && b <= 0x7E {
			m |= cPrint
		}
		if isLower || isUpper || '1' <= b && b <= '6' || b == '9' {
			m |= cPupy32
		}
		t[c] = m
	}
	for c := 0; c < 256; c++ {
		if revOf(iodineB32Alphabet, byte(c), true) {
			t[c] |= cIodB32
		}
		if revOf(rfc32Alphabet, byte(c), true) {
			t[c] |= cRFC32
		}
		if revOf(sliver32Alphabet, byte(c), true) {
			t[c] |= cSliver32
		}
		if revOf(sliver58Alphabet, byte(c), false) {
			t[c] |= cSliver58
		}
	}
	return t
}

func revOf(alpha string, c byte, foldCase bool) bool {
	if foldCase && 'A' <= c && c <= 'Z' {
		c += 'a' - 'A'
	}
	for i := 0; i < len(alpha); i++ {
		if alpha[i] == c {
			return true
		}
	}
	return false
}

// all reports whether every byte of b is in class cls (false for empty b).
func all(b []byte, cls uint16) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if classTab[c]&cls == 0 {
			return false
		}
	}
	return true
}

// some reports whether some byte of b is in class cls.
func some(b []byte, cls uint16) bool {
	for _, c := range b {
		if classTab[c]&cls != 0 {
			return true
		}
	}
	return false
}

// lower folds an ASCII letter to lower case.
func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// equalFold reports whether b equals the lower-case ASCII string s, ignoring
// ASCII case in b.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		if lower(b[i]) != s[i] {
			return false
		}
	}
	return true
}

// decode32 decodes unpadded base32 src (5 bits per character, most
// significant first, as RFC 4648 and iodine's base32.c both do) with the
// reverse table rev into dst. It fails on a character outside the
// alphabet, on a length no encoder produces (1, 3 or 6 characters modulo
// 8) and on non-zero trailing bits, which an encoder never emits.
func decode32(dst, src []byte, rev *[256]byte) ([]byte, bool) {
	switch len(src) % 8 {
	case 1, 3, 6:
		return nil, false
	}
	return unpack(dst, src, rev, 5)
}

// decode64 decodes unpadded base64 src (6 bits per character) with the
// reverse table rev into dst; lengths of 1 modulo 4 and non-zero trailing
// bits fail, as in decode32.
func decode64(dst, src []byte, rev *[256]byte) ([]byte, bool) {
	if len(src)%4 == 1 {
		return nil, false
	}
	return unpack(dst, src, rev, 6)
}

// unpack concatenates the width-bit values of src's characters (through
// rev) into bytes in dst, failing on a character outside the alphabet, on
// dst overflowing and on non-zero trailing bits.
func unpack(dst, src []byte, rev *[256]byte, width int) ([]byte, bool) {
	var acc uint32
	bits := 0
	n := 0
	for _, c := range src {
		x := rev[c]
		if x == 0xFF {
			return nil, false
		}
		acc = acc<<uint(width) | uint32(x)
		bits += width
		if bits >= 8 {
			bits -= 8
			if n >= len(dst) {
				return nil, false
			}
			dst[n] = byte(acc >> uint(bits))
			n++
		}
		acc &= 1<<uint(bits) - 1
	}
	if acc != 0 {
		return nil, false
	}
	return dst[:n], true
}

// decodeHex decodes an even-length hex string (either case) into dst.
func decodeHex(dst, src []byte) ([]byte, bool) {
	if len(src)%2 != 0 || len(src)/2 > len(dst) {
		return nil, false
	}
	for i := 0; i+1 < len(src); i += 2 {
		h, ok1 := hexVal(src[i])
		l, ok2 := hexVal(src[i+1])
		if !ok1 || !ok2 {
			return nil, false
		}
		dst[i/2] = h<<4 | l
	}
	return dst[:len(src)/2], true
}

func hexVal(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// parseDec parses an all-digit string of at most 9 digits.
func parseDec(b []byte) (uint32, bool) {
	n, ok := parseDigits(b, 9)
	return uint32(n), ok
}

// parseDigits parses a decimal of 1 to maxDigits digits (at most 19).
func parseDigits(b []byte, maxDigits int) (uint64, bool) {
	if len(b) == 0 || len(b) > maxDigits {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

// isNTString reports whether b is a NUL-terminated string of printable
// ASCII: a terminating NUL as its last byte, no other NUL, and nothing
// outside 0x20-0x7E (plus tab, CR, LF) before it.
func isNTString(b []byte) bool {
	if len(b) == 0 || b[len(b)-1] != 0 {
		return false
	}
	for _, c := range b[:len(b)-1] {
		if classTab[c]&cPrint == 0 && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}
