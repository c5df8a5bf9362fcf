package capture

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"
)

// FuzzReader feeds arbitrary bytes through NewReader and Next. Invariants: no
// panic; errors are io.EOF or *Error and sticky; frame numbers increase by
// exactly one per record (plus any numbered non-packet blocks); offsets
// increase; Data respects the limits and, for uncompressed input, is exactly
// the bytes at its record's offset; pcap records agree with pcapgo; at the
// clean end the digest of WithSHA256 is the SHA-256 of the input, and any
// digest given is.
func FuzzReader(f *testing.F) {
	pc := newPCAP(false, false, 1)
	pc.record(1, 2, frameData(1, 40), 40)
	pc.record(3, 4, frameData(2, 7), 9)
	pcBE := newPCAP(true, true, 113)
	pcBE.record(1, 2, frameData(3, 20), 20)
	ng := ngHandBuilt(false)
	ngBE := ngHandBuilt(true)
	for _, seed := range [][]byte{
		pc.bytes(), pcBE.bytes(), ng.bytes(), ngBE.bytes(),
		gzipBytes(f, pc.bytes()), zstdBytes(f, ng.bytes()),
		ng.bytes()[:200], pc.bytes()[:50], []byte("<!DOCTYPE html>"), nil,
	} {
		f.Add(seed)
	}
	// Keep hostile zstd headers cheap so that the fuzzer stays fast; the
	// bound itself is the same code path at any size.
	defer func(w uint64) { MaxZstdWindow = w }(MaxZstdWindow)
	MaxZstdWindow = 8 << 20
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data), "fuzz", WithSHA256())
		if err != nil {
			var ce *Error
			if r != nil || !errors.As(err, &ce) || ce.Path != "fuzz" {
				t.Fatalf("NewReader: %v (%T), reader %v", err, err, r)
			}
			return
		}
		defer r.Close()
		var oracle *pcapgo.Reader
		if r.Format() == FormatPCAP && r.Compression() == "" {
			oracle, _ = pcapgo.NewReader(bytes.NewReader(data))
		}
		var rec Record
		var prevFrame, prevHidden uint64
		prevEnd := int64(-1)
		for n := 0; ; n++ {
			if n > 200000 {
				return // a decompression bomb of empty records; enough checked
			}
			err := r.Next(&rec)
			if err != nil {
				var ce *Error
				if err != io.EOF && (!errors.As(err, &ce) || ce.Path != "fuzz" || ce.Offset < 0 || ce.Frame != r.Frames()) {
					t.Fatalf("Next: %v (%T)", err, err)
				}
				if again := r.Next(&rec); again != err {
					t.Fatalf("error not sticky: %v then %v", err, again)
				}
				if sum, ok := r.SHA256(); err == io.EOF && !ok || ok && sum != sha256.Sum256(data) {
					t.Fatalf("after %v: SHA256 %x %v, input's %x", err, sum, ok, sha256.Sum256(data))
				}
				return
			}
			if want := prevFrame + 1 + (r.hidden - prevHidden); rec.Frame != want || r.Frames() != rec.Frame {
				t.Fatalf("frame %d after %d (hidden %d), want %d", rec.Frame, prevFrame, r.hidden-prevHidden, want)
			}
			prevFrame, prevHidden = rec.Frame, r.hidden
			if len(rec.Data) > MaxCaplen || cap(rec.Data) != len(rec.Data) || rec.OrigLen < 0 {
				t.Fatalf("data length %d cap %d orig %d", len(rec.Data), cap(rec.Data), rec.OrigLen)
			}
			if rec.Offset <= prevEnd {
				t.Fatalf("offset %d not after previous %d", rec.Offset, prevEnd)
			}
			prevEnd = rec.Offset
			if r.Compression() == "" {
				checkAtOffset(t, r, data, &rec)
			}
			if oracle != nil {
				d, ci, err := oracle.ReadPacketData()
				if err != nil {
					oracle = nil // pcapgo is stricter (caplen > origlen, versions): stop comparing
					continue
				}
				if !bytes.Equal(d, rec.Data) || ci.Length != rec.OrigLen {
					t.Fatalf("frame %d: pcapgo disagrees: len %d/%d orig %d/%d", rec.Frame, len(d), len(rec.Data), ci.Length, rec.OrigLen)
				}
				frac := uint64(r.u32(data[rec.Offset+4:]))
				if !r.nano {
					frac *= 1000
				}
				if frac < 1<<32 && ci.Timestamp.UnixNano() != rec.Time {
					t.Fatalf("frame %d: pcapgo time %d, ours %d", rec.Frame, ci.Timestamp.UnixNano(), rec.Time)
				}
			}
		}
	})
}

// checkAtOffset verifies that rec.Data is the packet data of the record or
// block that starts at rec.Offset in the uncompressed input.
func checkAtOffset(t *testing.T, r *Reader, data []byte, rec *Record) {
	t.Helper()
	off := rec.Offset
	if off < 0 || off+8 > int64(len(data)) {
		t.Fatalf("offset %d outside the input (%d bytes)", off, len(data))
	}
	k := int64(pcapRecordHeaderLen)
	if r.Format() == FormatPCAPNG {
		typ := binary.LittleEndian.Uint32(data[off:])
		if r.be {
			typ = binary.BigEndian.Uint32(data[off:])
		}
		switch typ {
		case blockEPB, blockPB:
			k = 28
		case blockSPB:
			k = 12
		default:
			t.Fatalf("offset %d holds block type %#x", off, typ)
		}
	}
	end := off + k + int64(len(rec.Data))
	if end > int64(len(data)) || !bytes.Equal(data[off+k:end], rec.Data) {
		t.Fatalf("frame %d: data is not the bytes at offset %d", rec.Frame, off)
	}
}
