package engine

import "sort"

// Volume is one domain's traffic, for context tables.
type Volume struct {
	Domain      string `json:"domain"`
	Queries     uint64 `json:"queries"`
	Responses   uint64 `json:"responses"`
	UniqueNames uint64 `json:"unique_names"`
	Clients     int    `json:"clients"`
}

// TopDomains returns up to n domains with the most queries and up to n
// with the most distinct names.
func (e *Engine) TopDomains(n int) (byQueries, byUnique []Volume) {
	all := make([]Volume, 0, len(e.domains))
	for _, d := range e.domains {
		all = append(all, Volume{Domain: d.name, Queries: d.queries, Responses: d.responses, UniqueNames: d.unique,
			Clients: len(d.clients) + int(d.otherClients)})
	}
	top := func(less func(a, b *Volume) bool) []Volume {
		sort.Slice(all, func(i, j int) bool {
			if less(&all[i], &all[j]) {
				return true
			}
			if less(&all[j], &all[i]) {
				return false
			}
			return all[i].Domain < all[j].Domain
		})
		return append([]Volume(nil), all[:min(n, len(all))]...)
	}
	byQueries = top(func(a, b *Volume) bool { return max(a.Queries, a.Responses) > max(b.Queries, b.Responses) })
	byUnique = top(func(a, b *Volume) bool { return a.UniqueNames > b.UniqueNames })
	return byQueries, byUnique
}
