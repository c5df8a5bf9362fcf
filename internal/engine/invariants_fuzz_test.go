package engine

import (
	"bytes"
	"fmt"
	"net/netip"
	"testing"
)

// FuzzInvariants drives two engines with hostile sequences that
// FuzzObserve does not: the clock going backwards, hosts that are also
// servers, domains moved back and forth between the engines, MarkAlerted
// with any severity. After every step the per-client and per-domain
// counters must satisfy what snapshot validation requires, and each
// engine must read its own snapshot back.
func FuzzInvariants(f *testing.F) {
	addStepSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4096 {
			return
		}
		e := New(Config{MaxMemory: 1 << 20, MaxNamesPerDomain: 64, MaxClientsPerDomain: 3})
		other := New(Config{MaxMemory: 1 << 20, MaxNamesPerDomain: 64, MaxClientsPerDomain: 3})
		src := newFeeder(Config{}).split
		in := fuzzInput(data)
		at := int64(1_700_000_000) * 1e9
		for step := 0; len(in) > 0; step++ {
			op, a, b := in.next(), in.next(), in.next()
			if a&0x80 != 0 {
				at -= int64(a&0x7f) * 1e8 // backwards
			} else {
				at += int64(a) * 1e8
			}
			dom := fmt.Sprintf("d%d.%s", b%6, []string{"com", "co.uk", "example", "x1"}[b%4])
			switch op % 8 {
			case 0, 1, 2, 3, 4:
				// Servers from the clients' own pool: hosts that are
				// also servers.
				var buf [MaxDataRecords]DataRecord
				o := fuzzObservation(src, op, a, b, at, dom, fmt.Sprintf("mzxw6ytboi4dcmrtgq2tmnzygaydcm%02x", op),
					netip.AddrFrom4([4]byte{10, 0, 0, b % 7}), &buf)
				if b&1 == 0 {
					e.Observe(&o)
				} else {
					other.Observe(&o)
				}
			case 5:
				for _, fd := range e.Findings() {
					e.MarkAlerted(fd.ID, fd.Severity+Severity(a%3))
				}
			case 6:
				if x, ok := other.ExportDomain(dom); ok {
					if err := e.ImportDomain(x); err != nil {
						t.Logf("step %d: import of %s: %v", step, dom, err)
					}
				}
				if x, ok := e.ExportDomain(dom); ok {
					if err := other.ImportDomain(x); err != nil {
						t.Logf("step %d: import of %s: %v", step, dom, err)
					}
				}
			case 7:
				for _, en := range []*Engine{e, other} {
					restore(t, en.cfg, snapshotBytes(t, en)) // its own snapshot reads back
				}
			}
			for _, en := range []*Engine{e, other} {
				for _, d := range en.domains {
					for _, c := range d.clients.all() {
						if c.channel > c.queries+c.responses {
							t.Fatalf("step %d: channel %d > %d+%d", step, c.channel, c.queries, c.responses)
						}
					}
					if d.announced > d.alertSev || d.alertSev > SeverityHigh {
						t.Fatalf("step %d: %s announced %v, alert severity %v", step, d.name, d.announced, d.alertSev)
					}
					if d.queriesBeforeData > d.queries || d.firstData != 0 && (d.firstData < d.first || d.firstData > d.last) {
						t.Fatalf("step %d: %s firstData %d qbd %d q %d [%d,%d]", step, d.name, d.firstData, d.queriesBeforeData, d.queries, d.first, d.last)
					}
				}
			}
		}
		var buf bytes.Buffer
		e.WriteSnapshot(&buf)
		if err := New(e.cfg).ReadSnapshot(bytes.NewReader(buf.Bytes())); err != nil {
			t.Fatalf("final own snapshot rejected: %v", err)
		}
	})
}
