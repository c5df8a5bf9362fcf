package fingerprint

import "github.com/dnsieve/dnsieve/internal/dnswire"

// Pupy's DNS command channel, dnscnc (n1nj4sec/pupy,
// pupy/network/lib/picocmd). Facts used, from client.py and server.py:
//
//   - a query is "[<spi>.]<nonce>.<data>.<domain>", type A (the client
//     probes AAAA too; the servers answer A only), each label the RFC 4648
//     base32 of a blob
//     with '=' padding, translated: A-Z to a-z, the digits 2-7 to 1-6,
//     '=' to '9'. So every label is a multiple of 8 characters of a-z and
//     1-6, then the padding '9's;
//   - the session id (spi) is 4 bytes; the nonce label is the 4-byte nonce
//     (protocol 1) or the nonce followed by 13 more encrypted bytes and
//     whatever data did not fit 35 bytes (protocol 2: 17 to 34 bytes); the
//     data label is at most 35 bytes, and exactly 35 when the nonce label
//     carries the rest (_q_page_encoder);
//   - the server answers with A records, each carrying 3 bytes of the
//     reply page (a length byte, then the encrypted data): the record's
//     index in bits 25-29, the bytes in bits 1-24, and bit 0 set exactly
//     when bits 1 and 2 are both clear; the top two bits are random and
//     non-zero. The indices run 0 to n-1 for a page of n records, and the
//     length byte says how many records the page needs. The protocol-1
//     server's pages (at most 48 bytes) put the index in bits 25-28 and a
//     random 1 to 6 in bits 29-31.

// pupyValue returns the value of one character of Pupy's translated base32
// alphabet (either case: resolvers may scramble it).
func pupyValue(c byte) (byte, bool) {
	c = lower(c)
	switch {
	case 'a' <= c && c <= 'z':
		return c - 'a', true
	case '1' <= c && c <= '6':
		return c - '1' + 26, true
	}
	return 0, false
}

// pupyBlob decodes the length of the blob a label holds in Pupy's padded
// base32: bytes, whether the label ends in padding, and whether it is a
// valid encoding at all (length, alphabet, padding count, and the unused
// low bits of the last character zero).
func pupyBlob(l []byte) (bytes int, padded, ok bool) {
	if len(l) == 0 || len(l)%8 != 0 {
		return 0, false, false
	}
	pad := 0
	for pad < len(l) && l[len(l)-1-pad] == '9' {
		pad++
	}
	// '=' count → bytes missing from the last 5-byte group, and the bits
	// of the last character that carry none.
	var missing, unused int
	switch pad {
	case 0:
	case 1:
		missing, unused = 1, 3
	case 3:
		missing, unused = 2, 1
	case 4:
		missing, unused = 3, 4
	case 6:
		missing, unused = 4, 2
	default:
		return 0, false, false
	}
	data := l[:len(l)-pad]
	var last byte
	for _, c := range data {
		x, ok := pupyValue(c)
		if !ok {
			return 0, false, false
		}
		last = x
	}
	if last&(1<<unused-1) != 0 {
		return 0, false, false
	}
	return len(l)/8*5 - missing, pad > 0, true
}

// Blob sizes of the query labels.
const (
	pupySPI          = 4  // the session id; also protocol 1's nonce
	pupyNonceV2Min   = 17 // nonce + version, client id, instance id, node
	pupyNonceV2Max   = 34 // ... and at most 17 bytes of data that did not fit
	pupyDataMax      = 35 // the data label
	pupyMinAnswerSet = 3  // records of a reply page that tell by themselves
)

func pupyMatch(v *view, m *Message) Match {
	if m.QType != typeA && m.QType != typeAAAA || v.n < 2 {
		return Match{}
	}
	b0, pad0, ok := pupyBlob(v.label(0))
	if !ok {
		return Match{}
	}
	b1, pad1, ok := pupyBlob(v.label(1))
	if !ok {
		return Match{}
	}
	// Which labels are which: "<spi>.<nonce>.<data>" or "<nonce>.<data>".
	strong, matched := false, false
	if b0 == pupySPI && (b1 == pupySPI || pupyNonceV2Min <= b1 && b1 <= pupyNonceV2Max) && v.n >= 3 {
		// A session id, then a nonce, then the data. Two labels of 4
		// bytes both end in one '9' after a character of four; a
		// protocol-2 nonce after one is longer still.
		if b2, _, ok := pupyBlob(v.label(2)); ok && pupyDataFits(b1, b2) {
			strong, matched = b1 == pupySPI || pad1, true
		}
	}
	if !matched {
		switch {
		case !pupyDataFits(b0, b1):
			return Match{}
		case pupyNonceV2Min <= b0 && b0 <= pupyNonceV2Max:
			// A protocol-2 nonce, then the data.
			strong = pad0
		case b0 == pupySPI:
			// A protocol-1 nonce, then the data: short, and common
			// looking.
		default:
			return Match{}
		}
	}
	if m.Response && m.QType == typeA && (pupyPage(m.Msg, pupyPageV2) || pupyPage(m.Msg, pupyPageV1)) {
		return Match{Tool: Pupy, Strength: Strong, Evidence: EvPupyPage}
	}
	if strong {
		return Match{Tool: Pupy, Strength: Strong, Evidence: EvPupyQuery}
	}
	return Match{Tool: Pupy, Strength: Weak, Evidence: EvPupyQuery}
}

// pupyDataFits reports whether a data label of data bytes can follow a
// nonce label of nonce bytes: a protocol-2 nonce longer than its 17 bytes
// carries the data that did not fit a full data label.
func pupyDataFits(nonce, data int) bool {
	if nonce > pupyNonceV2Min {
		return data == pupyDataMax
	}
	return data <= pupyDataMax
}

// pupyLayout is where a server writes a reply record's index and random
// top bits.
type pupyLayout struct {
	index    uint32 // mask of the index, after shifting it down by 25
	topShift uint   // the random top bits start here
	topMax   uint32 // and hold at most this (at least 1)
}

var (
	// pupyPageV2: the index in bits 25-29, 1 to 3 in bits 30-31.
	pupyPageV2 = pupyLayout{index: 0x1f, topShift: 30, topMax: 3}
	// pupyPageV1: the index in bits 25-28, 1 to 6 in bits 29-31.
	pupyPageV1 = pupyLayout{index: 0x0f, topShift: 29, topMax: 6}
)

// pupyPage reports whether a response's answers are a Pupy reply page of
// at least pupyMinAnswerSet A records in layout l: indices 0 to n-1 each
// once, every record's low bit right, its top bits in range, and the
// length byte of record 0 needing exactly n records. Random addresses pass
// about once in 10^6 for three records and far less for more; a CDN's
// addresses, which share their first bits, never do.
func pupyPage(msg []byte, l pupyLayout) bool {
	var p dnswire.Parser
	var rr dnswire.ResourceHeader
	if _, err := p.Start(msg); err != nil {
		return false
	}
	var seen uint32
	n, length := 0, -1
	for {
		rdata, err := p.AnswerHeader(&rr)
		if err != nil {
			break
		}
		if rr.Type != typeA || len(rdata) != 4 {
			return false
		}
		raw := uint32(rdata[0])<<24 | uint32(rdata[1])<<16 | uint32(rdata[2])<<8 | uint32(rdata[3])
		idx := raw >> 25 & l.index
		if top := raw >> l.topShift; top == 0 || top > l.topMax {
			return false
		}
		if seen&(1<<idx) != 0 || (raw&1 == 1) != (raw&6 == 0) {
			return false
		}
		seen |= 1 << idx
		if idx == 0 {
			length = int(raw >> 17 & 0xff)
		}
		n++
	}
	return n >= pupyMinAnswerSet && seen == 1<<n-1 && (length+1+2)/3 == n
}
