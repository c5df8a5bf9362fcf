package fingerprint

// Cobalt Strike DNS beacon, default Malleable C2 "dns-beacon" settings.
// Cobalt Strike is closed source; the facts come from its documented
// profile defaults and from the format strings of beacon.dll as quoted in
// public profiles and YARA rules (e.g. the "default cs 4.4 profile" stage
// strings and ditekshen's CobaltStrike rule, read through the code index):
//
//   - get_A "cdn.", get_AAAA "www6.", get_TXT "api." with "%x%x" (hex
//     nonce and beacon id): format strings "cdn.%x%x.%s", "www6.%x%x.%s",
//     "api.%x%x.%s". The prefix tells the record type of the task channel.
//   - put_metadata "www.", put_output "post.": "%s.1%x.%x%x.%s" and
//     "%s.N%08x...%08x.<...>.%x%x.%s", where N (1-4) is the number of data
//     labels that follow, each a run of 8-hex-digit groups (at most 7 per
//     label), then the hex nonce/id label.
//   - dns_idle "0.0.0.0": the A answer that tells the beacon to stay idle;
//     the check-in query is "%d.%s" (decimal id).
//   - dns_stager_subhost ".stage.123456.": stager TXT queries
//     "aaa.stage.123456.<domain>", "baa.stage...." (SigmaHQ rule
//     net_dns_mal_cobaltstrike, Western Australia SOC S0154 notes).
//
// Prefixes are configurable. An upload is recognised under any prefix (a
// short label that is not hex): its data labels keep their layout. Task
// requests, idle answers and stagers are recognised with the defaults
// only.

// cobaltMaxPrefix bounds the prefix label of an upload.
const cobaltMaxPrefix = 16

func cobaltMatch(v *view, m *Message) Match {
	l0 := v.label(0)
	// Stager: "<3 letters>.stage.<digits>".
	for k := 0; k+2 < v.n; k++ {
		if equalFold(v.label(k+1), "stage") {
			c := v.label(k)
			if len(c) == 3 && all(c, cLower) && all(v.label(k+2), cDigit) {
				return Match{Tool: CobaltStrike, Strength: Strong, Evidence: EvCobaltStager}
			}
		}
	}
	if v.n >= 2 {
		switch {
		case equalFold(l0, "cdn"), equalFold(l0, "www6"), equalFold(l0, "api"):
			id := v.label(1)
			if len(id) < 2 || len(id) > 16 || !all(id, cHex) {
				break
			}
			want := uint16(typeA)
			if equalFold(l0, "www6") {
				want = typeAAAA
			} else if equalFold(l0, "api") {
				want = typeTXT
			}
			if m.QType == want {
				return Match{Tool: CobaltStrike, Strength: Weak, Evidence: EvCobaltTask}
			}
		case len(l0) <= cobaltMaxPrefix && !all(l0, cHex):
			// put_metadata and put_output, under the default prefixes
			// ("www", "post") or a profile's own ("d-1ox"): the data
			// labels' layout does not change with the prefix.
			if s := cobaltUpload(v); s != None {
				return Match{Tool: CobaltStrike, Strength: s, Evidence: EvCobaltUpload}
			}
		}
	}
	if m.Response && m.QType == typeA && all(l0, cDigit) && len(l0) <= 10 && cobaltIdle(m.Msg) {
		return Match{Tool: CobaltStrike, Strength: Weak, Evidence: EvCobaltIdle}
	}
	return Match{}
}

// cobaltUpload checks "<prefix>.N<hex>.<hex>...(N labels).<hex id>".
func cobaltUpload(v *view) Strength {
	first := v.label(1)
	if len(first) < 2 || first[0] < '1' || first[0] > '4' {
		return None
	}
	n := int(first[0] - '0')
	// The prefix, n data labels, the id; the C2 domain may be the
	// registered domain itself.
	if v.n < n+2 {
		return None
	}
	if !all(first[1:], cHex) {
		return None
	}
	grouped := len(first[1:])%8 == 0
	for i := 2; i < 1+n; i++ {
		l := v.label(i)
		if !all(l, cHex) || len(l)%8 != 0 || len(l) > 56 {
			return None
		}
	}
	id := v.label(1 + n)
	if len(id) > 16 || !all(id, cHex) {
		return None
	}
	if n >= 2 && grouped {
		return Strong
	}
	return Weak
}

// cobaltIdle reports whether the first answer is A 0.0.0.0.
func cobaltIdle(msg []byte) bool {
	rr, rdata, ok := firstAnswer(msg)
	return ok && rr.Type == typeA && len(rdata) == 4 &&
		rdata[0] == 0 && rdata[1] == 0 && rdata[2] == 0 && rdata[3] == 0
}
