package fingerprint

import "github.com/dnsieve/dnsieve/internal/dnswire"

// dnscat2. Facts used, from iagox86/dnscat2:
//
//   - doc/protocol.md "Encoding": all data is hex, "Any periods in the
//     domain name must be ignored", case-insensitive. "Send / receive": the
//     client either appends the domain ("<encoded data>.<domain>") or
//     prepends the static tag "dnscat." instead. Record types TXT, MX,
//     CNAME, A, AAAA; a TXT answer is "simply the hex-encoded data"; CNAME
//     and MX answers are encoded like the request (tag or domain).
//   - doc/protocol.md "Messages": every packet starts with (uint16)
//     packet_id, (uint8) message_type, (uint16) session_id. Types SYN 0x00
//     (then seq, options, optional NUL-terminated name when OPT_NAME 0x01
//     is set), MSG 0x01 (then seq, ack, data), FIN 0x02 (NUL-terminated
//     reason), ENC 0x03 (uint16 subtype, uint16 flags, then for subtype
//     INIT 0 a 32-byte x and 32-byte y public key, for AUTH 1 a 32-byte
//     authenticator), PING 0xFF (reserved, NUL-terminated data). Options
//     OPT_NAME 0x01, OPT_COMMAND 0x20, OPT_ENCRYPTED 0x40 (0x02-0x10
//     deprecated: client/controller/packet.h).
//   - doc/protocol.md "Stream encapsulation": once encrypted, only the
//     5-byte header is clear; then a 6-byte signature, a 2-byte nonce and
//     the encrypted body.
//   - client/tunnel_drivers/driver_dns.c do_send: MAX_FIELD_LENGTH 62; a
//     '.' is inserted when section_length + 2 >= 62, i.e. after every 60
//     hex characters; WILDCARD_PREFIX "dnscat".

const dnscat2Label = 60 // hex characters per label, driver_dns.c

// dnscat2 message types.
const (
	dc2SYN  = 0x00
	dc2MSG  = 0x01
	dc2FIN  = 0x02
	dc2ENC  = 0x03
	dc2PING = 0xFF
)

// dc2Packet is what dnscat2Header learned about a packet.
type dc2Packet struct {
	typ      byte
	session  uint16
	complete bool // the body is fully consistent (a handshake with nothing random in it)
}

// dnscat2Header checks a decoded packet: a known type and a length the
// type allows, cleartext or encrypted.
func dnscat2Header(b []byte) (dc2Packet, bool) {
	if len(b) < 5 {
		return dc2Packet{}, false
	}
	p := dc2Packet{typ: b[2], session: uint16(b[3])<<8 | uint16(b[4])}
	body := b[5:]
	switch p.typ {
	case dc2SYN:
		if len(b) < 9 {
			return p, false
		}
		opts := uint16(b[7])<<8 | uint16(b[8])
		if opts&^0x7F == 0 {
			if opts&0x01 != 0 {
				p.complete = len(b) > 10 && isNTString(b[9:])
			} else {
				p.complete = len(b) == 9 && opts != 0
			}
		}
		return p, true
	case dc2MSG:
		return p, len(b) >= 9
	case dc2FIN, dc2PING:
		if len(body) < 1 {
			return p, false
		}
		if p.typ == dc2PING || len(body) >= 4 {
			p.complete = len(body) >= 4 && isNTString(body)
		}
		return p, true
	case dc2ENC:
		if len(body) < 4 {
			return p, false
		}
		sub := uint16(body[0])<<8 | uint16(body[1])
		flags := uint16(body[2])<<8 | uint16(body[3])
		p.complete = flags == 0 && ((sub == 0 && len(body) == 4+64) || (sub == 1 && len(body) == 4+32))
		return p, true
	}
	return p, false
}

func dnscat2Match(v *view, m *Message) Match {
	var hexb []byte
	tagged := false
	split := false
	if v.n == 0 {
		// "dnscat.<hex>" with a single data label is, to the public
		// suffix list, a registered domain under an unknown TLD.
		z := m.Zone
		if len(z) < 8 || string(z[:7]) != "dnscat." {
			return Match{}
		}
		tagged = true
		n := 0
		for _, c := range z[7:] {
			if c == '.' {
				continue
			}
			if classTab[c]&cHex == 0 || n >= len(v.joined) {
				return Match{}
			}
			v.joined[n] = c
			n++
		}
		hexb = v.joined[:n]
	} else if equalFold(v.label(0), "dnscat") {
		// "dnscat.<hex>...": no domain, so the registered-domain split put
		// part of the data into Zone.
		tagged = true
		n := 0
		for i := 1; i < v.n; i++ {
			l := v.label(i)
			if !all(l, cHex) {
				return Match{}
			}
			n += copy(v.joined[n:], l)
		}
		for _, c := range m.Zone {
			if c == '.' {
				continue
			}
			if classTab[c]&cHex == 0 || n >= len(v.joined) {
				return Match{}
			}
			v.joined[n] = c
			n++
		}
		hexb = v.joined[:n]
	} else {
		k := v.run(0, dnscat2Label, cHex)
		if k == 0 {
			return Match{}
		}
		split = k > 1
		hexb = v.join(0, k)
	}
	if len(hexb) < 10 {
		return Match{}
	}
	b, ok := decodeHex(v.dec[:], hexb)
	if !ok {
		return Match{}
	}
	p, ok := dnscat2Header(b)
	if !ok {
		return Match{}
	}
	hit := Match{Tool: Dnscat2, Strength: Weak, Evidence: EvDnscat2Packet, Detail: uint32(p.session)}
	switch {
	case tagged:
		hit.Strength, hit.Evidence = Strong, EvDnscat2Tagged
	case p.complete:
		hit.Strength, hit.Evidence = Strong, EvDnscat2Handshake
	case split:
		hit.Strength, hit.Evidence = Strong, EvDnscat2Split
	case m.Response && dnscat2AnswerSession(v, m.Msg, p.session):
		hit.Strength, hit.Evidence = Strong, EvDnscat2Answer
	case len(b) < 9:
		// A short FIN or PING with an odd body: too little to call.
		return Match{}
	}
	return hit
}

// dnscat2AnswerSession reports whether the first answer of msg carries a
// dnscat2 packet (TXT: hex text; CNAME, MX: hex labels before the domain
// or after the tag) for the given session.
func dnscat2AnswerSession(v *view, msg []byte, session uint16) bool {
	var p dnswire.Parser
	if _, err := p.Start(msg); err != nil {
		return false
	}
	var rr dnswire.ResourceHeader
	rdata, err := p.Answer(&rr)
	if err != nil {
		return false
	}
	var hexb []byte
	switch rr.Type {
	case typeA, typeAAAA:
		return dnscat2AddrSession(&p, rr.Type, rdata, session)
	case typeTXT:
		if len(rdata) < 1 || int(rdata[0]) > len(rdata)-1 {
			return false
		}
		hexb = rdata[1 : 1+int(rdata[0])]
	case typeCNAME, typeMX:
		off := rr.DataOffset
		if rr.Type == typeMX {
			off += 2
		}
		if off > len(msg) {
			return false
		}
		var name dnswire.Name
		if _, err := dnswire.ReadName(msg, off, &name); err != nil {
			return false
		}
		n := 0
		start := 0
		if name.Labels() > 0 && equalFold(name.Label(0), "dnscat") {
			start = 1
		}
		for i := start; i < name.Labels(); i++ {
			l := name.Label(i)
			if !all(l, cHex) {
				break
			}
			n += copy(v.joined[n:], l)
		}
		hexb = v.joined[:n]
	default:
		return false
	}
	b, ok := decodeHex(v.dec[:], hexb)
	if !ok {
		return false
	}
	q, ok := dnscat2Header(b)
	return ok && q.session == session
}

// dnscat2AddrSession reads the session from A or AAAA answers: each record
// is a sequence byte and 3 (A) or 15 (AAAA) data bytes, and the data starts
// with a length byte (doc/protocol.md "DNS Record type"). For A the type
// and session are data bytes 1-3 of record 1; for AAAA bytes 3-5 of
// record 0. Records may come in any order.
func dnscat2AddrSession(p *dnswire.Parser, typ uint16, rdata []byte, session uint16) bool {
	var rr dnswire.ResourceHeader
	want := byte(1)
	if typ == typeAAAA {
		want = 0
	}
	for i := 0; i < 64; i++ {
		if (typ == typeA && len(rdata) == 4) || (typ == typeAAAA && len(rdata) == 16) {
			if rdata[0] == want {
				var t byte
				var s uint16
				if typ == typeA {
					t, s = rdata[1], uint16(rdata[2])<<8|uint16(rdata[3])
				} else {
					t, s = rdata[4], uint16(rdata[5])<<8|uint16(rdata[6])
				}
				switch t {
				case dc2SYN, dc2MSG, dc2FIN, dc2ENC, dc2PING:
					return s == session
				}
				return false
			}
		}
		var err error
		rdata, err = p.Answer(&rr)
		if err != nil || rr.Type != typ {
			return false
		}
	}
	return false
}
