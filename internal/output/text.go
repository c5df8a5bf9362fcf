package output

import (
	"strings"
	"unicode/utf8"
)

// SafeText turns attacker-controlled bytes into text that is safe to put in
// a CSV cell, a log line or a terminal: control bytes (below 0x20 and 0x7f),
// invalid UTF-8 and the backslash itself are written as \xNN (backslash as
// \\), so the result is valid UTF-8 on one line and the original bytes can
// be recovered. Printable UTF-8 is kept.
func SafeText(b []byte) string {
	clean := true
	for _, c := range b {
		if c < 0x20 || c == 0x7f || c == '\\' || c >= 0x80 {
			clean = false
			break
		}
	}
	if clean {
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(len(b) + 8)
	const hex = "0123456789abcdef"
	for len(b) > 0 {
		c := b[0]
		switch {
		case c == '\\':
			sb.WriteString(`\\`)
			b = b[1:]
		case c < 0x20 || c == 0x7f:
			sb.WriteString(`\x`)
			sb.WriteByte(hex[c>>4])
			sb.WriteByte(hex[c&15])
			b = b[1:]
		case c < 0x80:
			sb.WriteByte(c)
			b = b[1:]
		default:
			r, size := utf8.DecodeRune(b)
			if r == utf8.RuneError && size <= 1 || invisible(r) {
				// Invalid bytes and characters that hide or reorder
				// text are escaped byte by byte.
				for _, x := range b[:max(size, 1)] {
					sb.WriteString(`\x`)
					sb.WriteByte(hex[x>>4])
					sb.WriteByte(hex[x&15])
				}
				b = b[max(size, 1):]
				continue
			}
			sb.Write(b[:size])
			b = b[size:]
		}
	}
	return sb.String()
}

// NeutralizeFormula prefixes a cell that a spreadsheet would run as a
// formula (starting with =, +, -, @, tab or carriage return; OWASP "CSV
// Injection") with a single quote.
func NeutralizeFormula(s string) string {
	if s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0 {
		return "'" + s
	}
	return s
}

// invisible reports characters that a viewer would not show as what they
// are: C1 controls, the soft hyphen, zero-width characters, line and
// paragraph separators, bidirectional marks, embeddings, overrides and
// isolates, invisible operators and the byte order mark.
func invisible(r rune) bool {
	switch {
	case r >= 0x80 && r < 0xa0, r == 0xad, r == 0x061c, r == 0x180e:
		return true
	case r >= 0x200b && r <= 0x200f, r >= 0x2028 && r <= 0x202e, r >= 0x2060 && r <= 0x2069, r == 0xfeff:
		return true
	}
	return false
}
