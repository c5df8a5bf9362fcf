package fingerprint

import (
	"encoding/binary"
	"math"

	"github.com/dnsieve/dnsieve/internal/dnswire"
)

// Mythic's DNS C2 profile, as its Poseidon agent speaks it
// (MythicAgents/poseidon, Payload_Type/poseidon/poseidon/agent_code/pkg/
// profiles/dns.go and dnsgrpc/dns.proto). Facts used:
//
//   - every query name is the RFC 4648 base32 (upper case, no padding) of
//     a protobuf DnsPacket, cut into labels of 63 before the domain, type A,
//     AAAA or TXT (streamDNSPacketToServer, getDNSMessageFromServer);
//   - DnsPacket's fields: 1 Action (0 to 3), 2 AgentSessionID, 3 MessageID,
//     4 Size, 5 Begin (uint32 varints), 6 Data (a string: a slice of the
//     base64 of the message), in that order as proto.Marshal writes them,
//     zero values left out; a random session and message id are always
//     there;
//   - the server answers with four records or more told apart by their
//     TTLs 0, 1, 2, 3, ...: TTL 0 holds the session id and TTL 1 the
//     message id, little-endian in an A or AAAA address, in decimal in a
//     TXT string; the agent rejects any other answer.

// Mythic's DnsPacket field numbers.
const (
	mythicAction  = 1
	mythicSession = 2
	mythicMessage = 3
	mythicData    = 6
	// mythicMinData is how many base64 characters of Data make a query
	// strong: random bytes fall in the base64 alphabet one time in four.
	mythicMinData = 16
	// mythicMinLabel is the shortest first label taken: the two ids and a
	// size or an action are at least ten bytes, sixteen characters.
	mythicMinLabel = 16
)

// mythicPacket is what a query's DnsPacket says.
type mythicPacket struct {
	session, message uint32
	data             int // length of the Data field
	dataB64          bool
}

func mythicMatch(v *view, m *Message) Match {
	if m.QType != typeA && m.QType != typeAAAA && m.QType != typeTXT {
		return Match{}
	}
	if len(v.label(0)) < mythicMinLabel {
		return Match{}
	}
	k := v.run(0, maxLabel, cRFC32)
	if k == 0 {
		return Match{}
	}
	raw, ok := decode32(v.dec[:], v.join(0, k), &revRFC32)
	if !ok {
		return Match{}
	}
	pkt, ok := mythicParse(raw)
	if !ok {
		return Match{}
	}
	if m.Response && mythicReply(m.Msg, pkt) {
		return Match{Tool: Mythic, Strength: Strong, Evidence: EvMythicReply}
	}
	if pkt.data >= mythicMinData && pkt.dataB64 {
		return Match{Tool: Mythic, Strength: Strong, Evidence: EvMythicPacket}
	}
	return Match{Tool: Mythic, Strength: Weak, Evidence: EvMythicPacket}
}

// mythicParse reads a DnsPacket exactly as proto.Marshal writes it: fields
// in increasing order, each at most once, varints of uint32 size, the
// session and message ids present, nothing left over.
func mythicParse(b []byte) (mythicPacket, bool) {
	var p mythicPacket
	last := uint64(0)
	have := 0
	for len(b) > 0 {
		key, n, ok := uvarint(b)
		if !ok {
			return p, false
		}
		b = b[n:]
		field, wire := key>>3, key&7
		if field <= last || field > mythicData {
			return p, false
		}
		last = field
		if field == mythicData {
			l, n, ok := uvarint(b)
			if !ok || wire != 2 || l == 0 || uint64(len(b)-n) < l {
				return p, false
			}
			data := b[n : n+int(l)]
			end := len(data)
			for k := 0; k < 2 && end > 1 && data[end-1] == '='; k++ {
				end--
			}
			p.data, p.dataB64 = len(data), all(data[:end], cB64)
			b = b[n+int(l):]
			continue
		}
		x, n, ok := uvarint(b)
		if !ok || wire != 0 || x == 0 || x > 0xffffffff {
			return p, false
		}
		b = b[n:]
		switch field {
		case mythicAction:
			if x > 3 {
				return p, false
			}
		case mythicSession:
			p.session, have = uint32(x), have|1
		case mythicMessage:
			p.message, have = uint32(x), have|2
		}
	}
	return p, have == 3
}

// mythicReply reports whether a response's answers carry, at TTL 0 and 1,
// the session and message ids of its question's packet.
func mythicReply(msg []byte, pkt mythicPacket) bool {
	var p dnswire.Parser
	var rr dnswire.ResourceHeader
	if _, err := p.Start(msg); err != nil {
		return false
	}
	found := 0
	for range 64 {
		rdata, err := p.AnswerHeader(&rr)
		if err != nil || rr.TTL > 1 {
			if err != nil {
				break
			}
			continue
		}
		want := pkt.session
		if rr.TTL == 1 {
			want = pkt.message
		}
		if !mythicValue(rr.Type, rdata, want) {
			return false
		}
		found |= 1 << rr.TTL
	}
	return found == 3
}

// mythicValue reports whether one answer record holds x as Mythic's server
// writes it: the first four bytes of an address, little-endian, or a
// decimal TXT string.
func mythicValue(typ uint16, rdata []byte, x uint32) bool {
	switch {
	case typ == typeA && len(rdata) == 4, typ == typeAAAA && len(rdata) == 16:
		return binary.LittleEndian.Uint32(rdata) == x
	case typ == typeTXT && len(rdata) > 1 && int(rdata[0]) == len(rdata)-1:
		n, ok := parseUint32(rdata[1:])
		return ok && n == x
	}
	return false
}

// parseUint32 parses a decimal uint32 (up to 4294967295; parseDec stops
// at nine digits).
func parseUint32(b []byte) (uint32, bool) {
	n, ok := parseDigits(b, 10)
	return uint32(n), ok && n <= math.MaxUint32
}
