package fingerprint

import "github.com/dnsieve/dnsieve/internal/dnswire"

// Egress-Assess (ChrisTruncer/Egress-Assess, RedSiege/Egress-Assess), its
// two DNS clients. Facts used:
//
//   - protocols/clients/dns_resolved.py (Client.transmit): the data in
//     chunks of 20 bytes, each chunk's base64 with every '=' replaced by
//     ".---", then "." and the domain, type A, through the resolver: a full
//     chunk is 27 base64 characters (160 bits, the last character's two
//     low bits zero) followed by a label "---", which no host name has;
//   - protocols/clients/dns_client.py (Client.transmit): straight to the
//     server, a query built with scapy's DNS(id=15, aa=1, qr=0): ID 15 and
//     the authoritative-answer bit set in a query, type TXT, the name one
//     label of base64 (of the data, or of the file name, ".:|:.", the
//     packet count and the data), and last the name
//     "ENDTHISFILETRANSMISSIONEGRESSASSESS".

// Bounds of Egress-Assess's A-mode chunks: a full chunk's base64 without
// its '=', and the label its padding becomes.
const (
	egressFullChunk = 27
	egressPad       = "---"
	// egressMinChunk is the shortest chunk taken (5 bytes): a host
	// name of three letters before a "---" label is not one.
	egressMinChunk = 7
)

// egressEnd is the name of the TXT client's last query.
const egressEnd = "endthisfiletransmissionegressassess"

// egressAssessMatch recognises the A client's names.
func egressAssessMatch(v *view, m *Message) Match {
	if m.QType != typeA || v.n < 2 || string(v.label(1)) != egressPad {
		return Match{}
	}
	l0 := v.label(0)
	if len(l0)%4 != 3 || len(l0) < egressMinChunk || !all(l0, cB64) {
		return Match{}
	}
	// One '=' cut: two bytes in the last group, two bits of its last
	// character unused.
	if revB64[l0[len(l0)-1]]&3 != 0 {
		return Match{}
	}
	if len(l0) == egressFullChunk {
		return Match{Tool: EgressAssess, Strength: Strong, Evidence: EvEgressAssessChunk}
	}
	return Match{Tool: EgressAssess, Strength: Weak, Evidence: EvEgressAssessChunk}
}

// egressTXTHeader is the ID and flags of the TXT client's queries: ID 15,
// QR clear, AA and RD set.
var egressTXTHeader = [4]byte{0x00, 0x0f, 0x05, 0x00}

// egressAssessTXT recognises the TXT client's queries from the whole
// message: its ID and flags, one TXT question of one label, base64 or
// the end marker.
func egressAssessTXT(msg []byte) Match {
	if len(msg) < 12 || [4]byte(msg[:4]) != egressTXTHeader {
		return Match{}
	}
	var p dnswire.Parser
	var q dnswire.Question
	if _, err := p.Start(msg); err != nil {
		return Match{}
	}
	if err := p.Question(&q); err != nil || q.Type != typeTXT || q.Name.Labels() != 1 {
		return Match{}
	}
	l := q.Name.Label(0)
	if foldEqualPattern(l, egressEnd) {
		return Match{Tool: EgressAssess, Strength: Strong, Evidence: EvEgressAssessTXT}
	}
	end := len(l)
	for k := 0; k < 2 && end > 0 && l[end-1] == '='; k++ {
		end--
	}
	if len(l)%4 != 0 || end == 0 || !all(l[:end], cB64) {
		return Match{}
	}
	return Match{Tool: EgressAssess, Strength: Strong, Evidence: EvEgressAssessTXT}
}
