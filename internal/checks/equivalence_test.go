package checks

import (
	"bytes"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// The tests in this file hold the production checks to the verbatim copy
// of the former implementation in oracle_test.go: same Result for every
// name, label layout, Config and mask; same LongestHexRun; bit-identical
// Entropy; same answer to "entropy above the threshold".

// genName returns a name of one of several shapes, chosen by rng.
func genName(rng *rand.Rand) []byte {
	const alnum = "abcdefghijklmnopqrstuvwxyz0123456789"
	const hexd = "0123456789abcdefABCDEF"
	pick := func(alpha string, n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alpha[rng.IntN(len(alpha))]
		}
		return string(b)
	}
	payload := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	suffixes := []string{"example.com", "cdn-sync.net", "ip6.arpa", "in-addr.arpa", "co.uk", "io", ""}
	join := func(labels ...string) []byte {
		var nonEmpty []string
		for _, l := range labels {
			if l != "" {
				nonEmpty = append(nonEmpty, l)
			}
		}
		return []byte(strings.Join(nonEmpty, "."))
	}
	switch rng.IntN(14) {
	case 0: // random bytes, any length up to 300
		return payload(rng.IntN(301))
	case 1: // realistic host name
		return join(pick("abcdefghijklmnopqrstuvwxyz", 1+rng.IntN(12)), pick(alnum+"-", 1+rng.IntN(20)), suffixes[rng.IntN(len(suffixes))])
	case 2: // base32 tunnel labels
		enc := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(payload(rng.IntN(120))))
		var labels []string
		for len(enc) > 0 {
			n := min(len(enc), 30+rng.IntN(34))
			labels = append(labels, enc[:n])
			enc = enc[n:]
		}
		labels = append(labels, "t1", suffixes[rng.IntN(len(suffixes))])
		return join(labels...)
	case 3: // hex tunnel labels, runs around 20
		return join(pick(hexd, 15+rng.IntN(10)), pick("ghijklmnopqrstuvwxyz-", rng.IntN(3)), pick(hexd, 15+rng.IntN(10)), suffixes[rng.IntN(len(suffixes))])
	case 4: // base64 (rare symbols, mixed case)
		enc := base64.StdEncoding.EncodeToString(payload(rng.IntN(150)))
		if len(enc) > 63 {
			enc = enc[:63]
		}
		return join(enc, suffixes[rng.IntN(len(suffixes))])
	case 5: // boundary label lengths 39..42
		return join(pick(alnum, 39+rng.IntN(4)), suffixes[rng.IntN(len(suffixes))])
	case 6: // ip6.arpa PTR name
		h := hex.EncodeToString(payload(16))
		var labels []string
		for i := len(h) - 1; i >= 0; i-- {
			labels = append(labels, h[i:i+1])
		}
		return join(append(labels, "ip6.arpa")...)
	case 7: // non-UTF-8 or UTF-8 bytes inside an otherwise ASCII name
		b := join(pick(alnum, 1+rng.IntN(30)), suffixes[rng.IntN(len(suffixes))])
		for k := rng.IntN(4); k >= 0 && len(b) > 0; k-- {
			b[rng.IntN(len(b))] = byte(0x80 + rng.IntN(128))
		}
		if rng.IntN(2) == 0 {
			b = append(b, "é.日本"...)
		}
		return b
	case 8: // one stray byte from the whole range in a host name
		b := join(pick(alnum+"-_", 1+rng.IntN(40)), pick(alnum, 1+rng.IntN(10)), "com")
		b[rng.IntN(len(b))] = byte(rng.IntN(256))
		return b
	case 9: // wildcard and service labels
		return join([]string{"*", "_ldap", "_tcp", "**", "*x"}[rng.IntN(5)], pick(alnum, 1+rng.IntN(8)), "example.com")
	case 10: // exactly 20-digit hex runs at various places, any length 0..64
		run := pick(hexd, 19+rng.IntN(3))
		pre := pick(alnum+".", rng.IntN(20))
		return []byte(pre + run + pick("ghz.-", 1) + pick(alnum, rng.IntN(20)))
	case 11: // high entropy: many distinct symbols
		return join(pick(alnum+"ABCDEFGHIJKLMNOPQRSTUVWXYZ-_", 20+rng.IntN(44)), pick(alnum, rng.IntN(50)), "io")
	case 12: // small alphabets (entropy near powers of two)
		n := 1 << rng.IntN(6)
		alpha := alnum[:min(n, len(alnum))]
		return []byte(pick(alpha, rng.IntN(256)))
	default: // short names, every length 0..16
		return []byte(pick(alnum+".-_/*", rng.IntN(17)))
	}
}

// genLens returns label lengths for name: usually its '.'-split, sometimes
// lengths that disagree with the dots (dots inside labels, truncation,
// leftover bytes, empty labels).
func genLens(rng *rand.Rand, name []byte) []uint8 {
	if rng.IntN(4) != 0 {
		return splitLens(name)
	}
	lens := make([]uint8, rng.IntN(6))
	for i := range lens {
		lens[i] = uint8(rng.IntN(len(name) + 2))
	}
	return lens
}

// splitLens returns the lengths of name's '.'-separated parts (nil for an
// empty name), as split does, capped at 255.
func splitLens(name []byte) []uint8 {
	if len(name) == 0 {
		return nil
	}
	var lens []uint8
	for _, l := range bytes.Split(name, []byte(".")) {
		lens = append(lens, uint8(min(len(l), 255)))
	}
	return lens
}

// genConfig returns Default, or a Config with thresholds and levels chosen
// around the interesting values.
func genConfig(rng *rand.Rand, name []byte) Config {
	c := Default()
	if rng.IntN(3) == 0 {
		return c
	}
	levels := []Level{None, Low, Medium, High, Certain}
	c.LongLabelLevel = levels[rng.IntN(5)]
	c.RareSymbolsLevel = levels[rng.IntN(5)]
	c.HighEntropyLevel = levels[rng.IntN(5)]
	c.HexLevel = levels[rng.IntN(5)]
	c.NotUTF8Level = levels[rng.IntN(5)]
	c.MaxLabelLen = rng.IntN(70) - 2
	c.MinHexRun = rng.IntN(40) - 2
	c.RareSymbols = rng.IntN(5) != 0
	c.CheckUTF8 = rng.IntN(5) != 0
	c.MaxEntropy = entropyThreshold(rng, name)
	return c
}

// entropyThreshold picks a threshold: a fixed value, log2 of an integer
// (where the distinct-count bound is tight), or the name's own entropy and
// its floating-point neighbours (where the fast estimate must defer).
func entropyThreshold(rng *rand.Rand, name []byte) float64 {
	h := oracleEntropy(name)
	switch rng.IntN(6) {
	case 0:
		return []float64{-1, 0, 1, 2, 3, 4, 4.5, 5, 6, 7, 7.99, 8, 9, math.NaN(), math.Inf(1)}[rng.IntN(15)]
	case 1:
		return math.Log2(float64(1 + rng.IntN(256)))
	case 2:
		return h
	case 3:
		return math.Nextafter(h, math.Inf(-1))
	case 4:
		return math.Nextafter(h, math.Inf(1))
	default:
		return h + (rng.Float64()-0.5)*1e-8
	}
}

// checkAgainstOracle fails t if any production check disagrees with the
// oracle on this input.
func checkAgainstOracle(t *testing.T, c *Config, name []byte, lens []uint8, mask Reason) {
	t.Helper()
	if got, want := c.Some(name, lens, mask), oracleSome(c, name, lens, mask); got != want {
		t.Fatalf("Some(%q, %v, %05b) with %+v = %+v, oracle %+v", name, lens, mask, *c, got, want)
	}
	if mask == All {
		if got, want := c.Name(name, lens), oracleSome(c, name, lens, All); got != want {
			t.Fatalf("Name(%q, %v) with %+v = %+v, oracle %+v", name, lens, *c, got, want)
		}
	}
	if got, want := LongestHexRun(name), oracleLongestHexRun(name); got != want {
		t.Fatalf("LongestHexRun(%q) = %d, oracle %d", name, got, want)
	}
	if got, want := Entropy(name), oracleEntropy(name); math.Float64bits(got) != math.Float64bits(want) {
		t.Fatalf("Entropy(%q) = %v, oracle %v (bits differ)", name, got, want)
	}
	max := c.MaxEntropy
	if got, want := exceedsEntropy(name, max, scanBytes(name).class), oracleMayExceedEntropy(name, max) && oracleEntropy(name) > max; got != want {
		t.Fatalf("exceedsEntropy(%q, %.17g) = %v, oracle %v (entropy %.17g)", name, max, got, want, oracleEntropy(name))
	}
	// Both ways of counting distinct bytes: the host-alphabet word (when
	// the scan allows it) and the general 256-bit set.
	if got, want := exceedsEntropy(name, max, clsRare|clsHigh), oracleMayExceedEntropy(name, max) && oracleEntropy(name) > max; got != want {
		t.Fatalf("exceedsEntropy(%q, %.17g, general) = %v, oracle %v", name, max, got, want)
	}
	// The eight-bytes-at-once scan against the byte-at-a-time one.
	got, want := scanBytes(name), scanBytesFrom(name, 0, byteStats{}, 0, 0)
	const swarClasses = clsRare | clsHigh | clsUnder
	if got.dots != want.dots || got.hexDigits != want.hexDigits || got.class&swarClasses != want.class&swarClasses {
		t.Fatalf("scanBytes(%q) = %+v, byte by byte %+v", name, got, want)
	}
	if oraclePanics(name, lens) {
		if !truncated(name, lens) {
			t.Fatalf("oracle panics on %q %v but truncateLens keeps every label", name, lens)
		}
	} else if oracleHasRareSymbols(name, lens) != oracleHasRareSymbols(name, truncateLens(name, lens)) {
		t.Fatalf("truncateLens changes the oracle's answer on %q %v", name, lens)
	}
	if got, want := hasRareSymbols(name, lens), oracleHasRareSymbols(name, truncateLens(name, lens)); got != want {
		t.Fatalf("hasRareSymbols(%q, %v) = %v, oracle %v", name, lens, got, want)
	}
}

func TestSomeMatchesOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 300000
	if testing.Short() {
		n = 30000
	}
	for range n {
		name := genName(rng)
		lens := genLens(rng, name)
		c := genConfig(rng, name)
		mask := All
		if rng.IntN(4) == 0 {
			mask = Reason(rng.IntN(32))
		}
		checkAgainstOracle(t, &c, name, lens, mask)
	}
}

// TestSomeMatchesOracleEveryByte puts every byte value at every position of
// names of every length up to 17 (the SWAR scan's word and tail cases).
func TestSomeMatchesOracleEveryByte(t *testing.T) {
	c := Default()
	c.MinHexRun = 3
	base := []byte("a0f.9-_zqAFG.x.y")
	for n := 0; n <= 17; n++ {
		name := make([]byte, n)
		for i := range name {
			name[i] = base[i%len(base)]
		}
		for pos := 0; pos < n; pos++ {
			for v := 0; v < 256; v++ {
				old := name[pos]
				name[pos] = byte(v)
				checkAgainstOracle(t, &c, name, splitLens(name), All)
				name[pos] = old
			}
		}
	}
}

// TestEntropyNearThreshold: the fast estimate must defer to Entropy when
// the threshold is the name's entropy or one of its neighbours.
func TestEntropyNearThreshold(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 100000 {
		name := genName(rng)
		h := oracleEntropy(name)
		for _, max := range []float64{h, math.Nextafter(h, 0), math.Nextafter(h, 9), h - 1e-10, h + 1e-10, h - 2e-9, h + 2e-9} {
			want := oracleMayExceedEntropy(name, max) && h > max
			if got := exceedsEntropy(name, max, scanBytes(name).class); got != want {
				t.Fatalf("exceedsEntropy(%q, %.17g) = %v, oracle %v (entropy %.17g)", name, max, got, want, h)
			}
		}
	}
}

func FuzzSomeMatchesOracle(f *testing.F) {
	f.Add([]byte("www.example.com"), []byte{}, 4.5, uint8(20), uint8(40), uint8(All), true)
	f.Add([]byte("a\xffb.example.com"), []byte{}, 4.5, uint8(20), uint8(40), uint8(All), true)
	f.Add([]byte("x.0123456789abcdef0123.example.com"), []byte{}, 4.5, uint8(20), uint8(40), uint8(All), true)
	f.Add([]byte("qwertyuiopasdfghjklzxcvbnm1234567qwertyuiop.io"), []byte{}, 4.5, uint8(20), uint8(40), uint8(All), true)
	f.Add([]byte("a.b.com"), []byte{3, 3}, 2.0, uint8(1), uint8(2), uint8(RareSymbols), false)
	f.Add([]byte("*.example.com"), []byte{}, 0.0, uint8(0), uint8(0), uint8(All), true)
	f.Fuzz(func(t *testing.T, name, lensIn []byte, maxEntropy float64, minHex, maxLabel, mask uint8, splitDots bool) {
		lens := splitLens(name)
		if !splitDots {
			lens = lensIn
		}
		c := Default()
		c.MinHexRun = int(minHex) - 1
		c.MaxLabelLen = int(maxLabel) - 1
		c.RareSymbols = mask&0x20 == 0
		c.CheckUTF8 = mask&0x40 == 0
		c.HexLevel = Level(mask>>5) % 5
		for _, max := range []float64{maxEntropy, 4.5, oracleEntropy(name), math.Nextafter(oracleEntropy(name), 0)} {
			c.MaxEntropy = max
			checkAgainstOracle(t, &c, name, lens, Reason(mask)&All)
			checkAgainstOracle(t, &c, name, lens, All)
			// One pass with every check serves any narrower mask.
			all := c.Fired(name, lens, All)
			for _, m := range []Reason{Reason(mask) & All, RareSymbols | NotUTF8, HexEncoding, 0} {
				if got, want := c.Result(all, m), c.Some(name, lens, m); got != want {
					t.Fatalf("Result(Fired(%q, All), %b) = %+v, Some says %+v", name, m, got, want)
				}
			}
		}
	})
}

// oraclePanics reports whether oracleHasRareSymbols panics on this input.
func oraclePanics(name []byte, lens []uint8) (panicked bool) {
	defer func() { panicked = recover() != nil }()
	oracleHasRareSymbols(name, lens)
	return false
}

// truncated reports whether truncateLens drops labels of lens.
func truncated(name []byte, lens []uint8) bool {
	return len(truncateLens(name, lens)) != len(lens)
}

// truncateLens returns lens with the labels starting past the end of name
// replaced by empty ones, removed from the end.
func truncateLens(name []byte, lens []uint8) []uint8 {
	off := 0
	for i, l := range lens {
		if i > 0 {
			if off+1 > len(name) {
				return lens[:i]
			}
			off++
		}
		off = min(off+int(l), len(name))
	}
	return lens
}

// TestRareSymbolsLengthsPastEnd: lengths describing more bytes than name
// holds (malformed input) must not panic; the labels beyond the end are
// empty, so only the bytes present decide.
func TestRareSymbolsLengthsPastEnd(t *testing.T) {
	cases := []struct {
		name string
		lens []uint8
		want bool
	}{
		{"abc", []uint8{3, 5}, false},
		{"abc", []uint8{3, 0, 0, 9}, false},
		{"ab/", []uint8{9, 9}, true},
		{"", []uint8{0, 0}, false},
		{"a", []uint8{1, 1, 1}, false},
	}
	for _, c := range cases {
		if got := hasRareSymbols([]byte(c.name), c.lens); got != c.want {
			t.Errorf("hasRareSymbols(%q, %v) = %v, want %v", c.name, c.lens, got, c.want)
		}
		cfg := Default()
		if got := cfg.Name([]byte(c.name), c.lens); (got.Reasons&RareSymbols != 0) != c.want {
			t.Errorf("Name(%q, %v) = %+v, rare want %v", c.name, c.lens, got, c.want)
		}
	}
}

// TestEntropyEstimateError: the table estimate stays far inside entropyBand
// of Entropy, which is what lets exceedsEntropy trust it outside the band.
func TestEntropyEstimateError(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	worst := 0.0
	for range 200000 {
		name := genName(rng)
		if len(name) > maxFastLen {
			name = name[:maxFastLen]
		}
		set := distinctSet(name)
		if d := math.Abs(entropyEstimate(name, &set) - Entropy(name)); d > worst {
			worst = d
		}
	}
	// Every byte value once, and one byte 255 times: the extremes.
	all := make([]byte, 255)
	for i := range all {
		all[i] = byte(i)
	}
	for _, name := range [][]byte{all, bytes.Repeat([]byte{'a'}, 255), []byte("ab")} {
		set := distinctSet(name)
		if d := math.Abs(entropyEstimate(name, &set) - Entropy(name)); d > worst {
			worst = d
		}
	}
	if worst > entropyBand/1000 {
		t.Fatalf("estimate off by %g, band %g", worst, entropyBand)
	}
	t.Logf("largest difference %g", worst)
}

// TestSlowPathsAllocateNothing: the exact fallbacks (non-ASCII scan,
// utf8.Valid, label walk, LongestHexRun, entropy estimate and Entropy at a
// threshold equal to the name's entropy) allocate nothing either.
func TestSlowPathsAllocateNothing(t *testing.T) {
	for _, s := range []string{
		"a\xffb.example.com",
		"caf\xc3\xa9.example.com",
		"a/b+c=.example.com",
		"0123456789abcdef0123456789abcdef.t1.example.com",
		"mzxw6ytboi2dsmrvgq3tqojrgeztimbvgy3tmnzygm4dqojq.mfrggzdfmztwq2lk.t1.example.com",
	} {
		name, lens := split(s)
		cfg := Default()
		for _, max := range []float64{4.5, 1, Entropy(name)} {
			cfg.MaxEntropy = max
			if a := testing.AllocsPerRun(100, func() { cfg.Name(name, lens) }); a != 0 {
				t.Fatalf("Name(%q) with MaxEntropy %v allocates %v times per call", s, max, a)
			}
		}
	}
}

// TestResultOfWiderPass: a pass with every check answers a narrower mask
// exactly, also when a check outside the mask fired at a higher level
// (the merged result of the wide pass would have dropped the narrow one).
func TestResultOfWiderPass(t *testing.T) {
	c := Default()
	c.HexLevel = Certain
	name := []byte("a!b.0123456789abcdef0123.example.com")
	lens := splitLens(name)
	all := c.Fired(name, lens, All)
	if all != RareSymbols|HexEncoding {
		t.Fatalf("fired %b, want rare symbols and hex", all)
	}
	if got := c.Some(name, lens, All); got != (Result{Level: Certain, Reasons: HexEncoding}) {
		t.Fatalf("Some(All) = %+v", got)
	}
	want := Result{Level: High, Reasons: RareSymbols}
	if got := c.Result(all, RareSymbols|NotUTF8); got != want {
		t.Errorf("Result(fired, answer checks) = %+v, want %+v", got, want)
	}
	if got := c.Some(name, lens, RareSymbols|NotUTF8); got != want {
		t.Errorf("Some(answer checks) = %+v, want %+v", got, want)
	}
}
