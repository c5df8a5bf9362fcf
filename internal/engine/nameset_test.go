package engine

import "testing"

// TestNameSetSpreadsClusteredHashes: hashes that share their low bits (FNV
// of attacker-chosen text, or a hostile snapshot's increasing values) do
// not pile up in one run of slots: the probe starts at a keyed mix.
func TestNameSetSpreadsClusteredHashes(t *testing.T) {
	s := nameSet{limit: 1 << 20}
	const n = 1 << 14
	for k := uint64(1); k <= n; k++ {
		if !s.add(k<<20 | 5) {
			t.Fatalf("hash %d not new", k)
		}
	}
	mask := uint64(len(s.slots) - 1)
	probes := 0
	for i, h := range s.slots {
		if h != 0 {
			probes += int((uint64(i) - slotOf(h)) & mask)
		}
	}
	// Linear probing at load at most 3/4 averages a few probes; the same
	// hashes probed from their low bits would average thousands.
	if probes > 4*n {
		t.Fatalf("%d probes beyond the first slot for %d hashes", probes, n)
	}
	for k := uint64(1); k <= n; k++ {
		if !s.has(k<<20|5) || s.has(k<<20|6) {
			t.Fatalf("membership of %d wrong", k)
		}
	}
}
