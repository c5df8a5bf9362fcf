package scan

import (
	"errors"

	"github.com/dnsieve/dnsieve/internal/allowlist"
	"github.com/dnsieve/dnsieve/internal/checks"
	"github.com/dnsieve/dnsieve/internal/dnswire"
	"github.com/dnsieve/dnsieve/internal/packet"
)

// counts are the per-file counters that workers and the collector add up.
type counts struct {
	frames, dnsMessages, queries, responses, tcpMessages uint64
	allowlisted, flaggedNames, malformed, skipped        uint64
	fragments                                            uint64
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

	pkt    packet.Packet
	parser dnswire.Parser
	q      dnswire.Question
	rr     dnswire.ResourceHeader
	target dnswire.Name
	lens   [dnswire.MaxLabels]uint8
}

// frameKind says what decodeFrame found.
type frameKind uint8

const (
	kindSkipped frameKind = iota
	kindMalformed
	kindFragment
	kindUDPDNS
	kindTCPDNS
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

// message parses one DNS message and checks every question name, and the
// owner names and name-valued RDATA (CNAME, NS, PTR, DNAME, MX, SRV targets)
// of the answer section: tunnels such as iodine's CNAME mode carry their
// downstream data in answer names. It returns false when msg is not a DNS
// message. A message whose questions are all allowlisted is not checked
// further.
func (a *analyzer) message(msg []byte, c *counts) (checks.Result, bool) {
	var res checks.Result
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
	questions, allowed := 0, 0
	for a.parser.Question(&a.q) == nil {
		// ErrSectionDone ends the questions; any other error is a damaged
		// question section, and what was read still counts.
		questions++
		if a.allow.Contains(a.q.Name.Bytes()) {
			allowed++
			continue
		}
		a.checkName(&a.q.Name, &res, c, allReasons)
	}
	c.allowlisted += uint64(allowed)
	if questions > 0 && allowed == questions || h.ANCount == 0 {
		return res, true
	}
	for {
		rdata, err := a.parser.Answer(&a.rr)
		if err != nil {
			break
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
	return res, true
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
	labels := n.Labels()
	if labels > len(a.lens) {
		labels = len(a.lens)
	}
	for i := 0; i < labels; i++ {
		a.lens[i] = uint8(len(n.Label(i)))
	}
	r := a.checks.Some(n.Bytes(), a.lens[:labels], mask)
	if r.Level != checks.None {
		c.flaggedNames++
		res.Merge(r)
	}
}
