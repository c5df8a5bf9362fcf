package traffic

import (
	"bufio"
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Formats and compressions Write knows.
var (
	Formats      = []string{"pcap", "pcapng"}
	Compressions = []string{"none", "gzip", "zstd"}
)

// Write writes the generator's next n frames to w as a capture file in
// format ("pcap": nanosecond pcap; "pcapng": one Ethernet interface,
// nanosecond timestamps, no host information in the section header),
// compressed with compression ("none", "gzip" or "zstd"; both
// deterministic: gzip without a name or time, zstd single-threaded).
func Write(w io.Writer, g *Generator, n int, format, compression string) error {
	var closers []func() error
	out := w
	switch compression {
	case "", "none":
	case "gzip":
		zw, err := gzip.NewWriterLevel(w, gzip.DefaultCompression)
		if err != nil {
			return err
		}
		out = zw
		closers = append(closers, zw.Close)
	case "zstd":
		zw, err := zstd.NewWriter(w, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedDefault))
		if err != nil {
			return err
		}
		out = zw
		closers = append(closers, zw.Close)
	default:
		return fmt.Errorf("unknown compression %q (want none, gzip or zstd)", compression)
	}
	bw := bufio.NewWriterSize(out, 1<<20)
	var write func(ci gopacket.CaptureInfo, data []byte) error
	var flush func() error
	switch format {
	case "pcap":
		pw := pcapgo.NewWriterNanos(bw)
		if err := pw.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
			return err
		}
		write, flush = pw.WritePacket, func() error { return nil }
	case "pcapng":
		intf := pcapgo.NgInterface{Name: "eth0", LinkType: layers.LinkTypeEthernet, SnapLength: 65535, TimestampResolution: 9}
		nw, err := pcapgo.NewNgWriterInterface(bw, intf, pcapgo.NgWriterOptions{})
		if err != nil {
			return err
		}
		write, flush = nw.WritePacket, nw.Flush
	default:
		return fmt.Errorf("unknown format %q (want pcap or pcapng)", format)
	}
	for i := 0; i < n; i++ {
		t, f := g.Next()
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(0, t), CaptureLength: len(f), Length: len(f)}
		if err := write(ci, f); err != nil {
			return err
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	for _, c := range closers {
		if err := c(); err != nil {
			return err
		}
	}
	return nil
}
