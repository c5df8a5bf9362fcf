package engine

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

func TestEmbeddedName(t *testing.T) {
	e := New(Config{})
	for _, c := range []struct{ sub, want string }{
		{"d1x2.cloudfront.net.payments.svc", "d1x2.cloudfront.net"},
		{"d1x2.cloudfront.net", "d1x2.cloudfront.net"},
		{"www.example.co.uk.corp", "www.example.co.uk"},
		{"shop.xn--p1ai.svc", "shop.xn--p1ai"},
		{"api.github.com.net.x", "api.github.com.net"}, // the last top-level label
		{"www", ""},
		{"e1234.dscb", ""},
		{"com.svc", ""},            // a first label is no name's end
		{"host.local.svc", ""},     // "local" is no top-level domain
		{"a1b2.c0m.svc", ""},       // digits outside an IDN label
		{"host.xn--.svc", ""},      // not an A-label
		{"pc12.corp.internal", ""}, // "internal" is reserved, not delegated
		{"4.3.2.1.in-addr.arpa", "4.3.2.1.in-addr.arpa"},
	} {
		got, ok := e.embeddedName([]byte(c.sub), labelLens(c.sub))
		if string(got) != c.want || ok != (c.want != "") {
			t.Errorf("embeddedName(%q) = %q, %v; want %q", c.sub, got, ok, c.want)
		}
	}
}

// searchPathTraffic feeds n outside names that carry data (base32 under
// x-example.com), each asked by one pod under a Kubernetes pod's three
// search domains, NXDOMAIN, and then, when bare is set, on its own by
// client bareClient after delay.
func searchPathTraffic(f *feeder, n int, bare bool, bareClient string, delay time.Duration) {
	rng := rand.New(rand.NewPCG(3, 4))
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	data := make([]byte, 30)
	for i := range n {
		for j := range data {
			data[j] = byte(rng.IntN(256))
		}
		name := b32.EncodeToString(data) + ".x-example.com"
		at := start.Add(time.Duration(i) * 500 * time.Millisecond)
		for _, search := range []string{"payments.svc.cluster.local", "svc.cluster.local", "cluster.local"} {
			f.lookup(name+"."+search, at, "10.244.1.7", 1, 3, 0)
		}
		if bare {
			f.lookup(name, at.Add(delay), bareClient, 1, 0, 16)
		}
	}
}

// TestSearchDomainIsNoTunnel: a search domain whose names embed names
// that the same client then asks on its own is not judged a tunnel; the
// data those names carry is judged where it is asked on its own. Without
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
		{"the name asked a few seconds later", true, "10.244.1.7", 4 * time.Second, false},
		{"no name on its own", false, "", 0, true},
		{"the name asked by another host", true, "10.9.9.9", 2 * time.Millisecond, true},
		{"the name asked too late", true, "10.244.1.7", 6 * time.Second, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFeeder(Config{})
			searchPathTraffic(f, 600, c.bare, c.client, c.delay)
			search := f.find(t, "cluster.local")
			if got := search != nil && search.Severity >= SeverityMedium; got != c.wantSearch {
				t.Errorf("cluster.local judged a tunnel: %v, want %v", got, c.wantSearch)
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

// TestSearchExpandedVeto: a channel's features with nearly all names
// credited as expansions get no verdict, unless a tool's protocol was
// recognised; the share needed is four in five of 16 names or more.
func TestSearchExpandedVeto(t *testing.T) {
	f := newFeeder(Config{})
	searchPathTraffic(f, 200, false, "", 0)
	feats := f.e.AllFeatures(1)["cluster.local"]
	v, sev, _, _, _ := f.e.decide(&feats)
	if v != "tunnel" || sev < SeverityMedium {
		t.Fatalf("the channel without expansions: %q %v, want a tunnel", v, sev)
	}
	feats.SearchExpansions = feats.Unique
	if v, sev, _, _, _ := f.e.decide(&feats); v != "" || sev != SeverityNone {
		t.Errorf("all names expansions: %q %v, want no verdict", v, sev)
	}
	feats.ToolStrong, feats.Tool = 3, "iodine"
	if v, got, _, _, _ := f.e.decide(&feats); v != "tunnel" || got < sev {
		t.Errorf("a recognised tool: %q %v, want a tunnel at %v or above", v, got, sev)
	}
	for _, c := range []struct {
		unique, expansions uint64
		want               bool
	}{{15, 15, false}, {16, 13, true}, {16, 12, false}, {1000, 800, true}, {1000, 799, false}} {
		if got := searchExpanded(&Features{Unique: c.unique, SearchExpansions: c.expansions}); got != c.want {
			t.Errorf("searchExpanded(%d of %d) = %v, want %v", c.expansions, c.unique, got, c.want)
		}
	}
}

// TestSearchExpansionsSurviveSnapshots: the count is saved, read back,
// read as none from a version 9 snapshot, and added by a merge without
// passing the names.
func TestSearchExpansionsSurviveSnapshots(t *testing.T) {
	f := newFeeder(Config{})
	searchPathTraffic(f, 100, true, "10.244.1.7", time.Millisecond)
	var buf bytes.Buffer
	if err := f.e.WriteSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	g := New(Config{})
	if err := g.ReadSnapshot(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	if got := g.AllFeatures(1)["cluster.local"].SearchExpansions; got != 300 {
		t.Errorf("read back: %d expansions, want 300", got)
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
	// expansions: the merge counts each name once.
	h := newFeeder(Config{})
	searchPathTraffic(h, 50, true, "10.244.1.7", time.Millisecond)
	rec, ok := h.e.ExportDomain("cluster.local")
	if !ok {
		t.Fatal("nothing to export")
	}
	if err := g.ImportDomain(rec); err != nil {
		t.Fatal(err)
	}
	if got := g.AllFeatures(1)["cluster.local"]; got.Unique != 300 || got.SearchExpansions != 300 {
		t.Errorf("merged: %d expansions of %d names, want 300 of 300", got.SearchExpansions, got.Unique)
	}
}

// TestSearchExpansionsBounded: a flood of distinct embedded names from
// many clients keeps the table at its size and forgets what expired.
func TestSearchExpansionsBounded(t *testing.T) {
	f := newFeeder(Config{})
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 * expansionSlots {
		f.lookup(fmt.Sprintf("h%d.example.com.corp.example.org", i), start.Add(time.Duration(i)*time.Millisecond),
			fmt.Sprintf("10.1.%d.%d", i/250%250, 1+i%250), 1, 3, 0)
	}
	x := &f.e.expand
	if len(x.slots) != expansionSlots || x.active > expansionSlots || x.active == 0 {
		t.Fatalf("%d slots, %d active", len(x.slots), x.active)
	}
	// Long after, any name clears the expired table.
	f.lookup("www.example.net", start.Add(time.Hour), "10.0.0.1", 1, 0, 16)
	if x.active != 0 {
		t.Errorf("%d expansions still awaited an hour later", x.active)
	}
}
