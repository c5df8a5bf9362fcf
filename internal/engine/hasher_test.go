package engine_test

import (
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dnsieve/dnsieve/internal/engine"
	"github.com/dnsieve/dnsieve/internal/regdomain"
)

// TestHashedObservationsAlike: an engine fed observations hashed by its
// own Hasher, or by another engine's (whose hashes it must ignore), ends
// exactly as one that hashed everything itself: the same domains,
// features, findings and counts.
func TestHashedObservationsAlike(t *testing.T) {
	obs := append(observations(t, 300_000), searchPath(300)...)
	obs = append(obs, underNoTLD(500)...)
	plain, own, foreign, other := engine.New(engine.Config{}), engine.New(engine.Config{}), engine.New(engine.Config{}), engine.New(engine.Config{})
	mixed, prefetched := engine.New(engine.Config{}), engine.New(engine.Config{})
	ownH, otherH, mixedH := own.Hasher(), other.Hasher(), mixed.Hasher()
	feedPrefetching(prefetched, obs)
	for i := range obs {
		o := obs[i]
		plain.Observe(&o)
		o = obs[i]
		ownH.Hash(&o)
		own.Observe(&o)
		o = obs[i]
		otherH.Hash(&o)
		foreign.Observe(&o)
		// Half hashed, half not: what the engine takes from a Hasher
		// must be what it computes itself, or names count twice.
		o = obs[i]
		if i%2 == 0 {
			mixedH.Hash(&o)
		}
		mixed.Observe(&o)
	}
	want := plain.AllFeatures(1)
	expanded := 0
	for _, f := range want {
		expanded += int(f.SearchExpansions)
	}
	if len(want) < 1000 || expanded == 0 {
		t.Fatalf("test too weak: %d domains, %d search-path expansions credited", len(want), expanded)
	}
	if got := want["direct:192.0.2.53"]; got.Unique != 500 {
		t.Fatalf("test too weak: the names under no top-level domain make %+v", got)
	}
	for name, e := range map[string]*engine.Engine{"own hashes": own, "another engine's hashes": foreign, "half hashed": mixed,
		"prefetched": prefetched} {
		if got := e.AllFeatures(1); !reflect.DeepEqual(got, want) {
			diff := 0
			for d, f := range want {
				if !reflect.DeepEqual(got[d], f) {
					diff++
					if diff <= 3 {
						t.Errorf("%s: %s: %+v, want %+v", name, d, got[d], f)
					}
				}
			}
			t.Errorf("%s: %d of %d domains differ (%d domains)", name, diff, len(want), len(got))
		}
		if got, w := e.Findings(), plain.Findings(); !reflect.DeepEqual(got, w) {
			t.Errorf("%s: %d findings, want %d, or they differ", name, len(got), len(w))
		}
		if got, w := e.Stats(), plain.Stats(); got != w {
			t.Errorf("%s: stats %+v, want %+v", name, got, w)
		}
	}
}

// TestHashWithoutName: a Hasher leaves no hashes on an observation
// without a name, or whose RegStart lies outside it.
func TestHashWithoutName(t *testing.T) {
	h := engine.New(engine.Config{}).Hasher()
	for _, o := range []engine.Observation{{}, {Name: []byte("example.com"), RegStart: 12}, {Name: []byte("example.com"), RegStart: -1}} {
		o := o
		h.Hash(&o)
		if !reflect.DeepEqual(o, engine.Observation{Name: o.Name, RegStart: o.RegStart}) {
			t.Errorf("Hash(%q, %d) left %+v", o.Name, o.RegStart, o)
		}
	}
}

// lookups builds query and response observations, as the analyzer
// would, from one client to one server, a lookup every step from start.
type lookups struct {
	split          *regdomain.Splitter
	client, server netip.Addr
	at, step       int64
	obs            []engine.Observation
}

func newLookups(client, server string, start time.Time, step time.Duration) *lookups {
	return &lookups{split: regdomain.New(0), client: netip.MustParseAddr(client), server: netip.MustParseAddr(server),
		at: start.UnixNano(), step: int64(step)}
}

// ask adds a query of name and its response (rcode, answerData bytes).
func (l *lookups) ask(name string, qtype uint16, rcode uint8, answerData int) {
	var lens []uint8
	for _, s := range strings.Split(name, ".") {
		lens = append(lens, uint8(len(s)))
	}
	lower, start := l.split.Split([]byte(name), lens)
	q := engine.Observation{Time: l.at, Client: l.client, Server: l.server, QType: qtype,
		Name: append([]byte(nil), lower...), Labels: lens, RegStart: start, Size: 30 + len(name)}
	r := q
	r.Response, r.RCode, r.AnswerData, r.Time = true, rcode, answerData, l.at+int64(time.Millisecond)
	l.obs = append(l.obs, q, r)
	l.at += l.step
}

// searchPath returns n lookups of a pod with a Kubernetes search list:
// each outside name asked, and denied, under the cluster's three zones,
// then asked on its own, every message with its response.
func searchPath(n int) []engine.Observation {
	l := newLookups("10.244.1.7", "10.96.0.10", time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), 3*time.Millisecond)
	for i := range n {
		x := fmt.Sprintf("h%d.example-%d.com", i, i%7)
		for _, zone := range []string{"ns1.svc.cluster.local", "svc.cluster.local", "cluster.local"} {
			l.ask(x+"."+zone, 1, 3, 0)
		}
		l.ask(x, 1, 0, 0)
	}
	return l.obs
}

// underNoTLD returns n lookups of names under no real top-level domain
// (dnscat2 without a domain), which Observe groups by server: the names
// are split one way by the analyzer and grouped another by the engine.
func underNoTLD(n int) []engine.Observation {
	l := newLookups("10.2.2.2", "192.0.2.53", time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC), time.Second)
	for i := range n {
		l.ask(fmt.Sprintf("dnscat.%016x%016x.%016x", uint64(i)*0x9E3779B97F4A7C15, uint64(i)^0xdeadbeef, uint64(i)*31), 16, 0, 80)
	}
	return l.obs
}

// TestPrefetchLeavesEvictionAlone feeds two engines under a memory cap
// small enough to evict all the time, one of them as a scan's collector
// does, asking for each message's memory 16, 6 and 2 messages ahead: a
// prefetch that marked a record referenced or moved a domain in the LRU
// list would change what is evicted, and so the features and statistics.
func TestPrefetchLeavesEvictionAlone(t *testing.T) {
	obs := observations(t, 200_000)
	cfg := engine.Config{MaxMemory: 2 << 20}
	plain, prefetched := engine.New(cfg), engine.New(cfg)
	feedPrefetching(prefetched, obs)
	for i := range obs {
		plain.Observe(&obs[i])
	}
	want := plain.Stats()
	if want.Evictions < 10_000 || want.Promotions == 0 {
		t.Fatalf("test too weak: %+v", want)
	}
	if got := prefetched.Stats(); got != want {
		t.Fatalf("stats %+v, want %+v", got, want)
	}
	if got, w := prefetched.AllFeatures(1), plain.AllFeatures(1); !reflect.DeepEqual(got, w) {
		t.Fatalf("features of %d domains, want %d, or they differ", len(got), len(w))
	}
}

// feedPrefetching observes copies of obs, hashed by e's Hasher, as a
// scan's collector does: each message's index slot, record and client
// asked for 16, 6 and 2 messages ahead of its turn.
func feedPrefetching(e *engine.Engine, obs []engine.Observation) {
	h := e.Hasher()
	pre := slices.Clone(obs)
	for i := range pre {
		h.Hash(&pre[i])
	}
	for i := range pre {
		if j := i + 16; j < len(pre) {
			e.PrefetchIndex(&pre[j])
		}
		if j := i + 6; j < len(pre) {
			e.PrefetchRecord(&pre[j])
		}
		if j := i + 2; j < len(pre) {
			e.PrefetchClient(&pre[j])
		}
		e.Observe(&pre[i])
	}
}
