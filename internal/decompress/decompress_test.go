package decompress

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

func TestOpen(t *testing.T) {
	plain := bytes.Repeat([]byte("dnsieve "), 1000)
	var gz, zs bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(plain)
	w.Close()
	zw, _ := zstd.NewWriter(&zs)
	zw.Write(plain)
	zw.Close()
	for _, c := range []struct {
		in   []byte
		kind string
	}{{plain, None}, {gz.Bytes(), Gzip}, {zs.Bytes(), Zstd}, {nil, None}} {
		s, err := Open(bufio.NewReader(bytes.NewReader(c.in)), 8<<20)
		if err != nil {
			t.Fatalf("%q: %v", c.kind, err)
		}
		got, err := io.ReadAll(s)
		s.Close()
		s.Close()
		want := plain
		if c.in == nil {
			want = nil
		}
		if err != nil || s.Kind != c.kind || !bytes.Equal(got, want) {
			t.Fatalf("%q: kind %q, %d bytes, %v", c.kind, s.Kind, len(got), err)
		}
	}
	// A damaged gzip header is a *Error naming the kind.
	_, err := Open(bufio.NewReader(bytes.NewReader([]byte{0x1f, 0x8b, 8, 0xff})), 8<<20)
	var de *Error
	if !errors.As(err, &de) || de.Kind != Gzip {
		t.Fatalf("damaged gzip: %v", err)
	}
}
