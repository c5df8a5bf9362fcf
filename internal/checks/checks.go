package checks

import (
	"encoding/binary"
	"math"
	"math/bits"
	"strings"
	"unicode/utf8"
)

// Level is how sure a check is that a name carries hidden data. The values
// order from weakest to strongest so that the larger of two levels wins.
type Level uint8

// Levels, in the order of the old tool's probability column.
const (
	None Level = iota
	Low
	Medium
	High
	Certain
)

// String returns the level as out.csv writes it: "low", "medium", "high"
// or "100%"; None is the empty string.
func (l Level) String() string {
	switch l {
	case Low:
		return "low"
	case Medium:
		return "medium"
	case High:
		return "high"
	case Certain:
		return "100%"
	}
	return ""
}

// ParseLevel reads a level as String writes it (case-insensitive); ok is
// false for anything else.
func ParseLevel(s string) (Level, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "low":
		return Low, true
	case "medium":
		return Medium, true
	case "high":
		return High, true
	case "100%", "certain":
		return Certain, true
	}
	return None, false
}

// Reason is a bit set of the checks that fired on a name.
type Reason uint8

// The individual checks. Their texts are the old tool's, unchanged, so that
// scripts matching on them keep working.
const (
	LongLabel Reason = 1 << iota
	RareSymbols
	HighEntropy
	HexEncoding
	NotUTF8
)

// reasonOrder lists the checks strongest first, the order in which their
// texts are joined.
var reasonOrder = [...]struct {
	r    Reason
	text string
}{
	{NotUTF8, "not utf-8 symbols detected"},
	{LongLabel, "packet label length too high"},
	{RareSymbols, "rare symbols detected"},
	{HighEntropy, "high entropy detected"},
	{HexEncoding, "hex encoding detected"},
}

// String joins the texts of the checks in r, strongest first, with "; ".
func (r Reason) String() string {
	var b strings.Builder
	for _, e := range reasonOrder {
		if r&e.r != 0 {
			if b.Len() > 0 {
				b.WriteString("; ")
			}
			b.WriteString(e.text)
		}
	}
	return b.String()
}

// Config holds the thresholds and levels of the checks. The zero value
// disables every check; Default returns the old tool's settings.
type Config struct {
	// MaxLabelLen: a label longer than this fires LongLabel (0 disables).
	MaxLabelLen int
	// MaxEntropy: a name whose Shannon entropy in bits per byte exceeds
	// this fires HighEntropy (0 disables).
	MaxEntropy float64
	// MinHexRun: a run of at least this many hexadecimal digits fires
	// HexEncoding (0 disables).
	MinHexRun int
	// RareSymbols enables the rare-symbol check; CheckUTF8 the UTF-8 check.
	RareSymbols bool
	CheckUTF8   bool
	// Level of each check when it fires.
	LongLabelLevel, RareSymbolsLevel, HighEntropyLevel, HexLevel, NotUTF8Level Level
}

// Default returns the old tool's thresholds and probabilities: label over
// 40 bytes high, rare symbols high, entropy over 4.5 high, hex run of 20 or
// more medium, invalid UTF-8 100%.
func Default() Config {
	return Config{
		MaxLabelLen:      40,
		MaxEntropy:       4.5,
		MinHexRun:        20,
		RareSymbols:      true,
		CheckUTF8:        true,
		LongLabelLevel:   High,
		RareSymbolsLevel: High,
		HighEntropyLevel: High,
		HexLevel:         Medium,
		NotUTF8Level:     Certain,
	}
}

// Result is the outcome of checking one or more names.
type Result struct {
	Level   Level
	Reasons Reason
}

// Merge folds o into r: the stronger level wins and the reasons of the
// winning level are kept (reasons of weaker levels are dropped so that the
// text explains the probability).
func (r *Result) Merge(o Result) {
	switch {
	case o.Level > r.Level:
		*r = o
	case o.Level == r.Level && o.Level != None:
		r.Reasons |= o.Reasons
	}
}

// Name checks one name given as its labels' raw bytes joined by '.' (as
// dnswire.Name.Bytes returns it) and the length of each label, leftmost
// first. The lengths define the label boundaries, so that a '.' byte inside
// a label is not mistaken for a separator.
func (c *Config) Name(name []byte, labelLens []uint8) Result {
	return c.Some(name, labelLens, All)
}

// All is every check.
const All = LongLabel | RareSymbols | HighEntropy | HexEncoding | NotUTF8

// Some is Name restricted to the checks in mask.
func (c *Config) Some(name []byte, labelLens []uint8, mask Reason) Result {
	return c.Result(c.Fired(name, labelLens, mask), mask)
}

// Result is the outcome of the checks in fired and mask, each at its
// configured level, merged as Merge does. Checks are independent, so
// Result(Fired(name, lens, wide), mask) equals Some(name, lens, mask) for
// any mask within wide: one pass over a name serves several masks.
func (c *Config) Result(fired, mask Reason) Result {
	if fired&mask == 0 {
		return Result{} // most names: kept cheap enough to inline
	}
	return c.merged(fired & mask)
}

// merged is Result for a non-empty set of fired checks.
func (c *Config) merged(fired Reason) Result {
	var res Result
	if fired&LongLabel != 0 {
		res.Merge(Result{Level: c.LongLabelLevel, Reasons: LongLabel})
	}
	if fired&NotUTF8 != 0 {
		res.Merge(Result{Level: c.NotUTF8Level, Reasons: NotUTF8})
	}
	if fired&RareSymbols != 0 {
		res.Merge(Result{Level: c.RareSymbolsLevel, Reasons: RareSymbols})
	}
	if fired&HexEncoding != 0 {
		res.Merge(Result{Level: c.HexLevel, Reasons: HexEncoding})
	}
	if fired&HighEntropy != 0 {
		res.Merge(Result{Level: c.HighEntropyLevel, Reasons: HighEntropy})
	}
	return res
}

// Fired returns the checks in mask that name trips, whatever their levels.
//
// The byte-level facts (bytes outside the host alphabet, bytes of 0x80 and
// above, dots, hexadecimal digits) are gathered in one pass over name,
// eight bytes at a time for ASCII. The exact checks (utf8.Valid, the label
// walk of the rare-symbol check, LongestHexRun, the entropy) run only when
// that pass cannot settle them.
func (c *Config) Fired(name []byte, labelLens []uint8, mask Reason) Reason {
	var fired Reason
	wantLong := c.MaxLabelLen > 0 && mask&LongLabel != 0
	wantUTF8 := c.CheckUTF8 && mask&NotUTF8 != 0
	wantRare := c.RareSymbols && mask&RareSymbols != 0
	wantHex := c.MinHexRun > 0 && mask&HexEncoding != 0
	wantEntropy := c.MaxEntropy > 0 && mask&HighEntropy != 0

	var longest int
	var tiled bool
	var st byteStats
	if wantLong || wantRare || wantHex {
		longest, tiled = walkLabels(name, labelLens)
	}
	if wantUTF8 || wantRare || wantHex || wantEntropy {
		st = scanBytes(name)
	}

	if wantLong && longest > c.MaxLabelLen {
		fired |= LongLabel
	}
	// Pure ASCII is valid UTF-8 (RFC 3629 section 3).
	if wantUTF8 && st.class&clsHigh != 0 && !utf8.Valid(name) {
		fired |= NotUTF8
	}
	if wantRare {
		// When every byte is a host byte or '.', the labels tile name
		// and the dots are exactly the separators, no label holds a rare
		// byte; anything else takes the exact label walk.
		clean := st.class&clsRare == 0 && tiled && st.dots == len(labelLens)-1
		if !clean && hasRareSymbols(name, labelLens) {
			fired |= RareSymbols
		}
	}
	// A hex run is no longer than the number of hex digits, and when the
	// labels tile name it stays inside one label ('.' is not a hex digit).
	if wantHex && st.hexDigits >= c.MinHexRun && (!tiled || longest >= c.MinHexRun) &&
		LongestHexRun(name) >= c.MinHexRun {
		fired |= HexEncoding
	}
	if wantEntropy && exceedsEntropy(name, c.MaxEntropy, st.class) {
		fired |= HighEntropy
	}
	return fired
}

// walkLabels returns the longest of labelLens and whether the labels tile
// name exactly: each label followed by a '.' separator except the last,
// ending at the end of name.
func walkLabels(name []byte, labelLens []uint8) (longest int, tiled bool) {
	off := 0
	tiled = true
	for i, l := range labelLens {
		if i > 0 {
			if off >= len(name) || name[off] != '.' {
				tiled = false
			}
			off++
		}
		off += int(l)
		longest = max(longest, int(l))
	}
	return longest, tiled && off == len(name)
}

// Byte classes of byteClass, as bits.
const (
	clsHex   = 1 << iota // 0-9, a-f, A-F
	clsDot               // '.'
	clsRare              // neither a host byte nor '.'
	clsHigh              // 0x80 and above: not ASCII
	clsUnder             // '_'
)

// byteClass gives the clsXxx bits of every byte value.
var byteClass = func() (t [256]byte) {
	for i := range t {
		b := byte(i)
		switch {
		case hexDigit[b]:
			t[i] |= clsHex
		case b == '.':
			t[i] |= clsDot
		case b == '_':
			t[i] |= clsUnder
		}
		if !hostByte[b] && b != '.' {
			t[i] |= clsRare
		}
		if b >= utf8.RuneSelf {
			t[i] |= clsHigh
		}
	}
	return t
}()

// byteStats are the facts scanBytes gathers about a name.
type byteStats struct {
	class     byte // union of the byteClass bits of every byte
	dots      int  // number of '.' bytes
	hexDigits int  // number of hexadecimal digits
}

// Constants of the eight-lanes-at-once (SWAR) scan: every lane holds one
// ASCII byte, so adding up to 0x80 to a lane never carries into the next
// and a lane's top bit answers a comparison.
const (
	swarOnes = 0x0101010101010101
	swarHigh = 0x8080808080808080
	// swarPad fills unused lanes: 'g' is a host byte, not a hex digit,
	// not a dot, not '_', and ASCII.
	swarPad = 'g' * swarOnes
)

// swarGE sets a lane's top bit when its byte is >= c (x ASCII, c <= 0x80).
func swarGE(x uint64, c byte) uint64 { return x + (0x80-uint64(c))*swarOnes }

// swarGT sets a lane's top bit when its byte is > c (x ASCII, c < 0x80).
func swarGT(x uint64, c byte) uint64 { return x + (0x7f-uint64(c))*swarOnes }

// swarEq sets a lane's top bit (and only it) when its byte equals c (x
// ASCII, c < 0x80).
func swarEq(x uint64, c byte) uint64 { return ^(x ^ uint64(c)*swarOnes + 0x7f*swarOnes) & swarHigh }

// scanBytes gathers the byteStats of name: eight bytes at a time while they
// are ASCII, one at a time from the first word holding a byte of 0x80 or
// above.
func scanBytes(name []byte) byteStats {
	var st byteStats
	var rare, under uint64 // lanes holding a rare byte, a '_'
	for i := 0; i < len(name); i += 8 {
		var x uint64
		switch {
		case i+8 <= len(name):
			x = binary.LittleEndian.Uint64(name[i:])
		case len(name) >= 8:
			// Reload the last eight bytes; the lanes already seen
			// are shifted out and replaced by swarPad.
			seen := uint(i + 8 - len(name))
			x = binary.LittleEndian.Uint64(name[len(name)-8:])>>(8*seen) | swarPad<<(64-8*seen)
		default:
			x = swarPad
			for k := len(name) - 1; k >= i; k-- {
				x = x<<8 | uint64(name[k])
			}
		}
		if x&swarHigh != 0 {
			return scanBytesFrom(name, i, st, rare, under)
		}
		digit := swarGE(x, '0') &^ swarGT(x, '9')
		y := x | 0x20*swarOnes // folds A-Z onto a-z (and nothing else onto them)
		ya := swarGE(y, 'a')
		alpha := ya &^ swarGT(y, 'z')
		hexLetter := ya &^ swarGT(y, 'f')
		dot := swarEq(x, '.')
		u := swarEq(x, '_')
		under |= u
		rare |= ^(digit | alpha | dot | u | swarEq(x, '-'))
		st.dots += bits.OnesCount64(dot)
		st.hexDigits += bits.OnesCount64((digit | hexLetter) & swarHigh)
	}
	return st.addLanes(rare, under)
}

// addLanes adds to st.class the classes of the lanes whose top bit is set
// in rare and under.
func (st byteStats) addLanes(rare, under uint64) byteStats {
	if rare&swarHigh != 0 {
		st.class |= clsRare
	}
	if under&swarHigh != 0 {
		st.class |= clsUnder
	}
	return st
}

// scanBytesFrom finishes scanBytes one byte at a time from name[i:], given
// the stats and lane masks of the words before i.
func scanBytesFrom(name []byte, i int, st byteStats, rare, under uint64) byteStats {
	st = st.addLanes(rare, under)
	for _, b := range name[i:] {
		k := byteClass[b]
		st.class |= k
		st.hexDigits += int(k & clsHex)
		st.dots += int(k>>1) & 1
	}
	return st
}

// hostByte marks the bytes that belong in a host name label: letters,
// digits and the hyphen (RFC 952, RFC 1123 section 2.1). The underscore is
// allowed too: it leads service labels (_ldap._tcp, RFC 2782; _dmarc,
// RFC 7489; selector._domainkey, RFC 6376) and appears inside Windows and
// DHCP-registered host names, so alone it says nothing about tunnelling.
var hostByte = func() (t [256]bool) {
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

// hasRareSymbols reports whether any label holds a byte outside the host
// name alphabet. A label that is exactly "*" (a wildcard owner name) is
// allowed. Label boundaries come from labelLens, so a '.' byte inside a
// label counts as rare. Lengths that run past the end of name leave the
// labels beyond it empty.
func hasRareSymbols(name []byte, labelLens []uint8) bool {
	off := 0
	for i, l := range labelLens {
		if i > 0 {
			off = min(off+1, len(name)) // the '.' separator
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
			if !hostByte[b] {
				return true
			}
		}
	}
	return false
}

// hexDigit marks 0-9, a-f and A-F.
var hexDigit = func() (t [256]bool) {
	for _, c := range "0123456789abcdefABCDEF" {
		t[c] = true
	}
	return t
}()

// LongestHexRun returns the length of the longest run of hexadecimal digits
// in name. Every run is considered, not only the first (the old tool's bug).
func LongestHexRun(name []byte) int {
	best, run := 0, 0
	for _, b := range name {
		run = (run + 1) & -int(byteClass[b]&clsHex)
		best = max(best, run)
	}
	return best
}

// entropyBand is how far from the threshold a fast entropy estimate must
// lie to be trusted. Both the estimate and Entropy differ from the true
// entropy by far less than 1e-10 bits for names up to maxFastLen bytes (a
// few hundred additions of terms below 2048, each exact to about 1e-16
// relative), so outside this band both compare to the threshold alike.
const entropyBand = 1e-9

// maxFastLen is the longest name the fast entropy test handles: counts fit
// a uint8 and xlog2x covers them. DNS names are at most 255 bytes (RFC 1035
// section 3.1), so only malformed input takes the slow path.
const maxFastLen = 255

// log2Int[i] is log2(i) and xlog2x[i] is i*log2(i) (0 for i = 0).
var log2Int, xlog2x = func() (l, x [maxFastLen + 2]float64) {
	l[0] = math.Inf(-1)
	for i := 1; i < len(l); i++ {
		l[i] = math.Log2(float64(i))
		x[i] = float64(i) * l[i]
	}
	return l, x
}()

// exceedsExp2 reports float64(d) > math.Exp2(max) exactly, calling
// math.Exp2 only when max lies within entropyBand of log2(d).
func exceedsExp2(d int, max float64) bool {
	if d >= 0 && d < len(log2Int) {
		switch {
		case max < log2Int[d]-entropyBand:
			return true
		case max > log2Int[d]+entropyBand:
			return false
		}
	}
	return float64(d) > math.Exp2(max)
}

// exceedsEntropy reports whether name holds more than 2^max distinct bytes
// and Entropy(name) > max; class is scanBytes(name).class. A string of k
// distinct bytes has at most log2(k) bits of entropy per byte, so with
// 2^max or fewer distinct bytes (22 for the default 4.5) the entropy cannot
// exceed max, and a name of 2^max or fewer bytes need not even be counted.
// Otherwise the entropy is estimated by entropyEstimate, and Entropy itself
// runs only when the estimate lies within entropyBand of max, so the answer
// is always the one Entropy would give.
func exceedsEntropy(name []byte, max float64, class byte) bool {
	if max >= 8 || !exceedsExp2(min(len(name), 256), max) {
		return false
	}
	if class&(clsRare|clsHigh) == 0 {
		// Only host bytes and dots: count them in one word first.
		distinct := bits.OnesCount64(hostSet(name))
		if class&clsUnder != 0 {
			distinct++
		}
		if !exceedsExp2(distinct, max) {
			return false
		}
	}
	set := distinctSet(name)
	distinct := 0
	for _, w := range set {
		distinct += bits.OnesCount64(w)
	}
	if !exceedsExp2(distinct, max) {
		return false
	}
	if len(name) > maxFastLen {
		return Entropy(name) > max
	}
	h := entropyEstimate(name, &set)
	switch {
	case h > max+entropyBand:
		return true
	case h < max-entropyBand:
		return false
	}
	return Entropy(name) > max
}

// entropyEstimate returns the entropy of name (1 to maxFastLen bytes,
// with the distinct bytes in set) as log2(n) - sum(c*log2(c))/n over the
// byte counts c, from tables: no logarithm is computed. It differs from
// Entropy only by rounding (different terms and order of summation).
func entropyEstimate(name []byte, set *[4]uint64) float64 {
	var counts [256]uint8
	for _, b := range name {
		counts[b]++
	}
	sum := 0.0
	for i, w := range set {
		for w != 0 {
			b := i<<6 | bits.TrailingZeros64(w)
			w &= w - 1
			sum += xlog2x[counts[b]]
		}
	}
	return log2Int[len(name)] - sum/float64(len(name))
}

// hostSet returns the set of the host bytes and dots in name, as bits of
// hostBit; '_' and every other byte are left out.
func hostSet(name []byte) uint64 {
	var a, b uint64 // two chains, two bytes per step
	i := 0
	for ; i+2 <= len(name); i += 2 {
		a |= hostBit[name[i]]
		b |= hostBit[name[i+1]]
	}
	if i < len(name) {
		a |= hostBit[name[i]]
	}
	return a | b
}

// hostBit gives each of the 64 bytes 0-9, a-z, A-Z, '-' and '.' its own
// bit, and every other byte none.
var hostBit = func() (t [256]uint64) {
	alphabet := "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-."
	for i := range len(alphabet) {
		t[alphabet[i]] = 1 << i
	}
	return t
}()

// Entropy returns the Shannon entropy of name in bits per byte, counted over
// all its bytes including the dots, as the old tool did.
func Entropy(name []byte) float64 {
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

// distinctSet returns the set of byte values in name as a 256-bit set.
func distinctSet(name []byte) (set [4]uint64) {
	for _, b := range name {
		set[b>>6] |= 1 << (b & 63)
	}
	return set
}
