package engine

import (
	"fmt"
	"math/bits"
)

// Numbered names and the spread of IPv4 answers: a payload served four
// bytes per A record. A stager that pulls its payload through A answers
// asks for numbered names, prefix0, prefix1, ... (DNSStager's layout for
// its AAAA and TXT modes, one chunk per name), and every answer is an
// address made of payload bytes. The names are short and ordinary and an
// IPv4 address is always a possible one, so neither the name features nor
// the answer-content measure (package analyze, rdata.go) sees it. Two
// facts together do:
//
//   - the domain's new names are one family of numbered names that covers
//     most numbers of its range (a sweep, in any order), and
//   - the IPv4 answers to that family's names start with many different
//     first octets (only those answers are counted): payload
//     bytes are spread over the whole byte range, while the hosts of one
//     service sit in a few networks.
//
// Benign families of numbered names are small (ns1..ns4, 0..3.pool.ntp.org),
// sparse (e1234.dscb.akamaiedge.net), or answered from a few networks
// (host001..host500 of a company, pods web-0..web-99 of a cluster).
//
// What evades it: numbers in another base or not in the leftmost label,
// names that are not numbered, a family broken up by decoy families, and
// answers confined to a few first octets (a payload spread over the last
// three bytes only). AAAA stagers are left to the answer-content measure.

// counterFamily follows one family of a domain's numbered names: names
// whose leftmost label ends in a decimal number, with the same text
// around the number. It counts the distinct names of the family seen
// since it was taken and the range of their numbers.
type counterFamily struct {
	key    uint64 // hash of the text around the number; 0: no family yet
	names  uint32 // distinct names of the family
	lo, hi uint32 // smallest and largest number
}

// maxCounterDigits bounds the number of a numbered label: seven decimal
// digits (ten million names, 40 MB of payload at four bytes a name).
const maxCounterDigits = 7

// maxCounter is the largest number a numbered label can hold.
const maxCounter = 9_999_999

// counterSwitch is how many names a family must have before names of
// another family no longer replace it: ordinary domains have several
// small families (www1, img2), a stager's family grows at once.
const counterSwitch = 8

// counterName splits a distinct subdomain whose first label is first
// bytes long: the family key of a numbered name and its number, or ok
// false when the first label does not end in 1 to maxCounterDigits
// decimal digits.
func counterName(sub []byte, first int) (key uint64, n uint32, ok bool) {
	if first <= 0 || first > len(sub) {
		return 0, 0, false
	}
	end := first
	start := end
	for start > 0 && end-start < maxCounterDigits+1 && sub[start-1] >= '0' && sub[start-1] <= '9' {
		start--
	}
	digits := end - start
	if digits == 0 || digits > maxCounterDigits {
		return 0, 0, false
	}
	for _, c := range sub[start:end] {
		n = n*10 + uint32(c-'0')
	}
	// FNV-1a (as hashName) over the prefix, a separator no label holds
	// there, and the rest of the name.
	h := uint64(14695981039346656037)
	for _, part := range [...][]byte{sub[:start], {0}, sub[end:]} {
		for _, c := range part {
			h ^= uint64(c)
			h *= 1099511628211
		}
	}
	return h | 1, n, true // never 0, the empty family
}

// add counts a new distinct name of family key with number n and reports
// whether the family took it; octets, the first octets of the family's
// answers, are cleared when another family replaces it.
func (f *counterFamily) add(key uint64, n uint32, octets *octetSet) bool {
	if key != f.key {
		if f.names >= counterSwitch {
			return false
		}
		*f = counterFamily{key: key, lo: n, hi: n}
		*octets = octetSet{}
	}
	f.names++
	f.lo, f.hi = min(f.lo, n), max(f.hi, n)
	return true
}

// sampleAt reports whether the family's name just taken should be a
// sample name of its domain: the one that makes it stay (counterSwitch)
// and the one that brings it to the floor (stagerMinNames), so that a
// stager's finding shows its names although none looks like data.
func (f *counterFamily) sampleAt() bool {
	return f.names == counterSwitch || f.names == stagerMinNames
}

// span is how many numbers the family's range holds.
func (f *counterFamily) span() uint64 {
	if f.names == 0 {
		return 0
	}
	return uint64(f.hi-f.lo) + 1
}

// merge folds family b (the same domain in another engine) into f,
// whatever the order. Two parts of one family count their names together,
// at most the numbers of their united range (names may have been seen by
// both) and at least the larger part's. Of two
// families, the one with more names stays (the smaller key on a tie).
func (f *counterFamily) merge(b counterFamily) {
	switch {
	case f.key == b.key:
		// Disjoint parts add up; names seen by both are capped by the
		// united range.
		f.lo, f.hi = min(f.lo, b.lo), max(f.hi, b.hi)
		f.names = max(f.names, b.names, uint32(min(uint64(f.names)+uint64(b.names), f.span())))
	case b.names > f.names || b.names == f.names && b.key < f.key:
		*f = b
	}
}

// familyAnswer marks the first octet of response o's IPv4 answer when its
// name is one of d's numbered family: only those answers count, the
// domain's other names may sit anywhere.
func (d *domain) familyAnswer(o *Observation) {
	if !o.Answer.Is4() || d.counter.names == 0 || o.RegStart <= 1 || o.RegStart > len(o.Name) || len(o.Labels) == 0 {
		return
	}
	if key, _, ok := counterName(o.Name[:o.RegStart-1], int(o.Labels[0])); ok && key == d.counter.key {
		d.v4Octets.add(o.Answer.As4()[0])
	}
}

// octetSet is the set of first octets of a domain's IPv4 answers.
type octetSet [4]uint64

// add marks address a's first octet.
func (s *octetSet) add(first byte) { s[first>>6] |= 1 << (first & 63) }

// len returns how many first octets are marked.
func (s *octetSet) len() int {
	n := 0
	for _, w := range s {
		n += bits.OnesCount64(w)
	}
	return n
}

// Numbered-sweep floor (StagerFloor): at least stagerMinNames names of one
// numbered family, covering at least half of its range, answered with
// IPv4 addresses of at least stagerMinOctets first octets. Random bytes
// give about 56 distinct first octets in 64 addresses and 100 in 128;
// x86 code XORed with a one-byte key, fewer but far above the handful of
// networks that serve one domain's hosts. High from stagerHighNames names
// (4 KB at four bytes a name).
const (
	stagerMinNames  = 64
	stagerMinOctets = 24
	stagerHighNames = 1024
)

// StagerFloor returns the least severity a domain's numbered names and
// the spread of its IPv4 answers earn on their own (SeverityNone when
// they earn none) and the words that say why: medium for a sweep of at
// least 64 numbered names answered from at least 24 first octets, high
// from 1,024 names.
func StagerFloor(f *Features) (Severity, string) {
	if f.NumberedNames < stagerMinNames || 2*f.NumberedNames < f.NumberedSpan || f.AnswerFirstOctets < stagerMinOctets {
		return SeverityNone, ""
	}
	sev := SeverityMedium
	if f.NumberedNames >= stagerHighNames {
		sev = SeverityHigh
	}
	return sev, fmt.Sprintf("%s numbered names (one family, %s numbers in its range) were answered with IPv4 addresses starting with %d different octets: a payload served four bytes per A record (about %s), a stager's layout",
		comma(f.NumberedNames), comma(f.NumberedSpan), f.AnswerFirstOctets, bytesText(float64(4*f.NumberedNames)))
}
