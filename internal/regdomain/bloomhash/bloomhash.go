// Package bloomhash is the fixed hash of regdomain's generated Bloom
// filter, shared by the generator that builds the filter
// (internal/regdomain/gen) and the package that probes it, so that the two
// cannot drift apart. It lives apart from regdomain because the generator
// must run when regdomain's generated tables are missing or stale.
package bloomhash

import (
	"encoding/binary"
	"math/bits"
)

const (
	mul1 = 0x9E3779B97F4A7C15
	mul2 = 0xD6E8FEB86659FD93
)

// Key hashes b eight bytes at a time. The hash is fixed, not seeded: the
// filter is generated once.
func Key(b []byte) uint64 {
	n := len(b)
	h := uint64(n) * mul1
	var w uint64
	switch {
	case n >= 8:
		for i := 0; i+8 < n; i += 8 {
			h = mum(h^binary.LittleEndian.Uint64(b[i:]), mul2)
		}
		w = binary.LittleEndian.Uint64(b[n-8:])
	case n >= 4:
		w = uint64(binary.LittleEndian.Uint32(b)) | uint64(binary.LittleEndian.Uint32(b[n-4:]))<<32
	case n > 0:
		w = uint64(b[0])<<16 | uint64(b[n>>1])<<8 | uint64(b[n-1])
	}
	return mum(h^w, mul2)
}

// mum folds the 128-bit product of a and b.
func mum(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// Mask returns the three bits a key with hash h sets in its filter word.
func Mask(h uint64) uint64 {
	return 1<<(h&63) | 1<<(h>>6&63) | 1<<(h>>12&63)
}
