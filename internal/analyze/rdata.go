package analyze

import "github.com/dnsieve/dnsieve/internal/dnswire"

// Answer content that looks like encoded data. A downstream channel (a
// stager fetching a payload, a tunnel whose client only polls) can use
// short, ordinary-looking query names and carry everything in the
// answers: TXT strings of base64 or hex, NULL records, private-use types,
// AAAA records whose addresses no host can have (DNSStager serves a
// payload 16 bytes per AAAA answer to names cdn0, cdn1, ...; A records
// carry 4 bytes each but any IPv4 address is a possible one, so they are
// not counted).
// Names alone never show it; the content of those answers does.
//
// Ordinary TXT answers are prose ("Listed; see https://..."), addresses
// and tags (SPF, DMARC), or "tag=value" records: DKIM keys (RFC 6376
// section 3.6.1), site verification tokens (google-site-verification=,
// MS=, apple-domain-verification=...), libp2p's dnsaddr=. Those are not
// counted even when their value is a key or a token: base64 and hex
// payloads never hold a '=' before their padding, so a leading tag is
// structure that a payload encoder does not produce by itself. (A
// channel that mimics a tag evades this feature; its names and answer
// sizes are still seen.)

// minDataRun is the shortest run of base64/hex alphabet characters that
// counts as encoded data in a TXT string: shorter tokens (versions,
// counters, short identifiers) are ordinary.
const minDataRun = 24

// minDataDigits is how many digits a run must hold: random base64, base32
// and hex text of minDataRun characters almost always has several, while
// long words and concatenated words have none.
const minDataDigits = 2

// minBinaryData is the shortest NULL, private-use or binary TXT content
// that counts.
const minBinaryData = 8

// Private-use record types (RFC 6895 section 3.1).
const (
	privateTypeLo = 65280
	privateTypeHi = 65534
)

// DataAnswer returns how many bytes of an answer's RDATA look like
// encoded data, given its type, and folds them into the FNV-1a hash h
// (so that identical answers hash alike). It never reads past rdata.
// Inputs that rebuild messages (Zeek logs) call it too.
func DataAnswer(typ uint16, rdata []byte, h *uint64) int {
	switch {
	case typ == dnswire.TypeTXT:
		// A record whose first string starts with a tag is one structured
		// value however it is split: a 2048-bit DKIM key does not fit one
		// string, and its second string is bare base64.
		if len(rdata) > 0 && tagged(rdata[1:min(1+int(rdata[0]), len(rdata))]) {
			return 0
		}
		n := 0
		for i := 0; i < len(rdata); {
			l := int(rdata[i])
			i++
			s := rdata[i:min(i+l, len(rdata))]
			i += len(s)
			if dataString(s) {
				n += len(s)
				fnvAdd(h, s)
			}
		}
		return n
	case typ == dnswire.TypeAAAA:
		if len(rdata) != 16 || !impossibleIPv6(rdata[0]) {
			return 0
		}
		fnvAdd(h, rdata)
		return len(rdata)
	case typ == dnswire.TypeNULL || typ >= privateTypeLo && typ <= privateTypeHi:
		if len(rdata) < minBinaryData {
			return 0
		}
		fnvAdd(h, rdata)
		return len(rdata)
	}
	return 0
}

// dataString reports whether one TXT character-string looks like encoded
// data: binary bytes, or a long run of base64/base32/hex characters with
// digits in it, and no leading "tag=".
func dataString(s []byte) bool {
	if len(s) < minBinaryData {
		return false
	}
	if tagged(s) {
		return false
	}
	run, digits, found := 0, 0, false
	for _, c := range s {
		switch {
		case c == '\t' || c == ' ':
			run, digits = 0, 0
		case c < 0x20 || c >= 0x7f:
			return true // binary: no text record holds it
		case c >= '0' && c <= '9':
			run++
			digits++
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_' || c == '+' || c == '/' || c == '=':
			run++
		default:
			run, digits = 0, 0
		}
		if run >= minDataRun && digits >= minDataDigits {
			found = true
		}
	}
	return found
}

// tagged reports whether s starts with "tag=" followed by a value (not
// only padding).
func tagged(s []byte) bool {
	for i, c := range s {
		switch {
		case c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_' || c == '.':
			if i >= maxTag {
				return false
			}
		case c == '=':
			return i > 0 && !padding(s[i:])
		default:
			return false
		}
	}
	return false
}

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

// fnvAdd folds b into the FNV-1a (64 bit) hash h.
func fnvAdd(h *uint64, b []byte) {
	x := *h
	if x == 0 {
		x = 14695981039346656037
	}
	for _, c := range b {
		x ^= uint64(c)
		x *= 1099511628211
	}
	*h = x
}
