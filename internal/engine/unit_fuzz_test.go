package engine

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
)

// Units (unit.go) under any sequence of the engine's operations: their
// invariants are checked after every step.

// unitObservation builds an observation of the given labels under reg, as
// given (a label may hold '.', odd bytes, uppercase: what an analyzer
// passes from the wire).
func unitObservation(labels []string, reg string, at int64, client byte, resp bool, qtype uint16) Observation {
	var name []byte
	var lens []uint8
	for _, l := range labels {
		name = append(name, l...)
		name = append(name, '.')
		lens = append(lens, uint8(len(l)))
	}
	start := len(name)
	name = append(name, reg...)
	for _, l := range strings.Split(reg, ".") {
		lens = append(lens, uint8(len(l)))
	}
	return Observation{Time: at, Client: netip.AddrFrom4([4]byte{10, 0, 0, client}), Server: netip.AddrFrom4([4]byte{192, 0, 2, 53}),
		Response: resp, QType: qtype, Name: name, Labels: lens, RegStart: start, Size: 60, AnswerData: 40}
}

// checkUnits checks e's state: every domain's memory estimate is its
// recount and the engine's is their sum; a unit is linked to its domain,
// shares its ID and alert state, counts no more than it, and is never
// indexed itself; every domain's export imports into an empty engine and
// the engine's snapshot reads back.
func checkUnits(t *testing.T, e *Engine, where string) {
	t.Helper()
	sum := e.contacted.mem()
	for name, d := range e.domains {
		if m := memOf(d); m != d.mem {
			t.Fatalf("%s: %s mem kept %d recomputed %d", where, name, d.mem, m)
		}
		sum += int64(d.mem)
		if d.parent != nil {
			t.Fatalf("%s: %s is a unit in the index", where, name)
		}
		if u := d.unit; u != nil {
			if u.parent != d || u.id != d.id || u.unit != nil || u.name != string(d.unitZone)+"."+d.name {
				t.Fatalf("%s: %s unit links: parent ok %v id %d/%d name %q zone %q", where, name, u.parent == d, u.id, d.id, u.name, d.unitZone)
			}
			if u.queries > d.queries || u.responses > d.responses || u.raw > d.raw || u.unique > d.unique || u.dataNames > d.dataNames {
				t.Fatalf("%s: %s unit counts q%d r%d u%d dn%d > domain q%d r%d u%d dn%d", where, name,
					u.queries, u.responses, u.unique, u.dataNames, d.queries, d.responses, d.unique, d.dataNames)
			}
			if u.alertSev != d.alertSev || u.announced != d.announced {
				t.Fatalf("%s: %s alert state unit %v/%v domain %v/%v", where, name, u.alertSev, u.announced, d.alertSev, d.announced)
			}
		}
		if d.announced > d.alertSev {
			t.Fatalf("%s: %s announced %v > %v", where, name, d.announced, d.alertSev)
		}
		if x, ok := e.ExportDomain(name); ok {
			if err := New(e.cfg).ImportDomain(x); err != nil {
				t.Fatalf("%s: export of %s does not import: %v", where, name, err)
			}
		}
	}
	if sum != e.mem {
		t.Fatalf("%s: engine mem %d, sum %d", where, e.mem, sum)
	}
	var buf bytes.Buffer
	if err := e.WriteSnapshot(&buf); err != nil {
		t.Fatalf("%s: write: %v", where, err)
	}
	g := New(e.cfg)
	if err := g.ReadSnapshot(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatalf("%s: own snapshot rejected: %v", where, err)
	}
	for name, d := range g.domains {
		if m := memOf(d); m != d.mem {
			t.Fatalf("%s: restored %s mem %d recomputed %d", where, name, d.mem, m)
		}
	}
}

// runUnitFuzz plays data as a sequence of operations on two engines of
// memory cap maxMem: data-like names under t1 (and a.t1, t2, odd labels),
// ordinary hosts, findings marked alerted, exports and imports between the
// two and into the same engine, renumbering and restoring from a
// snapshot, checking both engines after each.
func runUnitFuzz(t *testing.T, data []byte, maxMem int64) {
	cfg := Config{MaxMemory: maxMem, MaxNamesPerDomain: 64, MaxClientsPerDomain: 5, Scorer: cleanScorer{}}
	engines := []*Engine{New(cfg), New(cfg)}
	for _, e := range engines {
		e.OnAlert = func(f Finding) {}
	}
	in := fuzzInput(data)
	at := int64(1_700_000_000) * 1e9
	r := rand.New(rand.NewPCG(1, 2))
	for step := 0; len(in) > 0; step++ {
		op, a, b := in.next(), in.next(), in.next()
		at += int64(a) * 1e7
		e := engines[b>>7]
		reg := []string{"ex.com", "ex2.com"}[(b>>6)&1]
		b32x := b32.EncodeToString(randomBytes(r, 30)) // 48 chars
		switch op % 10 {
		case 0, 1, 2, 3:
			// Data-like names under t1 (most), a.t1, t2, right under the
			// domain, and odd labels.
			var labels []string
			switch a % 32 {
			case 0:
				labels = []string{b32x, "a", "t1"}
			case 1:
				labels = []string{b32x, "t2"}
			case 2:
				labels = []string{b32x}
			case 3:
				labels = []string{b32x, "x.t1"}
			case 4:
				labels = []string{b32x + ".", "t1"}
			case 5:
				labels = []string{b32x, "T1"}
			case 6:
				labels = []string{b32x, "t\x00\xff"}
			case 7:
				labels = []string{b32x, ".t1"}
			default:
				labels = []string{b32x, "t1"}
			}
			for _, resp := range []bool{false, true} {
				o := unitObservation(labels, reg, at, 9+byte(op>>6), resp, []uint16{16, 1, 10}[b%3])
				e.Observe(&o)
			}
		case 4, 5:
			o := unitObservation([]string{fmt.Sprintf("h%d", a%40)}, reg, at, 1+a%6, op&0x10 != 0, 1)
			e.Observe(&o)
		case 6:
			for _, f := range e.Findings() {
				e.MarkAlerted(f.ID, f.Severity+Severity(a%3))
			}
		case 7:
			src, dst := engines[0], engines[1]
			if a&1 != 0 {
				src, dst = dst, src
			}
			if x, ok := src.ExportDomain(reg); ok {
				if a&2 != 0 {
					src.RemoveDomain(reg)
				}
				if a&4 != 0 {
					dst = src // merged into itself (or reimported)
				}
				dst.ImportDomain(x) // may be refused (counters' room): checked below either way
			}
		case 8:
			e.renumber()
		case 9:
			var buf bytes.Buffer
			e.WriteSnapshot(&buf)
			g := New(cfg)
			if err := g.ReadSnapshot(bytes.NewReader(buf.Bytes())); err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
			g.OnAlert = e.OnAlert
			engines[b>>7] = g
		}
		for i, e := range engines {
			checkUnits(t, e, fmt.Sprintf("step %d op %d engine %d", step, op%10, i))
		}
	}
}

// FuzzUnits runs runUnitFuzz under a cap that holds everything and one
// that evicts.
func FuzzUnits(f *testing.F) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 6 {
		b := make([]byte, 600)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		f.Add(b)
	}
	// Mostly data under t1 with ordinary hosts, then moves.
	var s []byte
	for i := range 120 {
		s = append(s, 0, byte(i*7), 0, 4, byte(i), 0)
	}
	s = append(s, 7, 6, 0, 7, 5, 0, 9, 1, 0, 6, 0, 0, 8, 0, 0, 7, 4, 0)
	f.Add(s)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 3000 {
			return
		}
		runUnitFuzz(t, data, 1<<22)
		runUnitFuzz(t, data, 96<<10)
	})
}
