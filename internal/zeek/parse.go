package zeek

import (
	"net/netip"
	"strconv"
	"time"
	"unsafe"
)

// unhex returns the value of a hex digit.
func unhex(c byte) (byte, bool) {
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

// appendUnescaped appends s to dst with Zeek's \xNN escapes decoded. Zeek's
// ASCII writer (ODesc::AddBytes) writes every unprintable byte, every
// backslash and every occurrence of the separator (and, inside sets and
// vectors, of the set separator) as \x followed by two hex digits; the JSON
// writer does the same for bytes that are not valid UTF-8. A backslash not
// followed by x and two hex digits is kept as is.
func appendUnescaped(dst, s []byte) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+3 < len(s) && s[i+1] == 'x' {
			hi, ok1 := unhex(s[i+2])
			lo, ok2 := unhex(s[i+3])
			if ok1 && ok2 {
				dst = append(dst, hi<<4|lo)
				i += 3
				continue
			}
		}
		dst = append(dst, c)
	}
	return dst
}

// parseUint parses a decimal number of at most max.
func parseUint(b []byte, max uint64) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (max-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// parseNanos parses a decimal number of seconds ("1591367999.305988",
// "-0.5", "37", "1.5e3") into nanoseconds, exactly when it has no exponent
// (digits after the ninth decimal are truncated). It refuses what int64
// nanoseconds cannot hold (beyond about ±292 years from the epoch).
func parseNanos(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 64 {
		return 0, false
	}
	var sec, frac int64
	i := 0
	for ; i < len(b) && '0' <= b[i] && b[i] <= '9'; i++ {
		if sec > 9_223_372_035 {
			return 0, false
		}
		sec = sec*10 + int64(b[i]-'0')
	}
	intDigits := i
	fracDigits := 0
	if i < len(b) && b[i] == '.' {
		i++
		for ; i < len(b) && '0' <= b[i] && b[i] <= '9'; i++ {
			if fracDigits < 9 {
				frac = frac*10 + int64(b[i]-'0')
				fracDigits++
			}
		}
		if intDigits == 0 && fracDigits == 0 {
			return 0, false
		}
	} else if intDigits == 0 {
		return 0, false
	}
	if i < len(b) {
		if b[i] != 'e' && b[i] != 'E' {
			return 0, false
		}
		return parseNanosExp(b, neg)
	}
	for ; fracDigits < 9; fracDigits++ {
		frac *= 10
	}
	if sec > 9_223_372_035 {
		return 0, false
	}
	n := sec*1e9 + frac
	if neg {
		n = -n
	}
	return n, true
}

// parseNanosExp handles the rare exponent form through float64 (JSON
// writers may use it); precision is that of a float64.
func parseNanosExp(b []byte, neg bool) (int64, bool) {
	f, ok := parseFloat(b)
	if !ok || f != f || f > 9.2e9 || f < -9.2e9 {
		return 0, false
	}
	n := int64(f*1e9 + 0.5)
	if neg {
		n = -n
	}
	return n, true
}

// parseISOTime parses the RFC 3339 form Zeek's JSON writer uses with
// LogAscii::json_timestamps = JSON::TS_ISO8601
// ("2020-06-05T14:39:59.305988Z"), also accepting a numeric offset and a
// space instead of the T. It does not allocate.
func parseISOTime(b []byte) (time.Time, bool) {
	num := func(s []byte) (int, bool) {
		n := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, len(s) > 0
	}
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != 't' && b[10] != ' ') ||
		b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	y, ok1 := num(b[0:4])
	mo, ok2 := num(b[5:7])
	d, ok3 := num(b[8:10])
	h, ok4 := num(b[11:13])
	mi, ok5 := num(b[14:16])
	s, ok6 := num(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 {
		return time.Time{}, false
	}
	rest := b[19:]
	ns, digits := 0, 0
	if len(rest) > 0 && rest[0] == '.' {
		rest = rest[1:]
		for len(rest) > 0 && '0' <= rest[0] && rest[0] <= '9' {
			if digits < 9 {
				ns = ns*10 + int(rest[0]-'0')
				digits++
			}
			rest = rest[1:]
		}
		if digits == 0 {
			return time.Time{}, false
		}
		for ; digits < 9; digits++ {
			ns *= 10
		}
	}
	off := 0
	switch {
	case len(rest) == 1 && (rest[0] == 'Z' || rest[0] == 'z'):
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, ok1 := num(rest[1:3])
		om, ok2 := num(rest[4:6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return time.Time{}, false
		}
		off = (oh*60 + om) * 60
		if rest[0] == '-' {
			off = -off
		}
	default:
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, s, ns, time.UTC)
	return t.Add(-time.Duration(off) * time.Second), true
}

// parseFloat parses a decimal floating-point number without allocating:
// the number is copied into a stack buffer only long enough for the
// conversion (strconv.ParseFloat keeps nothing of its argument).
func parseFloat(b []byte) (float64, bool) {
	if len(b) == 0 || len(b) > 64 {
		return 0, false
	}
	for _, c := range b {
		if !('0' <= c && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E') {
			return 0, false // refuse "inf", "nan", hex floats, underscores
		}
	}
	f, err := strconv.ParseFloat(string(b), 64)
	return f, err == nil
}

// addrCache remembers parsed addresses: dns.log repeats the same clients and
// servers, so steady-state parsing allocates nothing. It is cleared when it
// holds maxCachedAddrs entries.
type addrCache map[string]netip.Addr

const maxCachedAddrs = 1 << 14

// parse returns the address b spells (Zeek writes no zone).
func (c addrCache) parse(b []byte) (netip.Addr, bool) {
	if a, ok := c[string(b)]; ok {
		return a, true
	}
	if len(b) == 0 || len(b) > 45 {
		return netip.Addr{}, false
	}
	for _, ch := range b {
		if !('0' <= ch && ch <= '9' || 'a' <= ch && ch <= 'f' || 'A' <= ch && ch <= 'F' || ch == '.' || ch == ':') {
			return netip.Addr{}, false
		}
	}
	s := string(b)
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	if len(c) >= maxCachedAddrs {
		clear(c)
	}
	c[s] = a
	return a, true
}

// arena hands out strings carved from large append-only chunks, so that the
// strings of a record (uid, answers) cost no allocation of their own. A
// chunk's bytes are written once, before the string over them is made, and
// never modified afterwards, which is what unsafe.String requires; a kept
// string keeps its chunk (arenaChunk bytes) alive.
type arena struct {
	buf []byte
}

const (
	arenaChunk = 64 << 10
	// arenaBig: longer strings get their own allocation.
	arenaBig = 4 << 10
)

// grow makes room for n more bytes in the current chunk and returns it.
func (a *arena) grow(n int) {
	if cap(a.buf)-len(a.buf) < n {
		a.buf = make([]byte, 0, arenaChunk)
	}
}

// str returns b as a string.
func (a *arena) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > arenaBig {
		return string(b)
	}
	a.grow(len(b))
	start := len(a.buf)
	a.buf = append(a.buf, b...)
	return unsafe.String(&a.buf[start], len(b))
}

// unescaped returns s with Zeek's \xNN escapes decoded, as a string.
func (a *arena) unescaped(s []byte) string {
	if len(s) == 0 {
		return ""
	}
	if len(s) > arenaBig {
		return string(appendUnescaped(nil, s))
	}
	a.grow(len(s)) // decoding never makes the text longer
	start := len(a.buf)
	a.buf = appendUnescaped(a.buf, s)
	if len(a.buf) == start {
		return ""
	}
	return unsafe.String(&a.buf[start], len(a.buf)-start)
}
