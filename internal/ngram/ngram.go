package ngram

// Symbols: the 26 letters, one class for all digits, the hyphen, one class
// for every other byte, and the label boundary.
const (
	symDigit    = 26
	symHyphen   = 27
	symOther    = 28
	symBoundary = 29
	// NumSymbols is the size of the model's alphabet.
	NumSymbols = 30
)

// symbol maps a byte to its model symbol.
var symbol = func() (t [256]uint8) {
	for i := range t {
		t[i] = symOther
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = uint8(c - 'a')
		t[c-'a'+'A'] = uint8(c - 'a')
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = symDigit
	}
	t['-'] = symHyphen
	return t
}()

// Model holds log2 transition probabilities, scaled by 256 and rounded:
// Model[a][b] is 256*log2 P(b | a).
type Model [NumSymbols][NumSymbols]int16

// Default is the model built into dnsieve (see the package doc).
var Default = &defaultModel

// LabelScore returns the sum of the scaled log2 transition probabilities
// over label (with its boundaries) and the number of transitions. The
// average, sum/n/256, is bits per transition: about -3 for English-like
// labels, about -5 or lower for random base32.
func (m *Model) LabelScore(label []byte) (sum int32, n int32) {
	prev := uint8(symBoundary)
	for _, c := range label {
		s := symbol[c]
		sum += int32(m[prev][s])
		prev = s
	}
	sum += int32(m[prev][symBoundary])
	return sum, int32(len(label) + 1)
}

// BitsPerChar returns the average log2 probability per transition of label
// (0 for an empty label).
func (m *Model) BitsPerChar(label []byte) float64 {
	if len(label) == 0 {
		return 0
	}
	s, n := m.LabelScore(label)
	return float64(s) / float64(n) / 256
}
