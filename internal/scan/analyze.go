package scan

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

// counts are the per-file counters that workers and the collector add up.
type counts struct {
	frames, dnsMessages, queries, responses, tcpMessages uint64
	allowlisted, flaggedNames, malformed, skipped        uint64
	fragments, icmpQuoted                                uint64
}

func (c *counts) add(o *counts) {
	c.frames += o.frames
	c.dnsMessages += o.dnsMessages
	c.queries += o.queries
	c.responses += o.responses
	c.tcpMessages += o.tcpMessages
	c.allowlisted += o.allowlisted
	c.flaggedNames += o.flaggedNames
	c.malformed += o.malformed
	c.skipped += o.skipped
	c.fragments += o.fragments
	c.icmpQuoted += o.icmpQuoted
}

// portSet is a bitmap of the ports decoded as DNS.
type portSet [65536 / 64]uint64

func newPortSet(ports []uint16) *portSet {
	var s portSet
	for _, p := range ports {
		s[p/64] |= 1 << (p % 64)
	}
	return &s
}

func (s *portSet) has(p uint16) bool { return s[p/64]&(1<<(p%64)) != 0 }

// analyzer decodes and checks packets. Each worker owns one; it holds all
// scratch space so that the hot path allocates nothing.
type analyzer struct {
	checks *checks.Config
	allow  *allowlist.List
	ports  *portSet

	pkt     packet.Packet
	inner   packet.Packet // the datagram an ICMP error quotes
	parser  dnswire.Parser
	q       dnswire.Question
	rr      dnswire.ResourceHeader
	target  dnswire.Name
	lens    [dnswire.MaxLabels]uint8
	obsLens [dnswire.MaxLabels]uint8
	split   *regdomain.Splitter
	fpMsg   fingerprint.Message
}

// frameKind says what decodeFrame found.
type frameKind uint8

const (
	kindSkipped frameKind = iota
	kindMalformed
	kindFragment
	kindUDPDNS
	kindTCPDNS
	kindICMPDNS // an ICMP error quoting a DNS datagram
)

// decodeFrame decodes a frame down to its transport and classifies it;
// a.pkt holds the result.
func (a *analyzer) decodeFrame(linkType uint16, frame []byte) frameKind {
	err := packet.Decode(linkType, frame, &a.pkt)
	p := &a.pkt
	if err != nil {
		switch {
		case errors.Is(err, packet.ErrFragment):
			return kindFragment
		case errors.Is(err, packet.ErrNotTransport) && (p.Proto == packet.ProtoICMP || p.Proto == packet.ProtoICMPv6):
			in := &a.inner
			if e := packet.ICMPQuote(p, in); (e == nil || errors.Is(e, packet.ErrTruncated)) && in.Proto == packet.ProtoUDP &&
				!in.Frag.IsFragment && (a.ports.has(in.SrcPort) || a.ports.has(in.DstPort)) {
				return kindICMPDNS
			}
			return kindSkipped
		case errors.Is(err, packet.ErrNotIP), errors.Is(err, packet.ErrNotTransport),
			errors.Is(err, packet.ErrUnsupportedLinkType):
			return kindSkipped
		}
		// A damaged frame: malformed if what could be read of it was
		// headed for a DNS port, skipped otherwise.
		if (p.Proto == packet.ProtoUDP || p.Proto == packet.ProtoTCP) && (a.ports.has(p.SrcPort) || a.ports.has(p.DstPort)) {
			return kindMalformed
		}
		return kindSkipped
	}
	if p.Frag.IsFragment {
		return kindFragment
	}
	if !a.ports.has(p.SrcPort) && !a.ports.has(p.DstPort) {
		return kindSkipped
	}
	switch p.Proto {
	case packet.ProtoUDP:
		return kindUDPDNS
	case packet.ProtoTCP:
		return kindTCPDNS
	}
	return kindSkipped
}

// message parses one DNS message, checks its names (see checkName for
// which), and describes it in obs for the behavioural engine: obs.Name and
// obs.Labels point into the analyzer's scratch space until the next call;
// the caller sets the addresses, time and file. It returns false when msg
// is not a DNS message, and sets *allowed when every question is
// allowlisted (the engine then does not see it).
func (a *analyzer) message(msg []byte, c *counts, obs *engine.Observation, allowed *bool) (checks.Result, bool) {
	var res checks.Result
	*allowed = false
	h, err := a.parser.Start(msg)
	if err != nil {
		c.malformed++
		return res, false
	}
	c.dnsMessages++
	if h.Response() {
		c.responses++
	} else {
		c.queries++
	}
	*obs = engine.Observation{Response: h.Response(), RCode: h.RCode(), Size: len(msg)}
	questions, allowlisted := 0, 0
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
		a.checkName(&a.q.Name, &res, c, allReasons)
	}
	c.allowlisted += uint64(allowlisted)
	if obs.Name == nil {
		// No question to judge: a raw tunnel packet may still parse as a
		// DNS header by chance (iodine's raw mode on port 53).
		obs.Match = fingerprint.ClassifyRaw(msg)
	}
	if questions > 0 && allowlisted == questions {
		*allowed = true
		return res, true
	}
	for left := h.ANCount; left > 0; left-- {
		rdata, err := a.parser.Answer(&a.rr)
		if err != nil {
			break
		}
		obs.AnswerData += len(rdata)
		if !obs.Answer.IsValid() {
			switch {
			case a.rr.Type == dnswire.TypeA && len(rdata) == 4:
				obs.Answer = netip.AddrFrom4([4]byte(rdata))
			case a.rr.Type == dnswire.TypeAAAA && len(rdata) == 16:
				obs.Answer = netip.AddrFrom16([16]byte(rdata))
			}
		}
		a.checkName(&a.rr.Name, &res, c, answerReasons)
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
	obs.Flagged = res.Level != checks.None
	return res, true
}

// describe fills the engine's view of the message's first question: the
// name lowercased and split at its registered domain, and what the
// fingerprints recognise in it.
func (a *analyzer) describe(q *dnswire.Question, msg []byte, obs *engine.Observation) {
	n := &q.Name
	labels := min(n.Labels(), len(a.lens))
	for i := 0; i < labels; i++ {
		a.obsLens[i] = uint8(len(n.Label(i)))
	}
	raw := n.Bytes()
	lower, start := a.split.Split(raw, a.obsLens[:labels])
	obs.Name, obs.Labels, obs.RegStart = lower, a.obsLens[:labels], start
	obs.QType = q.Type
	upper, low := false, false
	for _, c := range raw {
		upper = upper || 'A' <= c && c <= 'Z'
		low = low || 'a' <= c && c <= 'z'
	}
	obs.MixedCase = upper && low
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
func (a *analyzer) checkName(n *dnswire.Name, res *checks.Result, c *counts, mask checks.Reason) {
	labels := min(n.Labels(), len(a.lens))
	for i := 0; i < labels; i++ {
		a.lens[i] = uint8(len(n.Label(i)))
	}
	r := a.checks.Some(n.Bytes(), a.lens[:labels], mask)
	if r.Level != checks.None {
		c.flaggedNames++
		res.Merge(r)
	}
}
