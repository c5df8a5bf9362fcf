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
	if len(l1) == dnsexfilLabel && k >= 2 && !fewSymbols(l1) {
		s = Strong
	}
	return Match{Tool: DNSExfiltrator, Strength: s, Evidence: EvDNSExfilChunk, Detail: chunk}
}

// fewSymbols reports whether label uses 16 distinct characters or fewer.
// DNSExfiltrator's data is base64url or base32 of compressed (and
// optionally encrypted) bytes: 63 such characters use about 40 and 28
// distinct symbols on average, and 16 or fewer by chance almost never. A
// label of 16 symbols is hex in some alphabet, another program's layout
// (Sophos's Mac lookups number their names, then write hex shifted by
// ROT13 in labels of 63).
func fewSymbols(label []byte) bool {
	var seen [2]uint64
	n := 0
	for _, c := range label {
		if c >= 128 {
			return false
		}
		w, b := c>>6, uint64(1)<<(c&63)
		if seen[w]&b == 0 {
			seen[w] |= b
			if n++; n > 16 {
				return false
			}
		}
	}
	return true
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
