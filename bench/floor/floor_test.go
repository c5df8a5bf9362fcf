package floor

import (
	"hash/maphash"
	"math/bits"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/dnsieve/dnsieve/bench/traffic"
	"github.com/dnsieve/dnsieve/internal/analyze"
	"github.com/dnsieve/dnsieve/internal/checks"
	"github.com/dnsieve/dnsieve/internal/engine"
)

// packets is how many packets of traffic the benchmarks replay: as many
// as bench/compare.sh's main capture, which asks about 1.02M registered
// domains.
const packets = 10_000_000

var (
	streamOnce sync.Once
	stream     []uint64 // the seeded hash of each packet's registered domain
)

// domainStream returns the hash of every packet's registered domain, in
// capture order, computed once: the analyzer splits each name as a scan
// does.
func domainStream(b *testing.B) []uint64 {
	streamOnce.Do(func() {
		cfg := checks.Default()
		a := analyze.New(analyze.Config{Checks: &cfg, Ports: analyze.NewPortSet([]uint16{53})})
		g := traffic.New(traffic.Config{Seed: 1})
		seed := maphash.MakeSeed()
		stream = make([]uint64, 0, packets)
		var cnt analyze.Counts
		var allowed bool
		for len(stream) < packets {
			_, f := g.Next()
			if a.Frame(1, f) != analyze.UDPDNS {
				continue
			}
			var o engine.Observation
			if _, ok := a.Message(a.Packet().Payload, &cnt, &o, &allowed); !ok || len(o.Name) == 0 {
				continue
			}
			stream = append(stream, maphash.Bytes(seed, o.Name[min(o.RegStart, len(o.Name)):]))
		}
	})
	if len(stream) != packets {
		b.Fatalf("%d packets decoded, want %d", len(stream), packets)
	}
	return stream
}

// record is the least state a detector keeps per domain: its key, when it
// was first and last seen, a few counters. One cache line.
type record struct {
	key               uint64
	first, last       int64
	queries, distinct uint32
	bytes             uint64
	clients           [2]uint64
	_                 [8]byte
}

// indexed is the engine's layout: an index of tag|position words, kept at
// most half full, and the records in an array. A lookup loads the index
// slot, then the record: two dependent misses on a cold domain.
type indexed struct {
	index []uint64
	recs  []record
	mask  uint64
	shift uint // 64 - log2(len(index))
}

// slotsFor returns a power-of-two table size at most half full with
// domains entries.
func slotsFor(domains int) int {
	n := 1
	for n < 2*domains {
		n *= 2
	}
	return n
}

func newIndexed(domains int) *indexed {
	n := slotsFor(domains)
	return &indexed{index: make([]uint64, n), recs: make([]record, 0, domains), mask: uint64(n - 1),
		shift: uint(64 - bits.TrailingZeros(uint(n)))}
}

// home is the index slot where h's probe starts: the top bits of the
// product of the hash's high half, as the engine's coldTable.home.
func (t *indexed) home(h uint64) uint64 { return (h >> 32) * 0x9E3779B97F4A7C15 >> t.shift }

func (t *indexed) touch(h uint64, now int64) {
	tag := h &^ 0xffffffff
	for s := t.home(h); ; s = (s + 1) & t.mask {
		w := t.index[s]
		if w == 0 {
			t.recs = append(t.recs, record{key: h, first: now})
			t.index[s] = tag | uint64(len(t.recs))
			w = t.index[s]
		}
		if w&^0xffffffff != tag {
			continue
		}
		if r := &t.recs[uint32(w)-1]; r.key == h {
			r.last = now
			r.queries++
			return
		}
	}
}

// inline keeps each record in its slot: one miss on a cold domain, at the
// cost of an array of records twice the population.
type inline struct {
	slots []record
	mask  uint64
}

func newInline(domains int) *inline {
	n := slotsFor(domains)
	return &inline{slots: make([]record, n), mask: uint64(n - 1)}
}

func (t *inline) touch(h uint64, now int64) {
	for s := h & t.mask; ; s = (s + 1) & t.mask {
		r := &t.slots[s]
		if r.key == 0 {
			*r = record{key: h, first: now}
		}
		if r.key == h {
			r.last = now
			r.queries++
			return
		}
	}
}

// BenchmarkDomainState replays the domains of 10M packets of realistic
// traffic against per-domain records and reports ns per packet. The first
// pass over the stream inserts the 1.02M domains; later ones find them.
func BenchmarkDomainState(b *testing.B) {
	hs := domainStream(b)
	b.Run("index+record", func(b *testing.B) {
		t := newIndexed(1 << 20)
		i := 0
		for b.Loop() {
			t.touch(hs[i], int64(i))
			if i++; i == len(hs) {
				i = 0
			}
		}
		b.ReportMetric(float64(len(t.recs)), "domains")
	})
	b.Run("inline", func(b *testing.B) {
		t := newInline(1 << 20)
		i := 0
		for b.Loop() {
			t.touch(hs[i], int64(i))
			if i++; i == len(hs) {
				i = 0
			}
		}
	})
	b.Run("stream-only", func(b *testing.B) {
		var sum uint64
		i := 0
		for b.Loop() {
			sum += hs[i]
			if i++; i == len(hs) {
				i = 0
			}
		}
		if sum == 1 {
			b.Log(sum)
		}
	})
}

// BenchmarkDependentLoad measures memory latency: each load's address is
// the previous load's result, over a random cycle through 256 MiB, one
// load per 64-byte line.
func BenchmarkDependentLoad(b *testing.B) {
	const lines = 256 << 20 / 64
	next := make([]uint64, lines*8)
	order := rand.New(rand.NewPCG(1, 2)).Perm(lines)
	for k := range order {
		next[order[k]*8] = uint64(order[(k+1)%lines] * 8)
	}
	var p uint64
	for b.Loop() {
		p = next[p]
	}
	if p == 1 {
		b.Log(p)
	}
}
