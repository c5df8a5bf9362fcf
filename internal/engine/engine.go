package engine

import (
	"bytes"
	"compress/flate"
	"hash/maphash"
	"math"
	"net/netip"
	"slices"
	"time"

	"github.com/dnsieve/dnsieve/internal/fingerprint"
	"github.com/dnsieve/dnsieve/internal/ngram"
)

// DefaultMaxMemory is the engine's default memory cap: with the compact
// tier it holds about 250,000 domains at once, and a whole dnsieve process
// stays under 256 MB with two workers (BENCHMARKS.md).
const DefaultMaxMemory = 160 << 20

// Config bounds and tunes the engine.
type Config struct {
	// MaxMemory caps the engine's estimate of its own state in bytes
	// (default DefaultMaxMemory). Beyond it the least recently seen
	// domains are evicted: compact-tier ones first (cold.go).
	MaxMemory int64
	// Window is the length of the tumbling packet-time windows in which
	// rates are measured (default 10 minutes).
	Window time.Duration
	// MaxNamesPerDomain caps the distinct-name set of one domain (default
	// 1<<20); past it, distinct names are estimated.
	MaxNamesPerDomain int
	// MaxClientsPerDomain caps the clients tracked per domain (default
	// 256); others are counted together.
	MaxClientsPerDomain int
	// Scorer, when set, decides verdicts from behaviour (the learned
	// model of package model); nil keeps the hand-set points of judge.
	Scorer Scorer
	// RenumberIDs lets the engine renumber the domains it holds when
	// domain IDs run out (2^32-1 new domains over its life, which eviction
	// churn on a busy resolver can reach), so that it goes on. IDs that
	// Observe returned before are then stale: set it only when they are
	// not kept (the continuous commands do not keep them). Without it,
	// new domains are no longer tracked once IDs run out (counted as
	// Untracked); scan keeps IDs and needs 4 billion new domains to get
	// there.
	RenumberIDs bool
	// JudgeKnownServices judges the domains of known services (known.go)
	// like any other; without it they are suspicious at most.
	JudgeKnownServices bool
}

func (c *Config) defaults() {
	if c.MaxMemory <= 0 {
		c.MaxMemory = DefaultMaxMemory
	}
	if c.Window <= 0 {
		c.Window = 10 * time.Minute
	}
	if c.MaxNamesPerDomain <= 0 {
		c.MaxNamesPerDomain = 1 << 20
	}
	if c.MaxClientsPerDomain <= 0 {
		c.MaxClientsPerDomain = 256
	}
}

// Stats describes the engine's state.
type Stats struct {
	Domains        int    `json:"domains"`
	ColdDomains    int    `json:"cold_domains"` // of Domains, those in the compact tier (see cold.go)
	MemoryBytes    int64  `json:"memory_bytes"`
	Evictions      uint64 `json:"evictions"`
	Promotions     uint64 `json:"promotions"`     // domains moved from the compact tier to the full state
	Renumbered     uint64 `json:"renumbered"`     // times domain IDs ran out and were renumbered (Config.RenumberIDs)
	Untracked      uint64 `json:"untracked"`      // new domains not tracked because domain IDs ran out
	EvictedActive  uint64 `json:"evicted_active"` // evicted domains that had 100 or more distinct names
	Messages       uint64 `json:"messages"`
	RawMessages    uint64 `json:"raw_messages"`
	CompressedRuns uint64 `json:"compressed_runs"`
}

// pendingFlush is how much unique subdomain text a domain collects before
// it is compressed into the information estimate.
const pendingFlush = 4096

// Memory estimates, measured on the Go heap (the structs, their entries in
// the engine's maps, and map overhead): a domain with one client costs
// about 1.4 KB of heap. The estimate drives eviction, so it must not be
// low; the Go runtime's memory limit, set by the commands from the cap,
// keeps garbage within bounds.
const (
	baseDomainBytes = 1024 // domain struct, its entries in domains and byID
	memClient       = 320  // a clientState and its share of the clientTable's slots
	memFile         = 8
	memSample       = 32
	memContacted    = 64
)

// numTools sizes per-tool counters: every fingerprint.Tool and room for
// more (TestEveryToolHasCounters). Snapshots record it; one made with
// fewer counters reads, its tools keeping their numbers.
const numTools = 24

// clientState is one client's share of a domain.
type clientState struct {
	queries, responses uint64
	unique             uint64 // distinct names this client was first to ask
	uniqueBytes        uint64
	// channel counts the client's messages that carried the channel: a
	// new data-like name, or an answer with new encoded-looking data.
	// Clients of the registered domain that only looked up its ordinary
	// names have none (Client.UsesChannel).
	channel     uint64
	first, last int64
	// Welford running statistics of query inter-arrival times (seconds).
	gaps    uint64
	gapMean float64
	gapM2   float64
	lastQ   int64
	// strong counts the client's messages in which a tool's protocol was
	// recognised, per tool.
	strong [numTools]uint32
}

// domain is the state of one registered domain.
type domain struct {
	id   uint32
	name string
	key  uint64 // the name's hash and slot in the engine's index (cold.go)
	slot uint32

	prev, next *domain // LRU list, most recent at the head

	queries, responses uint64
	first, last        int64
	mem                int

	names       nameSet
	unique      uint64
	uniqueBytes uint64 // raw bytes of distinct subdomains (IP-shaped ones excluded)
	ipShaped    uint64 // distinct subdomains shaped like a reversed IP address
	dataNames   uint64 // distinct subdomains that look like encoded data
	digestNames uint64 // data-like subdomains whose data is one hash-sized label
	textNames   uint64 // data-like subdomains whose only long label is hex of prose (hexTextName)
	subLenSum   uint64 // over distinct data-like subdomains: length sum and sum of squares
	subLenSq    uint64
	pending     []byte
	info        uint64 // compressed bytes of flushed unique subdomain text
	infoRaw     uint64 // raw bytes behind info

	maxLabel   int
	ngramSum   int64
	ngramN     int64
	mixedCase  uint64
	estimated  uint64 // messages whose sizes were estimated
	ednsData   uint64 // bytes of EDNS options
	offPort    uint64 // messages on a port that is not a DNS port
	offPortNum uint16 // the last such port
	flagged    uint64
	qtypes     [numQTypeClasses]uint64
	nxdomain   uint64
	otherError uint64
	answerData uint64
	sizes      uint64 // message bytes

	// Answers whose content looks like encoded data (a downstream
	// channel): responses carrying it and their data bytes; the distinct
	// records (a set of their content hashes) and the bytes of each the
	// first time it was seen, in all and on the current and busiest day.
	dataResponses       uint64
	dataAnswerBytes     uint64
	answers             nameSet
	distinctAnswers     uint64
	distinctAnswerBytes uint64

	tools [numTools][3]uint32 // per tool, per strength
	raw   uint64              // raw (non-DNS) tunnel packets attributed here
	rawB  uint64

	resolved  [MaxAnswerAddresses]netip.Addr // first distinct addresses its answers gave
	nResolved int
	// num follows its families of numbered names and their IPv4 answers
	// (counter.go); nil until its first numbered name. awaiting has the
	// awaitBit of each name num awaits a response for, so that responses
	// to other names need not look (syncNumbered).
	num      *numbered
	awaiting uint64
	// staging is num.mayStage(), kept here so that judging need not look.
	staging bool

	clients clientTable
	// allClients is a sketch of every client address seen, tracked or
	// not; untracked is set once a client's message was not tracked one
	// by one (beyond the cap), making the client count an estimate.
	// untrackedMin is how many distinct clients are certainly not tracked
	// now (a lower bound: a client tracked later may have been one).
	allClients   clientSketch
	untracked    bool
	untrackedMin uint32
	// fewAddrs and few are the first clients added to clients, for
	// lookups without hashing; table entries are only ever added, so the
	// pointers stay valid. When they are all of clients, a quiet domain
	// answers "not tracked" without the table.
	fewAddrs [quietClients]netip.Addr
	few      [quietClients]*clientState
	nFew     int
	// recentAddr and recent are the client of the domain's last tracked
	// message: a response follows its query, and a tunnel's client sends
	// most of the domain's messages, so this spares many table lookups.
	recentAddr netip.Addr
	recent     *clientState

	files []int

	zones     zoneVotes // the zone (subdomain labels) of the data-like names
	toolZones zoneVotes // and of the names zoneTool's protocol was recognised in
	zoneTool  fingerprint.Tool
	toolNames uint64 // zoneTool's distinct names with a strong match
	samples   [][]byte
	// unit is the state of the zone unitZone (labels below the registered
	// domain) judged on its own, once that zone holds its share of the
	// data-like names and the domain has other traffic (unit.go); on a
	// unit, parent is its domain.
	unit     *domain
	unitZone []byte
	parent   *domain

	// Incremental judgement (alerts): the highest severity reached so
	// far, when and after how many lookups the first tunnel verdict came,
	// and the distinct-name count at which to judge again.
	alertSev Severity
	// announced is the highest severity an alert sink accepted for the
	// domain (MarkAlerted): what a restart must not announce again.
	announced Severity
	// firstData is the time of the first data-like name (0: none yet)
	// and queriesBeforeData the queries before it: the timeline, made
	// only once a domain has candidateUnique names, places its earlier
	// queries by them (newHistory).
	firstData         int64
	queriesBeforeData uint64
	firstAlert        int64
	firstAlertLookups uint64
	nextJudge         uint64
	judgedStrong      uint32
	judgedRaw         uint64
	// nextJudgeData is the distinct data-carrying answer count at which
	// to judge again (a downstream channel may use few names).
	nextJudgeData uint64

	// hist is the timeline and length histogram, kept once the domain
	// has candidateUnique distinct names.
	hist *history

	// Windows in packet time.
	winStart              int64
	winQueries, winUnique uint64
	peakQueries, peakUniq uint64
	day                   int64
	dayRaw, peakDayRaw    uint64
	dayAnswerBytes        uint64
	peakDayAnswerBytes    uint64

	// expansions counts the distinct names credited as search-path
	// expansions of names their clients then asked (expand.go), and
	// expandedNames sketches how many distinct names those were.
	expansions    uint64
	expandedNames clientSketch
	// repeats remembers the long labels of the domain's latest new
	// names: a label that comes back (a service's account key, a fixed
	// tag) carries no data.
	repeats [repeatSlots]repeatedLabel
}

// Engine accumulates observations. It is not safe for concurrent use.
type Engine struct {
	// OnAlert, when set, is called whenever a domain's verdict first
	// reaches a severity, in packet time: the first alert and each rise.
	OnAlert func(Finding)

	cfg        Config
	domains    map[string]*domain
	byID       map[uint32]*domain
	head, tail *domain
	nextID     uint32
	mem        int64 // the estimate of everything but the cold tier
	stats      Stats

	// cold holds the domains not (yet) worth the full state.
	cold coldTable

	zw     *flate.Writer
	counts countWriter
	model  *ngram.Model

	// rawOwner maps a client to the domain of its last strong iodine
	// handshake, to attribute raw-mode packets.
	rawOwner map[netip.Addr]uint32
	key      []byte // scratch for direct-to-server keys
	// contacted holds the addresses seen in non-DNS traffic (bounded,
	// contacted.go), and others counts those packets: whether a domain's
	// answers were ever used.
	contacted contactSet
	others    uint64
	// servers counts the DNS responses each address sent (bounded, up
	// to resolverResponses), so that a finding can tell a resolver
	// relaying its clients' lookups from the hosts behind it;
	// lastServers are the latest resolvers, checked first.
	servers     map[netip.Addr]uint32
	lastServers [4]netip.Addr
	// lengths is the histogram of distinct subdomain lengths over all
	// domains: the background a finding's names are compared with.
	lengths [lengthBuckets]uint64
	// expand holds the search-path expansions awaiting their name, failed
	// the names that failed on their own (expand.go).
	expand expansions
	failed expansions
}

// directPrefix names the groups of names sent straight to a server.
const directPrefix = "direct:"

// notUnderTLD reports whether a registered domain's last label cannot be
// a top-level domain: every TLD in the root zone is letters only, or an
// IDN A-label starting "xn--" (RFC 1123 section 2.1, IANA root zone
// database), so a last label with a digit or other byte, or longer than
// 63, is data, not a TLD.
func notUnderTLD(reg []byte) bool {
	last := reg
	for i := len(reg) - 1; i >= 0; i-- {
		if reg[i] == '.' {
			last = reg[i+1:]
			break
		}
	}
	if len(last) >= 4 && string(last[:4]) == "xn--" {
		return false
	}
	for _, c := range last {
		if !('a' <= c && c <= 'z') {
			return true
		}
	}
	return false
}

// countWriter counts bytes written to it.
type countWriter struct{ n int }

func (c *countWriter) Write(p []byte) (int, error) { c.n += len(p); return len(p), nil }

// New returns an engine.
func New(cfg Config) *Engine {
	cfg.defaults()
	e := &Engine{cfg: cfg, domains: map[string]*domain{}, byID: map[uint32]*domain{}, model: ngram.Default,
		rawOwner: map[netip.Addr]uint32{}}
	e.zw, _ = flate.NewWriter(&e.counts, flate.DefaultCompression)
	e.cold.seed = maphash.MakeSeed() // for the engine's life: Hasher hands it out
	e.contacted.genBits = contactGenBits(cfg.MaxMemory)
	return e
}

// memory is the engine's whole estimate.
func (e *Engine) memory() int64 { return e.mem + e.cold.mem }

// Stats returns the engine's counters.
func (e *Engine) Stats() Stats {
	s := e.stats
	s.Domains = len(e.domains) + e.cold.n
	s.ColdDomains = e.cold.n
	s.MemoryBytes = e.memory()
	return s
}

// Observe adds one DNS message and returns the ID of its domain (0 when
// the message has no name).
func (e *Engine) Observe(o *Observation) uint32 {
	e.stats.Messages++
	if len(o.Name) == 0 {
		return 0
	}
	e.creditExpansion(o)
	if o.Response {
		e.noteServer(o.Server)
	}
	reg := o.Name[o.RegStart:]
	var direct Observation
	if notUnderTLD(reg) && o.Server.IsValid() {
		// The name is under no real top-level domain, so no resolver
		// can deliver it: it only reaches the server it was sent to
		// (dnscat2 without a domain, "dnscat.<hex>"). Group by that
		// server, and all of the name is data.
		e.key = append(e.key[:0], directPrefix...)
		e.key = o.Server.AppendTo(e.key)
		reg = e.key
		direct = *o
		direct.RegStart = len(o.Name) + 1
		direct.hashes = observationHashes{} // of the name as split, not as grouped here
		o = &direct
	}
	h := o.hashes.reg
	if !e.hashed(o) {
		h = e.cold.hash(reg)
	}
	v := e.cold.lookup(h, reg)
	var d *domain
	switch {
	case v&hotBit != 0:
		d = e.cold.hot[v&^hotBit-1]
	case v == 0 && len(reg) > math.MaxUint8:
		if d = e.newDomain(string(reg), o.Time); d == nil {
			return 0
		}
	default:
		i := int(v) - 1
		if v == 0 {
			id := e.newID()
			if id == 0 {
				return 0
			}
			i = e.cold.insert(h, reg, id, o.Time)
		}
		if c := e.cold.at(i); e.observeCold(c, o) {
			id := c.id
			if e.memory() > e.cfg.MaxMemory {
				e.evict(nil, id)
			}
			return id
		}
		d = e.promote(i)
	}
	e.touch(d)
	before, data := d.mem, d.dataNames
	d.observe(e, o)
	e.mem += int64(d.mem - before)
	e.maybeJudge(d, o.Time)
	if d.unit != nil || d.dataNames != data {
		e.maybeUnit(d, o, data)
	}
	if e.memory() > e.cfg.MaxMemory {
		e.evict(d, 0)
	}
	return d.id
}

// maxRawOwners bounds the addresses remembered from iodine handshakes.
const maxRawOwners = 1 << 16

// maxServers bounds the addresses whose DNS responses are counted: a
// fixed overhead of a few hundred KiB, outside the memory cap.
const maxServers = 1 << 12

// resolverResponses is how many DNS responses an address must send to be
// taken for a resolver: more than a host forging a few to pass for one.
const resolverResponses = 32

// noteServer counts a DNS response sent by a. The resolvers (addresses
// past resolverResponses) are kept in lastServers too, so that the
// steady state costs a comparison, not a map access.
func (e *Engine) noteServer(a netip.Addr) {
	for _, s := range e.lastServers {
		if s == a {
			return
		}
	}
	if !a.IsValid() {
		return
	}
	n, ok := e.servers[a]
	if !ok && len(e.servers) >= maxServers {
		return
	}
	if e.servers == nil {
		e.servers = map[netip.Addr]uint32{}
	}
	if n < resolverResponses {
		n++
		e.servers[a] = n
	}
	if n >= resolverResponses {
		copy(e.lastServers[1:], e.lastServers[:len(e.lastServers)-1])
		e.lastServers[0] = a
	}
}

// dataScan decides, label by label, whether a name looks like data: a
// label of 16 bytes or more, or of 8 or more that reads unlike host names
// (below -5 bits a character against the n-gram model), or labels of 4 to
// 7 bytes that read so, 16 bytes of them in all (data cut into short
// labels, <7>.<7>.<7>.<seq>).
type dataScan struct{ short int }

// label reports whether the name is data-like once a label of l bytes
// with n-gram score s over n characters is seen.
func (ds *dataScan) label(l uint8, s, n int32) bool {
	strange := s < -5*256*n
	switch {
	case l >= 16 || l >= 8 && strange:
		return true
	case l >= 4 && strange:
		ds.short += int(l)
		return ds.short >= 16
	}
	return false
}

// isServer reports whether a sent enough DNS responses to be a resolver.
func (e *Engine) isServer(a netip.Addr) bool { return e.servers[a] >= resolverResponses }

// hasLongLabel reports whether a label is at least 16 bytes long, as a
// data-like name's is.
func hasLongLabel(lens []uint8) bool {
	for _, l := range lens {
		if l >= 16 {
			return true
		}
	}
	return false
}

// Contacted records addresses seen in non-DNS traffic (both ends of UDP
// and TCP packets that are not DNS).
func (e *Engine) Contacted(addrs []netip.Addr) {
	if len(addrs) == 0 {
		return
	}
	e.others += uint64(len(addrs) / 2)
	for _, a := range addrs {
		e.mem += e.contacted.add(a)
	}
}

// ObserveRaw attributes a recognised non-DNS tunnel packet to the domain
// whose handshake the same client made, or to a domain named after the
// server address. It returns that domain's ID.
func (e *Engine) ObserveRaw(o *RawObservation) uint32 {
	e.stats.RawMessages++
	var d *domain
	if id, ok := e.rawOwner[o.Client]; ok {
		d = e.byID[id]
	}
	if d == nil {
		if id, ok := e.rawOwner[o.Server]; ok {
			d = e.byID[id]
		}
	}
	if d == nil {
		// Through the index, which knows both tiers: an observation
		// without a server address may have made a compact record of
		// the same name.
		name := "raw:" + o.Server.String()
		switch v := e.cold.lookupName(name); {
		case v&hotBit != 0:
			d = e.cold.hot[v&^hotBit-1]
		case v != 0:
			d = e.promote(int(v - 1))
		default:
			if d = e.newDomain(name, o.Time); d == nil {
				return 0
			}
		}
	}
	e.touch(d)
	before := d.mem
	d.raw++
	d.rawB += uint64(o.Size)
	if t := int(o.Match.Tool); t < numTools {
		d.tools[t][o.Match.Strength]++
	}
	d.seen(o.Time, o.File)
	c := d.client(e, o.Client, o.Time)
	if c != nil {
		c.queries++
		if o.Match.Strength == fingerprint.Strong && int(o.Match.Tool) < numTools {
			c.strong[o.Match.Tool]++
		}
	}
	e.mem += int64(d.mem - before)
	e.maybeJudge(d, o.Time)
	if e.memory() > e.cfg.MaxMemory {
		e.evict(d, 0)
	}
	return d.id
}

// newID returns the ID of a new domain: the next one, or, once they have
// run out, the next after renumbering (Config.RenumberIDs), or 0 (the
// domain is not tracked; counted).
func (e *Engine) newID() uint32 {
	if e.nextID == math.MaxUint32 {
		if !e.cfg.RenumberIDs {
			e.stats.Untracked++
			return 0
		}
		e.renumber()
	}
	e.nextID++
	return e.nextID
}

// renumber gives the domains held the IDs 1 to n (compact ones in slab
// order, then full ones from the most recently seen) and moves the
// raw-mode owners with them; owners of domains no longer held go.
func (e *Engine) renumber() {
	id := uint32(0)
	for i := 0; i < e.cold.n; i++ {
		id++
		e.cold.at(i).id = id
	}
	moved := make(map[uint32]uint32, len(e.byID))
	byID := make(map[uint32]*domain, len(e.byID))
	for d := e.head; d != nil; d = d.next {
		id++
		moved[d.id] = id
		d.id = id
		if d.unit != nil {
			d.unit.id = id
		}
		byID[id] = d
	}
	e.byID = byID
	for a, old := range e.rawOwner {
		if n, ok := moved[old]; ok {
			e.rawOwner[a] = n
		} else {
			delete(e.rawOwner, a)
		}
	}
	e.nextID = id
	e.expand.reset() // the awaited expansions name domains by their old IDs
	e.stats.Renumbered++
}

// newDomain makes a full domain, or returns nil when no ID is left.
func (e *Engine) newDomain(name string, t int64) *domain {
	id := e.newID()
	if id == 0 {
		return nil
	}
	d := &domain{id: id, name: name, first: t, last: t, winStart: t, day: t / int64(24*time.Hour)}
	d.names.limit = e.cfg.MaxNamesPerDomain
	d.answers.limit = e.cfg.MaxNamesPerDomain
	d.mem = baseDomainBytes + len(name)
	e.mem += int64(d.mem)
	e.domains[name] = d
	e.byID[d.id] = d
	e.cold.addHot(d)
	return d
}

// touch moves d to the head of the LRU list.
func (e *Engine) touch(d *domain) {
	if e.head == d {
		return
	}
	if d.prev != nil || d.next != nil || e.tail == d {
		// unlink
		if d.prev != nil {
			d.prev.next = d.next
		}
		if d.next != nil {
			d.next.prev = d.prev
		}
		if e.tail == d {
			e.tail = d.prev
		}
	}
	d.prev = nil
	d.next = e.head
	if e.head != nil {
		e.head.prev = d
	}
	e.head = d
	if e.tail == nil {
		e.tail = d
	}
}

// evict drops domains until memory fits, sparing keep and the cold
// domain with ID keepCold. Cold domains go first (by CLOCK) while they hold
// a quarter of the memory or more, or no full domain can go; then the
// least recently seen full domains.
func (e *Engine) evict(keep *domain, keepCold uint32) {
	for e.memory() > e.cfg.MaxMemory {
		if e.cold.n > 0 && (e.cold.mem*4 >= e.memory() || e.tail == nil || e.tail == keep) {
			if i := e.cold.victim(keepCold); i >= 0 {
				e.cold.remove(i)
				e.cold.prefetchVictim()
				e.stats.Evictions++
				continue
			}
		}
		if e.tail == nil || e.tail == keep {
			return
		}
		d := e.tail
		e.tail = d.prev
		if e.tail != nil {
			e.tail.next = nil
		} else {
			e.head = nil
		}
		d.prev, d.next = nil, nil
		delete(e.domains, d.name)
		delete(e.byID, d.id)
		e.cold.dropHot(d)
		e.mem -= int64(d.mem)
		e.stats.Evictions++
		if d.unique >= 100 {
			e.stats.EvictedActive++
		}
	}
}

// seen updates the time span and file list.
func (d *domain) seen(t int64, file int) {
	if t < d.first {
		d.first = t
	}
	if t > d.last {
		d.last = t
	}
	if n := len(d.files); (n == 0 || d.files[n-1] != file) && n < 4096 {
		for _, f := range d.files {
			if f == file {
				return
			}
		}
		d.files = append(d.files, file)
		d.mem += memFile
	}
}

// quietClients is how many clients a domain tracks one by one until it
// could become a finding: until it has candidateUnique distinct names,
// data-like or flagged names, raw tunnel packets or off-port DNS, or a
// verdict. Busy ordinary domains are asked by hundreds of clients, and a
// client's state costs about 300 bytes, while only a finding lists its
// clients. The messages of the others are counted together, as beyond
// MaxClientsPerDomain; once the domain is a candidate, each client is
// tracked from its next message, so decoy clients that come first cannot
// keep a tunnel's client out of its finding.
const quietClients = 4

// clientCap is how many clients d tracks one by one now.
func (d *domain) clientCap(e *Engine) int {
	if d.unique >= candidateUnique || d.dataNames > 0 || d.distinctAnswers > 1 || d.flagged > 0 || d.raw > 0 || d.offPort > 0 ||
		d.alertSev >= SeverityLow {
		return e.cfg.MaxClientsPerDomain
	}
	return min(quietClients, e.cfg.MaxClientsPerDomain)
}

// notTracked counts a message of client a, which is not tracked one by one.
func (d *domain) notTracked(a netip.Addr) {
	d.untracked = true
	if d.allClients.add(a) && d.untrackedMin < math.MaxUint32 {
		d.untrackedMin++ // a was never seen: one more client not tracked
	} else {
		d.untrackedMin = max(d.untrackedMin, 1)
	}
}

// clientCount returns the domain's number of clients and whether it is an
// estimate.
func (d *domain) clientCount() (int, bool) {
	return clientCount(d.clients.len()+int(d.untrackedMin), d.untracked, d.allClients)
}

func (d *domain) client(e *Engine, a netip.Addr, t int64) *clientState {
	if !a.IsValid() {
		return nil
	}
	a = a.WithZone("") // as the client table keys it
	if d.recent != nil && d.recentAddr == a {
		if t > d.recent.last {
			d.recent.last = t
		}
		return d.recent
	}
	var c *clientState
	if d.nFew == d.clients.len() {
		// Every tracked client is in few: no table lookup.
		for i := range d.nFew {
			if d.fewAddrs[i] == a {
				c = d.few[i]
				break
			}
		}
		if c == nil && d.nFew >= d.clientCap(e) {
			d.notTracked(a)
			return nil
		}
	} else {
		c = d.clients.get(a)
	}
	if c == nil {
		if d.clients.len() >= d.clientCap(e) {
			d.notTracked(a)
			return nil
		}
		c = &clientState{first: t, last: t}
		d.clients.put(a, c)
		if !d.allClients.add(a) && d.untrackedMin > 0 {
			d.untrackedMin-- // a may have been one of them (it was, if seen)
		}
		d.mem += memClient
		if d.nFew < quietClients && d.nFew == d.clients.len()-1 {
			d.fewAddrs[d.nFew], d.few[d.nFew] = a, c
			d.nFew++
		}
	}
	if t > c.last {
		c.last = t
	}
	d.recentAddr, d.recent = a, c
	return c
}

func (d *domain) observe(e *Engine, o *Observation) {
	d.seen(o.Time, o.File)
	d.sizes += uint64(o.Size)
	if o.Flagged {
		d.flagged++
	}
	if o.MixedCase {
		d.mixedCase++
	}
	if o.Estimated {
		d.estimated++
	}
	d.ednsData += uint64(o.EDNSData)
	if o.OffPort {
		d.offPort++
		d.offPortNum = o.ServerPort
	}
	if t := int(o.Match.Tool); t < numTools && o.Match.Tool != fingerprint.Unknown {
		d.tools[t][o.Match.Strength]++
		if o.Match.Tool == fingerprint.Iodine && o.Match.Strength == fingerprint.Strong {
			if len(e.rawOwner) >= maxRawOwners {
				clear(e.rawOwner) // bounded: the newest handshakes matter
			}
			e.rawOwner[o.Client] = d.id
			e.rawOwner[o.Server] = d.id
		}
	}
	c := d.client(e, o.Client, o.Time)
	if c != nil && o.Match.Strength == fingerprint.Strong && int(o.Match.Tool) < numTools {
		c.strong[o.Match.Tool]++
	}
	if o.Response {
		d.responses++
		d.answerData += uint64(o.AnswerData)
		if o.Answer.IsValid() {
			if d.nResolved < len(d.resolved) && !slices.Contains(d.resolved[:d.nResolved], o.Answer) {
				d.resolved[d.nResolved] = o.Answer
				d.nResolved++
			}
		}
		switch o.RCode {
		case 0:
		case 3:
			d.nxdomain++
		default:
			d.otherError++
		}
		if c != nil {
			c.responses++
		}
	} else {
		d.queries++
		d.qtypes[qtypeClass(o.QType)]++
		if c != nil {
			c.queries++
			if c.lastQ != 0 && o.Time > c.lastQ {
				gap := float64(o.Time-c.lastQ) / 1e9
				c.gaps++
				delta := gap - c.gapMean
				c.gapMean += delta / float64(c.gaps)
				c.gapM2 += delta * (gap - c.gapMean)
			}
			c.lastQ = o.Time
		}
	}
	// Only queries count for the windows: a capture may hold one
	// direction or both.
	d.window(e, o.Time, !o.Response)
	freshData := false
	if o.Response && len(o.DataRecords) > 0 {
		freshData = d.dataAnswers(o)
	}
	if freshData && c != nil {
		c.channel++
	}
	if d.hist != nil && !o.Response {
		d.hist.query(o.Time)
	}

	if o.RegStart <= 1 {
		return // no subdomain
	}
	sub := o.Name[:o.RegStart-1]
	setBytes := d.names.bytes()
	h := e.subHash(o, sub)
	if !d.names.add(h) {
		// A name seen before: a second host fetching the same staged
		// data, or a resolver relaying it, uses the channel too when the
		// name has a label as long as data-like ones.
		if c != nil && !freshData && d.dataNames > 0 && hasLongLabel(o.Labels[:subLabelCount(o.Labels, o.RegStart)]) {
			c.channel++
		}
		if o.Response && d.awaiting&awaitBit(h) != 0 {
			d.num.answer(o, h)
			d.syncNumbered()
		}
		return
	}
	d.mem += d.names.bytes() - setBytes
	if o.Match.Strength != fingerprint.None {
		d.voteTool(sub, o.Match)
	}
	d.unique++
	d.winUnique++
	d.peakUniq = max(d.peakUniq, d.winUnique)
	if c != nil {
		c.unique++
		c.uniqueBytes += uint64(len(sub))
	}
	labels := o.Labels[:subLabelCount(o.Labels, o.RegStart)]
	if ipShaped(sub, labels) {
		d.ipShaped++
		return
	}
	if len(labels) == 0 {
		return
	}
	skip, address := d.skippable(sub, labels)
	if address {
		// ip-10-0-0-1, 192-168-1-10.<server key>: an address lookup. Its
		// number still counts in the numbered families, so that a
		// stager's ip-10-0-1-N sweep is followed like any other.
		d.ipShaped++
		if !d.names.full() {
			d.numberedName(o, sub, int(labels[0]), h)
		}
		return
	}
	if d.parent == nil { // a unit's names are its domain's: noted once
		e.noteExpansion(d, o, sub, labels)
	}
	if !d.names.full() { // past it, a name fetched again would count again
		d.numberedName(o, sub, int(labels[0]), h)
	}
	d.uniqueBytes += uint64(len(sub))
	if d.parent == nil {
		e.lengths[lengthBucket(len(sub))]++
	}
	if d.hist == nil && d.unique >= candidateUnique {
		d.hist = d.newHistory()
		d.mem += historyBytes
	}
	if d.hist != nil {
		d.hist.unique(o.Time, len(sub))
	}
	d.dayRaw += uint64(len(sub))
	if d.dayRaw > d.peakDayRaw {
		d.peakDayRaw = d.dayRaw
	}
	off := 0
	data := false
	var scan dataScan
	for i, l := range labels {
		label := sub[off : off+int(l)]
		off += int(l) + 1
		if i < 64 && skip&(1<<i) != 0 {
			continue
		}
		if int(l) > d.maxLabel {
			d.maxLabel = int(l)
		}
		s, n := e.model.LabelScore(label)
		d.ngramSum += int64(s)
		d.ngramN += int64(n)
		if scan.label(l, s, n) {
			data = true
		}
	}
	if data {
		if d.dataNames == 0 {
			d.firstData, d.queriesBeforeData = o.Time, d.queries
			if !o.Response {
				d.queriesBeforeData-- // this query is the first of the data
			}
		}
		d.dataNames++
		if c != nil && !freshData { // one message counts once
			c.channel++
		}
		d.subLenSum += uint64(len(sub))
		d.subLenSq += uint64(len(sub)) * uint64(len(sub))
		if digestShaped(sub, labels, skip) {
			d.digestNames++
		}
		if hexTextName(sub, labels, skip) {
			d.textNames++
		}
		d.updateZone(sub)
		if len(d.samples) < 5 {
			d.addSample(o.Name)
		}
	}
	memBefore := cap(d.pending)
	d.pending = append(d.pending, sub...)
	d.pending = append(d.pending, '\n')
	if len(d.pending) >= pendingFlush {
		e.compress(d)
	}
	d.mem += cap(d.pending) - memBefore
}

// dataAnswers counts a response whose answers carry encoded-looking data:
// each record's content once, with its bytes on its day. It reports
// whether a record was new.
func (d *domain) dataAnswers(o *Observation) bool {
	setBytes := d.answers.bytes()
	fresh, counted := false, false
	for _, r := range o.DataRecords[:min(len(o.DataRecords), MaxDataRecords)] {
		if r.Bytes <= 0 || r.Bytes > maxMessageBytes {
			continue // not from AddDataRecord: ignored
		}
		counted = true
		d.dataAnswerBytes += uint64(r.Bytes)
		if !d.answers.add(r.Hash) {
			continue
		}
		fresh = true
		d.distinctAnswers++
		d.distinctAnswerBytes += uint64(r.Bytes)
		d.dayAnswerBytes += uint64(r.Bytes)
	}
	if counted {
		d.dataResponses++
	}
	d.peakDayAnswerBytes = max(d.peakDayAnswerBytes, d.dayAnswerBytes)
	d.mem += d.answers.bytes() - setBytes
	if !fresh {
		return false
	}
	// Until data-like names do, the names whose answers carry new data
	// mark the channel's zone, and the first are samples (leaving room for
	// data-like names): a downstream channel's names may look ordinary.
	if d.dataNames > 0 {
		return true
	}
	if o.RegStart > 1 && o.RegStart <= len(o.Name) {
		d.updateZone(o.Name[:o.RegStart-1])
	}
	if len(d.samples) < maxAnswerSamples && len(o.Name) > 0 &&
		!slices.ContainsFunc(d.samples, func(x []byte) bool { return bytes.Equal(x, o.Name) }) {
		d.addSample(o.Name)
	}
	return true
}

// maxMessageBytes bounds a DNS message (and so the data of its records).
const maxMessageBytes = 65535

// addSample keeps a copy of name as one of d's sample names.
func (d *domain) addSample(name []byte) {
	// A name can qualify twice in one message (numbered and data-like):
	// keep it once.
	for _, s := range d.samples {
		if bytes.Equal(s, name) {
			return
		}
	}
	d.samples = append(d.samples, append([]byte(nil), name...))
	d.mem += len(name) + memSample
}

// maxAnswerSamples is how many of a domain's five samples names whose
// answers carry data may take.
const maxAnswerSamples = 3

// window advances the tumbling window to t and counts a query in it.
func (d *domain) window(e *Engine, t int64, query bool) {
	w := int64(e.cfg.Window)
	if t-d.winStart >= w {
		d.winStart = t - (t-d.winStart)%w
		d.winQueries, d.winUnique = 0, 0
	}
	if day := t / int64(24*time.Hour); day != d.day {
		d.day, d.dayRaw, d.dayAnswerBytes = day, 0, 0
	}
	if query {
		d.winQueries++
	}
	if d.winQueries > d.peakQueries {
		d.peakQueries = d.winQueries
	}
}

// compress folds the pending subdomain text into the information
// estimate: its size after DEFLATE compression (Paxson et al., "Practical
// Comprehensive Bounds on Surreptitious Communication over DNS", USENIX
// Security 2013, bound the information in a set of names by its compressed
// size).
func (e *Engine) compress(d *domain) {
	if len(d.pending) == 0 {
		return
	}
	d.info += uint64(e.compressedSize(d.pending))
	d.infoRaw += uint64(len(d.pending))
	d.pending = d.pending[:0]
	if d.parent == nil { // a unit's text is its domain's too
		e.stats.CompressedRuns++
	}
}

// compressedSize returns the size of b after DEFLATE compression.
func (e *Engine) compressedSize(b []byte) int {
	e.counts.n = 0
	e.zw.Reset(&e.counts)
	e.zw.Write(b)
	e.zw.Close()
	return e.counts.n
}

// updateZone counts sub's vote for the tunnel's own zone below the
// registered domain (zone.go).
func (d *domain) updateZone(sub []byte) { d.vote(&d.zones, sub) }

// subLabelCount returns how many of the labels lie left of regStart.
func subLabelCount(labels []uint8, regStart int) int {
	off := 0
	for i, l := range labels {
		if off >= regStart {
			return i
		}
		off += int(l) + 1
	}
	return len(labels)
}

// ipShaped reports whether a subdomain begins with a reversed IPv4
// address (four decimal labels of at most 255: DNSBL queries, RFC 5782,
// and Team Cymru's origin.asn lookups) or consists of 16 or more single
// hexadecimal nibble labels (reversed IPv6 addresses, RFC 3596 and DNSBL
// over IPv6).
func ipShaped(sub []byte, labels []uint8) bool {
	if len(labels) >= 16 {
		nibbles := true
		off := 0
		for _, l := range labels[:16] {
			if l != 1 || !isHex(sub[off]) {
				nibbles = false
				break
			}
			off += 2
		}
		if nibbles {
			return true
		}
	}
	if len(labels) < 4 {
		return false
	}
	off := 0
	for _, l := range labels[:4] {
		if l == 0 || l > 3 {
			return false
		}
		v := 0
		for _, c := range sub[off : off+int(l)] {
			if c < '0' || c > '9' {
				return false
			}
			v = v*10 + int(c-'0')
		}
		if v > 255 {
			return false
		}
		off += int(l) + 1
	}
	return true
}

// dashedIPv4 reports whether a label is an IPv4 address written with
// dashes, after an optional prefix of at most four letters and digits and
// a dash: 192-168-1-10 (plex.direct, nip.io, sslip.io), ip-10-0-0-1
// (ec2.internal), ec2-54-1-2-3 (compute.amazonaws.com). Hosting names
// such labels carry no data, though their digits and dashes look unlike
// host names. The short prefix keeps what one such label can hide to
// about six bytes, as a reversed address hides four.
func dashedIPv4(label []byte) bool {
	if len(label) < 7 || len(label) > 32 {
		return false
	}
	// Four numbers from the end, each 0..255 of at most three digits.
	end := len(label)
	for part := 0; part < 4; part++ {
		start := end
		for start > 0 && label[start-1] >= '0' && label[start-1] <= '9' && end-start < 3 {
			start--
		}
		if start == end || end-start > 1 && label[start] == '0' {
			return false
		}
		v := 0
		for _, c := range label[start:end] {
			v = v*10 + int(c-'0')
		}
		if v > 255 || start > 0 && label[start-1] >= '0' && label[start-1] <= '9' {
			return false
		}
		if part == 3 {
			if start == 0 {
				return true
			}
			// A prefix: one to four letters and digits, then the dash.
			if label[start-1] != '-' || start == 1 || start > 5 {
				return false
			}
			for _, c := range label[:start-1] {
				if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
					return false
				}
			}
			return true
		}
		if start == 0 || label[start-1] != '-' {
			return false
		}
		end = start - 1
	}
	return false
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' }

// digestShaped reports whether a subdomain's only long label, besides the
// labels marked in skip (bit i for label i: labels earlier names held), is
// exactly the size of a common message digest in hex (32, 40, 56, 64
// characters: MD5, SHA-1, SHA-224 or SHA-256 cut to 28 bytes as
// OPENPGPKEY and SMIMEA names hold it (RFC 7929, RFC 8162), SHA-256) or
// base32 with a digit among its characters (26, 32, 52): the shape of
// reputation, antivirus and key lookups, which put a file, URL, address or
// mailbox hash in a label. Tunnels write as many bytes as a name holds and
// vary their lengths.
func digestShaped(sub []byte, labels []uint8, skip uint64) bool {
	long := false
	off := 0
	for i, l := range labels {
		label := sub[off : off+int(l)]
		off += int(l) + 1
		if l < 16 || i < 64 && skip&(1<<i) != 0 {
			continue
		}
		if long {
			return false
		}
		long = true
		hexDigest := (l == 32 || l == 40 || l == 56 || l == 64) && allHex(label)
		b32Digest := (l == 26 || l == 32 || l == 52) && base32Digest(label)
		// Text in either reading is no digest: the hex of text can use
		// base32's characters alone ("testestestestest").
		if !hexDigest && !b32Digest || hexDigest && hexText(label) || b32Digest && base32Text(label) {
			return false
		}
	}
	return long
}

// skippable marks the labels of a new name that carry no data: long
// labels two earlier names held (repeated) and addresses written with
// dashes (dashedIPv4). address reports that the name is nothing else
// but an address (and such labels), as a reversed IP address is.
func (d *domain) skippable(sub []byte, labels []uint8) (skip uint64, address bool) {
	off := 0
	onlyAddress, sawAddress := true, false
	for i, l := range labels {
		label := sub[off : off+int(l)]
		off += int(l) + 1
		switch {
		case i >= 64:
			onlyAddress = false
		case dashedIPv4(label):
			skip |= 1 << i
			if sawAddress {
				onlyAddress = false // one address a name; more would be data
			}
			sawAddress = true
		case l >= 16 && d.repeated(label):
			skip |= 1 << i
		default:
			onlyAddress = false
		}
	}
	return skip, onlyAddress && sawAddress
}

// oneDashedIPv4 reports whether sub is a single label, an address written
// with dashes: what skippable takes for an address in a compact record,
// whose names hold no repeated long label (a long label has its domain
// observed in full).
func oneDashedIPv4(sub []byte, labels []uint8) bool {
	return len(labels) == 1 && dashedIPv4(sub)
}

// repeatSlots is how many long labels a full domain remembers.
const repeatSlots = 4

// repeatedLabel is a long label of a domain's names, by its FNV-1a hash
// (unseeded, so that snapshots of different processes merge), and how
// many new names held it.
type repeatedLabel struct {
	hash uint64 // 0: a free slot
	seen uint32
}

// repeated notes a long label of a new name and reports whether at least
// two earlier names held it: a label that keeps coming back, not a hash
// asked under two services (a mailbox's OPENPGPKEY and SMIMEA names). A
// label not remembered takes the slot of the label seen least (the lowest
// slot among equals), so a label that keeps coming back stays while a
// tunnel's ever-new labels take turns in one slot.
func (d *domain) repeated(label []byte) bool {
	h := fnvLabel(label)
	low := 0
	for i := range d.repeats {
		r := &d.repeats[i]
		if r.hash == h {
			again := r.seen >= 2
			if r.seen < math.MaxUint32 {
				r.seen++
			}
			return again
		}
		if r.seen < d.repeats[low].seen {
			low = i
		}
	}
	d.repeats[low] = repeatedLabel{hash: h, seen: 1}
	return false
}

// fnvLabel is the 64-bit FNV-1a hash of label, never 0.
func fnvLabel(label []byte) uint64 { return hashName(label) | 1 }

func allHex(b []byte) bool {
	for _, c := range b {
		if !isHex(c) {
			return false
		}
	}
	return true
}

// A digest's bytes are uniform, and text's are not: hexText and base32Text
// report whether a label decodes to text (9 in 10 of its bytes printable
// ASCII, tab, CR or LF), which no hash does by chance (a 16-byte one with
// probability under 6 in a million), but a file of text sent in chunks of
// a hash's size does: `xxd -p -c 16 secret.txt` writes 32 hex characters a
// line, one name per line.

// hexTextName reports whether a subdomain's only label of 8 characters or
// more, besides the labels marked in skip, is at least 16 hex digits
// that decode to prose (hexProse): a file of text sent with `xxd -p -c 8`,
// 16 characters a name, or any other line length. A name with another
// long label (a random identifier beside a constant tenant or host name
// in hex) is not counted: its text need not be new with the name. The
// information of such names after compression can stay under the upstream
// floor's volume (text compresses), so TextFloor counts them instead.
func hexTextName(sub []byte, labels []uint8, skip uint64) bool {
	off, text := 0, false
	for i, l := range labels {
		label := sub[off : off+int(l)]
		off += int(l) + 1
		if l < minLongLabel || i < 64 && skip&(1<<i) != 0 {
			continue
		}
		if text || l < minTextHexLabel || l%2 != 0 || !allHex(label) || !hexProse(label) {
			return false
		}
		text = true
	}
	return text
}

// minTextHexLabel is the shortest label hexTextName reads: 8 bytes of
// text, a word or two; minLongLabel the shortest other label that makes a
// name not counted.
const (
	minTextHexLabel = 16
	minLongLabel    = 8
)

// hexProse reports whether b, an even number of hex digits, decodes to
// prose: text (hexText) at least half of whose bytes are letters or
// spaces. Numbers and packed addresses written as ASCII bytes, which
// structured identifiers can be, are not.
func hexProse(b []byte) bool {
	if !hexText(b) {
		return false
	}
	words := 0
	for i := 0; i+1 < len(b); i += 2 {
		c := hexValue(b[i])<<4 | hexValue(b[i+1])
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == ' ' {
			words++
		}
	}
	return 2*words >= len(b)/2
}

// hexText reports whether b, an even number of hex digits, decodes to
// text.
func hexText(b []byte) bool {
	text := 0
	for i := 0; i+1 < len(b); i += 2 {
		if printable(hexValue(b[i])<<4 | hexValue(b[i+1])) {
			text++
		}
	}
	return text*10 >= len(b)/2*9
}

// base32Text reports whether b, lowercase base32 without padding,
// decodes to text (its whole bytes; the bits left over are ignored).
func base32Text(b []byte) bool {
	var acc uint32
	bits, n, text := 0, 0, 0
	for _, c := range b {
		v := byte(c - 'a')
		if c <= '7' {
			v = c - '2' + 26
		}
		acc = acc<<5 | uint32(v)
		bits += 5
		if bits >= 8 {
			bits -= 8
			n++
			if printable(byte(acc >> bits)) {
				text++
			}
		}
	}
	return n > 0 && text*10 >= n*9
}

// hexValue returns the value of a lowercase hex digit.
func hexValue(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c - 'a' + 10
}

// printable reports whether c is printable ASCII, tab, CR or LF.
func printable(c byte) bool { return ' ' <= c && c <= '~' || c == '\t' || c == '\n' || c == '\r' }

// base32Digest reports whether b is lowercase base32 (RFC 4648 section
// 6) with a digit in it: a hash's 26 characters or more hold one of 2..7
// but for about one in 200 (26/32 to the 26th power), and a label of
// letters alone that long is words run together.
func base32Digest(b []byte) bool {
	digit := false
	for _, c := range b {
		switch {
		case '2' <= c && c <= '7':
			digit = true
		case 'a' <= c && c <= 'z':
		default:
			return false
		}
	}
	return digit
}
