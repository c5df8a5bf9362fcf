package capture

import (
	"bufio"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// corpusDir is the shared evaluation corpus, relative to this package.
const corpusDir = "../../../shared/corpus"

// TestCorpus reads every capture of the shared corpus without error and
// checks that every frame number in its tshark truth file was reached and
// that the digest of WithSHA256 is the SHA-256 of the file.
func TestCorpus(t *testing.T) {
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("corpus not present: %v", err)
	}
	files, errs := Walk([]string{corpusDir}, true)
	for _, err := range errs {
		t.Errorf("walk: %v", err)
	}
	if len(files) == 0 {
		t.Fatal("no captures found in corpus")
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			r, err := Open(path, WithSHA256())
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var rec Record
			var n, prev uint64
			for {
				err := r.Next(&rec)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("after %d frames: %v", n, err)
				}
				if rec.Frame <= prev {
					t.Fatalf("frame %d after %d", rec.Frame, prev)
				}
				if len(rec.Data) > rec.OrigLen && rec.OrigLen != 0 {
					// Allowed by the formats, but worth knowing about.
					t.Logf("frame %d: caplen %d > origlen %d", rec.Frame, len(rec.Data), rec.OrigLen)
				}
				prev = rec.Frame
				n++
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if sum, ok := r.SHA256(); !ok || sum != sha256.Sum256(data) {
				t.Fatalf("SHA256 %x %v, want %x", sum, ok, sha256.Sum256(data))
			}
			maxTruth, lines := truthMax(t, path+".truth.tsv")
			if lines == 0 {
				t.Logf("%s: no truth lines", path)
			}
			if maxTruth > r.Frames() {
				t.Fatalf("truth names frame %d, but only %d frames read", maxTruth, r.Frames())
			}
			t.Logf("%s: %s %q, %d frames, max truth frame %d (%d truth lines)", path, r.Format(), r.Compression(), r.Frames(), maxTruth, lines)
		})
	}
}

// truthMax returns the largest frame number in a truth file.
func truthMax(t *testing.T, path string) (uint64, int) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("truth file: %v", err)
	}
	defer f.Close()
	var max uint64
	lines := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		field, _, _ := strings.Cut(sc.Text(), "\t")
		n, err := strconv.ParseUint(field, 10, 64)
		if err != nil {
			t.Fatalf("truth line %q: %v", sc.Text(), err)
		}
		lines++
		if n > max {
			max = n
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return max, lines
}
