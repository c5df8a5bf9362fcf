package fingerprint

// gate holds what one pass over the first label tells about which
// matchers can match at all. Each method is a necessary condition of its
// matcher returning a match, read off that matcher's first checks: when a
// method returns false the matcher would return the zero Match, so
// Classify skips it. gate_test.go checks every method against its matcher.
type gate struct {
	n     int    // labels in Sub (at least 1)
	l0    []byte // the first label
	l1    byte   // the second label's first byte, or 0
	and   uint16 // classes every byte of l0 is in
	or    uint16 // classes some byte of l0 is in
	qtype uint16 // m.QType
	resp  bool   // m.Response
}

// newGate summarises v's first label; v.n must be at least 1.
func newGate(v *view, m *Message) gate {
	g := gate{n: v.n, l0: v.label(0), and: ^uint16(0), qtype: m.QType, resp: m.Response}
	if v.n > 1 && v.ln[1] > 0 {
		g.l1 = v.sub[v.off[1]]
	}
	for _, c := range g.l0 {
		cl := classTab[c]
		g.and &= cl
		g.or |= cl
	}
	return g
}

// runs reports whether a data run starting at the first label can go on
// past it: the run functions continue only after a label of exactly size
// characters, so otherwise the run is the first label alone.
func (g *gate) runs(size int) bool { return len(g.l0) == size }

// dnscat2: the first label is "dnscat", or a hex run of at least 10
// characters starts there (a run of one label is that label).
func (g *gate) dnscat2() bool {
	if g.and&cHex == 0 {
		return equalFold(g.l0, "dnscat")
	}
	return len(g.l0) >= 10 || g.runs(dnscat2Label)
}

// dns2tcp: a base64 run with an upper-case letter starts at the first
// label, or a base64 label is followed by a command label ("=auth"...), or
// starts a KEY query.
func (g *gate) dns2tcp() bool {
	return g.and&cB64 != 0 && (g.or&cUpper != 0 || g.runs(dns2tcpLabel) || g.l1 == '=' || g.qtype == typeKEY && !g.resp)
}

// ozyman: the "<n>-<n>.id-<n>.up|down" labels need three labels.
func (g *gate) ozyman() bool { return g.n >= 3 }

// dnsexfil: "init.<...>", or a decimal chunk number (at most 9 digits)
// in a TXT query, both followed by another label.
func (g *gate) dnsexfil() bool {
	if g.n < 2 {
		return false
	}
	if equalFold(g.l0, "init") {
		return true
	}
	return g.qtype == typeTXT && g.and&cDigit != 0 && len(g.l0) <= 9
}

// dnstt: TXT queries only.
func (g *gate) dnstt() bool { return g.qtype == typeTXT }

// cobalt: the stager and the task and upload prefixes need two labels;
// the idle check-in is a decimal first label of an A response.
func (g *gate) cobalt() bool {
	return g.n >= 2 || (g.resp && g.qtype == typeA && g.and&cDigit != 0 && len(g.l0) <= 10)
}

// sliver: an A or TXT query whose first label starts a Sliver base32 run
// of a length base32 can have, or a base58 run of at least 8 characters
// with both letter cases.
func (g *gate) sliver() bool {
	if g.qtype != typeA && g.qtype != typeTXT {
		return false
	}
	if g.runs(sliverLabel) {
		return g.and&(cSliver32|cSliver58) != 0
	}
	if g.and&cSliver32 != 0 {
		switch len(g.l0) % 8 {
		case 1, 3, 6: // decode32 rejects these lengths
		default:
			return true
		}
	}
	return g.and&cSliver58 != 0 && len(g.l0) >= 8 && g.or&cUpper != 0 && g.or&cLower != 0
}

// godoh: a stream request has nine labels or more, the first 4 hex
// characters; a poll reply is a TXT response.
func (g *gate) godoh() bool {
	return g.n >= 9 && len(g.l0) == 4 && g.and&cHex != 0 || g.resp && g.qtype == typeTXT
}

// dnsteal: the first label is a chunk (ending in '-') or the fork's
// "3x6-" prefix.
func (g *gate) dnsteal() bool {
	return len(g.l0) > dnstealMinChunk && g.l0[len(g.l0)-1] == '-' || equalFold(g.l0, "3x6-")
}

// chashell: a TXT query whose first label is 63 hex characters.
func (g *gate) chashell() bool {
	return g.qtype == typeTXT && len(g.l0) == chashellLabel && g.and&cHex != 0
}

// det: the first label holds a job id and "<jobid>|!|" in hex.
func (g *gate) det() bool { return len(g.l0) >= detHeader && g.or&cHex != 0 }

// dnspot: the first label is 60 letters and digits, and more follow.
func (g *gate) dnspot() bool { return g.n >= 3 && g.runs(dnspotLabel) && g.and&cAlnum != 0 }

// tuns: a CNAME query whose first label starts with 'd' or 'r'.
func (g *gate) tuns() bool {
	return g.qtype == typeCNAME && len(g.l0) >= 2 && (lower(g.l0[0]) == 'd' || lower(g.l0[0]) == 'r')
}

// tcpOverDNS: the first label starts with 'b' or 'h' (the encoding) and
// holds at least the length prefix.
func (g *gate) tcpOverDNS() bool {
	return len(g.l0) > 4 && (g.l0[0] == 'b' || g.l0[0] == 'h') && g.and&cB64URL != 0
}

// dnsShell: the first label is a decimal number.
func (g *gate) dnsShell() bool { return g.and&cDigit != 0 && len(g.l0) <= 10 }

// dnslivery: a TXT response whose first label can be a served file's name
// (letters, digits and '-').
func (g *gate) dnslivery() bool { return g.qtype == typeTXT && g.resp && g.and&cB64URL != 0 }

// pupy: an A or AAAA message whose first label is padded base32 in Pupy's
// alphabet, with another label after it.
func (g *gate) pupy() bool {
	return (g.qtype == typeA || g.qtype == typeAAAA) && g.n >= 2 && len(g.l0)%8 == 0 && g.and&cPupy32 != 0
}

// dnscapy: a CNAME or TXT message with a header of at least two labels.
func (g *gate) dnscapy() bool { return (g.qtype == typeCNAME || g.qtype == typeTXT) && g.n >= 2 }

// nstx: a TXT message whose first label starts "[abc]T".
func (g *gate) nstx() bool { return g.qtype == typeTXT && len(g.l0) >= nstxMinLabel && g.l0[1] == 'T' }

// egressAssess: an A query whose first label has the length of base64 with
// one '=' cut, then a label starting with '-'.
func (g *gate) egressAssess() bool { return g.qtype == typeA && g.l1 == '-' && len(g.l0)%4 == 3 }

// mythic: an A, AAAA or TXT message whose first label is base32 of at
// least mythicMinLabel characters.
func (g *gate) mythic() bool {
	return (g.qtype == typeA || g.qtype == typeAAAA || g.qtype == typeTXT) && len(g.l0) >= mythicMinLabel && g.and&cRFC32 != 0
}
