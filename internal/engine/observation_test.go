package engine

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestAddDataRecordOrder: whatever order a set of records comes in, the
// list is the same: every record when they fit, else the records with the
// smallest hashes one by one and the rest summed into the last entry.
func TestAddDataRecordOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{1, MaxDataRecords - 1, MaxDataRecords, MaxDataRecords + 1, MaxDataRecords + 2, 40} {
		recs := make([]DataRecord, n)
		for i := range recs {
			recs[i] = DataRecord{Hash: rng.Uint64(), Bytes: 1 + rng.IntN(255)}
		}
		// What the list must hold.
		sorted := slices.SortedFunc(slices.Values(recs), func(a, b DataRecord) int { return cmp.Compare(a.Hash, b.Hash) })
		want := sorted
		if n > MaxDataRecords {
			want = slices.Clone(sorted[:MaxDataRecords-1])
			var fold DataRecord
			for _, r := range sorted[MaxDataRecords-1:] {
				fold.Hash += r.Hash
				fold.Bytes += r.Bytes
			}
			want = append(want, fold)
		}
		for trial := range 20 {
			rng.Shuffle(len(recs), func(a, b int) { recs[a], recs[b] = recs[b], recs[a] })
			var o Observation
			var buf [MaxDataRecords]DataRecord
			for _, r := range recs {
				o.AddDataRecord(&buf, r.Bytes, r.Hash)
			}
			got := slices.Clone(o.DataRecords)
			if n > MaxDataRecords {
				slices.SortFunc(got[:MaxDataRecords-1], func(a, b DataRecord) int { return cmp.Compare(a.Hash, b.Hash) })
			} else {
				slices.SortFunc(got, func(a, b DataRecord) int { return cmp.Compare(a.Hash, b.Hash) })
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%d records, order %d:\n got %v\nwant %v", n, trial, got, want)
			}
		}
	}
}
