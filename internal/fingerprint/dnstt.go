package fingerprint

// dnstt (David Fifield, https://www.bamsoftware.com/software/dnstt/; read
// in the tladesignz/dnstt mirror, dnstt-client/dns.go). Facts used:
//
//   - DNSPacketConn.send: the decoded payload is the 8-byte ClientID, then
//     a padding length prefix 224+n (n = 3 normally, 8 for an empty poll)
//     and n random bytes, then, if there is data, a length byte L < 224
//     and L bytes of packet. It is base32-encoded (RFC 4648 alphabet) with
//     no padding, lower-cased, cut into labels of at most 63 characters and
//     followed by the domain.
//   - The query type is always TXT, with an EDNS(0) OPT record.
//
//   - numPadding is 3 in dnstt and in the forks that copy its client
//     (Xray's xdns); forks that carry their data in EDNS options set it
//     to 0 (numPaddingForPoll stays 8). A query with data never has the
//     poll's 8.
//
// The structure is checked exactly: a data query must end exactly where
// its length byte says, after 0 or 3 bytes of padding (an accident for
// about one random base32 name in 33,000), so it is strong; other padding
// lengths ahead of well-formed data (one in 3,000 or so; two of 5,000
// random DKIM tokens of a mail service held one) are weak. An empty poll
// is only the 0xE8 prefix at a fixed offset (1 in 256), so it stays weak.

const (
	dnsttLabel = 63
	// Padding ahead of a data query's packet: dnstt's numPadding, and
	// that of the forks that carry data in EDNS options.
	dnsttPadding     = 3
	dnsttPaddingEDNS = 0
)

func dnsttMatch(v *view, m *Message) Match {
	if m.QType != typeTXT {
		return Match{}
	}
	k := v.run(0, dnsttLabel, cRFC32)
	if k == 0 {
		return Match{}
	}
	b, ok := decode32(v.dec[:], v.join(0, k), &revRFC32)
	if !ok || len(b) < 9 {
		return Match{}
	}
	rest := b[8:]
	padded := false
	if rest[0] >= 224 {
		n := int(rest[0]) - 224
		if 1+n > len(rest) {
			return Match{}
		}
		rest = rest[1+n:]
		padded = n == dnsttPadding || n == dnsttPaddingEDNS
		if len(rest) == 0 {
			if n == 8 {
				return Match{Tool: Dnstt, Strength: Weak, Evidence: EvDnsttPoll}
			}
			return Match{}
		}
	}
	l := int(rest[0])
	if l >= 224 || len(rest) != 1+l || l == 0 {
		return Match{}
	}
	s := Weak
	if padded {
		s = Strong
	}
	return Match{Tool: Dnstt, Strength: s, Evidence: EvDnsttData, Detail: uint32(l)}
}
