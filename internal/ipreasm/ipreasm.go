package ipreasm

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"slices"

	"github.com/dnsieve/dnsieve/internal/packet"
)

// Default configuration values, used for zero (or negative) Config fields.
const (
	DefaultMaxDatagrams   = 4096
	DefaultMaxDatagramLen = 65535
	DefaultMaxTotalBytes  = 32 << 20
	DefaultTimeout        = int64(30 * 1e9) // Linux net.ipv4.ipfrag_time
	DefaultMaxFragments   = 64
)

const (
	// minBuf is the smallest buffer allocated for a datagram's data.
	minBuf = 2048
	// retainBuf is the largest buffer kept with a released datagram for
	// reuse; larger ones are left to the garbage collector.
	retainBuf = 16 << 10
	// maxFree is the number of released datagrams (and their buffers) kept
	// for reuse, so idle memory stays below maxFree*retainBuf.
	maxFree = 64
)

// IPv6 extension headers that may follow a Fragment header in the
// fragmentable part (RFC 8200 section 4.1, RFC 4302 for AH).
const (
	ipv6Routing  = 43
	ipv6AH       = 51
	ipv6DestOpts = 60
)

// Config bounds the resources of a Reassembler. Zero fields take the defaults.
type Config struct {
	// MaxDatagrams is the number of datagrams being reassembled at once
	// (default 4096). A new datagram beyond it evicts the least recently
	// used one (Stats.Evicted).
	MaxDatagrams int
	// MaxDatagramLen is the largest reassembled datagram, in bytes of IP
	// payload (default 65535, the IPv4 maximum). A fragment that ends
	// beyond it is discarded (Stats.TooLarge).
	MaxDatagramLen int
	// MaxTotalBytes is the buffer capacity held over all datagrams (default
	// 32 MiB). When a datagram needs more, least recently used datagrams are
	// evicted (Stats.Evicted). Values below MaxDatagramLen are raised to it.
	MaxTotalBytes int64
	// Timeout is the capture time in nanoseconds without a new fragment
	// after which an incomplete datagram is dropped (default 30 s, Linux's
	// ipfrag_time; Stats.TimedOut).
	Timeout int64
	// MaxFragments is the number of fragments that may contribute data to
	// one datagram (default 64). The fragment beyond it drops the datagram
	// (Stats.TooMany): so many pieces are an evasion attempt, not a path MTU.
	MaxFragments int
}

func (c Config) withDefaults() Config {
	if c.MaxDatagrams <= 0 {
		c.MaxDatagrams = DefaultMaxDatagrams
	}
	if c.MaxDatagramLen <= 0 {
		c.MaxDatagramLen = DefaultMaxDatagramLen
	}
	if c.MaxTotalBytes <= 0 {
		c.MaxTotalBytes = DefaultMaxTotalBytes
	}
	if c.MaxTotalBytes < int64(c.MaxDatagramLen) {
		c.MaxTotalBytes = int64(c.MaxDatagramLen)
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxFragments <= 0 {
		c.MaxFragments = DefaultMaxFragments
	}
	return c
}

// Stats counts what a Reassembler has seen and done. All counters are
// cumulative except Active and BufferedBytes. Every fragment counted in
// Fragments ends up in exactly one of: a completed datagram (Datagrams or
// Unusable), Duplicates, Overlaps (when it brought no new byte), Invalid,
// TooLarge, or a dropped datagram (Discarded, TooMany, Evicted, TimedOut,
// Flushed, or still Active).
type Stats struct {
	// Fragments is the number of fragments passed to Add and examined.
	Fragments uint64
	// Ignored is the number of packets passed to Add that are not IP
	// fragments, or are IPv4 fragments of a protocol other than UDP or TCP.
	Ignored uint64
	// Datagrams is the number of datagrams completed and returned by Add.
	Datagrams uint64
	// Duplicates is the number of fragments all of whose bytes were already
	// held, with identical content (retransmissions, capture duplicates).
	Duplicates uint64
	// Overlaps is the number of fragments that overlapped bytes already held
	// and are not duplicates.
	Overlaps uint64
	// Conflicts is the number of overlapping fragments in which at least one
	// byte differs from the copy already held (a subset of Overlaps): a
	// strong sign of an evasion attempt.
	Conflicts uint64
	// Invalid is the number of fragments discarded as malformed: an empty
	// non-final fragment (after an IPv4 non-final length is rounded down to
	// a multiple of 8), an IPv6 non-final fragment whose length is not a
	// multiple of 8 (RFC 8200 section 4.5), or a fragment that disagrees
	// with the datagram's end: data past a known end, or a final fragment
	// ending elsewhere than a known end or before data already held.
	Invalid uint64
	// Discarded is the number of IPv6 datagrams dropped because a fragment
	// partially overlapped data already held (RFC 5722).
	Discarded uint64
	// Unusable is the number of completed datagrams dropped because they do
	// not carry a well-formed UDP or TCP header (an unknown or broken IPv6
	// extension header chain, a UDP length of 1..7 or beyond the datagram,
	// a TCP header that does not fit, another protocol).
	Unusable uint64
	// TooMany is the number of datagrams dropped because more than
	// MaxFragments fragments contributed data.
	TooMany uint64
	// TooLarge is the number of fragments discarded because they end beyond
	// MaxDatagramLen.
	TooLarge uint64
	// Evicted is the number of incomplete datagrams evicted because
	// MaxDatagrams or MaxTotalBytes was reached.
	Evicted uint64
	// TimedOut is the number of incomplete datagrams dropped after Timeout.
	TimedOut uint64
	// Flushed is the number of incomplete datagrams dropped by Flush.
	Flushed uint64
	// Active is the number of datagrams being reassembled now.
	Active uint64
	// BufferedBytes is the buffer capacity, in bytes, held over all active
	// datagrams now.
	BufferedBytes uint64
}

// key identifies one original datagram. For IPv4 it is source, destination,
// protocol and identification (RFC 791); for IPv6 source, destination and
// identification (RFC 8200 section 4.5), proto is 0.
type key struct {
	src, dst netip.Addr
	id       uint32
	proto    uint8
}

// piece is a range [off, end) of the datagram held at buf[at:at+end-off].
type piece struct {
	off, end, at int
}

// datagram is the reassembly state of one original datagram.
type datagram struct {
	key        key
	prev, next *datagram // LRU list (head is most recent); next links the free list
	lastSeen   int64

	v6        bool
	hasLast   bool  // the final fragment (More clear) has been accepted
	end       int   // datagram length, valid if hasLast
	haveFirst bool  // the offset-zero fragment has been accepted
	proto     uint8 // upper protocol: IPv4 key.proto, IPv6 Next Header of the offset-zero fragment
	frags     int   // fragments that contributed data
	held      int   // bytes held: sum of piece lengths, == len(buf)

	buf    []byte  // piece data in arrival order; cap(buf) is accounted
	pieces []piece // sorted by off, disjoint
}

// Reassembler reassembles IPv4 and IPv6 datagrams from their fragments. It
// is not safe for concurrent use.
type Reassembler struct {
	cfg   Config
	table map[key]*datagram
	head  *datagram // most recently used
	tail  *datagram // least recently used
	free  *datagram // released datagrams kept for reuse
	nfree int
	total int64 // sum of cap(d.buf) over active datagrams

	now    int64 // latest capture time seen
	nowSet bool

	out   []byte  // the last reassembled datagram, returned through Add's out
	tmp   []piece // scratch for piece insertion
	stats Stats
}

// New returns a Reassembler bounded by cfg (zero fields take the defaults).
func New(cfg Config) *Reassembler {
	return &Reassembler{
		cfg:   cfg.withDefaults(),
		table: make(map[key]*datagram),
	}
}

// Config returns the effective configuration, defaults applied.
func (r *Reassembler) Config() Config { return r.cfg }

// Stats returns the current counters.
func (r *Reassembler) Stats() Stats {
	s := r.stats
	s.Active = uint64(len(r.table))
	s.BufferedBytes = uint64(r.total)
	return s
}

// Add takes one fragment p, as filled by packet.Decode (p.Frag.IsFragment
// set, p.Frag.Data holding the fragment's bytes), seen in frame frame at
// capture time ts (Unix nanoseconds). Packets that are not fragments, and
// IPv4 fragments of protocols other than UDP and TCP, are counted in
// Stats.Ignored. frame is the caller's frame number: when Add returns true
// the datagram was completed by that frame, which is where Wireshark shows
// the reassembled message.
//
// When the fragment completes a datagram that carries a well-formed UDP or
// TCP header, Add returns true and fills out with the datagram decoded to
// its transport: Src, Dst, Proto, SrcPort, DstPort, Payload (the whole UDP
// payload, trimmed by the UDP length; or the TCP segment data, with TCPSeq
// and TCPFlags) and a zero Frag. out.Payload points into a buffer owned by
// the Reassembler and stays valid until the next call to Add. out may be p.
// Checksums are not verified.
//
// Overlap policy: for IPv4 the first copy of every byte wins (bytes already
// held are kept; a later fragment only fills holes). For IPv6 a fragment
// that lies entirely within bytes already held is ignored (first copy
// wins), and one that overlaps held bytes while also bringing new ones
// drops the whole datagram (RFC 5722); fragments arriving afterwards start
// a new datagram. Identical repeats are counted as Duplicates, other
// overlaps as Overlaps and, when a byte differs, Conflicts. See the package
// documentation for the remaining rules.
func (r *Reassembler) Add(frame uint64, ts int64, p *packet.Packet, out *packet.Packet) bool {
	_ = frame // the completing frame is the caller's current frame
	if p == nil || !p.Frag.IsFragment {
		r.stats.Ignored++
		return false
	}
	v6 := !p.Src.Is4()
	k := key{src: p.Src, dst: p.Dst, id: p.Frag.ID, proto: p.Frag.Proto}
	if v6 {
		k.proto = 0
	} else if k.proto != packet.ProtoUDP && k.proto != packet.ProtoTCP {
		r.stats.Ignored++
		return false
	}
	r.stats.Fragments++
	if !r.nowSet || ts > r.now {
		r.now, r.nowSet = ts, true
	}
	r.expire()

	off := int(p.Frag.Offset)
	data := p.Frag.Data
	more := p.Frag.More
	end := off + len(data)
	if more {
		if end&7 != 0 {
			if v6 {
				// RFC 8200 section 4.5: a non-final fragment whose
				// length is not a multiple of 8 is discarded.
				r.stats.Invalid++
				return false
			}
			// IPv4: offsets count 8-byte units, so only a multiple of 8
			// can be followed; the tail is ignored, as Linux does.
			end &^= 7
			data = data[:end-off]
		}
		if end == off {
			r.stats.Invalid++
			return false
		}
	}
	if end > r.cfg.MaxDatagramLen {
		r.stats.TooLarge++
		return false
	}

	d := r.table[k]
	if d != nil {
		held := 0
		if n := len(d.pieces); n > 0 {
			held = d.pieces[n-1].end
		}
		if (d.hasLast && (end > d.end || (!more && end != d.end))) || (!more && end < held) {
			r.stats.Invalid++
			return false
		}
		r.touch(d)
	} else {
		d = r.newDatagram(k, v6)
	}

	if !more {
		// Like Linux, a final fragment fixes the end even when its bytes
		// were all held already.
		d.hasLast, d.end = true, end
	}
	switch r.insert(d, off, data) {
	case dropped:
		return false
	case added:
		if off == 0 && !d.haveFirst {
			d.haveFirst = true
			if v6 {
				d.proto = p.Frag.Proto
			}
		}
	}
	if !d.hasLast || d.held != d.end {
		return false
	}
	return r.complete(d, p.Src, p.Dst, out)
}

// Outcomes of insert.
const (
	added   = iota // the fragment brought new bytes
	ignored        // every byte was held already: first copy wins
	dropped        // the datagram was dropped
)

// insert adds the bytes of a fragment at offset off to d, applying the
// overlap policy and the MaxFragments cap.
func (r *Reassembler) insert(d *datagram, off int, data []byte) int {
	end := off + len(data)
	// First piece ending after off.
	first, _ := slices.BinarySearchFunc(d.pieces, off, func(p piece, off int) int {
		if p.end <= off {
			return -1
		}
		return 1
	})
	gaps, newBytes := 0, 0
	overlap, conflict := false, false
	cur := off
	k := first
	for ; k < len(d.pieces) && d.pieces[k].off < end; k++ {
		pc := d.pieces[k]
		if pc.off > cur {
			gaps++
			newBytes += pc.off - cur
		}
		lo, hi := max(off, pc.off), min(end, pc.end)
		overlap = true
		if !conflict && !bytes.Equal(data[lo-off:hi-off], d.buf[pc.at+lo-pc.off:pc.at+hi-pc.off]) {
			conflict = true
		}
		cur = max(cur, pc.end)
	}
	if cur < end {
		gaps++
		newBytes += end - cur
	}
	if overlap {
		if newBytes == 0 && !conflict {
			r.stats.Duplicates++
			return ignored
		}
		r.stats.Overlaps++
		if conflict {
			r.stats.Conflicts++
		}
		if newBytes == 0 {
			return ignored // first copy wins, for IPv4 and IPv6
		}
		if d.v6 {
			r.stats.Discarded++
			r.drop(d)
			return dropped
		}
	}
	if d.frags >= r.cfg.MaxFragments {
		r.stats.TooMany++
		r.drop(d)
		return dropped
	}
	d.frags++
	r.grow(d, newBytes)

	if gaps == 1 && !overlap {
		at := len(d.buf)
		d.buf = append(d.buf, data...)
		d.held += len(data)
		if first > 0 {
			if pr := &d.pieces[first-1]; pr.end == off && pr.at+pr.end-pr.off == at {
				pr.end = end // continues the previous piece in the buffer too
				return added
			}
		}
		d.pieces = slices.Insert(d.pieces, first, piece{off: off, end: end, at: at})
		return added
	}
	// Fill every hole of [off, end), merging through the scratch slice.
	tmp := append(r.tmp[:0], d.pieces[:first]...)
	cur = off
	for k = first; k < len(d.pieces) && d.pieces[k].off < end; k++ {
		pc := d.pieces[k]
		if pc.off > cur {
			tmp = append(tmp, r.hold(d, cur, data[cur-off:pc.off-off]))
		}
		tmp = append(tmp, pc)
		cur = max(cur, pc.end)
	}
	if cur < end {
		tmp = append(tmp, r.hold(d, cur, data[cur-off:]))
	}
	tmp = append(tmp, d.pieces[k:]...)
	d.pieces = append(d.pieces[:0], tmp...)
	r.tmp = tmp[:0]
	return added
}

// hold appends b, which goes at offset off, to d's buffer and returns its piece.
func (r *Reassembler) hold(d *datagram, off int, b []byte) piece {
	at := len(d.buf)
	d.buf = append(d.buf, b...)
	d.held += len(b)
	return piece{off: off, end: off + len(b), at: at}
}

// grow makes room for n more bytes in d's buffer, within MaxTotalBytes.
// The buffer never exceeds MaxDatagramLen, since the pieces are disjoint
// and end at most there.
func (r *Reassembler) grow(d *datagram, n int) {
	need := len(d.buf) + n
	if need <= cap(d.buf) {
		return
	}
	newCap := max(need, 2*cap(d.buf), minBuf)
	if d.hasLast {
		newCap = min(newCap, max(need, d.end)) // the final size is known
	}
	newCap = min(newCap, r.cfg.MaxDatagramLen)
	delta := newCap - cap(d.buf)
	r.reserve(d, int64(delta))
	nb := make([]byte, len(d.buf), newCap)
	copy(nb, d.buf)
	d.buf = nb
	r.total += int64(delta)
}

// reserve makes room for delta more buffer bytes for d by evicting least
// recently used datagrams other than d. d is at the head of the LRU list,
// and alone its buffer fits in MaxTotalBytes (MaxDatagramLen at most).
func (r *Reassembler) reserve(d *datagram, delta int64) {
	for r.total+delta > r.cfg.MaxTotalBytes && r.tail != nil && r.tail != d {
		r.stats.Evicted++
		r.drop(r.tail)
	}
}

// complete assembles d into r.out, releases d, and decodes the transport
// header into out.
func (r *Reassembler) complete(d *datagram, src, dst netip.Addr, out *packet.Packet) bool {
	if cap(r.out) < d.end {
		r.out = make([]byte, 0, min(max(d.end, 2*cap(r.out), 4096), r.cfg.MaxDatagramLen))
	}
	buf := r.out[:d.end]
	for _, pc := range d.pieces {
		copy(buf[pc.off:pc.end], d.buf[pc.at:pc.at+pc.end-pc.off])
	}
	proto, v6 := d.proto, d.v6
	r.drop(d)
	if v6 {
		proto, buf = skipExtensions(proto, buf)
	}
	*out = packet.Packet{Src: src, Dst: dst, Proto: proto}
	if !decodeTransport(proto, buf, out) {
		*out = packet.Packet{}
		r.stats.Unusable++
		return false
	}
	r.stats.Datagrams++
	return true
}

// skipExtensions walks the IPv6 extension headers at the start of a
// reassembled fragmentable part (RFC 8200 section 4: Routing and
// Destination Options; RFC 4302 section 2.2: AH) and returns the protocol
// and data that follow. A header that does not fit gives protocol 0
// (Hop-by-Hop, which is never valid here), so the datagram is unusable.
// Every header is at least 8 bytes long, so the loop ends.
func skipExtensions(next uint8, b []byte) (uint8, []byte) {
	for {
		var n int
		switch next {
		case ipv6Routing, ipv6DestOpts:
			if len(b) < 8 {
				return 0, nil
			}
			n = (int(b[1]) + 1) * 8
		case ipv6AH:
			if len(b) < 8 {
				return 0, nil
			}
			n = (int(b[1]) + 2) * 4
		default:
			return next, b
		}
		if n > len(b) {
			return 0, nil
		}
		next, b = b[0], b[n:]
	}
}

// decodeTransport fills the transport fields of out from a whole UDP
// datagram (RFC 768) or TCP segment (RFC 9293) and reports whether its
// header is well-formed.
func decodeTransport(proto uint8, b []byte, out *packet.Packet) bool {
	switch proto {
	case packet.ProtoUDP:
		if len(b) < 8 {
			return false
		}
		ulen := int(binary.BigEndian.Uint16(b[4:6]))
		switch {
		case ulen == 0:
			ulen = len(b) // RFC 2675 style: the IP length delimits it
		case ulen < 8 || ulen > len(b):
			return false
		}
		out.SrcPort = binary.BigEndian.Uint16(b[0:2])
		out.DstPort = binary.BigEndian.Uint16(b[2:4])
		out.Payload = b[8:ulen]
		return true
	case packet.ProtoTCP:
		if len(b) < 20 {
			return false
		}
		hl := int(b[12]>>4) * 4
		if hl < 20 || hl > len(b) {
			return false
		}
		out.SrcPort = binary.BigEndian.Uint16(b[0:2])
		out.DstPort = binary.BigEndian.Uint16(b[2:4])
		out.TCPSeq = binary.BigEndian.Uint32(b[4:8])
		out.TCPFlags = b[13]
		out.Payload = b[hl:]
		return true
	}
	return false
}

// Flush ends the input: it drops every incomplete datagram (Stats.Flushed)
// and resets the clock.
func (r *Reassembler) Flush() {
	for r.tail != nil {
		r.stats.Flushed++
		r.drop(r.tail)
	}
	r.nowSet = false
	r.now = 0
}

// expire drops datagrams without a fragment for longer than Timeout,
// least recently used first.
func (r *Reassembler) expire() {
	for t := r.tail; t != nil; t = r.tail {
		// r.now >= t.lastSeen, so the difference fits in a uint64.
		if uint64(r.now)-uint64(t.lastSeen) <= uint64(r.cfg.Timeout) {
			return
		}
		r.stats.TimedOut++
		r.drop(t)
	}
}

// newDatagram returns a new datagram for k at the head of the LRU list,
// reusing a released one (and its buffer) when possible.
func (r *Reassembler) newDatagram(k key, v6 bool) *datagram {
	if len(r.table) >= r.cfg.MaxDatagrams && r.tail != nil {
		r.stats.Evicted++
		r.drop(r.tail)
	}
	d := r.free
	if d != nil {
		r.free = d.next
		r.nfree--
		d.next = nil
	} else {
		d = new(datagram)
	}
	d.key, d.v6, d.proto = k, v6, k.proto
	r.table[k] = d
	r.pushHead(d)
	if c := int64(cap(d.buf)); c > 0 {
		r.reserve(d, c)
		r.total += c
	}
	return d
}

// touch marks d as just used.
func (r *Reassembler) touch(d *datagram) {
	d.lastSeen = r.now
	if r.head == d {
		return
	}
	r.unlink(d)
	r.pushHead(d)
}

func (r *Reassembler) pushHead(d *datagram) {
	d.prev = nil
	d.next = r.head
	if r.head != nil {
		r.head.prev = d
	}
	r.head = d
	if r.tail == nil {
		r.tail = d
	}
	d.lastSeen = r.now
}

func (r *Reassembler) unlink(d *datagram) {
	if d.prev != nil {
		d.prev.next = d.next
	} else {
		r.head = d.next
	}
	if d.next != nil {
		d.next.prev = d.prev
	} else {
		r.tail = d.prev
	}
	d.prev, d.next = nil, nil
}

// drop forgets d and keeps it, with a small enough buffer, for reuse.
func (r *Reassembler) drop(d *datagram) {
	r.unlink(d)
	delete(r.table, d.key)
	r.total -= int64(cap(d.buf))
	if r.nfree >= maxFree {
		*d = datagram{}
		return
	}
	buf, pieces := d.buf[:0], d.pieces[:0]
	if cap(buf) > retainBuf {
		buf = nil
	}
	*d = datagram{buf: buf, pieces: pieces, next: r.free}
	r.free = d
	r.nfree++
}
