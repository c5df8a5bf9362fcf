package capture

import (
	"bufio"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/dnsieve/dnsieve/internal/decompress"
)

// Limits that keep memory bounded on hostile input.
const (
	// MaxCaplen is the largest captured length accepted for one frame
	// (262144 bytes, libpcap's and Wireshark's standard maximum snapshot
	// length). A record claiming more is reported as damage, never allocated.
	MaxCaplen = 256 << 10
	// MaxBlockLen is the largest pcapng block accepted. Non-packet blocks are
	// skipped by streaming over them; packet and interface blocks are held in
	// the read buffer, which therefore never exceeds this size.
	MaxBlockLen = 16 << 20
	// MaxInterfaces is the largest number of pcapng interfaces accepted in
	// one section.
	MaxInterfaces = 1 << 16
	// bufSize is the initial size of the decompressed-stream read buffer.
	bufSize = 1 << 20
)

// MaxZstdWindow bounds the history window a zstd frame may ask for; the
// decoder allocates the declared window up front, so this is also the most
// memory a hostile zstd header can cost. 128 MiB accepts every compression
// level, including `zstd --ultra -22` and `zstd --long`.
var MaxZstdWindow uint64 = 128 << 20

// Sentinel errors, matched with errors.Is on the Err field of an *Error.
var (
	// ErrNotCapture means the stream starts with neither a pcap nor a
	// pcapng magic number (after any gzip or zstd layer is removed).
	ErrNotCapture = errors.New("not a pcap or pcapng capture")
	// ErrTruncated means the stream ended in the middle of a header, record
	// or block (or the compressed stream itself was cut short).
	ErrTruncated = errors.New("truncated capture")
	// ErrCorrupt means a header or record holds impossible values: a bad
	// length, a length over the limits, an unknown interface and so on.
	ErrCorrupt = errors.New("corrupt capture")
)

// Record is one captured frame.
type Record struct {
	// Frame is the 1-based frame number exactly as Wireshark/tshark numbers
	// frames: every packet record or packet block counts, whatever its
	// interface. The pcapng blocks Wireshark shows as frames although they
	// hold no packet (custom, systemd journal and sysdig event blocks) are
	// not returned but consume a number, so Frame may then skip ahead.
	Frame uint64
	// Time is the capture timestamp in Unix nanoseconds. It honours the pcap
	// nanosecond magic and pcapng if_tsresol/if_tsoffset. pcapng Simple
	// Packet Blocks carry no timestamp and get 0.
	Time int64
	// LinkType is the LINKTYPE_* value of the frame's interface
	// (https://www.tcpdump.org/linktypes.html).
	LinkType uint16
	// OrigLen is the length of the frame on the wire.
	OrigLen int
	// Data holds the captured bytes. It aliases the reader's buffer and is
	// valid only until the next call to Next.
	Data []byte
	// Offset is the byte offset of the pcap record header or pcapng block
	// that holds the frame, in the decompressed capture stream.
	Offset int64
}

// Format is the container format of a capture.
type Format int

// Supported container formats.
const (
	FormatPCAP Format = iota + 1
	FormatPCAPNG
)

// String returns "pcap", "pcapng" or "Format(n)".
func (f Format) String() string {
	switch f {
	case FormatPCAP:
		return "pcap"
	case FormatPCAPNG:
		return "pcapng"
	}
	return "Format(" + strconv.Itoa(int(f)) + ")"
}

// Error reports damage in a capture: which file, where, and after which
// frame. Offset is the start of the damaged record or block in the
// decompressed stream (0 for a bad file header).
type Error struct {
	Path   string // the name given to NewReader, or the path given to Open
	Offset int64  // byte offset of the damaged record or block
	Frame  uint64 // number of the last good frame, as Reader.Frames (0 if none)
	Err    error  // what is wrong; matches ErrTruncated, ErrCorrupt, ErrNotCapture or a read error
	// Compression is "gzip" or "zstd" when Offset counts decompressed
	// bytes, so that it is not read as a position in the file.
	Compression string
}

// Error formats as "x.pcap: byte 123456 (after frame 41): truncated packet
// record: unexpected EOF", or "x.pcap.gz: decompressed byte 123456 ..."
// for a compressed file.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Path)
	if e.Compression != "" {
		b.WriteString(": decompressed byte ")
	} else {
		b.WriteString(": byte ")
	}
	b.WriteString(strconv.FormatInt(e.Offset, 10))
	if e.Frame > 0 {
		b.WriteString(" (after frame ")
		b.WriteString(strconv.FormatUint(e.Frame, 10))
		b.WriteString(")")
	}
	b.WriteString(": ")
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString("damaged capture")
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// truncError is the Err of a truncation *Error. It matches both ErrTruncated
// and io.ErrUnexpectedEOF.
type truncError struct{ what string }

func (e *truncError) Error() string { return "truncated " + e.what + ": unexpected EOF" }

func (e *truncError) Is(target error) bool {
	return target == ErrTruncated || target == io.ErrUnexpectedEOF
}

// corruptf builds an error matching ErrCorrupt.
func corruptf(format string, args ...any) error {
	return &corruptError{msg: fmt.Sprintf(format, args...)}
}

type corruptError struct{ msg string }

func (e *corruptError) Error() string        { return e.msg }
func (e *corruptError) Is(target error) bool { return target == ErrCorrupt }

// countingReader counts the bytes read from the underlying file and, when
// h is set, hashes them. Only n may be read concurrently with Read.
type countingReader struct {
	r io.Reader
	n atomic.Int64

	h      hash.Hash // nil unless WithSHA256
	eof    bool      // r returned io.EOF
	failed bool      // r returned another error (the digest is partial)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.n.Add(int64(n))
		if c.h != nil && n <= len(p) {
			c.h.Write(p[:n]) // never fails
		}
	}
	switch {
	case err == io.EOF:
		c.eof = true
	case err != nil:
		c.failed = true
	}
	return n, err
}

// Option configures Open and NewReader.
type Option func(*options)

type options struct {
	sha256 bool
}

// WithSHA256 makes the reader compute the SHA-256 of the bytes it reads
// from the file (or the io.Reader given to NewReader) as they are stored,
// before any decompression, while reading them: see Reader.SHA256. This
// spares a second read of the file to identify it.
func WithSHA256() Option { return func(o *options) { o.sha256 = true } }

// Reader reads frame records from a pcap or pcapng capture, possibly gzip or
// zstd compressed. It is not safe for concurrent use, except that
// CompressedOffset may be called from another goroutine.
type Reader struct {
	name        string
	src         *source
	counter     *countingReader
	file        io.Closer // set by Open
	stream      *decompress.Stream
	compression string
	format      Format
	frame       uint64 // number of the last frame returned or skipped
	hidden      uint64 // pcapng blocks numbered as frames but not returned
	err         error  // sticky terminal error
	be          bool   // multi-byte fields are big-endian (pcap file / current pcapng section)
	nano        bool   // pcap: fractional timestamps are nanoseconds
	linkType    uint16 // pcap: link type of every record
	ifaces      []ngIface
}

// Open opens the capture file at path. Compression and format are detected
// from magic numbers, never from the file name.
func Open(path string, opts ...Option) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := NewReader(f, path, opts...)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.file = f
	return r, nil
}

// NewReader reads a capture from rd, detecting gzip or zstd compression and
// the pcap or pcapng format from magic numbers. name is used in errors.
// Errors are of type *Error.
func NewReader(rd io.Reader, name string, opts ...Option) (*Reader, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	r := &Reader{name: name, counter: &countingReader{r: rd}}
	if o.sha256 {
		r.counter.h = sha256.New()
	}
	br := bufio.NewReaderSize(r.counter, 64<<10)
	st, err := decompress.Open(br, MaxZstdWindow)
	if err != nil {
		if de := (*decompress.Error)(nil); errors.As(err, &de) && de.Kind == decompress.Gzip {
			return nil, r.headerError("gzip header", de.Err)
		}
		return nil, &Error{Path: name, Err: err}
	}
	r.stream, r.compression = st, st.Kind
	stream := io.Reader(st)
	r.src = newSource(stream, bufSize, MaxBlockLen)
	if err := r.detect(); err != nil {
		r.closeDecoders()
		return nil, err
	}
	return r, nil
}

// headerError wraps an error met while reading a compression header.
func (r *Reader) headerError(what string, err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return r.fail(0, &truncError{what: what})
	}
	return r.fail(0, fmt.Errorf("%s: %w", what, err))
}

// detect reads the magic number and the file or first section header.
func (r *Reader) detect() error {
	s := r.src
	if !s.ensure(4) {
		if s.err != io.EOF {
			// A read error, or a compressed stream cut short.
			return r.short(0, "file header")
		}
		return r.fail(0, r.notCapture(s.peek(s.avail())))
	}
	m := s.peek(4)
	switch {
	case m[0] == 0xd4 && m[1] == 0xc3 && m[2] == 0xb2 && m[3] == 0xa1:
		return r.pcapHeader(false, false)
	case m[0] == 0xa1 && m[1] == 0xb2 && m[2] == 0xc3 && m[3] == 0xd4:
		return r.pcapHeader(true, false)
	case m[0] == 0x4d && m[1] == 0x3c && m[2] == 0xb2 && m[3] == 0xa1:
		return r.pcapHeader(false, true)
	case m[0] == 0xa1 && m[1] == 0xb2 && m[2] == 0x3c && m[3] == 0x4d:
		return r.pcapHeader(true, true)
	case m[0] == 0x0a && m[1] == 0x0d && m[2] == 0x0d && m[3] == 0x0a:
		r.format = FormatPCAPNG
		return r.sectionHeader()
	}
	return r.fail(0, r.notCapture(m))
}

func (r *Reader) notCapture(first []byte) error {
	var b strings.Builder
	if r.compression != "" {
		b.WriteString(r.compression + "-compressed, ")
	}
	if len(first) == 0 {
		b.WriteString("empty")
	} else {
		b.WriteString("first bytes ")
		for i, c := range first {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(fmt.Sprintf("%02x", c))
		}
	}
	return fmt.Errorf("%w (%s)", ErrNotCapture, b.String())
}

// fail builds the *Error for damage at offset off.
func (r *Reader) fail(off int64, err error) *Error {
	return &Error{Path: r.name, Offset: off, Frame: r.frame, Err: err, Compression: r.compression}
}

// short reports that fewer bytes than needed for what were available at off:
// a truncation when the stream ended, otherwise the underlying read error.
func (r *Reader) short(off int64, what string) *Error {
	switch e := r.src.err; {
	case e == io.EOF || e == io.ErrUnexpectedEOF:
		return r.fail(off, &truncError{what: what})
	case e == nil:
		return r.fail(off, corruptf("%s larger than the %d-byte buffer limit", what, r.src.max))
	default:
		return r.fail(off, fmt.Errorf("reading %s: %w", what, e))
	}
}

// Next reads the next frame into rec. It returns io.EOF at the clean end of
// the capture and an *Error for damage; after either, every further call
// returns the same error. rec.Data is only valid until the next call.
func (r *Reader) Next(rec *Record) error {
	if r.err != nil {
		return r.err
	}
	var err error
	if r.format == FormatPCAP {
		err = r.nextPCAP(rec)
	} else {
		err = r.nextPCAPNG(rec)
	}
	if err != nil {
		r.err = err
	}
	return err
}

// Name returns the name used in errors.
func (r *Reader) Name() string { return r.name }

// Format returns the container format.
func (r *Reader) Format() Format { return r.format }

// Compression returns "", "gzip" or "zstd".
func (r *Reader) Compression() string { return r.compression }

// CompressedOffset returns how many bytes have been read from the underlying
// file or reader so far (read-ahead included), for progress reporting. It
// may be called concurrently with Next.
func (r *Reader) CompressedOffset() int64 { return r.counter.n.Load() }

// SHA256 returns the SHA-256 of every byte of the file (or io.Reader) as
// stored, compressed or not, and true, once the reader has read it to its
// end: always the case after Next returned io.EOF, and possibly after a
// damage error (a truncated file is read to its end). It returns false when
// the reader was not made with WithSHA256, when the end was not reached
// (not read yet, damage found before the end, Close before the end) or when
// reading failed. It must not be called concurrently with Next.
func (r *Reader) SHA256() (sum [sha256.Size]byte, ok bool) {
	c := r.counter
	if c.h == nil || !c.eof || c.failed {
		return sum, false
	}
	c.h.Sum(sum[:0])
	return sum, true
}

// Frames returns the number of the last frame read so far: the frames
// returned plus any pcapng blocks that consumed a frame number while being
// skipped (see Record.Frame).
func (r *Reader) Frames() uint64 { return r.frame }

// Close releases the decompressor and closes the file opened by Open. It
// does not close a reader passed to NewReader.
func (r *Reader) Close() error {
	r.closeDecoders()
	if r.err == nil {
		r.err = &Error{Path: r.name, Offset: r.src.pos, Frame: r.frame, Err: os.ErrClosed, Compression: r.compression}
	}
	if r.file != nil {
		err := r.file.Close()
		r.file = nil
		return err
	}
	return nil
}

func (r *Reader) closeDecoders() { r.stream.Close() }
