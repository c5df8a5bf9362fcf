package engine

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestEmbeddedNames(t *testing.T) {
	e := New(Config{})
	for _, c := range []struct {
		sub  string
		want []string
	}{
		{"d1x2.cloudfront.net.payments.svc", []string{"d1x2.cloudfront.net"}},
		{"d1x2.cloudfront.net", []string{"d1x2.cloudfront.net"}},
		{"www.example.co.uk.corp", []string{"www.example.co.uk", "www.example.co"}},
		{"shop.xn--p1ai.svc", []string{"shop.xn--p1ai"}},
		// A namespace named like a top-level domain: both ends are tried.
		{"d1x2.cloudfront.net.prod.svc", []string{"d1x2.cloudfront.net.prod", "d1x2.cloudfront.net"}},
		// "np" has only a wildcard rule ("*.np").
		{"www.shopname.com.np.svc", []string{"www.shopname.com.np", "www.shopname.com"}},
		// At most three ends, the rightmost.
		{"a.com.net.org.io.x", []string{"a.com.net.org.io", "a.com.net.org", "a.com.net"}},
		{"www", nil},
		{"e1234.dscb", nil},
		{"com.svc", nil},            // a first label is no name's end
		{"host.local.svc", nil},     // "local" is no top-level domain
		{"a1b2.c0m.svc", nil},       // digits outside an IDN label
		{"host.xn--.svc", nil},      // not an A-label
		{"pc12.corp.internal", nil}, // "internal" is reserved, not delegated
		{"4.3.2.1.in-addr.arpa", []string{"4.3.2.1.in-addr.arpa"}},
	} {
		var got []string
		e.embeddedNames([]byte(c.sub), labelLens(c.sub), func(name []byte) { got = append(got, string(name)) })
		if !slices.Equal(got, c.want) {
			t.Errorf("embeddedNames(%q) = %q, want %q", c.sub, got, c.want)
		}
	}
}

// dataLabel returns n random bytes from rng in base32.
func dataLabel(rng *rand.Rand, n int) string {
	data := make([]byte, n)
	for j := range data {
		data[j] = byte(rng.IntN(256))
	}
	return b32.EncodeToString(data)
}

// searchPathTraffic feeds n outside names (drawn from seed) that carry
// data (base32 under x-example.com), each asked by one pod under a
// Kubernetes pod's three search domains, NXDOMAIN, and then, when bare is
// set, on its own by client bareClient after delay.
func searchPathTraffic(f *feeder, seed uint64, n int, bare bool, bareClient string, delay time.Duration) {
	forNames(seed, n, 30, ".x-example.com", func(name string, at time.Time) {
		for _, search := range []string{"payments.svc.cluster.local", "svc.cluster.local", "cluster.local"} {
			f.lookup(name+"."+search, at, "10.244.1.7", 1, 3, 0)
		}
		if bare {
			f.lookup(name, at.Add(delay), bareClient, 1, 0, 16)
		}
	})
}

// forNames calls f with n names of size random bytes in base32 under
// zone (drawn from seed), one every 500 ms of packet time.
func forNames(seed uint64, n, size int, zone string, f func(name string, at time.Time)) {
	rng := rand.New(rand.NewPCG(seed, 4))
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		f(dataLabel(rng, size)+zone, start.Add(time.Duration(i)*500*time.Millisecond))
	}
}

// TestSearchDomainIsNoTunnel: a search domain whose names embed names
// that the same client then asks on its own is judged suspicious at most,
// and says why; the data those names carry is judged where it is asked on
// its own. Without
// that confirmation (no bare lookup, another client, too late) the
// search domain is judged as before.
func TestSearchDomainIsNoTunnel(t *testing.T) {
	for _, c := range []struct {
		name       string
		bare       bool
		client     string
		delay      time.Duration
		wantSearch bool // cluster.local judged a tunnel
	}{
		{"expansions then the name", true, "10.244.1.7", 2 * time.Millisecond, false},
		{"the name asked after two retries", true, "10.244.1.7", 11 * time.Second, false},
		{"no name on its own", false, "", 0, true},
		{"the name asked by another host", true, "10.9.9.9", 2 * time.Millisecond, true},
		{"the name asked too late", true, "10.244.1.7", 13 * time.Second, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFeeder(Config{})
			searchPathTraffic(f, 3, 600, c.bare, c.client, c.delay)
			search := f.find(t, "cluster.local")
			if got := search != nil && search.Severity >= SeverityMedium; got != c.wantSearch {
				t.Errorf("cluster.local judged a tunnel: %v, want %v", got, c.wantSearch)
			}
			if !c.wantSearch {
				want := "against: 1,800 of the 1,800 distinct names are a resolver's search-path expansions of names their clients then asked on their own: judged suspicious at most"
				if search == nil || search.Verdict != "suspicious" || search.Severity != SeverityLow || !slices.Contains(search.Evidence, want) {
					t.Errorf("cluster.local: want a suspicious finding that says why, got %v", search)
				}
			}
			feats := f.e.AllFeatures(1)["cluster.local"]
			wantCredit := uint64(0)
			if !c.wantSearch {
				wantCredit = 1800
			}
			if feats.Unique != 1800 || feats.SearchExpansions != wantCredit {
				t.Errorf("cluster.local: %d names, %d expansions; want 1800, %d", feats.Unique, feats.SearchExpansions, wantCredit)
			}
			if c.bare {
				if data := f.find(t, "x-example.com"); data == nil || data.Verdict != "tunnel" {
					t.Error("the names' own domain carries their data: not judged a tunnel")
				}
			}
		})
	}
}

// TestSearchExpandedCap: a channel's features with nearly all names
// credited as expansions are judged suspicious at most, unless a tool's
// protocol was recognised; the share needed is four in five of 16 names
// or more.
func TestSearchExpandedCap(t *testing.T) {
	f := newFeeder(Config{})
	searchPathTraffic(f, 3, 200, false, "", 0)
	feats := f.e.AllFeatures(1)["cluster.local"]
	v, sev, _, _, _ := f.e.decide(&feats)
	if v != "tunnel" || sev < SeverityMedium {
		t.Fatalf("the channel without expansions: %q %v, want a tunnel", v, sev)
	}
	feats.SearchExpansions, feats.SearchExpandedNames = feats.Unique, feats.Unique/3
	if v, sev, _, _, _ := f.e.decide(&feats); v != "suspicious" || sev != SeverityLow {
		t.Errorf("all names expansions: %q %v, want suspicious", v, sev)
	}
	// Answers that carry a downstream channel's data keep their floor.
	down := feats
	down.DistinctAnswers, down.DataAnswers, down.DistinctAnswerBytes, down.PeakDayAnswerBytes = 2000, 2000, 500_000, 500_000
	if floor, _ := DownstreamFloor(&down); floor < SeverityMedium {
		t.Fatalf("test too weak: the answers make no floor (%v)", floor)
	}
	if v, got, _, _, _ := f.e.decide(&down); v != "tunnel" || got < SeverityMedium {
		t.Errorf("a downstream channel: %q %v, want a tunnel", v, got)
	}
	feats.ToolStrong, feats.Tool = uint32(max(3, feats.DataNames)), "iodine" // every data-like name
	if !ToolRecognised(&feats) {
		t.Fatal("test too weak: the tool is not recognised")
	}
	if v, got, _, _, _ := f.e.decide(&feats); v != "tunnel" || got < sev {
		t.Errorf("a recognised tool: %q %v, want a tunnel at %v or above", v, got, sev)
	}
	for _, c := range []struct {
		unique, expansions, names uint64
		want                      bool
	}{
		{15, 15, 5, false}, {16, 13, 5, true}, {16, 12, 5, false}, {1000, 800, 100, true}, {1000, 799, 100, false},
		// Each name asked on its own expanded 16 times at most, by the
		// sketch's estimate, unless it saturates.
		{1000, 1000, 63, true}, {1000, 1000, 62, false}, {1000, 1000, 1, false},
		{2_000_000, 2_000_000, 100_000, true}, {400_000, 400_000, 20_000, false},
	} {
		f := Features{Unique: c.unique, SearchExpansions: c.expansions, SearchExpandedNames: c.names}
		if got := searchExpanded(&f); got != c.want {
			t.Errorf("searchExpanded(%d of %d, of %d names) = %v, want %v", c.expansions, c.unique, c.names, got, c.want)
		}
	}
}

// TestSearchExpansionsSurviveSnapshots: the count is saved, read back,
// read as none from a version 9 snapshot, and added by a merge without
// passing the names.
func TestSearchExpansionsSurviveSnapshots(t *testing.T) {
	f := newFeeder(Config{})
	searchPathTraffic(f, 3, 100, true, "10.244.1.7", time.Millisecond)
	var buf bytes.Buffer
	if err := f.e.WriteSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	g := New(Config{})
	if err := g.ReadSnapshot(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	want := f.e.AllFeatures(1)["cluster.local"]
	if want.SearchExpandedNames < 70 || want.SearchExpandedNames > 130 {
		t.Fatalf("the sketch of 100 names estimates %d", want.SearchExpandedNames)
	}
	if got := g.AllFeatures(1)["cluster.local"]; got.SearchExpansions != 300 || got.SearchExpandedNames != want.SearchExpandedNames {
		t.Errorf("read back: %d expansions of %d names, want 300 of %d", got.SearchExpansions, got.SearchExpandedNames, want.SearchExpandedNames)
	}
	buf.Reset()
	if err := f.e.writeSnapshot(&buf, 9); err != nil {
		t.Fatal(err)
	}
	old := New(Config{})
	if err := old.ReadSnapshot(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	if got := old.AllFeatures(1)["cluster.local"]; got.SearchExpansions != 0 || got.Unique != 300 {
		t.Errorf("version 9: %d expansions of %d names, want 0 of 300", got.SearchExpansions, got.Unique)
	}

	// A second engine saw half of the same names and all of them as
	// expansions: the merge adds nothing, the sketches' union neither.
	h := newFeeder(Config{})
	searchPathTraffic(h, 3, 50, true, "10.244.1.7", time.Millisecond)
	rec, ok := h.e.ExportDomain("cluster.local")
	if !ok {
		t.Fatal("nothing to export")
	}
	if err := g.ImportDomain(rec); err != nil {
		t.Fatal(err)
	}
	if got := g.AllFeatures(1)["cluster.local"]; got.Unique != 300 || got.SearchExpansions != 300 || got.SearchExpandedNames != want.SearchExpandedNames {
		t.Errorf("merged: %d expansions of %d names (%d asked), want 300 of 300 (%d)", got.SearchExpansions, got.Unique, got.SearchExpandedNames, want.SearchExpandedNames)
	}
}

// TestAwaitedWhileRefreshed: a name expanded again keeps the table alive;
// asked on its own within the window of its latest expansion, it credits
// both, although its first expansion is older than the window.
func TestAwaitedWhileRefreshed(t *testing.T) {
	f := newFeeder(Config{})
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range 5 { // past the compact record's few names
		f.lookup(fmt.Sprintf("svc%d.cluster.local", i), start.Add(-time.Minute), "10.244.1.7", 1, 0, 16)
	}
	f.lookup("www.example.com.svc.cluster.local", start, "10.244.1.7", 1, 3, 0)
	f.lookup("www.example.com.ns.svc.cluster.local", start.Add(10*time.Second), "10.244.1.7", 1, 3, 0)
	f.lookup("www.example.com", start.Add(20*time.Second), "10.244.1.7", 1, 0, 16)
	if got := f.e.AllFeatures(1)["cluster.local"].SearchExpansions; got != 2 {
		t.Errorf("%d expansions credited, want 2", got)
	}
}

// TestSearchExpansionsBounded: a flood of distinct embedded names from
// many clients keeps the table at its size and forgets what expired.
func TestSearchExpansionsBounded(t *testing.T) {
	f := newFeeder(Config{})
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 * expansionSets * expansionWays {
		f.lookup(fmt.Sprintf("h%d.example.com.corp.example.org", i), start.Add(time.Duration(i)*time.Millisecond),
			fmt.Sprintf("10.1.%d.%d", i/250%250, 1+i%250), 1, 3, 0)
	}
	x := &f.e.expand
	if len(x.slots) != expansionSets*expansionWays || x.active > len(x.slots) || x.active == 0 {
		t.Fatalf("%d slots, %d active", len(x.slots), x.active)
	}
	checkTags(t, x)
	// Names asked on their own within the window free their slots.
	for i := 3*expansionSets*expansionWays - 100; i < 3*expansionSets*expansionWays; i++ {
		f.lookup(fmt.Sprintf("h%d.example.com", i), start.Add(time.Duration(i)*time.Millisecond+time.Second),
			fmt.Sprintf("10.1.%d.%d", i/250%250, 1+i%250), 1, 0, 16)
	}
	checkTags(t, x)
	if got := f.e.AllFeatures(1)["example.org"].SearchExpansions; got != 100 {
		t.Errorf("%d expansions credited, want 100", got)
	}
	// Long after, any name clears the expired table.
	f.lookup("www.example.net", start.Add(time.Hour), "10.0.0.1", 1, 0, 16)
	if x.active != 0 {
		t.Errorf("%d expansions still awaited an hour later", x.active)
	}
	checkTags(t, x)
}

// checkTags fails unless every slot's tag is its key's (0 when empty) and
// the table counts as active exactly its used slots.
func checkTags(t *testing.T, x *expansions) {
	t.Helper()
	used := 0
	for i, s := range x.slots {
		want := uint16(0)
		if s.key != 0 {
			want = tag(s.key)
			used++
		}
		if x.tags[i] != want {
			t.Fatalf("slot %d: tag %#x, key %#x", i, x.tags[i], s.key)
		}
	}
	if used != x.active {
		t.Fatalf("%d slots used, %d active", used, x.active)
	}
}

// TestDataAfterTheEmbeddedName: a channel that puts one harmless name in
// front of its data ("www.google.com.<data>.t.<zone>") and asks that name
// on its own every few messages is credited expansions, but of one name
// asked: it is judged as before.
func TestDataAfterTheEmbeddedName(t *testing.T) {
	f := newFeeder(Config{})
	rng := rand.New(rand.NewPCG(5, 6))
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	lookups := uint64(0)
	for i := range 600 {
		at := start.Add(time.Duration(i) * 200 * time.Millisecond)
		f.lookup("www.google.com."+dataLabel(rng, 30)+".t.evil-example.com", at, "10.5.5.5", 16, 0, 40)
		if i%20 == 19 {
			f.lookup("www.google.com", at.Add(time.Millisecond), "10.5.5.5", 1, 0, 16)
			lookups++
		}
	}
	// Each lookup on its own credits eight names at most.
	feats := f.e.AllFeatures(1)["evil-example.com"]
	if feats.SearchExpansions != maxSearchDomains*lookups || feats.SearchExpandedNames > 2 {
		t.Fatalf("%d expansions of %d names, want %d of 1", feats.SearchExpansions, feats.SearchExpandedNames, maxSearchDomains*lookups)
	}
	if fd := f.find(t, "evil-example.com"); fd == nil || fd.Verdict != "tunnel" || fd.Severity < SeverityMedium {
		t.Errorf("the channel: %v, want a tunnel", fd)
	}
}

// TestSearchDomainsUnderSeveralZones: a pod on a cloud node expands each
// name under the cluster's zones and the node's (another registered
// domain); one lookup of the name on its own credits both.
func TestSearchDomainsUnderSeveralZones(t *testing.T) {
	f := newFeeder(Config{})
	forNames(3, 300, 20, ".x-example.com", func(name string, at time.Time) {
		for _, search := range []string{"prod.svc.cluster.local", "svc.cluster.local", "cluster.local", "us-west-2.compute.internal"} {
			f.lookup(name+"."+search, at, "10.244.1.7", 1, 3, 0)
		}
		f.lookup(name, at.Add(time.Millisecond), "10.244.1.7", 1, 0, 16)
	})
	all := f.e.AllFeatures(1)
	for zone, want := range map[string]uint64{"cluster.local": 900, "compute.internal": 300} {
		if got := all[zone]; got.Unique != want || got.SearchExpansions != want {
			t.Errorf("%s: %d expansions of %d names, want %d of %d", zone, got.SearchExpansions, got.Unique, want, want)
		}
	}
	for _, fd := range f.e.Findings() {
		if fd.RegisteredDomain != "x-example.com" && fd.Severity >= SeverityMedium {
			t.Errorf("%s judged %s", fd.RegisteredDomain, fd.SeverityText)
		}
	}
}

// TestSearchExpansionsMergeCountsOnce: a shard whose names overlap
// another's adds its expansions once, and never makes the other shard's
// names expansions.
func TestSearchExpansionsMergeCountsOnce(t *testing.T) {
	a := newFeeder(Config{})
	searchPathTraffic(a, 3, 100, true, "10.244.1.7", time.Millisecond) // 300 expanded names
	b := newFeeder(Config{})
	searchPathTraffic(b, 3, 100, false, "", 0)                         // the same 300 names, never asked on their own
	searchPathTraffic(b, 9, 100, true, "10.244.1.7", time.Millisecond) // and 300 others, expanded
	if got := b.e.AllFeatures(1)["cluster.local"]; got.Unique != 600 || got.SearchExpansions != 300 {
		t.Fatalf("test too weak: b has %d expansions of %d names", got.SearchExpansions, got.Unique)
	}
	rec, ok := b.e.ExportDomain("cluster.local")
	if !ok {
		t.Fatal("nothing to export")
	}
	if err := a.e.ImportDomain(rec); err != nil {
		t.Fatal(err)
	}
	if got := a.e.AllFeatures(1)["cluster.local"]; got.Unique != 600 || got.SearchExpansions != 300 {
		t.Errorf("merged: %d expansions of %d names, want 300 of 600", got.SearchExpansions, got.Unique)
	}
}

// TestFailedThenExpanded: a host with ndots:1 (or a Windows suffix list)
// asks a name on its own first and, when it is denied, under its search
// domain: a mail server's reputation lookups that miss fill the company's
// own zone. Expansions that follow a denial of their name are credited;
// without the denial, or when the name resolved, they are not.
func TestFailedThenExpanded(t *testing.T) {
	for _, c := range []struct {
		name       string
		bareRCode  uint8
		bare       bool
		wantCredit bool
	}{
		{"denied, then expanded", 3, true, true},
		{"never asked on its own", 0, false, false},
		{"resolved on its own", 0, true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFeeder(Config{})
			forNames(8, 600, 30, ".dbl.example-rbl.org", func(name string, at time.Time) {
				if c.bare {
					f.lookup(name, at, "10.1.1.25", 1, c.bareRCode, 0)
				}
				f.lookup(name+".corp.example.com", at.Add(30*time.Millisecond), "10.1.1.25", 1, 3, 0)
			})
			feats := f.e.AllFeatures(1)["example.com"]
			fd := f.find(t, "example.com")
			if c.wantCredit {
				// The names before the domain's full state and before the
				// first expansion awaited are not credited.
				if feats.SearchExpansions < 570 || fd == nil || fd.Severity != SeverityLow {
					t.Errorf("%d of %d names credited, finding %v: want 570 or more, suspicious", feats.SearchExpansions, feats.Unique, fd)
				}
				return
			}
			if feats.SearchExpansions != 0 || fd == nil || fd.Severity < SeverityMedium {
				t.Errorf("%d of %d names credited, finding %v: want none, a tunnel", feats.SearchExpansions, feats.Unique, fd)
			}
		})
	}
}
