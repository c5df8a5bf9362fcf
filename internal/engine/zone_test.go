package engine

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/dnsieve/dnsieve/internal/fingerprint"
)

// asCommonZone replaces d's zone votes with what a snapshot of version 11
// or older reads back as: its zone, voted for by every data-like name.
func asCommonZone(d *domain) {
	if d.zones.names > 0 {
		d.zones.fromCommonZone(bytes.Clone(d.zones.zone()), max(d.dataNames, 1))
	}
	d.toolZones, d.zoneTool, d.toolNames = zoneVotes{}, fingerprint.Unknown, 0
}

func votesFor(subs ...string) *zoneVotes {
	var z zoneVotes
	for _, s := range subs {
		z.vote([]byte(s))
	}
	return &z
}

func repeat(n int, s string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(s, i)
	}
	return out
}

func concat(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestZoneVotes(t *testing.T) {
	cases := []struct {
		name string
		subs []string
		want string
	}{
		{"one name: all but its first label", []string{"aaaa.bbbb.up.t1"}, "bbbb.up.t1"},
		{"a common zone", []string{"aaaa.bbbb.up.t1", "cccc.up.t1", "dddd.down.t1"}, "t1"},
		{"not inside a label", []string{"abc.xt1", "abd.t1"}, ""},
		{"data right under the registered domain", repeat(50, "d%05d"), ""},
		{"the zone keeps a label for the data", concat(repeat(50, "d%05d.t1"), []string{"t1"}), "t1"},
		{"a deep zone", repeat(20, "d%05d.x.a.b.c.t1"), "x.a.b.c.t1"},
		{"two zones half and half: the registered domain", concat(repeat(20, "d%05d.a"), repeat(20, "d%05d.b")), ""},
		{"benign outliers first", concat(repeat(5, "yahtzee%d"), repeat(95, "d%05d.www")), "www"},
		{"benign outliers last", concat(repeat(95, "d%05d.www"), repeat(5, "yahtzee%d")), "www"},
		{"too many outliers", concat(repeat(85, "d%05d.www"), repeat(15, "yahtzee%d")), ""},
		// The review's order: outliers that cancel each other first leave
		// the candidate a count of all later names; 4 in 5 is not enough.
		{"outliers cancelling each other first", concat(repeat(10, "yahtzee%d"), repeat(10, "m%d.mail"), repeat(80, "d%05d.www")), ""},
		{"multi-label data", repeat(30, "aaaa%d.bbbb%[1]d.cccc%[1]d.t1"), "t1"},
		{"outliers and a 2-label zone: its top label", concat(repeat(5, "node%d"), repeat(95, "d%05d.a.t1")), "t1"},
		{"a 2-label zone", repeat(95, "d%05d.a.t1"), "a.t1"},
		// OzymanDNS: its uploads under "up", a few downloads under "down",
		// in any order, with or without an outlier.
		{"sibling zones", concat(repeat(97, "d%05d.up.t1"), repeat(3, "%d-1.id-1.down.t1")), "t1"},
		{"sibling zones first", concat(repeat(3, "%d-1.id-1.down.t1"), repeat(97, "d%05d.up.t1")), "t1"},
		{"sibling zone, an outlier, then the rest", concat([]string{"1-1.id-1.down.t1", "yahtzee"}, repeat(98, "d%05d.up.t1")), "t1"},
	}
	for _, c := range cases {
		if got := string(votesFor(c.subs...).zone()); got != c.want {
			t.Errorf("%s: zone %q, want %q", c.name, got, c.want)
		}
		// The order does not matter.
		rev := append([]string(nil), c.subs...)
		for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
			rev[i], rev[j] = rev[j], rev[i]
		}
		if got := string(votesFor(rev...).zone()); got != c.want && c.name != "one name: all but its first label" {
			t.Errorf("%s, reversed: zone %q, want %q", c.name, got, c.want)
		}
	}
}

// TestZoneVotesBound: the zone found is the top label of at least 9 in 10
// of the names, and a top label of at least 19 in 20 is always found,
// whatever the order of the names: random orders, and the adversarial one
// (the other names first, pairing off among themselves).
func TestZoneVotesBound(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 4000 {
		n := 20 + r.IntN(200)
		zoneShare := 0.75 + r.Float64()/4
		var in, out []string
		for i := range n {
			if r.Float64() < zoneShare {
				in = append(in, fmt.Sprintf("d%d.www", i))
			} else {
				out = append(out, fmt.Sprintf([...]string{"h%d", "m%d.mail", "x%d.y.www2"}[r.IntN(3)], i))
			}
		}
		subs := concat(out, in) // adversarial: the outliers first
		if trial%2 == 0 {
			r.Shuffle(len(subs), func(i, j int) { subs[i], subs[j] = subs[j], subs[i] })
		}
		got := string(votesFor(subs...).zone())
		switch {
		case got == "www" && len(in)*10 < n*9:
			t.Fatalf("trial %d: zone www for %d of %d names", trial, len(in), n)
		case got != "www" && got != "":
			t.Fatalf("trial %d: zone %q", trial, got)
		case got == "" && len(in)*20 >= n*19:
			t.Fatalf("trial %d: no zone for %d of %d names", trial, len(in), n)
		}
	}
}

// TestZoneVotesMerge: merging the votes of two halves gives the zone of
// the whole.
func TestZoneVotesMerge(t *testing.T) {
	all := concat(repeat(4, "yahtzee%d"), repeat(96, "d%05d.up.t1"), []string{"x.down.t1"})
	for cut := 0; cut <= len(all); cut += 7 {
		a, b := votesFor(all[:cut]...), votesFor(all[cut:]...)
		a.merge(b)
		if got := string(a.zone()); got != "t1" || a.names != 101 {
			t.Fatalf("cut %d: merged zone %q of %d names", cut, got, a.names)
		}
	}
	a, b := votesFor(repeat(50, "d%05d.a")...), votesFor(repeat(50, "d%05d.b")...)
	a.merge(b)
	if got := string(a.zone()); got != "" || a.top.votes != 0 || len(a.top.text) != 0 {
		t.Fatalf("two zones merged: %q, %+v", got, a.top)
	}
}

func TestZoneOf(t *testing.T) {
	outliers := repeat(3, "node%d")
	cases := []struct {
		name       string
		data, tool []string
		recognised bool
		want       string
	}{
		{"no votes", nil, nil, true, ""},
		{"data only", repeat(10, "d%d.t1"), nil, true, "t1"},
		{"tool only", nil, repeat(10, "d%d.t1"), true, "t1"},
		{"tool only, not recognised", nil, repeat(10, "d%d.t1"), false, ""},
		// iodine in raw mode: two data-like names of its handshake
		// beside three benign hosts that look like data.
		{"a few data names undecided: the tool's zone", concat(repeat(2, "d%d.www"), outliers), repeat(6, "h%d.www"), true, "www"},
		// Cobalt Strike: its names end in a nonce; its stager's are under
		// "stage.123456".
		{"many data names undecided: the tool's zone", repeat(30, "post.1%08x.%[1]x99"), repeat(30, "a%02d.stage.123456"), true, "stage.123456"},
		// ... but its beacon's task names vote too (weak matches): no
		// zone of its own.
		{"a tool beyond its strong names' zone", repeat(30, "post.1%08x.%[1]x99"), concat(repeat(30, "a%02d.stage.123456"), repeat(30, "cdn.%x77")), true, ""},
		// iodine's 12 handshake names beside three such hosts.
		{"data names led by the tool's zone", concat(repeat(12, "d%d.t1"), outliers), repeat(8, "h%d.t1"), true, "t1"},
		{"both: the shallower", repeat(10, "d%d.up.t1"), repeat(10, "h%d.t1"), true, "t1"},
		{"both: their common labels", repeat(10, "d%d.a.t1"), repeat(10, "h%d.b.t1"), true, "t1"},
		{"a tool not recognised does not widen", repeat(10, "d%d.t1"), []string{"aaa.stage.2024"}, false, "t1"},
		{"data under the registered domain itself", repeat(10, "d%d"), repeat(10, "h%d.www"), true, ""},
		{"different zones", repeat(10, "d%d.a"), repeat(10, "h%d.b"), true, ""},
	}
	for _, c := range cases {
		d := &domain{zones: *votesFor(c.data...), toolZones: *votesFor(c.tool...)}
		if got := string(d.zoneOf(c.recognised)); got != c.want {
			t.Errorf("%s: zone %q, want %q", c.name, got, c.want)
		}
	}
}

// TestVoteToolFirstToolOnly: only the first tool recognised in a domain
// has its names vote and counted.
func TestVoteToolFirstToolOnly(t *testing.T) {
	d := &domain{}
	strong := func(t fingerprint.Tool) fingerprint.Match {
		return fingerprint.Match{Tool: t, Strength: fingerprint.Strong}
	}
	weak := func(t fingerprint.Tool) fingerprint.Match {
		return fingerprint.Match{Tool: t, Strength: fingerprint.Weak}
	}
	d.voteTool([]byte("w.t1"), weak(fingerprint.Dnstt)) // before any strong match: no vote
	d.voteTool([]byte("a.t1"), strong(fingerprint.Dnstt))
	d.voteTool([]byte("b.t1"), strong(fingerprint.Sliver))
	d.voteTool([]byte("c.t1"), strong(fingerprint.Dnstt))
	d.voteTool([]byte("x.t2"), weak(fingerprint.Dnstt)) // votes, not a name of the tool
	if d.zoneTool != fingerprint.Dnstt || d.toolZones.names != 3 || d.toolNames != 2 {
		t.Fatalf("tool %v, %d votes, %d names", d.zoneTool, d.toolZones.names, d.toolNames)
	}
	// Features count them for that tool only.
	f := &Features{Tool: "sliver", ToolStrong: 3, ToolNames: 0, Queries: 20000, Unique: 100}
	if ToolRecognised(f) {
		t.Fatal("another tool's names counted")
	}
}

func TestCommonSuffix(t *testing.T) {
	for _, c := range [][3]string{
		{"up.t1", "down.t1", "t1"},
		{"up.t1", "t1", "t1"},
		{"t1", "up.t1", "t1"},
		{"t1", "xt1", ""},
		{"a.t1", "a.t1", "a.t1"},
		{"", "t1", ""},
		{"b.a.t1", "c.xa.t1", "t1"},
	} {
		if got := string(commonSuffix([]byte(c[0]), []byte(c[1]))); got != c[2] {
			t.Errorf("commonSuffix(%q, %q) = %q, want %q", c[0], c[1], got, c[2])
		}
	}
}

// TestZoneVotesEmptyLabelText: a label that holds a '.' byte splits into
// empty text; such a candidate counts as no zone, so that every candidate
// kept has text and a snapshot of the votes reads back (FuzzReadSnapshot
// found a version 11 zone "a." that did not).
func TestZoneVotesEmptyLabelText(t *testing.T) {
	var from zoneVotes
	from.fromCommonZone([]byte("a."), 3)
	for _, z := range []*zoneVotes{votesFor("x.", "y.", "a..b", "."), &from} {
		v := z.top
		if v.votes == 0 && (v.none || len(v.text) > 0) || v.none && len(v.text) > 0 || v.votes > 0 && !v.none && len(v.text) == 0 {
			t.Fatalf("candidate %+v", v)
		}
	}
	if got := votesFor("x.", "y.").zone(); got != nil {
		t.Fatalf("zone %q", got)
	}
}

// TestZoneOfABusyDomain: a tunnel in "www" of a registered domain whose
// ordinary hosts are looked up hundreds of times as often, a few of them
// with names that read like data, is reported in its own zone.
func TestZoneOfABusyDomain(t *testing.T) {
	f := newFeeder(Config{})
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 40000 {
		host := fmt.Sprintf("host%d", i%300)
		if i%300 < 3 {
			host = fmt.Sprintf("node-%016x", uint64(i%300+1)*0x9e3779b97f4a7c15) // data-like: a 16-hex label
		}
		f.lookup(host+".example.com", t0.Add(time.Duration(i)*50*time.Millisecond), fmt.Sprintf("10.1.%d.%d", i%200/250, 1+i%200), 1, 0, 0)
		if i%10 == 0 {
			data := make([]byte, 30)
			for j := range data {
				data[j] = byte(r.Uint32())
			}
			f.lookup(chunkName(data, "www.example.com"), t0.Add(time.Duration(i)*50*time.Millisecond), "10.9.9.9", 16, 0, 0)
		}
	}
	d := f.e.domains["example.com"]
	if d == nil || d.zones.names <= 4000 {
		// The 4,000 tunnel names and at least one host that reads like
		// data (else the test shows nothing).
		t.Fatalf("no full state, or no benign data-like name: %v", d != nil)
	}
	if got := string(d.zones.zone()); got != "www" {
		t.Fatalf("zone %q, want www", got)
	}
	for _, fd := range f.e.Findings() {
		if fd.RegisteredDomain == "example.com" {
			if fd.Domain != "www.example.com" || !strings.HasSuffix(fd.Samples[0], ".www.example.com") {
				t.Fatalf("finding %q, samples %q", fd.Domain, fd.Samples)
			}
			return
		}
	}
	t.Fatal("no finding for the tunnel")
}

// TestZoneVotesSnapshotVersion11: a version 11 snapshot keeps the zone.
func TestZoneVotesSnapshotVersion11(t *testing.T) {
	f := newFeeder(Config{})
	feedMix(f, 0, 300, allMix)
	var old bytes.Buffer
	if err := f.e.writeSnapshot(&old, 11); err != nil {
		t.Fatal(err)
	}
	g := New(Config{})
	if err := g.ReadSnapshot(bytes.NewReader(old.Bytes())); err != nil {
		t.Fatal(err)
	}
	zoned := 0
	for name, d := range f.e.domains {
		want := d.zones.zone()
		h := g.domains[name]
		if h == nil || string(h.zones.zone()) != string(want) {
			t.Fatalf("%s: zone %q read back otherwise", name, want)
		}
		if len(want) > 0 {
			zoned++
		}
	}
	if zoned == 0 {
		t.Fatal("the mix has no zone below its registered domains")
	}
}
