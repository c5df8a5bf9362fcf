package variants

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/dnsieve/dnsieve/internal/capture"
)

// MaxCaptureBytes bounds the frame bytes ReadFrames keeps in memory: the
// variants of a capture are built in memory.
const MaxCaptureBytes = 1 << 30

// ReadFrames reads every frame of a capture (pcap or pcapng, optionally
// gzip or zstd compressed). A damaged capture is an error: a variant of
// half a capture would not be comparable with the original.
func ReadFrames(path string) ([]Frame, error) {
	r, err := capture.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var frames []Frame
	var rec capture.Record
	total := 0
	for {
		err := r.Next(&rec)
		if errors.Is(err, io.EOF) {
			return frames, nil
		}
		if err != nil {
			return nil, err
		}
		total += len(rec.Data)
		if total > MaxCaptureBytes {
			return nil, fmt.Errorf("%s: more than %d bytes of frames", path, MaxCaptureBytes)
		}
		frames = append(frames, Frame{
			Time:     rec.Time,
			LinkType: rec.LinkType,
			OrigLen:  rec.OrigLen,
			Data:     append([]byte(nil), rec.Data...),
		})
	}
}

// Ext is the file extension WriteFrames uses for frames: ".pcap" when they
// share one link type, else ".pcapng".
func Ext(frames []Frame) string {
	for _, f := range frames {
		if f.LinkType != frames[0].LinkType {
			return ".pcapng"
		}
	}
	return ".pcap"
}

// snapLen is the snapshot length declared in written files (the
// libpcap/Wireshark maximum).
const snapLen = 262144

// WriteFrames writes frames to path, atomically (a temporary file renamed
// into place): a nanosecond pcap when every frame has the same link type,
// else a pcapng with one interface per link type. No host information is
// written, so the output depends only on the frames.
func WriteFrames(path string, frames []Frame) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".variant-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = encode(tmp, frames); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func encode(w io.Writer, frames []Frame) error {
	ci := func(f *Frame) gopacket.CaptureInfo {
		return gopacket.CaptureInfo{Timestamp: time.Unix(0, f.Time).UTC(), CaptureLength: len(f.Data), Length: f.OrigLen}
	}
	if Ext(frames) == ".pcap" {
		lt := layers.LinkTypeEthernet
		if len(frames) > 0 {
			lt = layers.LinkType(frames[0].LinkType)
		}
		pw := pcapgo.NewWriterNanos(w)
		if err := pw.WriteFileHeader(snapLen, lt); err != nil {
			return err
		}
		for i := range frames {
			if err := pw.WritePacket(ci(&frames[i]), frames[i].Data); err != nil {
				return err
			}
		}
		return nil
	}
	intf := func(lt uint16) pcapgo.NgInterface {
		return pcapgo.NgInterface{LinkType: layers.LinkType(lt), TimestampResolution: 9, SnapLength: snapLen}
	}
	nw, err := pcapgo.NewNgWriterInterface(w, intf(frames[0].LinkType), pcapgo.NgWriterOptions{})
	if err != nil {
		return err
	}
	ids := map[uint16]int{frames[0].LinkType: 0}
	for i := range frames {
		f := &frames[i]
		id, ok := ids[f.LinkType]
		if !ok {
			if id, err = nw.AddInterface(intf(f.LinkType)); err != nil {
				return err
			}
			ids[f.LinkType] = id
		}
		c := ci(f)
		c.InterfaceIndex = id
		if err := nw.WritePacket(c, f.Data); err != nil {
			return err
		}
	}
	return nw.Flush()
}
