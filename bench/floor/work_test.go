package floor

import (
	"testing"
	"unsafe"

	"github.com/dnsieve/dnsieve/internal/prefetch"
)

// sink keeps results the compiler must not drop.
var sink uint64

// otherWork is n dependent multiply-adds: a packet's other work, which
// fills the processor's window of instructions in flight, as the engine's
// own work on each message does.
func otherWork(x uint64, n int) uint64 {
	for range n {
		x = x*0x9E3779B97F4A7C15 + 1
	}
	return x
}

// BenchmarkPrefetch is BenchmarkDomainState's index+record table with
// about 230 ns of other work per packet, after a first pass has inserted
// every domain:
//
//   - other-work: the work alone;
//   - demand: then a lookup that waits for its misses;
//   - touch-ahead: ordinary loads of the index slot 16 packets ahead and
//     of the record 6 ahead, which hold up retirement like the misses they
//     replace;
//   - prefetch-ahead: the same addresses with prefetch instructions.
func BenchmarkPrefetch(b *testing.B) {
	hs := domainStream(b)
	t := newIndexed(1 << 20)
	for i, h := range hs {
		t.touch(h, int64(i))
	}
	for _, mode := range []string{"other-work", "demand", "touch-ahead", "prefetch-ahead"} {
		b.Run(mode, func(b *testing.B) {
			i := 0
			var acc, side uint64
			for b.Loop() {
				next, soon := hs[(i+16)%len(hs)], hs[(i+6)%len(hs)]
				switch mode {
				case "touch-ahead":
					side += t.index[t.home(next)]
					if w := t.index[t.home(soon)]; w != 0 {
						side += t.recs[uint32(w)-1].key
					}
				case "prefetch-ahead":
					prefetch.Line(uintptr(unsafe.Pointer(&t.index[t.home(next)])))
					if w := t.index[t.home(soon)]; w != 0 {
						prefetch.Line(uintptr(unsafe.Pointer(&t.recs[uint32(w)-1])))
					}
				}
				if mode != "other-work" {
					t.touch(hs[i], int64(i))
				}
				acc = otherWork(acc, 200)
				if i++; i == len(hs) {
					i = 0
				}
			}
			sink += acc + side
		})
	}
}
