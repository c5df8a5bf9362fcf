package engine

import (
	"cmp"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"unsafe"
)

// Numbered names and the spread of IPv4 answers: a payload served four
// bytes per A record. A stager that pulls its payload through A answers
// asks for numbered names, prefix0, prefix1, ... (DNSStager's layout for
// its AAAA and TXT modes, one chunk per name), and every answer is an
// address made of payload bytes (one, or several packed into one answer).
// The names are short and ordinary and an IPv4 address is always a
// possible one, so neither the name features nor the answer-content
// measure (package analyze, rdata.go) sees it. These facts together do:
//
//   - one of the domain's families of numbered names is a sweep: its
//     names cover most numbers of its range and mostly came in order (a
//     stager's chunks in sequence, or a few threads at a time), or nearly
//     all of it in any order from a few hosts;
//   - the first answers to that family's names hold many IPv4 addresses
//     that start with many different first octets, some of them 224 to
//     255 or all of them text: payload bytes are spread over the
//     whole byte range (or are text), while the hosts of one service sit
//     in a few networks, and no host has a multicast or reserved address.
//
// Benign families of numbered names are small (ns1..ns4,
// 0..3.pool.ntp.org), sparse or asked in no order (e1234.dscb.akamaiedge.net,
// whose numbers users need at random), or answered from a few networks
// (host001..host500 of a company, pods web-0..web-99 of a cluster). A name
// fetched again adds nothing, so a popular service whose addresses rotate
// does not gather octets by being asked often.
//
// What evades it: numbers in another base or not in the leftmost label,
// names that are not numbered, numbers in steps of three or more (c0, c3,
// c6: never dense), a payload fetched in random order by many hosts or
// over a range it covers less than nine tenths, more than awaitedNames
// names asked before their answers come (the oldest go uncounted), decoy
// families sending four names for each of the stager's, and answers
// confined to a few first octets or kept below 224 and not all text
// (a payload spread over the last three bytes only, or encoded into
// unicast-looking addresses).
// AAAA stagers are left to the answer-content measure.
//
// What it may still mistake: numbered names that a resolver answers with
// multicast or reserved addresses from many networks, which no service
// publishes, or numbered hosts asked in order whose networks are 24 or
// more first octets all between 32 and 126. Hosts spread over every
// network (a monitoring sweep of node001..node600 in many clouds) are not
// mistaken: none has a multicast or reserved address, and some sit
// outside 32 to 126.
//
// Merging the families of two engines does not depend on which side is
// which, but names both sides saw count twice, up to the width of the
// united range (twenty even numbers on each side merge as 39 names); over
// three or more engines, the order of the merges can also change which
// families stay.

// counterFamily follows one family of a domain's numbered names: names
// whose leftmost label ends in a decimal number, with the same text
// around the number. It counts the distinct names of the family seen
// since it was taken, the range of their numbers, and the IPv4 answers to
// them: how many addresses and their first octets.
type counterFamily struct {
	key    uint64 // hash of the text around the number; 0: a free slot
	names  uint32 // distinct names of the family
	lo, hi uint32 // smallest and largest number
	weight uint32 // names less the names of others that found no slot (numbered.add)
	last   uint32 // number of the latest name
	near   uint32 // names numbered within nearGap of the name before them
	addrs  uint32 // A records answered to the family's names
	most   uint8  // the most A records one answer to the family held
	octets OctetSet
}

// familySlots is how many families of numbered names a domain follows at
// once.
const familySlots = 4

// numbered holds a domain's families of numbered names, counted the way
// Misra and Gries count frequent items ("Finding repeated elements",
// 1982): a family's name adds to its weight; a new family takes a free
// slot; when none is free, the name takes one from every family's weight
// and the families left with none free their slots. A family with more
// than a fifth of the domain's numbered names therefore always has a
// slot, so decoy families cannot hide a stager's unless they send four
// names for each of its names.
type numbered struct {
	fams [familySlots]counterFamily // taken slots first
	// pending holds the hashes (|1; 0 is empty) of the latest names
	// asked for the first time whose response has not come yet; next is
	// where the next one goes (modulo its length).
	pending [awaitedNames]uint64
	next    uint8
}

// awaitedNames is how many first queries of numbered names wait for their
// responses at once (a stager's threads; the oldest go first).
const awaitedNames = 16

// numberedBytes is what a domain's numbered state costs.
const numberedBytes = int(unsafe.Sizeof(numbered{})) + 16

// maxAddrsPerAnswer bounds the A records one answer counts for
// (Observation.AnswerV4 saturates there; a 4,096-byte EDNS response holds
// at most about 250).
const maxAddrsPerAnswer = math.MaxUint8

// maxCounterDigits bounds the number of a numbered label: seven decimal
// digits (ten million names, 40 MB of payload at four bytes a name).
const maxCounterDigits = 7

// maxCounter is the largest number a numbered label can hold.
const maxCounter = 9_999_999

// firstSample is the name of a family that becomes a sample name of its
// domain (sampleAt): ordinary domains have several small families (www1,
// img2), a stager's family grows at once.
const firstSample = 8

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

// add counts a new distinct name of family key with number n and returns
// the family that took it, nil when no slot did.
func (s *numbered) add(key uint64, n uint32) *counterFamily {
	for i := range s.fams {
		f := &s.fams[i]
		if f.key == 0 { // taken slots come first: key has none
			*f = counterFamily{key: key, lo: n, hi: n}
			return f.count(n)
		}
		if f.key == key {
			return f.count(n)
		}
	}
	kept := 0
	for i := range s.fams {
		if f := s.fams[i]; f.weight > 1 {
			f.weight--
			s.fams[kept] = f
			kept++
		}
	}
	clear(s.fams[kept:])
	return nil
}

// count adds a name with number n to f and returns f.
func (f *counterFamily) count(n uint32) *counterFamily {
	if f.names == math.MaxUint32 {
		return f // saturated (a hostile snapshot's count)
	}
	if f.names > 0 && max(n, f.last)-min(n, f.last) <= f.nearGap(n) {
		f.near++
	}
	f.names++
	f.weight++
	f.lo, f.hi, f.last = min(f.lo, n), max(f.hi, n), n
	return f
}

// nearGap is how far apart the numbers of two names asked one after the
// other may be for the second, numbered n, to count as near: a sixteenth
// of the family's range so far, at least 1 and at most maxNearGap. A
// stager asks for its chunks in order, or a few threads at a time; numbers
// of a service's hosts come in the order its users happen to need them,
// and in a small range any order would otherwise look near.
func (f *counterFamily) nearGap(n uint32) uint32 {
	span := max(f.hi, n) - min(f.lo, n) + 1
	return min(max(span/16, 1), maxNearGap)
}

// maxNearGap bounds nearGap: how many threads a stager may run.
const maxNearGap = 16

// find returns the family of key, nil when none is followed.
func (s *numbered) find(key uint64) *counterFamily {
	for i := range s.fams {
		if s.fams[i].key == key {
			return &s.fams[i]
		}
	}
	return nil
}

// taken returns how many slots s's families hold.
func (s *numbered) taken() int {
	n := 0
	for n < len(s.fams) && s.fams[n].key != 0 {
		n++
	}
	return n
}

// check returns what is inconsistent in s as read from a snapshot, "" when
// nothing is: there is a family, the free slots come after the taken ones
// (add, taken and describe rely on it), each family's key is one
// counterName makes, distinct from the others', its numbers lie in its
// range and within maxCounter, and its answers fit what one answer may
// count.
func (s *numbered) check() string {
	if s.fams[0].key == 0 {
		return "numbered state without a family"
	}
	for i := range s.fams {
		f := &s.fams[i]
		if f.key == 0 {
			if *f != (counterFamily{}) {
				return "a free numbered family slot holds counts"
			}
			continue
		}
		if i > 0 && s.fams[i-1].key == 0 {
			return "a numbered family after a free slot"
		}
		if f.key&1 == 0 || f.names == 0 || f.weight == 0 || f.weight > f.names || f.near >= f.names && f.names > 0 || f.last < f.lo || f.last > f.hi || f.lo > f.hi || f.hi > maxCounter || f.addrs > 0 && f.most == 0 ||
			slices.ContainsFunc(s.fams[:i], func(g counterFamily) bool { return g.key == f.key }) {
			return fmt.Sprintf("numbered family inconsistent (key %#x, %d names, %d in order, weight %d, numbers %d to %d, latest %d, %d addresses, at most %d an answer)",
				f.key, f.names, f.near, f.weight, f.lo, f.hi, f.last, f.addrs, f.most)
		}
	}
	for _, h := range s.pending {
		if h != 0 && h&1 == 0 {
			return fmt.Sprintf("awaited name hash %#x is not one the engine makes", h)
		}
	}
	return ""
}

// describe sets f's numbered-family features from the family that shows
// a stager best: the one that earns the highest StagerFloor, then the one
// with the most first octets, the most answered addresses, the most
// names. f's other features (Clients) must be set. Every family is
// weighed, so that a decoy family cannot stand in front of a stager's.
func (s *numbered) describe(f *Features) {
	var best *counterFamily
	var bestSev Severity
	for i := range s.fams {
		c := &s.fams[i]
		if c.key == 0 {
			break
		}
		c.fill(f)
		sev := stagerSeverity(f)
		if best == nil || sev > bestSev || sev == bestSev && c.better(best) {
			best, bestSev = c, sev
		}
	}
	if best != nil {
		best.fill(f)
	}
}

// better reports whether f shows more of a stager than g by the numbers
// alone: more first octets, then more addresses, then more names.
func (f *counterFamily) better(g *counterFamily) bool {
	fo, gofs := f.octets.Len(), g.octets.Len()
	switch {
	case fo != gofs:
		return fo > gofs
	case f.payload() != g.payload():
		return f.payload() > g.payload()
	}
	return f.names > g.names
}

// fill sets f's numbered-family features from family c.
func (c *counterFamily) fill(f *Features) {
	f.NumberedNames, f.NumberedSpan, f.NumberedInOrder = uint64(c.names), c.span(), uint64(c.near)
	f.NumberedAnswers, f.NumberedMostPerAnswer, f.AnswerFirstOctets = c.payload(), int(c.most), c.octets.Len()
	f.AnswerNonUnicastOctets, f.AnswerTextOctets = c.octets.NonUnicast(), c.octets.Text()
}

// payload is how many of f's answered addresses can be distinct payload:
// no more than the largest answer times the names count (parts of a
// family merged from two engines may both have counted a name).
func (f *counterFamily) payload() uint64 {
	return min(uint64(f.addrs), uint64(f.names)*uint64(f.most))
}

// sampleAt reports whether the family's name just taken should be a
// sample name of its domain: the firstSample-th and the one that brings it
// to stagerManyNames, so that a stager's finding shows its names although
// none looks like data.
func (f *counterFamily) sampleAt() bool {
	return f.names == firstSample || f.names == stagerManyNames
}

// span is how many numbers the family's range holds.
func (f *counterFamily) span() uint64 {
	if f.names == 0 {
		return 0
	}
	return uint64(f.hi-f.lo) + 1
}

// merge folds family b, of the same key (the same domain in another
// engine), into f whatever the order. Two parts of one family count their
// names together, at most the numbers of their united range (names may
// have been seen by both) and at least the larger part's; their answers
// add up.
func (f *counterFamily) merge(b *counterFamily) {
	f.lo, f.hi = min(f.lo, b.lo), max(f.hi, b.hi)
	f.names = max(f.names, b.names, uint32(min(uint64(f.names)+uint64(b.names), f.span())))
	f.weight = uint32(min(uint64(f.weight)+uint64(b.weight), uint64(f.names)))
	f.near = uint32(min(uint64(f.near)+uint64(b.near), uint64(f.names)-1))
	f.last = max(f.last, b.last)
	f.addrs = uint32(min(uint64(f.addrs)+uint64(b.addrs), math.MaxUint32))
	f.most = max(f.most, b.most)
	f.octets.union(&b.octets)
}

// merge folds b's families into s whatever the order: families of one key
// merge, and the familySlots with the largest weight stay (then the most
// names, then the smaller key), in that order.
func (s *numbered) merge(b *numbered) {
	var all [2 * familySlots]counterFamily
	n := copy(all[:], s.fams[:])
	for i := range b.fams {
		bf := &b.fams[i]
		if bf.key == 0 {
			continue
		}
		if j := slices.IndexFunc(all[:n], func(c counterFamily) bool { return c.key == bf.key }); j >= 0 {
			all[j].merge(bf)
			continue
		}
		all[n] = *bf
		n++
	}
	slices.SortFunc(all[:], func(a, b counterFamily) int {
		switch {
		case a.key == 0 && b.key == 0:
			return 0
		case a.key == 0: // taken slots first
			return 1
		case b.key == 0:
			return -1
		}
		if c := cmp.Compare(b.weight, a.weight); c != 0 {
			return c
		}
		if c := cmp.Compare(b.names, a.names); c != 0 {
			return c
		}
		return cmp.Compare(a.key, b.key)
	})
	copy(s.fams[:], all[:familySlots])
	// The names either side awaits are dropped: the other side may have
	// seen their answers, and no order of the two rings is canonical. An
	// answer still to come then counts nothing.
	s.pending, s.next = [awaitedNames]uint64{}, 0
}

// numberedName counts o's new distinct subdomain sub, whose first label
// is first bytes long and whose hash is h, in its family when it is
// numbered. A response's addresses count at once; a query's name waits
// for its response (numbered.answer). The name is kept as a sample when
// it makes its family reach firstSample or stagerManyNames names.
func (d *domain) numberedName(o *Observation, sub []byte, first int, h uint64) {
	key, n, ok := counterName(sub, first)
	if !ok {
		return
	}
	if d.num == nil {
		d.num = new(numbered)
		d.mem += numberedBytes
	}
	defer d.syncNumbered()
	f := d.num.add(key, n)
	if f == nil {
		if d.num.fams[0].key == 0 {
			d.num = nil // every family went: the state goes too
			d.mem -= numberedBytes
		}
		return
	}
	if o.Response {
		f.answer(o)
	} else {
		d.num.await(h)
	}
	if f.sampleAt() && d.dataNames == 0 && len(d.samples) < maxAnswerSamples {
		d.addSample(o.Name)
	}
}

// await notes that the name of hash h was asked for the first time: its
// first response counts (numbered.answer).
func (s *numbered) await(h uint64) {
	s.pending[s.next%uint8(len(s.pending))] = h | 1
	s.next++
}

// syncNumbered updates what d keeps of its numbered state so that the hot
// path need not read it: the awaitBits of the names awaited and whether a
// family could meet the stager floor.
func (d *domain) syncNumbered() {
	if d.num == nil {
		d.awaiting, d.staging = 0, false
		return
	}
	d.awaiting, d.staging = d.num.awaitMask(), d.num.mayStage()
}

// awaitBit is the bit of a name's hash h in a domain's mask of awaited
// names.
func awaitBit(h uint64) uint64 { return 1 << (h >> 58) }

// awaitMask returns the awaitBits of the names s awaits.
func (s *numbered) awaitMask() uint64 {
	var m uint64
	for _, p := range s.pending {
		if p != 0 {
			m |= awaitBit(p)
		}
	}
	return m
}

// answer counts response o to a name seen before, of hash h, when it is
// the first response to the name's first query: the same name fetched
// again (by another host, a retry, a load balancer's rotation) adds
// nothing, since a payload is what distinct names bring.
func (s *numbered) answer(o *Observation, h uint64) {
	if o.AnswerV4 == 0 {
		return // an error, a truncated or an empty answer: the name waits on
	}
	i := slices.Index(s.pending[:], h|1)
	if i < 0 {
		return
	}
	s.pending[i] = 0
	if key, _, ok := counterName(o.Name[:o.RegStart-1], int(o.Labels[0])); ok {
		if f := s.find(key); f != nil {
			f.answer(o)
		}
	}
}

// answer counts response o's A records for f.
func (f *counterFamily) answer(o *Observation) {
	if o.AnswerV4 == 0 {
		return
	}
	f.addrs = uint32(min(uint64(f.addrs)+uint64(o.AnswerV4), math.MaxUint32))
	f.most = max(f.most, o.AnswerV4)
	for _, b := range o.AnswerV4Firsts[:min(int(o.AnswerV4), MaxAnswerV4Firsts)] {
		f.octets.Add(b)
	}
}

// OctetSet is a set of first octets of IPv4 addresses: payload bytes
// spread over the whole byte range, the hosts of one service sit in a few
// networks.
type OctetSet [4]uint64

// Add marks first.
func (s *OctetSet) Add(first byte) { s[first>>6] |= 1 << (first & 63) }

// Len returns how many first octets are marked.
func (s *OctetSet) Len() int {
	n := 0
	for _, w := range s {
		n += bits.OnesCount64(w)
	}
	return n
}

// has reports whether first is marked.
func (s *OctetSet) has(first byte) bool { return s[first>>6]&(1<<(first&63)) != 0 }

// NonUnicast returns how many marked octets are 224 to 255: multicast
// (224/4) and reserved (240/4) addresses, which no host answers with
// (RFC 5771, RFC 1112 section 4). 0 and 127 are not counted: blocklists
// and parked names answer 0.0.0.0 and 127.0.0.1.
func (s *OctetSet) NonUnicast() int { return bits.OnesCount64(s[3] >> 32) }

// textOctets marks the bytes of text: printable ASCII (0x20 to 0x7E), tab,
// line feed, carriage return, and NUL (the first byte of a length header
// or a terminator).
var textOctets = OctetSet{0xFFFF_FFFF_0000_2601, 0x7FFF_FFFF_FFFF_FFFF, 0, 0}

// Text reports whether s holds octets and every one is a text byte
// (textOctets): the first bytes of a text payload (a script, base64,
// wrapped or not) served four bytes per address.
func (s *OctetSet) Text() bool {
	var any uint64
	for i, w := range s {
		if w&^textOctets[i] != 0 {
			return false
		}
		any |= w
	}
	return any != 0
}

// union adds b's octets to s.
func (s *OctetSet) union(b *OctetSet) {
	for i, w := range b {
		s[i] |= w
	}
}

// Numbered-sweep floor (StagerFloor). A family of at least stagerMinNames
// numbered names is a sweep when its names cover at least half of its range
// and at least half of them came in order (each within nearGap of the one
// before: a stager's chunks in sequence or a few threads at a time), or when
// they cover at least nine tenths of the range, in any order, and no more
// than stagerMaxClients hosts asked the domain (the numbered hosts of a
// popular service fill their range only when many users need them). It is a
// stager's when at least stagerMinAddrs IPv4 addresses were answered to its
// names, starting with at least stagerMinOctets different first octets, of
// which at least stagerMinNonUnicast is 224 to 255 (no host's address:
// random bytes bring one of those in eight, so 64 addresses of a payload
// miss it about once in five thousand) or all of which are text bytes
// (OctetSet.Text: a script or base64 served as addresses, wrapped or behind
// a length header; hosts spread over 24 networks or more have some outside
// them). Fewer than stagerManyNames names must have been answered with
// packed answers: at least stagerPackedMean A records a name on average, one
// answer of at least stagerPackedAnswer, and stagerFewNamesOctets first
// octets in all (several addresses an answer is a pattern load-balanced
// services share, so the spread must be a payload's). Random bytes give
// about 56 distinct first octets in 64 addresses and 100 in 128; x86 code
// XORed with a one-byte key, fewer but far above the handful of networks
// that serve one domain's hosts. Code from /usr/bin (ls, bash, tar, gzip),
// XORed with a random key, meets both octet conditions in 96% of 64-address
// runs, 99% of 128 and all from 256 (keys 0x40 to 0x5F miss most: they move
// the rare code bytes 0xA0 to 0xBF to 224..255). High from stagerHighAddrs
// addresses (4 KB).
const (
	stagerMinAddrs       = 64
	stagerMinNames       = 16
	stagerManyNames      = 64
	stagerMinOctets      = 24
	stagerMinNonUnicast  = 1
	stagerFewNamesOctets = 40
	stagerPackedAnswer   = 8
	stagerPackedMean     = 4
	stagerMaxClients     = 4
	stagerHighAddrs      = 1024
)

// StagerFloor returns the least severity a domain's numbered names and
// the spread of their IPv4 answers earn on their own (SeverityNone when
// they earn none) and the words that say why: medium for a sweep of 16
// numbered names or more answered with at least 64 addresses from at
// least 24 first octets, one of them 224 to 255 or all text bytes (40,
// four addresses a name on average and one answer of eight, when fewer
// than 64 names hold them), high from 1,024 addresses.
func StagerFloor(f *Features) (Severity, string) {
	sev := stagerSeverity(f)
	if sev == SeverityNone {
		return SeverityNone, ""
	}
	order := "most in order"
	if !stagerInOrder(f) {
		order = "in any order"
	}
	spread := fmt.Sprintf("%d of them multicast or reserved (224 to 255, no host's)", f.AnswerNonUnicastOctets)
	if f.AnswerNonUnicastOctets < stagerMinNonUnicast {
		spread = "every one a text byte (printable, tab, line break or NUL: a text payload)"
	}
	return sev, fmt.Sprintf("%s numbered names (one family, %s numbers in its range, %s) were answered with %s IPv4 addresses starting with %d different octets, %s: a payload served four bytes per A record (about %s), a stager's layout",
		comma(f.NumberedNames), comma(f.NumberedSpan), order, comma(f.NumberedAnswers), f.AnswerFirstOctets, spread, bytesText(float64(4*f.NumberedAnswers)))
}

// stagerSeverity is StagerFloor's severity without its words.
func stagerSeverity(f *Features) Severity {
	if f.NumberedAnswers < stagerMinAddrs || f.NumberedNames < stagerMinNames || f.AnswerFirstOctets < stagerMinOctets ||
		f.AnswerNonUnicastOctets < stagerMinNonUnicast && !f.AnswerTextOctets {
		return SeverityNone
	}
	if f.NumberedNames < stagerManyNames && (f.AnswerFirstOctets < stagerFewNamesOctets ||
		f.NumberedMostPerAnswer < stagerPackedAnswer || f.NumberedAnswers < stagerPackedMean*f.NumberedNames) {
		return SeverityNone
	}
	complete := 10*f.NumberedNames >= 9*f.NumberedSpan && f.Clients <= stagerMaxClients
	if !stagerInOrder(f) && !complete {
		return SeverityNone
	}
	if f.NumberedAnswers >= stagerHighAddrs {
		return SeverityHigh
	}
	return SeverityMedium
}

// stagerInOrder reports whether f's family is dense and came mostly in
// order.
func stagerInOrder(f *Features) bool {
	return 2*f.NumberedInOrder >= f.NumberedNames && 2*f.NumberedNames >= f.NumberedSpan
}

// mayStage reports whether s holds a family that could meet the stager
// floor, so that the domain is judged while the sweep runs.
func (s *numbered) mayStage() bool {
	if s == nil {
		return false
	}
	for i := range s.fams {
		f := &s.fams[i]
		if f.names >= stagerMinNames && f.payload() >= stagerMinAddrs && f.octets.Len() >= stagerMinOctets {
			return true
		}
	}
	return false
}
