package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// The command's output is stable: the SHA-256 of the first 64 KiB of a
// small capture is fixed for a seed (update it only with a deliberate
// change of the traffic model, and bump GEN_VERSION in bench/compare.sh).
func TestFirstBytesStable(t *testing.T) {
	dir := t.TempDir()
	var stderr bytes.Buffer
	for _, c := range []struct{ format, want string }{
		{"pcap", "c35b413e9bfdb18b8f628bf47b2db1c24b625113444e1aa57ecfbaf783ae5d6d"},
		{"pcapng", "cf0a9539b25a4dea3ec74236037f438c660973c3fa0c7ccac7f16b70c059bbaa"},
	} {
		path := filepath.Join(dir, "x."+c.format)
		if err := run([]string{"-q", "-n", "2000", "-seed", "42", "-format", c.format, "-o", path}, io.Discard, &stderr); err != nil {
			t.Fatalf("%v: %s", err, stderr.String())
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(data) < 64<<10 {
			t.Fatalf("%s: only %d bytes", c.format, len(data))
		}
		s := sha256.Sum256(data[:64<<10])
		if got := hex.EncodeToString(s[:]); got != c.want {
			t.Errorf("%s: sha256 of the first 64 KiB = %s, want %s", c.format, got, c.want)
		}
	}
}

// Bad arguments are errors, not captures.
func TestBadArguments(t *testing.T) {
	for _, args := range [][]string{{"-format", "pcapx"}, {"-compress", "lz4"}, {"extra"}, {"-n", "-1"}} {
		if err := run(append([]string{"-q", "-n", "10"}, args...), io.Discard, io.Discard); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
