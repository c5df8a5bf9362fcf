package regdomain

import (
	"golang.org/x/net/publicsuffix"
)

// maxKeyLabels is the most trailing labels that key the cache: the list's
// deepest rules have five labels, and the registered domain one more.
const maxKeyLabels = 6

// DefaultCacheSize is the number of suffixes a Splitter remembers before
// it starts over.
const DefaultCacheSize = 1 << 20

// Splitter finds registered domains. It is not safe for concurrent use:
// give each goroutine its own.
type Splitter struct {
	cache map[string]uint8 // trailing labels -> labels in the registered domain
	max   int
	lower [256]byte
	// Lookups and Misses count cache use.
	Lookups, Misses uint64
}

// New returns a Splitter whose cache holds up to size entries (0: the
// default).
func New(size int) *Splitter {
	if size <= 0 {
		size = DefaultCacheSize
	}
	return &Splitter{cache: make(map[string]uint8), max: size}
}

// Split lowercases name (labels joined by '.', labelLens their lengths)
// into a scratch buffer and returns it with the index at which the
// registered domain starts: lower[start:] is the registered domain and
// lower[:max(start-1, 0)] the subdomain. The result is valid until the next
// call. A name of one label (a TLD or a bare host) is its own registered
// domain. It allocates only when a suffix is not cached.
func (s *Splitter) Split(name []byte, labelLens []uint8) (lower []byte, start int) {
	n := len(name)
	if n > len(s.lower) {
		n = len(s.lower)
	}
	lower = s.lower[:n]
	for i := 0; i < n; i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	labels := len(labelLens)
	if labels <= 1 {
		return lower, 0
	}
	// Offsets of the trailing labels, from the label lengths (a '.' byte
	// inside a label is not a separator).
	var starts [maxKeyLabels]int
	k := labels
	if k > maxKeyLabels {
		k = maxKeyLabels
	}
	off := n
	for i := 0; i < k; i++ {
		l := int(labelLens[labels-1-i])
		off -= l
		if off < 0 {
			return lower, 0
		}
		starts[i] = off
		off-- // the separator
	}
	if arpa := arpaZone(lower, labelLens); arpa >= 0 {
		return lower, arpa
	}
	// The key is as many trailing labels as the public suffix rules that
	// end in the name's last two labels can span, plus one (the table
	// ruleDepth, built from the list), so that every host of a registered
	// domain shares one cache entry. A key that turns out to be a public
	// suffix itself (a rule newer than the table) is extended.
	w := 2
	if d, ok := ruleDepth[string(lower[starts[1]:])]; ok {
		w = max(w, int(d)+1)
	}
	if d, ok := wildDepth[string(lower[starts[0]:])]; ok {
		w = max(w, int(d)+1)
	}
	w = min(w, k)
	for {
		key := lower[starts[w-1]:]
		s.Lookups++
		v, ok := s.cache[string(key)]
		if !ok {
			s.Misses++
			v = s.lookup(string(key), w)
			if len(s.cache) >= s.max {
				clear(s.cache)
			}
			s.cache[string(key)] = v
		}
		if v&isSuffix != 0 && w < k {
			w++
			continue
		}
		depth := int(v &^ isSuffix)
		if depth > w || depth == 0 {
			return lower, 0
		}
		return lower, starts[depth-1]
	}
}

// isSuffix marks a cached key that is itself a public suffix.
const isSuffix = 0x80

// lookup returns how many trailing labels of key (which has k labels) form
// its registered domain, with isSuffix set when key is itself a public
// suffix.
func (s *Splitter) lookup(key string, k int) uint8 {
	etld1, err := publicsuffix.EffectiveTLDPlusOne(key)
	if err != nil {
		// The name is itself a public suffix (or malformed): the whole key
		// is the group unless a longer key says otherwise.
		return uint8(k) | isSuffix
	}
	d := 1
	for i := 0; i < len(etld1); i++ {
		if etld1[i] == '.' {
			d++
		}
	}
	return uint8(d)
}

// arpaZone returns the start of "in-addr.arpa" or "ip6.arpa" when name is
// below one of them, else -1. Reverse lookups all belong to the reverse
// tree, whatever the public suffix list says about its inner labels.
func arpaZone(lower []byte, labelLens []uint8) int {
	n := len(labelLens)
	if n < 3 || labelLens[n-1] != 4 {
		return -1
	}
	tail := lower[len(lower)-4:]
	if string(tail) != "arpa" {
		return -1
	}
	if hasSuffix(lower, ".in-addr.arpa") {
		return len(lower) - len("in-addr.arpa")
	}
	if hasSuffix(lower, ".ip6.arpa") {
		return len(lower) - len("ip6.arpa")
	}
	return -1
}

func hasSuffix(b []byte, s string) bool {
	return len(b) >= len(s) && string(b[len(b)-len(s):]) == s
}
