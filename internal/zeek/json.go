package zeek

import (
	"fmt"
	"time"
	"unicode/utf8"
)

// Zeek's JSON writer (LogAscii::use_json = T) writes one flat object per
// line: record fields flattened with dots ("id.orig_h"), unset optional
// fields omitted (or null with LogAscii::json_include_unset_fields), ports
// and counts as numbers, booleans as true/false, vectors as arrays, ts as
// seconds since the epoch (JSON::TS_EPOCH, the default), integer
// milliseconds (JSON::TS_MILLIS) or an RFC 3339 string (JSON::TS_ISO8601),
// and bytes that are not valid UTF-8 as the text \xNN inside strings.
//
// The parser below reads exactly that: a hand-written RFC 8259 scanner that
// allocates nothing, runs in time linear in the line and skips values of
// unknown fields (nested ones too) without recursion.

// jscan is a cursor over one JSON line.
type jscan struct {
	b []byte
	i int
}

func (s *jscan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next non-blank byte (0 at the end).
func (s *jscan) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// eat consumes c if it is the next non-blank byte.
func (s *jscan) eat(c byte) bool {
	if s.peek() == c {
		s.i++
		return true
	}
	return false
}

// word consumes a literal (true, false, null).
func (s *jscan) word(w string) bool {
	if len(s.b)-s.i >= len(w) && string(s.b[s.i:s.i+len(w)]) == w {
		s.i += len(w)
		return true
	}
	return false
}

// str decodes the string at the cursor (which is at its opening quote),
// appending its bytes to dst. Escapes follow RFC 8259 section 7; a lone
// surrogate becomes U+FFFD, as encoding/json does. Raw bytes are copied
// as they are (Zeek's JSON is UTF-8, but the reader does not insist).
func (s *jscan) str(dst []byte) ([]byte, bool) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return dst, false
	}
	s.i++
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return dst, true
		case c < 0x20:
			return dst, false
		case c != '\\':
			// Copy the run up to the next quote or backslash.
			j := s.i + 1
			for j < len(s.b) && s.b[j] != '"' && s.b[j] != '\\' && s.b[j] >= 0x20 {
				j++
			}
			dst = append(dst, s.b[s.i:j]...)
			s.i = j
			continue
		}
		if s.i+1 >= len(s.b) {
			return dst, false
		}
		e := s.b[s.i+1]
		s.i += 2
		switch e {
		case '"', '\\', '/':
			dst = append(dst, e)
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return dst, false
			}
			if 0xd800 <= r && r < 0xdc00 {
				// A high surrogate: a low one must follow to make a pair.
				save := s.i
				if s.i+1 < len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' {
					s.i += 2
					lo, ok := s.hex4()
					if ok && 0xdc00 <= lo && lo < 0xe000 {
						r = 0x10000 + (r-0xd800)<<10 + (lo - 0xdc00)
					} else {
						s.i = save
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			} else if 0xdc00 <= r && r < 0xe000 {
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
		default:
			return dst, false
		}
	}
	return dst, false
}

// hex4 reads the four hex digits of a \u escape.
func (s *jscan) hex4() (rune, bool) {
	if len(s.b)-s.i < 4 {
		return 0, false
	}
	var r rune
	for k := 0; k < 4; k++ {
		d, ok := unhex(s.b[s.i+k])
		if !ok {
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	s.i += 4
	return r, true
}

// number returns the literal of the number at the cursor, checked against
// the RFC 8259 grammar.
func (s *jscan) number() ([]byte, bool) {
	start := s.i
	b := s.b
	i := s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	default:
		return nil, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == d {
			return nil, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == d {
			return nil, false
		}
	}
	s.i = i
	return b[start:i], true
}

// skip consumes one value of any type. Nesting is tracked with a small
// stack of expected closers, not recursion; more than maxDepth levels are
// refused.
func (s *jscan) skip() bool {
	const maxDepth = 64
	var stack [maxDepth]byte
	depth := 0
	for {
		switch c := s.peek(); c {
		case '"':
			if _, ok := s.skipString(); !ok {
				return false
			}
		case '{', '[':
			if depth == maxDepth {
				return false
			}
			s.i++
			stack[depth] = c + 2 // '{'+2 == '}', '['+2 == ']'
			depth++
			if s.peek() == c+2 {
				s.i++
				depth--
				break
			}
			if c == '{' && !s.member() {
				return false
			}
			continue
		case 't':
			if !s.word("true") {
				return false
			}
		case 'f':
			if !s.word("false") {
				return false
			}
		case 'n':
			if !s.word("null") {
				return false
			}
		default:
			if _, ok := s.number(); !ok {
				return false
			}
		}
		// After a value: closers, then a comma and the next element, or
		// the end of the outermost value.
		for depth > 0 && s.peek() == stack[depth-1] {
			s.i++
			depth--
		}
		if depth == 0 {
			return true
		}
		if !s.eat(',') {
			return false
		}
		if stack[depth-1] == '}' && !s.member() {
			return false
		}
	}
}

// member consumes an object member's name and colon.
func (s *jscan) member() bool {
	if s.peek() != '"' {
		return false
	}
	_, ok := s.skipString()
	return ok && s.eat(':')
}

// skipString consumes a string without decoding it.
func (s *jscan) skipString() (int, bool) {
	start := s.i
	for s.i++; s.i < len(s.b) && s.b[s.i] != '"'; s.i++ {
		if s.b[s.i] == '\\' {
			s.i++
		}
	}
	if s.i >= len(s.b) {
		return 0, false
	}
	s.i++
	return s.i - start, true
}

// jsonErr is a syntax error at the cursor.
func (s *jscan) err(what string) error {
	return fmt.Errorf("%w: %s at byte %d", ErrSyntax, what, s.i+1)
}

// parseJSON reads one JSON line.
func (r *Reader) parseJSON(line []byte, rec *Record) error {
	r.startRecord(rec)
	s := jscan{b: line}
	if !s.eat('{') {
		return s.err("expected {")
	}
	if !s.eat('}') {
		for {
			if s.peek() != '"' {
				return s.err("expected a member name")
			}
			var ok bool
			if r.key, ok = s.str(r.key[:0]); !ok {
				return s.err("bad member name")
			}
			if !s.eat(':') {
				return s.err("expected :")
			}
			f := lookupField(r.key)
			if f == fOther {
				// A nested value in an unknown member is allowed. Before
				// checking, settle the first byte so that errors point
				// at the value.
				if s.peek() == 0 || !s.skip() {
					return s.err("bad value")
				}
			} else if err := r.jsonValue(&s, f, rec); err != nil {
				return err
			}
			if s.eat(',') {
				continue
			}
			if s.eat('}') {
				break
			}
			return s.err("expected , or }")
		}
	}
	if s.peek() != 0 {
		return s.err("data after the object")
	}
	if !r.sawTS {
		return ErrMissingField
	}
	return nil
}

// jsonValue reads the value of a known field.
func (r *Reader) jsonValue(s *jscan, f field, rec *Record) error {
	c := s.peek()
	if c == 'n' {
		if !s.word("null") {
			return s.err("bad literal")
		}
		if f == fTS {
			return ErrMissingField
		}
		return nil
	}
	switch f {
	case fAnswers, fTTLs:
		if !s.eat('[') {
			return valueError(f, "not an array")
		}
		if f == fAnswers {
			r.answers = nonNil(r.answers[:0])
		} else {
			r.ttls = r.ttls[:0]
			if r.ttls == nil {
				r.ttls = make([]float64, 0, 8)
			}
		}
		if !s.eat(']') {
			for {
				s.ws()
				if f == fAnswers {
					var ok bool
					if r.tmp, ok = s.str(r.tmp[:0]); !ok {
						return valueError(f, "element not a string")
					}
					r.answers = append(r.answers, r.arena.unescaped(r.tmp))
				} else {
					lit, ok := s.number()
					if !ok {
						return valueError(f, "element not a number")
					}
					x, ok := parseFloat(lit)
					if !ok {
						return valueError(f, "element out of range")
					}
					r.ttls = append(r.ttls, x)
				}
				if s.eat(',') {
					continue
				}
				if s.eat(']') {
					break
				}
				return s.err("expected , or ]")
			}
		}
		if f == fAnswers {
			rec.Answers = r.answers
		} else {
			rec.TTLs = r.ttls
		}
		return nil
	case fAA, fTC, fRD, fRA, fRejected:
		switch {
		case s.word("true"):
			return r.scalar(f, []byte("T"), rec)
		case s.word("false"):
			return r.scalar(f, []byte("F"), rec)
		}
		return valueError(f, "not a boolean")
	case fQuery, fUID, fProto, fPath, fOrigH, fRespH, fQClassName, fQTypeName, fRCodeName:
		if c != '"' {
			if f == fQClassName || f == fQTypeName || f == fRCodeName {
				if !s.skip() {
					return s.err("bad value")
				}
				return nil
			}
			return valueError(f, "not a string")
		}
		var ok bool
		if r.tmp, ok = s.str(r.tmp[:0]); !ok {
			return s.err("bad string")
		}
		switch f {
		case fOrigH, fRespH:
			return r.scalar(f, r.tmp, rec)
		case fQClassName, fQTypeName, fRCodeName:
			return nil
		}
		return r.stringValue(f, r.tmp, true, rec)
	case fTS:
		if c == '"' {
			var ok bool
			if r.tmp, ok = s.str(r.tmp[:0]); !ok {
				return s.err("bad string")
			}
			return r.scalar(f, r.tmp, rec)
		}
		lit, ok := s.number()
		if !ok {
			return valueError(f, "not a time")
		}
		return r.jsonTime(lit, rec)
	}
	// Numbers: ports, counts, rtt.
	lit, ok := s.number()
	if !ok {
		return valueError(f, "not a number")
	}
	if f == fZ {
		return nil
	}
	return r.scalar(f, lit, rec)
}

// jsonTime reads a numeric ts: seconds, or milliseconds when it is an
// integer of 12 digits or more (JSON::TS_MILLIS; 1e11 seconds would be the
// year 5138).
func (r *Reader) jsonTime(lit []byte, rec *Record) error {
	if len(lit) >= 12 {
		if ms, ok := parseUint(lit, 1<<62); ok {
			rec.Time = time.UnixMilli(int64(ms)).UTC()
			r.sawTS = true
			return nil
		}
	}
	return r.scalar(fTS, lit, rec)
}
