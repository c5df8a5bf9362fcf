package capture

import (
	"io"
	"math/bits"
)

// pcapng (draft-ietf-opsawg-pcapng): a sequence of blocks, each
// "type(4) total_length(4) body total_length(4)", total_length a multiple of
// 4. A Section Header Block starts every section, fixes the byte order of the
// section (through its byte-order magic) and discards the interfaces of the
// previous section. Packets come in Enhanced Packet Blocks, Simple Packet
// Blocks and the obsolete Packet Block.

const (
	blockSHB = 0x0A0D0D0A // Section Header Block (a palindrome: same in both byte orders)
	blockIDB = 0x00000001 // Interface Description Block
	blockPB  = 0x00000002 // Packet Block (obsolete)
	blockSPB = 0x00000003 // Simple Packet Block
	blockEPB = 0x00000006 // Enhanced Packet Block

	// Blocks that carry no network packet but that Wireshark (4.0) still
	// shows, and so numbers, as frames. They are skipped, yet consume a
	// frame number so that Record.Frame stays equal to tshark's frame.number.
	blockJournal     = 0x00000009 // systemd Journal Export Block
	blockSysdigEvent = 0x00000204 // sysdig event
	blockSysdigEvV2  = 0x00000216 // sysdig event v2
	blockSysdigEvV2L = 0x00000221 // sysdig event v2, large
	blockCBCopy      = 0x00000BAD // Custom Block that may be copied
	blockCBNoCopy    = 0x40000BAD // Custom Block that should not be copied
	minCBLen         = 16         // header 8 + PEN 4 + trailer 4

	minSHBLen = 28 // header 8 + BOM 4 + version 4 + section length 8 + trailer 4
	minIDBLen = 20 // header 8 + link type 2 + reserved 2 + snaplen 4 + trailer 4
	minEPBLen = 32 // header 8 + if id 4 + ts 8 + caplen 4 + origlen 4 + trailer 4
	minPBLen  = 32 // header 8 + if id 2 + drops 2 + ts 8 + caplen 4 + origlen 4 + trailer 4
	minSPBLen = 16 // header 8 + origlen 4 + trailer 4

	optEnd      = 0  // opt_endofopt
	optTSResol  = 9  // if_tsresol
	optTSOffset = 14 // if_tsoffset
)

// Timestamp conversion kinds for an interface.
const (
	tsMul  = iota // ns = ts * k
	tsDiv         // ns = ts / k
	tsPow2        // ns = ts * 1e9 / 2^k
	tsZero        // resolution too fine to express: ns = 0
)

// ngIface is what a packet block needs from its Interface Description Block.
type ngIface struct {
	linkType uint16
	snaplen  uint32
	tsKind   uint8
	tsK      uint64
	offsetNs int64 // if_tsoffset, in nanoseconds
}

// setResolution sets the conversion for an if_tsresol value: the most
// significant bit selects base 2, the rest is the negative exponent.
func (i *ngIface) setResolution(v uint8) {
	exp := uint64(v & 0x7f)
	if v&0x80 != 0 {
		i.tsKind, i.tsK = tsPow2, exp
		return
	}
	switch {
	case exp <= 9:
		i.tsKind, i.tsK = tsMul, pow10(9-exp)
	case exp-9 <= 19:
		i.tsKind, i.tsK = tsDiv, pow10(exp-9)
	default:
		i.tsKind, i.tsK = tsZero, 0
	}
}

func pow10(n uint64) uint64 {
	p := uint64(1)
	for ; n > 0; n-- {
		p *= 10
	}
	return p
}

// nanos converts a raw 64-bit timestamp to Unix nanoseconds. Values that do
// not fit wrap around; they never panic.
func (i *ngIface) nanos(ts uint64) int64 {
	var ns uint64
	switch i.tsKind {
	case tsMul:
		ns = ts * i.tsK
	case tsDiv:
		ns = ts / i.tsK
	case tsPow2:
		hi, lo := bits.Mul64(ts, 1e9)
		switch sh := i.tsK; {
		case sh == 0:
			ns = lo
		case sh < 64:
			ns = hi<<(64-sh) | lo>>sh
		default:
			ns = hi >> (sh - 64)
		}
	}
	return int64(ns) + i.offsetNs
}

// blockName names a block type in errors.
func blockName(t uint32) string {
	switch t {
	case blockSHB:
		return "section header block"
	case blockIDB:
		return "interface description block"
	case blockPB:
		return "packet block"
	case blockSPB:
		return "simple packet block"
	case blockEPB:
		return "enhanced packet block"
	case blockCBCopy, blockCBNoCopy:
		return "custom block"
	case blockJournal:
		return "systemd journal export block"
	case blockSysdigEvent, blockSysdigEvV2, blockSysdigEvV2L:
		return "sysdig event block"
	}
	return "block"
}

// sectionHeader reads a Section Header Block at the current position: it
// sets the byte order and forgets the interfaces of the previous section.
func (r *Reader) sectionHeader() error {
	s := r.src
	start := s.pos
	if !s.ensure(12) {
		return r.short(start, "section header block")
	}
	b := s.peek(12)
	switch {
	case b[8] == 0x1a && b[9] == 0x2b && b[10] == 0x3c && b[11] == 0x4d:
		r.be = true
	case b[8] == 0x4d && b[9] == 0x3c && b[10] == 0x2b && b[11] == 0x1a:
		r.be = false
	default:
		return r.fail(start, corruptf("section header block has a bad byte-order magic % x", b[8:12]))
	}
	blen, err := r.blockLen(start, blockSHB, r.u32(b[4:8]), minSHBLen)
	if err != nil {
		return err
	}
	r.ifaces = r.ifaces[:0]
	return r.skipBlock(start, blockSHB, blen)
}

// blockLen validates a block's total length.
func (r *Reader) blockLen(start int64, typ, blen uint32, min int) (int, error) {
	switch {
	case blen%4 != 0:
		return 0, r.fail(start, corruptf("%s length %d is not a multiple of 4", blockName(typ), blen))
	case blen < uint32(min):
		return 0, r.fail(start, corruptf("%s length %d is shorter than the %d-byte minimum", blockName(typ), blen, min))
	case blen > MaxBlockLen:
		return 0, r.fail(start, corruptf("%s length %d exceeds the %d-byte limit", blockName(typ), blen, MaxBlockLen))
	}
	return int(blen), nil
}

// skipBlock streams over a block of blen bytes starting at the current
// position, without buffering it, and checks its trailing length copy.
func (r *Reader) skipBlock(start int64, typ uint32, blen int) error {
	s := r.src
	if !s.skip(int64(blen - 4)) {
		return r.short(start, blockName(typ))
	}
	if !s.ensure(4) {
		return r.short(start, blockName(typ))
	}
	if t := r.u32(s.peek(4)); t != uint32(blen) {
		return r.fail(start, corruptf("%s trailing length %d does not match its length %d", blockName(typ), t, blen))
	}
	s.discard(4)
	return nil
}

// checkTrailer checks the trailing length copy of a buffered block b.
func (r *Reader) checkTrailer(start int64, typ uint32, b []byte) error {
	if t := r.u32(b[len(b)-4:]); t != uint32(len(b)) {
		return r.fail(start, corruptf("%s trailing length %d does not match its length %d", blockName(typ), t, len(b)))
	}
	return nil
}

// interfaceBlock parses a buffered Interface Description Block.
func (r *Reader) interfaceBlock(start int64, b []byte) error {
	if len(r.ifaces) >= MaxInterfaces {
		return r.fail(start, corruptf("more than %d interfaces in one section", MaxInterfaces))
	}
	iface := ngIface{linkType: r.u16(b[8:10]), snaplen: r.u32(b[12:16])}
	iface.setResolution(6) // default: microseconds
	opts := b[16 : len(b)-4]
	for len(opts) >= 4 {
		code, l := r.u16(opts[0:2]), int(r.u16(opts[2:4]))
		if code == optEnd || 4+l > len(opts) {
			break
		}
		v := opts[4 : 4+l]
		switch {
		case code == optTSResol && l >= 1:
			iface.setResolution(v[0])
		case code == optTSOffset && l >= 8:
			iface.offsetNs = int64(r.u64(v)) * 1e9
		}
		adv := 4 + (l+3)&^3
		if adv > len(opts) {
			break
		}
		opts = opts[adv:]
	}
	r.ifaces = append(r.ifaces, iface)
	return nil
}

// nextPCAPNG reads blocks until a packet block or the end of the stream.
func (r *Reader) nextPCAPNG(rec *Record) error {
	s := r.src
	for {
		start := s.pos
		if s.w-s.r < 8 && !s.fill(8) {
			if s.avail() == 0 && s.err == io.EOF {
				return io.EOF
			}
			return r.short(start, "block header")
		}
		h := s.buf[s.r : s.r+8]
		typ := r.u32(h[0:4])
		var min int
		switch typ {
		case blockSHB:
			if err := r.sectionHeader(); err != nil {
				return err
			}
			continue
		case blockEPB:
			min = minEPBLen
		case blockIDB:
			min = minIDBLen
		case blockSPB:
			min = minSPBLen
		case blockPB:
			min = minPBLen
		case blockJournal, blockSysdigEvent, blockSysdigEvV2, blockSysdigEvV2L, blockCBCopy, blockCBNoCopy:
			// Not network packets, but numbered as frames by Wireshark.
			min = 12
			if typ == blockCBCopy || typ == blockCBNoCopy {
				min = minCBLen
			}
			blen, err := r.blockLen(start, typ, r.u32(h[4:8]), min)
			if err != nil {
				return err
			}
			if err := r.skipBlock(start, typ, blen); err != nil {
				return err
			}
			r.frame++
			r.hidden++
			continue
		default:
			// Name resolution, interface statistics, decryption secrets and
			// unknown blocks: not frames.
			blen, err := r.blockLen(start, typ, r.u32(h[4:8]), 12)
			if err != nil {
				return err
			}
			if err := r.skipBlock(start, typ, blen); err != nil {
				return err
			}
			continue
		}
		blen, err := r.blockLen(start, typ, r.u32(h[4:8]), min)
		if err != nil {
			return err
		}
		if s.w-s.r < blen && !s.fill(blen) {
			return r.short(start, blockName(typ))
		}
		b := s.buf[s.r : s.r+blen : s.r+blen]
		if err := r.checkTrailer(start, typ, b); err != nil {
			return err
		}
		if typ == blockIDB {
			if err := r.interfaceBlock(start, b); err != nil {
				return err
			}
			s.discard(blen)
			continue
		}
		if err := r.packetBlock(start, typ, b, rec); err != nil {
			return err
		}
		s.discard(blen)
		return nil
	}
}

// packetBlock fills rec from a buffered EPB, SPB or PB.
func (r *Reader) packetBlock(start int64, typ uint32, b []byte, rec *Record) error {
	var ifid, caplen, origlen uint32
	var ts uint64
	var data int // offset of the packet data in b
	switch typ {
	case blockEPB:
		ifid = r.u32(b[8:12])
		ts = uint64(r.u32(b[12:16]))<<32 | uint64(r.u32(b[16:20]))
		caplen, origlen = r.u32(b[20:24]), r.u32(b[24:28])
		data = 28
	case blockPB:
		ifid = uint32(r.u16(b[8:10]))
		ts = uint64(r.u32(b[12:16]))<<32 | uint64(r.u32(b[16:20]))
		caplen, origlen = r.u32(b[20:24]), r.u32(b[24:28])
		data = 28
	case blockSPB:
		// Captured length = min(original length, snaplen of interface 0,
		// room in the block); the SPB has no timestamp.
		origlen = r.u32(b[8:12])
		data = 12
		caplen = uint32(len(b) - minSPBLen)
		if caplen > origlen {
			caplen = origlen
		}
		if len(r.ifaces) > 0 && r.ifaces[0].snaplen != 0 && caplen > r.ifaces[0].snaplen {
			caplen = r.ifaces[0].snaplen
		}
	}
	if int(ifid) >= len(r.ifaces) {
		return r.fail(start, corruptf("%s refers to interface %d but the section defines %d", blockName(typ), ifid, len(r.ifaces)))
	}
	if caplen > uint32(len(b)-4-data) {
		return r.fail(start, corruptf("%s captured length %d exceeds the block", blockName(typ), caplen))
	}
	if caplen > MaxCaplen {
		return r.fail(start, corruptf("%s captured length %d exceeds the %d-byte limit", blockName(typ), caplen, MaxCaplen))
	}
	iface := &r.ifaces[ifid]
	r.frame++
	rec.Frame = r.frame
	if typ == blockSPB {
		rec.Time = 0
	} else {
		rec.Time = iface.nanos(ts)
	}
	rec.LinkType = iface.linkType
	rec.OrigLen = int(origlen)
	rec.Data = b[data : data+int(caplen) : data+int(caplen)]
	rec.Offset = start
	return nil
}
