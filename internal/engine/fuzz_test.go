package engine

import (
	"bytes"
	"fmt"
	"net/netip"
	"testing"

	"github.com/dnsieve/dnsieve/internal/fingerprint"
	"github.com/dnsieve/dnsieve/internal/regdomain"
)

// FuzzObserve drives one engine with a hostile sequence of observations,
// raw packets, exports, imports, removals and snapshots under a small
// memory cap, and checks the engine's bookkeeping after every step: the
// index finds every domain of both tiers and nothing else, the memory
// estimates add up and stay under the cap, IDs are unique.
func FuzzObserve(f *testing.F) {
	addStepSeeds(f)
	f.Fuzz(runFuzzBody)
}

// runFuzzBody is FuzzObserve's body.
func runFuzzBody(t *testing.T, data []byte) {
	if len(data) > 4096 {
		return
	}
	e := New(Config{MaxMemory: 64 << 10, MaxNamesPerDomain: 64, MaxClientsPerDomain: 3})
	src := newFeeder(Config{}).split
	in := fuzzInput(data)
	at := int64(1_700_000_000) * 1e9
	for step := 0; len(in) > 0; step++ {
		op, a, b := in.next(), in.next(), in.next()
		at += int64(a) * 1e8
		dom := fmt.Sprintf("d%d.%s", b%24, []string{"com", "co.uk", "example", "x1"}[b%4])
		switch op % 8 {
		case 0, 1, 2, 3, 4:
			var buf [MaxDataRecords]DataRecord
			o := fuzzObservation(src, op, a, b, at, dom, "mzxw6ytboi4dcmrtgq2tmnzygaydcmrtgq2tm", netip.AddrFrom4([4]byte{192, 0, 2, 53}), &buf)
			if a&1 != 0 {
				// As a scan's collector does: hashed by the engine's
				// Hasher, its memory asked for before it is observed.
				h := e.Hasher()
				h.Hash(&o)
				e.PrefetchIndex(&o)
				e.PrefetchRecord(&o)
				e.PrefetchClient(&o)
			}
			e.Observe(&o)
		case 5:
			e.ObserveRaw(&RawObservation{Time: at, Client: netip.AddrFrom4([4]byte{10, 0, 0, a % 5}),
				Server: netip.AddrFrom4([4]byte{192, 0, 2, b % 3}), Size: int(a),
				Match: fingerprint.Match{Tool: fingerprint.Iodine, Strength: fingerprint.Strong}})
		case 6:
			if x, ok := e.ExportDomain(dom); ok {
				if a%2 == 0 {
					e.RemoveDomain(dom)
				}
				if err := e.ImportDomain(x); err != nil {
					t.Fatalf("step %d: re-import of %s: %v", step, dom, err)
				}
			}
		case 7:
			e = restore(t, e.cfg, snapshotBytes(t, e)) // its own snapshot reads back
		}
		checkBookkeeping(t, e, step)
	}
	e.Findings()
	e.TopDomains(5)
}

// checkBookkeeping verifies the engine's invariants.
func checkBookkeeping(t *testing.T, e *Engine, step int) {
	t.Helper()
	if e.memory() > e.cfg.MaxMemory {
		t.Fatalf("step %d: memory %d over the cap %d", step, e.memory(), e.cfg.MaxMemory)
	}
	if got, want := e.cold.entries(), e.cold.n+len(e.domains); got != want {
		t.Fatalf("step %d: %d index entries, %d domains", step, got, want)
	}
	used := 0
	for _, w := range e.cold.index {
		if w != 0 {
			used++
		}
	}
	if used != e.cold.entries() {
		t.Fatalf("step %d: %d index slots used, %d entries", step, used, e.cold.entries())
	}
	ids := map[uint32]bool{}
	var coldMem int64
	for i := 0; i < e.cold.n; i++ {
		c := e.cold.at(i)
		name := e.cold.name(c)
		if e.cold.find(e.cold.hash(name), name) != i || ids[c.id] || c.id == 0 || c.id > e.nextID {
			t.Fatalf("step %d: cold %s (ID %d) not found at %d or its ID repeated", step, name, c.id, i)
		}
		ids[c.id] = true
		coldMem += int64(coldRecordBytes + len(name))
		if c.clientKind(0) == clientNone && c.clientKind(1) != clientNone || c.clientKind(0) == 3 || c.clientKind(1) == 3 {
			t.Fatalf("step %d: cold %s: client slots %02b", step, name, c.clientKinds)
		}
	}
	if coldMem != e.cold.mem {
		t.Fatalf("step %d: cold estimate %d, recount %d", step, e.cold.mem, coldMem)
	}
	for name, d := range e.domains {
		v := e.cold.lookup(e.cold.hash([]byte(name)), []byte(name))
		if v&hotBit == 0 || e.cold.hot[v&^hotBit-1] != d || e.byID[d.id] != d || ids[d.id] {
			t.Fatalf("step %d: full domain %s (ID %d) not indexed or its ID repeated", step, name, d.id)
		}
		ids[d.id] = true
		for a := range d.clients.all() {
			s := d.allClients
			if s.add(a); s != d.allClients {
				t.Fatalf("step %d: %s: tracked client %v not in the sketch", step, name, a)
			}
		}
		if n, est := d.clientCount(); n < d.clients.len() || est != d.untracked {
			t.Fatalf("step %d: %s: %d clients (estimated %v), %d tracked", step, name, n, est, d.clients.len())
		}
	}
	if len(e.byID) != len(e.domains) {
		t.Fatalf("step %d: byID %d, domains %d", step, len(e.byID), len(e.domains))
	}
}

// addStepSeeds adds the seed inputs of the step-driven engine fuzz
// targets.
func addStepSeeds(f *testing.F) {
	f.Add([]byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"))
	f.Add(bytes.Repeat([]byte{0x11, 0x92, 0x33, 0xf4}, 64))
	f.Add(bytes.Repeat([]byte{0xff, 0x00, 0x7f, 0x80, 0x01}, 100))
}

// fuzzInput hands out a fuzz input a byte at a time (0 past its end).
type fuzzInput []byte

func (in *fuzzInput) next() byte {
	if len(*in) == 0 {
		return 0
	}
	b := (*in)[0]
	*in = (*in)[1:]
	return b
}

// fuzzObservation is the observation of one fuzz step (op, a, b): a name
// under dom (www, a host, a hex label or the given data-like label), from
// one of five clients to server, query or response, with a fingerprint
// match and data records when op's bits ask for them (buf holds those).
func fuzzObservation(split *regdomain.Splitter, op, a, b byte, at int64, dom, dataLabel string, server netip.Addr,
	buf *[MaxDataRecords]DataRecord) Observation {
	var host string
	switch a % 4 {
	case 0:
		host = "www"
	case 1:
		host = fmt.Sprintf("h%d", op%7)
	case 2:
		host = fmt.Sprintf("%x%x%x", op, a, b)
	default:
		host = dataLabel
	}
	name := host + "." + dom
	lens := labelLens(name)
	lower, reg := split.Split([]byte(name), lens)
	o := Observation{Time: at, File: int(op>>6) % 2, Client: netip.AddrFrom4([4]byte{10, 0, 0, a % 5}),
		Server: server, Response: op&8 != 0, QType: []uint16{1, 28, 16, 10, 65}[a%5],
		RCode: b % 4, Name: lower, Labels: lens, RegStart: reg, Size: int(a), AnswerData: int(b),
		Flagged: op&0x10 != 0, MixedCase: op&0x20 != 0, EDNSData: int(op & 3)}
	if op&0x40 != 0 {
		o.Match = fingerprint.Match{Tool: fingerprint.Tool(1 + b%4), Strength: fingerprint.Strength(a % 3)}
	}
	if op&0x80 != 0 {
		// Answers carrying data (queries too: the engine must ignore
		// them): a few contents, repeated, up to 19 records folded into
		// the bound.
		for k := range 1 + int(a%19) {
			o.AddDataRecord(buf, 1+int(b)+k, uint64((int(a)*31+int(b)+k)%200)*0x9e3779b97f4a7c15)
		}
	}
	return o
}
