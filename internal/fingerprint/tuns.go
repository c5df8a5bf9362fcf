package fingerprint

import "github.com/dnsieve/dnsieve/internal/dnswire"

// TUNS (lnussbaum/tuns), IP over DNS in CNAME records. Facts used:
//
//   - lib/tuns/dns.rb: packets are written in base32 (A-Z, 2-7), the
//     padding '=' replaced by a digit (dns_encode), cut into labels of 62
//     characters for the first (which the client prefixes with 'd') and
//     63 for the rest (dns_split).
//   - tuns-client: every query is of type CNAME: "d<data>.<domain>" to
//     send a packet, "r<n>.<domain>" to poll (n counting up).
//   - tuns-server: every answer is a CNAME under the domain: "l<n>" to
//     acknowledge data (n: packets queued for the client), "dzero" when
//     a poll timed out with nothing to send, or "d<data>" with a packet.
//
// A CNAME query of that shape answered by one of those targets is TUNS's.

func tunsMatch(v *view, m *Message) Match {
	if m.QType != typeCNAME || !tunsQuery(v) {
		return Match{}
	}
	if m.Response && tunsAnswer(v, m.Msg) {
		return Match{Tool: Tuns, Strength: Strong, Evidence: EvTunsReply}
	}
	if l0 := v.label(0); l0[0] == 'd' || l0[0] == 'D' {
		return Match{Tool: Tuns, Strength: Weak, Evidence: EvTunsData}
	}
	return Match{}
}

// tunsQuery reports whether the name starts like a TUNS query: "r<n>", or
// "d" and base32 data in labels of 63.
func tunsQuery(v *view) bool {
	l0 := v.label(0)
	switch {
	case len(l0) >= 2 && (l0[0] == 'r' || l0[0] == 'R'):
		_, ok := parseDec(l0[1:])
		return ok
	case len(l0) >= 9 && (l0[0] == 'd' || l0[0] == 'D'):
		k := v.run(0, 63, cRFC32|cDigit)
		return k >= 1 && tunsData(l0[1:]) && (k == 1 || len(l0) == 63)
	}
	return false
}

// tunsData reports whether b is base32 as TUNS writes it: A-Z and 2-7 (of
// either case, a resolver may change it), then padding digits, with a
// digit somewhere (words such as "ownloads" are not data).
func tunsData(b []byte) bool {
	pad, digit := false, false
	for _, c := range b {
		switch {
		case classTab[c]&cRFC32 != 0 && !pad:
			digit = digit || classTab[c]&cDigit != 0
		case c == '0' || c == '9':
			pad, digit = true, true
		default:
			return false
		}
	}
	return digit
}

// tunsAnswer reports whether the first answer of msg is a CNAME whose
// target's first label is "dzero", "l<n>" or "d<base32>", under the
// question's registered domain.
func tunsAnswer(v *view, msg []byte) bool {
	var p dnswire.Parser
	if _, err := p.Start(msg); err != nil {
		return false
	}
	var rr dnswire.ResourceHeader
	if _, err := p.Answer(&rr); err != nil || rr.Type != typeCNAME || rr.DataOffset > len(msg) {
		return false
	}
	var name dnswire.Name
	if _, err := dnswire.ReadName(msg, rr.DataOffset, &name); err != nil || name.Labels() < 2 {
		return false
	}
	l := name.Label(0)
	switch {
	case equalFold(l, "dzero"):
		return true
	case len(l) >= 2 && (l[0] == 'l' || l[0] == 'L'):
		_, ok := parseDec(l[1:])
		return ok
	case len(l) >= 9 && (l[0] == 'd' || l[0] == 'D'):
		return tunsData(l[1:])
	}
	return false
}
