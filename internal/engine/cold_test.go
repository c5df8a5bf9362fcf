package engine

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/dnsieve/dnsieve/internal/fingerprint"
)

// TestColdTableAgainstMap drives the index through random inserts,
// removals, promotions and full-domain adds and drops, and checks every
// name against a plain map after each step.
func TestColdTableAgainstMap(t *testing.T) {
	e := New(Config{})
	rng := rand.New(rand.NewPCG(1, 2))
	type where struct {
		hot *domain
		id  uint32
	}
	model := map[string]where{}
	var names []string
	check := func(step int) {
		t.Helper()
		if e.cold.entries() != len(model) {
			t.Fatalf("step %d: %d entries, model %d", step, e.cold.entries(), len(model))
		}
		for _, n := range names {
			w, ok := model[n]
			v := e.cold.lookup(e.cold.hash([]byte(n)), []byte(n))
			switch {
			case !ok && v != 0:
				t.Fatalf("step %d: %s found after removal", step, n)
			case ok && w.hot != nil && (v&hotBit == 0 || e.cold.hot[v&^hotBit-1] != w.hot):
				t.Fatalf("step %d: hot %s: entry %x", step, n, v)
			case ok && w.hot == nil && (v == 0 || v&hotBit != 0 || e.cold.at(int(v-1)).id != w.id ||
				string(e.cold.name(e.cold.at(int(v-1)))) != n):
				t.Fatalf("step %d: cold %s: entry %x", step, n, v)
			}
		}
	}
	for step := range 4000 {
		switch op := rng.IntN(10); {
		case op < 5: // a new cold domain
			n := fmt.Sprintf("d%d.example", len(names))
			names = append(names, n)
			e.nextID++
			e.cold.insert(e.cold.hash([]byte(n)), []byte(n), e.nextID, 1)
			model[n] = where{id: e.nextID}
		case op < 7 && e.cold.n > 0: // evict or remove a cold one
			i := rng.IntN(e.cold.n)
			delete(model, string(e.cold.name(e.cold.at(i))))
			e.cold.remove(i)
		case op < 8 && e.cold.n > 0: // promote
			i := rng.IntN(e.cold.n)
			d := e.promote(i)
			model[d.name] = where{hot: d}
		case op < 9: // a full domain made directly
			n := fmt.Sprintf("h%d.example", len(names))
			names = append(names, n)
			d := e.newDomain(n, 1)
			model[n] = where{hot: d}
		default: // drop a full one
			for n, w := range model {
				if w.hot != nil {
					e.cold.dropHot(w.hot)
					delete(e.domains, n)
					delete(model, n)
					break
				}
			}
		}
		if step%97 == 0 {
			check(step)
		}
	}
	check(-1)
	if e.cold.n < 500 || len(e.cold.hot)-len(e.cold.hotFree) < 100 {
		t.Fatalf("%d cold, %d hot: test too weak", e.cold.n, len(e.cold.hot)-len(e.cold.hotFree))
	}
	var names2 int
	for i := 0; i < e.cold.n; i++ {
		names2 += int(e.cold.at(i).nameLen)
	}
	if len(e.cold.names)-e.cold.dead != names2 {
		t.Fatalf("name arena: %d bytes, %d dead, %d live", len(e.cold.names), e.cold.dead, names2)
	}
}

// coldObs is a query or response for one name from one client.
func coldObs(f *feeder, name string, at int64, client string, qtype uint16, response bool) Observation {
	lens := labelLens(name)
	lower, reg := f.split.Split([]byte(name), lens)
	return Observation{Time: at, Client: netip.MustParseAddr(client), Server: netip.MustParseAddr("192.0.2.53"),
		Response: response, QType: qtype, Name: lower, Labels: lens, RegStart: reg, Size: 40, AnswerData: 16}
}

// TestColdDomainPromotedWithItsCounters: three word-like names stay cold;
// the fourth promotes the domain, which keeps every counter.
func TestColdDomainPromotedWithItsCounters(t *testing.T) {
	f := newFeeder(Config{})
	at := t0.UnixNano()
	for i, host := range []string{"www", "mail", "www", "api", "www"} {
		for _, resp := range []bool{false, true} {
			o := coldObs(f, host+".example.org", at+int64(i)*int64(time.Second), "10.0.0.1", tA, resp)
			if resp {
				o.RCode = 3
			}
			f.e.Observe(&o)
		}
	}
	o := coldObs(f, "www.example.org", at+5*int64(time.Second), "10.0.0.2", 28, false)
	f.e.Observe(&o)
	o = coldObs(f, "www.example.org", at+5*int64(time.Second), "10.0.0.3", tTXT, false) // a third client
	f.e.Observe(&o)
	if st := f.e.Stats(); st.ColdDomains != 1 || st.Domains != 1 || st.Promotions != 0 {
		t.Fatalf("after three names: %+v", st)
	}
	if got := f.e.AllFeatures(0)["example.org"]; got.Queries != 7 || got.Responses != 5 || got.Unique != 3 || got.Clients != 3 {
		t.Fatalf("cold features %+v", got)
	}
	o = coldObs(f, "cdn.example.org", at+6*int64(time.Second), "10.0.0.1", tA, false)
	id := f.e.Observe(&o)
	if st := f.e.Stats(); st.ColdDomains != 0 || st.Domains != 1 || st.Promotions != 1 {
		t.Fatalf("after the fourth name: %+v", st)
	}
	d := f.e.domains["example.org"]
	if d == nil || d.id != id || d.id != 1 {
		t.Fatalf("promoted domain %+v, id %d", d, id)
	}
	if d.queries != 8 || d.responses != 5 || d.nxdomain != 5 || d.unique != 4 || d.names.n != 4 ||
		d.qtypes[qtA] != 6 || d.qtypes[qtAAAA] != 1 || d.qtypes[qtTXT] != 1 || !d.untracked || d.allClients != sketchOf("10.0.0.1", "10.0.0.2", "10.0.0.3") || d.sizes != 13*40 || d.answerData != 5*16 ||
		d.first != at || d.last != at+6*int64(time.Second) || d.uniqueBytes != 3+4+3+3 || d.maxLabel != 4 {
		t.Fatalf("promoted counters: %+v", *d)
	}
	c1, c2 := d.clients.get(netip.MustParseAddr("10.0.0.1")), d.clients.get(netip.MustParseAddr("10.0.0.2"))
	if c1 == nil || c2 == nil || c1.queries != 6 || c1.responses != 5 || c2.queries != 1 || c2.responses != 0 || c1.unique != 4 {
		t.Fatalf("clients %+v %+v", c1, c2)
	}
	// A name seen while cold is not new again.
	o = coldObs(f, "mail.example.org", at+7*int64(time.Second), "10.0.0.1", tA, false)
	f.e.Observe(&o)
	if d.unique != 4 {
		t.Fatalf("a cold name counted twice: %d", d.unique)
	}
}

// TestColdPromotesOnEvidence: anything a verdict may use sends a domain to
// the full state at once.
func TestColdPromotesOnEvidence(t *testing.T) {
	cases := []struct {
		name string
		mod  func(o *Observation)
		host string
	}{
		{"flagged", func(o *Observation) { o.Flagged = true }, "www"},
		{"tool", func(o *Observation) {
			o.Match = fingerprint.Match{Tool: fingerprint.Iodine, Strength: fingerprint.Weak}
		}, "www"},
		{"off port", func(o *Observation) { o.OffPort, o.ServerPort = true, 5353 }, "www"},
		{"second file", func(o *Observation) { o.File = 1 }, "www"},
		{"long label", nil, "abcdefghijklmnopq"},
		{"data-like label", nil, "xq7kzv9wpt"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFeeder(Config{})
			for i, c := range []string{"10.0.0.1", "10.0.0.2"} {
				o := coldObs(f, "www.example.org", t0.UnixNano()+int64(i), c, tA, false)
				f.e.Observe(&o)
			}
			if st := f.e.Stats(); st.ColdDomains != 1 {
				t.Fatalf("not cold: %+v", st)
			}
			o := coldObs(f, tc.host+".example.org", t0.UnixNano()+5, "10.0.0.1", tA, false)
			if tc.mod != nil {
				tc.mod(&o)
			}
			f.e.Observe(&o)
			if st := f.e.Stats(); st.ColdDomains != 0 || st.Promotions != 1 || f.e.domains["example.org"].queries != 3 {
				t.Fatalf("not promoted: %+v", st)
			}
		})
	}
}

// TestColdObserveAllocatesNothing: a known cold domain costs no allocation.
func TestColdObserveAllocatesNothing(t *testing.T) {
	f := newFeeder(Config{})
	q := coldObs(f, "www.example.org", t0.UnixNano(), "10.0.0.1", tA, false)
	r := coldObs(f, "www.example.org", t0.UnixNano(), "10.0.0.1", tA, true)
	f.e.Observe(&q)
	allocs := testing.AllocsPerRun(1000, func() {
		q.Time += 1000
		r.Time = q.Time
		f.e.Observe(&q)
		f.e.Observe(&r)
	})
	if allocs != 0 || f.e.Stats().ColdDomains != 1 {
		t.Fatalf("%v allocations per lookup; %+v", allocs, f.e.Stats())
	}
}

// TestColdEvictionSparesTheActive: under a flood of one-lookup domains, a
// domain looked up between them survives CLOCK.
func TestColdEvictionSparesTheActive(t *testing.T) {
	f := newFeeder(Config{MaxMemory: 1 << 20})
	at := t0.UnixNano()
	var keepID uint32
	for i := range 50000 {
		o := coldObs(f, fmt.Sprintf("www.flood%d.example", i), at, "10.0.0.9", tA, false)
		f.e.Observe(&o)
		if i%200 == 0 {
			k := coldObs(f, "www.keep.example", at, "10.0.0.1", tA, false)
			id := f.e.Observe(&k)
			if keepID == 0 {
				keepID = id
			}
			if id != keepID {
				t.Fatalf("lookup %d: the active cold domain was evicted", i)
			}
		}
		if f.e.memory() > f.e.cfg.MaxMemory {
			t.Fatalf("memory %d over the cap", f.e.memory())
		}
	}
	st := f.e.Stats()
	if st.Evictions < 40000 || st.ColdDomains < 4000 {
		t.Fatalf("stats %+v", st)
	}
	if f.e.DomainID("keep.example") != keepID || keepID == 0 {
		t.Fatal("the active cold domain was evicted")
	}
	// One-lookup domains leave oldest first: the newest are all there.
	if f.e.DomainID("flood0.example") != 0 {
		t.Fatal("the oldest one-lookup domain is still there")
	}
	for i := 49000; i < 50000; i++ {
		if f.e.DomainID(fmt.Sprintf("flood%d.example", i)) == 0 {
			t.Fatalf("flood%d.example, among the newest, was evicted", i)
		}
	}
}

// TestTopDomainsMatchesSort compares the bounded selection with sorting
// every domain, full and cold.
func TestTopDomainsMatchesSort(t *testing.T) {
	f := newFeeder(Config{})
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 3000 {
		dom := fmt.Sprintf("d%d.example", rng.IntN(400))
		host := []string{"www", "a", "b", "c", "d", "e"}[rng.IntN(6)]
		o := coldObs(f, host+"."+dom, t0.UnixNano()+int64(i), "10.0.0.1", tA, rng.IntN(3) == 0)
		f.e.Observe(&o)
	}
	if st := f.e.Stats(); st.ColdDomains < 50 || st.Domains-st.ColdDomains < 50 {
		t.Fatalf("test too weak: %+v", st)
	}
	var all []Volume
	for _, d := range f.e.domains {
		all = append(all, Volume{Domain: d.name, Queries: d.queries, Responses: d.responses, UniqueNames: d.unique, Clients: d.clients.len()})
	}
	for i := 0; i < f.e.cold.n; i++ {
		c := f.e.cold.at(i)
		all = append(all, Volume{Domain: string(f.e.cold.name(c)), Queries: uint64(c.queries), Responses: uint64(c.responses),
			UniqueNames: uint64(c.nSubs), Clients: 1})
	}
	oracle := func(key func(v Volume) uint64, n int) []Volume {
		s := slices.Clone(all)
		sort.Slice(s, func(i, j int) bool {
			if key(s[i]) != key(s[j]) {
				return key(s[i]) > key(s[j])
			}
			return s[i].Domain < s[j].Domain
		})
		return s[:min(n, len(s))]
	}
	for _, n := range []int{1, 10, 57, 1000} {
		q, u := f.e.TopDomains(n)
		if want := oracle(func(v Volume) uint64 { return max(v.Queries, v.Responses) }, n); !slices.Equal(q, want) {
			t.Fatalf("n=%d by queries:\n%v\nwant\n%v", n, q, want)
		}
		if want := oracle(func(v Volume) uint64 { return v.UniqueNames }, n); !slices.Equal(u, want) {
			t.Fatalf("n=%d by names:\n%v\nwant\n%v", n, u, want)
		}
	}
}

// TestManyClientsLeaveNothingBehind: a flood of one-lookup domains from as
// many source addresses stays under the cap and, once evicted, leaves the
// whole cap to later domains (clients live in the records, not in a table
// that outlives them).
func TestManyClientsLeaveNothingBehind(t *testing.T) {
	f := newFeeder(Config{MaxMemory: 4 << 20})
	for i := range 100000 {
		a := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 14: byte(i >> 8), 15: byte(i)}).String()
		o := coldObs(f, fmt.Sprintf("www.r%d.com", i), t0.UnixNano(), a, tA, false)
		f.e.Observe(&o)
		if f.e.memory() > f.e.cfg.MaxMemory {
			t.Fatalf("memory %d over the cap", f.e.memory())
		}
	}
	for i := range 20000 {
		o := coldObs(f, fmt.Sprintf("www.later%d.org", i), t0.UnixNano(), "10.0.0.1", tA, false)
		f.e.Observe(&o)
	}
	st := f.e.Stats()
	if want := 4 << 20 / (coldRecordBytes + 16); st.ColdDomains < want*9/10 {
		t.Fatalf("the cap holds %d domains after the flood, want about %d", st.ColdDomains, want)
	}
	if f.e.DomainID("later19999.org") == 0 {
		t.Fatal("the newest domain is not there")
	}
}

// TestColdClientAddresses: both slots keep IPv4, IPv6 and IPv4-mapped IPv6
// addresses apart and give them back as they came.
func TestColdClientAddresses(t *testing.T) {
	for _, pair := range [][2]string{{"10.0.0.1", "::ffff:10.0.0.1"}, {"2001:db8::1", "10.0.0.1"}, {"::ffff:192.0.2.1", "2001:db8::2"}} {
		f := newFeeder(Config{})
		for _, a := range pair {
			o := coldObs(f, "www.example.org", t0.UnixNano(), a, tA, false)
			f.e.Observe(&o)
		}
		c := f.e.cold.at(0)
		for k, a := range pair {
			if got := c.clientAddr(k); got != netip.MustParseAddr(a) || !c.holds(k, got) || c.holds(1-k, got) {
				t.Fatalf("%v: slot %d holds %v", pair, k, got)
			}
		}
		if c.clients[0].queries != 1 || c.clients[1].queries != 1 || c.moreClients != 0 {
			t.Fatalf("%v: counts %+v, %d more", pair, c.clients, c.moreClients)
		}
	}
}

// TestQuietDomainsTrackFewClients: an ordinary domain tracks quietClients
// clients one by one and counts the rest together, until it could become
// a finding.
func TestQuietDomainsTrackFewClients(t *testing.T) {
	f := newFeeder(Config{})
	at := t0.UnixNano()
	for i := range 10 {
		o := coldObs(f, fmt.Sprintf("h%d.example.org", i%5), at+int64(i), fmt.Sprintf("10.0.0.%d", i+1), tA, false)
		f.e.Observe(&o)
	}
	d := f.e.domains["example.org"]
	// Ten clients: four tracked, at least four known not to be (one may
	// have been tracked later), and the sketch of all estimates eight.
	if n, est := d.clientCount(); d.clients.len() != quietClients || !est || n != 8 {
		t.Fatalf("quiet domain: %d clients tracked, %d in all (estimated %v)", d.clients.len(), n, est)
	}
	o := coldObs(f, "h0.example.org", at+20, "10.0.1.1", tA, false)
	o.Flagged = true
	f.e.Observe(&o)
	o = coldObs(f, "h1.example.org", at+21, "10.0.1.2", tA, false)
	f.e.Observe(&o)
	if d.clients.len() != quietClients+2 || d.clients.get(netip.MustParseAddr("10.0.1.2")) == nil {
		t.Fatalf("after a flagged name: %d clients", d.clients.len())
	}
}

// TestDecoyClientsDoNotHideTheTunnelClient: four clients asking ordinary
// names first do not keep the host that then runs a tunnel (short,
// word-free base32 labels: no single name looks like data) out of the
// finding.
func TestDecoyClientsDoNotHideTheTunnelClient(t *testing.T) {
	f := newFeeder(Config{})
	at := t0
	for i, host := range []string{"www", "mail", "api", "cdn"} {
		f.lookup(host+".tun.com", at.Add(time.Duration(i)*time.Second), "10.0.0.10", tA, 0, 4)
	}
	for i := 11; i <= 13; i++ {
		f.lookup("www.tun.com", at.Add(5*time.Second), fmt.Sprintf("10.0.0.%d", i), tA, 0, 4)
	}
	secret := make([]byte, 600*17)
	for i := range secret {
		secret[i] = byte(i * 7919 >> 3)
	}
	for i := range 600 {
		enc := b32.EncodeToString(secret[i*17 : (i+1)*17])
		name := enc[:7] + "." + enc[7:14] + "." + enc[14:21] + "." + enc[21:28] + ".tun.com"
		f.lookup(name, at.Add(10*time.Second+time.Duration(i)*200*time.Millisecond), "10.9.9.9", tTXT, 0, 120)
	}
	fd := f.find(t, "tun.com")
	if fd == nil {
		t.Fatal("no finding")
	}
	var tunnel *Client
	for i := range fd.Clients {
		if fd.Clients[i].Addr == "10.9.9.9" {
			tunnel = &fd.Clients[i]
		}
	}
	if tunnel == nil || tunnel.Queries < 590 {
		t.Fatalf("the tunnel's client is missing from the finding: %+v", fd.Clients)
	}
}

// TestRawNameMeetsItsCompactRecord: a DNS name equal to a raw-mode key
// ("raw:" and an address, possible when the server address is unknown)
// and later raw packets to that server are one domain, and the engine's
// snapshot stays readable.
func TestRawNameMeetsItsCompactRecord(t *testing.T) {
	f := newFeeder(Config{})
	name := "raw:2001:db8::1"
	o := Observation{Time: t0.UnixNano(), Client: netip.MustParseAddr("10.0.0.1"), QType: tA,
		Name: []byte(name), Labels: []uint8{uint8(len(name))}, RegStart: 0, Size: 40}
	id := f.e.Observe(&o)
	if st := f.e.Stats(); st.ColdDomains != 1 {
		t.Fatalf("not a compact record: %+v", st)
	}
	rid := f.e.ObserveRaw(&RawObservation{Time: t0.UnixNano() + 1, Client: netip.MustParseAddr("10.0.0.1"),
		Server: netip.MustParseAddr("2001:db8::1"), Size: 100,
		Match: fingerprint.Match{Tool: fingerprint.Iodine, Strength: fingerprint.Strong}})
	if rid != id || f.e.Stats().Domains != 1 {
		t.Fatalf("raw packets went to domain %d, the name to %d; %+v", rid, id, f.e.Stats())
	}
	g := restore(t, Config{}, snapshotBytes(t, f.e))
	if g.Stats().Domains != 1 {
		t.Fatalf("restored %+v", g.Stats())
	}
}

// TestDomainIDsRunOut: without RenumberIDs, new domains stop being tracked
// (counted) and the others go on; with it, the domains held are
// renumbered, raw-mode owners follow them, and nothing else changes.
func TestDomainIDsRunOut(t *testing.T) {
	observe := func(f *feeder, name string) uint32 {
		o := coldObs(f, name, t0.UnixNano(), "10.0.0.1", tA, false)
		return f.e.Observe(&o)
	}
	f := newFeeder(Config{})
	known := observe(f, "www.known.org")
	f.e.nextID = math.MaxUint32 - 2
	var got []uint32
	for i := range 5 {
		got = append(got, observe(f, fmt.Sprintf("www.new%d.org", i)))
	}
	if !slices.Equal(got, []uint32{math.MaxUint32 - 1, math.MaxUint32, 0, 0, 0}) || f.e.Stats().Untracked != 3 {
		t.Fatalf("IDs %v, %+v", got, f.e.Stats())
	}
	if observe(f, "www.known.org") != known {
		t.Fatal("a known domain lost its ID")
	}
	restore(t, Config{}, snapshotBytes(t, f.e))

	g := newFeeder(Config{RenumberIDs: true})
	feedMix(g, 0, 800, allMix)
	if len(g.e.rawOwner) == 0 || g.e.cold.n == 0 || len(g.e.domains) == 0 {
		t.Fatal("test too weak")
	}
	owners := map[netip.Addr]string{}
	for a, id := range g.e.rawOwner {
		owners[a] = g.e.byID[id].name
	}
	before := g.e.Stats()
	g.e.nextID = math.MaxUint32
	id := observe(g, "www.after-renumbering.org")
	if want := uint32(before.Domains + 1); id != want || g.e.nextID != want || g.e.Stats().Renumbered != 1 {
		t.Fatalf("new ID %d (next %d), want %d; %+v", id, g.e.nextID, want, g.e.Stats())
	}
	checkBookkeeping(t, g.e, 0)
	for a, name := range owners {
		if d := g.e.byID[g.e.rawOwner[a]]; d == nil || d.name != name {
			t.Fatalf("raw owner %v no longer points at %s", a, name)
		}
	}
	h := restore(t, Config{RenumberIDs: true}, snapshotBytes(t, g.e))
	if d := diffEngines(g.e, h, true, true); d != "" {
		t.Fatal(d)
	}
}

// TestHasherMatchesObserve: a Hasher's hashes are the ones Observe would
// compute itself, for the index, the search-path tables and the
// distinct-name sets (whose hashes snapshots of other processes share).
func TestHasherMatchesObserve(t *testing.T) {
	e := New(Config{})
	o := Observation{Name: []byte("a1.www.example.co.uk"), RegStart: 7}
	h := e.Hasher()
	h.Hash(&o)
	want := observationHashes{by: e, reg: e.cold.hash([]byte("example.co.uk")),
		name: e.cold.hash([]byte("a1.www.example.co.uk")) | 1, sub: hashName([]byte("a1.www"))}
	if o.hashes != want || !e.hashed(&o) {
		t.Errorf("hashes %+v, want %+v", o.hashes, want)
	}
	if New(Config{}).hashed(&o) {
		t.Error("another engine takes these hashes")
	}
	whole := Observation{Name: []byte("example.com")}
	h.Hash(&whole)
	var none Hasher
	none.Hash(&o)
	if o.hashes != (observationHashes{}) {
		t.Errorf("the zero Hasher left %+v", o.hashes)
	}
	if whole.hashes.sub != 0 || whole.hashes.reg != e.cold.hash([]byte("example.com")) {
		t.Errorf("a name without a subdomain: %+v", whole.hashes)
	}
}

// TestIndexMatchesHashAndLength pins what identifies a domain in the index:
// its hash and its name's length, in both tiers. Names filed under one
// forged hash are told apart by length; a name of the same length under
// that hash is taken for the one held (a seeded 64-bit collision, which
// lookup's doc accounts for).
func TestIndexMatchesHashAndLength(t *testing.T) {
	e := New(Config{})
	a, b := []byte("alpha.example"), []byte("beta.example")
	h := e.cold.hash(a)
	i := e.cold.insert(h, a, 1, 0)
	j := e.cold.insert(h, b, 2, 0) // b forged onto a's hash
	if got := e.cold.find(h, a); got != i {
		t.Fatalf("a found at %d, want %d", got, i)
	}
	if got := e.cold.find(h, b); got != j {
		t.Fatalf("b found at %d, want %d", got, j)
	}
	if got := e.cold.lookup(h, []byte("gamma.example.org")); got != 0 {
		t.Fatalf("a name of another length under the same hash found: entry %x", got)
	}
	if got := e.cold.find(h, []byte("omega.example")); got != i {
		t.Fatalf("same hash and length: found at %d, want a's %d", got, i)
	}
	if got := e.cold.find(e.cold.hash(b), b); got != -1 {
		t.Fatalf("b under its own hash found at %d (it was filed under a's)", got)
	}
	d := e.promote(i)
	if v := e.cold.lookup(h, a); v != hotBit|(d.slot+1) {
		t.Fatalf("promoted a: entry %x, want %x", v, hotBit|(d.slot+1))
	}
	if v := e.cold.lookup(h, []byte("alpha.example.net")); v != 0 {
		t.Fatalf("promoted a matched a longer name under its hash: entry %x", v)
	}
	if got := e.cold.find(h, b); got < 0 || e.cold.at(got).id != 2 {
		t.Fatalf("b after a's promotion: %d", got)
	}
}

// TestPrefetchChangesNothing: asking for the memory of any message, of a
// domain full or compact, known or not, or of the next record to evict,
// leaves the engine exactly as it was (its snapshot holds the LRU order,
// the CLOCK hand and marks too).
func TestPrefetchChangesNothing(t *testing.T) {
	f := newFeeder(Config{MaxMemory: 1 << 20})
	for i := range 12000 {
		at := t0.Add(time.Duration(i) * time.Second)
		client := fmt.Sprintf("10.0.%d.%d", i%7, i%250)
		f.lookup(fmt.Sprintf("www.once%d.example", i), at, client, tA, 0, 16) // compact, then evicted
		if i%4 == 0 {
			// Popular domains: many names and clients, a table of them.
			f.lookup(fmt.Sprintf("h%d.site%d.example", i%97, i%5), at, client, tA, 0, 16)
		}
	}
	e := f.e
	if e.Stats().Domains == e.Stats().ColdDomains || e.Stats().ColdDomains == 0 || e.Stats().Evictions == 0 {
		t.Fatalf("test too weak: %+v", e.Stats())
	}
	before := snapshotBytes(t, e)
	h := e.Hasher()
	var clientTables int
	for i := range 12000 {
		name := fmt.Sprintf("h%d.site%d.example", i%101, i%7)
		if i%2 == 0 {
			name = fmt.Sprintf("www.once%d.example", i) // unmarked by now, or gone
		}
		lens := labelLens(name)
		lower, start := f.split.Split([]byte(name), lens)
		o := Observation{Time: t0.Add(time.Hour).UnixNano(), Client: netip.MustParseAddr(fmt.Sprintf("10.0.%d.%d", i%7, i%250)),
			Name: lower, Labels: lens, RegStart: start}
		h.Hash(&o)
		if d := e.cold.hotAt(e.cold.prefetchEntry(o.hashes.reg)); d != nil && d.nFew != d.clients.len() {
			clientTables++
		}
		e.PrefetchIndex(&o)
		e.PrefetchRecord(&o)
		e.PrefetchClient(&o)
	}
	if clientTables == 0 {
		t.Fatal("test too weak: no message of a domain with a client table")
	}
	// Eviction's look-ahead, from every position of the CLOCK hand and
	// past the end.
	hand := e.cold.hand
	for e.cold.hand = 0; e.cold.hand <= e.cold.n+1; e.cold.hand++ {
		e.cold.prefetchVictim()
	}
	e.cold.hand = hand
	if !bytes.Equal(before, snapshotBytes(t, e)) {
		t.Fatal("prefetching changed the engine")
	}
}

// TestHotAtOutOfRange: hotAt answers nil, never panics, for entries that
// name no full domain, the malformed hotBit alone included.
func TestHotAtOutOfRange(t *testing.T) {
	e := New(Config{})
	for _, v := range []uint32{0, 1, hotBit, hotBit | 1, hotBit | 1<<30} {
		if d := e.cold.hotAt(v); d != nil {
			t.Errorf("hotAt(%#x) = %p, want nil", v, d)
		}
	}
}
