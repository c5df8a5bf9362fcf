package scan

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dnsieve/dnsieve/internal/capture"
	"github.com/dnsieve/dnsieve/internal/testcap"
)

// countHashFile counts the whole-file reads made to hash a capture (in
// LoadState/seen, Record or as a fallback after a scan).
func countHashFile(t *testing.T) *atomic.Int64 {
	t.Helper()
	var n atomic.Int64
	orig := hashFile
	hashFile = func(path string) (string, error) {
		n.Add(1)
		return orig(path)
	}
	t.Cleanup(func() { hashFile = orig })
	return &n
}

// fileSHA256 is the oracle: the hex SHA-256 of the file's bytes on disk.
func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	sum := sha256.Sum256([]byte(readFile(t, path)))
	return hex.EncodeToString(sum[:])
}

// ethFrames is mixedFrames without the frames of other link types, for
// pcap files (one link type per file).
func ethFrames(t *testing.T) []testcap.Frame {
	var out []testcap.Frame
	for _, f := range mixedFrames(t) {
		if f.Link == testcap.Ethernet {
			out = append(out, f)
		}
	}
	return out
}

// readState decodes the state file of an output directory.
func readState(t *testing.T, out string) State {
	t.Helper()
	var st State
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(out, StateFileName))), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// wantStateFile is the state file the tool wrote before the hash was
// computed while scanning: path, size and time from stat, the hash of the
// file read again, with the scan times of got (the only free field).
func wantStateFile(t *testing.T, got State, paths []string) []byte {
	t.Helper()
	if len(got.Files) != len(paths) {
		t.Fatalf("state has %d entries, want %d: %+v", len(got.Files), len(paths), got.Files)
	}
	want := State{Version: 1}
	for i, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		want.Files = append(want.Files, processedFile{Path: abs, Size: fi.Size(), ModTime: fi.ModTime(),
			SHA256: fileSHA256(t, p), ScannedAt: got.Files[i].ScannedAt})
	}
	b, err := json.MarshalIndent(&want, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// TestStateHashFromScan checks that a normal run records, for plain, gzip
// and zstd captures, the SHA-256 of the file's bytes as stored (not of the
// decompressed capture), writes exactly the state file the tool wrote when
// it hashed each file in a second read, and reads no file a second time.
func TestStateHashFromScan(t *testing.T) {
	dir := t.TempDir()
	frames := ethFrames(t)
	var paths []string
	for _, f := range []struct{ name, format string }{
		{"a.pcap", "pcap"}, {"b.pcapng.gz", "pcapng.gz"}, {"c.pcap.zst", "pcap.zst"}, {"d.pcapng", "pcapng"},
	} {
		p := filepath.Join(dir, f.name)
		testcap.WriteFile(t, p, frames, f.format)
		paths = append(paths, p)
	}
	reads := countHashFile(t)
	cfg := checksCfg()
	cfg.IgnoreParsed = true
	sum, out := runScan(t, cfg, dir)
	if sum.Files != 4 || sum.Failed != 0 || sum.Skipped != 0 {
		t.Fatalf("summary %+v", sum)
	}
	if n := reads.Load(); n != 0 {
		t.Errorf("%d files read again to hash them, want 0", n)
	}
	got := readState(t, out)
	if want := wantStateFile(t, got, paths); readFile(t, filepath.Join(out, StateFileName)) != string(want) {
		t.Errorf("state file:\n%s\nwant:\n%s", readFile(t, filepath.Join(out, StateFileName)), want)
	}
	// The hash is of the file, not of the capture inside it.
	raw, err := testcap.Encode(frames, "pcapng")
	if err != nil {
		t.Fatal(err)
	}
	if rawSum := sha256.Sum256(raw); got.Files[1].SHA256 == hex.EncodeToString(rawSum[:]) || got.Files[1].SHA256 != fileSHA256(t, paths[1]) {
		t.Errorf("gzip capture recorded as %s", got.Files[1].SHA256)
	}

	// Second run into the same directory: every capture is skipped, by
	// path, size and time, without hashing anything.
	run := func() Summary {
		t.Helper()
		cfg.OutputDir = out
		s, err := Run(context.Background(), Options{Config: cfg, Paths: []string{dir}, Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := run(); s.Files != 0 || s.Skipped != 4 {
		t.Fatalf("second run %+v", s)
	}
	if n := reads.Load(); n != 0 {
		t.Errorf("second run hashed %d files, want 0", n)
	}

	// A copy of a.pcap with a new name and time is recognised by content:
	// that costs exactly one read before the scan (its size is known).
	cp := filepath.Join(dir, "e-copy.pcap")
	if err := os.WriteFile(cp, []byte(readFile(t, paths[0])), 0o644); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(cp, later, later); err != nil {
		t.Fatal(err)
	}
	if s := run(); s.Files != 0 || s.Skipped != 5 {
		t.Fatalf("copy run %+v", s)
	}
	if n := reads.Load(); n != 1 {
		t.Errorf("copy run hashed %d files, want 1", n)
	}
	// (A skipped copy is not recorded under its own path, so every run
	// hashes it again, as before; removed to keep the counts below simple.)
	if err := os.Remove(cp); err != nil {
		t.Fatal(err)
	}
	// New content of a recorded size: hashed once before the scan (not
	// seen), scanned, and recorded with the digest of the scan.
	other := ethFrames(t)
	other[0].Time = other[0].Time.Add(time.Second) // same length, other bytes
	f := filepath.Join(dir, "f-other.pcap")
	testcap.WriteFile(t, f, other, "pcap")
	if fileSHA256(t, f) == fileSHA256(t, paths[0]) {
		t.Fatal("test capture not different")
	}
	reads.Store(0)
	if s := run(); s.Files != 1 || s.Skipped != 4 {
		t.Fatalf("other-content run %+v", s)
	}
	if n := reads.Load(); n != 1 {
		t.Errorf("other-content run hashed %d files, want 1 (before the scan only)", n)
	}
	got = readState(t, out)
	if last := got.Files[len(got.Files)-1]; last.SHA256 != fileSHA256(t, f) || last.Size != int64(len(readFile(t, f))) {
		t.Errorf("recorded %+v", last)
	}
	// A new size is never hashed before the scan.
	g := filepath.Join(dir, "g-small.pcap")
	testcap.WriteFile(t, g, frames[:3], "pcap")
	reads.Store(0)
	if s := run(); s.Files != 1 || s.Skipped != 5 {
		t.Fatalf("new-size run %+v", s)
	}
	if n := reads.Load(); n != 0 {
		t.Errorf("new-size run hashed %d files, want 0", n)
	}
	got = readState(t, out)
	if last := got.Files[len(got.Files)-1]; last.SHA256 != fileSHA256(t, g) {
		t.Errorf("recorded %+v", last)
	}
}

// TestStateDamagedNotRecorded checks that, as before, a capture not read to
// its clean end (truncated, not a capture) gets no state entry and is
// scanned again by the next run, while the good one is skipped.
func TestStateDamagedNotRecorded(t *testing.T) {
	dir := t.TempDir()
	frames := ethFrames(t)
	data, err := testcap.Encode(frames, "pcap")
	if err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(dir, "a-broken.pcap")
	os.WriteFile(broken, data[:len(data)-5], 0o644)
	gzBroken, err := testcap.Encode(frames, "pcap.gz")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "b-broken.pcap.gz"), gzBroken[:len(gzBroken)-3], 0o644)
	os.WriteFile(filepath.Join(dir, "c-garbage.pcap"), []byte("not a capture at all"), 0o644)
	good := filepath.Join(dir, "d-good.pcap")
	testcap.WriteFile(t, good, frames, "pcap")

	reads := countHashFile(t)
	out := t.TempDir()
	cfg := checksCfg()
	cfg.OutputDir, cfg.IgnoreParsed = out, true
	for i, want := range []Summary{{Files: 4, Failed: 3}, {Files: 3, Failed: 3, Skipped: 1}} {
		s, err := Run(context.Background(), Options{Config: cfg, Paths: []string{dir}, Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		if s.Files != want.Files || s.Failed != want.Failed || s.Skipped != want.Skipped {
			t.Fatalf("run %d: %+v", i, s)
		}
		got := readState(t, out)
		if want := wantStateFile(t, got, []string{good}); readFile(t, filepath.Join(out, StateFileName)) != string(want) {
			t.Fatalf("run %d: state file:\n%s\nwant:\n%s", i, readFile(t, filepath.Join(out, StateFileName)), want)
		}
	}
	// The broken captures have the good one's size or not; only a size
	// match costs a read: a-broken.pcap is 5 bytes short, so none.
	if n := reads.Load(); n != 0 {
		t.Errorf("%d files read again to hash them, want 0", n)
	}
}

// TestRecordRead checks the exported recording used by watch: the digest
// of a reader that read the whole file, without reading it again, or the
// file hashed again otherwise; Record hashes the file.
func TestRecordRead(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.pcapng.zst")
	testcap.WriteFile(t, p, mixedFrames(t), "pcapng.zst")
	abs, _ := filepath.Abs(p)
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	want := fileSHA256(t, p)
	reads := countHashFile(t)

	st, err := LoadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := capture.Open(p, capture.WithSHA256())
	if err != nil {
		t.Fatal(err)
	}
	var rec capture.Record
	n := 0
	for {
		if err := r.Next(&rec); err != nil {
			if err != io.EOF {
				t.Fatal(err)
			}
			break
		}
		n++
	}
	r.Close()
	st.RecordRead(abs, fi, r)
	if n != 24 || len(st.Files) != 1 || st.Files[0].SHA256 != want || reads.Load() != 0 {
		t.Fatalf("%d frames, %+v, %d reads", n, st.Files, reads.Load())
	}
	// Not read to the end: hashed again, same result.
	r, err = capture.Open(p, capture.WithSHA256())
	if err != nil {
		t.Fatal(err)
	}
	r.Next(&rec)
	r.Close()
	st.RecordRead(abs, fi, r)
	if len(st.Files) != 1 || st.Files[0].SHA256 != want || reads.Load() != 1 {
		t.Fatalf("partial reader: %+v, %d reads", st.Files, reads.Load())
	}
	st.Record(abs, fi)
	if len(st.Files) != 1 || st.Files[0].SHA256 != want || reads.Load() != 2 {
		t.Fatalf("Record: %+v, %d reads", st.Files, reads.Load())
	}
	if seen, err := st.Seen(abs, fi); !seen || err != nil {
		t.Fatalf("Seen: %v %v", seen, err)
	}
	// A file that cannot be read is recorded without a hash, as before.
	gone := filepath.Join(dir, "gone.pcap")
	st.Record(gone, fi)
	if f := st.Files[1]; f.Path != gone || f.SHA256 != "" || f.Size != fi.Size() {
		t.Fatalf("unreadable: %+v", f)
	}
	if err := st.Save(dir); err != nil {
		t.Fatal(err)
	}
	if b := readFile(t, filepath.Join(dir, StateFileName)); !bytes.Contains([]byte(b), []byte(`"sha256": "`+want+`"`)) {
		t.Fatalf("saved:\n%s", b)
	}
}

// TestStateWithoutIgnoreParsed checks that a run without
// ignore_parsed_pcaps records path, size and time but hashes nothing (the
// hash is only of use to that setting, and costs 6% of a one-core scan),
// and that a later run with the setting skips the capture by path, size
// and time but scans a copy of it: without a recorded hash no copy is
// recognised.
func TestStateWithoutIgnoreParsed(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.pcap")
	testcap.WriteFile(t, p, ethFrames(t), "pcap")
	reads := countHashFile(t)
	cfg := checksCfg()
	sum, out := runScan(t, cfg, dir)
	if sum.Files != 1 || sum.Skipped != 0 {
		t.Fatalf("summary %+v", sum)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	got := readState(t, out)
	want := processedFile{Path: p, Size: fi.Size(), ModTime: fi.ModTime()}
	if len(got.Files) != 1 {
		t.Fatalf("state %+v", got.Files)
	}
	f := got.Files[0]
	f.ScannedAt = time.Time{}
	if f.Path != want.Path || f.Size != want.Size || !f.ModTime.Equal(want.ModTime) || f.SHA256 != "" {
		t.Errorf("state entry %+v, want %+v", f, want)
	}
	if b := readFile(t, filepath.Join(out, StateFileName)); bytes.Contains([]byte(b), []byte("sha256")) {
		t.Errorf("state file names a hash:\n%s", b)
	}

	copyDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(copyDir, "copy.pcap"), []byte(readFile(t, p)), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg.OutputDir, cfg.IgnoreParsed = out, true
	s, err := Run(context.Background(), Options{Config: cfg, Paths: []string{dir, copyDir}, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if s.Files != 1 || s.Skipped != 1 {
		t.Errorf("second run: %d scanned, %d skipped; want the original skipped and the copy scanned", s.Files, s.Skipped)
	}
	if n := reads.Load(); n != 0 {
		t.Errorf("%d files read again to hash them, want 0", n)
	}
	st := readState(t, out)
	if len(st.Files) != 2 || st.Files[0].SHA256 != "" || st.Files[1].SHA256 != fileSHA256(t, filepath.Join(copyDir, "copy.pcap")) {
		t.Errorf("state after the second run: %+v", st.Files)
	}
}
