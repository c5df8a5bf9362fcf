package capture

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestIsCaptureName(t *testing.T) {
	for name, want := range map[string]bool{
		"a.pcap": true, "a.PCAP": true, "a.pcapng": true, "a.cap": true, "A.Cap": true,
		"a.pcap.gz": true, "a.pcapng.ZST": true, "a.cap.gz": true, "dir/x.pcap.zst": true,
		"a.pcap.gz.gz": false, "a.pcap.bz2": false, "a.txt": false, "a.gz": false, ".pcap": false,
		"a.pcapng.tar": false, "pcap": false, "a.zst": false, "a.scap": false, "a.pcap.xz": false,
	} {
		if got := IsCaptureName(name); got != want {
			t.Errorf("IsCaptureName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestWalk(t *testing.T) {
	dir := t.TempDir()
	mk := func(rel string) string {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := mk("b.pcap")
	b := mk("a.PCAPNG.gz")
	mk("notes.txt")
	c := mk("sub/c.cap.zst")
	d := mk("sub/deeper/d.pcap")
	odd := mk("other/capture.bin")
	if err := os.Symlink(a, filepath.Join(dir, "link.pcap")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "sub"), filepath.Join(dir, "loop")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "gone"), filepath.Join(dir, "sub", "broken.pcap")); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.pcap")
	missing := filepath.Join(dir, "missing.pcap")

	files, errs := Walk([]string{dir, odd, a, dir + "/", missing}, false)
	if want := []string{b, a, link, odd}; !reflect.DeepEqual(files, sorted(want)) {
		t.Errorf("non-recursive: got %v, want %v", files, sorted(want))
	}
	if len(errs) != 1 || !errors.Is(errs[0], fs.ErrNotExist) {
		t.Errorf("errors: %v", errs)
	}

	files, errs = Walk([]string{dir}, true)
	if want := []string{b, a, link, c, d}; !reflect.DeepEqual(files, sorted(want)) || len(errs) != 1 || !errors.Is(errs[0], fs.ErrNotExist) {
		t.Errorf("recursive: got %v (%v), want %v", files, errs, sorted(want))
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// TestWalkUnreadable checks that an unreadable directory is reported while
// the rest goes on. Root reads everything, so the test skips as root.
func TestWalkUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: permissions are not enforced")
	}
	dir := t.TempDir()
	locked := filepath.Join(dir, "locked")
	if err := os.Mkdir(locked, 0o755); err != nil {
		t.Fatal(err)
	}
	ok := filepath.Join(dir, "ok.pcap")
	os.WriteFile(ok, nil, 0o644)
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(locked, 0o755)
	files, errs := Walk([]string{dir}, true)
	if !reflect.DeepEqual(files, []string{ok}) || len(errs) != 1 || !errors.Is(errs[0], fs.ErrPermission) {
		t.Fatalf("got %v, %v", files, errs)
	}
}

func TestCaptureInSubdirectories(t *testing.T) {
	dir := t.TempDir()
	mk := func(p string) {
		t.Helper()
		p = filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mk("top/notes.txt")
	mk("top/a/b/readme.md")
	mk("top.pcap")
	top := filepath.Join(dir, "top")
	if CaptureInSubdirectories([]string{top}, 1000) {
		t.Fatal("found a capture where there is none")
	}
	mk("top/x.pcap") // directly in the input: not a subdirectory's
	if CaptureInSubdirectories([]string{top}, 1000) {
		t.Fatal("a capture at the top counted as deeper")
	}
	mk("top/a/b/c/d.pcapng.gz")
	if !CaptureInSubdirectories([]string{top}, 1000) {
		t.Fatal("the nested capture was not found")
	}
	// In name order: top's a, a's b, b's c, then c's capture, the fourth
	// entry looked at.
	if CaptureInSubdirectories([]string{top}, 3) {
		t.Fatal("found past the entry budget")
	}
	if !CaptureInSubdirectories([]string{top}, 4) {
		t.Fatal("not found within the entry budget")
	}
	if CaptureInSubdirectories([]string{filepath.Join(dir, "top.pcap"), filepath.Join(dir, "missing")}, 1000) {
		t.Fatal("a file or a missing path has subdirectories")
	}
}
