package fingerprint

// NSTX (Florian Heinz and Julien Oster's IP over DNS, read in the
// mirrors-git/NSTX mirror). Facts used:
//
//   - nstx.h: every message starts with a 4-byte header whose first byte
//     is the magic 0xb4 (NSTX_MAGIC), then a nibble of sequence and a
//     nibble of channel or fragment count, then an id and flags;
//   - nstx_encode.c nstx_encode: a query's data is written in base64 over
//     the alphabet a-z A-Z - _ 1-9 0, after one character (a, b or c) that
//     counts the padding bytes: 1 + 4k characters, and since the header's
//     0xb4 comes first, the second character is always 'T' and the third
//     the high nibble of the header's second byte ('a' when it is 0);
//   - nstx_dns.c: the data is cut into labels of 63 before the domain, the
//     query type is TXT; the server answers with one TXT record whose
//     strings (of at most 255 bytes) carry the reply message, 0xb4 first,
//     and end with a string of length 0 (_cstringify); an idle tunnel's
//     polls are answered with the header alone (nstxd.c do_timeout).

// nstxMagic is the first byte of every NSTX message; nstxMinLabel the
// characters of the shortest message, the header alone.
const (
	nstxMagic    = 0xb4
	nstxMinLabel = 9
)

func nstxMatch(v *view, m *Message) Match {
	if m.QType != typeTXT {
		return Match{}
	}
	l0 := v.label(0)
	if len(l0) < nstxMinLabel || l0[0] < 'a' || l0[0] > 'c' || l0[1] != 'T' || l0[2] < 'a' || l0[2] > 'p' {
		return Match{}
	}
	k := v.run(0, maxLabel, cB64URL)
	total := 0
	for i := range k {
		total += int(v.ln[i])
	}
	// A message that fills its last label of 63 lets the run go on into
	// the domain's first label: without it, the length holds.
	if total%4 != 1 && (k < 2 || (total-int(v.ln[k-1]))%4 != 1) {
		return Match{}
	}
	if m.Response && nstxReply(m.Msg) {
		return Match{Tool: NSTX, Strength: Strong, Evidence: EvNSTXReply}
	}
	return Match{Tool: NSTX, Strength: Weak, Evidence: EvNSTXQuery}
}

// maxLabel is the longest DNS label (RFC 1035 section 2.3.4).
const maxLabel = 63

// nstxReply reports whether a response's first answer is an NSTX reply:
// a TXT record whose first string starts with the magic byte and whose
// last string is empty.
func nstxReply(msg []byte) bool {
	rr, rdata, ok := firstAnswer(msg)
	if !ok || rr.Type != typeTXT || len(rdata) < 2 || rdata[0] == 0 || rdata[1] != nstxMagic {
		return false
	}
	last := -1
	for len(rdata) > 0 {
		l := int(rdata[0])
		if l > len(rdata)-1 {
			return false
		}
		last, rdata = l, rdata[1+l:]
	}
	return last == 0
}
