package fingerprint

// dnspot (mosajjal/dnspot). Facts used:
//
//   - c2/msg.go: a message is a 12-byte header and up to 90 bytes of
//     payload, encrypted (cryptography.go: the sender's 33-byte compressed
//     P-256 public key, then AES-GCM with its 16-byte tag), written as a
//     base36 number (base36.go: digits and lower-case letters), a dot
//     inserted every 60 characters, then "." and the number of dots
//     inserted (insertNth), then the C2 suffix; A queries.
//   - the server answers with CNAME records whose targets are written the
//     same way under the suffix.
//
// A message is at least 61 bytes, so a name has two base36 labels or
// more, all of 60 but the last, followed by a decimal label that counts
// the dots between them: dnspot's.

// dnspotLabel is where insertNth cuts the base36 text.
const dnspotLabel = 60

func dnspotMatch(v *view, _ *Message) Match {
	// Letters of either case: a resolver may randomise them (0x20).
	k := v.run(0, dnspotLabel, cAlnum)
	// When the text fills its last label, the run takes the dot count in
	// too (it is alphanumeric): try the run one label shorter as well.
	for _, n := range [2]int{k, k - 1} {
		if n < 2 || n >= v.n {
			continue
		}
		// insertNth writes the count with %d: no leading zero.
		if l := v.label(n); l[0] != '0' {
			if dots, ok := parseDec(l); ok && dots == uint32(n-1) {
				return Match{Tool: Dnspot, Strength: Strong, Evidence: EvDnspotMessage, Detail: uint32(n)}
			}
		}
	}
	return Match{}
}
