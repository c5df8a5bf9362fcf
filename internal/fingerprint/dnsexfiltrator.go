package fingerprint

// DNSExfiltrator (Arno0x/DNSExfiltrator). Facts used:
//
//   - dnsExfiltrator.cs Main: the first request is "init." +
//     Encode("<fileName>|<nbChunks>") + "." + domainName; then each chunk
//     is "<chunkIndex>." + data cut into labels of labelMaxSize (default 63)
//     + domainName. Requests are TXT only (DnsResolver.GetTXTRecords).
//   - dnsexfiltrator.py: the init label is base32 (from_base32) and is
//     followed by a "base32" or "base64" label naming the data encoding;
//     data is base64url ('/'->'_', '+'->'-', no padding) or base32. The
//     server answers TXT "OK" to init and the chunk number to data.
//   - Older versions (dnsExfiltrator.cs at 6bfa0f63) encode the init payload
//     with Encode (base64url) and send no encoding label.

const dnsexfilLabel = 63

func dnsexfilMatch(v *view, m *Message) Match {
	l0 := v.label(0)
	if equalFold(l0, "init") && v.n >= 2 {
		l1 := v.label(1)
		b, ok := decode32(v.dec[:], l1, &revRFC32)
		if !ok {
			b, ok = decode64(v.dec[:], l1, &revB64URL)
		}
		if !ok {
			return Match{}
		}
		chunks, ok := nameBarCount(b)
		if !ok {
			return Match{}
		}
		if v.n >= 3 && (equalFold(v.label(2), "base64") || equalFold(v.label(2), "base32")) {
			return Match{Tool: DNSExfiltrator, Strength: Strong, Evidence: EvDNSExfilInit, Detail: chunks}
		}
		return Match{Tool: DNSExfiltrator, Strength: Weak, Evidence: EvDNSExfilInit, Detail: chunks}
	}
	chunk, ok := parseDec(l0)
	if !ok || v.n < 2 || m.QType != typeTXT {
		return Match{}
	}
	l1 := v.label(1)
	if len(l1) < 16 || !all(l1, cB64URL) {
		return Match{}
	}
	k := v.run(1, len(l1), cB64URL)
	s := Weak
	if len(l1) == dnsexfilLabel && k >= 2 && !longEncoded(v, 1+k) {
		s = Strong
	}
	return Match{Tool: DNSExfiltrator, Strength: s, Evidence: EvDNSExfilChunk, Detail: chunk}
}

// longEncoded reports whether label i exists and is 16 characters or more
// of base64url: after a chunk's data labels comes the domain name, and a
// domain's label is seldom that. Other lookups that number their names
// carry more encoded labels after a short one (Sophos's Mac lookups:
// "3.<63>.<63>.<26>.<40 hex>.i.00.mac.sophosxl.net").
func longEncoded(v *view, i int) bool {
	return i < v.n && len(v.label(i)) >= 16 && all(v.label(i), cB64URL)
}

// nameBarCount checks "<printable file name>|<decimal chunk count>".
func nameBarCount(b []byte) (uint32, bool) {
	bar := -1
	for i, c := range b {
		if c == '|' {
			bar = i
		}
	}
	if bar < 1 {
		return 0, false
	}
	for _, c := range b[:bar] {
		if classTab[c]&cPrint == 0 {
			return 0, false
		}
	}
	return parseDec(b[bar+1:])
}
