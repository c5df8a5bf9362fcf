package testcap

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/klauspost/compress/zstd"
)

// Frame is one frame to write.
type Frame struct {
	// Time is the capture timestamp; the zero Time is written as the Unix
	// epoch (1970-01-01T00:00:00Z) so output never depends on the clock.
	Time time.Time
	// Link is the link layer of Data; it selects the file's link type
	// (pcap) or the interface (pcapng).
	Link Link
	// Data is the captured bytes.
	Data []byte
	// OrigLen is the frame's length on the wire; 0 means len(Data). A
	// larger value records a frame cut short by the snapshot length.
	OrigLen int
}

// SnapLen is the snapshot length written in pcap file headers.
const SnapLen = 262144

func (f Frame) captureInfo(ifIndex int) gopacket.CaptureInfo {
	ts := f.Time
	if ts.IsZero() {
		ts = time.Unix(0, 0)
	}
	orig := f.OrigLen
	if orig < len(f.Data) {
		orig = len(f.Data)
	}
	return gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(f.Data), Length: orig, InterfaceIndex: ifIndex}
}

// commonLink returns the link type all frames share (Ethernet when there
// are none) or an error naming the first frame that differs.
func commonLink(frames []Frame) (Link, error) {
	if len(frames) == 0 {
		return Ethernet, nil
	}
	lt := frames[0].Link.LinkType()
	for i, f := range frames {
		if f.Link.LinkType() != lt {
			return 0, fmt.Errorf("testcap: pcap holds one link type: frame %d has %d (%v), frame 0 has %d (%v)",
				i, f.Link.LinkType(), f.Link, lt, frames[0].Link)
		}
	}
	return frames[0].Link, nil
}

// WritePCAP writes frames as a little-endian pcap file with pcapgo.Writer,
// with nanosecond timestamps if nanos is set and microseconds otherwise.
// All frames must share one link type (Ethernet, EthernetVLAN and
// EthernetQinQ do); otherwise it returns an error before writing anything.
func WritePCAP(w io.Writer, frames []Frame, nanos bool) error {
	link, err := commonLink(frames)
	if err != nil {
		return err
	}
	pw := pcapgo.NewWriter(w)
	if nanos {
		pw = pcapgo.NewWriterNanos(w)
	}
	if err := pw.WriteFileHeader(SnapLen, layers.LinkType(link.LinkType())); err != nil {
		return err
	}
	for i, f := range frames {
		if err := pw.WritePacket(f.captureInfo(0), f.Data); err != nil {
			return fmt.Errorf("testcap: frame %d: %w", i, err)
		}
	}
	return nil
}

// WritePCAPSwapped writes frames as a big-endian pcap file (the byte order
// of a capture made on a big-endian host), which pcapgo cannot write. The
// layout follows the pcap specification (draft-ietf-opsawg-pcap): a 24-byte
// file header (magic 0xa1b2c3d4, or 0xa1b23c4d for nanoseconds, version
// 2.4, zone 0, sigfigs 0, snaplen, link type) and a 16-byte header per
// record (seconds, micro- or nanoseconds, captured length, original length).
func WritePCAPSwapped(w io.Writer, frames []Frame, nanos bool) error {
	link, err := commonLink(frames)
	if err != nil {
		return err
	}
	be := binary.BigEndian
	h := make([]byte, 24)
	magic := uint32(0xa1b2c3d4)
	if nanos {
		magic = 0xa1b23c4d
	}
	be.PutUint32(h[0:], magic)
	be.PutUint16(h[4:], 2)
	be.PutUint16(h[6:], 4)
	be.PutUint32(h[16:], SnapLen)
	be.PutUint32(h[20:], uint32(link.LinkType()))
	if _, err := w.Write(h); err != nil {
		return err
	}
	for _, f := range frames {
		ci := f.captureInfo(0)
		frac := ci.Timestamp.Nanosecond()
		if !nanos {
			frac /= 1000
		}
		r := make([]byte, 16, 16+len(f.Data))
		be.PutUint32(r[0:], uint32(ci.Timestamp.Unix()))
		be.PutUint32(r[4:], uint32(frac))
		be.PutUint32(r[8:], uint32(ci.CaptureLength))
		be.PutUint32(r[12:], uint32(ci.Length))
		if _, err := w.Write(append(r, f.Data...)); err != nil {
			return err
		}
	}
	return nil
}

// PCAPNGLinks returns the distinct links of frames in order of first use,
// which is the order of the interfaces WritePCAPNG declares; frames whose
// Links share a link type share an interface.
func PCAPNGLinks(frames []Frame) []Link {
	var out []Link
	seen := map[uint16]bool{}
	for _, f := range frames {
		if lt := f.Link.LinkType(); !seen[lt] {
			seen[lt] = true
			out = append(out, f.Link)
		}
	}
	if len(out) == 0 {
		out = append(out, Ethernet)
	}
	return out
}

// WritePCAPNG writes frames as a pcapng file with pcapgo.NgWriter: one
// section, then one interface description block per distinct link type in
// order of first use (named after the Link, nanosecond timestamps), then
// one enhanced packet block per frame. Section options are fixed so the
// output does not depend on the machine.
func WritePCAPNG(w io.Writer, frames []Frame) error {
	links := PCAPNGLinks(frames)
	index := map[uint16]int{}
	intf := func(l Link) pcapgo.NgInterface {
		return pcapgo.NgInterface{Name: l.String(), LinkType: layers.LinkType(l.LinkType()), TimestampResolution: 9}
	}
	nw, err := pcapgo.NewNgWriterInterface(w, intf(links[0]), pcapgo.NgWriterOptions{
		SectionInfo: pcapgo.NgSectionInfo{Application: "dnsieve testcap"},
	})
	if err != nil {
		return err
	}
	index[links[0].LinkType()] = 0
	for _, l := range links[1:] {
		id, err := nw.AddInterface(intf(l))
		if err != nil {
			return err
		}
		index[l.LinkType()] = id
	}
	for i, f := range frames {
		if err := nw.WritePacket(f.captureInfo(index[f.Link.LinkType()]), f.Data); err != nil {
			return fmt.Errorf("testcap: frame %d: %w", i, err)
		}
	}
	return nw.Flush()
}

// Formats lists the format names Encode and WriteFile accept. The base
// format is "pcap" (little-endian, microseconds), "pcapns" (little-endian,
// nanoseconds), "pcap-be" / "pcapns-be" (big-endian) or "pcapng"; a ".gz"
// or ".zst" suffix compresses the file with gzip or zstd.
func Formats() []string {
	var out []string
	for _, base := range []string{"pcap", "pcapns", "pcap-be", "pcapns-be", "pcapng"} {
		for _, comp := range []string{"", ".gz", ".zst"} {
			out = append(out, base+comp)
		}
	}
	return out
}

// Encode returns frames encoded in format (see Formats).
func Encode(frames []Frame, format string) ([]byte, error) {
	base, comp, _ := strings.Cut(format, ".")
	var raw bytes.Buffer
	var err error
	switch base {
	case "pcap":
		err = WritePCAP(&raw, frames, false)
	case "pcapns":
		err = WritePCAP(&raw, frames, true)
	case "pcap-be":
		err = WritePCAPSwapped(&raw, frames, false)
	case "pcapns-be":
		err = WritePCAPSwapped(&raw, frames, true)
	case "pcapng":
		err = WritePCAPNG(&raw, frames)
	default:
		return nil, fmt.Errorf("testcap: unknown capture format %q", format)
	}
	if err != nil {
		return nil, err
	}
	switch comp {
	case "":
		return raw.Bytes(), nil
	case "gz":
		var out bytes.Buffer
		zw := gzip.NewWriter(&out) // zero header ModTime: deterministic output
		if _, err := zw.Write(raw.Bytes()); err != nil {
			return nil, err
		}
		if err := zw.Close(); err != nil {
			return nil, err
		}
		return out.Bytes(), nil
	case "zst":
		zw, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
		if err != nil {
			return nil, err
		}
		defer zw.Close()
		return zw.EncodeAll(raw.Bytes(), nil), nil
	}
	return nil, fmt.Errorf("testcap: unknown compression %q in format %q", comp, format)
}

// WriteFile encodes frames in format (see Formats) and writes them to path,
// failing the test on any error.
func WriteFile(t testing.TB, path string, frames []Frame, format string) {
	t.Helper()
	data, err := Encode(frames, format)
	if err != nil {
		t.Fatalf("testcap.WriteFile %s: %v", path, err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatalf("testcap.WriteFile: %v", err)
	}
}

// Frames wraps raw frames of one link into Frames with timestamps start,
// start+step, start+2*step, ...
func Frames(link Link, start time.Time, step time.Duration, data ...[]byte) []Frame {
	out := make([]Frame, len(data))
	for i, d := range data {
		out[i] = Frame{Time: start.Add(time.Duration(i) * step), Link: link, Data: d}
	}
	return out
}
