package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"testing"
)

// want is an expected record (Data copied).
type want struct {
	Frame    uint64
	Time     int64
	LinkType uint16
	OrigLen  int
	Data     []byte
	Offset   int64
	End      int64 // offset just past the record or block
}

// capBuilder writes captures by hand, in either byte order, and remembers
// the records a correct reader must return.
type capBuilder struct {
	buf   bytes.Buffer
	order byteOrder
	want  []want
	// spans are the [start, end) byte ranges of the file header, every
	// record and every block, in order.
	spans  [][2]int64
	hidden int // blocks numbered as frames but not returned
	// pcapng state
	ifaces []ngIfaceSpec
	// pcap state
	nano     bool
	linkType uint16
}

type ngIfaceSpec struct {
	linkType uint16
	snaplen  uint32
	resol    uint8
	offset   int64
}

type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

func order(be bool) byteOrder {
	if be {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

func (b *capBuilder) u16(v uint16)  { b.buf.Write(b.order.AppendUint16(nil, v)) }
func (b *capBuilder) u32(v uint32)  { b.buf.Write(b.order.AppendUint32(nil, v)) }
func (b *capBuilder) bytes() []byte { return b.buf.Bytes() }

// newPCAP starts a classic pcap file.
func newPCAP(be, nano bool, linkType uint16) *capBuilder {
	b := &capBuilder{order: order(be), nano: nano, linkType: linkType}
	if nano {
		b.u32(0xa1b23c4d)
	} else {
		b.u32(0xa1b2c3d4)
	}
	b.u16(2)
	b.u16(4)
	b.u32(0)
	b.u32(0)
	b.u32(65535)
	b.u32(uint32(linkType))
	b.spans = append(b.spans, [2]int64{0, int64(b.buf.Len())})
	return b
}

// record appends a pcap record with timestamp sec/frac.
func (b *capBuilder) record(sec, frac uint32, data []byte, orig int) {
	off := int64(b.buf.Len())
	b.u32(sec)
	b.u32(frac)
	b.u32(uint32(len(data)))
	b.u32(uint32(orig))
	b.buf.Write(data)
	b.spans = append(b.spans, [2]int64{off, int64(b.buf.Len())})
	mul := int64(1000)
	if b.nano {
		mul = 1
	}
	b.want = append(b.want, want{
		Frame: uint64(len(b.want) + 1), Time: int64(sec)*1e9 + int64(frac)*mul,
		LinkType: b.linkType, OrigLen: orig, Data: append([]byte(nil), data...),
		Offset: off, End: int64(b.buf.Len()),
	})
}

// newNG starts a pcapng file with a section header in the given byte order.
func newNG(be bool) *capBuilder {
	b := &capBuilder{}
	b.shb(be)
	return b
}

func pad4(n int) int { return (n + 3) &^ 3 }

// block appends a raw block with the given body (padded to 4 bytes).
func (b *capBuilder) block(typ uint32, body []byte) {
	start := int64(b.buf.Len())
	n := 12 + pad4(len(body))
	b.u32(typ)
	b.u32(uint32(n))
	b.buf.Write(body)
	b.buf.Write(make([]byte, pad4(len(body))-len(body)))
	b.u32(uint32(n))
	b.spans = append(b.spans, [2]int64{start, int64(b.buf.Len())})
}

// numbered appends a non-packet block that Wireshark numbers as a frame.
func (b *capBuilder) numbered(typ uint32, body []byte) {
	b.block(typ, body)
	b.hidden++
}

// shb appends a section header (with a comment option) and resets interfaces.
func (b *capBuilder) shb(be bool) {
	b.order = order(be)
	b.ifaces = nil
	var body []byte
	body = b.order.AppendUint32(body, 0x1a2b3c4d)
	body = b.order.AppendUint16(body, 1)
	body = b.order.AppendUint16(body, 0)
	body = b.order.AppendUint64(body, ^uint64(0))
	body = b.opt(body, 1, []byte("made by capture tests"))
	body = b.opt(body, 0, nil)
	b.block(blockSHB, body)
}

func (b *capBuilder) opt(body []byte, code uint16, v []byte) []byte {
	body = b.order.AppendUint16(body, code)
	body = b.order.AppendUint16(body, uint16(len(v)))
	body = append(body, v...)
	return append(body, make([]byte, pad4(len(v))-len(v))...)
}

// idb appends an interface; resol 0xff means "no if_tsresol option".
func (b *capBuilder) idb(linkType uint16, snaplen uint32, resol uint8, offset int64) {
	var body []byte
	body = b.order.AppendUint16(body, linkType)
	body = b.order.AppendUint16(body, 0)
	body = b.order.AppendUint32(body, snaplen)
	body = b.opt(body, 2, []byte("eth0"))
	if resol != 0xff {
		body = b.opt(body, optTSResol, []byte{resol})
	} else {
		resol = 6
	}
	if offset != 0 {
		body = b.opt(body, optTSOffset, b.order.AppendUint64(nil, uint64(offset)))
	}
	body = b.opt(body, 0, nil)
	b.block(blockIDB, body)
	b.ifaces = append(b.ifaces, ngIfaceSpec{linkType, snaplen, resol, offset})
}

// expectNs converts a raw timestamp the slow, obvious way.
func expectNs(spec ngIfaceSpec, ts uint64) int64 {
	exp := int(spec.resol & 0x7f)
	var ns uint64
	if spec.resol&0x80 != 0 {
		secs := ts >> exp
		frac := ts & (1<<exp - 1)
		ns = secs*1e9 + frac*1e9>>exp // fine for exp <= 30 as used in tests
	} else if exp <= 9 {
		ns = ts * pow10(uint64(9-exp))
	} else {
		ns = ts / pow10(uint64(exp-9))
	}
	return int64(ns) + spec.offset*1e9
}

func (b *capBuilder) add(w want) {
	w.Frame = uint64(len(b.want) + 1 + b.hidden)
	w.End = int64(b.buf.Len())
	b.want = append(b.want, w)
}

// epb appends an Enhanced Packet Block (with an option) on interface ifid.
func (b *capBuilder) epb(ifid uint32, ts uint64, data []byte, orig int) {
	off := int64(b.buf.Len())
	var body []byte
	body = b.order.AppendUint32(body, ifid)
	body = b.order.AppendUint32(body, uint32(ts>>32))
	body = b.order.AppendUint32(body, uint32(ts))
	body = b.order.AppendUint32(body, uint32(len(data)))
	body = b.order.AppendUint32(body, uint32(orig))
	body = append(body, data...)
	body = append(body, make([]byte, pad4(len(data))-len(data))...)
	body = b.opt(body, 2, b.order.AppendUint32(nil, 1)) // epb_flags: inbound
	body = b.opt(body, 0, nil)
	b.block(blockEPB, body)
	spec := b.ifaces[ifid]
	b.add(want{Time: expectNs(spec, ts), LinkType: spec.linkType, OrigLen: orig, Data: append([]byte(nil), data...), Offset: off})
}

// pb appends an obsolete Packet Block.
func (b *capBuilder) pb(ifid uint16, ts uint64, data []byte, orig int) {
	off := int64(b.buf.Len())
	var body []byte
	body = b.order.AppendUint16(body, ifid)
	body = b.order.AppendUint16(body, 0)
	body = b.order.AppendUint32(body, uint32(ts>>32))
	body = b.order.AppendUint32(body, uint32(ts))
	body = b.order.AppendUint32(body, uint32(len(data)))
	body = b.order.AppendUint32(body, uint32(orig))
	body = append(body, data...)
	b.block(blockPB, body)
	spec := b.ifaces[ifid]
	b.add(want{Time: expectNs(spec, ts), LinkType: spec.linkType, OrigLen: orig, Data: append([]byte(nil), data...), Offset: off})
}

// spb appends a Simple Packet Block holding data; the expected captured
// bytes are cut to min(orig, snaplen of interface 0).
func (b *capBuilder) spb(data []byte, orig int) {
	off := int64(b.buf.Len())
	var body []byte
	body = b.order.AppendUint32(body, uint32(orig))
	body = append(body, data...)
	b.block(blockSPB, body)
	spec := b.ifaces[0]
	got := data
	if len(got) > orig {
		got = got[:orig]
	}
	if spec.snaplen != 0 && len(got) > int(spec.snaplen) {
		got = got[:spec.snaplen]
	}
	// Padding is part of the block: a reader sees it when orig and snaplen
	// allow, so tests keep len(data) a multiple of 4 or orig <= len(data).
	b.add(want{Time: 0, LinkType: spec.linkType, OrigLen: orig, Data: append([]byte(nil), got...), Offset: off})
}

// frameData makes a deterministic DNS-sized payload.
func frameData(i, n int) []byte {
	d := make([]byte, n)
	for j := range d {
		d[j] = byte(i*7 + j*13)
	}
	return d
}

// readAll reads every record, copying Data, and returns the terminal error
// (nil for a clean io.EOF).
func readAll(t testing.TB, r *Reader) ([]want, error) {
	t.Helper()
	var out []want
	var rec Record
	for {
		err := r.Next(&rec)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, want{Frame: rec.Frame, Time: rec.Time, LinkType: rec.LinkType,
			OrigLen: rec.OrigLen, Data: append([]byte(nil), rec.Data...), Offset: rec.Offset})
		if len(out) > 10_000_000 {
			t.Fatal("runaway reader")
		}
	}
}

func readBytes(t testing.TB, data []byte, name string) ([]want, *Reader, error) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data), name)
	if err != nil {
		return nil, nil, err
	}
	recs, err := readAll(t, r)
	return recs, r, err
}

// sameRecords compares records field by field (End is not compared).
func sameRecords(got, exp []want) error {
	if len(got) != len(exp) {
		return fmt.Errorf("got %d records, want %d", len(got), len(exp))
	}
	for i := range got {
		g, e := got[i], exp[i]
		if g.Frame != e.Frame || g.Time != e.Time || g.LinkType != e.LinkType || g.OrigLen != e.OrigLen ||
			g.Offset != e.Offset || !bytes.Equal(g.Data, e.Data) {
			return fmt.Errorf("record %d: got {frame %d time %d link %d orig %d off %d len %d}, want {frame %d time %d link %d orig %d off %d len %d} (data equal %v)",
				i, g.Frame, g.Time, g.LinkType, g.OrigLen, g.Offset, len(g.Data),
				e.Frame, e.Time, e.LinkType, e.OrigLen, e.Offset, len(e.Data), bytes.Equal(g.Data, e.Data))
		}
	}
	return nil
}

func asError(t testing.TB, err error) *Error {
	t.Helper()
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T) is not a *Error", err, err)
	}
	return ce
}
