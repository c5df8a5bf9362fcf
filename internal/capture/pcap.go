package capture

import (
	"encoding/binary"
	"io"
)

// Classic libpcap format (https://www.tcpdump.org/manpages/pcap-savefile.5.html,
// draft-ietf-opsawg-pcap): a 24-byte file header, then records made of a
// 16-byte header (ts_sec, ts_usec or ts_nsec, incl_len, orig_len) and
// incl_len bytes of data, all in the byte order of the magic number.

const (
	pcapFileHeaderLen   = 24
	pcapRecordHeaderLen = 16
)

// pcapHeader parses the 24-byte file header; the magic was already checked.
func (r *Reader) pcapHeader(bigEndian, nano bool) error {
	r.format = FormatPCAP
	r.be, r.nano = bigEndian, nano
	s := r.src
	if !s.ensure(pcapFileHeaderLen) {
		return r.short(0, "pcap file header")
	}
	h := s.peek(pcapFileHeaderLen)
	// The link-type field keeps the LINKTYPE_ value in its low 16 bits; the
	// upper bits may carry FCS information (pcap-savefile LinkType field).
	r.linkType = uint16(r.u32(h[20:24]))
	s.discard(pcapFileHeaderLen)
	return nil
}

func (r *Reader) u16(b []byte) uint16 {
	if r.be {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (r *Reader) u32(b []byte) uint32 {
	if r.be {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (r *Reader) u64(b []byte) uint64 {
	if r.be {
		return binary.BigEndian.Uint64(b)
	}
	return binary.LittleEndian.Uint64(b)
}

// nextPCAP reads one pcap record.
func (r *Reader) nextPCAP(rec *Record) error {
	s := r.src
	if s.w-s.r < pcapRecordHeaderLen && !s.fill(pcapRecordHeaderLen) {
		if s.avail() == 0 && s.err == io.EOF {
			return io.EOF
		}
		return r.short(s.pos, "packet record")
	}
	h := s.buf[s.r : s.r+pcapRecordHeaderLen]
	var sec, frac, incl, orig uint32
	if r.be {
		sec = binary.BigEndian.Uint32(h[0:4])
		frac = binary.BigEndian.Uint32(h[4:8])
		incl = binary.BigEndian.Uint32(h[8:12])
		orig = binary.BigEndian.Uint32(h[12:16])
	} else {
		sec = binary.LittleEndian.Uint32(h[0:4])
		frac = binary.LittleEndian.Uint32(h[4:8])
		incl = binary.LittleEndian.Uint32(h[8:12])
		orig = binary.LittleEndian.Uint32(h[12:16])
	}
	if incl > MaxCaplen {
		return r.fail(s.pos, corruptf("packet record claims %d captured bytes, more than the %d-byte limit", incl, MaxCaplen))
	}
	n := pcapRecordHeaderLen + int(incl)
	if s.w-s.r < n && !s.fill(n) {
		return r.short(s.pos, "packet record")
	}
	ns := int64(frac)
	if !r.nano {
		ns *= 1000
	}
	r.frame++
	rec.Frame = r.frame
	rec.Time = int64(sec)*1e9 + ns
	rec.LinkType = r.linkType
	rec.OrigLen = int(orig)
	rec.Data = s.buf[s.r+pcapRecordHeaderLen : s.r+n : s.r+n]
	rec.Offset = s.pos
	s.r += n
	s.pos += int64(n)
	return nil
}
