package packet

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// corpusDir holds real captures shared by the project (read-only, never
// copied into the repository). Tests using it are skipped when it is absent.
const corpusDir = "/work/shared/corpus"

// corpusFiles lists the capture files under corpusDir.
func corpusFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(corpusDir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		switch filepath.Ext(path) {
		case ".pcap", ".pcapng", ".cap":
			files = append(files, path)
		}
		return nil
	})
	if err != nil || len(files) == 0 {
		t.Skipf("no corpus at %s (%v)", corpusDir, err)
	}
	return files
}

// readCapture calls fn for every frame of a pcap or pcapng file with the
// frame's 1-based number and link type.
func readCapture(t *testing.T, path string, fn func(n int, linkType uint16, frame []byte)) {
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
	var next func() ([]byte, uint16, error)
	if bytes.Equal(magic, []byte{0x0A, 0x0D, 0x0D, 0x0A}) {
		r, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			t.Fatal(err)
		}
		next = func() ([]byte, uint16, error) {
			data, ci, err := r.ReadPacketData()
			if err != nil {
				return nil, 0, err
			}
			lt := uint16(r.LinkType())
			if len(ci.AncillaryData) > 0 {
				if l, ok := ci.AncillaryData[0].(layers.LinkType); ok {
					lt = uint16(l)
				}
			}
			return data, lt, nil
		}
	} else {
		r, err := pcapgo.NewReader(br)
		if err != nil {
			t.Fatal(err)
		}
		next = func() ([]byte, uint16, error) {
			data, _, err := r.ReadPacketData()
			return data, uint16(r.LinkType()), err
		}
	}
	for n := 1; ; n++ {
		data, lt, err := next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("%s frame %d: %v", path, n, err)
		}
		fn(n, lt, data)
	}
}

// TestCorpusAgainstGopacket decodes every frame of every corpus capture with
// Decode and with gopacket. Whenever gopacket finds a UDP or TCP header, Decode
// must agree on addresses, ports, payload bytes, TCP sequence and flags; and
// whenever Decode succeeds on a non-fragment, gopacket must find the same
// transport header.
func TestCorpusAgainstGopacket(t *testing.T) {
	total := 0
	for _, path := range corpusFiles(t) {
		name := strings.TrimPrefix(path, corpusDir+"/")
		counts := map[string]int{}
		agreed := 0
		linkTypes := map[uint16]int{}
		readCapture(t, path, func(n int, lt uint16, frame []byte) {
			total++
			linkTypes[lt]++
			var p Packet
			err := Decode(lt, frame, &p)
			if err != nil {
				counts[err.Error()]++
			} else {
				counts["ok"]++
			}
			e := oracle(lt, frame)
			if e.transportOK {
				switch {
				case err == nil:
				case e.truncated && errors.Is(err, ErrTruncated):
				default:
					t.Errorf("%s frame %d: gopacket decoded %d->%d, Decode: %v", name, n, e.sport, e.dport, err)
					return
				}
				compare(t, name+" frame "+itoa(n), &p, e)
				agreed++
				return
			}
			if err == nil && !p.Frag.IsFragment {
				t.Errorf("%s frame %d: Decode found %d %d->%d, gopacket no transport", name, n, p.Proto, p.SrcPort, p.DstPort)
			}
		})
		t.Logf("%-55s link types %v, agreed on %d frames, results %v", name, linkTypes, agreed, counts)
	}
	if total == 0 {
		t.Fatal("no frames read")
	}
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}
