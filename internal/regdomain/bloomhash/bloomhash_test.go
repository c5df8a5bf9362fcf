package bloomhash

import (
	"math/bits"
	"testing"
)

// TestKeyPinned pins the hash: the committed filter (regdomain's
// psl_depth.go) was built with it, so a change must regenerate the filter.
func TestKeyPinned(t *testing.T) {
	for s, want := range map[string]uint64{
		"":                0x0,
		"a":               0x3a77803f7561062e,
		"co.uk":           0xbb2a70c108b416b2,
		"amazonaws.com":   0x1f73c6abba858626,
		"blogspot.com.br": 0xf88723420e6d2dc6,
	} {
		if got := Key([]byte(s)); got != want {
			t.Errorf("Key(%q) = %#x, want %#x", s, got, want)
		}
	}
}

// TestMask: one to three bits, chosen by the low 18 bits of the hash.
func TestMask(t *testing.T) {
	if got := Mask(0); got != 1 {
		t.Fatalf("Mask(0) = %#x", got)
	}
	if got := Mask(1 | 2<<6 | 3<<12); got != 0b1110 {
		t.Fatalf("Mask = %#b", got)
	}
	for h := uint64(0); h < 1<<18; h += 97 {
		if n := bits.OnesCount64(Mask(h)); n < 1 || n > 3 {
			t.Fatalf("Mask(%#x) has %d bits", h, n)
		}
	}
}
