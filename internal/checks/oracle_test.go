package checks

import (
	"math"
	"unicode/utf8"
)

// This file keeps a verbatim copy of the checks as they were before the
// single-pass rewrite (functions renamed with an "oracle" prefix). The
// equivalence tests and FuzzSomeMatchesOracle compare the production code
// against it; do not "optimise" it.
//
// One deliberate deviation: oracleSome passes the label lengths through
// truncateLens before the rare-symbol walk. The former walk panicked
// (slice bounds) when a label started past the end of name, which only
// malformed lengths can do; the production walk now treats such labels as
// empty, and dropping them is the same thing. On every input where the
// former walk did not panic, truncation leaves its answer unchanged (it
// returned before reaching the dropped labels); checkAgainstOracle checks
// both facts on every input.

// oracleSome is the former Config.Some.
func oracleSome(c *Config, name []byte, labelLens []uint8, mask Reason) Result {
	var res Result
	fire := func(r Reason, l Level) {
		res.Merge(Result{Level: l, Reasons: r})
	}
	if c.MaxLabelLen > 0 && mask&LongLabel != 0 {
		for _, l := range labelLens {
			if int(l) > c.MaxLabelLen {
				fire(LongLabel, c.LongLabelLevel)
				break
			}
		}
	}
	if c.CheckUTF8 && mask&NotUTF8 != 0 && !utf8.Valid(name) {
		fire(NotUTF8, c.NotUTF8Level)
	}
	if c.RareSymbols && mask&RareSymbols != 0 && oracleHasRareSymbols(name, truncateLens(name, labelLens)) {
		fire(RareSymbols, c.RareSymbolsLevel)
	}
	if c.MinHexRun > 0 && mask&HexEncoding != 0 && oracleLongestHexRun(name) >= c.MinHexRun {
		fire(HexEncoding, c.HexLevel)
	}
	if c.MaxEntropy > 0 && mask&HighEntropy != 0 && oracleMayExceedEntropy(name, c.MaxEntropy) && oracleEntropy(name) > c.MaxEntropy {
		fire(HighEntropy, c.HighEntropyLevel)
	}
	return res
}

// oracleHostByte is the former hostByte table.
var oracleHostByte = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	t['-'] = true
	t['_'] = true
	return t
}()

// oracleHasRareSymbols is the former hasRareSymbols.
func oracleHasRareSymbols(name []byte, labelLens []uint8) bool {
	off := 0
	for i, l := range labelLens {
		if i > 0 {
			off++ // the '.' separator
		}
		end := off + int(l)
		if end > len(name) {
			end = len(name)
		}
		label := name[off:end]
		off = end
		if len(label) == 1 && label[0] == '*' {
			continue
		}
		for _, b := range label {
			if !oracleHostByte[b] {
				return true
			}
		}
	}
	return false
}

// oracleHexDigit is the former hexDigit table.
var oracleHexDigit = func() (t [256]bool) {
	for _, c := range "0123456789abcdefABCDEF" {
		t[c] = true
	}
	return t
}()

// oracleLongestHexRun is the former LongestHexRun.
func oracleLongestHexRun(name []byte) int {
	best, run := 0, 0
	for _, b := range name {
		if oracleHexDigit[b] {
			run++
			if run > best {
				best = run
			}
		} else {
			run = 0
		}
	}
	return best
}

// oracleMayExceedEntropy is the former mayExceedEntropy.
func oracleMayExceedEntropy(name []byte, max float64) bool {
	if max >= 8 {
		return false
	}
	var seen [256]bool
	distinct := 0
	for _, b := range name {
		if !seen[b] {
			seen[b] = true
			distinct++
		}
	}
	return float64(distinct) > math.Exp2(max)
}

// oracleEntropy is the former Entropy.
func oracleEntropy(name []byte) float64 {
	if len(name) == 0 {
		return 0
	}
	var counts [256]uint16
	var seen [256]byte
	distinct := 0
	for _, b := range name {
		if counts[b] == 0 {
			seen[distinct] = b
			distinct++
		}
		counts[b]++
	}
	n := float64(len(name))
	h := 0.0
	for _, b := range seen[:distinct] {
		p := float64(counts[b]) / n
		h -= p * math.Log2(p)
	}
	return h
}
