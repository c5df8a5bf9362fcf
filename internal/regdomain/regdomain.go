package regdomain

import (
	"encoding/binary"
	"hash/maphash"
	"unsafe"

	"golang.org/x/net/publicsuffix"
)

// maxKeyLabels is the most trailing labels that key the cache: the
// library's deepest rules (maxRuleLabels, generated) and one more label for
// the registered domain.
const maxKeyLabels = maxRuleLabels + 1

// DefaultCacheSize is the number of suffixes a Splitter remembers before
// it starts over.
const DefaultCacheSize = 1 << 16

// Splitter finds registered domains. It is not safe for concurrent use:
// give each goroutine its own.
type Splitter struct {
	cache []entry // the remembered suffixes, in insertion order (see cache.go)
	index []uint64
	keys  []byte
	seed  maphash.Seed
	max   int
	lower [256]byte
	// Lookups and Misses count cache use: Lookups the cache probes, Misses
	// the public suffix list lookups that a probe did not spare.
	Lookups, Misses uint64
}

// New returns a Splitter whose cache holds up to size entries (0: the
// default). The cache starts small and grows to at most size entries (about
// 48 bytes each, plus the bytes of keys longer than 27); when it is full it
// starts over.
func New(size int) *Splitter {
	if size <= 0 {
		size = DefaultCacheSize
	}
	return &Splitter{max: size, seed: maphash.MakeSeed()}
}

// Split lowercases name (labels joined by '.', labelLens their lengths)
// into a scratch buffer and returns it with the index at which the
// registered domain starts: lower[start:] is the registered domain and
// lower[:max(start-1, 0)] the subdomain. The result is valid until the next
// call. A name of one label (a TLD or a bare host) is its own registered
// domain. Names longer than 256 bytes are cut to 256. A cached suffix
// costs no allocation; looking up a new one in the public suffix list may
// allocate inside that library.
func (s *Splitter) Split(name []byte, labelLens []uint8) (lower []byte, start int) {
	lower, start, _ = s.SplitCase(name, labelLens)
	return lower, start
}

// SplitCase is Split that also reports whether the (at most 256) bytes of
// name it lowercased held both upper-case and lower-case ASCII letters (a
// sign of 0x20 case randomisation or of a case-preserving encoding).
func (s *Splitter) SplitCase(name []byte, labelLens []uint8) (lower []byte, start int, mixed bool) {
	n := min(len(name), len(s.lower))
	lower = s.lower[:n]
	up, low := foldASCII(lower, name[:n])
	mixed = up && low
	labels := len(labelLens)
	if labels <= 1 {
		return lower, 0, mixed
	}
	// Offsets of the trailing labels, from the label lengths (a '.' byte
	// inside a label is not a separator).
	var starts [maxKeyLabels]int
	k := min(labels, maxKeyLabels)
	off := n
	for i := 0; i < k; i++ {
		off -= int(labelLens[labels-1-i])
		if off < 0 {
			return lower, 0, mixed
		}
		starts[i] = off
		off-- // the separator
	}
	if arpa := arpaZone(lower, labelLens); arpa >= 0 {
		return lower, arpa, mixed
	}
	if start, ok := fastStart(lower, starts[:k]); ok {
		return lower, start, mixed
	}
	return lower, s.regStart(lower, starts[:k]), mixed
}

// fastStart is Split's fast path: without the cache or the library, it
// returns the start of the registered domain of most names (ok), given the
// starts of their last labels (the last label first; at least two).
//
// It answers when the library's rule tree has no rule of two or more labels
// ending in the last two labels (deepBloom, which holds every key of
// ruleDepth) and no wildcard or exception for the top-level domain
// (specialTLD): the library then finds that the public suffix is the
// top-level domain (its rule or the default rule "*"), and the registered
// domain is the last two labels. It also answers when the last two labels
// are a rule with no rule below them (ruleDepth 2, such as
// "cloudfront.net"): the registered domain is then the last three labels
// (the last two for a name of two labels, as regStart says).
//
// The labels it reads must be what the library sees too: not empty, no '.'
// bytes, and not an IP address (netip.ParseAddr accepts a string with one
// or two '.' bytes only as an IPv6 address with a zone, which needs a ':').
// Everything else goes to regStart.
func fastStart(lower []byte, starts []int) (start int, ok bool) {
	s0, s1 := starts[0], starts[1]
	sep := s0 - 1
	if sep <= s1 || s0 >= len(lower) || lower[sep] != '.' ||
		!plainLabel(lower[s1:sep]) || !plainLabel(lower[s0:]) ||
		specialTLD(unsafe.String(unsafe.SliceData(lower[s0:]), len(lower)-s0)) {
		return 0, false
	}
	key2 := lower[s1:]
	if !mayStartDeepRule(key2) {
		return s1, true
	}
	if d, ok := ruleDepth[unsafe.String(unsafe.SliceData(key2), len(key2))]; !ok || d != 2 {
		return 0, false
	}
	if len(starts) == 2 {
		return s1, true
	}
	s2 := starts[2]
	if sep = s1 - 1; sep <= s2 || lower[sep] != '.' || !plainLabel(lower[s2:sep]) {
		return 0, false
	}
	return s2, true
}

// plainLabel reports whether label holds no '.' and no ':' byte (and is
// not empty), testing words of it (overlapping ones for the tail) at once.
func plainLabel(label []byte) bool {
	n := len(label)
	var w uint64
	switch {
	case n >= 8:
		for i := 0; i+8 < n; i += 8 {
			w |= dotOrColon(binary.LittleEndian.Uint64(label[i:]))
		}
		return w|dotOrColon(binary.LittleEndian.Uint64(label[n-8:])) == 0
	case n >= 4:
		w = uint64(binary.LittleEndian.Uint32(label)) | uint64(binary.LittleEndian.Uint32(label[n-4:]))<<32
	case n > 0:
		// Three bytes cover a label of up to three; the rest are 'a'.
		w = uint64(label[0]) | uint64(label[n>>1])<<8 | uint64(label[n-1])<<16 | 0x6161616161000000
	default:
		return false
	}
	return dotOrColon(w) == 0
}

// dotOrColon returns a word whose high bits are set in some byte when v
// holds a '.' or ':' byte (and only then: a borrow can only mark bytes
// above a true match).
func dotOrColon(v uint64) uint64 {
	const ones = 0x0101010101010101
	d := v ^ ('.' * ones)
	c := v ^ (':' * ones)
	return ((d-ones)&^d | (c-ones)&^c) & highs
}

// regStart returns the start of the registered domain of lower, whose last
// len(starts) labels begin at starts (the last label first; at least two).
//
// The cache key is as many trailing labels as the public suffix rules that
// end in the name's last two labels can span, plus one (the table
// ruleDepth, built from the list), so that every host of a registered
// domain shares one cache entry. A key that turns out to be a public suffix
// itself (a rule newer than the table) is extended. The entry for the last
// two labels also remembers that width, so that a cached name costs one
// probe.
func (s *Splitter) regStart(lower []byte, starts []int) int {
	k := len(starts)
	last := uint8(len(lower) - starts[0]) // length of the last label
	key2 := lower[starts[1]:]
	var width, v2 uint8
	s.Lookups++
	i2 := s.find(key2, 2, last)
	if i2 >= 0 {
		width, v2 = s.cache[i2].width, s.cache[i2].v
	} else {
		width, v2 = ruleWidth(lower, starts), noValue
	}
	w := min(int(width), k)
	if w == 2 && v2 == noValue {
		s.Misses++
		v2 = lookup(key2, 2)
		if i2 >= 0 {
			s.cache[i2].v = v2
		}
	}
	if i2 < 0 {
		s.insert(key2, 2, last, width, v2)
	}
	for {
		var v uint8
		if w == 2 {
			v = v2
		} else {
			key := lower[starts[w-1]:]
			s.Lookups++
			if i := s.find(key, uint8(w), last); i >= 0 {
				v = s.cache[i].v
			} else {
				s.Misses++
				v = lookup(key, w)
				s.insert(key, uint8(w), last, 0, v)
			}
		}
		if v&isSuffix != 0 && w < k {
			w++
			continue
		}
		depth := int(v &^ isSuffix)
		if depth > w || depth == 0 {
			return 0
		}
		return starts[depth-1]
	}
}

// ruleWidth returns how many trailing labels key the cache for lower:
// two, or one more than the public suffix rules ending in its last two
// labels (or its wildcard rules) have.
func ruleWidth(lower []byte, starts []int) uint8 {
	w := uint8(2)
	if d, ok := ruleDepth[string(lower[starts[1]:])]; ok {
		w = max(w, d+1)
	}
	if d, ok := wildDepth[string(lower[starts[0]:])]; ok {
		w = max(w, d+1)
	}
	return w
}

// isSuffix marks a cached key that is itself a public suffix.
const isSuffix = 0x80

// noValue marks a two-label cache entry whose own lookup was not needed
// (its names are keyed by more labels).
const noValue = 0xFF

// lookup returns how many trailing labels of key (which has k labels) form
// its registered domain, with isSuffix set when key is itself a public
// suffix.
func lookup(key []byte, k int) uint8 {
	// The library only reads the string and returns a part of it, which
	// is used here before key changes: no copy is needed.
	etld1, err := publicsuffix.EffectiveTLDPlusOne(unsafe.String(unsafe.SliceData(key), len(key)))
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
