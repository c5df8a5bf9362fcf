package analyze

import (
	"errors"
	"net/netip"

	"github.com/dnsieve/dnsieve/internal/allowlist"
	"github.com/dnsieve/dnsieve/internal/checks"
	"github.com/dnsieve/dnsieve/internal/dnswire"
	"github.com/dnsieve/dnsieve/internal/engine"
	"github.com/dnsieve/dnsieve/internal/fingerprint"
	"github.com/dnsieve/dnsieve/internal/packet"
	"github.com/dnsieve/dnsieve/internal/regdomain"
)

// Counts are the traffic counters that analysis adds up.
type Counts struct {
	Frames, DNSMessages, Queries, Responses, TCPMessages uint64
	Allowlisted, FlaggedNames, Malformed, Skipped        uint64
	Fragments, ICMPQuoted, Reassembled                   uint64
	// Unwrapped counts frames whose packet was taken out of an
	// encapsulation (VXLAN, Geneve, GRE, IP-in-IP: packet.Encapsulated).
	Unwrapped uint64
}

// Add adds o to c.
func (c *Counts) Add(o *Counts) {
	c.Frames += o.Frames
	c.DNSMessages += o.DNSMessages
	c.Queries += o.Queries
	c.Responses += o.Responses
	c.TCPMessages += o.TCPMessages
	c.Allowlisted += o.Allowlisted
	c.FlaggedNames += o.FlaggedNames
	c.Malformed += o.Malformed
	c.Skipped += o.Skipped
	c.Fragments += o.Fragments
	c.ICMPQuoted += o.ICMPQuoted
	c.Reassembled += o.Reassembled
	c.Unwrapped += o.Unwrapped
}

// PortSet is a bitmap of the ports decoded as DNS.
type PortSet [65536 / 64]uint64

// NewPortSet returns the set of the given ports.
func NewPortSet(ports []uint16) *PortSet {
	var s PortSet
	for _, p := range ports {
		s[p/64] |= 1 << (p % 64)
	}
	return &s
}

// Has reports whether p is in the set.
func (s *PortSet) Has(p uint16) bool { return s[p/64]&(1<<(p%64)) != 0 }

// Config is what an Analyzer checks with.
type Config struct {
	Checks *checks.Config
	Allow  *allowlist.List // nil: no allowlist
	Ports  *PortSet
	// Hasher, when set, hashes each observation's names for the engine
	// that will observe it (engine.Hasher), so that the analyzers' goroutines
	// do that work, not the engine's one goroutine.
	Hasher engine.Hasher
}

// Analyzer decodes and checks packets and DNS messages. It is not safe
// for concurrent use: each goroutine owns one. It holds all scratch space,
// so that the hot path allocates nothing.
type Analyzer struct {
	checks *checks.Config
	allow  *allowlist.List
	ports  *PortSet
	hasher engine.Hasher // a copy: read in this goroutine only

	pkt     packet.Packet
	offPort bool          // the last Frame was DNS on a non-DNS port
	inner   packet.Packet // the datagram an ICMP error quotes
	parser  dnswire.Parser
	q       dnswire.Question
	rr      dnswire.ResourceHeader
	target  dnswire.Name
	lens    [dnswire.MaxLabels]uint8
	obsLens [dnswire.MaxLabels]uint8
	split   *regdomain.Splitter
	fpMsg   fingerprint.Message
	// dataRecs backs Observation.DataRecords.
	dataRecs [engine.MaxDataRecords]engine.DataRecord
	// everyOwner decodes and checks every answer owner name, without the
	// shortcut for pointers to the question: the tests' oracle.
	everyOwner bool
}

// New returns an Analyzer.
func New(cfg Config) *Analyzer {
	return &Analyzer{checks: cfg.Checks, allow: cfg.Allow, ports: cfg.Ports, hasher: cfg.Hasher, split: regdomain.New(0)}
}

// FrameKind says what Frame found.
type FrameKind uint8

// What a frame can be.
const (
	// Skipped: not DNS (another protocol, transport or port).
	Skipped FrameKind = iota
	// Malformed: damaged traffic on a DNS port.
	Malformed
	// Fragment: a piece of a fragmented IP datagram (Packet().Frag).
	Fragment
	// UDPDNS: a UDP datagram on a DNS port; Packet().Payload is the message.
	UDPDNS
	// TCPDNS: a TCP segment on a DNS port, for stream reassembly.
	TCPDNS
	// ICMPDNS: an ICMP error quoting a DNS datagram; Inner() holds it.
	ICMPDNS
)

// OffPort reports whether the last Frame was DNS recognised by its content
// on a port that is not a DNS port.
func (a *Analyzer) OffPort() bool { return a.offPort }

// LooksLikeDNS tells whether a UDP payload on another port is a DNS
// message, cheaply enough for every such datagram: the header must be that
// of a standard query or response with one question (RFC 1035 section
// 4.1.1: random data passes this with a probability below 1 in 10^7), and
// the question must decode to a name of at least two labels with class IN
// (or ANY/NONE), ending inside the datagram; a query must end right after
// its question and an optional EDNS OPT record. Single-label names are left
// out: NetBIOS name service (port 137) shares the header but encodes
// 32-byte single labels.
func (a *Analyzer) LooksLikeDNS(b []byte) bool {
	if len(b) < dnswire.HeaderLen+6 {
		return false
	}
	flags := uint16(b[2])<<8 | uint16(b[3])
	qd := uint16(b[4])<<8 | uint16(b[5])
	an := uint16(b[6])<<8 | uint16(b[7])
	ns := uint16(b[8])<<8 | uint16(b[9])
	ar := uint16(b[10])<<8 | uint16(b[11])
	opcode := flags >> 11 & 0xF
	if qd != 1 || opcode != 0 || flags&0x0040 != 0 { // one question, QUERY, Z clear
		return false
	}
	response := flags&0x8000 != 0
	if !response && (an != 0 || ns != 0 || ar > 1 || flags&0x000F != 0) {
		return false
	}
	if response && (an > 256 || ns > 256 || ar > 256) {
		return false
	}
	next, err := dnswire.ReadName(b, dnswire.HeaderLen, &a.target)
	if err != nil || a.target.Labels() < 2 || next+4 > len(b) {
		return false
	}
	class := uint16(b[next+2])<<8 | uint16(b[next+3])
	if class != 1 && class != 254 && class != 255 {
		return false
	}
	end := next + 4
	if !response && ar == 0 && end != len(b) {
		return false
	}
	if !response && ar == 1 && (end+11 > len(b) || b[end] != 0 || b[end+1] != 0 || b[end+2] != 41) { // root owner, TYPE OPT
		return false
	}
	return true
}

// Packet returns the packet the last Frame decoded.
func (a *Analyzer) Packet() *packet.Packet { return &a.pkt }

// Inner returns the datagram quoted by the ICMP error of the last Frame.
func (a *Analyzer) Inner() *packet.Packet { return &a.inner }

// Frame decodes a frame down to its transport and classifies it; Packet
// (and Inner, for ICMPDNS) hold the result until the next call.
func (a *Analyzer) Frame(linkType uint16, frame []byte) FrameKind {
	err := packet.Decode(linkType, frame, &a.pkt)
	p := &a.pkt
	if err != nil {
		switch {
		case errors.Is(err, packet.ErrFragment):
			return Fragment
		case errors.Is(err, packet.ErrNotTransport) && (p.Proto == packet.ProtoICMP || p.Proto == packet.ProtoICMPv6):
			in := &a.inner
			if e := packet.ICMPQuote(p, in); (e == nil || errors.Is(e, packet.ErrTruncated)) && in.Proto == packet.ProtoUDP &&
				!in.Frag.IsFragment && (a.ports.Has(in.SrcPort) || a.ports.Has(in.DstPort)) {
				return ICMPDNS
			}
			return Skipped
		case errors.Is(err, packet.ErrNotIP), errors.Is(err, packet.ErrNotTransport),
			errors.Is(err, packet.ErrUnsupportedLinkType):
			return Skipped
		}
		// A damaged frame: malformed if what could be read of it was
		// headed for a DNS port, skipped otherwise.
		if (p.Proto == packet.ProtoUDP || p.Proto == packet.ProtoTCP) && (a.ports.Has(p.SrcPort) || a.ports.Has(p.DstPort)) {
			return Malformed
		}
		return Skipped
	}
	if p.Frag.IsFragment {
		return Fragment
	}
	a.offPort = false
	if !a.ports.Has(p.SrcPort) && !a.ports.Has(p.DstPort) {
		// DNS on another port (a tunnel on 5353, 443/udp or a random high
		// port) is recognised by content.
		if p.Proto == packet.ProtoUDP && (a.LooksLikeDNS(p.Payload) || fingerprint.ClassifyRaw(p.Payload).Strength == fingerprint.Strong) {
			a.offPort = true
			return UDPDNS
		}
		return Skipped
	}
	switch p.Proto {
	case packet.ProtoUDP:
		return UDPDNS
	case packet.ProtoTCP:
		return TCPDNS
	}
	return Skipped
}

// Message parses one DNS message, checks its names (see checkName for
// which), and describes it in obs for the behavioural engine: obs.Name and
// obs.Labels point into the analyzer's scratch space until the next call;
// the caller sets the addresses, time and file. It returns false when msg
// is not a DNS message, and sets *allowed when every question is
// allowlisted (the engine then does not see it).
func (a *Analyzer) Message(msg []byte, c *Counts, obs *engine.Observation, allowed *bool) (checks.Result, bool) {
	var res checks.Result
	*allowed = false
	h, err := a.parser.Start(msg)
	if err != nil {
		c.Malformed++
		return res, false
	}
	c.DNSMessages++
	if h.Response() {
		c.Responses++
	} else {
		c.Queries++
	}
	*obs = engine.Observation{Response: h.Response(), RCode: h.RCode(), Size: len(msg)}
	questions, allowlisted := 0, 0
	var qFired checks.Reason // the checks the last question's name trips
	for a.parser.Question(&a.q) == nil {
		// ErrSectionDone ends the questions; any other error is a damaged
		// question section, and what was read still counts.
		questions++
		if a.allow.Contains(a.q.Name.Bytes()) {
			allowlisted++
			continue
		}
		if questions-allowlisted == 1 {
			a.describe(&a.q, msg, obs)
		}
		qFired = a.fired(&a.q.Name, allReasons)
		a.count(a.checks.Result(qFired, allReasons), &res, c)
	}
	c.Allowlisted += uint64(allowlisted)
	if obs.Name == nil {
		// No question to judge: a raw tunnel packet may still parse as a
		// DNS header by chance (iodine's raw mode on port 53).
		obs.Match = fingerprint.ClassifyRaw(msg)
	}
	if questions > 0 && allowlisted == questions {
		*allowed = true
		return res, true
	}
	// Most answers are owned by a pointer to the question's name, which
	// was decoded already: its answer checks are run once.
	oneQuestion := h.QDCount == 1 && questions == 1
	// Answer content counts in responses to ordinary questions (not zone
	// transfers or ANY), except under an underscore label anywhere in the
	// question's name or the record's (service metadata, RFC 8552: ACME
	// challenges, _esni, s1._domainkey; see rdata.go).
	dataAnswers := h.Response() && !underscored(obs.Name) &&
		obs.QType != typeIXFR && obs.QType != typeAXFR && obs.QType != typeANY
	// An answer owned by the question's name takes the answer checks of
	// the question's pass.
	qAnswer := a.checks.Result(qFired, answerReasons)
	for left := h.ANCount; left > 0; left-- {
		rdata, err := a.parser.AnswerHeader(&a.rr)
		if err != nil {
			break
		}
		obs.AnswerData += len(rdata)
		if a.rr.Type == dnswire.TypeA && len(rdata) == 4 {
			obs.AddAnswerV4(rdata[0])
		}
		if !obs.Answer.IsValid() {
			switch {
			case a.rr.Type == dnswire.TypeA && len(rdata) == 4:
				obs.Answer = netip.AddrFrom4([4]byte(rdata))
			case a.rr.Type == dnswire.TypeAAAA && len(rdata) == 16:
				obs.Answer = netip.AddrFrom16([16]byte(rdata))
			}
		}
		metaOwner := false
		if own := a.rr.NameOffset; oneQuestion && !a.everyOwner && msg[own] == 0xC0 && msg[own+1] == dnswire.HeaderLen {
			a.count(qAnswer, &res, c)
		} else if _, err := dnswire.ReadName(msg, own, &a.target); err == nil {
			a.checkName(&a.target, &res, c, answerReasons)
			metaOwner = underscored(a.target.Bytes())
		}
		if dataAnswers && !metaOwner && mayCarryData(a.rr.Type, rdata) {
			if n, h := DataAnswer(a.rr.Type, rdata); n > 0 {
				obs.AddDataRecord(&a.dataRecs, n, h)
			}
		}
		skip := -1
		switch a.rr.Type {
		case dnswire.TypeCNAME, dnswire.TypeNS, dnswire.TypePTR, dnswire.TypeDNAME:
			skip = 0
		case dnswire.TypeMX:
			skip = 2
		case dnswire.TypeSRV:
			skip = 6
		}
		if skip >= 0 && len(rdata) > skip {
			if _, err := dnswire.ReadName(msg, a.rr.DataOffset+skip, &a.target); err == nil {
				a.checkName(&a.target, &res, c, answerReasons)
			}
		}
	}
	// EDNS (RFC 6891): the OPT record's options can carry data that no
	// name shows (a carrier some tunnels use); count their bytes, the
	// padding option (RFC 7830) included.
	if h.ARCount > 0 {
		for left := h.ARCount; left > 0; left-- {
			rdata, err := a.parser.Additional(&a.rr)
			if err != nil {
				break
			}
			if a.rr.Type == dnswire.TypeOPT {
				obs.EDNSData += len(rdata)
			}
		}
	}
	obs.Flagged = res.Level != checks.None
	return res, true
}

// describe fills the engine's view of the message's first question: the
// name lowercased and split at its registered domain, and what the
// fingerprints recognise in it.
func (a *Analyzer) describe(q *dnswire.Question, msg []byte, obs *engine.Observation) {
	n := &q.Name
	labels := min(n.Labels(), len(a.lens))
	for i := 0; i < labels; i++ {
		a.obsLens[i] = uint8(len(n.Label(i)))
	}
	raw := n.Bytes()
	// One pass lowercases the name and notes its letter cases (a Name
	// holds at most 253 bytes, so the splitter sees all of them).
	lower, start, mixed := a.split.SplitCase(raw, a.obsLens[:labels])
	obs.Name, obs.Labels, obs.RegStart = lower, a.obsLens[:labels], start
	obs.QType = q.Type
	obs.MixedCase = mixed
	a.hasher.Hash(obs)
	fm := &a.fpMsg
	*fm = fingerprint.Message{Response: obs.Response, QType: q.Type, RCode: obs.RCode, Msg: msg, Zone: lower[start:]}
	if start > 1 {
		fm.Sub = raw[:start-1]
		fm.SubLabels = a.obsLens[:subLabels(a.obsLens[:labels], start)]
	}
	obs.Match = fingerprint.Classify(fm)
}

// subLabels counts the labels that lie left of the byte offset start.
func subLabels(lens []uint8, start int) int {
	off := 0
	for i, l := range lens {
		if off >= start {
			return i
		}
		off += int(l) + 1
	}
	return len(lens)
}

// Which checks apply where. Question names get them all. Answer names are
// chosen by the server, and ordinary CDN and cloud answers (CNAME chains to
// e1234.dscb.akamaiedge.net-like names) are long, hex-laden and
// high-entropy, so only the checks that such names never trip apply to them:
// bytes outside the host name alphabet and invalid UTF-8, which is how
// binary downstream encodings (iodine's base128 CNAME answers) show.
const (
	allReasons    = checks.All
	answerReasons = checks.RareSymbols | checks.NotUTF8
)

// checkName runs the per-name checks on n, keeps those in mask, and
// merges the result into res.
func (a *Analyzer) checkName(n *dnswire.Name, res *checks.Result, c *Counts, mask checks.Reason) {
	a.count(a.checks.Result(a.fired(n, mask), mask), res, c)
}

// fired returns the per-name checks in mask that n trips.
func (a *Analyzer) fired(n *dnswire.Name, mask checks.Reason) checks.Reason {
	labels := min(n.Labels(), len(a.lens))
	for i := 0; i < labels; i++ {
		a.lens[i] = uint8(len(n.Label(i)))
	}
	return a.checks.Fired(n.Bytes(), a.lens[:labels], mask)
}

// count merges the result r of one name's checks into res.
func (a *Analyzer) count(r checks.Result, res *checks.Result, c *Counts) {
	if r.Level != checks.None {
		c.FlaggedNames++
		res.Merge(r)
	}
}

// Endpoints orders a packet's addresses as client and server: the server
// is the side on a DNS port, or, when that does not tell, the source of a
// response.
func (a *Analyzer) Endpoints(p *packet.Packet, response bool) (client, server netip.Addr) {
	// The port decides when exactly one side is on a DNS port (the QR bit
	// of a raw tunnel packet that parses as DNS by chance is random);
	// otherwise the QR bit does.
	switch src, dst := a.ports.Has(p.SrcPort), a.ports.Has(p.DstPort); {
	case src && !dst:
		return p.Dst, p.Src
	case dst && !src:
		return p.Src, p.Dst
	case response:
		return p.Dst, p.Src
	}
	return p.Src, p.Dst
}

// OnDNSPort reports whether either port of p is a DNS port.
func (a *Analyzer) OnDNSPort(p *packet.Packet) bool {
	return a.ports.Has(p.SrcPort) || a.ports.Has(p.DstPort)
}

// Raw looks for a tunnel in a payload on a DNS port that is not a DNS
// message (iodine's raw mode).
func (a *Analyzer) Raw(payload []byte) fingerprint.Match { return fingerprint.ClassifyRaw(payload) }
