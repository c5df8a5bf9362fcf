package fingerprint

// chashell (sysdream/chashell). Facts used:
//
//   - lib/transport/encoding.go dnsMarshal: every message is a protobuf
//     sealed with NaCl secretbox; the 24-byte nonce and the box (16 bytes
//     of MAC and the payload) are written in hex and, in a query, cut into
//     labels of 63 characters (splitting.Splits(packetHex, 63)).
//   - lib/transport/dnsclient.go: queries are TXT lookups of that name
//     under the target domain.
//   - cmd/server/chaserv.go parseQuery: the server answers every TXT query
//     with one TXT record whose owner is the root ("."): "-" when it has
//     nothing queued for the client, else the next queued packet, its hex
//     not cut.
//
// A hex name in labels of 63 (an odd size, unlike dnscat2's 60) holding
// at least a nonce and a MAC is consistent with chashell; answered with
// "-" or an unsplit sealed packet, it is chashell's.

// chashellLabel is the size chashell cuts a query's hex into.
const chashellLabel = 63

// chashellMinHex is the hex length of the smallest sealed packet: a
// 24-byte nonce and a 16-byte MAC.
const chashellMinHex = 2 * (24 + 16)

func chashellMatch(v *view, m *Message) Match {
	if m.QType != typeTXT {
		return Match{}
	}
	// When the hex fills its last label, the run takes in the domain's
	// first label if that looks like hex ("c", "abc"): try it one label
	// shorter as well.
	k := v.run(0, chashellLabel, cHex)
	n := 0
	for _, j := range [2]int{k, k - 1} {
		if j < 2 || int(v.ln[j-1]) != chashellLabel && j < k {
			continue
		}
		if src := v.join(0, j); len(src)%2 == 0 && len(src) >= chashellMinHex {
			n = j
			break
		}
	}
	if n == 0 {
		return Match{}
	}
	if m.Response {
		if txt, ok := firstTXT(m.Msg); ok && chashellReply(txt) {
			return Match{Tool: Chashell, Strength: Strong, Evidence: EvChashellReply}
		}
	}
	return Match{Tool: Chashell, Strength: Weak, Evidence: EvChashellPacket}
}

// chashellReply reports whether txt is what chashell's server answers: "-"
// or a sealed packet in hex.
func chashellReply(txt []byte) bool {
	if len(txt) == 1 {
		return txt[0] == '-'
	}
	return len(txt) >= chashellMinHex && len(txt)%2 == 0 && all(txt, cHex)
}
