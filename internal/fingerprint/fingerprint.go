package fingerprint

import (
	"strconv"

	"github.com/dnsieve/dnsieve/internal/dnswire"
)

// Tool is a DNS tunnel or DNS C2 tool whose protocol structure the matcher
// knows.
type Tool uint8

// The tools, in the order Classify prefers them when two match with the same
// strength.
const (
	Unknown        Tool = iota // no tool recognised
	Iodine                     // iodine 0.7 (yarrick/iodine), DNS and raw UDP modes
	Dnscat2                    // dnscat2 (iagox86/dnscat2)
	Dns2tcp                    // dns2tcp 0.5 (hsc.fr)
	OzymanDNS                  // OzymanDNS / sshdns (Dan Kaminsky's droute.pl and nomde.pl)
	DNSExfiltrator             // DNSExfiltrator (Arno0x/DNSExfiltrator)
	Dnstt                      // dnstt (David Fifield)
	CobaltStrike               // Cobalt Strike DNS beacon with default Malleable C2 settings
	Sliver                     // Sliver DNS C2 (BishopFox/sliver)
	Godoh                      // godoh (sensepost/godoh), plain DNS
	Dnsteal                    // dnsteal 2.0 (m57/dnsteal) client one-liners
	Chashell                   // chashell (sysdream/chashell)
	DET                        // DET, the Data Exfiltration Toolkit (sensepost/DET), DNS plugin
	Dnspot                     // dnspot (mosajjal/dnspot)
	Tuns                       // TUNS (lnussbaum/tuns), IP over DNS in CNAME records
	TCPOverDNS                 // tcp-over-dns (analogbit)
	DNSShell                   // DNS-Shell (sensepost/DNS-Shell)
	DNSlivery                  // DNSlivery (no0be/DNSlivery), files in TXT answers
	Pupy                       // Pupy's DNS command channel, dnscnc (n1nj4sec/pupy)
	Dnscapy                    // DNScapy, SSH over DNS with Scapy
	NSTX                       // NSTX, IP over DNS (Heinz and Oster)
	PyExfil                    // PyExfil's DNS exfiltration (ytisf/PyExfil)
	EgressAssess               // Egress-Assess's DNS clients (ChrisTruncer/Egress-Assess)
	Mythic                     // Mythic's DNS C2 profile (Poseidon agent)
	numTools
)

var toolNames = [numTools]string{
	Unknown:        "unknown",
	Iodine:         "iodine",
	Dnscat2:        "dnscat2",
	Dns2tcp:        "dns2tcp",
	OzymanDNS:      "ozymandns",
	DNSExfiltrator: "dnsexfiltrator",
	Dnstt:          "dnstt",
	CobaltStrike:   "cobaltstrike",
	Sliver:         "sliver",
	Godoh:          "godoh",
	Dnsteal:        "dnsteal",
	Chashell:       "chashell",
	DET:            "det",
	Dnspot:         "dnspot",
	Tuns:           "tuns",
	TCPOverDNS:     "tcp-over-dns",
	DNSShell:       "dns-shell",
	DNSlivery:      "dnslivery",
	Pupy:           "pupy",
	Dnscapy:        "dnscapy",
	NSTX:           "nstx",
	PyExfil:        "pyexfil",
	EgressAssess:   "egress-assess",
	Mythic:         "mythic",
}

// String returns the tool's lower-case name, e.g. "iodine", or "unknown".
func (t Tool) String() string {
	if t < numTools {
		return toolNames[t]
	}
	return "unknown"
}

// ParseTool returns the Tool named s (as String spells it). "iodine-raw",
// the corpus label for iodine in raw UDP mode, is iodine. ok is false for
// any other name.
func ParseTool(s string) (t Tool, ok bool) {
	if s == "iodine-raw" {
		return Iodine, true
	}
	for i := Tool(1); i < numTools; i++ {
		if toolNames[i] == s {
			return i, true
		}
	}
	return Unknown, false
}

// Strength says how specific a match is.
type Strength uint8

const (
	// None: no tool structure found.
	None Strength = iota
	// Weak: consistent with the tool, but ordinary traffic could look like
	// it (a short hex label, an 8-character base32 label...). Only a
	// pattern over many messages of a domain means something.
	Weak
	// Strong: a structure ordinary traffic does not have (iodine's version
	// handshake, a dnscat2 packet split the way its client splits it, a
	// dns2tcp "=auth" command label...). One such message is evidence.
	Strong
)

// String returns "none", "weak" or "strong".
func (s Strength) String() string {
	switch s {
	case Weak:
		return "weak"
	case Strong:
		return "strong"
	}
	return "none"
}

// Message is what the matcher sees of one DNS message. The slices are only
// read, and only during the call.
type Message struct {
	// Response is the QR bit.
	Response bool
	// QType is the type of the first question.
	QType uint16
	// RCode is the response code.
	RCode uint8
	// Sub is the first question name's labels left of the registered
	// domain, raw case, joined by '.': "paaaevfy.t1" for
	// paaaevfy.t1.biillpi.com. A label may itself contain '.' bytes;
	// SubLabels gives the real boundaries.
	Sub []byte
	// SubLabels holds the length of each label of Sub.
	SubLabels []uint8
	// Zone is the registered domain, lower-cased ("biillpi.com"). It may
	// use a made-up TLD.
	Zone []byte
	// Msg is the whole DNS message; answers are read from it.
	Msg []byte
}

// Match is one message's verdict. The zero Match means nothing matched.
type Match struct {
	Tool     Tool
	Strength Strength
	Evidence Evidence
	// Detail is a number that makes Evidence precise: the protocol version,
	// session or message type; see Evidence.DetailName. It is 0 when
	// Evidence has none.
	Detail uint32
}

// String renders the match for logs, e.g.
// "dnscat2 strong: dnscat2 packet header (session 0x1234)". It allocates;
// call it only when reporting.
func (m Match) String() string {
	if m.Tool == Unknown || m.Strength == None {
		return "unknown"
	}
	s := m.Tool.String() + " " + m.Strength.String() + ": " + m.Evidence.String()
	if name := m.Evidence.DetailName(); name != "" {
		if m.Evidence.DetailHex() {
			s += " (" + name + " 0x" + strconv.FormatUint(uint64(m.Detail), 16) + ")"
		} else {
			s += " (" + name + " " + strconv.FormatUint(uint64(m.Detail), 10) + ")"
		}
	}
	return s
}

// better reports whether a beats b: stronger wins; at equal strength the
// earlier tool in the Tool order does.
func better(a, b Match) bool {
	if a.Strength != b.Strength {
		return a.Strength > b.Strength
	}
	if a.Strength == None {
		return false
	}
	return a.Tool < b.Tool
}

// pick returns x if it beats best, else best.
func pick(best, x Match) Match {
	if better(x, best) {
		return x
	}
	return best
}

// Classify returns the strongest tool structure in m. It does not allocate
// and runs in time linear in the message.
func Classify(m *Message) Match {
	if m == nil {
		return Match{}
	}
	// iodine's raw UDP mode on the DNS port can parse as DNS by accident.
	if r := ClassifyRaw(m.Msg); r.Strength != None {
		return r
	}
	// PyExfil's hand-built queries carry their data after the question,
	// whatever the name.
	if len(m.Msg) > 1 && m.Msg[0] == pyexfilHeader[0] && m.Msg[1] == pyexfilHeader[1] {
		if r := pyexfilMatch(m.Msg); r.Strength != None {
			return r
		}
	}
	// So are Egress-Assess's TXT queries, by their header, to a name of
	// one label.
	if len(m.Msg) > 1 && m.Msg[0] == egressTXTHeader[0] && m.Msg[1] == egressTXTHeader[1] {
		if r := egressAssessTXT(m.Msg); r.Strength != None {
			return r
		}
	}
	var v view
	if !v.init(m) {
		return Match{}
	}
	if v.n == 0 {
		// The whole name is a registered domain; only dnscat2's
		// "dnscat.<hex>" form can hide there.
		return dnscat2Match(&v, m)
	}
	best := iodineMatch(&v, m)
	if best.Strength == Strong {
		// iodine's upstream data in base64 or base128 is strong only by
		// its alphabet; dns2tcp's base64 can share it, and a dns2tcp
		// header that decodes exactly is the more specific fact.
		if genericIodineData(best.Evidence) {
			if d := dns2tcpMatch(&v, m); d.Strength == Strong {
				return d
			}
		}
		return best
	}
	// The gate skips the matchers that cannot match this first label (an
	// ordinary name skips nearly all); a skipped matcher would have
	// returned no match, which never beats best. The matchers run in the
	// Tool order until one is strong; direct calls (not a table of funcs)
	// keep v on the stack.
	g := newGate(&v, m)
	if best.Strength != Strong && g.dnscat2() {
		best = pick(best, dnscat2Match(&v, m))
	}
	if best.Strength != Strong && g.dns2tcp() {
		best = pick(best, dns2tcpMatch(&v, m))
	}
	if best.Strength != Strong && g.ozyman() {
		best = pick(best, ozymanMatch(&v, m))
	}
	if best.Strength != Strong && g.dnsexfil() {
		best = pick(best, dnsexfilMatch(&v, m))
	}
	if best.Strength != Strong && g.dnstt() {
		best = pick(best, dnsttMatch(&v, m))
	}
	if best.Strength != Strong && g.cobalt() {
		best = pick(best, cobaltMatch(&v, m))
	}
	if best.Strength != Strong && g.sliver() {
		best = pick(best, sliverMatch(&v, m))
	}
	if best.Strength != Strong && g.godoh() {
		best = pick(best, godohMatch(&v, m))
	}
	if best.Strength != Strong && g.dnsteal() {
		best = pick(best, dnstealMatch(&v, m))
	}
	if best.Strength != Strong && g.chashell() {
		best = pick(best, chashellMatch(&v, m))
	}
	if best.Strength != Strong && g.det() {
		best = pick(best, detMatch(&v, m))
	}
	if best.Strength != Strong && g.dnspot() {
		best = pick(best, dnspotMatch(&v, m))
	}
	if best.Strength != Strong && g.tuns() {
		best = pick(best, tunsMatch(&v, m))
	}
	if best.Strength != Strong && g.tcpOverDNS() {
		best = pick(best, tcpOverDNSMatch(&v, m))
	}
	if best.Strength != Strong && g.dnsShell() {
		best = pick(best, dnsShellMatch(&v, m))
	}
	if best.Strength != Strong && g.dnslivery() {
		best = pick(best, dnsliveryMatch(&v, m))
	}
	if best.Strength != Strong && g.pupy() {
		best = pick(best, pupyMatch(&v, m))
	}
	if best.Strength != Strong && g.dnscapy() {
		best = pick(best, dnscapyMatch(&v, m))
	}
	if best.Strength != Strong && g.nstx() {
		best = pick(best, nstxMatch(&v, m))
	}
	if best.Strength != Strong && g.egressAssess() {
		best = pick(best, egressAssessMatch(&v, m))
	}
	if best.Strength != Strong && g.mythic() {
		best = pick(best, mythicMatch(&v, m))
	}
	return best
}

// genericIodineData reports the iodine evidence that rests on the upstream
// data's alphabet alone.
func genericIodineData(e Evidence) bool {
	return e == EvIodineDataBase32 || e == EvIodineDataBase64 || e == EvIodineDataBase128
}

// firstAnswer returns the header and data of msg's first answer record.
func firstAnswer(msg []byte) (dnswire.ResourceHeader, []byte, bool) {
	var p dnswire.Parser
	var rr dnswire.ResourceHeader
	if _, err := p.Start(msg); err != nil {
		return rr, nil, false
	}
	rdata, err := p.Answer(&rr)
	return rr, rdata, err == nil
}

// firstTXT returns the first character-string of msg's first answer when
// that answer is a TXT record.
func firstTXT(msg []byte) ([]byte, bool) {
	rr, rdata, ok := firstAnswer(msg)
	if !ok || rr.Type != typeTXT || len(rdata) < 1 || int(rdata[0]) > len(rdata)-1 {
		return nil, false
	}
	return rdata[1 : 1+int(rdata[0])], true
}
