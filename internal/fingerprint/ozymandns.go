package fingerprint

// OzymanDNS (Dan Kaminsky, ozymandns_src_0.1: nomde.pl server, droute.pl
// client). Facts used, from nomde.pl reply_handler: the name is read from
// the right; after the server's own name comes the function label (default
// "sshdns", from -L sshdns:127.0.0.1:22), then the operation "up" or
// "down", then the session id label, then "<offset>-<nonce>", then for "up"
// the data labels, MIME::Base32 (RFC 4648, sent lower case) joined in
// order. "up" queries are type A (answer "<size>.0.0.0"), "down" queries
// TXT (two base64 strings). In captures the id label reads "id-<number>".

func ozymanMatch(v *view, m *Message) Match {
	// Find "<n>-<n>", "id-<n>", "up"|"down" as three consecutive labels.
	for k := 0; k+2 < v.n; k++ {
		op := v.label(k + 2)
		up := equalFold(op, "up")
		if !up && !equalFold(op, "down") {
			continue
		}
		if !isDashPair(v.label(k)) {
			continue
		}
		idl := v.label(k + 1)
		if len(idl) < 4 || !equalFold(idl[:3], "id-") {
			continue
		}
		id, ok := parseDec(idl[3:])
		if !ok {
			continue
		}
		if !up {
			if k == 0 {
				return Match{Tool: OzymanDNS, Strength: Strong, Evidence: EvOzymanDown, Detail: id}
			}
			return Match{}
		}
		if k == 0 {
			return Match{}
		}
		for i := 0; i < k; i++ {
			if !all(v.label(i), cRFC32) {
				return Match{}
			}
		}
		return Match{Tool: OzymanDNS, Strength: Strong, Evidence: EvOzymanUp, Detail: id}
	}
	return Match{}
}

// isDashPair matches "<digits>-<digits>".
func isDashPair(b []byte) bool {
	dash := -1
	for i, c := range b {
		if c == '-' {
			if dash >= 0 {
				return false
			}
			dash = i
		} else if c < '0' || c > '9' {
			return false
		}
	}
	return dash > 0 && dash < len(b)-1 && dash <= 10 && len(b)-dash-1 <= 10
}
