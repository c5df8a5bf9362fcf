package engine

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/dnsieve/dnsieve/internal/fingerprint"
)

// TestNumberedStateUnderChurn drives two engines through random numbered
// names, answers, domains moved between them, removals and snapshot round
// trips, and checks after every step that each domain's numbered state is
// one check accepts, never empty, that the cached mask and flag match it,
// and that the memory estimate matches a recount.
func TestNumberedStateUnderChurn(t *testing.T) {
	seeds := uint64(8)
	if testing.Short() {
		seeds = 2
	}
	for seed := uint64(0); seed < seeds; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		cfg := Config{MaxMemory: 1 << 22, MaxNamesPerDomain: 1 << uint(6+rng.IntN(6)), MaxClientsPerDomain: 3}
		fs := []*feeder{newFeeder(cfg), newFeeder(cfg)}
		at := int64(1_700_000_000) * 1e9
		for step := range 4000 {
			at += int64(rng.IntN(1e9))
			i := rng.IntN(2)
			f := fs[i]
			dom := fmt.Sprintf("d%d.com", rng.IntN(3))
			switch op := rng.IntN(100); {
			case op < 85:
				name := fmt.Sprintf("%c%d.%s", 'a'+rng.IntN(7), rng.IntN(300), dom)
				c := netip.AddrFrom4([4]byte{10, 0, 0, byte(rng.IntN(5))})
				s := netip.MustParseAddr("192.0.2.53")
				resp := rng.IntN(2) == 0
				f.observe(name, at, c, s, tA, resp, 0, 4, netip.Addr{}, fingerprint.Match{}, 0, false, false, func(o *Observation) {
					if resp {
						for range rng.IntN(12) {
							o.AddAnswerV4(byte(rng.IntN(256)))
						}
					}
				})
			case op < 93:
				if x, ok := fs[1-i].e.ExportDomain(dom); ok {
					if err := f.e.ImportDomain(x); err != nil {
						t.Fatalf("seed %d step %d import: %v", seed, step, err)
					}
				}
			case op < 95:
				fs[1-i].e.RemoveDomain(dom)
			default:
				var b bytes.Buffer
				if err := f.e.WriteSnapshot(&b); err != nil {
					t.Fatal(err)
				}
				g := New(cfg)
				if err := g.ReadSnapshot(&b); err != nil {
					t.Fatalf("seed %d step %d own snapshot: %v", seed, step, err)
				}
				f.e = g
			}
			for _, ff := range fs {
				for _, d := range ff.e.domains {
					var m uint64
					var st bool
					if d.num != nil {
						m, st = d.num.awaitMask(), d.num.mayStage()
						if msg := d.num.check(); msg != "" {
							t.Fatalf("seed %d step %d: %s", seed, step, msg)
						}
						if d.num.taken() == 0 {
							t.Fatalf("seed %d step %d: empty num", seed, step)
						}
					}
					if d.awaiting != m || d.staging != st {
						t.Fatalf("seed %d step %d: %s out of sync", seed, step, d.name)
					}
					if d.mem != memOf(d) {
						t.Fatalf("seed %d step %d: %s mem %d memOf %d", seed, step, d.name, d.mem, memOf(d))
					}
				}
			}
		}
	}
}
