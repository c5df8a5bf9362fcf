package fingerprint

// dns2tcp 0.5.2 (Olivier Dembour, hsc.fr; mirrored as alex-sector/dns2tcp).
// Facts used:
//
//   - common/includes/packet.h t_packet: (uint16) session_id, (uint16)
//     ack_seq, (uint16) seq, (uint8) type; type OK 0x0, DESAUTH 0x1, ERR
//     0x2, NOP 0x4, CHECK_MTU 0x6, flags DATA 0x08, ACK 0x10, NACK 0x20,
//     USE_COMPRESS 0x40. Data follows the 7-byte header.
//   - client/requests.c data2qname: the query name is base64(packet) +
//     "." + domain; common/base64.c uses the RFC 4648 alphabet
//     (A-Za-z0-9+/) and writes no '=' padding.
//   - common/dns.c dns_encode: labels are cut at 63 characters.
//   - common/includes/dns.h: the commands are sent under the sub-domains
//     "=resource.", "=auth." and "=connect."; queries are TXT (16) or KEY
//     (25) (client/rr.c rr_function).
//   - client/requests.c push_req_data: an empty request is a NOP (type
//     0x4), a request with data sets DATA.
//   - The server's TXT answer (seen in the dns2tcp capture of the shared
//     corpus, dmachard/dns2tcp.pcap, every answer): one character ('A'),
//     then the base64 of a packet whose header carries the question's
//     session id.

const dns2tcpLabel = 63

// dns2tcpHeaderChars is the length of the 7-byte header in unpadded
// base64: every dns2tcp query name starts with at least this many.
const dns2tcpHeaderChars = 10

func dns2tcpMatch(v *view, m *Message) Match {
	k := v.run(0, dns2tcpLabel, cB64)
	if k == 0 {
		return Match{}
	}
	src := v.join(0, k)
	// The header starts with a 16-bit session id and sequence numbers, so
	// the base64 always holds upper-case letters ('A' is 0); an all-lower
	// label is an ordinary name, unless the case was lost on the way.
	b, ok := []byte(nil), false
	if some(src, cUpper) {
		b, ok = decode64(v.dec[:], src, &revB64)
	}
	if !ok || !dns2tcpHeader(b) {
		return dns2tcpCaseLost(v, m, k, len(src))
	}
	session := uint32(b[0])<<8 | uint32(b[1])
	hit := Match{Tool: Dns2tcp, Strength: Weak, Evidence: EvDns2tcpPacket, Detail: session}
	if k < v.n && dns2tcpCommand(v.label(k)) {
		hit.Strength, hit.Evidence = Strong, EvDns2tcpCommand
		return hit
	}
	switch m.QType {
	case typeKEY:
		// KEY queries do not occur in ordinary lookups.
		hit.Strength = Strong
	case typeTXT:
		// A full 63-character base64 label decoding to a valid header is
		// no proof: random base64 does so about one time in three, so
		// any exfiltration in base64 TXT queries would look like it. The
		// server's answer, a packet of the same session, is.
		if m.Response && dns2tcpAnswerSession(v, m.Msg, uint16(session)) {
			hit.Strength, hit.Evidence = Strong, EvDns2tcpAnswer
		}
	default:
		return Match{}
	}
	return hit
}

// dns2tcpHeader reports whether the decoded packet b starts with a valid
// header: a known type, DATA only with data, a NOP without.
func dns2tcpHeader(b []byte) bool {
	if len(b) < 7 {
		return false
	}
	t := b[6]
	if !dns2tcpHeaderType(t) {
		return false
	}
	payload := len(b) - 7
	if t&0x08 != 0 && payload == 0 {
		return false
	}
	return !(t&0x07 == 0x4 && t&0x08 == 0 && payload != 0)
}

// dns2tcpCommand reports whether l is one of the labels dns2tcp sends its
// commands under ("=auth", "=connect", "=resource"; any case).
func dns2tcpCommand(l []byte) bool {
	return len(l) > 0 && l[0] == '=' && (equalFold(l, "=auth") || equalFold(l, "=connect") || equalFold(l, "=resource"))
}

// dns2tcpCaseLost matches a message whose base64 no longer decodes to a
// header because its case was changed on the way: Zeek lower-cases query
// names, and resolvers that randomise case (0x20) scramble it. The command
// label after a base64 run at least a header long still names the tool; no
// session is known. Without one, a KEY query (which ordinary lookups do not
// make) with such a run is a weak sign: the name resembles dns2tcp's.
func dns2tcpCaseLost(v *view, m *Message, k, chars int) Match {
	if chars < dns2tcpHeaderChars {
		return Match{}
	}
	if k < v.n && dns2tcpCommand(v.label(k)) {
		return Match{Tool: Dns2tcp, Strength: Strong, Evidence: EvDns2tcpCommand}
	}
	if m.QType == typeKEY && !m.Response {
		return Match{Tool: Dns2tcp, Strength: Weak, Evidence: EvDns2tcpPacket}
	}
	return Match{}
}

// dns2tcpAnswerSession reports whether the first answer of msg is a TXT
// record holding one character and then the base64 of a dns2tcp packet
// of the given session.
func dns2tcpAnswerSession(v *view, msg []byte, session uint16) bool {
	txt, ok := firstTXT(msg)
	if !ok || len(txt) < 1+dns2tcpHeaderChars || !all(txt[1:], cB64) {
		return false
	}
	// Only the header is needed: its first 6 bytes are 8 characters, its
	// type byte the next 8 bits (the 10th character's last 4 bits belong
	// to the data).
	b, ok := decode64(v.dec[:], txt[1:9], &revB64)
	if !ok || len(b) != 6 {
		return false
	}
	hi, lo := revB64[txt[9]], revB64[txt[10]]
	if hi == 0xFF || lo == 0xFF {
		return false
	}
	typ := hi<<2 | lo>>4
	return uint16(b[0])<<8|uint16(b[1]) == session && dns2tcpHeaderType(typ)
}

// dns2tcpHeaderType reports whether t is a valid header type byte: a known
// type with known flags.
func dns2tcpHeaderType(t byte) bool {
	if t&0x80 != 0 {
		return false
	}
	switch t & 0x07 {
	case 0x0, 0x1, 0x2, 0x4, 0x6:
		return true
	}
	return false
}
