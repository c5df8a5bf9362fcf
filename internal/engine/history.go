package engine

import (
	"bytes"
	"time"
)

// candidateUnique is the number of distinct names from which a domain
// keeps a timeline and a length histogram (few domains reach it, so
// ordinary traffic costs no memory for them).
const candidateUnique = 10

// Timeline and histogram sizes.
const (
	timelineBuckets = 96
	lengthBuckets   = 16 // subdomain lengths in steps of 16 bytes, the last one open
	historyBytes    = timelineBuckets*16 + lengthBuckets*8 + 64
)

// history is a domain's activity over packet time, in buckets whose width
// doubles whenever the activity outgrows them (so it covers any span with
// a fixed size), and the lengths of its distinct subdomains.
type history struct {
	start   int64
	width   int64 // nanoseconds per bucket
	queries [timelineBuckets]uint32
	bytes   [timelineBuckets]uint32 // raw bytes of new distinct subdomains
	lengths [lengthBuckets]uint32
}

// newHistory starts d's history from d.first, when d reaches
// candidateUnique distinct names: what came before is placed as well as
// the domain's counters tell. Queries before its first data-like name go
// to its first-seen time, those since to that name's time (the channel's
// start, which is not the domain's when its ordinary names came first).
// The lengths of the earlier distinct names come from the names still
// waiting for compression (all of them, unless very long ones were
// compressed already); their bytes go to the channel's start too.
func (d *domain) newHistory() *history {
	h := &history{start: d.first, width: int64(time.Second)}
	before, at := d.queries, d.first
	if d.dataNames > 0 {
		before, at = min(d.queriesBeforeData, d.queries), d.firstData
	}
	h.queries[h.slot(d.first)] += uint32(min(before, 1<<31))
	h.queries[h.slot(at)] += uint32(min(d.queries-before, 1<<31))
	for name := range bytes.SplitSeq(d.pending, []byte{'\n'}) {
		if len(name) > 0 {
			h.unique(at, len(name))
		}
	}
	return h
}

// slot returns the bucket of time t, widening the buckets as needed.
func (h *history) slot(t int64) int {
	if t < h.start {
		t = h.start
	}
	for (t-h.start)/h.width >= timelineBuckets {
		for i := 0; i < timelineBuckets/2; i++ {
			h.queries[i] = h.queries[2*i] + h.queries[2*i+1]
			h.bytes[i] = h.bytes[2*i] + h.bytes[2*i+1]
		}
		clear(h.queries[timelineBuckets/2:])
		clear(h.bytes[timelineBuckets/2:])
		h.width *= 2
	}
	return int((t - h.start) / h.width)
}

func (h *history) query(t int64) { h.queries[h.slot(t)]++ }

func (h *history) unique(t int64, length int) {
	h.bytes[h.slot(t)] += uint32(length)
	h.lengths[lengthBucket(length)]++
}

func lengthBucket(n int) int { return min(n/16, lengthBuckets-1) }

// Bucket is one step of a finding's timeline.
type Bucket struct {
	Start   time.Time `json:"start"`
	Queries uint32    `json:"queries"`
	// Bytes are the raw bytes of the distinct subdomains first seen in
	// the bucket: what the names could carry.
	Bytes uint32 `json:"bytes"`
}

// timeline returns the used buckets.
func (h *history) timeline(last int64) []Bucket {
	n := min(int((last-h.start)/h.width)+1, timelineBuckets)
	out := make([]Bucket, n)
	for i := range out {
		out[i] = Bucket{Start: time.Unix(0, h.start+int64(i)*h.width).UTC(), Queries: h.queries[i], Bytes: h.bytes[i]}
	}
	return out
}

// LengthHistogram returns the engine-wide histogram of distinct subdomain
// lengths (buckets of 16 bytes, the last one open): the background against
// which a finding's names can be drawn.
func (e *Engine) LengthHistogram() []uint64 {
	return append([]uint64(nil), e.lengths[:]...)
}
