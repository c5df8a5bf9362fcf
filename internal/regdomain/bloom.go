package regdomain

import "github.com/dnsieve/dnsieve/internal/regdomain/bloomhash"

// Split's fast path asks deepBloom whether a name's last two labels may
// start a public suffix rule of two or more labels (a key of ruleDepth).
// deepBloom is a blocked Bloom filter: one 64-bit word per key, chosen by
// the top bits of bloomhash.Key, with the bits of bloomhash.Mask set in it. It
// never misses a key of ruleDepth; a false positive only sends a name to
// the cached path. The hash is fixed (the table is generated), so hostile
// names can at worst be false positives: they cost what every name cost
// before the fast path.
//
// The hash (package bloomhash) is shared with the generator that builds
// the filter.

// mayStartDeepRule reports whether key (two labels) may be a key of
// ruleDepth.
func mayStartDeepRule(key []byte) bool {
	h := bloomhash.Key(key)
	m := bloomhash.Mask(h)
	return deepBloom[h>>(64-bloomBits)]&m == m
}
