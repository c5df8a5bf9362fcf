package fingerprint

import (
	"math/rand"
	"strings"
	"testing"
)

// classifyUngated is Classify as it was before the gate: every matcher
// runs. It is the oracle the gated Classify must agree with.
func classifyUngated(m *Message) Match {
	if m == nil {
		return Match{}
	}
	if r := ClassifyRaw(m.Msg); r.Strength != None {
		return r
	}
	if r := pyexfilMatch(m.Msg); r.Strength != None {
		return r
	}
	if r := egressAssessTXT(m.Msg); r.Strength != None {
		return r
	}
	var v view
	if !v.init(m) {
		return Match{}
	}
	if v.n == 0 {
		return dnscat2Match(&v, m)
	}
	best := iodineMatch(&v, m)
	if best.Strength == Strong {
		if genericIodineData(best.Evidence) {
			if d := dns2tcpMatch(&v, m); d.Strength == Strong {
				return d
			}
		}
		return best
	}
	for _, f := range []func(*view, *Message) Match{dnscat2Match, dns2tcpMatch, ozymanMatch, dnsexfilMatch, dnsttMatch, cobaltMatch, sliverMatch, godohMatch, dnstealMatch, chashellMatch, detMatch, dnspotMatch, tunsMatch, tcpOverDNSMatch, dnsShellMatch, dnsliveryMatch, pupyMatch, dnscapyMatch, nstxMatch, egressAssessMatch, mythicMatch} {
		if best.Strength == Strong {
			break
		}
		if x := f(&v, m); better(x, best) {
			best = x
		}
	}
	return best
}

// checkGate requires, for one message, that every gate that says no is
// right (its matcher returns the zero Match) and that Classify agrees with
// the ungated oracle. It returns how many gates said no.
func checkGate(t testing.TB, m *Message) int {
	t.Helper()
	if got, want := Classify(m), classifyUngated(m); got != want {
		t.Fatalf("Classify(%q %v qt %d resp %v) = %+v, ungated %+v", m.Sub, m.SubLabels, m.QType, m.Response, got, want)
	}
	var v view
	if !v.init(m) || v.n == 0 {
		return 0
	}
	g := newGate(&v, m)
	skipped := 0
	for _, c := range []struct {
		name string
		open bool
		f    func(*view, *Message) Match
	}{
		{"dnscat2", g.dnscat2(), dnscat2Match},
		{"dns2tcp", g.dns2tcp(), dns2tcpMatch},
		{"ozyman", g.ozyman(), ozymanMatch},
		{"dnsexfil", g.dnsexfil(), dnsexfilMatch},
		{"dnstt", g.dnstt(), dnsttMatch},
		{"cobalt", g.cobalt(), cobaltMatch},
		{"sliver", g.sliver(), sliverMatch},
		{"godoh", g.godoh(), godohMatch},
		{"dnsteal", g.dnsteal(), dnstealMatch},
		{"chashell", g.chashell(), chashellMatch},
		{"det", g.det(), detMatch},
		{"dnspot", g.dnspot(), dnspotMatch},
		{"tuns", g.tuns(), tunsMatch},
		{"tcp-over-dns", g.tcpOverDNS(), tcpOverDNSMatch},
		{"dns-shell", g.dnsShell(), dnsShellMatch},
		{"dnslivery", g.dnslivery(), dnsliveryMatch},
		{"pupy", g.pupy(), pupyMatch},
		{"dnscapy", g.dnscapy(), dnscapyMatch},
		{"nstx", g.nstx(), nstxMatch},
		{"egress-assess", g.egressAssess(), egressAssessMatch},
		{"mythic", g.mythic(), mythicMatch},
	} {
		if c.open {
			continue
		}
		skipped++
		if x := c.f(&v, m); x != (Match{}) {
			t.Fatalf("%s gate closed on %q %v qt %d resp %v, but the matcher says %+v", c.name, m.Sub, m.SubLabels, m.QType, m.Response, x)
		}
	}
	return skipped
}

// TestGateAgreesOnToolCases: every tool's own messages, and ordinary names
// with every query type.
func TestGateAgreesOnToolCases(t *testing.T) {
	b := newBuilder()
	var m Message
	for _, c := range toolCases() {
		if !b.message(c.msg(), &m) {
			t.Fatal(c.desc)
		}
		checkGate(t, &m)
	}
	// Names at the gates' edges: the fewest labels and the shortest first
	// labels each matcher accepts.
	edges := []string{
		"12-34.id-56.down.example.com",
		"mfrgg.12-34.id-56.up.example.com",
		"init.mfrggzdfmztwq2lkor4q.example.com",
		"1.mfrggzdfmzt.example.com",
		"123456789.abcdefghijklmnopqrstuvwxyz-_.example.com",
		"aaa.stage.123.example.com",
		"cdn.12ab.example.com",
		"www.21234abcd.a.example.com",
		"1234567890.example.com",
		"0102ff0001.example.com",
		"0102ff000141.example.com",
		"dnscat.0102ff000141",
	}
	// The idle check-in: a decimal label of at most ten digits.
	for _, l := range []string{"1234567890", "12345678901", "123"} {
		b.message(wireMsg([]string{l, "example", "com"}, typeA, true, answer{typeA, []byte{0, 0, 0, 0}}), &m)
		checkGate(t, &m)
	}
	for _, n := range append(edges, negativeNames()...) {
		for _, qt := range []uint16{1, 5, 10, 15, 16, 25, 28, 33, 65399} {
			for _, resp := range []bool{false, true} {
				b.message(wireMsg(strings.Split(n, "."), qt, resp), &m)
				checkGate(t, &m)
			}
		}
	}
}

// TestGateAgreesOnRealisticTraffic: the first questions of generated
// realistic traffic; most gates must close on them (that is the point).
func TestGateAgreesOnRealisticTraffic(t *testing.T) {
	msgs := realisticMessages(20000)
	skipped, total := 0, 0
	for i := range msgs {
		skipped += checkGate(t, &msgs[i])
		if len(msgs[i].SubLabels) > 0 {
			total += 7
		}
	}
	if skipped*10 < total*7 {
		t.Errorf("gates skipped only %d of %d matcher calls", skipped, total)
	}
	t.Logf("gates skipped %d of %d matcher calls", skipped, total)
}

// TestGateAgreesOnRandomLabels: random labels near the gates' edges
// (lengths 1-63 with the 8-, 10-, 60- and 63-character boundaries, the
// alphabets of every encoder, the tools' keywords), one to four labels,
// many query types.
func TestGateAgreesOnRandomLabels(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	alphabets := []string{
		"0123456789",
		"0123456789abcdef",
		"0123456789ABCDEF",
		"abcdefghijklmnopqrstuvwxyz012345",
		"abcdefghijklmnopqrstuvwxyz234567",
		"ab1c2d3e4f5g6h7j8k9m0npqrtuvwxyz",
		sliver58Alphabet,
		b64Alphabet,
		b64URLAlphabet,
		"abcdefghijklmnopqrstuvwxyz-",
		"aA-_+/=.\xbc\xfd\x80",
	}
	words := []string{"dnscat", "DNScat", "init", "INIT", "stage", "cdn", "www6", "api", "www", "post", "up", "down", "id-12", "12-34", "=auth", "=connect", "=resource", "base32", "base64"}
	lengths := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 16, 24, 32, 59, 60, 61, 62, 63}
	label := func() string {
		if rng.Intn(20) == 0 {
			return "12-34.id-56.down" // three labels
		}
		if rng.Intn(5) == 0 {
			return words[rng.Intn(len(words))]
		}
		a := alphabets[rng.Intn(len(alphabets))]
		b := make([]byte, lengths[rng.Intn(len(lengths))])
		for i := range b {
			b[i] = a[rng.Intn(len(a))]
		}
		return string(b)
	}
	qtypes := []uint16{1, 5, 10, 15, 16, 25, 28, 33, 65399}
	bl := newBuilder()
	var m Message
	for i := 0; i < 200000; i++ {
		var labels []string
		for j := 1 + rng.Intn(4); j > 0; j-- {
			labels = append(labels, strings.Split(label(), ".")...)
		}
		labels = append(labels, "example", "com")
		msg := wireMsg(labels, qtypes[rng.Intn(len(qtypes))], rng.Intn(2) == 0)
		if !bl.message(msg, &m) {
			continue
		}
		checkGate(t, &m)
	}
}

// FuzzClassifyGate: on any message, gated Classify agrees with the
// ungated oracle and no closed gate hides a match.
func FuzzClassifyGate(f *testing.F) {
	for _, c := range toolCases() {
		var m Message
		if newBuilder().message(c.msg(), &m) {
			f.Add(m.Response, m.QType, append([]byte(nil), m.Sub...), append([]byte(nil), m.SubLabels...), append([]byte(nil), m.Zone...), m.Msg)
		}
	}
	f.Add(false, uint16(1), []byte("www"), []byte{3}, []byte("example.com"), []byte{})
	f.Fuzz(func(t *testing.T, resp bool, qt uint16, sub, lens, zone, msg []byte) {
		m := Message{Response: resp, QType: qt, Sub: sub, SubLabels: lens, Zone: zone, Msg: msg}
		checkGate(t, &m)
	})
}
