package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestScanExitStatus checks README's exit statuses: 2 for bad usage or
// configuration (a missing allowlist, an output directory that cannot be
// made), 1 for an input that cannot be read, 0 for a run over nothing
// that failed, with a headline that does not claim a clean result.
func TestScanExitStatus(t *testing.T) {
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	if err := os.WriteFile(notDir, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		args     []string
		want     int
		inStdout string
		inStderr string
	}{
		{"missing allowlist", []string{"-o", filepath.Join(dir, "o1"), "--allowlist", filepath.Join(dir, "nope.txt"), empty}, 2, "", "allowlist"},
		{"output is a file", []string{"-o", filepath.Join(notDir, "sub"), empty}, 2, "", "output directory"},
		{"missing capture", []string{"-o", filepath.Join(dir, "o2"), filepath.Join(dir, "nope.pcap")}, 1,
			"No capture analysed. 1 input could not be read: see out.log.", ""},
		{"empty directory", []string{"-o", filepath.Join(dir, "o3"), empty}, 0,
			"No capture analysed. No capture file was found in the inputs.", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if got := runScan(c.args, &out, &errb); got != c.want {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", got, c.want, out.String(), errb.String())
			}
			if !strings.Contains(out.String(), c.inStdout) || !strings.Contains(errb.String(), c.inStderr) {
				t.Errorf("stdout:\n%s\nstderr:\n%s", out.String(), errb.String())
			}
			if strings.Contains(out.String(), "No DNS tunnel found") {
				t.Errorf("claims a clean result:\n%s", out.String())
			}
		})
	}
}
