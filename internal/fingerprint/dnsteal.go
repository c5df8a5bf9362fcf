package fingerprint

// dnsteal (m57/dnsteal, version 2.0). Facts used, from the client
// one-liners dnsteal.py prints (p_cmds): the file (gzip-compressed with
// -z) is written in base64 (`base64 -w0`), cut every b characters
// (default 57, option -b), and s such chunks (default 4, option -s) make
// one name, each followed by '-' ("$i-."), then the file name; '+' is
// replaced by '*' (`tr "+" "*"`). Queries are dig's (type A), sent
// straight to the server. A fork prefixes "3x6-.<index>-." to every name.
//
// A host label never ends in '-' (RFC 952/1123) and never holds '*' or
// '/', so labels of base64 with a trailing dash, two or more of one size
// or one of 24 characters or more, are dnsteal's.

// dnstealMinChunk is the shortest chunk taken for data: below it, a label
// ending in '-' is more likely a typo than a chunk.
const dnstealMinChunk = 16

// dnstealStrongChunk is the chunk size from which one chunk alone (-s 1)
// is strong: 24 characters of base64 with a digit, both cases and one of
// '*', '/' or '=' (which base64url, DNSExfiltrator's, never holds; its
// labels end in '-' one time in 64), ending in '-', is no host name.
const dnstealStrongChunk = 24

func dnstealMatch(v *view, _ *Message) Match {
	i := 0
	// The fork's "3x6-.<index>-." prefix.
	if v.n > 2 && equalFold(v.label(0), "3x6-") {
		if l := v.label(1); len(l) < 2 || l[len(l)-1] != '-' {
			return Match{}
		} else if _, ok := parseDec(l[:len(l)-1]); !ok {
			return Match{}
		}
		i = 2
	}
	size, k, full := 0, 0, 0 // full: chunks of the common size
	var upper, lower, digit, std bool
	for ; i < v.n; i++ {
		l := v.label(i)
		// The first chunk must be long enough to be data; the file's
		// last chunk, after full ones, may be as short as a character.
		if k == 0 && len(l) < dnstealMinChunk+1 || len(l) < 2 || l[len(l)-1] != '-' || !dnstealChunk(l[:len(l)-1]) {
			break
		}
		if k > 0 && len(l) != size {
			// Only the last chunk of the file may be shorter, and
			// nothing but the file name follows it.
			if len(l) > size {
				return Match{}
			}
			k++
			i++
			break
		}
		size = len(l)
		k++
		full++
		for _, c := range l {
			cl := classTab[c]
			upper = upper || cl&cUpper != 0
			lower = lower || cl&cLower != 0
			digit = digit || cl&cDigit != 0
			std = std || c == '*' || c == '/' || c == '='
		}
	}
	if k == 0 || i < v.n && v.label(i)[len(v.label(i))-1] == '-' || !upper || !lower || !digit {
		return Match{}
	}
	// Strength comes from the full chunks: a short tail after one chunk
	// ("Download2024Mirror-.eu-") proves nothing.
	if full >= 2 || size-1 >= dnstealStrongChunk && std {
		return Match{Tool: Dnsteal, Strength: Strong, Evidence: EvDnstealChunks, Detail: uint32(size - 1)}
	}
	return Match{Tool: Dnsteal, Strength: Weak, Evidence: EvDnstealChunks, Detail: uint32(size - 1)}
}

// dnstealChunk reports whether b is base64 as dnsteal writes it: the
// standard alphabet with '*' for '+', '=' padding only at the end.
func dnstealChunk(b []byte) bool {
	pad := 0
	for _, c := range b {
		switch {
		case c == '=':
			pad++
		case pad > 0:
			return false
		case c == '*' || c == '/' || classTab[c]&cAlnum != 0:
		default:
			return false
		}
	}
	return pad <= 2 && pad < len(b)
}
