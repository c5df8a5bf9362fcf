// Package decompress recognises gzip and zstd streams by their magic
// numbers (never by file names) and decompresses them with bounded memory.
// Capture files and Zeek logs both arrive compressed or not.
package decompress

import (
	"bufio"
	"errors"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Kinds of compression.
const (
	None = ""
	Gzip = "gzip"
	Zstd = "zstd"
)

// Stream is a possibly decompressed input.
type Stream struct {
	io.Reader
	// Kind is None, Gzip or Zstd.
	Kind string
	gz   *gzip.Reader
	zd   *zstd.Decoder
}

// Error is a compression header that could not be read; Kind says which.
type Error struct {
	Kind string
	Err  error
}

func (e *Error) Error() string { return e.Kind + ": " + e.Err.Error() }

// Unwrap returns the decoder's error.
func (e *Error) Unwrap() error { return e.Err }

// Open looks at the first bytes of br: gzip (1f 8b) and zstd (28 b5 2f fd)
// streams are decompressed (a zstd window above maxWindow is refused:
// the decoder would allocate it), anything else is read as it is. A read
// error other than the end of input is returned as it is; a damaged
// compression header as an *Error.
func Open(br *bufio.Reader, maxWindow uint64) (*Stream, error) {
	magic, err := br.Peek(4)
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, &Error{Gzip, err}
		}
		return &Stream{Reader: gz, Kind: Gzip, gz: gz}, nil
	case len(magic) == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd:
		zd, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(maxWindow))
		if err != nil {
			return nil, &Error{Zstd, err}
		}
		return &Stream{Reader: zd, Kind: Zstd, zd: zd}, nil
	case err != nil && !errors.Is(err, io.EOF):
		return nil, err
	}
	return &Stream{Reader: br}, nil
}

// Close releases the decoder (not the underlying reader). It is safe to
// call more than once.
func (s *Stream) Close() {
	if s == nil {
		return
	}
	if s.gz != nil {
		s.gz.Close()
		s.gz = nil
	}
	if s.zd != nil {
		s.zd.Close()
		s.zd = nil
	}
}
