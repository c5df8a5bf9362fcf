package engine

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"slices"
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

// fam is a family of n names numbered lo to hi, all of its weight.
func fam(key uint64, names, lo, hi uint32) counterFamily {
	return counterFamily{key: key, names: names, lo: lo, hi: hi, weight: names, last: hi}
}

func TestNumberedFamilies(t *testing.T) {
	var s numbered
	for k := uint64(1); k <= familySlots; k++ { // one name each: every family gets a slot
		if f := s.add(2*k+1, uint32(k)); f == nil || *f != fam(2*k+1, 1, uint32(k), uint32(k)) {
			t.Fatalf("family %d: %+v", k, f)
		}
	}
	s.add(3, 9) // the first family grows
	if f := s.add(101, 7); f != nil || s.taken() != 1 || s.fams[0] != (counterFamily{key: 3, names: 2, lo: 1, hi: 9, weight: 1, last: 9}) {
		// All full: the fifth family takes one from each; those left
		// with none go.
		t.Fatalf("a fifth family: %+v in %+v", f, s.fams)
	}
	if f := s.add(101, 7); f != &s.fams[1] || *f != fam(101, 1, 7, 7) {
		t.Fatalf("then it gets a slot: %+v in %+v", f, s.fams)
	}

	// Decoys: four families of 8 names each, then the stager with a new
	// decoy family after every other name of its own. The stager's first
	// five names are left out (with three new decoys they wear the four
	// families down), then it holds a slot whatever the decoys do.
	s = numbered{}
	for k := uint64(1); k <= familySlots; k++ {
		for n := range uint32(8) {
			s.add(2*k+1, n)
		}
	}
	const stager = 99
	for n := range uint32(200) {
		f := s.add(stager, n)
		if (f == nil) != (n < 5) {
			t.Fatalf("stager name %d: %+v in %+v", n, f, s.fams)
		}
		if n%2 == 0 {
			s.add(uint64(1001+2*n), n)
		}
	}
	got := s.find(stager)
	if got == nil || got.names != 195 || got.lo != 5 || got.hi != 199 {
		t.Fatalf("stager's family %+v in %+v", got, s.fams)
	}

	// Two families alternating both grow.
	s = numbered{}
	for n := range uint32(100) {
		s.add(5, n)
		s.add(7, n)
	}
	in := fam(5, 100, 0, 99)
	in.near = 99
	in7 := in
	in7.key = 7
	if s.fams[0] != in || s.fams[1] != in7 || s.taken() != 2 {
		t.Fatalf("alternating: %+v", s.fams)
	}

	// describe: the family that earns the floor stands for the domain,
	// whatever decoy family holds more addresses; among equals, more
	// first octets win.
	s = numbered{}
	s.fams[0] = fam(3, 1, 0, 0) // a decoy: one name, 255 addresses from one network
	s.fams[0].addrs, s.fams[0].most = 255, 255
	s.fams[0].octets.Add(10)
	s.fams[1] = fam(5, 200, 0, 199) // the stager, in order
	s.fams[1].near, s.fams[1].addrs, s.fams[1].most = 199, 200, 1
	for b := range 100 {
		s.fams[1].octets.Add(byte(156 + b)) // 156 to 255
	}
	s.fams[2] = fam(7, 70, 0, 99)
	s.fams[2].addrs, s.fams[2].most = 70, 1
	for b := range 20 {
		s.fams[2].octets.Add(byte(b))
	}
	f := Features{Clients: 1}
	s.describe(&f)
	if f.NumberedNames != 200 || f.NumberedInOrder != 199 || f.NumberedAnswers != 200 || f.AnswerFirstOctets != 100 {
		t.Fatalf("described %+v", f)
	}
	if sev, _ := StagerFloor(&f); sev != SeverityMedium {
		t.Fatalf("stager behind a decoy: %v", sev)
	}
	s.fams[1].octets = OctetSet{} // now none earns the floor: the most octets
	s.describe(&f)
	if f.NumberedNames != 70 || f.AnswerFirstOctets != 20 {
		t.Fatalf("described %+v", f)
	}
}

// TestNearGap: a name is near the one before it within a sixteenth of
// the range so far (at least 1, at most maxNearGap): in a small range, any
// order would otherwise look near.
func TestNearGap(t *testing.T) {
	f := counterFamily{key: 1}
	for n := range uint32(64) { // in order
		f.count(n)
	}
	if f.near != 63 {
		t.Fatalf("in order: %d near", f.near)
	}
	g := fam(1, 1, 0, 0)
	g.count(2) // range 3: only the next number is near
	g.count(1)
	if g.near != 1 {
		t.Fatalf("small range: %d near", g.near)
	}
	h := fam(1, 2, 0, 999)
	h.count(999 - maxNearGap) // range 1000: maxNearGap
	h.count(999 - 2*maxNearGap - 1)
	if h.near != 1 {
		t.Fatalf("large range: %d near", h.near)
	}
}

func TestNumberedMerge(t *testing.T) {
	x := fam(7, 40, 0, 39)
	x.addrs, x.most, x.near = 40, 1, 39
	x.octets.Add(1)
	y := fam(7, 30, 30, 69)
	y.addrs, y.most, y.near = 60, 2, 20
	y.octets.Add(2)
	z := fam(9, 40, 0, 39)
	xy := fam(7, 70, 0, 69) // disjoint parts add up
	xy.addrs, xy.most, xy.near = 100, 2, 59
	xy.octets.Add(1)
	xy.octets.Add(2)
	xx := x // the same names twice: names and weight capped by the range, answers add up
	xx.addrs = 80
	for _, c := range []struct {
		name       string
		a, b, want []counterFamily
	}{
		{"parts", []counterFamily{x}, []counterFamily{y}, []counterFamily{xy}},
		{"twice", []counterFamily{x}, []counterFamily{x}, []counterFamily{xx}},
		{"two families", []counterFamily{x}, []counterFamily{z}, []counterFamily{x, z}}, // a tie: the smaller key first
		{"more names first", []counterFamily{y}, []counterFamily{z}, []counterFamily{z, y}},
		{"empty", []counterFamily{x}, nil, []counterFamily{x}},
		{"the largest stay", []counterFamily{fam(11, 5, 0, 4), fam(13, 50, 0, 49), fam(15, 3, 0, 2)},
			[]counterFamily{fam(17, 9, 0, 8), fam(19, 1, 0, 0), fam(21, 4, 0, 3)},
			[]counterFamily{fam(13, 50, 0, 49), fam(17, 9, 0, 8), fam(11, 5, 0, 4), fam(21, 4, 0, 3)}},
	} {
		var a, b, want numbered
		copy(a.fams[:], c.a)
		copy(b.fams[:], c.b)
		copy(want.fams[:], c.want)
		a.await(11) // awaited names are dropped: no order of two rings is canonical
		b.await(13)
		ab, ba := a, b
		ab.merge(&b)
		ba.merge(&a)
		if ab != want || ba != want {
			t.Errorf("%s: %+v and %+v, want %+v", c.name, ab, ba, want)
		}
		if msg := ab.check(); msg != "" {
			t.Errorf("%s: the merge is inconsistent: %s", c.name, msg)
		}
	}
}

func TestNumberedCheck(t *testing.T) {
	good := fam(7, 10, 3, 20)
	good.addrs, good.most, good.near, good.last = 30, 3, 9, 12
	for _, c := range []struct {
		name string
		mod  func(*numbered)
		ok   bool
	}{
		{"consistent", func(*numbered) {}, true},
		{"even key", func(s *numbered) { s.fams[0].key = 8 }, false},
		{"no names", func(s *numbered) { s.fams[0].names = 0 }, false},
		{"no weight", func(s *numbered) { s.fams[0].weight = 0 }, false},
		{"every name in order", func(s *numbered) { s.fams[0].near = 10 }, false},
		{"latest out of range", func(s *numbered) { s.fams[0].last = 21 }, false},
		{"range upside down", func(s *numbered) { s.fams[0].lo = 21 }, false},
		{"number too large", func(s *numbered) { s.fams[0].hi = maxCounter + 1 }, false},
		{"addresses without an answer", func(s *numbered) { s.fams[0].most = 0 }, false},
		{"one key twice", func(s *numbered) { s.fams[1] = good }, false},
		{"a free slot with counts", func(s *numbered) { s.fams[2].names = 1 }, false},
		{"two families", func(s *numbered) { s.fams[1] = fam(9, 1, 0, 0) }, true},
		// add takes the first free slot, taken and describe stop at it:
		// a family behind a free slot would be counted twice or lost.
		{"a family after a free slot", func(s *numbered) { s.fams[2] = fam(9, 1, 0, 0) }, false},
		{"no family at all", func(s *numbered) { s.fams[0] = counterFamily{} }, false},
		{"no family, names awaited", func(s *numbered) { s.fams[0], s.pending[0] = counterFamily{}, 3 }, false},
	} {
		s := numbered{fams: [familySlots]counterFamily{good}}
		c.mod(&s)
		if msg := s.check(); (msg == "") != c.ok {
			t.Errorf("%s: %q", c.name, msg)
		}
	}
}

// TestFamilyAnswers: a numbered name's first response counts its A
// records and their first octets, in its own family; the same name
// fetched again with other addresses adds nothing; a response seen without
// its query counts at once; of more first queries than awaitedNames
// outstanding, the oldest go uncounted.
func TestFamilyAnswers(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	f := newFeeder(Config{})
	addr := func(first byte) []netip.Addr {
		return []netip.Addr{netip.AddrFrom4([4]byte{first, 0, 0, 1}), netip.AddrFrom4([4]byte{first, 0, 0, 2})}
	}
	for n := range 10 { // a family of ten names, answered from 10.x
		f.aLookupN(fmt.Sprintf("a%d.example.com", n), t0.Add(time.Duration(n)*time.Second), "10.0.0.7", addr(10))
	}
	for n := range 10 { // fetched again, from all over
		f.aLookupN(fmt.Sprintf("a%d.example.com", n), t0.Add(time.Minute+time.Duration(n)*time.Second), "10.0.0.8", addr(byte(100+n)))
	}
	f.aLookupN("b1.example.com", t0.Add(2*time.Minute), "10.0.0.7", addr(77)) // another family
	d := f.e.domains["example.com"]
	a := d.num.fams[0]
	// The compact tier held the first three names.
	if a.names != 7 || a.addrs != 14 || a.most != 2 || a.octets.Len() != 1 || a.payload() != 14 {
		t.Fatalf("a's family: %+v", a)
	}
	if b := d.num.fams[1]; b.names != 1 || b.addrs != 2 || b.octets.Len() != 1 || !b.octets.has(77) {
		t.Fatalf("b's family: %+v", b)
	}

	// A response without its query (a capture of one direction).
	c, s := netip.MustParseAddr("10.0.0.7"), netip.MustParseAddr("192.0.2.53")
	f.observe("a50.example.com", t0.Add(3*time.Minute).UnixNano(), c, s, tA, true, 0, 4, netip.AddrFrom4([4]byte{11, 0, 0, 1}),
		fingerprint.Match{}, 0, false, false)
	if a := d.num.fams[0]; a.names != 8 || a.addrs != 15 || a.octets.Len() != 2 {
		t.Fatalf("response alone: %+v", a)
	}

	// awaitedNames+1 queries before any response: the first one's
	// response finds no place left.
	at := t0.Add(4 * time.Minute)
	for n := range awaitedNames + 1 {
		f.observe(fmt.Sprintf("a%d.example.com", 100+n), at.UnixNano(), c, s, tA, false, 0, 0, netip.Addr{}, fingerprint.Match{}, 0, false, false)
	}
	for n := range awaitedNames + 1 {
		f.observe(fmt.Sprintf("a%d.example.com", 100+n), at.Add(time.Second).UnixNano(), c, s, tA, true, 0, 4,
			netip.AddrFrom4([4]byte{byte(120 + n), 0, 0, 1}), fingerprint.Match{}, 0, false, false)
	}
	if a := d.num.fams[0]; a.names != 8+awaitedNames+1 || a.addrs != 15+awaitedNames || a.octets.Len() != 2+awaitedNames || a.octets.has(120) {
		t.Fatalf("outstanding queries: %+v", a)
	}
	// A first response without A records (an error, a truncated answer)
	// leaves the name waiting for the real one.
	f.observe("a300.example.com", at.Add(time.Minute).UnixNano(), c, s, tA, false, 0, 0, netip.Addr{}, fingerprint.Match{}, 0, false, false)
	f.observe("a300.example.com", at.Add(time.Minute+time.Millisecond).UnixNano(), c, s, tA, true, 2, 0, netip.Addr{}, fingerprint.Match{}, 0, false, false)
	f.aLookupN("a300.example.com", at.Add(2*time.Minute), "10.0.0.7", addr(200))
	if a := d.num.fams[0]; a.addrs != 15+awaitedNames+2 || !a.octets.has(200) {
		t.Fatalf("after an empty first response: %+v", a)
	}
	if c := fam(1, 3, 0, 2); c.payload() != 0 {
		t.Fatal("payload without answers")
	}
	g := fam(1, 3, 0, 2) // more addresses than the names could bring (merged parts that overlap)
	g.addrs, g.most = 1000, 2
	if g.payload() != 6 {
		t.Fatalf("payload %d, want 6", g.payload())
	}
}

func TestOctetSet(t *testing.T) {
	var s, u OctetSet
	for _, b := range []byte{0, 63, 64, 127, 128, 255, 255, 0} {
		s.Add(b)
	}
	if s.Len() != 6 {
		t.Fatalf("len %d, want 6", s.Len())
	}
	u.Add(1)
	u.Add(255)
	u.union(&s)
	if u.Len() != 7 {
		t.Fatalf("union len %d, want 7", u.Len())
	}
	if s.NonUnicast() != 1 {
		t.Fatalf("non-unicast %d, want 1 (255)", s.NonUnicast())
	}
	var w OctetSet
	for _, b := range []byte{0, 127, 192, 223, 224, 239, 240, 255} {
		w.Add(b)
	}
	if w.NonUnicast() != 4 {
		t.Fatalf("non-unicast %d, want 4 (224, 239, 240, 255)", w.NonUnicast())
	}
	for _, c := range []struct {
		octets []byte
		want   bool
	}{
		{nil, false},
		{[]byte{0x20, 'A', 'z', 0x7E}, true},
		{[]byte{0, '\t', '\n', '\r', 'A'}, true},
		{[]byte{0x20, 'A', 0x7F}, false},
		{[]byte{0x1F, 'A'}, false},
		{[]byte{1, 'A'}, false},
		{[]byte{0x0B, 'A'}, false},
		{[]byte{0x0C, 'A'}, false},
		{[]byte{'A', 0xE0}, false},
		{[]byte{'A', 0xC1}, false},
		{[]byte{'A', 0x80}, false},
	} {
		var p OctetSet
		for _, b := range c.octets {
			p.Add(b)
		}
		if p.Text() != c.want {
			t.Errorf("Text(%q) = %v", c.octets, !c.want)
		}
	}
}

func TestStagerFloor(t *testing.T) {
	base := Features{NumberedNames: 64, NumberedSpan: 128, NumberedInOrder: 32, NumberedAnswers: 64, NumberedMostPerAnswer: 1,
		AnswerFirstOctets: 24, AnswerNonUnicastOctets: 1, Clients: 9}
	few := func(f *Features) {
		f.NumberedNames, f.NumberedSpan, f.NumberedInOrder, f.AnswerFirstOctets, f.NumberedMostPerAnswer = 16, 32, 15, 40, 8
	}
	for _, c := range []struct {
		name string
		mod  func(*Features)
		want Severity
	}{
		{"at the line", func(*Features) {}, SeverityMedium},
		{"too few addresses", func(f *Features) { f.NumberedAnswers = 63 }, SeverityNone},
		{"sparse", func(f *Features) { f.NumberedSpan = 129 }, SeverityNone},
		{"out of order", func(f *Features) { f.NumberedInOrder = 31 }, SeverityNone},
		{"out of order, complete, one host", func(f *Features) { f.NumberedInOrder, f.NumberedSpan, f.Clients = 0, 71, 1 }, SeverityMedium},
		{"out of order, nearly complete", func(f *Features) { f.NumberedInOrder, f.NumberedSpan, f.Clients = 0, 72, 1 }, SeverityNone},
		{"out of order, complete, many hosts", func(f *Features) { f.NumberedInOrder, f.NumberedSpan, f.Clients = 0, 64, 5 }, SeverityNone},
		{"few networks", func(f *Features) { f.AnswerFirstOctets = 23 }, SeverityNone},
		// Hosts of many clouds, asked in order (a monitoring sweep): no
		// answer a host could not have.
		{"no non-unicast octet", func(f *Features) { f.AnswerNonUnicastOctets = 0 }, SeverityNone},
		{"every unicast octet, none other", func(f *Features) { f.AnswerFirstOctets, f.AnswerNonUnicastOctets = 223, 0 }, SeverityNone},
		{"text", func(f *Features) { f.AnswerNonUnicastOctets, f.AnswerTextOctets = 0, true }, SeverityMedium},
		{"packed answers", few, SeverityMedium},
		{"packed answers, few networks", func(f *Features) { few(f); f.AnswerFirstOctets = 39 }, SeverityNone},
		{"answers not packed", func(f *Features) { few(f); f.NumberedMostPerAnswer = 7 }, SeverityNone},
		{"too few names", func(f *Features) { few(f); f.NumberedNames, f.NumberedSpan, f.NumberedInOrder = 15, 16, 14 }, SeverityNone},
		{"4 KB", func(f *Features) { f.NumberedAnswers = 1024 }, SeverityHigh},
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
	f.NumberedAnswers = 1500
	f.AnswerNonUnicastOctets, f.AnswerTextOctets = 0, true
	if _, why := StagerFloor(&f); why != "64 numbered names (one family, 128 numbers in its range, most in order) were answered with 1,500 IPv4 addresses starting with 24 different octets, every one a text byte (printable, tab, line break or NUL: a text payload): a payload served four bytes per A record (about 5.9 KiB), a stager's layout" {
		t.Errorf("words: %q", why)
	}
	f.AnswerNonUnicastOctets, f.AnswerTextOctets = 1, false
	if _, why := StagerFloor(&f); why != "64 numbered names (one family, 128 numbers in its range, most in order) were answered with 1,500 IPv4 addresses starting with 24 different octets, 1 of them multicast or reserved (224 to 255, no host's): a payload served four bytes per A record (about 5.9 KiB), a stager's layout" {
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
	if fd.Verdict != "tunnel" || fd.Features.NumberedNames != 297 || fd.Features.NumberedSpan != 300 || fd.Features.NumberedAnswers != 297 ||
		fd.Features.AnswerFirstOctets != 180 {
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

// aLookupN feeds an A query for name and its response with the addresses
// addrs, as the analyzer reports them.
func (f *feeder) aLookupN(name string, at time.Time, client string, addrs []netip.Addr) {
	c, s := netip.MustParseAddr(client), netip.MustParseAddr("192.0.2.53")
	f.observe(name, at.UnixNano(), c, s, tA, false, 0, 0, netip.Addr{}, fingerprint.Match{}, 0, false, false)
	f.observe(name, at.Add(5*time.Millisecond).UnixNano(), c, s, tA, true, 0, 4*len(addrs), addrs[0], fingerprint.Match{}, 0, false, false,
		func(o *Observation) {
			o.AnswerV4 = 0
			for _, a := range addrs {
				o.AddAnswerV4(a.As4()[0])
			}
		})
}

// TestStagerEvasions: a stager that packs many A records into each
// answer, or that sends decoy numbered families first and in between, is
// still found; a load-balanced pool of numbered names answered with
// several cloud addresses each is not.
func TestStagerEvasions(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	random := func(n int) []netip.Addr {
		out := make([]netip.Addr, n)
		for i := range out {
			out[i] = netip.AddrFrom4([4]byte{byte(rng.UintN(256)), byte(rng.UintN(256)), byte(rng.UintN(256)), byte(rng.UintN(256))})
		}
		return out
	}
	f := newFeeder(Config{})
	// 24 names of 16 addresses: 1.5 KB in 24 lookups.
	for n := range 24 {
		f.aLookupN(fmt.Sprintf("c%d.packed-stage.net", n), t0.Add(time.Duration(n)*time.Second), "10.0.0.7", random(16))
	}
	// Twelve decoy names of each of four families, answered from one
	// network, then the stager's 150 names with a new decoy family after
	// every third.
	one := []netip.Addr{netip.MustParseAddr("10.9.9.9")}
	for k := range 4 {
		for n := range 12 {
			f.aLookupN(fmt.Sprintf("d%c%d.decoy-stage.net", 'a'+k, n), t0.Add(time.Duration(k*12+n)*time.Second), "10.0.0.8", one)
		}
	}
	for n := range 150 {
		f.aLookupN(fmt.Sprintf("x%d.decoy-stage.net", n), t0.Add(time.Duration(100+n)*time.Second), "10.0.0.8", random(1))
		if n%3 == 0 {
			f.aLookupN(fmt.Sprintf("q%dz%d.decoy-stage.net", n, n), t0.Add(time.Duration(100+n)*time.Second), "10.0.0.8", one)
		}
	}
	// A pool of 40 numbered names, each answered with four addresses of
	// a cloud's 20 networks.
	cloud := []byte{3, 13, 15, 18, 34, 35, 44, 50, 52, 54, 63, 99, 100, 107, 108, 130, 143, 176, 184, 204}
	for n := range 40 {
		addrs := make([]netip.Addr, 4)
		for i := range addrs {
			addrs[i] = netip.AddrFrom4([4]byte{cloud[rng.IntN(len(cloud))], byte(rng.UintN(256)), 1, 1})
		}
		f.aLookupN(fmt.Sprintf("shard%d.pool-example.com", n+1), t0.Add(time.Duration(n)*time.Second), "10.0.0.9", addrs)
	}

	// A CDN's edge hosts e0..e999, asked in the order users need them by
	// 300 hosts until two thirds of the range is seen, each answered from
	// anywhere: dense, but not a sweep.
	seen := 0
	for i := 0; seen < 700; i++ {
		n := rng.IntN(1000)
		name := fmt.Sprintf("e%d.dscb.edge-example.net", n)
		client := fmt.Sprintf("10.1.%d.%d", i%300/250, 1+i%300%250)
		f.aLookupN(name, t0.Add(time.Duration(i)*100*time.Millisecond), client, random(1+rng.IntN(3)))
		if d := f.e.domains["edge-example.net"]; d != nil {
			seen = int(d.unique)
		}
	}

	got := map[string]Severity{}
	for _, fd := range f.e.Findings() {
		got[fd.RegisteredDomain] = fd.Severity
	}
	if len(got) != 2 || got["packed-stage.net"] != SeverityMedium || got["decoy-stage.net"] != SeverityMedium {
		t.Fatalf("findings %v, want packed-stage.net and decoy-stage.net at medium", got)
	}
	fd := f.find(t, "packed-stage.net")
	if fd.Features.NumberedNames != 21 || fd.Features.NumberedAnswers != 21*16 {
		t.Errorf("packed: %+v", fd.Features)
	}
	fd = f.find(t, "decoy-stage.net")
	// The stager's first eight names wore the decoys down.
	if fd.Features.NumberedNames != 142 || fd.Features.NumberedSpan != 142 || fd.Features.NumberedAnswers != 142 {
		t.Errorf("decoys: %+v", fd.Features)
	}
}

// TestReadVersion8Snapshot reads a snapshot the version 8 writer made
// (testdata/snapshot-v8.bin, kept as it was written: 100 names
// cdn10..cdn109.stage-cache.net answered from random addresses, 20 hosts
// of corp-example.com in one network). Its one family per domain becomes
// the first slot, one address a name, so the verdict stays.
func TestReadVersion8Snapshot(t *testing.T) {
	b, err := os.ReadFile("testdata/snapshot-v8.bin")
	if err != nil {
		t.Fatal(err)
	}
	if b[len(snapshotMagic)] != 8 {
		t.Fatalf("the fixture is version %d", b[len(snapshotMagic)])
	}
	f := newFeeder(Config{})
	if err := f.e.ReadSnapshot(bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]struct {
		names, lo, hi uint32
		octets        int
	}{"stage-cache.net": {97, 10, 109, 86}, "corp-example.com": {17, 3, 19, 1}} {
		d := f.e.domains[name]
		if d == nil || d.num == nil || d.num.taken() != 1 {
			t.Fatalf("%s: %+v", name, d)
		}
		g := d.num.fams[0]
		if g.names != want.names || g.lo != want.lo || g.hi != want.hi || g.octets.Len() != want.octets ||
			g.weight != g.names || g.addrs != g.names || g.most != 1 {
			t.Errorf("%s: %+v", name, g)
		}
	}
	fd := f.find(t, "stage-cache.net")
	if fd == nil || fd.Severity != SeverityMedium || fd.Features.NumberedAnswers != 97 {
		t.Fatalf("stage-cache.net: %+v", fd)
	}
	// Written as version 8 again, it is the same file.
	var v8 bytes.Buffer
	if err := f.e.writeSnapshot(&v8, 8); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(v8.Bytes(), b) {
		t.Error("version 8 written back differs from the file read")
	}
	// Written again, it is version 9 and reads back the same.
	var again bytes.Buffer
	if err := f.e.WriteSnapshot(&again); err != nil {
		t.Fatal(err)
	}
	g := newFeeder(Config{})
	if err := g.e.ReadSnapshot(bytes.NewReader(again.Bytes())); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(snapshotBytes(t, g.e), again.Bytes()) {
		t.Fatal("version 9 from version 8 does not read back the same")
	}
}

// TestSnapshotRejectsBadFamily: a snapshot whose numbered family is
// inconsistent does not read.
func TestSnapshotRejectsBadFamily(t *testing.T) {
	for _, c := range []struct {
		name string
		mod  func(*counterFamily)
	}{
		{"range upside down", func(f *counterFamily) { f.lo = f.hi + 1 }},
		{"even key", func(f *counterFamily) { f.key++ }},
		{"no weight", func(f *counterFamily) { f.weight = 0 }},
	} {
		f := newFeeder(Config{})
		t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		for n := range 20 {
			f.aLookup(fmt.Sprintf("n%d.family-example.com", n), t0.Add(time.Duration(n)*time.Second), "10.0.0.7", netip.AddrFrom4([4]byte{10, 0, 0, byte(n)}))
		}
		d := f.e.domains["family-example.com"]
		if d == nil || d.num == nil {
			t.Fatal("no family")
		}
		c.mod(&d.num.fams[0])
		var b bytes.Buffer
		if err := f.e.WriteSnapshot(&b); err != nil {
			t.Fatal(err)
		}
		err := newFeeder(Config{}).e.ReadSnapshot(&b)
		if err == nil || !strings.Contains(err.Error(), "family-example.com: numbered family inconsistent") {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

func TestAddAnswerV4(t *testing.T) {
	var o Observation
	for i := range 300 {
		o.AddAnswerV4(byte(i))
	}
	if o.AnswerV4 != 255 || o.AnswerV4Firsts != [MaxAnswerV4Firsts]byte{0, 1, 2, 3, 4, 5, 6, 7} {
		t.Fatalf("%d records, first octets %v", o.AnswerV4, o.AnswerV4Firsts)
	}
}

// TestNumberedFullNameSet: once a domain's name set is full, a name
// fetched again would look new; numbered families then stop counting, so
// a popular pool asked over and over is no stager.
func TestNumberedFullNameSet(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	f := newFeeder(Config{MaxNamesPerDomain: 64})
	for i := range 100 { // other names fill the set first
		f.aLookupN(fmt.Sprintf("w%c%c.pool-example.net", 'a'+i%26, 'a'+i/26), t0.Add(time.Duration(i)*time.Second), "10.0.0.1",
			[]netip.Addr{netip.MustParseAddr("10.9.9.9")})
	}
	for i := range 3000 {
		a := netip.AddrFrom4([4]byte{byte(rng.UintN(256)), 1, 2, 3})
		f.aLookupN(fmt.Sprintf("edge%d.pool-example.net", i%20), t0.Add(time.Duration(100+i)*time.Second), fmt.Sprintf("10.0.%d.%d", i%200/100, 1+i%100), []netip.Addr{a})
	}
	if fs := f.e.Findings(); len(fs) != 0 {
		t.Fatalf("findings %+v", fs[0].Features)
	}
}

// TestSampleKeptOnce: a name that is both a numbered family's sample and
// the domain's first data-like name is one sample, not two.
func TestSampleKeptOnce(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	f := newFeeder(Config{})
	for n := 1; ; n++ {
		f.aLookup(fmt.Sprintf("mailserver%d.example.com", n), t0.Add(time.Duration(n)*time.Second), "10.0.0.7", netip.AddrFrom4([4]byte{10, 0, 0, byte(n)}))
		if d := f.e.domains["example.com"]; d != nil && d.num != nil && d.num.fams[0].names == firstSample-1 {
			break
		}
		if n > 1000 {
			t.Fatal("the family never reached its sample")
		}
	}
	const name = "mailserver1234567.example.com"
	f.aLookup(name, t0.Add(time.Minute), "10.0.0.7", netip.AddrFrom4([4]byte{10, 0, 0, 99}))
	d := f.e.domains["example.com"]
	if d.dataNames != 1 {
		t.Fatalf("%d data-like names, want 1 (the test no longer reaches both sample paths)", d.dataNames)
	}
	var got []string
	for _, s := range d.samples {
		got = append(got, string(s))
	}
	if !slices.Equal(got, []string{name}) {
		t.Fatalf("samples %q, want [%q]", got, name)
	}
	if d.mem != memOf(d) {
		t.Fatalf("memory %d, recounted %d", d.mem, memOf(d))
	}
}

// TestMonitoringSweepIsNoStager: a monitoring host resolving host0 to
// host599 in order, each a machine somewhere in the unicast space (first
// octets 1 to 223), is a dense in-order sweep answered from every network,
// yet no stager: no host has a multicast or reserved address, and the
// networks are not all printable characters. The same sweep answered with
// payload bytes, or with base64 text, is one.
func TestMonitoringSweepIsNoStager(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	const base64Chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for _, c := range []struct {
		name  string
		first func(rng *rand.Rand) byte
		want  Severity
	}{
		{"unicast hosts", func(rng *rand.Rand) byte { return byte(1 + rng.IntN(223)) }, SeverityNone},
		{"payload bytes", func(rng *rand.Rand) byte { return byte(rng.UintN(256)) }, SeverityMedium},
		{"a base64 text payload", func(rng *rand.Rand) byte { return base64Chars[rng.IntN(64)] }, SeverityMedium},
	} {
		rng := rand.New(rand.NewPCG(5, 6))
		f := newFeeder(Config{})
		for n := range 600 {
			a := netip.AddrFrom4([4]byte{c.first(rng), byte(rng.UintN(256)), byte(rng.UintN(256)), byte(rng.UintN(256))})
			f.aLookup(fmt.Sprintf("host%d.fleet-example.com", n), t0.Add(time.Duration(n)*time.Second), "10.0.0.5", a)
		}
		got := SeverityNone
		if fd := f.find(t, "fleet-example.com"); fd != nil {
			got = fd.Severity
		}
		if got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// TestTextStagers: a stager serving text four bytes per address, as a
// script with CRLF line ends, as base64 wrapped at 76 columns (GNU
// base64's output, so a line feed starts some addresses) and as flat
// base64 behind a length header (0.0.x.y), is found at medium: 1,024
// names in order, of which the family counts 1,021 (it forms at the
// third), short of high's 1,024.
func TestTextStagers(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	raw := make([]byte, 3200)
	for i := range raw {
		raw[i] = byte(rng.UintN(256))
	}
	flat := base64.StdEncoding.EncodeToString(raw)
	var wrapped strings.Builder
	for i := 0; i < len(flat); i += 76 {
		wrapped.WriteString(flat[i:min(i+76, len(flat))])
		wrapped.WriteByte('\n')
	}
	var script strings.Builder
	for i := 0; script.Len() < 4096; i++ {
		fmt.Fprintf(&script, "$c%d = [Convert]::FromBase64String('%s')\r\n\tInvoke-Step -Id %d $c%d\r\n", i, flat[(i*37)%3000:(i*37)%3000+40], i, i)
	}
	for _, c := range []struct{ name, text string }{
		{"CRLF script", script.String()},
		{"base64 wrapped at 76", wrapped.String()},
		{"base64 behind a length header", "\x00\x00\x11\x2c" + flat},
	} {
		f := newFeeder(Config{})
		t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		p := []byte(c.text)
		for n := range 1024 {
			f.aLookup(fmt.Sprintf("c%d.stage-text.net", n), t0.Add(time.Duration(n)*50*time.Millisecond), "10.0.0.7",
				netip.AddrFrom4([4]byte(p[4*n:4*n+4])))
		}
		fd := f.find(t, "stage-text.net")
		if fd == nil {
			t.Errorf("%s: not found", c.name)
		} else if fd.Severity != SeverityMedium || !fd.Features.AnswerTextOctets || fd.Features.NumberedAnswers != 1021 {
			t.Errorf("%s: %s, %d addresses, text %v", c.name, fd.SeverityText, fd.Features.NumberedAnswers, fd.Features.AnswerTextOctets)
		}
	}
}
