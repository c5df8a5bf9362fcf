package afpacket

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/net/bpf"
)

// Link types a filter can be compiled for (https://www.tcpdump.org/linktypes.html).
const (
	// LinkTypeEthernet is LINKTYPE_ETHERNET: Ethernet II frames, which is
	// what Linux Ethernet-like devices and the loopback device deliver.
	LinkTypeEthernet uint16 = 1
	// LinkTypeRaw is LINKTYPE_RAW: a bare IPv4 or IPv6 packet, the version
	// taken from the first nibble. Tun devices (ARPHRD_NONE), IP tunnels and
	// every other non-Ethernet device are captured this way.
	LinkTypeRaw uint16 = 101
)

// Limits of the filter language. They keep every conditional jump within
// the 255-instruction reach of classic BPF and the program far below the
// kernel's 4096-instruction limit.
const (
	maxFilterLen    = 1024 // bytes of filter text
	maxFilterTerms  = 64   // alternatives joined by "or"
	maxTermPortCond = 16   // port primitives joined by "and" in one alternative
)

// ErrFilter is matched (errors.Is) by every error from CompileFilter and by
// the filter errors of Open.
var ErrFilter = errors.New("afpacket: invalid filter")

// FilterError reports why a filter expression was rejected and where.
type FilterError struct {
	Expr   string // the filter text
	Offset int    // byte offset in Expr of the offending word (len(Expr) at the end)
	Msg    string // what is wrong
}

// Error formats as `filter "udp prot 53": byte 4: unknown word "prot" ...`.
func (e *FilterError) Error() string {
	return "afpacket: filter " + strconv.Quote(e.Expr) + ": byte " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

// Is makes a *FilterError match ErrFilter.
func (e *FilterError) Is(target error) bool { return target == ErrFilter }

// DefaultFilter returns the filter text used when Config.Filter is empty:
// "port P1 or port P2 ..." for the given ports, or "port 53" when ports is
// empty.
func DefaultFilter(ports []uint16) string {
	if len(ports) == 0 {
		return "port 53"
	}
	var b strings.Builder
	for i, p := range ports {
		if i > 0 {
			b.WriteString(" or ")
		}
		b.WriteString("port ")
		b.WriteString(strconv.Itoa(int(p)))
	}
	return b.String()
}

// Scratch memory slots used by compiled programs.
const (
	memFamily = 0 // 4 or 6
	memProto  = 1 // IPv4 protocol / IPv6 next header
	memSport  = 2 // source port, or noPort
	memDport  = 3 // destination port, or noPort
)

// noPort is stored as the port of packets whose ports are unknown (not TCP
// or UDP, or a non-first IPv4 fragment); no 16-bit port equals it.
const noPort = 0x10000

// Port primitive directions.
const (
	dirEither = iota
	dirSrc
	dirDst
)

type portCond struct {
	dir  int
	port uint16
}

// term is one alternative: a conjunction of an address family, a transport
// protocol and port conditions; zero fields do not constrain.
type term struct {
	family uint8 // 0, 4 or 6
	proto  uint8 // 0, 6 (TCP) or 17 (UDP)
	ports  []portCond
}

// prim holds the qualifiers written in one primitive, repeated by a bare
// number after "or" ("port 53 or 5353").
type prim struct {
	family, proto uint8
	dir           int
	hasPort       bool
}

type token struct {
	s   string
	off int
}

func tokenize(expr string) []token {
	var toks []token
	i := 0
	for i < len(expr) {
		c := expr[i]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			i++
			continue
		}
		j := i
		for j < len(expr) && expr[j] != ' ' && expr[j] != '\t' && expr[j] != '\n' && expr[j] != '\r' {
			j++
		}
		toks = append(toks, token{s: strings.ToLower(expr[i:j]), off: i})
		i = j
	}
	return toks
}

// parseFilter parses the filter language documented on Config.Filter.
func parseFilter(expr string) ([]term, error) {
	fail := func(off int, format string, args ...any) error {
		return &FilterError{Expr: expr, Offset: off, Msg: fmt.Sprintf(format, args...)}
	}
	if len(expr) > maxFilterLen {
		return nil, fail(maxFilterLen, "longer than %d bytes", maxFilterLen)
	}
	toks := tokenize(expr)
	if len(toks) == 0 {
		return nil, fail(0, "empty filter (leave Config.Filter empty for the default, or write \"all\")")
	}
	if len(toks) == 1 && toks[0].s == "all" {
		return []term{{}}, nil
	}
	pos := 0
	peek := func() string {
		if pos < len(toks) {
			return toks[pos].s
		}
		return ""
	}
	off := func() int {
		if pos < len(toks) {
			return toks[pos].off
		}
		return len(expr)
	}
	parsePort := func() (uint16, error) {
		if pos >= len(toks) {
			return 0, fail(len(expr), "missing port number")
		}
		t := toks[pos]
		n, err := strconv.ParseUint(t.s, 10, 16)
		if err != nil || t.s[0] == '+' {
			return 0, fail(t.off, "port %q is not a number from 0 to 65535", t.s)
		}
		pos++
		return uint16(n), nil
	}
	// parsePrim parses [ip|ip6] [udp|tcp] [[src|dst] port N].
	parsePrim := func() (prim, uint16, error) {
		var p prim
		start := off()
		switch peek() {
		case "ip":
			p.family = 4
			pos++
		case "ip6":
			p.family = 6
			pos++
		}
		switch peek() {
		case "udp":
			p.proto = 17
			pos++
		case "tcp":
			p.proto = 6
			pos++
		}
		switch peek() {
		case "src":
			p.dir = dirSrc
			pos++
			if peek() != "port" {
				return p, 0, fail(off(), "%q must be followed by \"port\" (host and net primitives are not supported)", toks[pos-1].s)
			}
		case "dst":
			p.dir = dirDst
			pos++
			if peek() != "port" {
				return p, 0, fail(off(), "%q must be followed by \"port\" (host and net primitives are not supported)", toks[pos-1].s)
			}
		}
		var port uint16
		if peek() == "port" {
			pos++
			n, err := parsePort()
			if err != nil {
				return p, 0, err
			}
			p.hasPort, port = true, n
		}
		if off() == start {
			if pos >= len(toks) {
				return p, 0, fail(len(expr), "filter ends where a primitive is expected")
			}
			return p, 0, fail(off(), "unknown word %q; supported: ip, ip6, udp, tcp, src, dst, port N, and, or, all", toks[pos].s)
		}
		return p, port, nil
	}
	addPrim := func(t *term, p prim, port uint16, at int) error {
		if p.family != 0 {
			if t.family != 0 && t.family != p.family {
				return fail(at, "\"ip and ip6\" never matches")
			}
			t.family = p.family
		}
		if p.proto != 0 {
			if t.proto != 0 && t.proto != p.proto {
				return fail(at, "\"udp and tcp\" never matches")
			}
			t.proto = p.proto
		}
		if p.hasPort {
			if len(t.ports) >= maxTermPortCond {
				return fail(at, "more than %d port primitives joined by \"and\"", maxTermPortCond)
			}
			t.ports = append(t.ports, portCond{dir: p.dir, port: port})
		}
		return nil
	}

	var terms []term
	var last prim
	for {
		if len(terms) >= maxFilterTerms {
			return nil, fail(off(), "more than %d alternatives joined by \"or\"", maxFilterTerms)
		}
		var t term
		startOff := off()
		if len(terms) > 0 && last.hasPort && pos < len(toks) && toks[pos].s != "" && toks[pos].s[0] >= '0' && toks[pos].s[0] <= '9' {
			// "port 53 or 5353": repeat the previous primitive's qualifiers.
			n, err := parsePort()
			if err != nil {
				return nil, err
			}
			if err := addPrim(&t, last, n, startOff); err != nil {
				return nil, err
			}
		} else {
			for {
				at := off()
				p, port, err := parsePrim()
				if err != nil {
					return nil, err
				}
				if err := addPrim(&t, p, port, at); err != nil {
					return nil, err
				}
				last = p
				if peek() != "and" {
					break
				}
				pos++
			}
		}
		terms = append(terms, t)
		switch peek() {
		case "":
			return terms, nil
		case "or":
			pos++
			if pos >= len(toks) {
				return nil, fail(len(expr), "filter ends after \"or\"")
			}
		case "not", "!", "(", ")", "&&", "||":
			return nil, fail(off(), "%q is not supported (only \"and\" and \"or\", without parentheses)", toks[pos].s)
		default:
			if strings.ContainsAny(toks[pos].s, "()!") {
				return nil, fail(off(), "%q: parentheses and negation are not supported", toks[pos].s)
			}
			return nil, fail(off(), "expected \"and\" or \"or\" before %q", toks[pos].s)
		}
	}
}

// CompileFilter compiles a filter expression (the language documented on
// Config.Filter) into a classic BPF program for frames of the given link
// type (LinkTypeEthernet or LinkTypeRaw). Accepted packets are truncated to
// snapLen bytes. Errors match ErrFilter.
func CompileFilter(expr string, linkType uint16, snapLen int) ([]bpf.Instruction, error) {
	if snapLen <= 0 {
		return nil, fmt.Errorf("%w: snap length %d is not positive", ErrFilter, snapLen)
	}
	terms, err := parseFilter(expr)
	if err != nil {
		return nil, err
	}
	var a asm
	common := a.newLabel()
	noports := a.newLabel()
	switch linkType {
	case LinkTypeEthernet:
		// Ethernet type at 12; one in-line 802.1Q / 802.1ad tag is stepped
		// over (the kernel usually strips the outer tag before the filter
		// runs, IEEE 802.1Q clause 9).
		v4, v6, vlan := a.newLabel(), a.newLabel(), a.newLabel()
		v4v, v6v := a.newLabel(), a.newLabel()
		a.emit(bpf.LoadAbsolute{Off: 12, Size: 2})
		a.jeq(0x0800, v4, -1)
		a.jeq(0x86dd, v6, -1)
		a.jeq(0x8100, vlan, -1)
		a.jeq(0x88a8, vlan, -1)
		a.jeq(0x9100, vlan, -1)
		a.emit(bpf.RetConstant{Val: 0})
		a.mark(vlan)
		a.emit(bpf.LoadAbsolute{Off: 16, Size: 2})
		a.jeq(0x0800, v4v, -1)
		a.jeq(0x86dd, v6v, -1)
		a.emit(bpf.RetConstant{Val: 0})
		a.mark(v4)
		a.ipv4(14, common, noports)
		a.mark(v6)
		a.ipv6(14, common, noports)
		a.mark(v4v)
		a.ipv4(18, common, noports)
		a.mark(v6v)
		a.ipv6(18, common, noports)
	case LinkTypeRaw:
		v4, v6 := a.newLabel(), a.newLabel()
		a.emit(bpf.LoadAbsolute{Off: 0, Size: 1})
		a.emit(bpf.ALUOpConstant{Op: bpf.ALUOpShiftRight, Val: 4})
		a.jeq(4, v4, -1)
		a.jeq(6, v6, -1)
		a.emit(bpf.RetConstant{Val: 0})
		a.mark(v4)
		a.ipv4(0, common, noports)
		a.mark(v6)
		a.ipv6(0, common, noports)
	default:
		return nil, fmt.Errorf("%w: link type %d is not supported (only %d and %d)", ErrFilter, linkType, LinkTypeEthernet, LinkTypeRaw)
	}
	a.mark(noports)
	a.emit(bpf.LoadConstant{Dst: bpf.RegA, Val: noPort})
	a.emit(bpf.StoreScratch{Src: bpf.RegA, N: memSport})
	a.emit(bpf.StoreScratch{Src: bpf.RegA, N: memDport})
	a.mark(common)
	for _, t := range terms {
		next := a.newLabel()
		if t.family != 0 {
			a.emit(bpf.LoadScratch{Dst: bpf.RegA, N: memFamily})
			a.jeq(uint32(t.family), -1, next)
		}
		if t.proto != 0 {
			a.emit(bpf.LoadScratch{Dst: bpf.RegA, N: memProto})
			a.jeq(uint32(t.proto), -1, next)
		}
		for _, pc := range t.ports {
			switch pc.dir {
			case dirSrc:
				a.emit(bpf.LoadScratch{Dst: bpf.RegA, N: memSport})
				a.jeq(uint32(pc.port), -1, next)
			case dirDst:
				a.emit(bpf.LoadScratch{Dst: bpf.RegA, N: memDport})
				a.jeq(uint32(pc.port), -1, next)
			default:
				ok := a.newLabel()
				a.emit(bpf.LoadScratch{Dst: bpf.RegA, N: memSport})
				a.jeq(uint32(pc.port), ok, -1)
				a.emit(bpf.LoadScratch{Dst: bpf.RegA, N: memDport})
				a.jeq(uint32(pc.port), -1, next)
				a.mark(ok)
			}
		}
		a.emit(bpf.RetConstant{Val: uint32(snapLen)})
		a.mark(next)
	}
	a.emit(bpf.RetConstant{Val: 0})
	return a.resolve()
}

// ipv4 emits the IPv4 block for a header at offset b: family and protocol
// to scratch memory, then the ports of a TCP or UDP first fragment
// (RFC 791 section 3.1: fragment offset in the low 13 bits of bytes 6-7).
func (a *asm) ipv4(b uint32, common, noports int) {
	ports := a.newLabel()
	a.emit(bpf.LoadConstant{Dst: bpf.RegA, Val: 4})
	a.emit(bpf.StoreScratch{Src: bpf.RegA, N: memFamily})
	a.emit(bpf.LoadAbsolute{Off: b + 9, Size: 1})
	a.emit(bpf.StoreScratch{Src: bpf.RegA, N: memProto})
	a.jeq(6, ports, -1)
	a.jeq(17, ports, noports)
	a.mark(ports)
	a.emit(bpf.LoadAbsolute{Off: b + 6, Size: 2})
	a.jset(0x1fff, noports, -1)
	a.emit(bpf.LoadMemShift{Off: b})
	a.emit(bpf.LoadIndirect{Off: b, Size: 2})
	a.emit(bpf.StoreScratch{Src: bpf.RegA, N: memSport})
	a.emit(bpf.LoadIndirect{Off: b + 2, Size: 2})
	a.emit(bpf.StoreScratch{Src: bpf.RegA, N: memDport})
	a.ja(common)
}

// ipv6 emits the IPv6 block for a header at offset b (RFC 8200: next header
// at 6, transport header at 40; extension headers are not followed).
func (a *asm) ipv6(b uint32, common, noports int) {
	ports := a.newLabel()
	a.emit(bpf.LoadConstant{Dst: bpf.RegA, Val: 6})
	a.emit(bpf.StoreScratch{Src: bpf.RegA, N: memFamily})
	a.emit(bpf.LoadAbsolute{Off: b + 6, Size: 1})
	a.emit(bpf.StoreScratch{Src: bpf.RegA, N: memProto})
	a.jeq(6, ports, -1)
	a.jeq(17, ports, noports)
	a.mark(ports)
	a.emit(bpf.LoadAbsolute{Off: b + 40, Size: 2})
	a.emit(bpf.StoreScratch{Src: bpf.RegA, N: memSport})
	a.emit(bpf.LoadAbsolute{Off: b + 42, Size: 2})
	a.emit(bpf.StoreScratch{Src: bpf.RegA, N: memDport})
	a.ja(common)
}

// asm is a tiny assembler with forward labels for conditional jumps.
type asm struct {
	prog   []bpf.Instruction
	fix    []fixup
	labels []int // label -> instruction index, -1 until marked
}

// fixup records the labels of the jump at prog[at]; -1 means "next
// instruction".
type fixup struct {
	at     int
	jt, jf int
}

func (a *asm) newLabel() int {
	a.labels = append(a.labels, -1)
	return len(a.labels) - 1
}

func (a *asm) mark(l int) { a.labels[l] = len(a.prog) }

func (a *asm) emit(i bpf.Instruction) { a.prog = append(a.prog, i) }

func (a *asm) jeq(val uint32, jt, jf int) {
	a.fix = append(a.fix, fixup{at: len(a.prog), jt: jt, jf: jf})
	a.emit(bpf.JumpIf{Cond: bpf.JumpEqual, Val: val})
}

func (a *asm) jset(val uint32, jt, jf int) {
	a.fix = append(a.fix, fixup{at: len(a.prog), jt: jt, jf: jf})
	a.emit(bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: val})
}

func (a *asm) ja(l int) {
	a.fix = append(a.fix, fixup{at: len(a.prog), jt: l, jf: -1})
	a.emit(bpf.Jump{})
}

// resolve turns labels into skips, failing if one is out of reach.
func (a *asm) resolve() ([]bpf.Instruction, error) {
	skip := func(at, l int) (int, error) {
		if l < 0 {
			return 0, nil
		}
		d := a.labels[l] - at - 1
		if a.labels[l] < 0 || d < 0 {
			return 0, fmt.Errorf("%w: internal error: bad jump at %d", ErrFilter, at)
		}
		return d, nil
	}
	for _, f := range a.fix {
		jt, err := skip(f.at, f.jt)
		if err != nil {
			return nil, err
		}
		jf, err := skip(f.at, f.jf)
		if err != nil {
			return nil, err
		}
		switch in := a.prog[f.at].(type) {
		case bpf.Jump:
			in.Skip = uint32(jt)
			a.prog[f.at] = in
		case bpf.JumpIf:
			if jt > 255 || jf > 255 {
				return nil, fmt.Errorf("%w: program too large (jump of %d/%d instructions)", ErrFilter, jt, jf)
			}
			in.SkipTrue, in.SkipFalse = uint8(jt), uint8(jf)
			a.prog[f.at] = in
		}
	}
	if len(a.prog) > 4096 {
		return nil, fmt.Errorf("%w: program of %d instructions exceeds the kernel's 4096", ErrFilter, len(a.prog))
	}
	return a.prog, nil
}
