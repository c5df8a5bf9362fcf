package engine

import (
	"hash/maphash"
	"math"
	"math/bits"
	"net/netip"
	"time"
	"unsafe"

	"github.com/dnsieve/dnsieve/internal/fingerprint"
)

// Two tiers of domain state.
//
// Most registered domains a resolver sees are looked up a few times, under
// one or two names, by one or two clients, and never show anything a
// verdict could use: Findings only considers domains with ten or more
// distinct subdomains or a recognised protocol. Giving each of them the
// full domain state (maps, slices, a name set: about 1.4 KB of
// pointer-rich heap) made the engine both the slowest stage and most of
// the memory. So a domain starts cold: a fixed-size, pointer-free record
// in a slab, found through an open-addressing index, holding its counters,
// up to two clients, and the hashes of up to coldSubs distinct subdomains.
// It is promoted to the full state the first time a message shows
// something a cold record cannot hold or that matters to a verdict: a
// further distinct subdomain, a data-like or flagged name, an answer
// carrying data-like content, a recognised
// protocol, an off-port message, a second capture file, or a counter near
// its width. Clients beyond the first two go into a sketch that estimates
// their number (clientSketch), as in the full state beyond its cap; their
// messages are counted only in the domain's totals. The promoted domain keeps its
// ID and every counter; what it does not get back is what a cold record
// never kept: the text of its first (at most coldSubs, word-like)
// subdomains for the information estimate, the timing of individual
// queries before promotion (gap statistics and windows are estimated from
// the first and last times), and the first resolved address.
//
// Cold records are evicted with CLOCK (a referenced bit set when a record
// is seen again, cleared by the sweeping hand), full domains from their
// LRU list; see Engine.evict for the split.

// coldSubs is how many distinct subdomains a cold record holds.
const coldSubs = 3

// coldChunk is the number of records per slab chunk: the slab grows a
// chunk at a time and never copies records.
const coldChunk = 4096

// coldClient is one client's share of a cold domain: its address held in
// the record (no pointer, nothing shared between records, so an evicted
// record frees everything it used).
type coldClient struct {
	addr               [16]byte // the address in its 16-byte form
	queries, responses uint32
}

// Client slot kinds, two bits per slot in coldDomain.clientKinds.
const (
	clientNone = iota
	clientV4
	clientV6
)

// clientKind returns the kind of slot k.
func (c *coldDomain) clientKind(k int) uint8 { return c.clientKinds >> (2 * k) & 3 }

// clientAddr returns the address in slot k (invalid for an empty slot).
func (c *coldDomain) clientAddr(k int) netip.Addr {
	switch c.clientKind(k) {
	case clientV4:
		return netip.AddrFrom16(c.clients[k].addr).Unmap()
	case clientV6:
		return netip.AddrFrom16(c.clients[k].addr)
	}
	return netip.Addr{}
}

// holds reports whether slot k holds a.
func (c *coldDomain) holds(k int, a netip.Addr) bool {
	kind := c.clientKind(k)
	return kind != clientNone && kind == clientV4 == a.Is4() && c.clients[k].addr == a.As16()
}

// setClient puts a (valid, without zone) in slot k.
func (c *coldDomain) setClient(k int, a netip.Addr) {
	kind := uint8(clientV6)
	if a.Is4() {
		kind = clientV4
	}
	c.clients[k].addr = a.As16()
	c.clientKinds = c.clientKinds&^(3<<(2*k)) | kind<<(2*k)
}

// coldDomain is a registered domain's state while nothing marks it out.
// It holds no pointers, so the garbage collector never scans the slab.
type coldDomain struct {
	key                uint64 // maphash of the name
	first, last        int64
	subs               [coldSubs]uint64 // hashName of the distinct subdomains
	moreClients        clientSketch     // the clients beyond the two held
	id                 uint32
	nameOff            uint32 // the name in Engine.coldNames
	queries, responses uint32
	sizes, answerData  uint32
	ednsData           uint32
	file               uint32
	ngramSum           int32
	ngramN             uint16
	subBytes           uint16 // bytes of the distinct subdomains that are not IP-shaped
	qtypes             [numQTypeClasses]uint16
	nxdomain           uint16
	otherError         uint16
	mixedCase          uint16
	estimated          uint16
	clients            [2]coldClient
	clientKinds        uint8 // two bits per slot: clientNone, clientV4, clientV6
	nameLen            uint8
	nSubs              uint8
	ipShaped           uint8
	maxLabel           uint8
	ref                bool // CLOCK: seen again since the hand last passed
}

// coldRecordBytes is a cold domain's memory: the record and its share of
// the index (kept at most half full); the name is added to it.
const coldRecordBytes = int(unsafe.Sizeof(coldDomain{})) + 16

// coldTable holds the cold domains, a chunked slab of records with their
// names in one arena, and the index of every domain by name: an
// open-addressing table with linear probing whose entries are a slab
// position + 1, or hotBit | a slot in hot + 1 for a domain in the full
// state (0 is empty). Observe finds any domain with one hash and probe.
type coldTable struct {
	seed  maphash.Seed
	slab  [][]coldDomain
	n     int
	index []uint64 // tag<<32 | entry: the tag (the hash's high half) spares looking at records that differ
	shift uint8    // 64 - log2(len(index)): see home
	names []byte
	dead  int // arena bytes of removed names
	hand  int // CLOCK position in the slab
	mem   int64

	hot     []*domain // full domains by slot
	hotFree []uint32  // free slots in hot
}

// hotBit marks an index entry that refers to a full domain.
const hotBit = 1 << 31

// tagged returns the index word for entry v of a domain hashed to h.
func tagged(h uint64, v uint32) uint64 { return h&^0xffffffff | uint64(v) }

func (t *coldTable) at(i int) *coldDomain { return &t.slab[i/coldChunk][i%coldChunk] }

func (t *coldTable) name(c *coldDomain) []byte {
	return t.names[c.nameOff : c.nameOff+uint32(c.nameLen)]
}

func (t *coldTable) hash(name []byte) uint64 { return maphash.Bytes(t.seed, name) }

// home returns the index slot where the probe for a hash, or for an index
// word (whose high half is its hash's), starts. It is taken from the high
// half alone (Fibonacci hashing: the product's top bits), so moving or
// deleting an entry needs only its index word, never its record: over a
// million domains reading the record is a cache miss.
func (t *coldTable) home(h uint64) uint64 { return (h >> 32) * 0x9E3779B97F4A7C15 >> t.shift }

// lookup returns the index entry of name (hashed to h), or 0.
//
// A domain is matched by its 64-bit hash and its name's length, never by
// comparing the names' bytes: those are a third dependent cache miss after
// the index slot and the record, and comparing them was 3% of a one-core
// scan (memeqbody in BENCHMARKS.md). Two names that differ match only if
// their seeded 64-bit hashes collide: about 2^-64 for each index entry a
// probe scans, about 10^-9 over ten billion messages. Picking names that
// collide needs the seed, which is random per engine and never leaves the
// process (snapshots hold names, not hashes); the hash is the one the
// runtime uses against hash flooding (AES-based on amd64 and arm64 CPUs
// with AES instructions). A collision would merge the two names' state
// into one domain, and a snapshot holding both would be refused as naming
// one domain twice.
func (t *coldTable) lookup(h uint64, name []byte) uint32 {
	if len(t.index) == 0 {
		return 0
	}
	mask := uint64(len(t.index) - 1)
	tag := h &^ 0xffffffff
	for s := t.home(h); ; s = (s + 1) & mask {
		w := t.index[s]
		if w == 0 {
			return 0
		}
		if w&^0xffffffff != tag {
			continue
		}
		v := uint32(w)
		if v&hotBit != 0 {
			if d := t.hot[v&^hotBit-1]; d.key == h && len(d.name) == len(name) {
				return v
			}
			continue
		}
		if c := t.at(int(v - 1)); c.key == h && int(c.nameLen) == len(name) {
			return v
		}
	}
}

// find returns the slab position of a cold domain named name, or -1.
func (t *coldTable) find(h uint64, name []byte) int {
	v := t.lookup(h, name)
	if v == 0 || v&hotBit != 0 {
		return -1
	}
	return int(v - 1)
}

// lookupName is lookup for a name held as a string.
func (t *coldTable) lookupName(name string) uint32 {
	b := unsafe.Slice(unsafe.StringData(name), len(name)) // only read
	return t.lookup(t.hash(b), b)
}

// findName is find for a name held as a string.
func (t *coldTable) findName(name string) int {
	v := t.lookupName(name)
	if v == 0 || v&hotBit != 0 {
		return -1
	}
	return int(v - 1)
}

// entries is the number of index entries in use.
func (t *coldTable) entries() int { return t.n + len(t.hot) - len(t.hotFree) }

// addHot indexes a full domain.
func (t *coldTable) addHot(d *domain) {
	if (t.entries()+1)*2 > len(t.index) {
		t.growIndex()
	}
	d.key = maphash.String(t.seed, d.name)
	if n := len(t.hotFree); n > 0 {
		d.slot = t.hotFree[n-1]
		t.hotFree = t.hotFree[:n-1]
		t.hot[d.slot] = d
	} else {
		d.slot = uint32(len(t.hot))
		t.hot = append(t.hot, d)
	}
	t.place(d.key, hotBit|(d.slot+1))
}

// dropHot removes a full domain from the index.
func (t *coldTable) dropHot(d *domain) {
	t.unindex(t.slotOf(d.key, hotBit|(d.slot+1)))
	t.hot[d.slot] = nil
	t.hotFree = append(t.hotFree, d.slot)
}

// insert adds a record for name (at most 255 bytes) and returns its
// position.
func (t *coldTable) insert(h uint64, name []byte, id uint32, now int64) int {
	if (t.entries()+1)*2 > len(t.index) {
		t.growIndex()
	}
	i := t.n
	if i/coldChunk == len(t.slab) {
		t.slab = append(t.slab, make([]coldDomain, coldChunk))
	}
	t.n++
	c := t.at(i)
	*c = coldDomain{key: h, id: id, first: now, last: now, nameOff: uint32(len(t.names)), nameLen: uint8(len(name))}
	t.names = append(t.names, name...)
	t.place(h, uint32(i+1))
	t.mem += int64(coldRecordBytes + len(name))
	return i
}

func (t *coldTable) place(h uint64, v uint32) {
	mask := uint64(len(t.index) - 1)
	s := t.home(h)
	for t.index[s] != 0 {
		s = (s + 1) & mask
	}
	t.index[s] = tagged(h, v)
}

func (t *coldTable) growIndex() {
	old := t.index
	t.index = make([]uint64, max(1024, 2*len(old)))
	t.shift = uint8(64 - bits.TrailingZeros(uint(len(t.index))))
	for _, w := range old {
		if w != 0 {
			t.place(w, uint32(w))
		}
	}
}

// slotOf returns the index slot that holds entry v, whose hash is h.
func (t *coldTable) slotOf(h uint64, v uint32) uint64 {
	mask := uint64(len(t.index) - 1)
	for s := t.home(h); ; s = (s + 1) & mask {
		if uint32(t.index[s]) == v {
			return s
		}
	}
}

// unindex frees index slot s by backward-shift deletion: later entries of
// the probe run move into the hole when their home slot allows it.
func (t *coldTable) unindex(s uint64) {
	mask := uint64(len(t.index) - 1)
	for j := (s + 1) & mask; t.index[j] != 0; j = (j + 1) & mask {
		home := t.home(t.index[j])
		if (j-home)&mask >= (j-s)&mask {
			t.index[s] = t.index[j]
			s = j
		}
	}
	t.index[s] = 0
}

// remove deletes the cold domain at slab position i.
func (t *coldTable) remove(i int) {
	t.unindex(t.slotOf(t.at(i).key, uint32(i+1)))
	t.removeSlab(i)
}

// removeSlab drops the record at slab position i, whose index entry is
// gone or reused: the slab's last record moves into i.
func (t *coldTable) removeSlab(i int) {
	c := t.at(i)
	t.dead += int(c.nameLen)
	t.mem -= int64(coldRecordBytes + int(c.nameLen))
	last := t.n - 1
	if i != last {
		k := t.at(last).key
		t.index[t.slotOf(k, uint32(last+1))] = tagged(k, uint32(i+1))
		*c = *t.at(last)
	}
	*t.at(last) = coldDomain{}
	t.n--
	// Keep one spare chunk; free the rest as the slab shrinks.
	for len(t.slab) > t.n/coldChunk+2 {
		t.slab[len(t.slab)-1] = nil
		t.slab = t.slab[:len(t.slab)-1]
	}
	if t.hand > t.n {
		t.hand = 0
	}
	if t.dead > 1<<20 && t.dead > len(t.names)/2 {
		t.compactNames()
	}
}

// compactNames rewrites the name arena without the removed names. The new
// arena has the old one's length as its capacity: with records inserted
// and removed at the same pace, the arena then reaches the next compaction
// without growing, one allocation a cycle instead of a chain of appends'
// regrowths (the arena's share of the garbage at the memory cap).
func (t *coldTable) compactNames() {
	names := make([]byte, 0, len(t.names))
	for i := 0; i < t.n; i++ {
		c := t.at(i)
		off := len(names)
		names = append(names, t.name(c)...)
		c.nameOff = uint32(off)
	}
	t.names, t.dead = names, 0
}

// victim returns the slab position CLOCK evicts next, sparing the record
// with ID keep, or -1 when there is none.
func (t *coldTable) victim(keep uint32) int {
	for range 2*t.n + 1 {
		if t.hand >= t.n {
			t.hand = 0
		}
		c := t.at(t.hand)
		if c.ref || c.id == keep {
			c.ref = false
			t.hand++
			continue
		}
		// The hand moves on: the record that removeSlab moves into
		// this position (the newest) is next looked at a sweep later.
		t.hand++
		return t.hand - 1
	}
	return -1
}

// observeCold applies o to the cold record c when a cold record can hold
// it, and reports whether it did. When it reports false, c is unchanged
// and the domain must be promoted before o is observed.
func (e *Engine) observeCold(c *coldDomain, o *Observation) bool {
	if o.Flagged || o.OffPort || o.Response && len(o.DataRecords) != 0 || o.Match.Tool != fingerprint.Unknown || uint32(o.File) != c.file && c.queries+c.responses > 0 ||
		o.File < 0 || uint64(o.File) > math.MaxUint32 {
		return false
	}
	const big = math.MaxUint32 / 2
	if c.queries >= big || c.responses >= big || c.sizes >= big || c.answerData >= big || c.ednsData >= big ||
		o.Size >= big || o.AnswerData >= big || o.EDNSData >= big || o.Size < 0 || o.AnswerData < 0 || o.EDNSData < 0 ||
		c.nxdomain == math.MaxUint16 || c.otherError == math.MaxUint16 || c.mixedCase == math.MaxUint16 || c.estimated == math.MaxUint16 {
		return false
	}
	qt := -1
	if !o.Response {
		qt = qtypeClass(o.QType)
		if c.qtypes[qt] == math.MaxUint16 {
			return false
		}
	}

	// The client: one of the two slots, a free one, or counted with the
	// others.
	slot := -1
	if o.Client.IsValid() && o.Client.Zone() == "" {
		for k := range c.clients {
			if c.holds(k, o.Client) {
				slot = k
				break
			}
		}
		if slot < 0 {
			for k := range c.clients {
				if c.clientKind(k) == clientNone {
					slot = k
					break
				}
			}
		}
	}

	// The subdomain: known, or a new word-like one while there is room.
	var subHash uint64
	newSub, ipS := false, false
	var ngSum, ngN int32
	maxLabel := 0
	var sub []byte
	if o.RegStart > 1 {
		sub = o.Name[:o.RegStart-1]
		subHash = e.subHash(o, sub)
		known := false
		for _, h := range c.subs[:c.nSubs] {
			if h == subHash {
				known = true
			}
		}
		if !known {
			if c.nSubs == coldSubs || int(c.subBytes)+len(sub) > math.MaxUint16 || c.ngramN >= math.MaxUint16-256 {
				return false
			}
			labels := o.Labels[:subLabelCount(o.Labels, o.RegStart)]
			ipS = ipShaped(sub, labels) || oneDashedIPv4(sub, labels)
			if !ipS {
				off := 0
				var scan dataScan
				for _, l := range labels {
					label := sub[off : off+int(l)]
					off += int(l) + 1
					if dashedIPv4(label) {
						continue // an address: no data, as in domain.skippable
					}
					s, n := e.model.LabelScore(label)
					if scan.label(l, s, n) {
						return false // data-like: observed in full
					}
					maxLabel = max(maxLabel, int(l))
					ngSum += s
					ngN += n
				}
			}
			newSub = true
		}
	}

	// Commit. A record is marked referenced when seen again, not when
	// created, so that a flood of one-lookup domains goes first.
	c.ref = c.queries+c.responses > 0
	if o.Time < c.first {
		c.first = o.Time
	}
	if o.Time > c.last {
		c.last = o.Time
	}
	c.file = uint32(o.File)
	c.sizes += uint32(o.Size)
	c.ednsData += uint32(o.EDNSData)
	if o.MixedCase {
		c.mixedCase++
	}
	if o.Estimated {
		c.estimated++
	}
	if slot >= 0 {
		c.setClient(slot, o.Client)
	} else if o.Client.IsValid() {
		c.moreClients.add(o.Client)
	}
	if o.Response {
		c.responses++
		c.answerData += uint32(o.AnswerData)
		switch o.RCode {
		case 0:
		case 3:
			c.nxdomain++
		default:
			c.otherError++
		}
		if slot >= 0 {
			c.clients[slot].responses++
		}
	} else {
		c.queries++
		c.qtypes[qt]++
		if slot >= 0 {
			c.clients[slot].queries++
		}
	}
	if newSub {
		c.subs[c.nSubs] = subHash
		c.nSubs++
		if ipS {
			c.ipShaped++
		} else {
			c.subBytes += uint16(len(sub))
			c.ngramSum += ngSum
			c.ngramN += uint16(ngN)
			c.maxLabel = max(c.maxLabel, uint8(maxLabel))
			e.lengths[lengthBucket(len(sub))]++
		}
	}
	return true
}

// coldDomainState builds the full state of a cold domain, without changing
// the engine. See the comment at the top of this file for what it cannot
// restore; windows assume the cold messages were spread evenly between
// the first and last times, so peaks are never overstated.
func (e *Engine) coldDomainState(c *coldDomain) *domain {
	d := &domain{id: c.id, name: string(e.cold.name(c)), first: c.first, last: c.last,
		queries: uint64(c.queries), responses: uint64(c.responses), sizes: uint64(c.sizes),
		answerData: uint64(c.answerData), ednsData: uint64(c.ednsData), nxdomain: uint64(c.nxdomain),
		otherError: uint64(c.otherError), mixedCase: uint64(c.mixedCase), estimated: uint64(c.estimated),
		unique: uint64(c.nSubs), ipShaped: uint64(c.ipShaped), uniqueBytes: uint64(c.subBytes),
		maxLabel: int(c.maxLabel), ngramSum: int64(c.ngramSum), ngramN: int64(c.ngramN)}
	d.names.limit = e.cfg.MaxNamesPerDomain
	d.answers.limit = e.cfg.MaxNamesPerDomain
	for _, h := range c.subs[:c.nSubs] {
		d.names.add(h)
	}
	for k, n := range c.qtypes {
		d.qtypes[k] = uint64(n)
	}
	d.allClients, d.untracked = c.moreClients, c.moreClients != 0
	// The clients beyond the two held: at least one per register set.
	d.untrackedMin = uint32(c.moreClients.used())
	if c.queries+c.responses > 0 {
		d.files = []int{int(c.file)}
	}
	for k, cc := range c.clients {
		a := c.clientAddr(k)
		if !a.IsValid() {
			continue
		}
		cs := &clientState{queries: uint64(cc.queries), responses: uint64(cc.responses), first: c.first, last: c.last}
		if cc.queries > 0 {
			cs.lastQ = c.last
		}
		if k == 0 {
			cs.unique, cs.uniqueBytes = uint64(c.nSubs), uint64(c.subBytes)
		}
		d.clients.put(a, cs)
		d.allClients.add(a)
		d.fewAddrs[d.nFew], d.few[d.nFew] = a, cs
		d.nFew++
	}
	w := int64(e.cfg.Window)
	span := c.last - c.first
	d.winStart = c.first
	if span >= w {
		d.winStart = c.last - span%w
	}
	evenShare := func(n uint64) uint64 {
		if span < w {
			return n
		}
		return uint64(float64(n) * float64(w) / float64(span))
	}
	if span < w {
		d.winQueries, d.winUnique = d.queries, d.unique
	}
	d.peakQueries, d.peakUniq = evenShare(d.queries), evenShare(d.unique)
	const dayNanos = int64(24 * time.Hour)
	d.day = c.last / dayNanos
	if c.first/dayNanos == d.day {
		d.dayRaw = d.uniqueBytes
	}
	d.peakDayRaw = d.uniqueBytes
	d.nextJudge = 0
	d.mem = memOf(d)
	return d
}

// promote moves the cold domain at slab position i to the full state and
// returns it, the most recently seen.
func (e *Engine) promote(i int) *domain {
	c := e.cold.at(i)
	d := e.coldDomainState(c)
	// The domain keeps its index slot; the entry now names a hot slot.
	s := e.cold.slotOf(c.key, uint32(i+1))
	d.key = c.key
	if n := len(e.cold.hotFree); n > 0 {
		d.slot = e.cold.hotFree[n-1]
		e.cold.hotFree = e.cold.hotFree[:n-1]
		e.cold.hot[d.slot] = d
	} else {
		d.slot = uint32(len(e.cold.hot))
		e.cold.hot = append(e.cold.hot, d)
	}
	e.cold.index[s] = tagged(c.key, hotBit|(d.slot+1))
	e.cold.removeSlab(i)
	e.mem += int64(d.mem)
	e.domains[d.name] = d
	e.byID[d.id] = d
	e.stats.Promotions++
	return d
}
