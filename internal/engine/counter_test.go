package engine

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/dnsieve/dnsieve/internal/fingerprint"
)

func TestCounterName(t *testing.T) {
	for _, c := range []struct {
		sub    string
		n      uint32
		ok     bool
		family string // a name of the same family, "" for none
	}{
		{"cdn0", 0, true, "cdn17"},
		{"cdn17.stage", 17, true, "cdn3.stage"},
		{"12", 12, true, "7"},
		{"web-9.svc", 9, true, "web-10.svc"},
		{"1234567", 1234567, true, "0"},
		{"12345678", 0, false, ""}, // more digits than a counter has
		{"www", 0, false, ""},
		{"9a", 0, false, ""}, // the number must end the label
		{"", 0, false, ""},
	} {
		lens := labelLens(c.sub)
		key, n, ok := counterName([]byte(c.sub), int(lens[0]))
		if ok != c.ok || n != c.n {
			t.Errorf("%q: got %d %v, want %d %v", c.sub, n, ok, c.n, c.ok)
		}
		if !ok {
			continue
		}
		if key == 0 {
			t.Errorf("%q: key 0 is the empty family", c.sub)
		}
		other, _, _ := counterName([]byte(c.family), int(labelLens(c.family)[0]))
		if other != key {
			t.Errorf("%q and %q: different families", c.sub, c.family)
		}
	}
	// Different text around the number: different families.
	a, _, _ := counterName([]byte("cdn1.x"), 4)
	b, _, _ := counterName([]byte("cdn1.y"), 4)
	c, _, _ := counterName([]byte("img1.x"), 4)
	d, _, _ := counterName([]byte("cdn1x"), 5) // not numbered: ends in x
	if a == b || a == c || d != 0 {
		t.Errorf("families %x %x %x %x", a, b, c, d)
	}
	// A label shorter than first says, or none: no panic, no family.
	if _, _, ok := counterName([]byte("ab1"), 9); ok {
		t.Error("first label beyond the name")
	}
}

func TestCounterFamily(t *testing.T) {
	var f counterFamily
	var oct octetSet
	f.add(1, 5, &oct)
	oct.add(7)
	f.add(2, 9, &oct) // another family replaces one of fewer than counterSwitch names
	if f.key != 2 || f.names != 1 || f.lo != 9 || f.hi != 9 || oct.len() != 0 {
		t.Fatalf("after the switch: %+v, %d octets", f, oct.len())
	}
	oct.add(8)
	for n := uint32(10); n < 10+counterSwitch; n++ {
		f.add(2, n, &oct)
	}
	f.add(3, 1, &oct) // now it stays
	if oct.len() != 1 {
		t.Fatalf("the family's octets went: %d", oct.len())
	}
	if f.key != 2 || f.names != counterSwitch+1 || f.lo != 9 || f.hi != 9+counterSwitch || f.span() != counterSwitch+1 {
		t.Fatalf("family: %+v span %d", f, f.span())
	}

	// Merging is order-free; halves of one family keep the larger count.
	x := counterFamily{key: 7, names: 40, lo: 0, hi: 39}
	y := counterFamily{key: 7, names: 30, lo: 30, hi: 69}
	z := counterFamily{key: 9, names: 40, lo: 0, hi: 39}
	for _, c := range []struct {
		a, b, want counterFamily
	}{
		{x, y, counterFamily{key: 7, names: 70, lo: 0, hi: 69}}, // disjoint parts add up
		{x, x, x}, // the same names twice: capped by the range
		{x, z, x}, // a tie: the smaller key
		{y, z, z}, // more names
		{x, counterFamily{}, x},
	} {
		a, b := c.a, c.b
		a.merge(c.b)
		b.merge(c.a)
		if a != c.want || b != c.want {
			t.Errorf("merge %+v %+v: %+v and %+v, want %+v", c.a, c.b, a, b, c.want)
		}
	}
}

func TestOctetSet(t *testing.T) {
	var s octetSet
	for _, b := range []byte{0, 63, 64, 127, 128, 255, 255, 0} {
		s.add(b)
	}
	if s.len() != 6 {
		t.Fatalf("len %d, want 6", s.len())
	}
}

func TestStagerFloor(t *testing.T) {
	base := Features{NumberedNames: 64, NumberedSpan: 128, AnswerFirstOctets: 24}
	for _, c := range []struct {
		name string
		mod  func(*Features)
		want Severity
	}{
		{"at the line", func(*Features) {}, SeverityMedium},
		{"too few names", func(f *Features) { f.NumberedNames = 63 }, SeverityNone},
		{"sparse", func(f *Features) { f.NumberedSpan = 129 }, SeverityNone},
		{"few networks", func(f *Features) { f.AnswerFirstOctets = 23 }, SeverityNone},
		{"4 KB", func(f *Features) { f.NumberedNames, f.NumberedSpan = 1024, 1024 }, SeverityHigh},
	} {
		f := base
		c.mod(&f)
		sev, why := StagerFloor(&f)
		if sev != c.want || (sev == SeverityNone) != (why == "") {
			t.Errorf("%s: %v %q", c.name, sev, why)
		}
		if floor, _ := DownstreamFloor(&f); floor != sev {
			t.Errorf("%s: DownstreamFloor %v, StagerFloor %v", c.name, floor, sev)
		}
	}
	f := base
	if _, why := StagerFloor(&f); why != "64 numbered names (one family, 128 numbers in its range) were answered with IPv4 addresses starting with 24 different octets: a payload served four bytes per A record (about 256 B), a stager's layout" {
		t.Errorf("words: %q", why)
	}
}

// aLookup feeds an A query for name from client and its response with
// address answer.
func (f *feeder) aLookup(name string, at time.Time, client string, answer netip.Addr) {
	c, s := netip.MustParseAddr(client), netip.MustParseAddr("192.0.2.53")
	f.observe(name, at.UnixNano(), c, s, tA, false, 0, 0, netip.Addr{}, fingerprint.Match{}, 0, false, false)
	f.observe(name, at.Add(5*time.Millisecond).UnixNano(), c, s, tA, true, 0, 4, answer, fingerprint.Match{}, 0, false, false)
}

// TestNumberedStager: a payload pulled four bytes per A answer from
// numbered names is a tunnel (high from 1,024 names), found while it
// runs, and its words say why; benign numbered families are not: hosts
// of one network, sparse CDN edge numbers, a few shards.
func TestNumberedStager(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	f := newFeeder(Config{})
	var alerts []Finding
	f.e.OnAlert = func(fd Finding) { alerts = append(alerts, fd) }

	// The stager: 300 names, fetched in a shuffled order (threads); the
	// first three are held by the compact tier, which keeps no family.
	order := rng.Perm(300)
	for i, n := range order {
		var a [4]byte
		for j := range a {
			a[j] = byte(rng.UintN(256))
		}
		f.aLookup(fmt.Sprintf("cdn%d.stage-cache.net", n), t0.Add(time.Duration(i)*50*time.Millisecond), "10.0.0.7", netip.AddrFrom4(a))
	}
	// A company's hosts swept by a monitoring script, in one /16.
	for n := range 500 {
		f.aLookup(fmt.Sprintf("host%03d.corp-example.com", n), t0.Add(time.Duration(n)*10*time.Millisecond), "10.0.0.8",
			netip.AddrFrom4([4]byte{10, 20, byte(n / 250), byte(n % 250)}))
	}
	// CDN edge names: numbered, sparse, answered from many networks.
	for i := range 400 {
		n := rng.UintN(100000)
		f.aLookup(fmt.Sprintf("e%d.dscb.akamaiedge.net", n), t0.Add(time.Duration(i)*time.Second), "10.0.0.9",
			netip.AddrFrom4([4]byte{byte(rng.UintN(256)), byte(rng.UintN(256)), 1, 1}))
	}
	// A company's hosts in one network, in a domain whose other names
	// resolve all over the address space: only the family's answers count.
	for n := range 128 {
		f.aLookup(fmt.Sprintf("host%03d.big-corp.com", n), t0.Add(time.Duration(n)*10*time.Millisecond), "10.0.0.8",
			netip.AddrFrom4([4]byte{10, 20, 0, byte(n)}))
	}
	for n := range 40 {
		f.aLookup(fmt.Sprintf("svc-%c%c.big-corp.com", 'a'+n%26, 'a'+n/26), t0.Add(time.Duration(n)*time.Minute), "10.0.0.8",
			netip.AddrFrom4([4]byte{byte(5 * n), 1, 2, 3}))
	}
	// A few shards from many networks.
	for n := range 40 {
		f.aLookup(fmt.Sprintf("s%d.shards-example.org", n), t0.Add(time.Duration(n)*time.Second), "10.0.0.9",
			netip.AddrFrom4([4]byte{byte(rng.UintN(256)), 2, 3, 4}))
	}

	got := map[string]Severity{}
	for _, fd := range f.e.Findings() {
		got[fd.RegisteredDomain] = fd.Severity
	}
	if len(got) != 1 || got["stage-cache.net"] != SeverityMedium {
		t.Fatalf("findings %v, want stage-cache.net at medium only", got)
	}
	fd := f.find(t, "stage-cache.net")
	if fd.Verdict != "tunnel" || fd.Features.NumberedNames != 297 || fd.Features.NumberedSpan != 300 || fd.Features.AnswerFirstOctets != 180 {
		t.Fatalf("verdict %q, features %+v", fd.Verdict, fd.Features)
	}
	if !strings.Contains(strings.Join(fd.Evidence, "\n"), "a payload served four bytes per A record") || len(fd.Samples) != 2 {
		t.Errorf("evidence does not say why, or samples %q:\n%s", fd.Samples, strings.Join(fd.Evidence, "\n"))
	}
	for _, s := range fd.Samples {
		if !strings.HasPrefix(s, "cdn") || !strings.HasSuffix(s, ".stage-cache.net") {
			t.Errorf("sample %q is not one of the stager's names", s)
		}
	}
	if len(alerts) == 0 || alerts[0].RegisteredDomain != "stage-cache.net" || alerts[0].Verdict != "tunnel" {
		t.Fatalf("no alert while the stager ran: %d alerts", len(alerts))
	}

	// 1,100 names: high.
	g := newFeeder(Config{})
	for n := range 1100 {
		g.aLookup(fmt.Sprintf("%d.p.big-stage.net", n), t0.Add(time.Duration(n)*20*time.Millisecond), "10.0.0.7",
			netip.AddrFrom4([4]byte{byte(rng.UintN(256)), byte(rng.UintN(256)), byte(rng.UintN(256)), byte(rng.UintN(256))}))
	}
	if fd := g.find(t, "big-stage.net"); fd == nil || fd.Severity != SeverityHigh {
		t.Fatalf("1,100 names: %+v", fd)
	}
}
