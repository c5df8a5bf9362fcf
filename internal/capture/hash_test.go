package capture

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"
)

// hashInputs are captures as stored on disk: plain, gzip (one and two
// members), zstd (one and two frames) and pcapng, each with the records a
// correct reader returns.
func hashInputs(t testing.TB) []struct {
	name string
	data []byte
	b    *capBuilder
} {
	pc := newPCAP(false, false, 1)
	for i := 0; i < 3000; i++ { // ~300 KB: more than the 64 KiB file buffer
		pc.record(uint32(i), 0, frameData(i, 90), 90)
	}
	ng := ngHandBuilt(true)
	raw := pc.bytes()
	half := len(raw) / 2
	return []struct {
		name string
		data []byte
		b    *capBuilder
	}{
		{"pcap", raw, pc},
		{"pcapng", ng.bytes(), ng},
		{"pcap.gz", gzipBytes(t, raw), pc},
		{"pcap.gz/2members", append(gzipBytes(t, raw[:half]), gzipBytes(t, raw[half:])...), pc},
		{"pcap.zst", zstdBytes(t, raw), pc},
		{"pcap.zst/2frames", append(zstdBytes(t, raw[:half]), zstdBytes(t, raw[half:])...), pc},
		{"pcapng.zst", zstdBytes(t, ng.bytes()), ng},
	}
}

// TestSHA256OfFile checks that the digest is exactly the SHA-256 of the
// file's bytes as stored (not of the decompressed capture), that it is
// available once Next returned io.EOF, and not before.
func TestSHA256OfFile(t *testing.T) {
	dir := t.TempDir()
	for _, in := range hashInputs(t) {
		t.Run(in.name, func(t *testing.T) {
			path := filepath.Join(dir, "x.cap")
			if err := os.WriteFile(path, in.data, 0o644); err != nil {
				t.Fatal(err)
			}
			r, err := Open(path, WithSHA256())
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := r.SHA256(); ok && len(in.data) > 64<<10 {
				t.Fatal("digest available before the file was read")
			}
			got, err := readAll(t, r)
			if err != nil {
				t.Fatal(err)
			}
			if err := sameRecords(got, in.b.want); err != nil {
				t.Fatal(err)
			}
			sum, ok := r.SHA256()
			if !ok || sum != sha256.Sum256(in.data) {
				t.Fatalf("SHA256 %x %v, want %x", sum, ok, sha256.Sum256(in.data))
			}
			if in.name != "pcap" && in.name != "pcapng" && sum == sha256.Sum256(in.b.bytes()) {
				t.Fatal("digest of the decompressed capture")
			}
			// Still there after Close, and asking twice gives the same.
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			if again, ok := r.SHA256(); !ok || again != sum {
				t.Fatalf("after Close: %x %v", again, ok)
			}
		})
	}
}

// TestSHA256NotRequested checks that a reader made without WithSHA256 has
// no digest, even at the end.
func TestSHA256NotRequested(t *testing.T) {
	data := hashInputs(t)[0].data
	r, err := NewReader(bytes.NewReader(data), "plain")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readAll(t, r); err != nil {
		t.Fatal(err)
	}
	if sum, ok := r.SHA256(); ok || sum != [32]byte{} {
		t.Fatalf("digest %x %v without WithSHA256", sum, ok)
	}
}

// TestSHA256OddReaders checks readers that return data with io.EOF, or one
// byte at a time.
func TestSHA256OddReaders(t *testing.T) {
	for _, in := range hashInputs(t)[:3] {
		for name, rd := range map[string]func() io.Reader{
			"dataerr": func() io.Reader { return iotest.DataErrReader(bytes.NewReader(in.data)) },
			"onebyte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(in.data)) },
		} {
			r, err := NewReader(rd(), in.name, WithSHA256())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := readAll(t, r); err != nil {
				t.Fatalf("%s/%s: %v", in.name, name, err)
			}
			if sum, ok := r.SHA256(); !ok || sum != sha256.Sum256(in.data) {
				t.Fatalf("%s/%s: SHA256 %x %v", in.name, name, sum, ok)
			}
		}
	}
}

// TestSHA256NotAtEnd checks that no digest is given for a file not read to
// its end: stopped early, damaged mid-file, failing, stalled. A truncated
// file is read to its end, so its digest is that of the whole file.
func TestSHA256NotAtEnd(t *testing.T) {
	in := hashInputs(t)[0]
	data := in.data

	r, err := NewReader(bytes.NewReader(data), "early", WithSHA256())
	if err != nil {
		t.Fatal(err)
	}
	var rec Record
	for i := 0; i < 10; i++ {
		if err := r.Next(&rec); err != nil {
			t.Fatal(err)
		}
	}
	r.Close()
	if _, ok := r.SHA256(); ok {
		t.Fatal("digest after reading 10 of 3000 records")
	}

	// Corrupt record length early on: the reader stops there.
	bad := bytes.Clone(data)
	off := in.b.want[5].Offset
	copy(bad[off+8:], []byte{0xff, 0xff, 0xff, 0x7f})
	r, err = NewReader(bytes.NewReader(bad), "corrupt", WithSHA256())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readAll(t, r); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("corrupt: %v", err)
	}
	if _, ok := r.SHA256(); ok {
		t.Fatal("digest of a file abandoned at its damage")
	}

	boom := errors.New("disk on fire")
	r, err = NewReader(&errReader{data: data[:len(data)-10], err: boom}, "ioerr", WithSHA256())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readAll(t, r); !errors.Is(err, boom) {
		t.Fatalf("read error: %v", err)
	}
	if _, ok := r.SHA256(); ok {
		t.Fatal("digest after a read error")
	}

	r, err = NewReader(&errReader{data: data[:30]}, "stall", WithSHA256())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readAll(t, r); !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("stall: %v", err)
	}
	if _, ok := r.SHA256(); ok {
		t.Fatal("digest of a stalled reader")
	}

	cut := data[:len(data)-7]
	r, err = NewReader(bytes.NewReader(cut), "cut", WithSHA256())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readAll(t, r); !errors.Is(err, ErrTruncated) {
		t.Fatalf("truncated: %v", err)
	}
	if sum, ok := r.SHA256(); !ok || sum != sha256.Sum256(cut) {
		t.Fatalf("truncated: SHA256 %x %v, want the whole file's", sum, ok)
	}
}

// TestSHA256Allocs checks that hashing adds no allocation per record.
func TestSHA256Allocs(t *testing.T) {
	p, n := benchCaptures(t)
	for _, data := range [][]byte{p, n} {
		r, err := NewReader(bytes.NewReader(data), "allocs", WithSHA256())
		if err != nil {
			t.Fatal(err)
		}
		var rec Record
		for i := 0; i < 100; i++ {
			if err := r.Next(&rec); err != nil {
				t.Fatal(err)
			}
		}
		allocs := testing.AllocsPerRun(20000, func() {
			if err := r.Next(&rec); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%v allocations per record with WithSHA256, want 0", allocs)
		}
		r.Close()
	}
}

// BenchmarkReadPCAPSHA256 is BenchmarkReadPCAP with WithSHA256: the cost
// of hashing while reading.
func BenchmarkReadPCAPSHA256(b *testing.B) {
	p, _ := benchCaptures(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(p)))
	var rec Record
	for b.Loop() {
		r, err := NewReader(bytes.NewReader(p), "bench", WithSHA256())
		if err != nil {
			b.Fatal(err)
		}
		for {
			if err := r.Next(&rec); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
		}
		if _, ok := r.SHA256(); !ok {
			b.Fatal("no digest")
		}
	}
}

// TestSHA256ErrorThenEOF checks that a read error spoils the digest even if
// the stream later ends cleanly (the bytes lost to the error are not hashed).
func TestSHA256ErrorThenEOF(t *testing.T) {
	data := hashInputs(t)[0].data
	r, err := NewReader(bytes.NewReader(data), "x", WithSHA256())
	if err != nil {
		t.Fatal(err)
	}
	c := r.counter
	c.r = io.MultiReader(&errReader{data: []byte{1}, err: errors.New("flaky")}, bytes.NewReader(nil))
	buf := make([]byte, 8)
	if _, err := c.Read(buf); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(buf); err == nil || err == io.EOF {
		t.Fatalf("want the flaky error, got %v", err)
	}
	c.r = bytes.NewReader(nil)
	if _, err := c.Read(buf); err != io.EOF {
		t.Fatal(err)
	}
	if _, ok := r.SHA256(); ok {
		t.Fatal("digest after a read error")
	}
}
