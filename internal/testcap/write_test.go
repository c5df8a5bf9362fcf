package testcap

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/klauspost/compress/zstd"
)

var t0 = time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.UTC)

func sampleFrames(link Link) []Frame {
	var data [][]byte
	for _, ep := range endpointsFor(link) {
		data = append(data,
			UDP(link, ep[0], ep[1], Query(1, "one.example", TypeA)),
			UDP(link, ep[1], ep[0], Response(1, "one.example", TypeA, 0, AnswerAddr(netip4))),
			TCP(link, ep[0], ep[1], 1, TCPSyn, nil))
	}
	fs := Frames(link, t0, 1500*time.Microsecond, data...)
	fs[0].OrigLen = len(fs[0].Data) + 100 // truncated by snaplen
	return fs
}

var netip4 = s4.Addr()

// readPCAP reads a pcap file with pcapgo and returns its link type and frames.
func readPCAP(t *testing.T, r io.Reader) (layers.LinkType, []Frame) {
	t.Helper()
	pr, err := pcapgo.NewReader(r)
	if err != nil {
		t.Fatalf("pcapgo.NewReader: %v", err)
	}
	var out []Frame
	for {
		data, ci, err := pr.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return pr.LinkType(), out
		}
		if err != nil {
			t.Fatalf("ReadPacketData: %v", err)
		}
		out = append(out, Frame{Time: ci.Timestamp, Data: data, OrigLen: ci.Length})
	}
}

// readNG reads a pcapng file and returns frames with the link type of their
// interface in Link (as OtherLink) and the interface names.
func readNG(t *testing.T, r io.Reader) ([]Frame, []string) {
	t.Helper()
	nr, err := pcapgo.NewNgReader(r, pcapgo.NgReaderOptions{WantMixedLinkType: true, ErrorOnMismatchingLinkType: true})
	if err != nil {
		t.Fatalf("NewNgReader: %v", err)
	}
	var out []Frame
	for {
		data, ci, err := nr.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("ReadPacketData: %v", err)
		}
		intf, err := nr.Interface(ci.InterfaceIndex)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, Frame{Time: ci.Timestamp, Link: OtherLink(uint16(intf.LinkType)), Data: data, OrigLen: ci.Length})
	}
	var names []string
	for i := 0; i < nr.NInterfaces(); i++ {
		intf, _ := nr.Interface(i)
		names = append(names, intf.Name)
	}
	return out, names
}

func compareFrames(t *testing.T, what string, got, want []Frame, res time.Duration, checkLink bool) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d frames, want %d", what, len(got), len(want))
	}
	for i := range want {
		wt := want[i].Time
		if wt.IsZero() {
			wt = time.Unix(0, 0)
		}
		wantOrig := max(want[i].OrigLen, len(want[i].Data))
		if !bytes.Equal(got[i].Data, want[i].Data) || !got[i].Time.Equal(wt.Truncate(res)) || got[i].OrigLen != wantOrig {
			t.Errorf("%s frame %d: time %v (want %v) orig %d (want %d) data equal %v", what, i,
				got[i].Time, wt.Truncate(res), got[i].OrigLen, wantOrig, bytes.Equal(got[i].Data, want[i].Data))
		}
		if checkLink && got[i].Link.LinkType() != want[i].Link.LinkType() {
			t.Errorf("%s frame %d: link type %d, want %d", what, i, got[i].Link.LinkType(), want[i].Link.LinkType())
		}
	}
}

func TestWritePCAPRoundTrip(t *testing.T) {
	for _, link := range append(Links(), OtherLink(147)) {
		var frames []Frame
		if link.LinkType() == 147 {
			frames = Frames(link, t0, time.Second, []byte{1, 2, 3})
		} else {
			frames = sampleFrames(link)
		}
		frames = append(frames, Frame{Link: link, Data: []byte{0xaa}}) // zero time
		for _, nanos := range []bool{false, true} {
			res := time.Microsecond
			if nanos {
				res = time.Nanosecond
			}
			for _, swapped := range []bool{false, true} {
				var buf bytes.Buffer
				write := WritePCAP
				if swapped {
					write = WritePCAPSwapped
				}
				if err := write(&buf, frames, nanos); err != nil {
					t.Fatal(err)
				}
				if swapped != (buf.Bytes()[0] == 0xa1) {
					t.Errorf("%v: magic % x, swapped %v", link, buf.Bytes()[:4], swapped)
				}
				lt, got := readPCAP(t, &buf)
				if uint16(lt) != link.LinkType() {
					t.Errorf("%v: link type %d", link, lt)
				}
				compareFrames(t, link.String(), got, frames, res, false)
			}
		}
	}
}

func TestWritePCAPMixedLinksFails(t *testing.T) {
	frames := append(sampleFrames(Ethernet), sampleFrames(EthernetVLAN)...) // same link type: fine
	if err := WritePCAP(io.Discard, frames, false); err != nil {
		t.Errorf("Ethernet + VLAN: %v", err)
	}
	frames = append(frames, sampleFrames(LinuxSLL)...)
	var buf bytes.Buffer
	if err := WritePCAP(&buf, frames, false); err == nil || !strings.Contains(err.Error(), "frame 12") {
		t.Errorf("mixed links: err %v", err)
	}
	if buf.Len() != 0 {
		t.Errorf("%d bytes written before the error", buf.Len())
	}
	if err := WritePCAPSwapped(io.Discard, frames, true); err == nil {
		t.Errorf("swapped: mixed links accepted")
	}
	if _, err := Encode(frames, "pcap.gz"); err == nil {
		t.Errorf("Encode: mixed links accepted")
	}
}

func TestWritePCAPNGInterfaces(t *testing.T) {
	var frames []Frame
	order := []Link{LinuxSLL2, Ethernet, RawIPv6, EthernetVLAN, Null, Loop, LinuxSLL, RawIP, RawIPv4, EthernetQinQ}
	for _, l := range order {
		frames = append(frames, sampleFrames(l)...)
	}
	// Interleave so first use is not contiguous.
	frames = append(frames, sampleFrames(LinuxSLL2)...)
	var buf bytes.Buffer
	if err := WritePCAPNG(&buf, frames); err != nil {
		t.Fatal(err)
	}
	got, names := readNG(t, bytes.NewReader(buf.Bytes()))
	compareFrames(t, "pcapng", got, frames, time.Nanosecond, true)
	wantNames := []string{"linux-sll2", "ethernet", "raw-ipv6", "null", "loop", "linux-sll", "raw", "raw-ipv4"}
	if strings.Join(names, ",") != strings.Join(wantNames, ",") {
		t.Errorf("interfaces %v, want %v", names, wantNames)
	}
	if links := PCAPNGLinks(frames); len(links) != len(wantNames) {
		t.Errorf("PCAPNGLinks = %v", links)
	}
	// Deterministic: the same frames give the same bytes.
	var again bytes.Buffer
	if err := WritePCAPNG(&again, frames); err != nil || !bytes.Equal(again.Bytes(), buf.Bytes()) {
		t.Errorf("pcapng output is not deterministic (err %v)", err)
	}
	// No frames: a valid file with one Ethernet interface.
	buf.Reset()
	if err := WritePCAPNG(&buf, nil); err != nil {
		t.Fatal(err)
	}
	if got, names := readNG(t, &buf); len(got) != 0 || len(names) != 1 || names[0] != "ethernet" {
		t.Errorf("empty pcapng: %d frames, interfaces %v", len(got), names)
	}
}

func decompress(t *testing.T, data []byte, comp string) []byte {
	t.Helper()
	switch comp {
	case "gz":
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		out, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		return out
	case "zst":
		zr, err := zstd.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		out, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	return data
}

func TestWriteFileAllFormats(t *testing.T) {
	dir := t.TempDir()
	single := sampleFrames(Ethernet)
	multi := append(sampleFrames(LinuxSLL), sampleFrames(RawIPv4)...)
	for _, format := range Formats() {
		base, comp, _ := strings.Cut(format, ".")
		frames := single
		if base == "pcapng" {
			frames = multi
		}
		path := filepath.Join(dir, "f."+format)
		WriteFile(t, path, frames, format)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		data = decompress(t, data, comp)
		switch base {
		case "pcapng":
			if !bytes.HasPrefix(data, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
				t.Fatalf("%s: not a pcapng section header", format)
			}
			got, _ := readNG(t, bytes.NewReader(data))
			compareFrames(t, format, got, frames, time.Nanosecond, true)
		default:
			res := time.Microsecond
			if strings.HasPrefix(base, "pcapns") {
				res = time.Nanosecond
			}
			if strings.HasSuffix(base, "-be") != (data[0] == 0xa1) {
				t.Errorf("%s: magic % x", format, data[:4])
			}
			lt, got := readPCAP(t, bytes.NewReader(data))
			if lt != layers.LinkTypeEthernet {
				t.Errorf("%s: link type %v", format, lt)
			}
			compareFrames(t, format, got, frames, res, false)
		}
	}
	if _, err := Encode(single, "pcapx"); err == nil {
		t.Errorf("unknown format accepted")
	}
	if _, err := Encode(single, "pcap.bz2"); err == nil {
		t.Errorf("unknown compression accepted")
	}
}

// TestTsharkReadsPCAPNG checks generated frames with Wireshark's dissectors
// when tshark is installed: the multi-interface pcapng is read whole, every
// frame sits on the interface of its link type, IP/UDP/TCP checksums
// verify, nothing is malformed, DNS names and IDs match, and tshark's own
// IPv4/IPv6 fragment and TCP reassembly give back the DNS messages.
func TestTsharkReadsPCAPNG(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed")
	}
	frames, info := MixDetailed(7, 600, Links()...)
	// IPv4 fragments with options, IPv6 fragments with extension headers.
	big := Response(0x0f0f, "frag.example", TypeTXT, 0, AnswerTXT(strings.Repeat("x", 250), strings.Repeat("y", 250)))
	extra := []struct {
		link  Link
		data  [][]byte
		names []string
	}{
		{EthernetVLAN, IPv4Fragments(EthernetVLAN, s4, c4, big, 200, WithIPv4Options()), []string{"frag.example"}},
		{LinuxSLL2, IPv6Fragments(LinuxSLL2, s6, c6, big, 128, WithHopByHop(), WithDestinationOptions()), []string{"frag.example"}},
	}
	// DNS over TCP split at awkward places, after a handshake.
	msgs := [][]byte{Query(1, "seg-one.example", TypeA), Query(2, "seg-two.example", TypeAAAA), Query(3, "seg-three.example", TypeMX)}
	hs := TCPHandshake(Loop, c4, s4, 100, 5000)
	segs := TCPDNSSegments(Loop, c4, s4, 101, msgs, []int{1, 3, 50}, WithAck(5001))
	extra = append(extra, struct {
		link  Link
		data  [][]byte
		names []string
	}{Loop, append(hs, segs...), []string{"seg-one.example", "seg-two.example", "seg-three.example"}})
	nMix := len(frames)
	for _, e := range extra {
		frames = append(frames, Frames(e.link, frames[len(frames)-1].Time.Add(time.Second), time.Millisecond, e.data...)...)
	}

	path := filepath.Join(t.TempDir(), "mix.pcapng")
	WriteFile(t, path, frames, "pcapng")
	cmd := exec.Command(tshark, "-n", "-r", path,
		"-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
		"-T", "fields", "-E", "separator=/t",
		"-e", "frame.interface_id", "-e", "dns.id", "-e", "dns.qry.name", "-e", "dns.flags.response",
		"-e", "ip.checksum.status", "-e", "udp.checksum.status", "-e", "tcp.checksum.status", "-e", "_ws.malformed")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) != len(frames) {
		t.Fatalf("tshark read %d frames, want %d", len(lines), len(frames))
	}
	idx := map[uint16]int{}
	for i, l := range PCAPNGLinks(frames) {
		idx[l.LinkType()] = i
	}
	var reassembled []string
	for i, line := range lines {
		f := strings.Split(line, "\t")
		if len(f) != 8 {
			t.Fatalf("frame %d: tshark line %q", i+1, line)
		}
		if id, err := strconv.Atoi(f[0]); err != nil || id != idx[frames[i].Link.LinkType()] {
			t.Errorf("frame %d: tshark interface %q, want %d", i+1, f[0], idx[frames[i].Link.LinkType()])
		}
		for k, proto := range []string{"ip", "udp", "tcp"} {
			if st := f[4+k]; st != "" && st != "1" { // 1 = PROTO_CHECKSUM_E_GOOD
				t.Errorf("frame %d: %s checksum status %s", i+1, proto, st)
			}
		}
		if f[7] != "" {
			t.Errorf("frame %d: tshark reports a malformed packet", i+1)
		}
		if i >= nMix {
			if f[2] != "" {
				reassembled = append(reassembled, strings.Split(f[2], ",")...)
			}
			continue
		}
		in := info[i]
		if f[2] != in.Name {
			t.Errorf("frame %d: tshark name %q, want %q", i+1, f[2], in.Name)
		}
		if in.Name != "" {
			if id, err := strconv.ParseUint(f[1], 0, 16); err != nil || uint16(id) != in.ID || (f[3] == "1") != in.Response {
				t.Errorf("frame %d: tshark id %s response %s, want %#x %v", i+1, f[1], f[3], in.ID, in.Response)
			}
		}
	}
	var want []string
	for _, e := range extra {
		want = append(want, e.names...)
	}
	if strings.Join(reassembled, " ") != strings.Join(want, " ") {
		t.Errorf("tshark reassembled %q, want %q", reassembled, want)
	}
}
