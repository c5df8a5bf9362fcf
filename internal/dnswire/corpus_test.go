package dnswire

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// corpusDir holds real captures shared by the project (read-only, never
// copied into the repository). Tests using it are skipped when it is absent.
const corpusDir = "/work/shared/corpus"

// udp53Payloads calls fn with the 1-based frame number and UDP payload of
// every UDP frame to or from port 53 in a pcap or pcapng file.
func udp53Payloads(t *testing.T, path string, fn func(frame int, payload []byte)) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	magic, err := br.Peek(4)
	if err != nil {
		t.Fatal(err)
	}
	var src gopacket.PacketDataSource
	var linkType layers.LinkType
	if bytes.Equal(magic, []byte{0x0A, 0x0D, 0x0D, 0x0A}) {
		r, err := pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			t.Fatal(err)
		}
		src, linkType = r, r.LinkType()
	} else {
		r, err := pcapgo.NewReader(br)
		if err != nil {
			t.Fatal(err)
		}
		src, linkType = r, r.LinkType()
	}
	for n := 1; ; n++ {
		data, _, err := src.ReadPacketData()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("%s frame %d: %v", path, n, err)
		}
		pkt := gopacket.NewPacket(data, linkType, gopacket.DecodeOptions{NoCopy: true, Lazy: true})
		if u, ok := pkt.Layer(layers.LayerTypeUDP).(*layers.UDP); ok && (u.SrcPort == 53 || u.DstPort == 53) {
			fn(n, u.Payload)
		}
	}
}

// readTruth loads tshark's frame.number -> dns.qry.name table.
func readTruth(t *testing.T, path string) map[int]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("no truth file: %v", err)
	}
	m := map[int]string{}
	for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		num, name, ok := strings.Cut(line, "\t")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(num)
		if err != nil {
			t.Fatalf("%s: bad line %q", path, line)
		}
		m[n] = name
	}
	return m
}

// printable reports whether every byte of b is printable ASCII other than
// the space, the only bytes tshark prints unchanged in dns.qry.name.
func printable(b []byte) bool {
	for _, c := range b {
		if c <= ' ' || c >= 0x7F {
			return false
		}
	}
	return true
}

// TestCorpusQuestionNames checks the first question name of every UDP/53
// payload in the corpus against tshark's dns.qry.name for that frame.
//
// Excluded, and counted in the log:
//   - tshark names that are empty, "<Root>" or contain '<' ("<Name too
//     long>" and similar markers): tshark did not print a real name;
//   - names with bytes outside printable ASCII: tshark replaces invalid
//     UTF-8 with U+FFFD and escapes some code points (as "\u05FE" and the
//     like), so the bytes cannot be compared (the '<' rule catches some);
//     only their printable rightmost labels are checked against tshark;
//   - frames without a truth line (tshark did not dissect them as DNS).
//
// The comparison is exact, case included (tshark keeps the case, and so do
// we), which is stronger than comparing lowercased names.
func TestCorpusQuestionNames(t *testing.T) {
	var files []string
	_ = filepath.WalkDir(corpusDir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			switch filepath.Ext(path) {
			case ".pcap", ".pcapng", ".cap":
				files = append(files, path)
			}
		}
		return nil
	})
	if len(files) == 0 {
		t.Skipf("no corpus at %s", corpusDir)
	}
	totalCompared := 0
	for _, path := range files {
		truth := readTruth(t, path+".truth.tsv")
		name := strings.TrimPrefix(path, corpusDir+"/")
		var compared, noTruth, tsharkMarker, unprintable, parseErrs int
		var p Parser
		var q Question
		udp53Payloads(t, path, func(frame int, payload []byte) {
			want, ok := truth[frame]
			if !ok {
				noTruth++
				return
			}
			if want == "" || want == "<Root>" || strings.Contains(want, "<") {
				tsharkMarker++
				return
			}
			_, err := p.Start(payload)
			if err == nil {
				err = p.Question(&q)
			}
			if err != nil {
				parseErrs++
				t.Errorf("%s frame %d: tshark has %q, we fail: %v", name, frame, want, err)
				return
			}
			got := q.Name.Bytes()
			if !printable(got) {
				// Still check the printable labels at the right end
				// (the tunnel's domain), which tshark prints as is.
				i := q.Name.Labels()
				for i > 0 && printable(q.Name.Label(i-1)) {
					i--
				}
				if i < q.Name.Labels() {
					var suffix []byte
					for j := i; j < q.Name.Labels(); j++ {
						suffix = append(append(suffix, '.'), q.Name.Label(j)...)
					}
					if !strings.HasSuffix(want, string(suffix)) {
						t.Errorf("%s frame %d: name ends in %q, tshark %q", name, frame, suffix, want)
					}
				}
				unprintable++
				return
			}
			if string(got) != want {
				t.Errorf("%s frame %d: name %q, tshark %q", name, frame, got, want)
			}
			compared++
		})
		totalCompared += compared
		t.Logf("%-55s compared %6d, excluded: tshark marker %d, unprintable %d, no truth line %d",
			name, compared, tsharkMarker, unprintable, noTruth)
	}
	if totalCompared == 0 {
		t.Fatal("nothing compared")
	}
}
