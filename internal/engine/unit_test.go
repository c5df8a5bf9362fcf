package engine

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// cleanScorer is a Scorer that sees what dilution hides: a domain whose
// names are nearly all data-like, from one client, is a high tunnel; one
// with data-like names among others is a medium one, and nothing when they
// are under half of its names.
type cleanScorer struct{}

func (cleanScorer) Verdict(f *Features) Judgement {
	switch {
	case f.DataNames < 50 || f.DataNames*2 < f.Unique:
		return Judgement{}
	case f.Clients == 1 && f.DataNames*10 >= f.Unique*9:
		return Judgement{Verdict: "tunnel", Severity: SeverityHigh, Score: 0.95}
	}
	return Judgement{Verdict: "tunnel", Severity: SeverityMedium, Score: 0.5}
}

// randomBytes returns n bytes from r.
func randomBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for j := range b {
		b[j] = byte(r.Uint32())
	}
	return b
}

// feedDiluted feeds a channel of tunnel names under zone.example.com from
// one client, beside lookups of 40 ordinary hosts of example.com from
// clients clients (none: no ordinary lookups), interleaved.
func feedDiluted(f *feeder, zone string, tunnel, clients int) {
	r := rand.New(rand.NewPCG(8, 9))
	for i := range tunnel {
		at := t0.Add(time.Duration(i) * time.Second)
		data := randomBytes(r, 30)
		f.lookup(chunkName(data, zone+".example.com"), at, "10.9.9.9", 16, 0, 100)
		if clients > 0 {
			f.lookup(fmt.Sprintf("host%d.example.com", i%40), at.Add(time.Millisecond), fmt.Sprintf("10.1.0.%d", 1+i%clients), 1, 0, 4)
		}
	}
}

// TestUnitJudgesADilutedZone: a channel in t1 beside the domain's other
// hosts gets a unit once 16 data-like names decided the zone; the unit
// holds the channel's later names only, and the finding is the unit's,
// higher than the domain's own, under the domain's ID and registered
// domain.
func TestUnitJudgesADilutedZone(t *testing.T) {
	f := newFeeder(Config{Scorer: cleanScorer{}})
	feedDiluted(f, "t1", 300, 20)
	d := f.e.domains["example.com"]
	if d == nil || d.unit == nil {
		t.Fatal("no unit")
	}
	u := d.unit
	if string(d.unitZone) != "t1" || u.name != "t1.example.com" || u.parent != d || u.id != d.id {
		t.Fatalf("unit %q zone %q", u.name, d.unitZone)
	}
	// The 16th data-like name decided the zone and is the unit's first.
	if u.unique != 300-15 || u.dataNames != 300-15 || u.queries != 300-15 || d.unique != 340 {
		t.Fatalf("unit: %d names, %d data-like, %d queries; domain %d names", u.unique, u.dataNames, u.queries, d.unique)
	}
	if n, _ := u.clientCount(); n != 1 {
		t.Fatalf("unit clients %d", n)
	}
	if m := memOf(d); m != d.mem {
		t.Fatalf("memory: recomputed %d, kept %d", m, d.mem)
	}
	fs := f.e.Findings()
	if len(fs) != 1 {
		t.Fatalf("findings %+v", fs)
	}
	fd := fs[0]
	if fd.Domain != "t1.example.com" || fd.RegisteredDomain != "example.com" || fd.ID != d.id || fd.Severity != SeverityHigh ||
		fd.Queries != 285 || !strings.HasPrefix(fd.Evidence[1], "judged on its own: the zone t1.example.com") {
		t.Fatalf("finding %s (%s, ID %d) %v, %d queries, %q", fd.Domain, fd.RegisteredDomain, fd.ID, fd.Severity, fd.Queries, fd.Evidence)
	}
	// The domain as a whole is the medium finding it was before.
	df := f.e.features(d)
	if _, sev, _, _, _ := f.e.decide(&df); sev != SeverityMedium {
		t.Fatalf("the domain alone: %v", sev)
	}
}

// TestUnitOnlyWhereDiluted: no unit for a channel alone in its registered
// domain (nothing dilutes it), for one right under the registered domain
// (no zone below it), or for data-like names spread over sibling zones (no
// zone decided).
func TestUnitOnlyWhereDiluted(t *testing.T) {
	f := newFeeder(Config{Scorer: cleanScorer{}})
	feedDiluted(f, "t1", 300, 0)
	if d := f.e.domains["example.com"]; d == nil || d.unit != nil || string(d.zones.zone()) != "t1" {
		t.Fatal("a unit for a channel with nothing beside it")
	}
	if fs := f.e.Findings(); len(fs) != 1 || fs[0].Domain != "t1.example.com" || fs[0].Queries != 300 {
		t.Fatalf("findings %+v", fs)
	}

	g := newFeeder(Config{})
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		at := t0.Add(time.Duration(i) * time.Second)
		data := randomBytes(r, 30)
		zone := []string{"a", "b", "c"}[i%3] + ".example.com"
		g.lookup(chunkName(data, zone), at, "10.9.9.9", 16, 0, 100)
		g.lookup(chunkName(data[:20], "example.org"), at, "10.9.9.9", 16, 0, 100)
		g.lookup(fmt.Sprintf("host%d.example.com", i%40), at, fmt.Sprintf("10.1.0.%d", 1+i%20), 1, 0, 4)
		g.lookup(fmt.Sprintf("host%d.example.org", i%40), at, fmt.Sprintf("10.1.0.%d", 1+i%20), 1, 0, 4)
	}
	for _, name := range []string{"example.com", "example.org"} {
		if d := g.e.domains[name]; d == nil || d.unit != nil {
			t.Fatalf("%s: a unit without a zone below the registered domain", name)
		}
	}

	// A zone's names from 20 clients, nothing else: they are the zone's
	// own clients, no dilution. The same beside 20 other clients that
	// look up www alone: a unit.
	for _, www := range []bool{false, true} {
		h := newFeeder(Config{})
		r := rand.New(rand.NewPCG(5, 5))
		for i := range 300 {
			at := t0.Add(time.Duration(i) * time.Second)
			h.lookup(chunkName(randomBytes(r, 30), "t1.example.com"), at, fmt.Sprintf("10.9.0.%d", 1+i%20), 16, 0, 100)
			if www {
				h.lookup("www.example.com", at, fmt.Sprintf("10.1.0.%d", 1+i%20), 1, 0, 4)
			}
		}
		if d := h.e.domains["example.com"]; d == nil || (d.unit != nil) != www {
			t.Fatalf("www lookups beside the zone %v: unit %v", www, d != nil && d.unit != nil)
		}
	}
}

// TestUnitSnapshotAndMove: a unit is written with its domain, read back
// alike, dropped by a version 12 snapshot, and moves with its domain;
// imported beside a unit of the same zone the two merge.
func TestUnitSnapshotAndMove(t *testing.T) {
	f := newFeeder(Config{Scorer: cleanScorer{}})
	feedDiluted(f, "t1", 300, 20)
	snap := snapshotBytes(t, f.e)
	g := restore(t, Config{Scorer: cleanScorer{}}, snap)
	if d := diffEngines(f.e, g, true, true); d != "" {
		t.Fatal(d)
	}
	if !bytes.Equal(snapshotBytes(t, g), snap) {
		t.Fatal("a restored unit writes other bytes")
	}
	var v12 bytes.Buffer
	if err := f.e.writeSnapshot(&v12, 12); err != nil {
		t.Fatal(err)
	}
	h := restore(t, Config{}, v12.Bytes())
	if d := h.domains["example.com"]; d == nil || d.unit != nil || d.mem != memOf(d) {
		t.Fatal("version 12 holds a unit")
	}

	// Move the domain to an engine that has seen the same traffic: the
	// units merge into one of twice the names (the data differs by seed
	// only in the first feeder's names, so make the second see others).
	b, ok := f.e.ExportDomain("example.com")
	if !ok {
		t.Fatal("no export")
	}
	other := newFeeder(Config{Scorer: cleanScorer{}})
	r := rand.New(rand.NewPCG(21, 22))
	for i := range 300 {
		at := t0.Add(time.Hour + time.Duration(i)*time.Second)
		data := randomBytes(r, 30)
		other.lookup(chunkName(data, "t1.example.com"), at, "10.9.9.9", 16, 0, 100)
		other.lookup(fmt.Sprintf("host%d.example.com", i%40), at, fmt.Sprintf("10.1.0.%d", 1+i%20), 1, 0, 4)
	}
	od := other.e.domains["example.com"]
	before := od.unit.unique
	if err := other.e.ImportDomain(b); err != nil {
		t.Fatal(err)
	}
	if od.unit == nil || od.unit.unique != before+285 || od.unit.parent != od || od.unit.id != od.id || od.mem != memOf(od) {
		t.Fatalf("merged unit: %d names, want %d", od.unit.unique, before+285)
	}

	// Into an empty engine, the domain arrives with its unit.
	empty := newFeeder(Config{Scorer: cleanScorer{}})
	if err := empty.e.ImportDomain(b); err != nil {
		t.Fatal(err)
	}
	ed := empty.e.domains["example.com"]
	if ed == nil || ed.unit == nil || ed.unit.unique != 285 || ed.unit.id != ed.id || ed.unit.parent != ed {
		t.Fatal("the unit did not move")
	}
	if fs := empty.e.Findings(); len(fs) != 1 || fs[0].Domain != "t1.example.com" || fs[0].Severity != SeverityHigh {
		t.Fatalf("findings after the move %+v", fs)
	}
}

// TestUnitAlertsOnce: alerts raised by a unit are its domain's: one per
// severity, under the domain's ID, and MarkAlerted on that ID holds for
// both.
func TestUnitAlertsOnce(t *testing.T) {
	f := newFeeder(Config{Scorer: cleanScorer{}})
	var got []string
	f.e.OnAlert = func(fd Finding) {
		got = append(got, fmt.Sprintf("%s %s %d", fd.Domain, fd.Severity, fd.ID))
		f.e.MarkAlerted(fd.ID, fd.Severity)
	}
	feedDiluted(f, "t1", 300, 20)
	d := f.e.domains["example.com"]
	want := []string{fmt.Sprintf("t1.example.com medium %d", d.id), fmt.Sprintf("t1.example.com high %d", d.id)}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("alerts %q, want %q", got, want)
	}
	if d.announced != SeverityHigh || d.unit.announced != SeverityHigh || d.alertSev != SeverityHigh {
		t.Fatalf("announced %v/%v", d.announced, d.unit.announced)
	}
}

// TestUnitRenumbered: renumbering domain IDs moves a unit's with its
// domain's.
func TestUnitRenumbered(t *testing.T) {
	f := newFeeder(Config{Scorer: cleanScorer{}, RenumberIDs: true})
	feedDiluted(f, "t1", 300, 20)
	f.e.renumber()
	d := f.e.domains["example.com"]
	if d.unit.id != d.id || f.e.byID[d.id] != d {
		t.Fatalf("unit ID %d, domain ID %d", d.unit.id, d.id)
	}
}

// TestUnitMeasuresNamesAsItsDomain: a unit sees each name as its domain
// does, zone label included, so that the names' length and likeness to
// host names do not change by being counted apart.
func TestUnitMeasuresNamesAsItsDomain(t *testing.T) {
	f := newFeeder(Config{Scorer: cleanScorer{}})
	feedDiluted(f, "t1", 300, 20)
	d := f.e.domains["example.com"]
	// feedDiluted's names again: the unit's are the 16th and later.
	r := rand.New(rand.NewPCG(8, 9))
	var subBytes, n int
	for i := range 300 {
		data := randomBytes(r, 30)
		if i >= 15 {
			subBytes += len(strings.TrimSuffix(chunkName(data, "t1.example.com"), ".example.com"))
			n++
		}
	}
	uf := f.e.features(d.unit)
	if want := float64(subBytes) / float64(n); uf.MeanSubLen != want || uf.MaxLabel != d.maxLabel {
		t.Fatalf("unit: mean subdomain %.2f bytes (want %.2f), longest label %d (domain %d)", uf.MeanSubLen, want, uf.MaxLabel, d.maxLabel)
	}
	if got := string(d.unit.zones.zone()); got != "t1" {
		t.Fatalf("the unit's own zone %q", got)
	}
}

// TestUnitKeepsASecondSession: data-like names under two labels of an
// attacker's domain, 85 and 15 in a hundred, with no ordinary names: the
// unit of the first is no more severe than the domain, whose finding (the
// registered domain, every packet) stays.
func TestUnitKeepsASecondSession(t *testing.T) {
	f := newFeeder(Config{Scorer: cleanScorer{}})
	r := rand.New(rand.NewPCG(3, 3))
	for i := range 300 {
		data := randomBytes(r, 30)
		zone := "s1.example.com"
		if i%20 >= 17 {
			zone = "s2.example.com"
		}
		f.lookup(chunkName(data, zone), t0.Add(time.Duration(i)*time.Second), "10.9.9.9", 16, 0, 100)
	}
	d := f.e.domains["example.com"]
	if d.unit == nil || string(d.unitZone) != "s1" {
		t.Fatal("no unit for the larger session")
	}
	fs := f.e.Findings()
	if len(fs) != 1 || fs[0].Domain != "example.com" || fs[0].Queries != 300 || fs[0].Severity != SeverityHigh {
		t.Fatalf("findings %+v", fs)
	}
}

// TestUnitUnderAKnownService: a known service's cap holds for a unit of
// its zone, which adds no finding of its own.
func TestUnitUnderAKnownService(t *testing.T) {
	f := newFeeder(Config{Scorer: cleanScorer{}})
	r := rand.New(rand.NewPCG(4, 4))
	for i := range 300 {
		at := t0.Add(time.Duration(i) * time.Second)
		data := randomBytes(r, 30)
		f.lookup(chunkName(data, "dl.dropboxusercontent.com"), at, "10.9.9.9", 1, 0, 4)
		for k := range 2 {
			f.lookup(fmt.Sprintf("host%d.dropboxusercontent.com", 2*i+k), at, fmt.Sprintf("10.1.0.%d", 1+i%20), 1, 0, 4)
		}
	}
	d := f.e.domains["dropboxusercontent.com"]
	if d == nil || d.unit == nil {
		t.Fatal("no unit")
	}
	// Judged on its own the unit is a tunnel the cap makes suspicious;
	// the domain, under half data-like, is nothing.
	uf := f.e.features(d.unit)
	if v, sev, _, _, _ := f.e.decide(&uf); v != "suspicious" || sev != SeverityLow {
		t.Fatalf("the unit alone: %q %v", v, sev)
	}
	if fs := f.e.Findings(); len(fs) != 0 {
		t.Fatalf("findings %+v", fs)
	}
}

// TestUnitSnapshotRefusesBadUnits: a unit whose name is not its zone's,
// whose ID is not its domain's, that counts more messages than its domain
// or that holds a unit of its own is refused.
func TestUnitSnapshotRefusesBadUnits(t *testing.T) {
	for _, c := range []struct {
		name  string
		spoil func(d *domain)
	}{
		{"name", func(d *domain) { d.unit.name = "t2.example.com" }},
		{"zone", func(d *domain) { d.unitZone = []byte("t1.") }},
		{"ID", func(d *domain) { d.unit.id++ }},
		{"queries", func(d *domain) { d.unit.queries = d.queries + 1 }},
		{"nested", func(d *domain) {
			d.unit.unit = &domain{id: d.id, name: "x.t1.example.com", parent: d.unit}
			d.unit.unitZone = []byte("x")
		}},
	} {
		f := newFeeder(Config{})
		feedDiluted(f, "t1", 300, 20)
		c.spoil(f.e.domains["example.com"])
		var b bytes.Buffer
		if err := f.e.WriteSnapshot(&b); err != nil {
			t.Fatal(err)
		}
		if err := New(Config{}).ReadSnapshot(&b); !errors.Is(err, ErrSnapshotCorrupt) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// TestUnitZoneWithEmptyLabel: a data label that ends in a '.' byte (legal
// on the wire) makes the names' common suffix ".t1", a zone no name can
// be under as the engine splits names; no unit takes it, and the engine's
// own snapshot reads back (it did not: the reader refused the zone).
func TestUnitZoneWithEmptyLabel(t *testing.T) {
	f := newFeeder(Config{})
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		at := t0.Add(time.Duration(i) * time.Second)
		name := b32.EncodeToString(randomBytes(r, 20))[:30] + "..t1.example.com" // the first label is 31 bytes, its last '.'
		lens := []uint8{31, 2, 7, 3}
		lower, start := f.split.Split([]byte(name), lens)
		o := Observation{Time: at.UnixNano(), Client: netip.MustParseAddr("10.9.9.9"), QType: 16, Name: lower, Labels: lens, RegStart: start, Size: 80}
		f.e.Observe(&o)
		f.lookup(fmt.Sprintf("host%d.example.com", i%40), at, "10.1.0.1", 1, 0, 4)
	}
	d := f.e.domains["example.com"]
	if d == nil || d.zones.names < 300 || string(d.zones.common) != ".t1" {
		t.Fatalf("the test shows nothing: zone votes %+v", d.zones)
	}
	if d.unit != nil {
		t.Fatalf("a unit of zone %q", d.unitZone)
	}
	restore(t, Config{}, snapshotBytes(t, f.e))
}

// TestUnitShareBound: the top label's count proves its share whatever the
// order of the names. 8 names under a and 8 under b, alternating, then 8
// under t1: t1 is the candidate with a count of 8, a third of the names,
// and holds only a third.
func TestUnitShareBound(t *testing.T) {
	var z zoneVotes
	for i := range 8 {
		z.vote(fmt.Appendf(nil, "%016d.a", i))
		z.vote(fmt.Appendf(nil, "%016d.b", i))
	}
	for i := range 8 {
		z.vote(fmt.Appendf(nil, "%016d.t1", i))
	}
	if got := z.unitZone(); got != nil {
		t.Fatalf("unit zone %q for a label of 8 names in 24", got)
	}
	// Five in six is always enough, in any order.
	for _, first := range []bool{false, true} {
		var z zoneVotes
		for i := range 60 {
			outlier := i%6 == 5
			if first {
				outlier = i < 10
			}
			if outlier {
				z.vote(fmt.Appendf(nil, "%016d.o%d", i, i))
			} else {
				z.vote(fmt.Appendf(nil, "%016d.t1", i))
			}
		}
		if got := string(z.unitZone()); got != "t1" {
			t.Fatalf("outliers first %v: unit zone %q", first, got)
		}
	}
}

// TestUnitFindingKeepsTheFirstAlert: a unit's finding reports its domain's
// first tunnel alert, which may come before the unit began.
func TestUnitFindingKeepsTheFirstAlert(t *testing.T) {
	f := newFeeder(Config{Scorer: cleanScorer{}})
	feedDiluted(f, "t1", 300, 20)
	d := f.e.domains["example.com"]
	fd := f.e.Findings()[0]
	if d.firstAlert == 0 || d.unit.firstAlert <= d.firstAlert || fd.FirstAlert.UnixNano() != d.firstAlert || fd.AlertLookups != d.firstAlertLookups {
		t.Fatalf("finding's first alert %v after %d lookups; the domain's %v after %d",
			fd.FirstAlert, fd.AlertLookups, time.Unix(0, d.firstAlert).UTC(), d.firstAlertLookups)
	}
}

// TestUnitImportLeavesRoomInTheCounters: an import whose unit's answer
// bytes would pass half of what a snapshot holds, merged with the unit
// already there, is refused, and the engine's snapshot still reads back.
func TestUnitImportLeavesRoomInTheCounters(t *testing.T) {
	f := newFeeder(Config{})
	feedDiluted(f, "t1", 300, 20)
	u := f.e.domains["example.com"].unit
	u.dataAnswerBytes = maxBytes / 4 * 3
	b, ok := f.e.ExportDomain("example.com")
	if !ok {
		t.Fatal("no export")
	}
	g := New(Config{})
	if err := g.ImportDomain(b); err == nil || !strings.Contains(err.Error(), "would overflow") {
		t.Fatalf("first import: %v", err)
	}
	u.dataAnswerBytes = maxBytes/4 + 1
	b, _ = f.e.ExportDomain("example.com")
	for i, want := range []bool{true, false} {
		if err := g.ImportDomain(b); (err == nil) != want {
			t.Fatalf("import %d: %v", i+1, err)
		}
	}
	restore(t, Config{}, snapshotBytes(t, g))
}
