package fingerprint

import "github.com/dnsieve/dnsieve/internal/dnswire"

// TUNS (lnussbaum/tuns), IP over DNS in CNAME records. Facts used:
//
//   - lib/tuns/dns.rb: packets are written in base32 (A-Z, 2-7), the
//     padding '=' replaced by a digit (dns_encode), so the text comes in
//     whole groups of 8; it is cut into labels of 62 characters for the
//     first (which the client prefixes with 'd') and 63 for the rest
//     (dns_split). An IP packet has at least a 20-byte header: 32
//     characters.
//   - tuns-client: every query is of type CNAME: "d<data>.<domain>" to
//     send a packet, "r<n>.<domain>" to poll (n counting up).
//   - tuns-server: every answer is a CNAME under the same domain: "l<n>"
//     acknowledges data (n: packets queued for the client); a poll gets
//     "dzero" when it timed out with nothing to send, or "d<data>" with a
//     packet.
//
// A CNAME query of that shape answered by the matching target under the
// question's own domain is TUNS's.

// tunsMinData is the base32 length of the smallest IP packet (20 bytes).
const tunsMinData = 32

func tunsMatch(v *view, m *Message) Match {
	if m.QType != typeCNAME {
		return Match{}
	}
	poll, data := tunsQuery(v)
	if !poll && !data {
		return Match{}
	}
	if m.Response && tunsAnswer(m, poll) {
		return Match{Tool: Tuns, Strength: Strong, Evidence: EvTunsReply}
	}
	if data {
		return Match{Tool: Tuns, Strength: Weak, Evidence: EvTunsData}
	}
	return Match{}
}

// tunsQuery tells whether the name starts like a TUNS poll ("r<n>") or
// a data query ("d" and base32 in labels of 63).
func tunsQuery(v *view) (poll, data bool) {
	l0 := v.label(0)
	switch {
	case len(l0) >= 2 && (l0[0] == 'r' || l0[0] == 'R'):
		_, ok := parseDec(l0[1:])
		return ok, false
	case len(l0) > tunsMinData && (l0[0] == 'd' || l0[0] == 'D'):
		k := v.run(0, 63, cRFC32|cDigit)
		if k == 0 || k > 1 && len(l0) != 63 {
			return false, false
		}
		n, pad := 0, 0
		for i := 0; i < k; i++ {
			l := v.label(i)
			if i == 0 {
				l = l[1:]
			}
			if pad = tunsData(l, pad); pad < 0 {
				return false, false
			}
			n += len(l)
		}
		return false, n >= tunsMinData && n%8 == 0
	}
	return false, false
}

// tunsMaxPad is the most padding a base32 group has (one byte: 6).
const tunsMaxPad = 6

// tunsData checks a label of base32 as TUNS writes it: A-Z and 2-7 (of
// either case, a resolver may change it), then at most tunsMaxPad padding
// digits, which may begin in an earlier label (dns_split cuts the text
// without regard to them). pad is the padding seen before b; the result is
// the padding after it, or -1 when b breaks the form.
func tunsData(b []byte, pad int) int {
	for _, c := range b {
		switch {
		case classTab[c]&cRFC32 != 0 && pad == 0:
		case c == '0' || c == '9':
			if pad++; pad > tunsMaxPad {
				return -1
			}
		default:
			return -1
		}
	}
	return pad
}

// tunsAnswer reports whether the first answer of m is the CNAME a TUNS
// server gives the query: under the question's registered domain, "dzero"
// or "d<data>" for a poll, "l<n>" for data.
func tunsAnswer(m *Message, poll bool) bool {
	rr, _, ok := firstAnswer(m.Msg)
	if !ok || rr.Type != typeCNAME || rr.DataOffset > len(m.Msg) {
		return false
	}
	var name dnswire.Name
	if _, err := dnswire.ReadName(m.Msg, rr.DataOffset, &name); err != nil || name.Labels() < 2 || !tunsUnder(&name, m.Zone) {
		return false
	}
	l := name.Label(0)
	if !poll {
		if len(l) < 2 || l[0] != 'l' && l[0] != 'L' {
			return false
		}
		_, ok := parseDec(l[1:])
		return ok
	}
	if equalFold(l, "dzero") {
		return true
	}
	if len(l) <= tunsMinData || l[0] != 'd' && l[0] != 'D' {
		return false
	}
	// The packet's labels, up to the domain's.
	n, pad := 0, 0
	for i := 0; i < name.Labels(); i++ {
		d := name.Label(i)
		if i == 0 {
			d = d[1:]
		}
		if len(d) < 63 && i > 0 {
			break
		}
		if pad = tunsData(d, pad); pad < 0 {
			return false
		}
		n += len(d)
	}
	return n >= tunsMinData
}

// tunsUnder reports whether name ends with the registered domain zone.
func tunsUnder(name *dnswire.Name, zone []byte) bool {
	b := name.Bytes()
	if len(zone) == 0 || len(b) <= len(zone) || b[len(b)-len(zone)-1] != '.' {
		return false
	}
	for i, c := range b[len(b)-len(zone):] {
		if lower(c) != lower(zone[i]) {
			return false
		}
	}
	return true
}
