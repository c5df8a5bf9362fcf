package fingerprint

// DNScapy (Pierre Bienaimé and Pascal Mazon's SSH over DNS with Scapy,
// 0.99b, read in the FedericoCeratto/dnscapy mirror). Facts used, from
// dnscapy_server.py (Parent.master_filter and connection_request,
// Child.master_filter, Core.forge_packet, the Child states' replies):
//
//   - a query name is "[<payload>.<arg>.]<type>.<con>.<n>.<domain>": n a
//     random decimal (the server only checks it is one), con the
//     connection's number (1 to the server's -c, at most 1000), type one
//     letter: "a" connect (written "a.<n>", no con), "b" data to be
//     acknowledged, "c" poll, "d" ask for a reply chunk, "e" done, "f"
//     fast data; arg a chunk number, or "b"/"d" after "e"; the payload is
//     standard base64 in labels of 63. Query type CNAME or TXT;
//   - every answer's owner is the domain itself, not the question, of the
//     question's type, and its data starts with a type letter:
//     "a.<con>.0.<b64>", "a.<con>.<k>", "b.<k>", "c.<count>",
//     "d.<k>.<b64>", "e" or "f.<ranges>" (a name for CNAME, one string for
//     TXT); an NS record "ns.<domain>" follows in the authority section.

// Bounds of dnscapy's decimal labels: the connection number (the server's
// -c allows at most 1000 clients) and the random n.
const (
	dnscapyMaxCon = 1000
	dnscapyMaxN   = 65535
)

func dnscapyMatch(v *view, m *Message) Match {
	if m.QType != typeCNAME && m.QType != typeTXT {
		return Match{}
	}
	end := dnscapyHeader(v)
	if end < 0 {
		return Match{}
	}
	// The header sits right before the domain: several labels of one
	// character after it are nibbles (an IPv6 address reversed for a
	// blocklist, whose digits and a-f make such headers by chance), not a
	// domain's ("t.example.net" has one).
	if singles(v, end, v.n) >= 2 {
		return Match{}
	}
	if m.Response && dnscapyAnswer(v, m, end) {
		return Match{Tool: Dnscapy, Strength: Strong, Evidence: EvDnscapyReply}
	}
	return Match{Tool: Dnscapy, Strength: Weak, Evidence: EvDnscapyQuery}
}

// dnscapyHeader returns the index of the first label after the type, con
// and n labels of a dnscapy query (the domain's labels inside Sub start
// there), or -1 when Sub holds no such header.
func dnscapyHeader(v *view) int {
	for k := 0; k+1 < v.n; k++ {
		l := v.label(k)
		if len(l) != 1 {
			continue
		}
		switch t := lower(l[0]); t {
		case 'a':
			if k == 0 && dnscapyNumber(v.label(1), dnscapyMaxN, false) {
				return 2
			}
		case 'b', 'c', 'd', 'e', 'f':
			if k+2 >= v.n || !dnscapyNumber(v.label(k+1), dnscapyMaxCon, true) || !dnscapyNumber(v.label(k+2), dnscapyMaxN, false) {
				continue
			}
			if t == 'c' {
				if k == 0 {
					return k + 3
				}
				continue
			}
			if k == 0 {
				continue
			}
			arg := v.label(k - 1)
			if _, ok := parseDec(arg); !ok && !(t == 'e' && len(arg) == 1 && (lower(arg[0]) == 'b' || lower(arg[0]) == 'd')) {
				continue
			}
			// Before the argument only the payload's base64 labels (the
			// last of them may be short).
			if singles(v, 0, k-1) >= 2 {
				return -1
			}
			return k + 3
		}
	}
	return -1
}

// singles counts the labels of one character among labels [from, to) of
// v.
func singles(v *view, from, to int) int {
	n := 0
	for i := from; i < to; i++ {
		if v.ln[i] == 1 {
			n++
		}
	}
	return n
}

// dnscapyNumber reports whether l is a decimal of at most max, not 0 when
// positive is set.
func dnscapyNumber(l []byte, max uint32, positive bool) bool {
	if len(l) > 5 {
		return false
	}
	n, ok := parseDec(l)
	return ok && n <= max && (n > 0 || !positive)
}

// dnscapyAnswer reports whether a response's first answer is dnscapy's:
// owned by the domain after the header (labels end onwards, then the
// registered domain), of the question's type, its data starting with a
// type letter alone in its label or string.
func dnscapyAnswer(v *view, m *Message, end int) bool {
	rr, rdata, ok := firstAnswer(m.Msg)
	if !ok || rr.Type != m.QType || len(rdata) < 2 || rdata[1] < 'a' || rdata[1] > 'f' {
		return false
	}
	switch rr.Type {
	case typeCNAME:
		// An uncompressed name whose first label is the letter.
		if rdata[0] != 1 {
			return false
		}
	case typeTXT:
		if int(rdata[0]) > len(rdata)-1 || rdata[0] > 1 && rdata[2] != '.' {
			return false
		}
	}
	// The owner: Sub's labels from end, then the zone.
	owner := rr.Name.Bytes()
	if end < v.n {
		rest := v.sub[v.off[end]:]
		if len(owner) <= len(rest) || owner[len(rest)] != '.' || !foldEqualPattern(owner[:len(rest)], rest) {
			return false
		}
		owner = owner[len(rest)+1:]
	}
	return foldEqualPattern(owner, m.Zone)
}
