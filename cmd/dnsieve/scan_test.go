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
	// Captures only in subdirectories: found with -r, named without it.
	nested := filepath.Join(dir, "nested")
	for _, sub := range []string{"a", "b/c"} {
		if err := os.MkdirAll(filepath.Join(nested, sub), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(nested, sub, "x.pcap"), emptyPcap(), 0o644); err != nil {
			t.Fatal(err)
		}
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
		{"captures only in subdirectories", []string{"-o", filepath.Join(dir, "o4"), nested}, 0,
			"No capture analysed. No capture file was found directly in the inputs; their subdirectories hold some: add --recursive (-r).",
			"their subdirectories hold some"},
		{"recursive", []string{"-o", filepath.Join(dir, "o5"), "-r", nested}, 0, "No DNS traffic found. The 2 captures held no packet.", ""},
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

// emptyPcap is a classic pcap file header (little-endian, version 2.4,
// snap length 65535, Ethernet) with no packet after it.
func emptyPcap() []byte {
	return []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0}
}
