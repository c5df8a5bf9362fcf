package engine

import (
	"golang.org/x/net/publicsuffix"
)

// Search-path expansion.
//
// A stub resolver with a search list asks a name under each search
// domain as well as on its own: resolv.conf's "search" with "ndots"
// (glibc, musl), a Windows DNS suffix search list, and every Kubernetes
// pod, whose resolv.conf has ndots:5 and three cluster zones, so that an
// outside name such as d1x2.cloudfront.net is first asked, and denied, as
// d1x2.cloudfront.net.payments.svc.cluster.local,
// d1x2.cloudfront.net.svc.cluster.local and d1x2.cloudfront.net.cluster.local
// (Kubernetes "DNS for Services and Pods"; resolv.conf(5)). The search
// domain then holds every name its clients look up, CDN hashes and
// reputation digests included, and over a busy day it looks like a
// channel carrying data.
//
// The engine tells such names apart by what follows them: a distinct name
// under a domain whose subdomain ends in a public suffix of the root zone
// (it embeds a whole name, X) is remembered for a few seconds, and when
// the same client then asks X itself, the names that embedded X are
// credited to their domain as expansions (domain.expansions). A domain
// whose distinct names are nearly all credited expansions is not judged a
// tunnel (searchExpanded): its names carry what other domains' names
// carry. Embedding a public suffix is not enough: a channel that did it
// to pass would have to ask each name on its own too, and then the
// embedded names' domain holds its data and is judged instead.

const (
	// expansionSlots is the size of the table of expansions awaiting
	// their name: a fixed overhead of 256 KiB, outside the memory cap,
	// allocated when the first expansion is seen. An expansion whose slot
	// is taken by a newer one is forgotten, which only undercounts.
	expansionSlots = 1 << 13
	// expansionWindow is how long an expansion waits for its name: a
	// resolver walks its search list in milliseconds, or in a few
	// timeouts of a second or two.
	expansionWindow = int64(5e9)
	// maxTLDLabel is the longest label checked against the root zone's
	// top-level domains ("travelersinsurance" has 18 letters, the
	// longest IDN A-label in use 24 bytes).
	maxTLDLabel = 24
	// maxTLDCache bounds the labels whose answer isTLD remembers (a few
	// hundred KiB at most, outside the memory cap): past it the cache
	// starts again.
	maxTLDCache = 4096
)

// expansionSlot is one name awaited: the hash of the embedded name X, the
// client that asked, and the domain whose distinct names embedded it.
type expansionSlot struct {
	key    uint64 // the embedded name's hash, never 0 in a used slot
	client uint64 // clientHash of the client's key
	time   int64  // when the latest expansion was asked
	domain uint32 // ID of the domain the expansions are under
	names  uint32 // its distinct names that embed the name
}

// expansions is the table of expansions awaiting their name.
type expansions struct {
	slots  []expansionSlot
	active int   // slots in use
	latest int64 // time of the latest expansion
}

// reset forgets every awaited expansion.
func (x *expansions) reset() {
	clear(x.slots)
	x.active = 0
}

// embeddedName returns the part of subdomain sub (label lengths labels)
// that is a whole name: up to its last label, after the first, that is a
// top-level domain of the root zone. ok is false when there is none.
func (e *Engine) embeddedName(sub []byte, labels []uint8) (name []byte, ok bool) {
	end, off := 0, 0
	for i, l := range labels {
		label := sub[off : off+int(l)]
		off += int(l) + 1
		if i > 0 && e.isTLD(label) {
			end = off - 1
		}
	}
	if end == 0 {
		return nil, false
	}
	return sub[:end], true
}

// isTLD reports whether label is a top-level domain in the ICANN section
// of the Public Suffix List (so "com" and "uk" are, "local", "svc" and
// "corp" are not). Only letters, or an IDN A-label ("xn--" and letters,
// digits or hyphens), can be one; the list's answers are remembered.
func (e *Engine) isTLD(label []byte) bool {
	if len(label) < 2 || len(label) > maxTLDLabel {
		return false
	}
	idn := len(label) > 4 && string(label[:4]) == "xn--"
	for _, c := range label {
		if !('a' <= c && c <= 'z' || idn && ('0' <= c && c <= '9' || c == '-')) {
			return false
		}
	}
	if v, ok := e.tlds[string(label)]; ok {
		return v
	}
	suffix, icann := publicsuffix.PublicSuffix(string(label))
	v := icann && suffix == string(label)
	if e.tlds == nil || len(e.tlds) >= maxTLDCache {
		e.tlds = make(map[string]bool)
	}
	e.tlds[string(label)] = v
	return v
}

// noteExpansion remembers a new distinct name of d, asked by o's client,
// when its subdomain embeds a whole name: the name is awaited.
func (e *Engine) noteExpansion(d *domain, o *Observation, sub []byte, labels []uint8) {
	if !o.Client.IsValid() || len(labels) < 2 {
		return
	}
	name, ok := e.embeddedName(sub, labels)
	if !ok {
		return
	}
	x := &e.expand
	if x.slots == nil {
		x.slots = make([]expansionSlot, expansionSlots)
	}
	key := e.cold.hash(name) | 1
	client := clientHash(o.Client.As16())
	s := &x.slots[key&(expansionSlots-1)]
	switch {
	case s.key == key && s.client == client && s.domain == d.id:
		s.names++
	default:
		if s.key == 0 {
			x.active++
		}
		*s = expansionSlot{key: key, client: client, domain: d.id, names: 1}
	}
	s.time = o.Time
	x.latest = max(x.latest, o.Time)
}

// creditExpansion credits the expansions awaiting o's name, asked by the
// same client within expansionWindow, to the domain they were asked
// under. Without expansions awaited it costs one comparison.
func (e *Engine) creditExpansion(o *Observation) {
	x := &e.expand
	if x.active == 0 || !o.Client.IsValid() {
		return
	}
	if o.Time-x.latest > expansionWindow {
		x.reset() // all of them expired
		return
	}
	key := e.cold.hash(o.Name) | 1
	s := &x.slots[key&(expansionSlots-1)]
	if s.key != key || s.client != clientHash(o.Client.As16()) || o.Time-s.time > expansionWindow || s.time-o.Time > expansionWindow {
		return
	}
	if d := e.byID[s.domain]; d != nil {
		d.expansions = min(d.expansions+uint64(s.names), d.unique)
	}
	*s = expansionSlot{}
	x.active--
}

// searchExpanded reports whether a domain's distinct names are nearly all
// search-path expansions of names its clients then asked on their own
// (at least four in five, of 16 or more): it is a search domain, not a
// channel.
func searchExpanded(f *Features) bool {
	return f.Unique >= 16 && f.SearchExpansions*5 >= f.Unique*4
}
