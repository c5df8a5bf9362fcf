package fingerprint

import "hash/crc32"

// godoh (sensepost/godoh), its plain-DNS transport. Facts used:
//
//   - protocol/data.go ARequestify: the agent sends a stream as A lookups
//     of "ident.type.seq.crc32.proto.datalen.d1.d2.d3" under the C2
//     domain: ident is 2 random bytes in hex ("%x", 4 characters), type
//     0xbe (start), 0xef (data) or 0xca (end) in hex, seq in decimal
//     (0 for the start), crc32 the IEEE checksum of the chunk ("%02x"),
//     proto 0 (file) or 1 (command), datalen how many of the three data
//     labels carry data (1-3 for data, 0 otherwise); each data label is
//     the hex of up to 30 bytes, and unused ones are "0". The start and
//     end carry the checksum of nothing ("00") and four "0" labels.
//   - protocol/constants.go: TXT answers are "v=B2B3FE1C" (no command),
//     "v=D31CFAA4" (error) or "v=A9F466E8" followed by the command
//     ("v=A9F466E8,p=<hex>", dnsserver); A answers 1.1.1.1 or 1.1.1.2.
//
// DeimosC2's DNS agents (AdvancedThreatAnalytics/DeimosC2, a godoh
// derivative) send the same stream labels and replies, and are named
// godoh.

// godohDataLabel is the length of a full data label: 30 bytes in hex.
const godohDataLabel = 60

func godohMatch(v *view, m *Message) Match {
	if v.n >= 9 {
		if hit := godohStream(v); hit.Strength != None {
			return hit
		}
	}
	if m.Response && m.QType == typeTXT && godohAnswer(m.Msg) {
		return Match{Tool: Godoh, Strength: Strong, Evidence: EvGodohAnswer}
	}
	return Match{}
}

// godohStream matches the first nine labels as one request of a stream.
func godohStream(v *view) Match {
	ident, typ := v.label(0), v.label(1)
	if len(ident) != 4 || !all(ident, cHex) || len(typ) != 2 {
		return Match{}
	}
	start, data, end := equalFold(typ, "be"), equalFold(typ, "ef"), equalFold(typ, "ca")
	if !start && !data && !end {
		return Match{}
	}
	seq, ok := parseDec(v.label(2))
	crcl, proto, count := v.label(3), v.label(4), v.label(5)
	if !ok || len(crcl) < 2 || len(crcl) > 8 || !all(crcl, cHex) ||
		len(proto) != 1 || proto[0] != '0' && proto[0] != '1' || len(count) != 1 || count[0] < '0' || count[0] > '3' {
		return Match{}
	}
	n := int(count[0] - '0')
	id, _ := decodeHex(v.dec[:2], ident)
	detail := uint32(id[0])<<8 | uint32(id[1])
	if !data {
		// The start and end: checksum "00", no data, all labels "0".
		if n != 0 || string(crcl) != "00" || start && seq != 0 {
			return Match{}
		}
		for i := 6; i < 9; i++ {
			if l := v.label(i); len(l) != 1 || l[0] != '0' {
				return Match{}
			}
		}
		return Match{Tool: Godoh, Strength: Strong, Evidence: EvGodohStream, Detail: detail}
	}
	// Data: n labels of hex (all full but the last), then "0" labels;
	// the checksum of their bytes must be the crc label's.
	if n == 0 || seq == 0 {
		return Match{}
	}
	j := 0
	for i := 6; i < 9; i++ {
		l := v.label(i)
		if i-6 >= n {
			if len(l) != 1 || l[0] != '0' {
				return Match{}
			}
			continue
		}
		if len(l) == 0 || len(l)%2 != 0 || len(l) > godohDataLabel || i-6 < n-1 && len(l) != godohDataLabel || !all(l, cHex) {
			return Match{}
		}
		j += copy(v.joined[j:], l)
	}
	b, ok := decodeHex(v.dec[:], v.joined[:j])
	if !ok {
		return Match{}
	}
	var want uint32
	for _, c := range crcl {
		x, _ := hexVal(c)
		want = want<<4 | uint32(x)
	}
	if godohCRC(b) != want {
		return Match{}
	}
	return Match{Tool: Godoh, Strength: Strong, Evidence: EvGodohData, Detail: detail}
}

// godohAnswer reports whether msg's first answer is a TXT record holding
// one of godoh's replies to a poll.
func godohAnswer(msg []byte) bool {
	txt, ok := firstTXT(msg)
	if !ok {
		return false
	}
	switch {
	case string(txt) == "v=B2B3FE1C", string(txt) == "v=D31CFAA4":
		return true
	case len(txt) > len("v=A9F466E8,p=") && string(txt[:len("v=A9F466E8,p=")]) == "v=A9F466E8,p=":
		return true
	}
	return false
}

// ieeeTable is the CRC-32 (IEEE) table.
var ieeeTable = crc32.MakeTable(crc32.IEEE)

// godohCRC is crc32.ChecksumIEEE(b), computed here so that b (a view's
// scratch buffer) does not escape through the library's indirect call.
func godohCRC(b []byte) uint32 {
	crc := ^uint32(0)
	for _, c := range b {
		crc = ieeeTable[byte(crc)^c] ^ crc>>8
	}
	return ^crc
}
