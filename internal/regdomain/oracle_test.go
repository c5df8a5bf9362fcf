package regdomain

import (
	"bytes"
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/dnsieve/dnsieve/bench/traffic"
	"golang.org/x/net/publicsuffix"
)

// oldSplitter is the Splitter before the fixed-size cache: a map from key
// strings, and the library called with a copied string. It is kept as the
// oracle for names whose labels hold no '.' byte.
type oldSplitter struct {
	cache map[string]uint8
	max   int
	lower [256]byte
}

func (s *oldSplitter) Split(name []byte, labelLens []uint8) (lower []byte, start int) {
	n := min(len(name), len(s.lower))
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
	var starts [maxKeyLabels]int
	k := min(labels, maxKeyLabels)
	off := n
	for i := 0; i < k; i++ {
		off -= int(labelLens[labels-1-i])
		if off < 0 {
			return lower, 0
		}
		starts[i] = off
		off--
	}
	if arpa := arpaZone(lower, labelLens); arpa >= 0 {
		return lower, arpa
	}
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
		v, ok := s.cache[string(key)]
		if !ok {
			v = oldLookup(string(key), w)
			if s.cache == nil {
				s.cache = map[string]uint8{}
			}
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

func oldLookup(key string, k int) uint8 {
	etld1, err := publicsuffix.EffectiveTLDPlusOne(key)
	if err != nil {
		return uint8(k) | isSuffix
	}
	return uint8(1 + strings.Count(etld1, "."))
}

// splitRef is the split without any cache: what every cached answer must
// equal, whatever came before it.
func splitRef(name []byte, labelLens []uint8) (lower []byte, start int) {
	s := &oldSplitter{max: 1}
	lower, start = s.Split(name, labelLens)
	return bytes.Clone(lower), start
}

// realisticNames returns the question names of generated realistic
// traffic.
func realisticNames(n int) ([][]byte, [][]uint8) {
	var names [][]byte
	var lens [][]uint8
	for _, f := range traffic.Frames(traffic.Config{Seed: 7}, n) {
		name, l := traffic.QuestionName(traffic.Payload(f))
		names, lens = append(names, name), append(lens, l)
	}
	return names, lens
}

// TestSplitMatchesOldSplitter: on realistic traffic (dot-free labels) the
// new Splitter answers exactly as the map-based one, with caches small
// enough to start over many times and with the default.
func TestSplitMatchesOldSplitter(t *testing.T) {
	names, lens := realisticNames(60000)
	for _, size := range []int{1, 7, 100, 5000, 0} {
		s := New(size)
		old := &oldSplitter{max: size}
		if size == 0 {
			old.max = DefaultCacheSize
		}
		for i := range names {
			gl, gs := s.Split(names[i], lens[i])
			wl, ws := old.Split(names[i], lens[i])
			if gs != ws || !bytes.Equal(gl, wl) {
				t.Fatalf("size %d: Split(%q) = %q at %d, old %q at %d", size, names[i], gl, gs, wl, ws)
			}
		}
		if len(s.cache) > s.max {
			t.Fatalf("size %d: %d entries", size, len(s.cache))
		}
	}
}

// genNames makes hostile and odd names: random labels from an alphabet
// with '.', upper case and bytes above 0x7F, under public suffixes of every
// depth, with label lengths that sometimes disagree with the bytes.
func genNames(rng *rand.Rand, n int) ([][]byte, [][]uint8) {
	suffixes := []string{"com", "co.uk", "github.io", "s3.amazonaws.com", "compute-1.amazonaws.com", "kawasaki.jp",
		"city.kawasaki.jp", "ck", "www.ck", "sch.uk", "in-addr.arpa", "ip6.arpa", "arpa", "pirate", "blogspot.com", "1.2.3.4",
		"cloudfront.net", "googlevideo.com", "local", "com.br", "fe80::1%x.com", "salesforce.com"}
	alpha := "abcXYZ019-_.\x80\xff"
	var names [][]byte
	var lens [][]uint8
	for i := 0; i < n; i++ {
		var labels []string
		for j := rng.Intn(8); j > 0; j-- {
			b := make([]byte, 1+rng.Intn(12))
			for k := range b {
				b[k] = alpha[rng.Intn(len(alpha))]
			}
			if rng.Intn(3) == 0 {
				b = bytes.ToUpper(b)
			}
			labels = append(labels, string(b))
		}
		if rng.Intn(6) != 0 {
			labels = append(labels, strings.Split(suffixes[rng.Intn(len(suffixes))], ".")...)
		}
		if rng.Intn(20) == 0 {
			labels = append(labels, strings.Repeat("q", 60), strings.Repeat("r", 60), strings.Repeat("s", 60), strings.Repeat("t", 60), "com")
		}
		name := []byte(strings.Join(labels, "."))
		var l []uint8
		for _, x := range labels {
			l = append(l, uint8(len(x)))
		}
		if len(l) > 1 && rng.Intn(8) == 0 {
			// Merge two labels: a '.' byte inside a label.
			k := rng.Intn(len(l) - 1)
			l = append(l[:k], append([]uint8{l[k] + 1 + l[k+1]}, l[k+2:]...)...)
		}
		if len(l) > 0 && rng.Intn(30) == 0 {
			l[rng.Intn(len(l))] += uint8(rng.Intn(5)) // lengths that do not add up
		}
		names, lens = append(names, name), append(lens, l)
	}
	return names, lens
}

// TestSplitMatchesReference: on hostile names (dots inside labels, bytes
// above 0x7F, lengths that do not add up, names cut at 256 bytes) every
// answer, cached or not, equals the uncached reference; so does the case
// report.
func TestSplitMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	names, lens := genNames(rng, 30000)
	rn, rl := realisticNames(20000)
	names, lens = append(names, rn...), append(lens, rl...)
	for _, size := range []int{1, 3, 64, 0} {
		s := New(size)
		for pass := 0; pass < 2; pass++ {
			for i := range names {
				checkRef(t, s, names[i], lens[i])
			}
		}
	}
}

func checkRef(t testing.TB, s *Splitter, name []byte, lens []uint8) {
	t.Helper()
	want, ws := splitRef(name, lens)
	got, gs, mixed := s.SplitCase(name, lens)
	if gs != ws || !bytes.Equal(got, want) {
		t.Fatalf("Split(%q, %v) = %q at %d, reference %q at %d", name, lens, got, gs, want, ws)
	}
	n := min(len(name), 256)
	up := bytes.IndexFunc(name[:n], func(r rune) bool { return 'A' <= r && r <= 'Z' }) >= 0
	low := bytes.IndexFunc(name[:n], func(r rune) bool { return 'a' <= r && r <= 'z' }) >= 0
	if mixed != (up && low) {
		t.Fatalf("SplitCase(%q) mixed = %v", name, mixed)
	}
	if len(s.cache) > s.max || len(s.keys) > s.maxKeys() || len(s.index) > s.maxIndex() {
		t.Fatalf("cache over its bounds: %d entries, %d key bytes, %d slots", len(s.cache), len(s.keys), len(s.index))
	}
}

// TestFoldASCII compares the word-at-a-time folding with a byte loop on
// every byte value at every position, for lengths around the word size.
func TestFoldASCII(t *testing.T) {
	for n := 0; n <= 40; n++ {
		for c := 0; c < 256; c++ {
			for _, pos := range []int{0, n / 2, n - 1} {
				if n == 0 {
					continue
				}
				src := bytes.Repeat([]byte{'5'}, n)
				src[pos] = byte(c)
				if n > 3 {
					src[(pos+3)%n] = 'Q'
				}
				dst := make([]byte, n)
				up, low := foldASCII(dst, src)
				want := bytes.Clone(src)
				var wu, wl bool
				for i, b := range want {
					if 'A' <= b && b <= 'Z' {
						want[i] = b + 32
						wu = true
					}
					if 'a' <= b && b <= 'z' {
						wl = true
					}
				}
				if !bytes.Equal(dst, want) || up != wu || low != wl {
					t.Fatalf("foldASCII(%q) = %q %v %v, want %q %v %v", src, dst, up, low, want, wu, wl)
				}
			}
		}
	}
}

// TestStreamAllocatesOnlyInTheLibrary: once the cache has grown to its
// size, a name of a new registered domain costs one allocation, made
// inside golang.org/x/net/publicsuffix (netip.ParseAddr's error); the
// cache itself allocates nothing, even when it starts over.
func TestStreamAllocatesOnlyInTheLibrary(t *testing.T) {
	const warm, runs = 5000, 3000
	var names [][]byte
	var ls [][]uint8
	for i := 0; i < warm+runs+1; i++ {
		n := fmt.Sprintf("h%d.d%d.co.uk", i%7, i) // the cached path (co.uk has deeper rules)
		names, ls = append(names, []byte(n)), append(ls, lens(n))
	}
	s := New(1000)
	for i := 0; i < warm; i++ { // grows to the maximum and starts over
		s.Split(names[i], ls[i])
	}
	i := warm
	misses := s.Misses
	allocs := testing.AllocsPerRun(runs, func() {
		s.Split(names[i], ls[i])
		i++
	})
	if s.Misses-misses < runs {
		t.Fatalf("only %d misses", s.Misses-misses)
	}
	if allocs > 1 {
		t.Fatalf("%v allocations per new domain", allocs)
	}
}

// FuzzSplitReference: any name and label lengths, through a tiny cache
// that starts over often, give the uncached reference's answer.
func FuzzSplitReference(f *testing.F) {
	f.Add([]byte("www.Example.co.uk"), []byte{3, 7, 2, 2}, []byte("a.b.example.com"), []byte{3, 7, 3})
	f.Add([]byte("x.1.0.168.192.in-addr.arpa"), []byte{1, 1, 1, 3, 3, 7, 4}, []byte("a.b.c.d.e.f.g.h"), []byte{1, 1, 1, 1, 1, 1, 1, 1})
	f.Add([]byte("WWW.Example.COM"), []byte{3, 7, 3}, []byte("a.d1.cloudfront.net"), []byte{1, 2, 10, 3}) // the fast path
	f.Add([]byte("a.x:y.com"), []byte{1, 3, 3}, []byte("b.example.com"), []byte{1, 11})
	f.Fuzz(func(t *testing.T, n1, l1, n2, l2 []byte) {
		s := New(2)
		for i := 0; i < 2; i++ {
			checkRef(t, s, n1, l1)
			checkRef(t, s, n2, l2)
		}
	})
}
