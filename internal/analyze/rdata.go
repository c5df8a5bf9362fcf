package analyze

import (
	"bytes"
	"unicode/utf8"

	"github.com/dnsieve/dnsieve/internal/dnswire"
)

// Answer content that looks like encoded data. A downstream channel (a
// stager fetching a payload, a tunnel whose client only polls) can use
// short, ordinary-looking query names and carry everything in the
// answers: TXT strings of base64 or hex, NULL and KEY records, private-use
// types, AAAA records whose addresses no host can have (DNSStager serves a
// payload 16 bytes per AAAA answer to names cdn0, cdn1, ...; A records
// carry 4 bytes each but any IPv4 address is a possible one, so they are
// not counted here: the engine sees such a stager by its sweep of
// numbered names and the spread of its addresses, engine/counter.go).
// Names alone never show it; the content of those answers does.
//
// Ordinary TXT answers are prose ("Listed; see https://..."), addresses
// and tags (SPF, DMARC), or records that start with a tag: "tag=value"
// (DKIM keys, RFC 6376 section 3.6.1; site verification tokens such as
// google-site-verification= and MS=; libp2p's dnsaddr=), "tag:value"
// (Ethereum's node lists, EIP-1459: enr:, enrtree-branch:;
// brevo-code:) and "word_value" (ahrefs-site-verification_, ZOOM_verify_).
// Those are not counted even when their value is a key or a token:
// base64 and hex payloads hold neither ':' nor a '=' before their
// padding (base64url text starts like "word_" about one time in 23, and
// such a record is missed). Answers under an underscore label, the
// question's or the record's own (RFC 8552: ACME challenges, _esni,
// _dnsaddr), are service metadata, and zone transfers and ANY answers
// are not judged (analyze.go).
//
// What evades this measure, on purpose or by cost: a channel that mimics
// a tag, spaces its text, encodes in letters only or in words, or lives
// under underscore names; AAAA payloads behind a routable prefix (two
// bytes of each record given up); binary types not counted here
// (OPENPGPKEY, TLSA, SSHFP, CERT, HTTPS parameters); A records (left to
// engine/counter.go). Its names, record types and answer sizes are still
// measured.

// minDataRun is the shortest run of base64/hex alphabet characters that
// counts as encoded data in a TXT record: shorter tokens (versions,
// counters, short identifiers) are ordinary.
const minDataRun = 24

// minDataDigits is how many digits a run must hold: random base64, base32
// and hex text of minDataRun characters almost always has several, while
// long words and concatenated words have none.
const minDataDigits = 2

// minBinaryData is the shortest NULL, KEY, private-use or TXT content that
// counts.
const minBinaryData = 8

// Record types counted besides TXT and AAAA, the private-use range
// (RFC 6895 section 3.1), and the question types whose answers are not
// judged (zone transfers, RFC 1995 and 5936; ANY).
const (
	typeIXFR      = 251
	typeAXFR      = 252
	typeANY       = 255
	typeKEY       = 25
	privateTypeLo = 65280
	privateTypeHi = 65534
)

// DataAnswer returns how many bytes of one answer record's RDATA look like
// encoded data, given its type, and an FNV-1a hash of that content
// (identical records hash alike; 0 when n is 0). It never reads past
// rdata. Inputs that rebuild messages (Zeek logs) call it too.
func DataAnswer(typ uint16, rdata []byte) (n int, hash uint64) {
	switch {
	case !mayCarryData(typ, rdata):
		return 0, 0
	case typ == dnswire.TypeTXT:
		return txtData(rdata)
	case len(rdata) < minBinaryData:
		return 0, 0
	}
	// Binary content: NULL, KEY, private types, an impossible address.
	return len(rdata), fnvAdd(fnvOffset, rdata)
}

// mayCarryData reports whether DataAnswer can find data in a record: a
// cheap test, inlined in the per-answer loop, that lets the addresses and
// names most answers hold pass without a call.
func mayCarryData(typ uint16, rdata []byte) bool {
	switch typ {
	case dnswire.TypeTXT, dnswire.TypeNULL, typeKEY:
		return true
	case dnswire.TypeAAAA:
		return len(rdata) == 16 && impossibleIPv6(rdata[0])
	}
	return typ >= privateTypeLo && typ <= privateTypeHi
}

// txtData judges a TXT record's character-strings as one text, so that a
// payload cut into short strings is still one payload. A record whose
// first string starts with a tag is one structured value however it is
// split: a 2048-bit DKIM key does not fit one string, and its second
// string is bare base64.
func txtData(rdata []byte) (int, uint64) {
	var sc textScan
	n, h := 0, uint64(fnvOffset)
	for i, first := 0, true; i < len(rdata); first = false {
		l := int(rdata[i])
		i++
		s := rdata[i:min(i+l, len(rdata))]
		i += len(s)
		if first && tagged(s) {
			return 0, 0
		}
		sc.feed(s)
		n += len(s)
		h = fnvAdd(h, s)
	}
	if n < minBinaryData || !sc.binary && !sc.found {
		return 0, 0
	}
	return n, h
}

// textScan looks for encoded data in text fed piece by piece: bytes no
// text holds, or a run of minDataRun base64/base32/hex characters with
// minDataDigits digits in it.
type textScan struct {
	run, digits   int
	found, binary bool
}

func (t *textScan) feed(s []byte) {
	utf8Checked, utf8OK := false, false
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			t.run++
			t.digits++
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_' || c == '+' || c == '/' || c == '=':
			t.run++
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			t.run, t.digits = 0, 0
		case c < 0x20 || c == 0x7f:
			t.binary = true // control bytes: no text record holds them
		case c >= 0x80:
			// Letters of other scripts are text when the string is
			// valid UTF-8; random bytes almost never are.
			if !utf8Checked {
				utf8Checked, utf8OK = true, utf8.Valid(innerRunes(s))
			}
			if !utf8OK {
				t.binary = true
			}
			t.run, t.digits = 0, 0
		default:
			t.run, t.digits = 0, 0
		}
		if t.run >= minDataRun && t.digits >= minDataDigits {
			t.found = true
		}
	}
}

// tagged reports whether a TXT string starts (after a byte order mark,
// spaces, quotes and a zone file's parenthesis pasted by mistake) with a
// tag: "tag=value" (not only base64 padding),
// "tag:value", a word of letters and hyphens followed by '_', or a JSON
// object's first key.
func tagged(s []byte) bool {
	if jsonKeyed(s) {
		return true
	}
	s = bytes.TrimPrefix(s, []byte("\ufeff")) // a byte order mark pasted with the record
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t' || s[0] == '"' || s[0] == '\'' || s[0] == '(') {
		s = s[1:] // and spaces, quotes or a zone file's parenthesis
	}
	letters := true // only letters and hyphens so far
	for i, c := range s {
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-':
		case c >= '0' && c <= '9' || c == '.':
			letters = false
		case c == '_':
			if letters && i >= 4 && i+1 < len(s) {
				return true
			}
			letters = false
		case c == '=':
			return i > 0 && !padding(s[i:])
		case c == ':':
			return i > 0 && isLetter(s[0])
		default:
			return false
		}
		if i >= maxTag {
			return false
		}
	}
	return false
}

// jsonKeyed reports whether s starts like a JSON object, or an array of
// them, with a named first member: '{' (after spaces, or after '[' and
// spaces), a quoted key of at most maxTag bytes, and ':'. Services that
// answer with JSON (CIRCL's hashlookup: {"FileName": ..., "SHA-1": ...})
// hold digests and tokens in structured text, as a tagged record does.
func jsonKeyed(s []byte) bool {
	i := skipBlanks(s, 0)
	if i < len(s) && s[i] == '[' {
		i = skipBlanks(s, i+1)
	}
	if i >= len(s) || s[i] != '{' {
		return false
	}
	i = skipBlanks(s, i+1)
	if i >= len(s) || s[i] != '"' {
		return false
	}
	j := i + 1
	for j < len(s) && j-i <= maxTag && s[j] != '"' && s[j] >= 0x20 && s[j] != 0x7f {
		j++
	}
	if j >= len(s) || s[j] != '"' || j == i+1 {
		return false
	}
	j = skipBlanks(s, j+1)
	return j < len(s) && s[j] == ':'
}

// underscored reports whether a name has a label that starts with '_'
// (RFC 8552's attribute leaves: _domainkey, _acme-challenge, _esni).
func underscored(name []byte) bool {
	return len(name) > 0 && name[0] == '_' || bytes.Contains(name, []byte("._"))
}

// skipBlanks returns the index of the first byte of s from i that is not a
// space, tab or line break.
func skipBlanks(s []byte, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
		i++
	}
	return i
}

// innerRunes drops from s a character cut by a string boundary: up to
// three continuation bytes at the start and an unfinished sequence at the
// end (a record's 255-byte strings may split a character of prose).
func innerRunes(s []byte) []byte {
	for i := 0; i < 3 && len(s) > 0 && s[0]&0xc0 == 0x80; i++ {
		s = s[1:]
	}
	for i := len(s) - 1; i >= 0 && i >= len(s)-3; i-- {
		if s[i]&0xc0 != 0x80 { // the last sequence starts here
			if s[i] >= 0xc0 && !utf8.FullRune(s[i:]) {
				s = s[:i]
			}
			break
		}
	}
	return s
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// impossibleIPv6 reports whether an IPv6 address with first byte b cannot
// be one a host is reached at: outside global unicast (2000::/3, RFC 4291
// section 2.4, which holds 6to4, Teredo and documentation prefixes too),
// unique local (fc00::/7, RFC 4193), link-local and multicast (fe80::/10,
// ff00::/8) and the ::/8 block (unspecified, loopback, IPv4-mapped and
// the NAT64 prefix 64:ff9b::/96 of RFC 6052). Payload bytes carried in
// AAAA answers (DNSStager's IPv6 mode, beacons' AAAA tasking) fall there
// seven times in eight; a sinkhole's :: does not.
func impossibleIPv6(b byte) bool {
	return b != 0 && (b < 0x20 || b > 0x3f) && b < 0xfc
}

// maxTag is the longest leading tag recognised ("_globalsign-domain-
// verification" has 31 characters).
const maxTag = 48

// padding reports whether s is only base64 padding ('=' characters).
func padding(s []byte) bool {
	for _, c := range s {
		if c != '=' {
			return false
		}
	}
	return true
}

// FNV-1a, 64 bit.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// fnvAdd folds b into the FNV-1a hash h.
func fnvAdd(h uint64, b []byte) uint64 {
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return h
}
