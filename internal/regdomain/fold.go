package regdomain

import "encoding/binary"

// SWAR constants: every byte of a word at once. For a byte x below 0x80,
// x + (0x80 - c) has its high bit set exactly when x >= c, and no carry
// leaves the byte.
const (
	low7s   = 0x7F7F7F7F7F7F7F7F
	highs   = 0x8080808080808080
	geUpA   = 0x3F3F3F3F3F3F3F3F // 0x80 - 'A'
	gtUpZ   = 0x2525252525252525 // 0x80 - ('Z' + 1)
	geLowA  = 0x1F1F1F1F1F1F1F1F // 0x80 - 'a'
	gtLowZ  = 0x0505050505050505 // 0x80 - ('z' + 1)
	caseBit = 0x20
)

// foldASCII writes src with ASCII upper-case letters lowered into dst
// (len(dst) == len(src)) and reports whether src held upper-case and
// lower-case ASCII letters. Other bytes, 0x80-0xFF included, are copied
// as they are (DNS case-insensitivity is ASCII only, RFC 4343).
func foldASCII(dst, src []byte) (hasUpper, hasLower bool) {
	n := len(src)
	if n < 8 {
		for i := 0; i < n; i++ {
			c := src[i]
			if 'A' <= c && c <= 'Z' {
				hasUpper = true
				c += caseBit
			} else if 'a' <= c && c <= 'z' {
				hasLower = true
			}
			dst[i] = c
		}
		return hasUpper, hasLower
	}
	var up, lo uint64
	i := 0
	for ; i+8 <= n; i += 8 {
		u, l := foldWord(dst[i:], src[i:])
		up |= u
		lo |= l
	}
	if i < n {
		// The last, partial word: fold the last 8 bytes again, which
		// rewrites the overlap with the same bytes.
		u, l := foldWord(dst[n-8:], src[n-8:])
		up |= u
		lo |= l
	}
	return up != 0, lo != 0
}

// foldWord folds the first 8 bytes of src into dst and returns the high
// bits of the bytes that were upper-case and lower-case letters.
func foldWord(dst, src []byte) (upper, lower uint64) {
	v := binary.LittleEndian.Uint64(src)
	x := v & low7s
	upper = (x + geUpA) &^ (x + gtUpZ) &^ v & highs
	lower = (x + geLowA) &^ (x + gtLowZ) &^ v & highs
	binary.LittleEndian.PutUint64(dst, v|upper>>2)
	return upper, lower
}
