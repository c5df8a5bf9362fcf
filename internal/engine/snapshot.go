package engine

// Checkpoint and restore of the engine's state, and per-domain export and
// import for moving state between engines.
//
// Format (version 14). A stream starts with a magic string and a version:
//
//	"DNSIEVE-ENGINE" uvarint(version)    whole-engine snapshot
//	"DNSIEVE-DOMAIN" uvarint(version)    one domain (ExportDomain)
//
// followed by records, each framed as
//
//	tag byte | uvarint(len) | payload[len] | CRC-32C(tag, len, payload) little-endian
//
// Integers in payloads are varints (encoding/binary; signed ones zig-zag),
// floats IEEE 754 bits in 8 little-endian bytes, name hashes 8 little-endian
// bytes in increasing order, byte strings and address lists length-prefixed,
// addresses netip.Addr's binary form. Fixed-size counter arrays are written
// sparsely: the number of non-zero entries, then (index gap, value) pairs.
// Times inside a domain record are zig-zag deltas from the domain's first
// time (wrapping arithmetic, so every int64 round-trips).
//
// A snapshot holds, in this order: one 'H' record (the engine layout: array
// sizes the format depends on; the writer's Config, for information only;
// nextID, Stats, the engine-wide counters, the contacted set's mode and the
// numbers of records that follow), 'C' records (contacted addresses, sorted,
// at most 65536 each) or, once that set has become a filter (contacted.go),
// two 'B' records (its generations' 64-bit words, sparse), 'S'
// records (the addresses taken for resolvers, likewise), 'O'
// records (rawOwner pairs sorted by address), one 'D' record per domain from
// the most to the least recently seen, 'K' records (cold domains, see
// cold.go, in slab order, at most 4096 each) and an 'E' record with the
// number of domains. A domain export holds an 'X' record (layout and the addresses
// whose raw-mode packets belong to the domain), one 'D' record and the 'E'
// record. A domain's record ends with a flag saying whether it has a unit
// (unit.go) and, if so, the unit's zone and the unit's own domain record,
// nested (a unit's flag is always false). Maps are
// written in key order and domains in LRU order, so equal states give
// equal bytes. Version 14 changed only the layout: 24 tool counters, 16
// before; a snapshot with 16 reads (readLayout).

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"iter"
	"maps"
	"math"
	"math/bits"
	"net/netip"
	"os"
	"path/filepath"
	"slices"

	"github.com/dnsieve/dnsieve/internal/fingerprint"
)

const (
	snapshotMagic = "DNSIEVE-ENGINE"
	domainMagic   = "DNSIEVE-DOMAIN"
	// SnapshotVersion is the version of the snapshot format that
	// WriteSnapshot and ExportDomain write.
	SnapshotVersion = 15
	// OldestSnapshotVersion is the oldest version the readers accept:
	// version 14 differs only in its domains holding no count of names of
	// hex that decodes to text (read as none: TextFloor counts the names
	// from then on), version 13 also in its counters for 16 tools, not 24,
	// version 12 also in its domains holding no unit (unit.go;
	// read as none: a zone decided earlier gets one at its next data-like
	// name), version 11 also in its domains keeping the longest common
	// zone of their data-like names instead of votes for it (zone.go; read
	// as every one of those names voting for it), version 10 also in its domains holding no repeated long
	// labels (read as none: a label is taken for data until it comes
	// back twice more) and in counting queries for obsolete and unassigned
	// types with the other types (read as types in use), version 9 also in its domains holding no count of
	// search-path expansions nor a sketch of the names expanded
	// (expand.go; read as none), version 8 also in its domains holding one
	// numbered family without its answered addresses (counter.go; read as
	// one address a name, the verdict version 8 gave), version 7 also in
	// its domains having no numbered family and answer octets (read as
	// none), version 6 also in holding at most 2^20 contacted addresses
	// and no contact filter, so a state saved by an earlier release reads
	// back.
	OldestSnapshotVersion = 6
)

// Record tags.
const (
	recHeader       = 'H'
	recContacted    = 'C'
	recServers      = 'S'
	recOwners       = 'O'
	recDomain       = 'D'
	recEnd          = 'E'
	recDomainHeader = 'X'
	recCold         = 'K'
	recContactBits  = 'B'
)

// Bounds a snapshot must respect; they are generous for real state and
// keep a hostile file from asking for more memory than its own size.
const (
	maxRecordBytes = 256 << 20
	maxNameBytes   = 1024    // registered domain keys and sample names
	maxZoneBytes   = 1024    // a domain's zone
	maxOwners      = 1 << 22 // rawOwner entries
	chunkAddrs     = 1 << 16 // addresses per 'C' or 'O' record
	chunkCold      = 4096    // cold domains per 'K' record
	maxFiles       = 4096    // as domain.seen
	maxSamples     = 5       // as domain.observe
	maxPendingCap  = 4 * pendingFlush
	maxTime        = 1 << 62 // packet times lie in [0, maxTime] nanoseconds (1970 to 2116)
	maxCount       = 1 << 56 // queries, responses, raw packets: their sums cannot overflow
	maxBytes       = 1 << 60 // byte counts: their sums cannot overflow
)

// Errors a reader returns, wrapped with details; test them with errors.Is.
var (
	// ErrSnapshotMagic: the input is not a dnsieve engine snapshot (or
	// not the kind the reader wants: a domain export given to
	// ReadSnapshot, or the reverse).
	ErrSnapshotMagic = errors.New("not a dnsieve engine snapshot")
	// ErrSnapshotVersion: the snapshot has a version this build cannot read.
	ErrSnapshotVersion = errors.New("unsupported snapshot version")
	// ErrSnapshotTruncated: the input ended before the snapshot did.
	ErrSnapshotTruncated = errors.New("snapshot truncated")
	// ErrSnapshotCorrupt: a checksum, bound or consistency check failed.
	ErrSnapshotCorrupt = errors.New("snapshot corrupt")
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ---------------------------------------------------------------------
// Writing.

// enc appends the payload encoding to b.
type enc struct{ b []byte }

func (w *enc) u(x uint64)  { w.b = binary.AppendUvarint(w.b, x) }
func (w *enc) i(x int64)   { w.b = binary.AppendVarint(w.b, x) }
func (w *enc) f(x float64) { w.b = binary.LittleEndian.AppendUint64(w.b, math.Float64bits(x)) }
func (w *enc) bool(x bool) {
	if x {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
}
func (w *enc) bytes(p []byte) { w.u(uint64(len(p))); w.b = append(w.b, p...) }
func (w *enc) str(s string)   { w.u(uint64(len(s))); w.b = append(w.b, s...) }

// time writes t relative to base.
func (w *enc) time(t, base int64) { w.i(int64(uint64(t) - uint64(base))) }

func (w *enc) addr(a netip.Addr) {
	n := 0
	switch {
	case !a.IsValid():
	case a.Is4():
		n = 4
	default:
		n = 16 + len(a.Zone())
	}
	w.u(uint64(n))
	w.b, _ = a.AppendBinary(w.b) // cannot fail
}

// sparse writes a counter array sparsely: the number of non-zero entries,
// then (index gap, value) pairs.
func sparse[T uint32 | uint64](w *enc, a []T) {
	n := 0
	for _, v := range a {
		if v != 0 {
			n++
		}
	}
	w.u(uint64(n))
	next := 0
	for i, v := range a {
		if v != 0 {
			w.u(uint64(i - next))
			w.u(uint64(v))
			next = i + 1
		}
	}
}

// snapWriter frames records onto a buffered writer; its slices are reused
// from record to record.
type snapWriter struct {
	w       *bufio.Writer
	version uint64 // the format version being written (start)
	p       enc
	hdr     []byte
	hashes  []uint64
	addrs   []netip.Addr
}

func (s *snapWriter) start(magic string, version uint64) {
	s.version = version
	s.w.WriteString(magic)
	s.hdr = binary.AppendUvarint(s.hdr[:0], version)
	s.w.Write(s.hdr)
}

// record writes the payload in s.p as a record with tag.
func (s *snapWriter) record(tag byte) error {
	if len(s.p.b) > maxRecordBytes {
		return fmt.Errorf("engine snapshot: record %q of %d bytes exceeds the format's %d", tag, len(s.p.b), maxRecordBytes)
	}
	s.hdr = append(s.hdr[:0], tag)
	s.hdr = binary.AppendUvarint(s.hdr, uint64(len(s.p.b)))
	crc := crc32.Update(crc32.Update(0, castagnoli, s.hdr), castagnoli, s.p.b)
	s.hdr = binary.LittleEndian.AppendUint32(s.hdr, crc)
	s.w.Write(s.hdr[:len(s.hdr)-4])
	s.w.Write(s.p.b)
	_, err := s.w.Write(s.hdr[len(s.hdr)-4:])
	s.p.b = s.p.b[:0]
	return err
}

// layout writes the array sizes the encoding depends on, as format
// version wrote them (16 tool counters before 14: no tool beyond them
// has counts then but zeros, which sparse arrays leave out).
func layout(w *enc, version uint64) {
	tools := numTools
	if version < 14 {
		tools = 16
	}
	for _, n := range [...]int{tools, numQTypeClasses, timelineBuckets, lengthBuckets, pendingFlush} {
		w.u(uint64(n))
	}
}

// WriteSnapshot writes the engine's whole state to w: every domain in LRU
// order with everything its verdict depends on, the engine-wide counters,
// the length histogram, the contacted addresses, the addresses seen
// answering DNS, the raw-mode owners, the
// next domain ID and the Stats. It does not change the engine (pending
// text is written as it is, not compressed), and equal states give equal
// bytes. The format is described at the top of snapshot.go.
func (e *Engine) WriteSnapshot(w io.Writer) error { return e.writeSnapshot(w, SnapshotVersion) }

// writeSnapshot writes a snapshot in format version (the previous version,
// 6, only for the tests of reading it, and only with an exact contacted
// set).
func (e *Engine) writeSnapshot(w io.Writer, version uint64) error {
	if version < 7 && e.contacted.filtered() {
		return fmt.Errorf("engine snapshot: version %d cannot hold a contact filter", version)
	}
	s := &snapWriter{w: bufio.NewWriterSize(w, 64<<10)}
	s.start(snapshotMagic, version)

	p := &s.p
	layout(p, version)
	p.u(uint64(e.cfg.MaxMemory))
	p.u(uint64(e.cfg.Window))
	p.u(uint64(e.cfg.MaxNamesPerDomain))
	p.u(uint64(e.cfg.MaxClientsPerDomain))
	p.u(uint64(e.nextID))
	st := e.stats
	for _, v := range [...]uint64{st.Evictions, st.EvictedActive, st.Messages, st.RawMessages, st.CompressedRuns, st.Promotions,
		st.Renumbered, st.Untracked, e.others} {
		p.u(v)
	}
	sparse(p, e.lengths[:])
	p.u(uint64(e.contacted.count()))
	filtered := e.contacted.filtered()
	if version >= 7 {
		p.bool(filtered)
		if filtered {
			p.u(uint64(e.contacted.bitsPerGen()))
		} else {
			p.u(0)
		}
		p.u(uint64(e.contacted.cur))
		p.u(uint64(e.contacted.fill))
	}
	p.u(uint64(countSeq(e.resolvers())))
	p.u(uint64(len(e.rawOwner)))
	p.u(uint64(len(e.domains)))
	p.u(uint64(e.cold.n))
	p.u(uint64(e.cold.hand))
	if err := s.record(recHeader); err != nil {
		return err
	}

	if err := s.addrRecords(e.contacted.addresses(), recContacted, nil); err != nil {
		return err
	}
	if filtered {
		for _, g := range e.contacted.gens {
			sparse(p, g)
			if err := s.record(recContactBits); err != nil {
				return err
			}
		}
	}
	if err := s.addrRecords(e.resolvers(), recServers, nil); err != nil {
		return err
	}
	if err := s.addrRecords(maps.Keys(e.rawOwner), recOwners, func(a netip.Addr) { p.u(uint64(e.rawOwner[a])) }); err != nil {
		return err
	}

	n := 0
	for d := e.head; d != nil; d = d.next {
		s.domain(d)
		if err := s.record(recDomain); err != nil {
			return err
		}
		n++
	}
	for i := 0; i < e.cold.n; i++ {
		if i > 0 && i%chunkCold == 0 {
			if err := s.record(recCold); err != nil {
				return err
			}
		}
		if i%chunkCold == 0 {
			p.u(uint64(min(chunkCold, e.cold.n-i)))
		}
		e.coldRecord(p, e.cold.at(i))
	}
	if e.cold.n > 0 {
		if err := s.record(recCold); err != nil {
			return err
		}
	}
	p.u(uint64(n))
	if err := s.record(recEnd); err != nil {
		return err
	}
	return s.w.Flush()
}

// domain encodes d into s.p.
// addrRecords writes addresses in sorted order (for determinism), in
// records of at most chunkAddrs entries under tag; more, when not nil,
// writes what follows each address.
func (s *snapWriter) addrRecords(keys iter.Seq[netip.Addr], tag byte, more func(netip.Addr)) error {
	s.addrs = slices.AppendSeq(s.addrs[:0], keys)
	slices.SortFunc(s.addrs, netip.Addr.Compare)
	p := &s.p
	for len(s.addrs) > 0 {
		n := min(len(s.addrs), chunkAddrs)
		p.u(uint64(n))
		for _, a := range s.addrs[:n] {
			p.addr(a)
			if more != nil {
				more(a)
			}
		}
		s.addrs = s.addrs[n:]
		if err := s.record(tag); err != nil {
			return err
		}
	}
	return nil
}

// hashSet writes the hashes of set in increasing order, after their count.
func (s *snapWriter) hashSet(set *nameSet) {
	s.hashes = s.hashes[:0]
	for _, h := range set.slots {
		if h != 0 {
			s.hashes = append(s.hashes, h)
		}
	}
	slices.Sort(s.hashes)
	s.p.u(uint64(len(s.hashes)))
	for _, h := range s.hashes {
		s.p.b = binary.LittleEndian.AppendUint64(s.p.b, h)
	}
}

func (s *snapWriter) domain(d *domain) {
	p := &s.p
	base := d.first
	p.u(uint64(d.id))
	p.str(d.name)
	p.i(d.first)
	p.time(d.last, base)
	for _, v := range [...]uint64{d.queries, d.responses, d.unique, d.uniqueBytes, d.ipShaped, d.dataNames,
		d.digestNames, d.subLenSum, d.subLenSq, d.info, d.infoRaw} {
		p.u(v)
	}
	if s.version >= 15 {
		p.u(d.textNames)
	}
	p.u(uint64(cap(d.pending)))
	p.bytes(d.pending)

	s.hashSet(&d.names)

	p.u(uint64(d.maxLabel))
	p.i(d.ngramSum)
	p.i(d.ngramN)
	p.u(d.mixedCase)
	p.u(d.estimated)
	p.u(d.ednsData)
	p.u(d.offPort)
	p.u(uint64(d.offPortNum))
	p.u(d.flagged)
	sparse(p, d.qtypes[:])
	for _, v := range [...]uint64{d.nxdomain, d.otherError, d.answerData, d.sizes, d.raw, d.rawB} {
		p.u(v)
	}
	for _, v := range [...]uint64{d.dataResponses, d.dataAnswerBytes, d.distinctAnswers, d.distinctAnswerBytes} {
		p.u(v)
	}
	s.hashSet(&d.answers)
	var tools [numTools * 3]uint32
	for t := range d.tools {
		copy(tools[3*t:], d.tools[t][:])
	}
	sparse(p, tools[:])
	p.u(uint64(d.nResolved))
	for _, a := range d.resolved[:d.nResolved] {
		p.addr(a)
	}

	s.addrs = s.addrs[:0]
	for a := range d.clients.all() {
		s.addrs = append(s.addrs, a)
	}
	slices.SortFunc(s.addrs, netip.Addr.Compare)
	p.u(uint64(len(s.addrs)))
	for _, a := range s.addrs {
		c := d.clients.get(a)
		p.addr(a)
		p.u(c.queries)
		p.u(c.responses)
		p.u(c.unique)
		p.u(c.uniqueBytes)
		p.u(c.channel)
		p.time(c.first, base)
		p.time(c.last, base)
		p.time(c.lastQ, base)
		p.u(c.gaps)
		if c.gaps > 0 {
			p.f(c.gapMean)
			p.f(c.gapM2)
		}
		sparse(p, c.strong[:])
	}
	p.u(uint64(d.allClients))
	p.bool(d.untracked)
	p.u(uint64(d.untrackedMin))

	p.u(uint64(len(d.files)))
	for _, f := range d.files {
		p.u(uint64(f))
	}
	if s.version >= 12 {
		p.writeZoneVotes(&d.zones)
		p.writeZoneVotes(&d.toolZones)
		p.u(uint64(d.zoneTool))
		p.u(d.toolNames)
	} else {
		// Versions 11 and older kept the zone itself.
		p.bool(d.zones.names > 0)
		p.bytes(d.zones.zone())
	}
	p.u(uint64(len(d.samples)))
	for _, x := range d.samples {
		p.bytes(x)
	}

	p.u(uint64(d.alertSev))
	p.u(uint64(d.announced))
	p.time(d.firstAlert, base)
	p.u(d.firstAlertLookups)
	p.u(d.nextJudge)
	p.u(uint64(d.judgedStrong))
	p.u(d.judgedRaw)
	p.u(d.nextJudgeData)
	p.time(d.firstData, base)
	p.u(d.queriesBeforeData)

	p.bool(d.hist != nil)
	if h := d.hist; h != nil {
		p.time(h.start, base)
		p.u(uint64(h.width))
		sparse(p, h.queries[:])
		sparse(p, h.bytes[:])
		sparse(p, h.lengths[:])
	}

	p.time(d.winStart, base)
	for _, v := range [...]uint64{d.winQueries, d.winUnique, d.peakQueries, d.peakUniq} {
		p.u(v)
	}
	p.i(d.day)
	p.u(d.dayRaw)
	p.u(d.peakDayRaw)
	p.u(d.dayAnswerBytes)
	p.u(d.peakDayAnswerBytes)
	switch {
	case s.version >= 9:
		n := 0
		if d.num != nil {
			n = d.num.taken()
		}
		p.u(uint64(n))
		for i := range n {
			f := &d.num.fams[i]
			for _, v := range [...]uint64{f.key, uint64(f.names), uint64(f.lo), uint64(f.hi), uint64(f.weight), uint64(f.last), uint64(f.near), uint64(f.addrs), uint64(f.most)} {
				p.u(v)
			}
			for _, w := range f.octets {
				p.u(w)
			}
		}
		if n > 0 {
			for _, h := range d.num.pending {
				p.u(h)
			}
			p.u(uint64(d.num.next))
		}
		if s.version >= 10 {
			p.u(d.expansions)
			p.u(uint64(d.expandedNames))
		}
		if s.version >= 11 {
			n := 0
			for _, r := range d.repeats {
				if r.hash != 0 {
					n++
				}
			}
			p.u(uint64(n))
			for _, r := range d.repeats {
				if r.hash != 0 {
					p.u(r.hash)
					p.u(uint64(r.seen))
				}
			}
		}
		if s.version >= 13 {
			// The zone judged on its own (unit.go), as a domain record
			// of its own nested here.
			p.bool(d.unit != nil)
			if d.unit != nil {
				p.bytes(d.unitZone)
				s.domain(d.unit)
			}
		}
	case s.version == 8:
		var f counterFamily // version 8 held one family: the first slot's
		if d.num != nil {
			f = d.num.fams[0]
		}
		for _, v := range [...]uint64{f.key, uint64(f.names), uint64(f.lo), uint64(f.hi)} {
			p.u(v)
		}
		for _, w := range f.octets {
			p.u(w)
		}
	}
}

// ---------------------------------------------------------------------
// Reading.

// dec reads a payload; the first error sticks and later reads return zero.
type dec struct {
	b       []byte
	err     error
	version uint64 // the stream's format version
	unit    bool   // reading a unit's record (decodeUnit): it may hold none
}

func (r *dec) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format, append([]any{ErrSnapshotCorrupt}, args...)...)
	}
}

func (r *dec) u() uint64 {
	if r.err != nil {
		return 0
	}
	x, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("bad or cut varint")
		return 0
	}
	r.b = r.b[n:]
	return x
}

func (r *dec) i() int64 {
	if r.err != nil {
		return 0
	}
	x, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail("bad or cut varint")
		return 0
	}
	r.b = r.b[n:]
	return x
}

// max reads an unsigned varint no larger than limit.
func (r *dec) max(limit uint64, what string) uint64 {
	x := r.u()
	if x > limit {
		r.fail("%s %d exceeds %d", what, x, limit)
		return 0
	}
	return x
}

func (r *dec) u32(what string) uint32 { return uint32(r.max(math.MaxUint32, what)) }

// count reads a number of items of at least minSize bytes each, which must
// fit in the rest of the payload and in limit.
func (r *dec) count(limit, minSize int, what string) int {
	x := r.max(uint64(limit), what)
	if x*uint64(minSize) > uint64(len(r.b)) {
		r.fail("%d %s cannot fit in the %d bytes left", x, what, len(r.b))
		return 0
	}
	return int(x)
}

func (r *dec) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n > len(r.b) {
		r.fail("field of %d bytes runs past the record", n)
		return nil
	}
	p := r.b[:n:n]
	r.b = r.b[n:]
	return p
}

func (r *dec) f(what string) float64 {
	p := r.take(8)
	if p == nil {
		return 0
	}
	x := math.Float64frombits(binary.LittleEndian.Uint64(p))
	if math.IsNaN(x) || math.IsInf(x, 0) || x < 0 {
		r.fail("%s %v is not a finite non-negative number", what, x)
		return 0
	}
	return x
}

func (r *dec) bool(what string) bool { return r.max(1, what) == 1 }

// bytes reads a length-prefixed byte string of at most limit bytes. The
// result aliases the payload.
func (r *dec) bytes(limit int, what string) []byte {
	return r.take(int(r.max(uint64(limit), what)))
}

// time reads a time relative to base and checks its range.
func (r *dec) time(base int64, what string) int64 {
	t := int64(uint64(base) + uint64(r.i()))
	r.checkTime(t, what)
	return t
}

func (r *dec) checkTime(t int64, what string) {
	if t < 0 || t > maxTime {
		r.fail("%s %d out of range", what, t)
	}
}

func (r *dec) addr(what string) netip.Addr {
	n := r.max(16+64, what)
	var a netip.Addr
	if p := r.take(int(n)); r.err == nil {
		if err := a.UnmarshalBinary(p); err != nil {
			r.fail("%s: %v", what, err)
		}
	}
	return a
}

// readSparse reads what sparse wrote into a, checking every index and
// that every value is non-zero and fits T.
func readSparse[T uint32 | uint64](r *dec, a []T, what string) {
	n := r.count(len(a), 2, what)
	next := 0
	for range n {
		i := uint64(next) + r.max(uint64(len(a)), what)
		v := T(r.max(uint64(^T(0)), what))
		if r.err != nil {
			return
		}
		if i >= uint64(len(a)) || v == 0 {
			r.fail("%s: entry %d of %d is out of place", what, i, len(a))
			return
		}
		a[i] = v
		next = int(i) + 1
	}
}

// readSparseFold reads what sparse wrote for an array of n entries into a,
// whose length divides n, OR-ing entry i into a[i % len(a)]: a power-of-two
// Bloom filter folded onto a smaller power of two.
func readSparseFold(r *dec, a []uint64, n int, what string) {
	k := r.count(n, 2, what)
	next := 0
	for range k {
		i := uint64(next) + r.max(uint64(n), what)
		v := r.u()
		if r.err != nil {
			return
		}
		if i >= uint64(n) || v == 0 {
			r.fail("%s: entry %d of %d is out of place", what, i, n)
			return
		}
		a[i%uint64(len(a))] |= v
		next = int(i) + 1
	}
}

// done requires the payload to be used up.
func (r *dec) done(what string) error {
	if r.err == nil && len(r.b) != 0 {
		r.fail("%d bytes left over in %s", len(r.b), what)
	}
	return r.err
}

// byteReader is what recReader reads from.
type byteReader interface {
	io.Reader
	io.ByteReader
}

// recReader reads framed records.
type recReader struct {
	r       byteReader
	buf     bytes.Buffer
	n       int // records read
	hdr     []byte
	version uint64 // the stream's format version (start)
}

func newRecReader(r io.Reader) *recReader {
	br, ok := r.(byteReader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	return &recReader{r: br}
}

func truncated(err error, where fmt.Stringer) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w: %s", ErrSnapshotTruncated, where)
	}
	return fmt.Errorf("engine snapshot: reading %s: %w", where, err)
}

// label is a fixed place name in errors.
type label string

func (l label) String() string { return string(l) }

// start checks the magic and the version.
func (rr *recReader) start(magic string) error {
	var m [len(snapshotMagic)]byte
	if n, err := io.ReadFull(rr.r, m[:]); err != nil {
		if n > 0 && !bytes.HasPrefix([]byte(magic), m[:n]) {
			return fmt.Errorf("%w (bad magic)", ErrSnapshotMagic)
		}
		return truncated(err, label("the magic"))
	}
	if string(m[:]) != magic {
		if string(m[:]) == snapshotMagic || string(m[:]) == domainMagic {
			return fmt.Errorf("%w: found %q, want %q", ErrSnapshotMagic, m[:], magic)
		}
		return fmt.Errorf("%w (bad magic)", ErrSnapshotMagic)
	}
	v, err := binary.ReadUvarint(rr.r)
	if err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return truncated(err, label("the version"))
		}
		return fmt.Errorf("%w: version: %v", ErrSnapshotCorrupt, err)
	}
	if v < OldestSnapshotVersion || v > SnapshotVersion {
		return fmt.Errorf("%w: %d (this build reads versions %d to %d)", ErrSnapshotVersion, v, OldestSnapshotVersion, SnapshotVersion)
	}
	rr.version = v
	return nil
}

// next reads a record and checks its checksum. The payload is valid until
// the next call.
func (rr *recReader) next() (byte, *dec, error) {
	where := recordName(rr.n + 1)
	tag, err := rr.r.ReadByte()
	if err != nil {
		return 0, nil, truncated(err, where)
	}
	n, err := binary.ReadUvarint(rr.r)
	if err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return 0, nil, truncated(err, where)
		}
		return 0, nil, fmt.Errorf("%w: %s: length: %v", ErrSnapshotCorrupt, where, err)
	}
	if n > maxRecordBytes {
		return 0, nil, fmt.Errorf("%w: %s declares %d bytes, more than the format's %d", ErrSnapshotCorrupt, where, n, maxRecordBytes)
	}
	rr.buf.Reset()
	// CopyN grows the buffer as bytes arrive, so a false length in a
	// short input costs no more memory than the input.
	if _, err := io.CopyN(&rr.buf, rr.r, int64(n)); err != nil {
		return 0, nil, truncated(err, where)
	}
	var sum [4]byte
	if _, err := io.ReadFull(rr.r, sum[:]); err != nil {
		return 0, nil, truncated(err, where)
	}
	rr.hdr = binary.AppendUvarint(append(rr.hdr[:0], tag), n)
	crc := crc32.Update(crc32.Update(0, castagnoli, rr.hdr), castagnoli, rr.buf.Bytes())
	if crc != binary.LittleEndian.Uint32(sum[:]) {
		return 0, nil, fmt.Errorf("%w: %s (tag %q, %d bytes): checksum mismatch", ErrSnapshotCorrupt, where, tag, n)
	}
	rr.n++
	return tag, &dec{b: rr.buf.Bytes(), version: rr.version}, nil
}

// recordName names the nth record in errors.
type recordName int

func (n recordName) String() string { return fmt.Sprintf("record %d", int(n)) }

// expect reads a record that must have tag.
func (rr *recReader) expect(tag byte) (*dec, error) {
	t, r, err := rr.next()
	if err != nil {
		return nil, err
	}
	if t != tag {
		return nil, fmt.Errorf("%w: record %d has tag %q, want %q", ErrSnapshotCorrupt, rr.n, t, tag)
	}
	return r, nil
}

func readLayout(r *dec) {
	for i, want := range [...]uint64{numTools, numQTypeClasses, timelineBuckets, lengthBuckets, pendingFlush} {
		got := r.u()
		// Fewer tool counters (an engine that knew fewer tools, 16
		// before format 14) read as they are: tool numbers never change,
		// and the counts are written sparse, by index.
		if r.err == nil && got != want && !(i == 0 && got >= 16 && got < want) {
			r.fail("made by an engine with another layout (array size %d, this engine has %d)", got, want)
		}
	}
}

// engineState is a decoded snapshot, installed only once all of it is valid.
type engineState struct {
	domains    map[string]*domain
	byID       map[uint32]*domain
	head, tail *domain
	nextID     uint32
	mem        int64
	stats      Stats
	rawOwner   map[netip.Addr]uint32
	contacted  contactSet
	servers    map[netip.Addr]uint32
	others     uint64
	lengths    [lengthBuckets]uint64

	cold coldTable
}

// ReadSnapshot replaces the engine's state with the snapshot read from r
// (written by WriteSnapshot). Everything is checked before anything is
// replaced: on any error (wrong magic or version, truncation, checksum,
// bounds or consistency) the engine is left as it was. The engine keeps its
// own Config and OnAlert: name sets and client tables larger than its
// limits are cut down (surplus clients counted as other clients), and when
// the state exceeds MaxMemory the least recently seen domains are evicted
// while reading, so a large or hostile snapshot never holds more than the
// cap. Memory estimates are recomputed, not trusted. If r is not an
// io.ByteReader it is buffered, and may be read past the snapshot's end.
func (e *Engine) ReadSnapshot(r io.Reader) error {
	s, err := e.readSnapshot(newRecReader(r))
	if err != nil {
		return err
	}
	e.domains, e.byID, e.head, e.tail = s.domains, s.byID, s.head, s.tail
	e.nextID, e.mem, e.stats = s.nextID, s.mem, s.stats
	e.cold = s.cold // with e's seed (readCold): hashes from e's Hasher still hold
	e.rawOwner, e.contacted, e.others, e.lengths = s.rawOwner, s.contacted, s.others, s.lengths
	e.servers, e.lastServers = s.servers, [len(e.lastServers)]netip.Addr{}
	e.expand.reset() // awaited for seconds, under the old IDs and hash: not saved
	e.failed.reset()
	return nil
}

func (e *Engine) readSnapshot(rr *recReader) (*engineState, error) {
	if err := rr.start(snapshotMagic); err != nil {
		return nil, err
	}
	r, err := rr.expect(recHeader)
	if err != nil {
		return nil, err
	}
	s := &engineState{rawOwner: map[netip.Addr]uint32{}}
	readLayout(r)
	for range 4 {
		r.u() // the writer's Config, for information
	}
	s.nextID = r.u32("next ID")
	s.stats.Evictions, s.stats.EvictedActive = r.u(), r.u()
	s.stats.Messages, s.stats.RawMessages, s.stats.CompressedRuns = r.u(), r.u(), r.u()
	s.stats.Promotions = r.u()
	s.stats.Renumbered, s.stats.Untracked = r.u(), r.u()
	s.others = r.u()
	readSparse(r, s.lengths[:], "length histogram")
	var nContacted int
	filtered := false
	var filterBits uint64
	s.contacted.genBits = e.contacted.genBits
	if rr.version < 7 {
		nContacted = int(r.max(1<<20, "contacted addresses")) // version 6's bound
	} else {
		nContacted = int(r.max(maxExactContacts, "contacted addresses"))
		filtered = r.bool("contacted mode")
		filterBits = r.max(maxContactGenBits, "contact filter size")
		s.contacted.cur = int(r.max(1, "contact filter generation"))
		s.contacted.fill = int(r.max(filterBits/contactBitsPerAddr, "contact filter fill"))
		pow2 := filterBits >= minContactGenBits && filterBits&(filterBits-1) == 0
		if r.err == nil && (filtered && (nContacted != 0 || !pow2) || !filtered && (filterBits != 0 || s.contacted.cur != 0 || s.contacted.fill != 0)) {
			r.fail("contacted set: %d addresses, filter %v of %d bits, generation %d, fill %d",
				nContacted, filtered, filterBits, s.contacted.cur, s.contacted.fill)
		}
	}
	nServers := int(r.max(maxServers, "resolver addresses"))
	nOwners := int(r.max(maxOwners, "raw owners"))
	nDomains := r.u()
	nCold := r.u()
	hand := r.u()
	if r.err == nil && hand > nCold {
		r.fail("CLOCK hand %d beyond %d cold domains", hand, nCold)
	}
	if err := r.done("the header"); err != nil {
		return nil, err
	}

	if s.contacted.exact, err = readAddrSet(rr, recContacted, nContacted, "contacted"); err != nil {
		return nil, err
	}
	if memContacted*int64(len(s.contacted.exact)) > s.contacted.filterBytes() {
		// More than this engine holds exactly (version 6 held up to
		// 2^20; a larger cap holds more): filter them.
		s.contacted.toFilter()
	}
	if filtered {
		// The filter takes this engine's size: a larger one folds onto it
		// (as full as it was, in fewer bits: a full filter saturates,
		// answering "contacted" until the next rotations clear it), a
		// smaller one is tiled up to it (as dense as it was, so its fill
		// counts for proportionally more addresses).
		declared, ours := int(filterBits/64), s.contacted.genBits/64
		for g := range s.contacted.gens {
			r, err := rr.expect(recContactBits)
			if err != nil {
				return nil, err
			}
			words := make([]uint64, min(declared, ours))
			readSparseFold(r, words, declared, "contact filter")
			if err := r.done("the contact filter"); err != nil {
				return nil, err
			}
			if len(words) < ours {
				tiled := make([]uint64, ours)
				for i := range tiled {
					tiled[i] = words[i%len(words)]
				}
				words = tiled
			}
			s.contacted.gens[g] = words
		}
		if declared < ours {
			s.contacted.fill *= ours / declared
		}
		s.contacted.fill = min(s.contacted.fill, s.contacted.generation())
	}
	servers, err := readAddrSet(rr, recServers, nServers, "server")
	if err != nil {
		return nil, err
	}
	for a := range servers {
		if s.servers == nil {
			s.servers = make(map[netip.Addr]uint32, len(servers))
		}
		s.servers[a] = resolverResponses
	}

	for len(s.rawOwner) < nOwners {
		r, err := rr.expect(recOwners)
		if err != nil {
			return nil, err
		}
		n := r.count(min(chunkAddrs, nOwners-len(s.rawOwner)), 2, "raw owners")
		if n == 0 && r.err == nil {
			r.fail("empty raw owner record")
		}
		for range n {
			a := r.addr("raw owner address")
			id := r.u32("raw owner ID")
			if _, dup := s.rawOwner[a]; r.err == nil && (dup || !a.IsValid() || id == 0 || id > s.nextID) {
				r.fail("raw owner %v -> %d repeated, invalid or beyond the next ID %d", a, id, s.nextID)
			}
			s.rawOwner[a] = id
		}
		if err := r.done("raw owners"); err != nil {
			return nil, err
		}
	}

	hint := int(min(nDomains, 256)) // a false count must not allocate
	s.domains = make(map[string]*domain, hint)
	s.byID = make(map[uint32]*domain, hint)
	s.mem = s.contacted.mem()
	evicting := false
	var gone map[string]uint32 // evicted while reading, for the uniqueness checks
	var goneIDs map[uint32]bool
	var hashes []uint64
	for n := uint64(0); n < nDomains; n++ {
		r, err := rr.expect(recDomain)
		if err != nil {
			return nil, err
		}
		var d *domain
		d, hashes = decodeDomain(r, &e.cfg, hashes[:0])
		if err := r.done("a domain"); err != nil {
			return nil, fmt.Errorf("record %d: %w", rr.n, err)
		}
		_, dupName := s.domains[d.name]
		_, dupID := s.byID[d.id]
		_, goneName := gone[d.name]
		if dupName || dupID || goneName || goneIDs[d.id] || d.id > s.nextID {
			return nil, fmt.Errorf("%w: record %d: domain %q (ID %d) repeated or beyond the next ID %d", ErrSnapshotCorrupt, rr.n, d.name, d.id, s.nextID)
		}
		finishDomain(d, hashes, &e.cfg)
		// Domains come most recent first, so evicting from the tail
		// after loading would keep exactly the longest prefix that
		// fits: drop the rest as they come.
		if evicting || s.mem+int64(d.mem) > e.cfg.MaxMemory {
			if !evicting {
				evicting = true
				gone, goneIDs = map[string]uint32{}, map[uint32]bool{}
			}
			gone[d.name], goneIDs[d.id] = d.id, true
			s.stats.Evictions++
			if d.unique >= 100 {
				s.stats.EvictedActive++
			}
			continue
		}
		s.mem += int64(d.mem)
		s.domains[d.name] = d
		s.byID[d.id] = d
		d.prev = s.tail
		if s.tail != nil {
			s.tail.next = d
		} else {
			s.head = d
		}
		s.tail = d
	}
	if err := e.readCold(rr, s, nCold, gone, goneIDs); err != nil {
		return nil, err
	}
	s.cold.hand = min(int(hand), s.cold.n)
	for d := s.head; d != nil; d = d.next {
		s.cold.addHot(d)
	}
	r, err = rr.expect(recEnd)
	if err != nil {
		return nil, err
	}
	if got := r.u(); r.err == nil && got != nDomains {
		r.fail("end record counts %d domains, header %d", got, nDomains)
	}
	if err := r.done("the end record"); err != nil {
		return nil, err
	}
	return s, nil
}

// decodeDomain reads a domain record. The name set is returned as its
// hashes (appended to hashes), for finishDomain or a merge to insert.
func decodeDomain(r *dec, cfg *Config, hashes []uint64) (*domain, []uint64) {
	d := &domain{}
	d.id = r.u32("domain ID")
	if r.err == nil && d.id == 0 {
		r.fail("domain ID 0")
	}
	name := r.bytes(maxNameBytes, "domain name")
	if r.err == nil && len(name) == 0 {
		r.fail("empty domain name")
	}
	d.name = string(name)
	d.first = r.i()
	r.checkTime(d.first, "first seen")
	base := d.first
	d.last = r.time(base, "last seen")
	if r.err == nil && d.last < d.first {
		r.fail("%s: last seen before first seen", d.name)
	}
	d.queries, d.responses = r.max(maxCount, "queries"), r.max(maxCount, "responses")
	d.unique, d.uniqueBytes, d.ipShaped, d.dataNames, d.digestNames = r.u(), r.u(), r.u(), r.u(), r.u()
	d.subLenSum, d.subLenSq, d.info, d.infoRaw = r.u(), r.u(), r.u(), r.u()
	if r.version >= 15 {
		d.textNames = r.u()
	}
	pcap := int(r.max(maxPendingCap, "pending capacity"))
	pending := r.bytes(pendingFlush-1, "pending text")
	if r.err == nil && pcap < len(pending) {
		r.fail("pending capacity %d below its length %d", pcap, len(pending))
	}
	if r.err == nil && pcap > 0 {
		d.pending = append(make([]byte, 0, pcap), pending...)
	}

	before := len(hashes)
	hashes = r.hashList(hashes, "name hashes")
	n := len(hashes) - before
	if r.err == nil && (uint64(n) > d.unique || d.ipShaped+d.dataNames < d.ipShaped || d.ipShaped+d.dataNames > d.unique ||
		d.digestNames > d.dataNames || d.textNames > d.dataNames) {
		r.fail("%s: name counts inconsistent (%d stored, %d unique, %d IP-shaped, %d data-like, %d digest-like, %d hex text)",
			d.name, n, d.unique, d.ipShaped, d.dataNames, d.digestNames, d.textNames)
	}

	d.maxLabel = int(r.max(255, "longest label"))
	d.ngramSum, d.ngramN = r.i(), r.i()
	if r.err == nil && d.ngramN < 0 {
		r.fail("negative n-gram count")
	}
	d.mixedCase, d.estimated, d.ednsData, d.offPort = r.u(), r.u(), r.u(), r.u()
	d.offPortNum = uint16(r.max(math.MaxUint16, "port"))
	d.flagged = r.u()
	readSparse(r, d.qtypes[:], "query types")
	d.nxdomain, d.otherError, d.answerData, d.sizes = r.u(), r.u(), r.u(), r.u()
	d.raw, d.rawB = r.max(maxCount, "raw packets"), r.u()
	d.dataResponses = r.max(maxCount, "responses carrying data")
	d.dataAnswerBytes = r.max(maxBytes, "answer data bytes")
	d.distinctAnswers = r.max(maxCount, "distinct data answers")
	d.distinctAnswerBytes = r.max(maxBytes, "distinct answer data bytes")
	if r.err == nil && (d.dataResponses > d.responses || d.distinctAnswers > MaxDataRecords*d.dataResponses ||
		d.distinctAnswerBytes > d.dataAnswerBytes || d.dataResponses > d.dataAnswerBytes ||
		d.distinctAnswers > d.distinctAnswerBytes || (d.distinctAnswers == 0) != (d.distinctAnswerBytes == 0)) {
		r.fail("%s: data answer counts inconsistent (%d responses, %d with data, %d distinct, %d bytes, %d distinct bytes)",
			d.name, d.responses, d.dataResponses, d.distinctAnswers, d.dataAnswerBytes, d.distinctAnswerBytes)
	}
	d.answers.limit = cfg.MaxNamesPerDomain
	// The answer hashes are read after the name hashes, in the same
	// buffer, and taken off it again.
	mark := len(hashes)
	hashes = r.hashList(hashes, "answer hashes")
	if r.err == nil && uint64(len(hashes)-mark) > d.distinctAnswers {
		r.fail("%s: %d answer hashes for %d distinct answers", d.name, len(hashes)-mark, d.distinctAnswers)
	}
	for _, h := range hashes[mark:] {
		d.answers.add(h)
	}
	hashes = hashes[:mark]
	var sum uint64
	for _, v := range d.qtypes {
		var c uint64
		sum, c = bits.Add64(sum, v, 0)
		if c != 0 {
			r.fail("query type counts overflow")
		}
	}
	if r.err == nil && (sum != d.queries || d.nxdomain+d.otherError < d.nxdomain || d.nxdomain+d.otherError > d.responses) {
		r.fail("%s: query or response counts inconsistent", d.name)
	}
	var tools [numTools * 3]uint32
	readSparse(r, tools[:], "tool counts")
	for t := range d.tools {
		copy(d.tools[t][:], tools[3*t:])
	}
	d.nResolved = r.count(len(d.resolved), 1, "resolved addresses")
	for i := range d.nResolved {
		a := r.addr("resolved address")
		if r.err == nil && (!a.IsValid() || slices.Contains(d.resolved[:i], a)) {
			r.fail("resolved address %v repeated or invalid", a)
		}
		d.resolved[i] = a
	}

	nc := r.count(math.MaxInt32, 12, "clients")
	var prevAddr netip.Addr
	var clientNames uint64
	var folded clientSketch // clients beyond this engine's cap
	var nFolded uint64
	for i := range nc {
		a := r.addr("client address")
		c := &clientState{}
		c.queries, c.responses, c.unique, c.uniqueBytes, c.channel = r.u(), r.u(), r.u(), r.u(), r.u()
		c.first = r.time(base, "client first seen")
		c.last = r.time(base, "client last seen")
		c.lastQ = r.time(base, "client last query")
		c.gaps = r.u()
		if c.gaps > 0 {
			c.gapMean, c.gapM2 = r.f("mean gap"), r.f("gap M2")
			// Gaps are whole nanoseconds within maxTime: keep the
			// statistics where the coefficient of variation is finite.
			if r.err == nil && (c.gapMean < 5e-10 || c.gapMean > 1e10 || c.gapM2 > float64(c.gaps)*1e20) {
				r.fail("client gap statistics out of range")
			}
		}
		readSparse(r, c.strong[:], "client tool counts")
		if r.err != nil {
			break
		}
		if !a.IsValid() || a.Zone() != "" || i > 0 && a.Compare(prevAddr) <= 0 || c.last < c.first ||
			c.channel > c.queries+c.responses || c.queries+c.responses < c.queries {
			r.fail("client %v out of order, invalid, zoned or inconsistent", a)
			break
		}
		prevAddr = a
		// Each distinct name is counted for at most one client.
		var carry uint64
		if clientNames, carry = bits.Add64(clientNames, c.unique, 0); carry != 0 || clientNames > d.unique {
			r.fail("%s: clients hold more distinct names than the domain", d.name)
			break
		}
		if d.clients.len() >= cfg.MaxClientsPerDomain {
			// This engine tracks fewer clients: the rest count in
			// the sketch only, as at run time.
			folded.add(a)
			nFolded++
			continue
		}
		d.clients.put(a, c)
	}
	d.allClients = clientSketch(r.u()).union(folded)
	d.untracked = r.bool("untracked clients") || folded != 0
	d.untrackedMin = uint32(min(r.max(math.MaxUint32, "untracked clients")+nFolded, math.MaxUint32))
	d.untracked = d.untracked || d.untrackedMin > 0
	for a := range d.clients.all() {
		d.allClients.add(a) // a sketch holds every tracked client
	}

	nf := r.count(maxFiles, 1, "files")
	if nf > 0 {
		d.files = make([]int, 0, nf)
	}
	for range nf {
		f := int(r.max(math.MaxInt32, "file index"))
		if r.err == nil && slices.Contains(d.files, f) {
			r.fail("file %d repeated", f)
		}
		d.files = append(d.files, f)
	}
	if r.version >= 12 {
		r.zoneVotes(d, &d.zones)
		r.zoneVotes(d, &d.toolZones)
		d.zoneTool = fingerprint.Tool(r.max(numTools-1, "zone tool"))
		d.toolNames = r.max(d.toolZones.names, "tool names")
	} else {
		have := r.bool("zone flag")
		z := r.bytes(maxZoneBytes, "zone")
		if len(z) > 0 && !have {
			r.fail("zone without the zone flag")
		}
		if have {
			// The common zone of the data-like names (or of the
			// answers' names before them) stands for all of them.
			d.zones.fromCommonZone(z, max(d.dataNames, 1))
		}
	}
	ns := r.count(maxSamples, 1, "samples")
	for range ns {
		x := r.bytes(maxNameBytes, "sample")
		if r.err == nil && len(x) == 0 {
			r.fail("empty sample")
		}
		d.samples = append(d.samples, append([]byte(nil), x...))
	}

	d.alertSev = Severity(r.max(uint64(SeverityHigh), "alert severity"))
	d.announced = Severity(r.max(uint64(d.alertSev), "announced severity"))
	d.firstAlert = r.time(base, "first alert")
	d.firstAlertLookups, d.nextJudge = r.u(), r.u()
	d.judgedStrong = r.u32("judged strong count")
	d.judgedRaw = r.u()
	d.nextJudgeData = r.u()
	d.firstData = r.time(base, "first data-like name")
	d.queriesBeforeData = r.u()
	if r.err == nil && (d.queriesBeforeData > d.queries || d.firstData != 0 && (d.firstData < d.first || d.firstData > d.last)) {
		r.fail("%s: first data-like name at %d after %d queries inconsistent with the domain", d.name, d.firstData, d.queriesBeforeData)
	}

	if r.bool("history flag") {
		h := &history{}
		h.start = r.time(base, "history start")
		h.width = int64(r.max(math.MaxInt64, "history width"))
		readSparse(r, h.queries[:], "timeline queries")
		readSparse(r, h.bytes[:], "timeline bytes")
		readSparse(r, h.lengths[:], "length histogram")
		if r.err == nil && !validHistory(h, d) {
			r.fail("%s: history start %d or width %d inconsistent with its span", d.name, h.start, h.width)
		}
		d.hist = h
	}

	d.winStart = r.time(base, "window start")
	d.winQueries, d.winUnique, d.peakQueries, d.peakUniq = r.u(), r.u(), r.u(), r.u()
	d.day = r.i()
	d.dayRaw, d.peakDayRaw = r.u(), r.u()
	d.dayAnswerBytes, d.peakDayAnswerBytes = r.u(), r.u()
	if r.err == nil && (d.dayAnswerBytes > d.peakDayAnswerBytes || d.peakDayAnswerBytes > d.distinctAnswerBytes) {
		r.fail("%s: answer data of a day (%d, busiest %d) beyond its distinct answer data %d", d.name,
			d.dayAnswerBytes, d.peakDayAnswerBytes, d.distinctAnswerBytes)
	}
	if r.err == nil && (d.winQueries > d.peakQueries || d.winUnique > d.peakUniq || d.dayRaw > d.peakDayRaw) {
		r.fail("%s: window counts above their peaks", d.name)
	}
	switch {
	case r.version >= 9:
		if n := r.max(familySlots, "numbered families"); n > 0 {
			d.num = new(numbered)
			for i := range n {
				f := &d.num.fams[i]
				f.key = r.u()
				f.names, f.lo, f.hi = r.u32("numbered names"), r.u32("lowest number"), r.u32("highest number")
				f.weight, f.last, f.near = r.u32("family weight"), r.u32("latest number"), r.u32("names in order")
				f.addrs, f.most = r.u32("numbered answers"), uint8(r.max(maxAddrsPerAnswer, "addresses of one answer"))
				for j := range f.octets {
					f.octets[j] = r.u()
				}
			}
			for j := range d.num.pending {
				d.num.pending[j] = r.u()
			}
			d.num.next = uint8(r.max(math.MaxUint8, "next awaited name"))
		}
		if r.version >= 10 {
			d.expansions = r.max(d.unique, "search-path expansions")
			d.expandedNames = clientSketch(r.u())
		}
		if r.version >= 11 {
			n := r.max(repeatSlots, "repeated labels")
			for i := range n {
				h, seen := r.u(), r.u32("names holding a repeated label")
				if r.err == nil && (h&1 == 0 || seen == 0) {
					r.fail("%s: repeated label %#x seen %d times", d.name, h, seen)
				}
				for j := range i {
					if r.err == nil && d.repeats[j].hash == h {
						r.fail("%s: repeated label %#x twice", d.name, h)
					}
				}
				d.repeats[i] = repeatedLabel{hash: h, seen: seen}
			}
		}
	case r.version == 8:
		var f counterFamily
		f.key = r.u()
		f.names, f.lo, f.hi = r.u32("numbered names"), r.u32("lowest number"), r.u32("highest number")
		for j := range f.octets {
			f.octets[j] = r.u()
		}
		if f.key != 0 || f.names != 0 || f.hi != 0 {
			// Version 8 counted names, not addresses, nor their order:
			// one address a name, all in order, keeps the verdict it
			// gave.
			f.weight, f.addrs, f.most, f.last = f.names, f.names, 1, f.hi
			if f.names > 0 {
				f.near = f.names - 1
			}
			d.num = &numbered{fams: [familySlots]counterFamily{f}}
		}
	}
	if r.err == nil && d.num != nil {
		if err := d.num.check(); err != "" {
			r.fail("%s: %s", d.name, err)
		}
	}
	d.syncNumbered()
	if r.version >= 13 && r.bool("zone judged on its own") {
		decodeUnit(r, cfg, d)
	}
	return d, hashes
}

// decodeUnit reads the unit of domain d (unit.go) nested in d's record.
func decodeUnit(r *dec, cfg *Config, d *domain) {
	if r.unit {
		r.fail("%s: a unit within a unit", d.name)
		return
	}
	zone := r.bytes(maxZoneBytes, "unit zone")
	r.unit = true
	u, hashes := decodeDomain(r, cfg, nil)
	r.unit = false
	if r.err != nil {
		return
	}
	switch {
	case len(zone) == 0 || zone[0] == '.' || zone[len(zone)-1] == '.':
		r.fail("%s: unit zone %q", d.name, zone)
	case u.name != string(zone)+"."+d.name:
		r.fail("%s: unit %q of zone %q", d.name, u.name, zone)
	case u.id != d.id:
		r.fail("%s: unit ID %d, domain ID %d", d.name, u.id, d.id)
	case u.queries > d.queries || u.responses > d.responses || u.raw > d.raw:
		// A unit sees some of its domain's messages (so an import that
		// keeps the domain's counters in bounds keeps its unit's).
		r.fail("%s: unit counts %d/%d/%d messages, its domain %d/%d/%d", d.name, u.queries, u.responses, u.raw, d.queries, d.responses, d.raw)
	}
	if r.err != nil {
		return
	}
	finishDomain(u, hashes, cfg)
	u.parent = d
	d.unit, d.unitZone = u, append([]byte(nil), zone...)
	// The two share their alerts (raiseAlert): what one announced, both
	// did.
	d.alertSev = max(d.alertSev, u.alertSev)
	d.announced = max(d.announced, u.announced)
	u.alertSev, u.announced = d.alertSev, d.announced
}

// validHistory checks what history.slot relies on: the width is one
// second doubled k times and no wider than the domain's span needs (slot
// doubles it only while a time lies 96 buckets out), and the start lies
// within the domain's span.
func validHistory(h *history, d *domain) bool {
	w := h.width
	if w < int64(1e9) || w%int64(1e9) != 0 || bits.OnesCount64(uint64(w/int64(1e9))) != 1 {
		return false
	}
	if h.start < d.first || h.start > d.last {
		return false
	}
	return w == int64(1e9) || w <= (d.last-h.start)/48
}

// hashList reads a count and that many strictly increasing 64-bit hashes,
// appended to out; label names them in errors.
func (r *dec) hashList(out []uint64, label string) []uint64 {
	n := r.count(math.MaxInt32, 8, label)
	prev := uint64(0)
	for range n {
		p := r.take(8)
		if p == nil {
			break
		}
		h := binary.LittleEndian.Uint64(p)
		if h <= prev {
			r.fail("%s not increasing", label)
			break
		}
		out = append(out, h)
		prev = h
	}
	return out
}

// finishDomain inserts the hashes into d's name set under cfg's limit and
// computes d's memory estimate.
func finishDomain(d *domain, hashes []uint64, cfg *Config) {
	d.names.limit = cfg.MaxNamesPerDomain
	for _, h := range hashes {
		d.names.add(h)
	}
	d.mem = memOf(d)
}

// memOf is d's memory estimate, counted as engine.go counts it while
// observing: the fixed part and the name, files, clients, history,
// samples, pending text capacity and the name and answer sets
// (TestMemoryEstimateRecomputed checks the two agree).
func memOf(d *domain) int {
	m := baseDomainBytes + len(d.name) + memFile*len(d.files) + memClient*d.clients.len() + cap(d.pending) + d.names.bytes() + d.answers.bytes() +
		d.zones.bytes() + d.toolZones.bytes()
	if d.hist != nil {
		m += historyBytes
	}
	if d.num != nil {
		m += numberedBytes
	}
	for _, s := range d.samples {
		m += len(s) + memSample
	}
	if d.unit != nil {
		m += len(d.unitZone) + memOf(d.unit)
	}
	return m
}

// ---------------------------------------------------------------------
// Files.

// SaveSnapshotFile writes e's snapshot to path atomically: to a temporary
// file in the same directory, synced, then renamed over path (and the
// directory synced), so that a crash leaves the old snapshot or the new
// one, never a mix. The file is created with mode 0600: it holds names
// and addresses seen on the network.
func SaveSnapshotFile(e *Engine, path string) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = e.WriteSnapshot(f); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil {
		d.Sync() // best effort: makes the rename durable where supported
		d.Close()
	}
	return nil
}

// LoadSnapshotFile replaces e's state with the snapshot in path; on error
// e is unchanged.
func LoadSnapshotFile(e *Engine, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := e.ReadSnapshot(bufio.NewReaderSize(f, 256<<10)); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// ---------------------------------------------------------------------
// Moving domains between engines.

// ExportDomain returns the state of one registered domain (as keyed by the
// engine: the registered domain, or "direct:"/"raw:" and a server address),
// with the client addresses whose raw-mode tunnel packets belong to it, for
// ImportDomain in another engine. It does not change the engine; see
// RemoveDomain to complete a move.
func (e *Engine) ExportDomain(registered string) ([]byte, bool) {
	d := e.domains[registered]
	if d == nil {
		i := e.cold.findName(registered)
		if i < 0 {
			return nil, false
		}
		d = e.coldDomainState(e.cold.at(i))
	}
	var buf bytes.Buffer
	s := &snapWriter{w: bufio.NewWriter(&buf)}
	s.start(domainMagic, SnapshotVersion)
	layout(&s.p, SnapshotVersion)
	for a, id := range e.rawOwner {
		if id == d.id {
			s.addrs = append(s.addrs, a)
		}
	}
	slices.SortFunc(s.addrs, netip.Addr.Compare)
	s.p.u(uint64(len(s.addrs)))
	for _, a := range s.addrs {
		s.p.addr(a)
	}
	s.record(recDomainHeader)
	s.domain(d)
	if err := s.record(recDomain); err != nil {
		return nil, false // only for a name set beyond the format's bounds
	}
	s.p.u(1)
	s.record(recEnd)
	s.w.Flush()
	return buf.Bytes(), true
}

// RemoveDomain forgets a registered domain (after ExportDomain, to move it
// away): its state, its memory and the raw-mode owners pointing at it. It
// is not counted as an eviction. It reports whether the domain was there.
func (e *Engine) RemoveDomain(registered string) bool {
	d := e.domains[registered]
	if d == nil {
		i := e.cold.findName(registered)
		if i < 0 {
			return false
		}
		e.cold.remove(i)
		return true
	}
	if d.prev != nil {
		d.prev.next = d.next
	} else {
		e.head = d.next
	}
	if d.next != nil {
		d.next.prev = d.prev
	} else {
		e.tail = d.prev
	}
	d.prev, d.next = nil, nil
	delete(e.domains, d.name)
	delete(e.byID, d.id)
	e.cold.dropHot(d)
	e.mem -= int64(d.mem)
	for a, id := range e.rawOwner {
		if id == d.id {
			delete(e.rawOwner, a)
		}
	}
	return true
}

// ImportDomain adds a domain exported by ExportDomain (possibly from
// another engine). Domain IDs are local to an engine: a new domain gets a
// fresh ID, a merged one keeps its own. The domain becomes the most
// recently seen (import least recently seen first to keep an order), and
// the memory cap is enforced by evicting others. Raw-mode owners are added
// for addresses that have none here.
//
// If the engine already has the domain, the two states are merged as if
// one engine had seen both streams of traffic, as far as counters allow:
//
//   - message counters (queries, responses, query types, errors, answer
//     and message bytes, flagged, mixed-case, estimated and off-port
//     messages, tool matches, raw packets, other clients, histogram
//     counts): sums; the off-port number: the later side's;
//   - distinct names: the hash sets are united (bounded by
//     MaxNamesPerDomain) and the distinct count is the sum less the
//     imported hashes already present. The sums over distinct names
//     (subdomain bytes and lengths, IP-, data- and digest-shaped counts,
//     n-gram score, compressed information) take the imported side
//     scaled by the share of its distinct names that were new here, so
//     that names both sides saw count once and ratios stay consistent;
//     pending text keeps only the imported names that were new and is
//     compressed when it reaches the flush size;
//   - first seen: minimum; last seen, longest label: maximum;
//   - clients: united by address; counters summed, first/last min/max,
//     gap statistics combined (Chan et al.'s parallel variance; the gap
//     between the two sides is not counted); clients beyond
//     MaxClientsPerDomain are left to the united client sketches, which
//     estimate how many there are;
//   - resolved addresses, files, samples: union in order, within their
//     bounds (4, 4096, 5); zone votes: merged as Boyer–Moore counts, the
//     tool's only when both sides voted for the same tool (zone.go);
//   - numbered families (counter.go): families of one key merge (names
//     summed and clamped to their united range, weights summed and capped
//     at the names, in-order names summed and capped below them, answered
//     addresses summed, first octets united); of all, the four of largest
//     weight stay; awaited names are dropped (a response after the move
//     counts as one seen without its query);
//   - timeline: rebucketed onto the coarser width from the earlier start;
//     length histogram: sums;
//   - windows: the later current window, with the other side's counts
//     added when the two overlap; peaks: maximum; day counters likewise
//     by calendar day;
//   - alerts: highest severity, earliest first alert; the merged domain
//     is judged at once, so OnAlert fires if the merge raises its
//     severity.
//
// Engine-wide state is not part of a domain and does not move: contacted
// addresses (AnswersUsed), the addresses seen answering DNS
// (Client.Resolver), the length histogram and Stats.
func (e *Engine) ImportDomain(b []byte) error {
	rr := newRecReader(bytes.NewReader(b))
	if err := rr.start(domainMagic); err != nil {
		return err
	}
	r, err := rr.expect(recDomainHeader)
	if err != nil {
		return err
	}
	readLayout(r)
	no := r.count(maxOwners, 1, "raw owners")
	var owners []netip.Addr
	for range no {
		a := r.addr("raw owner")
		if r.err == nil && !a.IsValid() {
			r.fail("invalid raw owner address")
		}
		owners = append(owners, a)
	}
	if err := r.done("the domain header"); err != nil {
		return err
	}
	if r, err = rr.expect(recDomain); err != nil {
		return err
	}
	in, hashes := decodeDomain(r, &e.cfg, nil)
	if err := r.done("the domain"); err != nil {
		return err
	}
	if r, err = rr.expect(recEnd); err != nil {
		return err
	}
	if got := r.u(); r.err == nil && got != 1 {
		r.fail("end record counts %d domains, want 1", got)
	}
	if err := r.done("the end record"); err != nil {
		return err
	}
	if len(owners) > 0 && len(e.rawOwner)+len(owners) > maxOwners {
		return fmt.Errorf("%w: too many raw owners", ErrSnapshotCorrupt)
	}

	overflow := fmt.Errorf("engine: importing %s would overflow its counters", in.name)
	d := e.domains[in.name]
	if u := in.unit; u != nil {
		// A unit merges with a unit of the same zone (mergeUnits), and
		// its counters are its own. (A domain in the compact tier has
		// none.)
		du := &domain{}
		if d != nil && d.unit != nil && bytes.Equal(d.unitZone, in.unitZone) {
			du = d.unit
		}
		if !importFits(du, u) {
			return overflow
		}
	}
	if d == nil && len(in.name) <= math.MaxUint8 {
		if i := e.cold.findName(in.name); i >= 0 {
			// Checked before the promotion, so that a refused import
			// changes nothing.
			if c := e.cold.at(i); !importFits(&domain{queries: uint64(c.queries), responses: uint64(c.responses)}, in) {
				return overflow
			}
			d = e.promote(i)
			e.touch(d)
		}
	}
	if !importFits(cmp.Or(d, &domain{}), in) {
		return overflow
	}

	if d == nil {
		id := e.newID()
		if id == 0 {
			return errors.New("engine: domain IDs exhausted")
		}
		finishDomain(in, hashes, &e.cfg)
		in.id = id
		if in.unit != nil {
			in.unit.id = id
		}
		e.domains[in.name] = in
		e.byID[in.id] = in
		e.cold.addHot(in)
		e.mem += int64(in.mem)
		d = in
	} else {
		before := d.mem
		e.merge(d, in, hashes)
		d.mem = memOf(d)
		e.mem += int64(d.mem - before)
	}
	for _, a := range owners {
		if _, ok := e.rawOwner[a]; !ok {
			e.rawOwner[a] = d.id
		}
	}
	e.touch(d)
	if in != d {
		before := d.mem
		e.maybeJudge(d, d.last)
		e.mem += int64(d.mem - before)
	}
	if e.memory() > e.cfg.MaxMemory {
		e.evict(d, 0)
	}
	return nil
}

// importFits reports whether in's counters can be added to d's and leave
// room for the traffic still to come: the bounds a snapshot holds
// (maxCount, maxBytes) halved, so that neither repeated imports nor the
// messages observed after one can make the engine write a snapshot that
// cannot be read back.
func importFits(d, in *domain) bool {
	const counts, byteCounts = maxCount / 2, maxBytes / 2
	return d.queries+in.queries <= counts && d.responses+in.responses <= counts && d.raw+in.raw <= counts &&
		d.dataAnswerBytes+in.dataAnswerBytes <= byteCounts && d.distinctAnswerBytes+in.distinctAnswerBytes <= byteCounts
}

// merge folds b (decoded, with its name hashes) into d; see ImportDomain.
func (e *Engine) merge(d, b *domain, hashes []uint64) {
	// Pending text: keep the imported names d has not seen. A line is a
	// subdomain, as observe hashes it (a name with a newline in a label
	// splits, hashes as unseen and is kept).
	var keep []byte
	dropped := uint64(0)
	for line := range bytes.Lines(b.pending) {
		if d.names.has(hashName(bytes.TrimSuffix(line, []byte{'\n'}))) {
			dropped += uint64(len(line))
		} else {
			keep = append(keep, line...)
		}
	}
	overlap := uint64(0)
	for _, h := range hashes {
		if !d.names.add(h) {
			overlap++
		}
	}
	d.unique += b.unique - overlap

	// The names both sides saw are counted once. Which of b's names they
	// were is not known: take them from its ordinary names first (those
	// recur), then IP-shaped, then data-like ones, each kind's sums in
	// proportion.
	plain := b.unique - b.ipShaped - b.dataNames
	rp := min(overlap, plain)
	ri := min(overlap-rp, b.ipShaped)
	rd := overlap - rp - ri
	plainBytes := b.uniqueBytes - min(b.subLenSum, b.uniqueBytes)
	rpBytes, rdBytes := part(plainBytes, rp, plain), part(b.subLenSum, rd, b.dataNames)
	d.uniqueBytes += b.uniqueBytes - min(rpBytes+rdBytes, b.uniqueBytes)
	d.ipShaped += b.ipShaped - ri
	d.dataNames += b.dataNames - rd
	// b's expansions among the names both sides saw are dropped: counted
	// here when they were expansions here too, else an undercount, which
	// never hides a channel.
	d.expansions = min(d.expansions+b.expansions-min(overlap, b.expansions), d.unique)
	d.expandedNames = d.expandedNames.union(b.expandedNames)
	d.repeats = mergeRepeats(d.repeats, b.repeats)
	d.digestNames += b.digestNames - part(b.digestNames, rd, b.dataNames)
	d.textNames += b.textNames - part(b.textNames, rd, b.dataNames)
	d.subLenSum += b.subLenSum - rdBytes
	d.subLenSq += b.subLenSq - part(b.subLenSq, rd, b.dataNames)
	nonIP := b.unique - b.ipShaped
	d.ngramSum += b.ngramSum - partSigned(b.ngramSum, rp+rd, nonIP)
	d.ngramN += b.ngramN - partSigned(b.ngramN, rp+rd, nonIP)
	// Compressed information: the removed names' text (a newline each)
	// less what was dropped from the pending text exactly.
	text := rpBytes + rdBytes + rp + rd
	text -= min(text, dropped)
	text = min(text, b.infoRaw)
	d.info += b.info - part(b.info, text, b.infoRaw)
	d.infoRaw += b.infoRaw - text
	d.pending = append(d.pending, keep...)
	if len(d.pending) >= pendingFlush {
		e.compress(d)
	}
	d.first, d.last = min(d.first, b.first), max(d.last, b.last)
	d.queries += b.queries
	d.responses += b.responses
	d.maxLabel = max(d.maxLabel, b.maxLabel)
	d.mixedCase += b.mixedCase
	d.estimated += b.estimated
	d.ednsData += b.ednsData
	mergeAnswers(d, b)
	if b.num != nil {
		if d.num == nil {
			d.num = new(numbered)
		}
		d.num.merge(b.num)
		d.syncNumbered()
	}
	if b.offPort > 0 && (d.offPort == 0 || b.last >= d.last) {
		d.offPortNum = b.offPortNum // the later side's last port
	}
	d.offPort += b.offPort
	d.flagged += b.flagged
	for i := range d.qtypes {
		d.qtypes[i] += b.qtypes[i]
	}
	d.nxdomain += b.nxdomain
	d.otherError += b.otherError
	d.answerData += b.answerData
	d.sizes += b.sizes
	for t := range d.tools {
		for s := range d.tools[t] {
			d.tools[t][s] = add32(d.tools[t][s], b.tools[t][s])
		}
	}
	d.raw += b.raw
	d.rawB += b.rawB
	for _, a := range b.resolved[:b.nResolved] {
		if d.nResolved < len(d.resolved) && !slices.Contains(d.resolved[:d.nResolved], a) {
			d.resolved[d.nResolved] = a
			d.nResolved++
		}
	}

	// Clients in address order, so that which ones fit is deterministic.
	// The names both sides saw are taken from b's clients in proportion
	// to their distinct names (largest remainders), so that the clients'
	// counts still add up.
	addrs := make([]netip.Addr, 0, b.clients.len())
	var total uint64
	for a, c := range b.clients.all() {
		addrs = append(addrs, a)
		total += c.unique
	}
	slices.SortFunc(addrs, netip.Addr.Compare)
	if overlap > 0 && total > 0 {
		cs := make([]*clientState, len(addrs))
		for i, a := range addrs {
			cs[i] = b.clients.get(a)
		}
		takeNames(cs, total, part(total, overlap, b.unique))
	}
	var notFit uint32
	for _, a := range addrs {
		bc := b.clients.get(a)
		c := d.clients.get(a)
		if c == nil {
			if d.clients.len() >= e.cfg.MaxClientsPerDomain {
				d.untracked = true // its address is in b.allClients
				notFit++
				continue
			}
			d.clients.put(a, bc)
			continue
		}
		mergeClient(c, bc)
	}
	d.allClients = d.allClients.union(b.allClients)
	d.untracked = d.untracked || b.untracked
	// Both sides' untracked clients may be the same hosts: the larger
	// lower bound holds.
	d.untrackedMin = max(d.untrackedMin, b.untrackedMin, notFit)

	for _, f := range b.files {
		if len(d.files) < maxFiles && !slices.Contains(d.files, f) {
			d.files = append(d.files, f)
		}
	}
	d.zones.merge(&b.zones)
	switch {
	case b.toolZones.names == 0:
	case d.toolZones.names == 0:
		d.toolZones.merge(&b.toolZones)
		d.zoneTool, d.toolNames = b.zoneTool, b.toolNames
	case d.zoneTool == b.zoneTool:
		d.toolZones.merge(&b.toolZones)
		d.toolNames += b.toolNames
	}
	for _, s := range b.samples {
		if len(d.samples) < maxSamples && !slices.ContainsFunc(d.samples, func(x []byte) bool { return bytes.Equal(x, s) }) {
			d.samples = append(d.samples, s)
		}
	}

	d.alertSev = max(d.alertSev, b.alertSev)
	d.announced = max(d.announced, b.announced)
	if b.firstAlert != 0 && (d.firstAlert == 0 || b.firstAlert < d.firstAlert) {
		d.firstAlert, d.firstAlertLookups = b.firstAlert, b.firstAlertLookups
	}
	d.nextJudge = min(d.nextJudge, b.nextJudge)
	d.nextJudgeData = min(d.nextJudgeData, b.nextJudgeData)
	if b.firstData != 0 && (d.firstData == 0 || b.firstData < d.firstData) {
		d.firstData = b.firstData
	}
	// Each side's queries before its own first data-like name: an
	// estimate (for the timeline only), low when one side had none.
	d.queriesBeforeData = min(d.queriesBeforeData+b.queriesBeforeData, d.queries)
	d.judgedStrong = add32(d.judgedStrong, b.judgedStrong)
	d.judgedRaw += b.judgedRaw

	switch {
	case b.hist == nil:
	case d.hist == nil:
		d.hist = b.hist
	default:
		d.hist = mergeHistory(d.hist, b.hist)
	}

	w := int64(e.cfg.Window)
	bq, bu := b.winQueries, b.winUnique
	switch {
	case b.winStart > d.winStart:
		if b.winStart-d.winStart < w {
			bq, bu = bq+d.winQueries, bu+d.winUnique
		}
		d.winStart, d.winQueries, d.winUnique = b.winStart, bq, bu
	case d.winStart-b.winStart < w:
		d.winQueries += bq
		d.winUnique += bu
	}
	d.peakQueries = max(d.peakQueries, b.peakQueries, d.winQueries)
	d.peakUniq = max(d.peakUniq, b.peakUniq, d.winUnique)
	switch {
	case b.day > d.day:
		d.day, d.dayRaw, d.dayAnswerBytes = b.day, b.dayRaw, b.dayAnswerBytes
	case b.day == d.day:
		d.dayRaw += b.dayRaw
		d.dayAnswerBytes += b.dayAnswerBytes
	}
	d.peakDayRaw = max(d.peakDayRaw, b.peakDayRaw, d.dayRaw)
	// The same day's distinct answers may overlap: never more than all
	// distinct answer data.
	d.dayAnswerBytes = min(d.dayAnswerBytes, d.distinctAnswerBytes)
	d.peakDayAnswerBytes = min(max(d.peakDayAnswerBytes, b.peakDayAnswerBytes, d.dayAnswerBytes), d.distinctAnswerBytes)
	e.mergeUnits(d, b)
}

// mergeRepeats unites two domains' repeated long labels whatever the
// order: a label both hold keeps the larger count (names both sides saw
// would otherwise count twice, and an undercount never hides a channel),
// and the repeatSlots seen most stay (then the smaller hash).
func mergeRepeats(a, b [repeatSlots]repeatedLabel) [repeatSlots]repeatedLabel {
	var all [2 * repeatSlots]repeatedLabel
	n := copy(all[:], a[:])
	for _, r := range b {
		if r.hash == 0 {
			continue
		}
		if j := slices.IndexFunc(all[:n], func(x repeatedLabel) bool { return x.hash == r.hash }); j >= 0 {
			all[j].seen = max(all[j].seen, r.seen)
			continue
		}
		all[n] = r
		n++
	}
	slices.SortFunc(all[:], func(x, y repeatedLabel) int {
		switch {
		case x.hash == 0 || y.hash == 0:
			return cmp.Compare(y.hash&1, x.hash&1) // taken slots first
		case x.seen != y.seen:
			return cmp.Compare(y.seen, x.seen)
		}
		return cmp.Compare(x.hash, y.hash)
	})
	var out [repeatSlots]repeatedLabel
	copy(out[:], all[:])
	return out
}

// mergeClient adds b's counts to c.
func mergeClient(c, b *clientState) {
	c.queries += b.queries
	c.responses += b.responses
	c.unique += b.unique
	c.uniqueBytes += b.uniqueBytes
	c.channel += b.channel
	c.first, c.last = min(c.first, b.first), max(c.last, b.last)
	c.lastQ = max(c.lastQ, b.lastQ)
	if n := c.gaps + b.gaps; b.gaps > 0 && c.gaps > 0 {
		na, nb, nn := float64(c.gaps), float64(b.gaps), float64(n)
		delta := b.gapMean - c.gapMean
		c.gapMean += delta * nb / nn
		c.gapM2 += b.gapM2 + delta*delta*na*nb/nn
		c.gaps = n
	} else if b.gaps > 0 {
		c.gaps, c.gapMean, c.gapM2 = b.gaps, b.gapMean, b.gapM2
	}
	for t := range c.strong {
		c.strong[t] = add32(c.strong[t], b.strong[t])
	}
}

// mergeHistory puts both timelines on the coarser width from the earlier
// start (a bucket goes where its start falls) and adds the histograms.
func mergeHistory(a, b *history) *history {
	h := &history{start: min(a.start, b.start), width: max(a.width, b.width)}
	hi := h.start
	for _, x := range [...]*history{a, b} {
		for i := timelineBuckets - 1; i >= 0; i-- {
			if x.queries[i] != 0 || x.bytes[i] != 0 {
				hi = max(hi, x.start+int64(i)*x.width)
				break
			}
		}
	}
	for (hi-h.start)/h.width >= timelineBuckets {
		h.width *= 2
	}
	for _, x := range [...]*history{a, b} {
		for i := range timelineBuckets {
			if x.queries[i] == 0 && x.bytes[i] == 0 {
				continue
			}
			s := (x.start + int64(i)*x.width - h.start) / h.width
			h.queries[s] = add32(h.queries[s], x.queries[i])
			h.bytes[s] = add32(h.bytes[s], x.bytes[i])
		}
		for i := range h.lengths {
			h.lengths[i] = add32(h.lengths[i], x.lengths[i])
		}
	}
	return h
}

// takeNames removes r of the total distinct names of clients cs (total is
// the sum of their counts, r <= total) in proportion to their counts,
// with largest remainders (earlier clients first among equals), and their
// bytes in proportion.
func takeNames(cs []*clientState, total, r uint64) {
	take := make([]uint64, len(cs))
	rem := make([]uint64, len(cs))
	left := r
	for i, c := range cs {
		hi, lo := bits.Mul64(c.unique, r)
		take[i], rem[i] = bits.Div64(hi, lo, total) // hi < total: c.unique, r <= total
		left -= take[i]
	}
	order := make([]int, len(cs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int { return cmp.Compare(rem[j], rem[i]) })
	for _, i := range order[:left] {
		take[i]++
	}
	for i, c := range cs {
		c.uniqueBytes -= part(c.uniqueBytes, take[i], c.unique)
		c.unique -= take[i]
	}
}

// part returns x*k/n for k <= n (0 when n is 0), without overflow.
func part(x, k, n uint64) uint64 {
	if n == 0 || k == 0 {
		return 0
	}
	if k >= n {
		return x
	}
	hi, lo := bits.Mul64(x, k)
	q, _ := bits.Div64(hi, lo, n) // hi < n because k < n
	return q
}

// partSigned is part for a signed x.
func partSigned(x int64, k, n uint64) int64 {
	if x < 0 {
		return -int64(part(uint64(-x), k, n))
	}
	return int64(part(uint64(x), k, n))
}

func add32(a, b uint32) uint32 {
	if s := a + b; s >= a {
		return s
	}
	return math.MaxUint32
}

// ---------------------------------------------------------------------
// Cold domains.

// coldRecord encodes the cold domain c into p.
func (e *Engine) coldRecord(p *enc, c *coldDomain) {
	p.u(uint64(c.id))
	p.bytes(e.cold.name(c))
	p.i(c.first)
	p.time(c.last, c.first)
	for _, v := range [...]uint32{c.queries, c.responses, c.sizes, c.answerData, c.ednsData, c.file} {
		p.u(uint64(v))
	}
	for _, v := range [...]uint16{c.ngramN, c.subBytes, c.nxdomain, c.otherError, c.mixedCase, c.estimated} {
		p.u(uint64(v))
	}
	p.u(uint64(c.moreClients))
	for _, v := range c.qtypes {
		p.u(uint64(v))
	}
	p.i(int64(c.ngramSum))
	p.u(uint64(c.ipShaped))
	p.u(uint64(c.maxLabel))
	p.u(uint64(c.nSubs))
	for _, h := range c.subs[:c.nSubs] {
		p.b = binary.LittleEndian.AppendUint64(p.b, h)
	}
	n := 0
	for k := range c.clients {
		if c.clientKind(k) != clientNone {
			n++
		}
	}
	p.u(uint64(n))
	for k, cc := range c.clients[:n] {
		p.addr(c.clientAddr(k))
		p.u(uint64(cc.queries))
		p.u(uint64(cc.responses))
	}
	p.bool(c.ref)
}

// decodeCold reads a cold domain written by coldRecord, whose clients
// decodeCold reads a cold domain written by coldRecord.
func decodeCold(r *dec, c *coldDomain) (name []byte) {
	c.id = r.u32("cold domain ID")
	if r.err == nil && c.id == 0 {
		r.fail("cold domain ID 0")
	}
	name = r.bytes(math.MaxUint8, "cold domain name")
	if r.err == nil && len(name) == 0 {
		r.fail("empty cold domain name")
	}
	c.first = r.i()
	r.checkTime(c.first, "first seen")
	c.last = r.time(c.first, "last seen")
	if r.err == nil && c.last < c.first {
		r.fail("%s: last seen before first seen", name)
	}
	for _, v := range [...]*uint32{&c.queries, &c.responses, &c.sizes, &c.answerData, &c.ednsData} {
		*v = uint32(r.max(math.MaxUint32/2, "cold counter"))
	}
	c.file = r.u32("file")
	for _, v := range [...]*uint16{&c.ngramN, &c.subBytes, &c.nxdomain, &c.otherError, &c.mixedCase, &c.estimated} {
		*v = uint16(r.max(math.MaxUint16, "cold counter"))
	}
	c.moreClients = clientSketch(r.u())
	for i := range c.qtypes {
		c.qtypes[i] = uint16(r.max(math.MaxUint16, "query type count"))
	}
	if sum := r.i(); sum < math.MinInt32 || sum > 0 {
		r.fail("n-gram sum %d out of range", sum)
	} else {
		c.ngramSum = int32(sum)
	}
	c.ipShaped = uint8(r.max(coldSubs, "IP-shaped names"))
	c.maxLabel = uint8(r.max(63, "longest label"))
	c.nSubs = uint8(r.max(coldSubs, "cold names"))
	if r.err == nil && c.ipShaped > c.nSubs {
		r.fail("%d IP-shaped names of %d", c.ipShaped, c.nSubs)
	}
	for i := range int(c.nSubs) {
		p := r.take(8)
		if p == nil {
			break
		}
		c.subs[i] = binary.LittleEndian.Uint64(p)
		for _, h := range c.subs[:i] {
			if h == c.subs[i] {
				r.fail("cold name hash repeated")
			}
		}
	}
	n := int(r.max(2, "cold clients"))
	for i := range n {
		a := r.addr("cold client")
		c.clients[i].queries = uint32(r.max(math.MaxUint32/2, "client queries"))
		c.clients[i].responses = uint32(r.max(math.MaxUint32/2, "client responses"))
		if r.err == nil && (!a.IsValid() || a.Zone() != "" || i == 1 && c.holds(0, a)) {
			r.fail("cold client %v invalid or repeated", a)
		}
		if r.err == nil {
			c.setClient(i, a)
		}
	}
	c.ref = r.bool("referenced")
	return name
}

// readCold reads the n cold domains of a snapshot into s, checking that
// names and IDs are unique among all domains (gone holds those evicted
// while reading) and dropping the ones beyond the memory cap.
func (e *Engine) readCold(rr *recReader, s *engineState, n uint64, gone map[string]uint32, goneIDs map[uint32]bool) error {
	s.cold.seed = e.cold.seed
	ids := map[uint32]bool{}
	var goneCold map[string]bool
	for read := uint64(0); read < n; {
		r, err := rr.expect(recCold)
		if err != nil {
			return err
		}
		k := r.count(int(min(chunkCold, n-read)), 8, "cold domains")
		if k == 0 && r.err == nil {
			r.fail("empty cold domain record")
		}
		for range k {
			var c coldDomain
			name := decodeCold(r, &c)
			if r.err != nil {
				break
			}
			h := s.cold.hash(name)
			_, hot := s.domains[string(name)]
			_, hotGone := gone[string(name)]
			if hot || hotGone || goneCold[string(name)] || s.cold.find(h, name) >= 0 ||
				s.byID[c.id] != nil || goneIDs[c.id] || ids[c.id] || c.id > s.nextID {
				r.fail("cold domain %q (ID %d) repeated or beyond the next ID %d", name, c.id, s.nextID)
				break
			}
			ids[c.id] = true
			if s.mem+s.cold.mem+int64(coldRecordBytes+len(name)) > e.cfg.MaxMemory {
				if goneCold == nil {
					goneCold = map[string]bool{}
				}
				goneCold[string(name)] = true
				s.stats.Evictions++
				continue
			}
			c.key = h
			i := s.cold.insert(h, name, c.id, c.first)
			c.nameOff = s.cold.at(i).nameOff
			c.nameLen = uint8(len(name))
			*s.cold.at(i) = c
		}
		if err := r.done("cold domains"); err != nil {
			return fmt.Errorf("record %d: %w", rr.n, err)
		}
		read += uint64(k)
	}
	return nil
}

// mergeAnswers folds b's data-carrying answers into d. Contents both sides
// saw count once; which of b's distinct contents they were is not known,
// so b's distinct bytes are reduced in proportion.
func mergeAnswers(d, b *domain) {
	d.dataResponses += b.dataResponses
	d.dataAnswerBytes += b.dataAnswerBytes
	overlap := uint64(0)
	for _, h := range b.answers.slots {
		if h != 0 && !d.answers.add(h) {
			overlap++
		}
	}
	overlap = min(overlap, b.distinctAnswers)
	d.distinctAnswers += b.distinctAnswers - overlap
	d.distinctAnswerBytes += b.distinctAnswerBytes - part(b.distinctAnswerBytes, overlap, b.distinctAnswers)
}

// readAddrSet reads the n addresses of tag records (contacted addresses,
// servers): each valid and given once. A set of none is nil.
func readAddrSet(rr *recReader, tag byte, n int, what string) (map[netip.Addr]struct{}, error) {
	if n == 0 {
		return nil, nil
	}
	set := make(map[netip.Addr]struct{}, min(n, 1024))
	for len(set) < n {
		r, err := rr.expect(tag)
		if err != nil {
			return nil, err
		}
		k := r.count(min(chunkAddrs, n-len(set)), 1, what+" addresses")
		if k == 0 && r.err == nil {
			r.fail("empty %s record", what)
		}
		for range k {
			a := r.addr(what + " address")
			if _, dup := set[a]; r.err == nil && (dup || !a.IsValid()) {
				r.fail("%s address %v repeated or invalid", what, a)
			}
			set[a] = struct{}{}
		}
		if err := r.done(what + " addresses"); err != nil {
			return nil, err
		}
	}
	return set, nil
}

// resolvers yields the addresses taken for resolvers (isServer): the
// ones a snapshot keeps.
func (e *Engine) resolvers() iter.Seq[netip.Addr] {
	return func(yield func(netip.Addr) bool) {
		for a, n := range e.servers {
			if n >= resolverResponses && !yield(a) {
				return
			}
		}
	}
}

// countSeq counts what seq yields.
func countSeq[T any](seq iter.Seq[T]) int {
	n := 0
	for range seq {
		n++
	}
	return n
}
