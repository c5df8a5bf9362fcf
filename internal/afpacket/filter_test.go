package afpacket

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"reflect"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// Shorthands for the expected programs.
func ldh(off uint32) bpf.Instruction { return bpf.LoadAbsolute{Off: off, Size: 2} }
func ldb(off uint32) bpf.Instruction { return bpf.LoadAbsolute{Off: off, Size: 1} }
func jeq(v uint32, jt, jf uint8) bpf.Instruction {
	return bpf.JumpIf{Cond: bpf.JumpEqual, Val: v, SkipTrue: jt, SkipFalse: jf}
}
func ldi(v uint32) bpf.Instruction    { return bpf.LoadConstant{Dst: bpf.RegA, Val: v} }
func st(n int) bpf.Instruction        { return bpf.StoreScratch{Src: bpf.RegA, N: n} }
func ldm(n int) bpf.Instruction       { return bpf.LoadScratch{Dst: bpf.RegA, N: n} }
func ret(v uint32) bpf.Instruction    { return bpf.RetConstant{Val: v} }
func ja(n uint32) bpf.Instruction     { return bpf.Jump{Skip: n} }
func ldhx(off uint32) bpf.Instruction { return bpf.LoadIndirect{Off: off, Size: 2} }

func TestCompileDefaultEthernet(t *testing.T) {
	want := []bpf.Instruction{
		/* 0 */ ldh(12),
		/* 1 */ jeq(0x0800, 9, 0), // -> 11 IPv4
		/* 2 */ jeq(0x86dd, 22, 0), // -> 25 IPv6
		/* 3 */ jeq(0x8100, 3, 0), // -> 7 VLAN
		/* 4 */ jeq(0x88a8, 2, 0),
		/* 5 */ jeq(0x9100, 1, 0),
		/* 6 */ ret(0),
		/* 7 */ ldh(16),
		/* 8 */ jeq(0x0800, 27, 0), // -> 36
		/* 9 */ jeq(0x86dd, 40, 0), // -> 50
		/* 10 */ ret(0),
		// IPv4 at 14
		/* 11 */ ldi(4), st(0), ldb(23), st(1),
		/* 15 */ jeq(6, 1, 0),
		/* 16 */ jeq(17, 0, 44), // -> 61 noports
		/* 17 */ ldh(20),
		/* 18 */ bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: 0x1fff, SkipTrue: 42},
		/* 19 */ bpf.LoadMemShift{Off: 14},
		/* 20 */ ldhx(14), st(2), ldhx(16), st(3),
		/* 24 */ ja(39), // -> 64 common
		// IPv6 at 14
		/* 25 */ ldi(6), st(0), ldb(20), st(1),
		/* 29 */ jeq(6, 1, 0),
		/* 30 */ jeq(17, 0, 30),
		/* 31 */ ldh(54), st(2), ldh(56), st(3),
		/* 35 */ ja(28),
		// IPv4 at 18
		/* 36 */ ldi(4), st(0), ldb(27), st(1),
		/* 40 */ jeq(6, 1, 0),
		/* 41 */ jeq(17, 0, 19),
		/* 42 */ ldh(24),
		/* 43 */ bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: 0x1fff, SkipTrue: 17},
		/* 44 */ bpf.LoadMemShift{Off: 18},
		/* 45 */ ldhx(18), st(2), ldhx(20), st(3),
		/* 49 */ ja(14),
		// IPv6 at 18
		/* 50 */ ldi(6), st(0), ldb(24), st(1),
		/* 54 */ jeq(6, 1, 0),
		/* 55 */ jeq(17, 0, 5),
		/* 56 */ ldh(58), st(2), ldh(60), st(3),
		/* 60 */ ja(3),
		// no ports
		/* 61 */ ldi(0x10000), st(2), st(3),
		// common: port 53
		/* 64 */ ldm(2),
		/* 65 */ jeq(53, 2, 0),
		/* 66 */ ldm(3),
		/* 67 */ jeq(53, 0, 1),
		/* 68 */ ret(65535),
		/* 69 */ ret(0),
	}
	got, err := CompileFilter(DefaultFilter(nil), LinkTypeEthernet, 65535)
	if err != nil {
		t.Fatal(err)
	}
	compareProgs(t, got, want)
	// "port 53" spelled differently compiles to the same program.
	for _, e := range []string{"port 53", "  PORT   53 ", "port 053"} {
		got, err := CompileFilter(e, LinkTypeEthernet, 65535)
		if err != nil {
			t.Fatalf("%q: %v", e, err)
		}
		compareProgs(t, got, want)
	}
}

func TestCompileRawUDPDst(t *testing.T) {
	want := []bpf.Instruction{
		/* 0 */ ldb(0),
		/* 1 */ bpf.ALUOpConstant{Op: bpf.ALUOpShiftRight, Val: 4},
		/* 2 */ jeq(4, 2, 0),
		/* 3 */ jeq(6, 15, 0),
		/* 4 */ ret(0),
		/* 5 */ ldi(4), st(0), ldb(9), st(1),
		/* 9 */ jeq(6, 1, 0),
		/* 10 */ jeq(17, 0, 19),
		/* 11 */ ldh(6),
		/* 12 */ bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: 0x1fff, SkipTrue: 17},
		/* 13 */ bpf.LoadMemShift{Off: 0},
		/* 14 */ ldhx(0), st(2), ldhx(2), st(3),
		/* 18 */ ja(14),
		/* 19 */ ldi(6), st(0), ldb(6), st(1),
		/* 23 */ jeq(6, 1, 0),
		/* 24 */ jeq(17, 0, 5),
		/* 25 */ ldh(40), st(2), ldh(42), st(3),
		/* 29 */ ja(3),
		/* 30 */ ldi(0x10000), st(2), st(3),
		/* 33 */ ldm(1),
		/* 34 */ jeq(17, 0, 3),
		/* 35 */ ldm(3),
		/* 36 */ jeq(53, 0, 1),
		/* 37 */ ret(1500),
		/* 38 */ ret(0),
	}
	got, err := CompileFilter("udp dst port 53", LinkTypeRaw, 1500)
	if err != nil {
		t.Fatal(err)
	}
	compareProgs(t, got, want)
}

func TestCompileTermsTail(t *testing.T) {
	// Only the common part differs between filters; check it for a few.
	tests := []struct {
		expr string
		tail []bpf.Instruction
	}{
		{"all", []bpf.Instruction{ret(100), ret(0)}},
		{"ip6", []bpf.Instruction{ldm(0), jeq(6, 0, 1), ret(100), ret(0)}},
		{"ip and tcp", []bpf.Instruction{ldm(0), jeq(4, 0, 3), ldm(1), jeq(6, 0, 1), ret(100), ret(0)}},
		{"src port 53 or 5353", []bpf.Instruction{
			ldm(2), jeq(53, 0, 1), ret(100),
			ldm(2), jeq(5353, 0, 1), ret(100),
			ret(0)}},
		{"udp port 53 or tcp dst port 853", []bpf.Instruction{
			ldm(1), jeq(17, 0, 5), ldm(2), jeq(53, 2, 0), ldm(3), jeq(53, 0, 1), ret(100),
			ldm(1), jeq(6, 0, 3), ldm(3), jeq(853, 0, 1), ret(100),
			ret(0)}},
		{"src port 53 and dst port 1024", []bpf.Instruction{
			ldm(2), jeq(53, 0, 3), ldm(3), jeq(1024, 0, 1), ret(100), ret(0)}},
	}
	base, err := CompileFilter("all", LinkTypeEthernet, 100)
	if err != nil {
		t.Fatal(err)
	}
	head := len(base) - 2
	for _, tc := range tests {
		got, err := CompileFilter(tc.expr, LinkTypeEthernet, 100)
		if err != nil {
			t.Fatalf("%q: %v", tc.expr, err)
		}
		if len(got) < head || !reflect.DeepEqual(got[:head], base[:head]) {
			t.Fatalf("%q: prologue differs from the one of \"all\"", tc.expr)
		}
		t.Run(tc.expr, func(t *testing.T) { compareProgs(t, got[head:], tc.tail) })
	}
}

func compareProgs(t *testing.T, got, want []bpf.Instruction) {
	t.Helper()
	for i := 0; i < len(got) || i < len(want); i++ {
		var g, w bpf.Instruction
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("instruction %d: got %v, want %v", i, g, w)
		}
	}
	if _, err := bpf.Assemble(got); err != nil {
		t.Errorf("assemble: %v", err)
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		expr   string
		offset int
		msg    string
	}{
		{"", 0, "empty filter"},
		{"   ", 0, "empty filter"},
		{"port", 4, "missing port number"},
		{"port 65536", 5, `port "65536" is not a number`},
		{"port -1", 5, `port "-1" is not a number`},
		{"port +53", 5, `port "+53" is not a number`},
		{"port domain", 5, `port "domain" is not a number`},
		{"udp prot 53", 4, `expected "and" or "or" before "prot"`},
		{"prot 53", 0, `unknown word "prot"`},
		{"host 10.0.0.1", 0, `unknown word "host"`},
		{"src host 10.0.0.1", 4, `"src" must be followed by "port"`},
		{"port 53 or", 10, `filter ends after "or"`},
		{"port 53 and", 11, "filter ends where a primitive is expected"},
		{"not port 53", 0, `unknown word "not"`},
		{"port 53 and not port 54", 12, `unknown word "not"`},
		{"(port 53)", 0, `unknown word "(port"`},
		{"port 53 or (port 54)", 11, `unknown word "(port"`},
		{"port 53 )", 8, `")" is not supported`},
		{"ip and ip6", 7, `"ip and ip6" never matches`},
		{"udp port 53 and tcp", 16, `"udp and tcp" never matches`},
		{"all or port 53", 0, `unknown word "all"`},
		{"port 53 port 54", 8, `expected "and" or "or" before "port"`},
		{"udp or 53", 7, `unknown word "53"`},
		{"port 53 or 5353 or x", 19, `unknown word "x"`},
		{strings.Repeat("port 53 or ", 64) + "port 53", 704, "more than 64 alternatives"},
		{strings.Repeat(" ", 1025), 1024, "longer than 1024 bytes"},
		{strings.Repeat("port 1 and ", 16) + "port 1", 176, "more than 16 port primitives"},
	}
	for _, tc := range tests {
		_, err := CompileFilter(tc.expr, LinkTypeEthernet, 100)
		var fe *FilterError
		if !errors.As(err, &fe) || !errors.Is(err, ErrFilter) {
			t.Errorf("%q: got %v, want a *FilterError", tc.expr, err)
			continue
		}
		if fe.Offset != tc.offset || !strings.Contains(fe.Msg, tc.msg) || fe.Expr != tc.expr {
			t.Errorf("%q: got offset %d %q, want offset %d containing %q", tc.expr, fe.Offset, fe.Msg, tc.offset, tc.msg)
		}
	}
	want := `afpacket: filter "udp prot 53": byte 4: expected "and" or "or" before "prot"`
	if _, err := CompileFilter("udp prot 53", LinkTypeEthernet, 100); err == nil || err.Error() != want {
		t.Errorf("error text %q, want %q", err, want)
	}
	if _, err := CompileFilter("port 53", 113, 100); !errors.Is(err, ErrFilter) || !strings.Contains(err.Error(), "link type 113") {
		t.Errorf("link type 113: %v", err)
	}
	if _, err := CompileFilter("port 53", LinkTypeRaw, 0); !errors.Is(err, ErrFilter) {
		t.Errorf("snap 0: %v", err)
	}
	// The largest accepted filters fit classic BPF.
	for _, e := range []string{
		strings.Repeat("udp port 1 or ", 63) + "port 53",
		strings.Repeat("port 1 and ", 15) + "port 1 or " + strings.Repeat("tcp port 1 and ", 15) + "port 1",
		strings.Repeat("port 1 and ", 15) + "port 1",
	} {
		p, err := CompileFilter(e, LinkTypeEthernet, 100)
		if err != nil {
			t.Fatalf("large filter: %v", err)
		}
		if _, err := bpf.Assemble(p); err != nil {
			t.Fatalf("large filter: %v", err)
		}
	}
}

func TestDefaultFilter(t *testing.T) {
	if got := DefaultFilter(nil); got != "port 53" {
		t.Errorf("DefaultFilter(nil) = %q", got)
	}
	if got := DefaultFilter([]uint16{53, 5353, 853}); got != "port 53 or port 5353 or port 853" {
		t.Errorf("DefaultFilter = %q", got)
	}
}

// frameSpec describes a generated frame; it is the oracle of the filter
// tests.
type frameSpec struct {
	vlan      uint16 // 0, 0x8100 or 0x88a8 (in-line tag)
	family    int    // 4, 6, or 0 for ARP
	proto     uint8  // 6, 17 or 1/58 (ICMP)
	sport     uint16
	dport     uint16
	fragOff   uint16 // IPv4 fragment offset (8-byte units)
	ipOptions bool   // IPv4 header with options (IHL 6)
}

// portsKnown reports whether the ports are visible to a port filter.
func (f frameSpec) portsKnown() bool {
	return f.family != 0 && (f.proto == 6 || f.proto == 17) && f.fragOff == 0
}

func (f frameSpec) build(t testing.TB, raw bool) []byte {
	var ls []gopacket.SerializableLayer
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}}
	ls = append(ls, eth)
	inner := layers.EthernetTypeIPv4
	switch f.family {
	case 6:
		inner = layers.EthernetTypeIPv6
	case 0:
		inner = layers.EthernetTypeARP
	}
	if f.vlan != 0 {
		eth.EthernetType = layers.EthernetType(f.vlan)
		ls = append(ls, &layers.Dot1Q{VLANIdentifier: 100, Type: inner})
	} else {
		eth.EthernetType = inner
	}
	var nl gopacket.NetworkLayer
	switch f.family {
	case 4:
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocol(f.proto),
			SrcIP: net.IP{10, 77, 0, 2}, DstIP: net.IP{10, 77, 0, 1}, FragOffset: f.fragOff}
		if f.ipOptions {
			ip.Options = []layers.IPv4Option{{OptionType: 1}, {OptionType: 1}, {OptionType: 1}, {OptionType: 0}}
		}
		ls, nl = append(ls, ip), ip
	case 6:
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocol(f.proto),
			SrcIP: net.ParseIP("fd77::2"), DstIP: net.ParseIP("fd77::1")}
		ls, nl = append(ls, ip), ip
	default:
		ls = append(ls, &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
			HwAddressSize: 6, ProtAddressSize: 4, Operation: 1,
			SourceHwAddress: []byte{2, 0, 0, 0, 0, 1}, SourceProtAddress: []byte{10, 77, 0, 2},
			DstHwAddress: make([]byte, 6), DstProtAddress: []byte{10, 77, 0, 1}})
	}
	if f.family != 0 {
		switch f.proto {
		case 17:
			u := &layers.UDP{SrcPort: layers.UDPPort(f.sport), DstPort: layers.UDPPort(f.dport)}
			u.SetNetworkLayerForChecksum(nl)
			ls = append(ls, u)
		case 6:
			tc := &layers.TCP{SrcPort: layers.TCPPort(f.sport), DstPort: layers.TCPPort(f.dport), SYN: true, Window: 1000}
			tc.SetNetworkLayerForChecksum(nl)
			ls = append(ls, tc)
		default:
			ls = append(ls, &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0)})
		}
		ls = append(ls, gopacket.Payload([]byte("0123456789abcdef")))
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if raw {
		off := 14
		if f.vlan != 0 {
			off = 18
		}
		b = b[off:]
	}
	return b
}

func randomSpec(r *rand.Rand) frameSpec {
	ports := []uint16{53, 5353, 853, 123, 1024, 0, 65535}
	f := frameSpec{
		family: []int{4, 4, 6, 6, 0}[r.IntN(5)],
		proto:  []uint8{17, 17, 6, 1}[r.IntN(4)],
		sport:  ports[r.IntN(len(ports))],
		dport:  ports[r.IntN(len(ports))],
	}
	if r.IntN(3) == 0 {
		f.vlan = []uint16{0x8100, 0x88a8}[r.IntN(2)]
	}
	if f.family == 4 && r.IntN(4) == 0 {
		f.fragOff = 185
	}
	if f.family == 4 && r.IntN(4) == 0 {
		f.ipOptions = true
	}
	return f
}

// TestFilterVM runs compiled programs in x/net/bpf's VM over generated
// frames and compares the verdicts with predicates written by hand.
func TestFilterVM(t *testing.T) {
	port := func(f frameSpec, dir int, p uint16) bool {
		if !f.portsKnown() {
			return false
		}
		switch dir {
		case dirSrc:
			return f.sport == p
		case dirDst:
			return f.dport == p
		}
		return f.sport == p || f.dport == p
	}
	ip := func(f frameSpec) bool { return f.family == 4 || f.family == 6 }
	tests := []struct {
		expr string
		want func(f frameSpec) bool
	}{
		{"port 53", func(f frameSpec) bool { return port(f, dirEither, 53) }},
		{"port 53 or port 5353", func(f frameSpec) bool { return port(f, dirEither, 53) || port(f, dirEither, 5353) }},
		{"udp port 53", func(f frameSpec) bool { return f.proto == 17 && port(f, dirEither, 53) }},
		{"tcp dst port 853", func(f frameSpec) bool { return f.proto == 6 && port(f, dirDst, 853) }},
		{"ip6 and udp src port 53", func(f frameSpec) bool { return f.family == 6 && f.proto == 17 && port(f, dirSrc, 53) }},
		{"udp port 53 or 5353", func(f frameSpec) bool {
			return f.proto == 17 && (port(f, dirEither, 53) || port(f, dirEither, 5353))
		}},
		{"src port 53 and dst port 1024 or ip6 tcp", func(f frameSpec) bool {
			return port(f, dirSrc, 53) && port(f, dirDst, 1024) || f.family == 6 && f.proto == 6
		}},
		{"port 0", func(f frameSpec) bool { return port(f, dirEither, 0) }},
		{"port 65535", func(f frameSpec) bool { return port(f, dirEither, 65535) }},
		{"all", ip},
		{"ip", func(f frameSpec) bool { return f.family == 4 }},
		{"udp", func(f frameSpec) bool { return ip(f) && f.proto == 17 }},
	}
	r := rand.New(rand.NewPCG(1, 2))
	specs := make([]frameSpec, 3000)
	for i := range specs {
		specs[i] = randomSpec(r)
	}
	for _, raw := range []bool{false, true} {
		link := LinkTypeEthernet
		if raw {
			link = LinkTypeRaw
		}
		frames := make([][]byte, len(specs))
		for i, f := range specs {
			if raw && f.family == 0 {
				continue
			}
			frames[i] = f.build(t, raw)
		}
		for _, tc := range tests {
			prog, err := CompileFilter(tc.expr, link, 200)
			if err != nil {
				t.Fatal(err)
			}
			vm, err := bpf.NewVM(prog)
			if err != nil {
				t.Fatalf("%q: %v", tc.expr, err)
			}
			matched := 0
			for i, f := range specs {
				if frames[i] == nil {
					continue
				}
				n, err := vm.Run(frames[i])
				if err != nil {
					t.Fatalf("%q: %v", tc.expr, err)
				}
				want := 0
				if tc.want(f) {
					want = 200 // the VM does not cut to the frame length; the kernel does
					matched++
				}
				if n != want {
					t.Fatalf("link %d %q on %+v: kept %d bytes, want %d", link, tc.expr, f, n, want)
				}
			}
			if matched == 0 {
				t.Errorf("link %d %q matched nothing: weak test", link, tc.expr)
			}
		}
	}
}

// evalTerms is a direct interpreter of parsed terms, for the fuzz target.
func evalTerms(terms []term, f frameSpec) bool {
	if f.family == 0 {
		return false
	}
	for _, t := range terms {
		if t.family != 0 && int(t.family) != f.family || t.proto != 0 && t.proto != f.proto {
			continue
		}
		ok := true
		for _, pc := range t.ports {
			m := f.portsKnown() && (pc.dir != dirDst && f.sport == pc.port || pc.dir != dirSrc && f.dport == pc.port)
			if !m {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// FuzzCompileFilter checks that any text either fails with a *FilterError
// or compiles to a valid program whose verdicts agree with a direct
// interpretation of the parsed filter.
func FuzzCompileFilter(f *testing.F) {
	for _, s := range []string{"port 53", "udp port 53 or 5353", "ip6 and tcp dst port 853", "all", "ip or ip6",
		"src port 53 and dst port 1024", "port 53 or (port 54)", "udp and tcp", "port 99999"} {
		f.Add(s)
	}
	r := rand.New(rand.NewPCG(3, 4))
	specs := make([]frameSpec, 60)
	frames := make([][]byte, len(specs))
	for i := range specs {
		specs[i] = randomSpec(r)
		if i%2 == 0 {
			specs[i].sport = 53
		}
		frames[i] = specs[i].build(f, false)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		prog, err := CompileFilter(expr, LinkTypeEthernet, 1000)
		if err != nil {
			var fe *FilterError
			if !errors.As(err, &fe) && !errors.Is(err, ErrFilter) {
				t.Fatalf("%q: error %v is not a filter error", expr, err)
			}
			if fe != nil && (fe.Offset < 0 || fe.Offset > len(expr)) {
				t.Fatalf("%q: offset %d out of range", expr, fe.Offset)
			}
			return
		}
		terms, err := parseFilter(expr)
		if err != nil {
			t.Fatal(err)
		}
		if len(prog) > 4096 {
			t.Fatalf("%q: %d instructions", expr, len(prog))
		}
		vm, err := bpf.NewVM(prog)
		if err != nil {
			t.Fatalf("%q: %v", expr, err)
		}
		for i, sp := range specs {
			n, err := vm.Run(frames[i])
			if err != nil {
				t.Fatal(err)
			}
			if (n != 0) != evalTerms(terms, sp) {
				t.Fatalf("%q on %+v: kept %d", expr, sp, n)
			}
		}
	})
}

func ExampleCompileFilter() {
	prog, err := CompileFilter("udp port 53 or 5353", LinkTypeRaw, 65535)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(prog), prog[len(prog)-2])
	// Output: 48 ret #65535
}
