package engine

import (
	"container/heap"
	"math"
	"slices"
)

// Volume is one domain's traffic, for context tables.
type Volume struct {
	Domain      string `json:"domain"`
	Queries     uint64 `json:"queries"`
	Responses   uint64 `json:"responses"`
	UniqueNames uint64 `json:"unique_names"`
	// Clients is the number of distinct client addresses, estimated
	// when the domain had more than it tracks one by one.
	Clients int `json:"clients"`
}

// TopDomains returns up to n domains with the most queries and up to n
// with the most distinct names, full and cold domains alike. Ties go to
// the smaller name. It keeps n candidates per table, not every domain.
func (e *Engine) TopDomains(n int) (byQueries, byUnique []Volume) {
	if n <= 0 {
		return nil, nil
	}
	busy := &topHeap{n: n, less: func(a, b *Volume) bool {
		return max(a.Queries, a.Responses) > max(b.Queries, b.Responses)
	}}
	varied := &topHeap{n: n, less: func(a, b *Volume) bool { return a.UniqueNames > b.UniqueNames }}
	for _, d := range e.domains {
		clients, _ := d.clientCount()
		v := Volume{Domain: d.name, Queries: d.queries, Responses: d.responses, UniqueNames: d.unique,
			Clients: clients}
		busy.offer(v)
		varied.offer(v)
	}
	for i := 0; i < e.cold.n; i++ {
		c := e.cold.at(i)
		clients := int(min(c.moreClients.estimate(), math.MaxInt32))
		for k := range c.clients {
			if c.clientKind(k) != clientNone {
				clients++
			}
		}
		v := Volume{Queries: uint64(c.queries), Responses: uint64(c.responses), UniqueNames: uint64(c.nSubs), Clients: clients}
		if busy.wants(&v, e.cold.name(c)) || varied.wants(&v, e.cold.name(c)) {
			v.Domain = string(e.cold.name(c))
			busy.offer(v)
			varied.offer(v)
		}
	}
	return busy.sorted(), varied.sorted()
}

// topHeap keeps the n best volumes by less (ties: the smaller name), the
// worst of them at the root.
type topHeap struct {
	n    int
	less func(a, b *Volume) bool
	v    []Volume
}

// better reports whether a ranks before b.
func (h *topHeap) better(a, b *Volume) bool {
	if h.less(a, b) {
		return true
	}
	if h.less(b, a) {
		return false
	}
	return a.Domain < b.Domain
}

func (h *topHeap) Len() int           { return len(h.v) }
func (h *topHeap) Less(i, j int) bool { return h.better(&h.v[j], &h.v[i]) }
func (h *topHeap) Swap(i, j int)      { h.v[i], h.v[j] = h.v[j], h.v[i] }
func (h *topHeap) Push(x any)         { h.v = append(h.v, x.(Volume)) }
func (h *topHeap) Pop() any {
	x := h.v[len(h.v)-1]
	h.v = h.v[:len(h.v)-1]
	return x
}

// wants reports whether v, named name, would enter the heap (so that a
// cold domain's name is only made a string when it will be kept).
func (h *topHeap) wants(v *Volume, name []byte) bool {
	if len(h.v) < h.n {
		return true
	}
	w := &h.v[0]
	if h.less(v, w) {
		return true
	}
	return !h.less(w, v) && string(name) < w.Domain
}

func (h *topHeap) offer(v Volume) {
	if len(h.v) < h.n {
		heap.Push(h, v)
		return
	}
	if h.better(&v, &h.v[0]) {
		h.v[0] = v
		heap.Fix(h, 0)
	}
}

// sorted returns the kept volumes, best first.
func (h *topHeap) sorted() []Volume {
	out := slices.Clone(h.v)
	slices.SortFunc(out, func(a, b Volume) int {
		switch {
		case h.better(&a, &b):
			return -1
		case h.better(&b, &a):
			return 1
		}
		return 0
	})
	return out
}
