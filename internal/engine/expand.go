package engine

import "github.com/dnsieve/dnsieve/internal/regdomain"

// Search-path expansion.
//
// A stub resolver with a search list asks a name that has fewer dots than
// its "ndots" under each search domain before asking it on its own:
// resolv.conf's "search" and "ndots" (glibc, musl), and every Kubernetes
// pod, whose resolv.conf has ndots:5 and three cluster zones, so that an
// outside name such as d1x2.cloudfront.net is first asked, and denied, as
// d1x2.cloudfront.net.payments.svc.cluster.local,
// d1x2.cloudfront.net.svc.cluster.local and d1x2.cloudfront.net.cluster.local
// (Kubernetes "DNS for Services and Pods"; resolv.conf(5)); on EKS and GKE
// the node's search domains follow. The search domain then holds every
// name its clients look up, CDN hashes and reputation digests included,
// and over a busy day it looks like a channel carrying data. A name with
// ndots dots or more (any name with a dot, under glibc's default ndots:1
// or a Windows suffix list) is asked on its own first, and under the
// search domains only when that is denied: a mail server's reputation
// lookups that miss fill its company's own zone.
//
// The engine tells such names apart by what follows them. A distinct name
// of a domain whose subdomain holds a top-level domain of the root zone
// after its first label embeds a whole name X, the subdomain up to that
// label (at most maxCandidates such ends are tried, for namespaces named
// like a top-level domain: "prod", "dev"). It is remembered for a few
// seconds, and when the same client then asks X itself, the names that
// embedded X are credited to their domain as expansions
// (domain.expansions), and X to the domain's sketch of the distinct names
// it expands (domain.expandedNames). When the same client had asked X on
// its own and been denied (NXDOMAIN) within the window before, while other
// expansions were awaited, the name is credited at once (Engine.failed).
//
// A domain whose distinct names are nearly all credited expansions, of
// names that were each expanded a few times only on average (under a
// search list's few domains; the sketch estimates how many names), is
// judged suspicious at most, with the reason in its
// evidence (searchExpanded), unless its answers carry data (a downstream
// or stager floor), a tool's protocol was recognised in it or raw tunnel
// packets were. It is not cleared outright: the names asked on their own
// need not add up anywhere. A channel could embed "<data>.cloudfront.net",
// which is its own registered domain under a public suffix, and ask it on
// its own too; such a channel shows as suspicious, not as nothing.
//
// Only domains in the full state note their names: the few names a domain
// has while it is a compact record (cold.go) are never credited, a small
// undercount. Expansions sent from another address than the name (a
// forwarder's replicas) are not credited, nor those after a denial the
// capture does not hold (queries only).

const (
	// expansionSets is the number of sets of a table of names, each of
	// expansionWays slots: a fixed overhead of 256 KiB a table (two),
	// outside the memory cap, allocated when first used. The ways keep
	// the same name's expansions under several domains (a cluster's zone
	// and the node's) apart; when a set is full the oldest is forgotten,
	// which undercounts.
	expansionSets = 1 << 11
	expansionWays = 4
	// expansionWindow is how long an expansion waits for its name: a
	// resolver walks its search list in milliseconds, and glibc and musl
	// wait 5 s before they try a lost query again (resolv.conf(5),
	// "timeout"), so two lost packets still fit.
	expansionWindow = int64(12e9)
	// maxSearchDomains is the most expansions one name asked on its own
	// credits to one domain: Kubernetes pods have three search domains
	// and the node's few.
	maxSearchDomains = 8
	// maxExpansionsPerName is the most expansions each distinct name
	// asked on its own may have on average, by the sketch's estimate, for
	// the domain to count as a search domain; twice maxSearchDomains,
	// since the estimate may be half the truth. It only has to tell a
	// search list from one name asked over and over.
	maxExpansionsPerName = 2 * maxSearchDomains
	// saturatedNames is where the sketch's estimate is taken as
	// unbounded: a one-word HyperLogLog falls short of the truth from a
	// few hundred thousand names on, and cannot count past 352,846.
	saturatedNames = 100_000
	// rcodeNXDomain is the response code of a name that does not exist
	// (RFC 1035 section 4.1.1).
	rcodeNXDomain = 3
	// maxCandidates is the most ends of an embedded name tried in one
	// name, from the right.
	maxCandidates = 3
	// maxTLDLabel is the longest label checked against the root zone's
	// top-level domains ("travelersinsurance" has 18 letters, the
	// longest IDN A-label in use 24 bytes).
	maxTLDLabel = 24
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

// expansions is a table of names: the expansions awaiting their name
// (Engine.expand), or the names that failed on their own (Engine.failed,
// whose slots have domain 0 and count in names the expansions credited).
type expansions struct {
	slots []expansionSlot // expansionSets sets of expansionWays
	// tags holds each slot's key's low 16 bits (never 0: keys are odd), 0
	// for an empty slot. At 16 KiB it stays in cache, where the slots'
	// 256 KiB do not: a name that matches no tag, nearly every name, is
	// turned away without reading its set's slots (a cache miss that cost
	// about 3% of a one-core scan).
	tags      []uint16
	active    int   // slots in use
	latest    int64 // time of the latest slot written
	lastQuery int64 // time of the latest query looked up (expand only)
}

// reset forgets every name.
func (x *expansions) reset() {
	clear(x.slots)
	clear(x.tags)
	x.active = 0
}

// tag is the 16 bits of key kept in tags: never 0, since keys are odd.
func tag(key uint64) uint16 { return uint16(key) }

// base returns the index of the first slot of the set key belongs to.
func base(key uint64) int { return (int(key>>32) & (expansionSets - 1)) * expansionWays }

// tagged reports whether a slot of key's set may hold key: some slot's tag
// is key's.
func (x *expansions) tagged(key uint64) bool {
	if x.tags == nil {
		return false
	}
	t, tags := tag(key), x.tags[base(key):][:expansionWays]
	return tags[0] == t || tags[1] == t || tags[2] == t || tags[3] == t
}

// clearSlot empties slot i of the table.
func (x *expansions) clearSlot(i int) {
	x.slots[i] = expansionSlot{}
	x.tags[i] = 0
	x.active--
}

// find returns the slot of name key asked by client under domain, when
// it was written within expansionWindow of now, or nil.
func (x *expansions) find(key, client uint64, domain uint32, now int64) *expansionSlot {
	if x.active == 0 || !x.tagged(key) {
		return nil
	}
	set := x.set(key)
	for i := range set {
		if s := &set[i]; s.key == key && s.client == client && s.domain == domain && !outside(s.time, now) {
			return s
		}
	}
	return nil
}

// slot returns the slot of name key asked by client under domain, its
// time brought up to now; a new one takes an empty or expired slot, else
// the oldest of the set.
func (x *expansions) slot(key, client uint64, domain uint32, now int64) *expansionSlot {
	if x.slots == nil {
		x.slots = make([]expansionSlot, expansionSets*expansionWays)
		x.tags = make([]uint16, expansionSets*expansionWays)
	}
	x.latest = max(x.latest, now)
	set := x.set(key)
	victim := 0
	for i := range set {
		s := &set[i]
		expired := s.key != 0 && outside(s.time, now)
		if s.key == key && s.client == client && s.domain == domain && !expired {
			s.time = max(s.time, now)
			return s
		}
		if v := &set[victim]; v.key != 0 && !outside(v.time, now) && (s.key == 0 || expired || s.time < v.time) {
			victim = i
		}
	}
	s := &set[victim]
	if s.key == 0 {
		x.active++
	}
	*s = expansionSlot{key: key, client: client, time: now, domain: domain}
	x.tags[base(key)+victim] = tag(key)
	return s
}

// set returns the slots of the set a name hashed to key belongs to.
func (x *expansions) set(key uint64) []expansionSlot {
	return x.slots[base(key):][:expansionWays]
}

// embeddedNames calls f with each whole name that subdomain sub (label
// lengths labels) embeds: the subdomain up to a label, after its first,
// that is a top-level domain of the root zone, from the right, at most
// maxCandidates of them.
func (e *Engine) embeddedNames(sub []byte, labels []uint8, f func(name []byte)) {
	var ends [maxCandidates]int
	n, off := 0, 0
	for i, l := range labels {
		label := sub[off : off+int(l)]
		off += int(l) + 1
		if i > 0 && isTLD(label) {
			if n == maxCandidates {
				copy(ends[:], ends[1:])
				n--
			}
			ends[n] = off - 1
			n++
		}
	}
	for i := n - 1; i >= 0; i-- {
		f(sub[:ends[i]])
	}
}

// isTLD reports whether label is a top-level domain in the ICANN section
// of the Public Suffix List (so "com", "uk" and "np", whose rule is
// "*.np", are; "local", "svc" and "corp" are not), from tables generated
// out of the list: a fixed cost and no memory, whatever labels a hostile
// client makes up.
func isTLD(label []byte) bool {
	return len(label) >= 2 && len(label) <= maxTLDLabel && regdomain.IsTLD(label)
}

// noteExpansion remembers a new distinct name of d, asked by o's client,
// for each whole name its subdomain embeds: those names are awaited.
func (e *Engine) noteExpansion(d *domain, o *Observation, sub []byte, labels []uint8) {
	if !o.Client.IsValid() || len(labels) < 2 {
		return
	}
	client := clientHash(o.Client.As16())
	e.embeddedNames(sub, labels, func(name []byte) {
		key := e.expansionKey(name)
		// Asked on its own before, and failed: credited at once.
		if f := e.failed.find(key, client, 0, o.Time); f != nil && f.names < maxSearchDomains {
			f.names++
			d.credit(1, fmix64(hashName(name)))
			return
		}
		s := e.expand.slot(key, client, d.id, o.Time)
		s.names = min(s.names+1, maxSearchDomains)
	})
}

// noteFailed remembers a name that o, a response, denies (NXDOMAIN): a
// resolver with a search list asks a name with enough dots on its own
// first, and under the search domains only when that fails (ndots:1, a
// Windows suffix list, a pod's names of five dots or more). Denials are
// only remembered while expansions are awaited (creditExpansion), so that
// traffic without a search list pays nothing for them; the first
// expansion after a quiet spell is not credited.
func (e *Engine) noteFailed(o *Observation) {
	if !o.Client.IsValid() {
		return
	}
	e.failed.slot(e.nameKey(o), clientHash(o.Client.As16()), 0, o.Time)
}

// credit counts n of d's distinct names as expansions of the name asked on
// its own whose mixed hash is named.
func (d *domain) credit(n, named uint64) {
	d.expansions = min(d.expansions+n, d.unique)
	d.expandedNames.addHash(named)
}

// outside reports whether times a and b are more than expansionWindow
// apart, in either order (captures merged out of order, clock steps).
func outside(a, b int64) bool { return a-b > expansionWindow || b-a > expansionWindow }

// creditExpansion credits the expansions awaiting o's name, asked by the
// same client within expansionWindow, to the domains they were asked
// under, and remembers o's name when o denies it. While no expansion is
// awaited it costs one comparison; after expansionWindow without one, the
// table is emptied.
func (e *Engine) creditExpansion(o *Observation) {
	x := &e.expand
	if x.active == 0 || !o.Client.IsValid() {
		return
	}
	if o.Response && o.RCode == rcodeNXDomain {
		e.noteFailed(o)
	}
	if o.Time-x.latest > expansionWindow {
		x.reset() // all of them expired
		return
	}
	// A name is credited by its query; by its response only when the
	// capture holds no queries (one direction, a dnstap of responses).
	if !o.Response {
		x.lastQuery = o.Time
	} else if !outside(x.lastQuery, o.Time) {
		return
	}
	key := e.nameKey(o)
	if !x.tagged(key) {
		return
	}
	set := x.set(key)
	var client uint64 // hashed once a slot's name matches: most names match none
	var named uint64  // o's name mixed for the sketches (fixed in every process)
	for i := range set {
		s := &set[i]
		if s.key != key {
			continue
		}
		if client == 0 {
			client = clientHash(o.Client.As16())
		}
		if s.client != client || outside(s.time, o.Time) {
			continue
		}
		if d := e.byID[s.domain]; d != nil {
			if named == 0 {
				named = fmix64(hashName(o.Name))
			}
			d.credit(uint64(s.names), named)
		}
		x.clearSlot(base(key) + i)
	}
}

// searchExpanded reports whether a domain is a search domain: at least
// four in five of its distinct names (of 16 or more) are search-path
// expansions of names its clients then asked on their own, at most
// maxExpansionsPerName expansions on average to each distinct name asked
// (by the sketch's estimate). Engine.decide then judges it suspicious at
// most, unless its answers carry data, a tool's protocol was recognised
// or raw tunnel packets were.
func searchExpanded(f *Features) bool {
	return f.Unique >= 16 && f.SearchExpansions*5 >= f.Unique*4 &&
		(f.SearchExpandedNames >= saturatedNames || f.SearchExpansions <= maxExpansionsPerName*f.SearchExpandedNames)
}
