package capture

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/klauspost/compress/zstd"
)

// dnsFrame serializes a realistic Ethernet/IPv4/UDP/DNS query or response.
func dnsFrame(t testing.TB, i int) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IP{10, 0, 0, byte(i)}, DstIP: net.IP{10, 0, 0, 53}}
	udp := &layers.UDP{SrcPort: layers.UDPPort(1024 + i%5000), DstPort: 53}
	if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("a%05dx%sq.tunnel.example.com", i, strings.Repeat("b", i%40))
	dns := &layers.DNS{ID: uint16(i), RD: true, QDCount: 1,
		Questions: []layers.DNSQuestion{{Name: []byte(name), Type: layers.DNSTypeTXT, Class: layers.DNSClassIN}}}
	if i%2 == 1 {
		dns.QR = true
		dns.ANCount = 1
		dns.Answers = []layers.DNSResourceRecord{{Name: []byte(name), Type: layers.DNSTypeTXT, Class: layers.DNSClassIN, TTL: 60,
			TXTs: [][]byte{bytes.Repeat([]byte{'z'}, 20+i%100)}}}
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, udp, dns); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

// writePcapgo writes n frames with pcapgo's writer (micro or nanoseconds).
func writePcapgo(t testing.TB, n int, nanos bool, lt layers.LinkType) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w *pcapgo.Writer
	if nanos {
		w = pcapgo.NewWriterNanos(&buf)
	} else {
		w = pcapgo.NewWriter(&buf)
	}
	if err := w.WriteFileHeader(65535, lt); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		d := dnsFrame(t, i)
		ts := base.Add(time.Duration(i)*time.Millisecond + time.Duration(i*137)) // odd nanoseconds
		ci := gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(d), Length: len(d) + i%3}
		if err := w.WritePacket(ci, d); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// pcapgoRecords reads a pcap with pcapgo as the oracle, computing offsets.
func pcapgoRecords(t testing.TB, data []byte) []want {
	t.Helper()
	pr, err := pcapgo.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var out []want
	off := int64(24)
	for {
		d, ci, err := pr.ReadPacketData()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, want{Frame: uint64(len(out) + 1), Time: ci.Timestamp.UnixNano(), LinkType: uint16(pr.LinkType()),
			OrigLen: ci.Length, Data: d, Offset: off})
		off += 16 + int64(len(d))
	}
}

func TestPCAPAgainstPcapgo(t *testing.T) {
	for _, tc := range []struct {
		nanos bool
		lt    layers.LinkType
	}{{false, layers.LinkTypeEthernet}, {true, layers.LinkTypeEthernet}, {false, layers.LinkTypeLinuxSLL}, {true, layers.LinkTypeRaw}} {
		t.Run(fmt.Sprintf("nanos=%v/link=%d", tc.nanos, tc.lt), func(t *testing.T) {
			data := writePcapgo(t, 300, tc.nanos, tc.lt)
			exp := pcapgoRecords(t, data)
			got, r, err := readBytes(t, data, "x.pcap")
			if err != nil {
				t.Fatal(err)
			}
			if err := sameRecords(got, exp); err != nil {
				t.Fatal(err)
			}
			if r.Format() != FormatPCAP || r.Compression() != "" {
				t.Fatalf("format %v compression %q", r.Format(), r.Compression())
			}
			if !tc.nanos && got[1].Time%1000 != 0 {
				t.Fatalf("microsecond capture has sub-microsecond time %d", got[1].Time)
			}
			if tc.nanos && got[1].Time%1000 == 0 {
				t.Fatalf("nanosecond capture lost nanoseconds: %d", got[1].Time)
			}
		})
	}
}

// TestPCAPMagics checks all four magics, built by hand in both byte orders.
func TestPCAPMagics(t *testing.T) {
	for _, be := range []bool{false, true} {
		for _, nano := range []bool{false, true} {
			t.Run(fmt.Sprintf("be=%v/nano=%v", be, nano), func(t *testing.T) {
				b := newPCAP(be, nano, 113)
				for i := 0; i < 50; i++ {
					b.record(1700000000+uint32(i), uint32(i*12345), frameData(i, 40+i), 40+i+i%2)
				}
				b.record(0xfffffff0, 999, nil, 0) // after 2038: unsigned seconds
				got, r, err := readBytes(t, b.bytes(), "h.pcap")
				if err != nil {
					t.Fatal(err)
				}
				if err := sameRecords(got, b.want); err != nil {
					t.Fatal(err)
				}
				if got[len(got)-1].Time <= 0 || r.Frames() != 51 {
					t.Fatalf("last time %d, frames %d", got[len(got)-1].Time, r.Frames())
				}
			})
		}
	}
}

// TestPCAPLinkTypeFCSBits checks that the upper FCS bits of the link-type
// field are ignored.
func TestPCAPLinkTypeFCSBits(t *testing.T) {
	b := newPCAP(false, false, 1)
	copy(b.buf.Bytes()[20:24], []byte{1, 0, 0, 0x14}) // FCS present, 4 bytes (pcap-savefile)
	b.record(1, 2, frameData(1, 60), 60)
	got, _, err := readBytes(t, b.bytes(), "fcs.pcap")
	if err != nil || len(got) != 1 || got[0].LinkType != 1 {
		t.Fatalf("got %+v, %v", got, err)
	}
}

// ngMulti writes a pcapng capture with pcapgo's NgWriter on three interfaces
// with different link types.
func ngMulti(t testing.TB, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := pcapgo.NewNgWriterInterface(&buf, pcapgo.NgInterface{Name: "eth0", LinkType: layers.LinkTypeEthernet, SnapLength: 0},
		pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: "capture test"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.AddInterface(pcapgo.NgInterface{Name: "any", LinkType: layers.LinkTypeLinuxSLL}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.AddInterface(pcapgo.NgInterface{Name: "tun0", LinkType: layers.LinkTypeRaw, TimestampOffset: 3600}); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2023, 9, 3, 18, 33, 4, 0, time.UTC)
	for i := 0; i < n; i++ {
		d := dnsFrame(t, i)
		ifi := i % 3
		if ifi == 2 {
			d = d[14:] // raw IP
		}
		ci := gopacket.CaptureInfo{Timestamp: base.Add(time.Duration(i) * 1234567), CaptureLength: len(d), Length: len(d), InterfaceIndex: ifi}
		if err := w.WritePacket(ci, d); err != nil {
			t.Fatal(err)
		}
		if i == n/2 {
			if err := w.WriteInterfaceStats(0, pcapgo.NgInterfaceStatistics{PacketsReceived: 5}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestPCAPNGAgainstNgReader compares with pcapgo's NgReader and checks that
// each Offset points at the packet's Enhanced Packet Block.
func TestPCAPNGAgainstNgReader(t *testing.T) {
	data := ngMulti(t, 300)
	nr, err := pcapgo.NewNgReader(bytes.NewReader(data), pcapgo.NgReaderOptions{WantMixedLinkType: true})
	if err != nil {
		t.Fatal(err)
	}
	got, r, err := readBytes(t, data, "multi.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	if r.Format() != FormatPCAPNG {
		t.Fatalf("format %v", r.Format())
	}
	links := map[uint16]int{}
	for i, g := range got {
		d, ci, err := nr.ReadPacketData()
		if err != nil {
			t.Fatalf("oracle at %d: %v", i, err)
		}
		iface, err := nr.Interface(ci.InterfaceIndex)
		if err != nil {
			t.Fatal(err)
		}
		wantTime := ci.Timestamp.UnixNano()
		if g.Frame != uint64(i+1) || g.Time != wantTime || g.LinkType != uint16(iface.LinkType) ||
			g.OrigLen != ci.Length || !bytes.Equal(g.Data, d) {
			t.Fatalf("record %d: got frame %d time %d link %d orig %d; oracle time %d link %d orig %d", i,
				g.Frame, g.Time, g.LinkType, g.OrigLen, wantTime, iface.LinkType, ci.Length)
		}
		if i%3 == 2 && g.Time != time.Date(2023, 9, 3, 18, 33, 4, 0, time.UTC).Add(time.Duration(i)*1234567+time.Hour).UnixNano() {
			t.Fatalf("record %d: if_tsoffset not applied: %d", i, g.Time)
		}
		o := g.Offset
		if typ := uint32(data[o]) | uint32(data[o+1])<<8; typ != blockEPB || !bytes.Equal(data[o+28:o+28+int64(len(d))], d) {
			t.Fatalf("record %d: offset %d does not point at its EPB", i, o)
		}
		links[g.LinkType]++
	}
	if _, _, err := nr.ReadPacketData(); err != io.EOF {
		t.Fatalf("oracle has more packets: %v", err)
	}
	if links[1] != 100 || links[113] != 100 || links[101] != 100 {
		t.Fatalf("link types %v", links)
	}
}

// ngHandBuilt builds a pcapng capture that exercises every block kind, both
// byte orders, several sections and timestamp resolutions.
func ngHandBuilt(firstBE bool) *capBuilder {
	b := newNG(firstBE)
	b.idb(1, 0, 0xff, 0)           // Ethernet, default microseconds
	b.idb(113, 128, 9, 0)          // Linux SLL, nanoseconds
	b.idb(101, 0, 3, -86400)       // raw IP, milliseconds, offset one day back
	b.idb(228, 0, 0x94, 0)         // IPv4, 2^-20 seconds
	b.block(4, make([]byte, 16))   // name resolution block
	b.block(0xA, make([]byte, 20)) // decryption secrets block
	for i := 0; i < 12; i++ {
		b.epb(uint32(i%4), 1_693_765_984_000_000+uint64(i)*1_000_003, frameData(i, 60+i), 60+i+i%2)
	}
	b.epb(1, 1_693_765_984_123_456_789, frameData(99, 200), 300)  // nanoseconds, SLL
	b.spb(frameData(7, 64), 64)                                   // SPB on iface 0 (snaplen 0)
	b.pb(2, 1_693_765_984_321, frameData(8, 48), 48)              // obsolete packet block
	b.block(5, make([]byte, 24))                                  // interface statistics
	b.numbered(blockCBCopy, []byte{0, 0, 0x7e, 0xd9, 1, 2, 3, 4}) // custom block: numbered, skipped
	b.numbered(blockJournal, []byte("MESSAGE=hello\n\n"))         // journal: numbered, skipped
	b.block(0x12345678, []byte{1, 2, 3})                          // unknown block
	b.epb(0, 5, nil, 0)                                           // empty packet
	b.shb(!firstBE)                                               // new section, other byte order
	b.idb(12, 100, 0x86, 7)                                       // raw, 2^-6 s, snaplen 100
	b.spb(frameData(9, 160), 160)                                 // cut to snaplen 100
	b.spb(frameData(10, 16), 13)                                  // cut to origlen 13
	b.epb(0, 1<<40, frameData(11, 77), 77)                        //
	b.idb(1, 0, 0xff, 0)                                          // second interface of section 2
	b.epb(1, 1_700_000_000_000_000, frameData(12, 90), 90)
	b.numbered(blockSysdigEvent, make([]byte, 28))
	b.epb(0, 3, frameData(13, 3), 3)
	return b
}

func TestPCAPNGHandBuilt(t *testing.T) {
	for _, be := range []bool{false, true} {
		t.Run(fmt.Sprintf("firstBE=%v", be), func(t *testing.T) {
			b := ngHandBuilt(be)
			got, r, err := readBytes(t, b.bytes(), "hand.pcapng")
			if err != nil {
				t.Fatal(err)
			}
			if err := sameRecords(got, b.want); err != nil {
				t.Fatal(err)
			}
			if want := uint64(len(b.want) + b.hidden); r.Frames() != want || r.hidden != uint64(b.hidden) {
				t.Fatalf("Frames() = %d (hidden %d), want %d", r.Frames(), r.hidden, want)
			}
		})
	}
}

// TestPCAPNGTimestamps pins the timestamp conversion on exact values.
func TestPCAPNGTimestamps(t *testing.T) {
	for _, tc := range []struct {
		resol  uint8
		offset int64
		ts     uint64
		want   int64
	}{
		{6, 0, 1_693_765_984_123_456, 1_693_765_984_123_456_000},
		{9, 0, 1_693_765_984_123_456_789, 1_693_765_984_123_456_789},
		{3, 0, 1_693_765_984_123, 1_693_765_984_123_000_000},
		{0, 0, 1_693_765_984, 1_693_765_984_000_000_000},
		{10, 0, 1_693_765_984_123_456_789_0, 1_693_765_984_123_456_789},
		{0x80, 0, 5, 5_000_000_000},
		{0x81, 0, 3, 1_500_000_000},
		{0x8a, 0, 1024*100 + 512, 100_500_000_000},
		{0x9e, 0, 3 << 30, 3_000_000_000},
		{0xa0, 0, 1<<32 + 1<<31, 1_500_000_000},
		{6, 10, 1_000_000, 11_000_000_000},
		{6, -10, 1_000_000, -9_000_000_000},
		{40, 0, 123, 0}, // finer than 10^-28: reported as 0
		{0xff, 0, 1 << 63, 0},
	} {
		var i ngIface
		i.setResolution(tc.resol)
		i.offsetNs = tc.offset * 1e9
		if got := i.nanos(tc.ts); got != tc.want {
			t.Errorf("resol %#x offset %d ts %d: got %d, want %d", tc.resol, tc.offset, tc.ts, got, tc.want)
		}
	}
}

func gzipBytes(t testing.TB, data []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zstdBytes(t testing.TB, data []byte) []byte {
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	return enc.EncodeAll(data, nil)
}

// TestCompressed reads gzip and zstd wrappers of each format from files with
// misleading names, and checks CompressedOffset.
func TestCompressed(t *testing.T) {
	dir := t.TempDir()
	ng := ngHandBuilt(false)
	pc := newPCAP(true, true, 1)
	for i := 0; i < 100; i++ {
		pc.record(uint32(i), uint32(i), frameData(i, 80), 80)
	}
	for _, base := range []struct {
		name   string
		b      *capBuilder
		format Format
	}{{"pcapng", ng, FormatPCAPNG}, {"pcap", pc, FormatPCAP}} {
		for _, comp := range []string{"", "gzip", "zstd"} {
			t.Run(base.name+"/"+comp, func(t *testing.T) {
				data := base.b.bytes()
				switch comp {
				case "gzip":
					data = gzipBytes(t, data)
				case "zstd":
					data = zstdBytes(t, data)
				}
				path := filepath.Join(dir, base.name+comp+".txt")
				if err := os.WriteFile(path, data, 0o644); err != nil {
					t.Fatal(err)
				}
				r, err := Open(path)
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				if r.Format() != base.format || r.Compression() != comp {
					t.Fatalf("format %v compression %q", r.Format(), r.Compression())
				}
				got, err := readAll(t, r)
				if err != nil {
					t.Fatal(err)
				}
				if err := sameRecords(got, base.b.want); err != nil {
					t.Fatal(err)
				}
				if r.CompressedOffset() != int64(len(data)) {
					t.Fatalf("CompressedOffset %d, file size %d", r.CompressedOffset(), len(data))
				}
			})
		}
	}
}

// TestPCAPNamedPCAPNG opens a .pcap file that really holds pcapng.
func TestPCAPNamedPCAPNG(t *testing.T) {
	path := filepath.Join(t.TempDir(), "really-ng.pcap")
	if err := os.WriteFile(path, ngMulti(t, 10), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := readAll(t, r)
	if err != nil || r.Format() != FormatPCAPNG || len(got) != 10 {
		t.Fatalf("format %v, %d records, %v", r.Format(), len(got), err)
	}
}

// checkTruncated reads data cut at every byte and checks that exactly the
// records before the cut come back, then an *Error at the damaged record.
func checkTruncated(t *testing.T, b *capBuilder, name string) {
	full := b.bytes()
	for cut := 0; cut < len(full); cut++ {
		got, r, err := readBytes(t, full[:cut], name)
		// Expected: records whose span ends at or before the cut; the
		// damaged span is the one that contains the cut.
		var exp []want
		for _, w := range b.want {
			if w.End <= int64(cut) {
				exp = append(exp, w)
			}
		}
		var damaged int64 = -1
		var lastFrame uint64
		for _, sp := range b.spans {
			if sp[0] < int64(cut) && int64(cut) < sp[1] {
				damaged = sp[0]
			}
		}
		for _, w := range b.want {
			if w.End <= int64(cut) {
				lastFrame = w.Frame
			}
		}
		// Numbered non-packet blocks complete before the cut count too.
		switch {
		case cut == 0:
			if !errors.Is(err, ErrNotCapture) || r != nil {
				t.Fatalf("cut 0: %v", err)
			}
			continue
		case cut < 4:
			if !errors.Is(err, ErrNotCapture) {
				t.Fatalf("cut %d: got %v, want ErrNotCapture", cut, err)
			}
			continue
		case damaged == -1:
			if err != nil {
				t.Fatalf("cut %d at a boundary: %v", cut, err)
			}
		default:
			ce := asError(t, err)
			if !errors.Is(err, ErrTruncated) || !errors.Is(err, io.ErrUnexpectedEOF) || ce.Offset != damaged || ce.Path != name {
				t.Fatalf("cut %d: got %v (offset %d), want truncation at %d", cut, err, ce.Offset, damaged)
			}
			if r != nil && ce.Frame < lastFrame {
				t.Fatalf("cut %d: error after frame %d, want >= %d", cut, ce.Frame, lastFrame)
			}
			if r != nil {
				// The error is sticky.
				var rec Record
				if again := r.Next(&rec); again != err {
					t.Fatalf("cut %d: second Next returned %v", cut, again)
				}
			}
		}
		if e := sameRecords(got, exp); e != nil {
			t.Fatalf("cut %d: %v", cut, e)
		}
	}
}

func TestTruncatedPCAP(t *testing.T) {
	b := newPCAP(false, false, 1)
	for i := 0; i < 8; i++ {
		b.record(uint32(i), 0, frameData(i, 30+i*3), 30+i*3)
	}
	checkTruncated(t, b, "cut.pcap")
}

func TestTruncatedPCAPNG(t *testing.T) {
	checkTruncated(t, ngHandBuilt(false), "cut.pcapng")
	checkTruncated(t, ngHandBuilt(true), "cut-be.pcapng")
}

// TestTruncatedCompressed cuts compressed streams: every cut gives a prefix
// of the records and then a truncation error, never a clean end.
func TestTruncatedCompressed(t *testing.T) {
	b := ngHandBuilt(false)
	for _, comp := range []string{"gzip", "zstd"} {
		var data []byte
		if comp == "gzip" {
			data = gzipBytes(t, b.bytes())
		} else {
			data = zstdBytes(t, b.bytes())
		}
		for cut := 1; cut < len(data); cut++ {
			got, _, err := readBytes(t, data[:cut], "cut."+comp)
			if err == nil {
				t.Fatalf("%s cut %d/%d: no error", comp, cut, len(data))
			}
			asError(t, err)
			if cut >= 4 && !errors.Is(err, ErrTruncated) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("%s cut %d: %v is not a truncation", comp, cut, err)
			}
			if len(got) > len(b.want) {
				t.Fatalf("%s cut %d: too many records", comp, cut)
			}
			if e := sameRecords(got, b.want[:len(got)]); e != nil {
				t.Fatalf("%s cut %d: %v", comp, cut, e)
			}
		}
	}
}

func TestNotCapture(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		msg  string
	}{
		{"page.pcap", []byte("<!DOCTYPE html><html>"), "page.pcap: byte 0: not a pcap or pcapng capture (first bytes 3c 21 44 4f)"},
		{"empty.pcap", nil, "empty.pcap: byte 0: not a pcap or pcapng capture (empty)"},
		{"short.pcap", []byte{0xd4, 0xc3}, "short.pcap: byte 0: not a pcap or pcapng capture (first bytes d4 c3)"},
		{"elf.cap", []byte("\x7fELF\x02\x01\x01"), "elf.cap: byte 0: not a pcap or pcapng capture (first bytes 7f 45 4c 46)"},
		{"html.pcap.gz", gzipBytes(t, []byte("<html>")), "html.pcap.gz: decompressed byte 0: not a pcap or pcapng capture (gzip-compressed, first bytes 3c 68 74 6d)"},
		{"nothing.zst", zstdBytes(t, nil), "nothing.zst: decompressed byte 0: not a pcap or pcapng capture (zstd-compressed, empty)"},
		{"modified.pcap", []byte{0x34, 0xcd, 0xb2, 0xa1, 0, 0, 0, 0}, "modified.pcap: byte 0: not a pcap or pcapng capture (first bytes 34 cd b2 a1)"},
	} {
		r, err := NewReader(bytes.NewReader(tc.data), tc.name)
		if r != nil || err == nil {
			t.Fatalf("%s: accepted", tc.name)
		}
		ce := asError(t, err)
		if !errors.Is(err, ErrNotCapture) || err.Error() != tc.msg || ce.Offset != 0 {
			t.Errorf("%s: got %q, want %q", tc.name, err, tc.msg)
		}
	}
}

func TestErrorString(t *testing.T) {
	e := &Error{Path: "x.pcap", Offset: 123456, Frame: 41, Err: &truncError{what: "packet record"}}
	if got, want := e.Error(), "x.pcap: byte 123456 (after frame 41): truncated packet record: unexpected EOF"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if !errors.Is(e, ErrTruncated) || !errors.Is(e, io.ErrUnexpectedEOF) || errors.Is(e, ErrCorrupt) {
		t.Fatal("Is")
	}
	gz := &Error{Path: "x.pcap.gz", Offset: 947, Frame: 7, Err: &truncError{what: "packet record"}, Compression: "gzip"}
	if got, want := gz.Error(), "x.pcap.gz: decompressed byte 947 (after frame 7): truncated packet record: unexpected EOF"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	// A real truncated file produces exactly that shape.
	b := newPCAP(false, false, 1)
	b.record(1, 1, frameData(1, 100), 100)
	data := b.bytes()[:24+16+50]
	_, _, err := readBytes(t, data, "x.pcap")
	if got, want := fmt.Sprint(err), "x.pcap: byte 24: truncated packet record: unexpected EOF"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// TestCorrupt feeds damaged headers after two good records: the good records
// come back, then an *Error matching ErrCorrupt at the damaged record.
func TestCorrupt(t *testing.T) {
	goodPCAP := func() *capBuilder {
		b := newPCAP(false, false, 1)
		b.record(1, 1, frameData(1, 60), 60)
		b.record(2, 2, frameData(2, 60), 60)
		return b
	}
	goodNG := func() *capBuilder {
		b := newNG(false)
		b.idb(1, 0, 6, 0)
		b.epb(0, 1, frameData(1, 60), 60)
		b.epb(0, 2, frameData(2, 60), 60)
		return b
	}
	le := func(v ...uint32) []byte {
		var out []byte
		for _, x := range v {
			out = append(out, byte(x), byte(x>>8), byte(x>>16), byte(x>>24))
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		b     *capBuilder
		tail  []byte
		inMsg string
	}{
		{"pcap huge caplen", goodPCAP(), le(3, 3, 0xfffffff0, 60), "more than the 262144-byte limit"},
		{"pcap caplen just over", goodPCAP(), le(3, 3, MaxCaplen+1, 60), "262145 captured bytes"},
		{"ng huge block", goodNG(), le(blockEPB, 0xfffffff0), "exceeds the 16777216-byte limit"},
		{"ng odd length", goodNG(), le(blockEPB, 34), "not a multiple of 4"},
		{"ng short EPB", goodNG(), le(blockEPB, 12, 12), "shorter than the 32-byte minimum"},
		{"ng short block", goodNG(), le(4, 8), "shorter than the 12-byte minimum"},
		{"ng bad trailer", goodNG(), le(blockEPB, 32, 0, 0, 0, 0, 0, 33), "trailing length 33"},
		{"ng bad skip trailer", goodNG(), le(5, 16, 0, 17), "trailing length 17"},
		{"ng unknown interface", goodNG(), le(blockEPB, 32, 1, 0, 0, 0, 0, 32), "refers to interface 1"},
		{"ng caplen past block", goodNG(), le(blockEPB, 36, 0, 0, 0, 5, 5, 0, 36), "exceeds the block"},
		{"ng bad BOM", goodNG(), le(blockSHB, 28, 0x11223344, 1, 0, 0, 28), "bad byte-order magic"},
		{"ng short custom block", goodNG(), le(blockCBCopy, 12, 12), "shorter than the 16-byte minimum"},
		{"ng SPB without IDB", newNG(false), le(blockSPB, 16, 0, 16), "refers to interface 0 but the section defines 0"},
		{"ng EPB after new SHB", goodNG(), append(le(blockSHB, 28, 0x1a2b3c4d, 1, 0xffffffff, 0xffffffff, 28), le(blockEPB, 32, 0, 0, 0, 0, 0, 32)...), "refers to interface 0 but the section defines 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			damaged := int64(tc.b.buf.Len())
			if strings.Contains(tc.name, "after new SHB") {
				damaged += 28
			}
			data := append(append([]byte(nil), tc.b.bytes()...), tc.tail...)
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			got, _, err := readBytes(t, data, "bad")
			runtime.ReadMemStats(&ms1)
			if e := sameRecords(got, tc.b.want); e != nil {
				t.Fatal(e)
			}
			ce := asError(t, err)
			if !errors.Is(err, ErrCorrupt) || ce.Offset != damaged || !strings.Contains(err.Error(), tc.inMsg) {
				t.Fatalf("got %v (offset %d), want ErrCorrupt at %d containing %q", err, ce.Offset, damaged, tc.inMsg)
			}
			if uint64(len(tc.b.want)) != ce.Frame {
				t.Fatalf("error after frame %d, want %d", ce.Frame, len(tc.b.want))
			}
			if alloc := ms1.TotalAlloc - ms0.TotalAlloc; alloc > 3<<20 {
				t.Fatalf("allocated %d bytes for a tiny hostile file", alloc)
			}
		})
	}
}

// TestHugeClaimTruncated checks that a block claiming (almost) the maximum
// length in a tiny file costs memory in proportion to the file, not the claim.
func TestHugeClaimTruncated(t *testing.T) {
	b := newNG(false)
	b.idb(1, 0, 6, 0)
	data := append(b.bytes(), 6, 0, 0, 0, 0xfc, 0xff, 0xff, 0) // EPB of 16 MiB - 4
	data = append(data, make([]byte, 100)...)                  // but only 100 bytes follow
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	_, _, err := readBytes(t, data, "claim.pcapng")
	runtime.ReadMemStats(&ms1)
	if !errors.Is(err, ErrTruncated) {
		t.Fatalf("got %v", err)
	}
	if alloc := ms1.TotalAlloc - ms0.TotalAlloc; alloc > 3<<20 {
		t.Fatalf("allocated %d bytes", alloc)
	}
}

// TestLargeBlock reads an EPB larger than the initial buffer (the buffer
// grows) followed by a large skipped block (streamed, no growth needed).
func TestLargeBlock(t *testing.T) {
	b := newNG(false)
	b.idb(1, 0, 9, 0)
	b.epb(0, 1, frameData(1, 100), 100)
	b.block(4, make([]byte, 3<<20)) // 3 MiB name resolution block: skipped
	b.epb(0, 2, frameData(2, MaxCaplen), MaxCaplen)
	big := make([]byte, 2<<20) // EPB with 2 MiB of options around a small packet
	var body []byte
	body = b.order.AppendUint32(body, 0)
	body = b.order.AppendUint32(body, 0)
	body = b.order.AppendUint32(body, 3)
	body = b.order.AppendUint32(body, 4)
	body = b.order.AppendUint32(body, 4)
	body = append(body, 1, 2, 3, 4)
	body = b.opt(body, 1, big[:60000])
	for len(body) < len(big) {
		body = b.opt(body, 1, big[:60000])
	}
	body = b.opt(body, 0, nil)
	off := int64(b.buf.Len())
	b.block(blockEPB, body)
	b.add(want{Time: 3, LinkType: 1, OrigLen: 4, Data: []byte{1, 2, 3, 4}, Offset: off})
	b.epb(0, 4, frameData(4, 10), 10)
	got, r, err := readBytes(t, b.bytes(), "large.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	if e := sameRecords(got, b.want); e != nil {
		t.Fatal(e)
	}
	if n := len(r.src.buf); n > 4<<20 {
		t.Fatalf("buffer grew to %d", n)
	}
}

// TestClose checks that Next after Close fails and that Close closes the file.
func TestClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.pcap")
	if err := os.WriteFile(path, writePcapgo(t, 3, false, layers.LinkTypeEthernet), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var rec Record
	if err := r.Next(&rec); err != nil || rec.Frame != 1 {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Next(&rec); err == nil || err == io.EOF || !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Next after Close: %v", err)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing.pcap")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	dir := t.TempDir()
	if r, err := Open(dir); r != nil || asError(t, err).Path != dir {
		t.Fatalf("directory: %v", err)
	}
}

// errReader fails with a non-EOF error after some bytes.
type errReader struct {
	data []byte
	err  error
}

func (e *errReader) Read(p []byte) (int, error) {
	if len(e.data) == 0 {
		return 0, e.err
	}
	n := copy(p, e.data)
	e.data = e.data[n:]
	return n, nil
}

// TestReadError checks that an I/O error is reported as such, not as a
// truncation, with the offset of the record being read.
func TestReadError(t *testing.T) {
	b := newPCAP(false, false, 1)
	b.record(1, 1, frameData(1, 60), 60)
	b.record(2, 2, frameData(2, 60), 60)
	boom := errors.New("disk on fire")
	data := b.bytes()
	r, err := NewReader(&errReader{data: data[:len(data)-10], err: boom}, "io.pcap")
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, r)
	ce := asError(t, err)
	if len(got) != 1 || !errors.Is(err, boom) || errors.Is(err, ErrTruncated) || ce.Offset != b.want[1].Offset {
		t.Fatalf("%d records, %v", len(got), err)
	}
	// A reader that never makes progress does not hang.
	r, err = NewReader(&errReader{data: data[:30]}, "stall.pcap")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readAll(t, r); !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("stalled reader: %v", err)
	}
}

func TestFormatString(t *testing.T) {
	if FormatPCAP.String() != "pcap" || FormatPCAPNG.String() != "pcapng" || Format(7).String() != "Format(7)" {
		t.Fatal(FormatPCAP, FormatPCAPNG, Format(7))
	}
}
