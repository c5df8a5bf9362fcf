package checks

import (
	"math"
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
	if c.RareSymbols && mask&RareSymbols != 0 && hasRareSymbols(name, labelLens) {
		fire(RareSymbols, c.RareSymbolsLevel)
	}
	if c.MinHexRun > 0 && mask&HexEncoding != 0 && LongestHexRun(name) >= c.MinHexRun {
		fire(HexEncoding, c.HexLevel)
	}
	if c.MaxEntropy > 0 && mask&HighEntropy != 0 && mayExceedEntropy(name, c.MaxEntropy) && Entropy(name) > c.MaxEntropy {
		fire(HighEntropy, c.HighEntropyLevel)
	}
	return res
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
// label counts as rare.
func hasRareSymbols(name []byte, labelLens []uint8) bool {
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
		if hexDigit[b] {
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

// mayExceedEntropy is a cheap bound: a string of k distinct bytes has at
// most log2(k) bits of entropy per byte, so with 2^max or fewer distinct
// bytes (22 for the default 4.5) its entropy cannot exceed max and the
// logarithms need not be computed.
func mayExceedEntropy(name []byte, max float64) bool {
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
