package zeek

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"time"

	"github.com/dnsieve/dnsieve/internal/decompress"
)

// Format is the writer format of a log.
type Format uint8

// The log formats.
const (
	// FormatUnknown: the log is empty.
	FormatUnknown Format = iota
	// FormatTSV is Zeek's ASCII writer (tab-separated, # header lines).
	FormatTSV
	// FormatJSON is the ASCII writer with LogAscii::use_json = T.
	FormatJSON
)

// String returns "tsv", "json" or "unknown".
func (f Format) String() string {
	switch f {
	case FormatTSV:
		return "tsv"
	case FormatJSON:
		return "json"
	}
	return "unknown"
}

// MaxZstdWindow bounds the window a zstd frame may ask for, which the
// decoder allocates up front (as in internal/capture).
const MaxZstdWindow = 128 << 20

// maxColumns bounds #fields.
const maxColumns = 4096

// header is the state a TSV header block sets.
type header struct {
	sep, setSep, empty, unset []byte
	cols                      []field
	// skip: the block is the log of another stream (#path) or its #fields
	// are unusable; its lines are skipped.
	skip bool
}

// reset restores Zeek's defaults with separator sep.
func (h *header) reset(sep []byte) {
	h.sep = append(h.sep[:0], sep...)
	h.setSep = append(h.setSep[:0], ',')
	h.empty = append(h.empty[:0], "(empty)"...)
	h.unset = append(h.unset[:0], '-')
	h.cols = append(h.cols[:0], defaultFields...)
	h.skip = false
}

// Reader reads the records of one dns.log. It is not safe for concurrent
// use.
type Reader struct {
	name        string
	file        *os.File
	stream      *decompress.Stream
	br          *bufio.Reader
	format      Format
	compression string

	hdr    header
	long   []byte
	lineNo int
	err    error // sticky: io.EOF or a read error

	bad, skipped, records int

	arena   arena
	addrs   addrCache
	query   []byte
	answers []string
	ttls    []float64
	tmp     []byte
	key     []byte

	// Per-line scratch.
	sawTS          bool
	origH, respH   netip.Addr
	origP, respP   uint16
	origPS, respPS bool
}

// Open opens the log at path (plain, gzip or zstd).
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := NewReader(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.file = f
	return r, nil
}

// NewReader reads a dns.log from rd. gzip and zstd compression are
// recognised by their magic numbers, and TSV or JSON by the first
// non-blank byte ('#' or a digit: TSV; '{': JSON); a file may mix both, one
// format per line. name is used in errors. It fails with an error wrapping
// ErrNotDNSLog when the content is not a Zeek log, or is the TSV log of
// another stream.
func NewReader(rd io.Reader, name string) (*Reader, error) {
	r := &Reader{name: name, addrs: addrCache{}}
	br := bufio.NewReaderSize(rd, 64<<10)
	st, err := decompress.Open(br, MaxZstdWindow)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	r.stream, r.compression = st, st.Kind
	if st.Kind != decompress.None {
		r.br = bufio.NewReaderSize(st, 64<<10)
	} else {
		r.br = br
	}
	r.hdr.reset([]byte{'\t'})
	if err := r.detect(); err != nil {
		r.closeDecoders()
		return nil, err
	}
	return r, nil
}

// detect looks at the first 64 KiB: the format, and the #path of a first
// TSV header block.
func (r *Reader) detect() error {
	buf, err := r.br.Peek(64 << 10)
	if len(buf) == 0 && err != nil && err != io.EOF {
		return fmt.Errorf("%s: %w", r.name, err)
	}
	// A read error after some data (a damaged compressed stream) is
	// reported by Next when it is reached.
	if bytes.HasPrefix(buf, []byte("\xef\xbb\xbf")) {
		r.br.Discard(3)
		buf = buf[3:]
	}
	rest := buf
	for len(rest) > 0 {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			i = len(rest)
		}
		line := bytes.TrimRight(rest[:i], "\r")
		rest = rest[min(i+1, len(rest)):]
		if isBlank(line) {
			continue
		}
		switch c := line[0]; {
		case c == '{':
			r.format = FormatJSON
			return nil
		case '0' <= c && c <= '9':
			r.format = FormatTSV
			return nil
		case c != '#':
			return fmt.Errorf("%s: %w", r.name, ErrNotDNSLog)
		}
		r.format = FormatTSV
		r.header(line)
		if r.hdr.skip && bytes.HasPrefix(line, []byte("#path")) {
			return fmt.Errorf("%s: %w (%s)", r.name, ErrNotDNSLog, printable(line))
		}
		if bytes.HasPrefix(line, []byte("#fields")) {
			break
		}
	}
	r.hdr.reset([]byte{'\t'})
	return nil
}

// printable renders a short, safe excerpt of b for an error message.
func printable(b []byte) string {
	var out []byte
	for _, c := range b[:min(len(b), 60)] {
		if c < 0x20 || c >= 0x7f {
			c = '?'
		}
		out = append(out, c)
	}
	return string(out)
}

// Name returns the name given to NewReader or the path given to Open.
func (r *Reader) Name() string { return r.name }

// Format returns the format of the first record or header line.
func (r *Reader) Format() Format { return r.format }

// Compression returns "gzip", "zstd" or "".
func (r *Reader) Compression() string { return r.compression }

// Records returns how many records Next has returned.
func (r *Reader) Records() int { return r.records }

// BadLines returns how many lines were reported as *LineError.
func (r *Reader) BadLines() int { return r.bad }

// Skipped returns how many lines of other Zeek streams were skipped (a TSV
// block whose #path is not dns, a JSON object whose _path is not dns).
func (r *Reader) Skipped() int { return r.skipped }

// Close closes the decompressor and, for Open, the file.
func (r *Reader) Close() error {
	r.closeDecoders()
	if r.file != nil {
		err := r.file.Close()
		r.file = nil
		return err
	}
	return nil
}

func (r *Reader) closeDecoders() { r.stream.Close() }

// errTooLong is readLine's signal for a line over MaxLine.
var errTooLong = errors.New("line too long")

// errSkip is a parser's signal for a record of another stream.
var errSkip = errors.New("other stream")

// readLine returns the next line without its newline (and without a
// final \r). complete is false for a last line without newline. A line
// over MaxLine is consumed without being kept and reported as errTooLong.
// Other errors (io.EOF, read errors) come with what was read before them.
func (r *Reader) readLine() (line []byte, complete bool, err error) {
	r.long = r.long[:0]
	tooLong, n := false, 0
	for {
		frag, e := r.br.ReadSlice('\n')
		n += len(frag)
		if !tooLong {
			switch {
			case n > MaxLine+2: // room for "\r\n"
				tooLong, r.long, line = true, r.long[:0], nil
			case e == nil && len(r.long) == 0:
				line = frag
			default:
				r.long = append(r.long, frag...)
				line = r.long
			}
		}
		if e == bufio.ErrBufferFull {
			continue
		}
		if e == nil {
			complete = true
			if !tooLong {
				line = line[:len(line)-1]
			}
		} else {
			err = e
		}
		break
	}
	if n == 0 && err != nil {
		return nil, false, err
	}
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	if tooLong || len(line) > MaxLine {
		if err == nil || err == io.EOF {
			return nil, complete, errTooLong
		}
		return nil, complete, err
	}
	return line, complete, err
}

// isBlank reports whether a line holds only spaces and tabs.
func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// Next reads the next record into rec. It returns io.EOF at the end of
// the log and a *LineError for a line that is not a valid record (a
// malformed line, a bad header line, an over-long line); the following
// call goes on with the next line. Any other error (a failing read, a
// damaged compressed stream) ends the log and is returned again by every
// later call. rec's fields are those of the last line read; after an error
// they are unspecified.
func (r *Reader) Next(rec *Record) error {
	for {
		if r.err != nil {
			return r.err
		}
		line, complete, err := r.readLine()
		if err != nil && err != errTooLong {
			if err == io.EOF {
				r.err = io.EOF
			} else {
				r.err = fmt.Errorf("zeek: %s: after line %d: %w", r.name, r.lineNo, err)
			}
			if line == nil {
				return r.err
			}
		}
		r.lineNo++
		if err == errTooLong {
			r.bad++
			return &LineError{File: r.name, Line: r.lineNo, Err: ErrLineTooLong}
		}
		if isBlank(line) {
			continue
		}
		var perr error
		first := line[0]
		if first == ' ' || first == '\t' {
			// Only a JSON object may start with blanks.
			if b := bytes.TrimLeft(line, " \t"); b[0] == '{' {
				first = '{'
			}
		}
		switch first {
		case '#':
			if perr = r.header(line); perr == nil {
				continue
			}
		case '{':
			if r.format == FormatUnknown {
				r.format = FormatJSON
			}
			perr = r.parseJSON(line, rec)
		default:
			if r.format == FormatUnknown {
				r.format = FormatTSV
			}
			if r.hdr.skip {
				r.skipped++
				continue
			}
			perr = r.parseTSV(line, rec)
		}
		if perr == errSkip {
			r.skipped++
			continue
		}
		if perr != nil {
			r.bad++
			if !complete {
				perr = fmt.Errorf("%w: %w", ErrTruncatedLine, perr)
			}
			return &LineError{File: r.name, Line: r.lineNo, Err: perr}
		}
		r.finish(rec)
		return nil
	}
}

// startRecord clears rec and the per-line scratch.
func (r *Reader) startRecord(rec *Record) {
	*rec = Record{}
	r.sawTS = false
	r.origH, r.respH = netip.Addr{}, netip.Addr{}
	r.origP, r.respP, r.origPS, r.respPS = 0, 0, false, false
}

// finish completes a parsed record.
func (r *Reader) finish(rec *Record) {
	if r.origH.IsValid() {
		rec.Client = netip.AddrPortFrom(r.origH, r.origP)
	}
	if r.respH.IsValid() {
		rec.Server = netip.AddrPortFrom(r.respH, r.respP)
	}
	rec.Line = r.lineNo
	r.records++
}

// isDNSPath reports whether a #path or _path names the DNS stream ("dns",
// or "dns" followed by '_', '-' or '.' as in renamed or split streams).
func isDNSPath(p []byte) bool {
	if !bytes.HasPrefix(p, []byte("dns")) {
		return false
	}
	return len(p) == 3 || p[3] == '_' || p[3] == '-' || p[3] == '.'
}

// header applies one TSV header line (Zeek's ASCII writer: "#separator
// \x09", then "#set_separator", "#empty_field", "#unset_field", "#path",
// "#open", "#fields", "#types" separated from their values by the
// separator; "#close" at the end). A #separator line starts a new block
// with Zeek's defaults. Unknown # lines are comments.
func (r *Reader) header(line []byte) error {
	h := &r.hdr
	const sepKey = "#separator"
	if bytes.HasPrefix(line, []byte(sepKey)) {
		v := line[len(sepKey):]
		if len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
			v = v[1:]
		}
		sep := appendUnescaped(r.tmp[:0], v)
		r.tmp = sep
		if len(sep) == 0 || len(sep) > 16 {
			h.reset([]byte{'\t'})
			h.skip = true
			return r.headerErr("#separator must be 1 to 16 bytes")
		}
		h.reset(sep)
		return nil
	}
	i := bytes.Index(line, h.sep)
	if i < 0 {
		return nil // a comment or a value-less line
	}
	key, val := line[:i], line[i+len(h.sep):]
	switch string(key) {
	case "#set_separator", "#empty_field", "#unset_field":
		v := appendUnescaped(r.tmp[:0], val)
		r.tmp = v
		if len(v) == 0 || len(v) > 64 {
			return r.headerErr(string(key) + " must be 1 to 64 bytes")
		}
		switch string(key) {
		case "#set_separator":
			h.setSep = append(h.setSep[:0], v...)
		case "#empty_field":
			h.empty = append(h.empty[:0], v...)
		default:
			h.unset = append(h.unset[:0], v...)
		}
	case "#path":
		h.skip = !isDNSPath(val)
	case "#fields":
		h.cols = h.cols[:0]
		ts := false
		for rest := val; ; {
			j := bytes.Index(rest, h.sep)
			name := rest
			if j >= 0 {
				name = rest[:j]
			}
			if len(h.cols) == maxColumns {
				h.skip = true
				return r.headerErr("#fields has more than 4096 columns")
			}
			f := lookupField(name)
			ts = ts || f == fTS
			h.cols = append(h.cols, f)
			if j < 0 {
				break
			}
			rest = rest[j+len(h.sep):]
		}
		if !ts {
			h.skip = true
			return r.headerErr("#fields has no ts column")
		}
	}
	return nil
}

func (r *Reader) headerErr(msg string) error {
	return fmt.Errorf("%w: %s", ErrHeader, msg)
}

// parseTSV reads one TSV data line.
func (r *Reader) parseTSV(line []byte, rec *Record) error {
	r.startRecord(rec)
	h := &r.hdr
	if n := bytes.Count(line, h.sep) + 1; n != len(h.cols) {
		return fmt.Errorf("%w: %d, #fields has %d", ErrFieldCount, n, len(h.cols))
	}
	n := 0
	for rest := line; ; n++ {
		i := bytes.Index(rest, h.sep)
		v := rest
		if i >= 0 {
			v = rest[:i]
		}
		if err := r.tsvValue(h.cols[n], v, rec); err != nil {
			return err
		}
		if i < 0 {
			break
		}
		rest = rest[i+len(h.sep):]
	}
	if !r.sawTS {
		return ErrMissingField
	}
	return nil
}

// tsvValue stores one TSV field.
func (r *Reader) tsvValue(f field, v []byte, rec *Record) error {
	h := &r.hdr
	if bytes.Equal(v, h.unset) {
		if f == fTS {
			return ErrMissingField
		}
		return nil // the zero value is "unset" for every field
	}
	empty := bytes.Equal(v, h.empty)
	switch f {
	case fAnswers:
		r.answers = r.answers[:0]
		if !empty {
			for rest := v; ; {
				i := bytes.Index(rest, h.setSep)
				e := rest
				if i >= 0 {
					e = rest[:i]
				}
				r.answers = append(r.answers, r.arena.unescaped(e))
				if i < 0 {
					break
				}
				rest = rest[i+len(h.setSep):]
			}
		}
		rec.Answers = nonNil(r.answers)
		r.answers = rec.Answers
		return nil
	case fTTLs:
		r.ttls = r.ttls[:0]
		if !empty {
			for rest := v; ; {
				i := bytes.Index(rest, h.setSep)
				e := rest
				if i >= 0 {
					e = rest[:i]
				}
				x, ok := parseFloat(e)
				if !ok {
					return valueError(f, "not a number")
				}
				r.ttls = append(r.ttls, x)
				if i < 0 {
					break
				}
				rest = rest[i+len(h.setSep):]
			}
		}
		if r.ttls == nil {
			r.ttls = make([]float64, 0, 8)
		}
		rec.TTLs = r.ttls
		return nil
	case fQuery, fUID, fProto, fPath:
		if empty {
			v = nil
		}
		return r.stringValue(f, v, true, rec)
	}
	return r.scalar(f, v, rec)
}

// nonNil returns s, or an empty non-nil slice.
func nonNil(s []string) []string {
	if s == nil {
		return make([]string, 0, 8)
	}
	return s
}

// stringValue stores a string field; escaped says whether Zeek's \xNN
// escapes are to be decoded.
func (r *Reader) stringValue(f field, v []byte, escaped bool, rec *Record) error {
	switch f {
	case fQuery:
		if escaped {
			r.query = appendUnescaped(r.query[:0], v)
		} else {
			r.query = append(r.query[:0], v...)
		}
		if r.query == nil {
			r.query = make([]byte, 0, 64)
		}
		rec.Query = r.query
	case fUID:
		if escaped {
			rec.UID = r.arena.unescaped(v)
		} else {
			rec.UID = r.arena.str(v)
		}
	case fProto:
		switch string(v) {
		case "udp":
			rec.Proto = "udp"
		case "tcp":
			rec.Proto = "tcp"
		default:
			rec.Proto = r.arena.str(v)
		}
	case fPath:
		if !isDNSPath(v) {
			return errSkip
		}
	}
	return nil
}

// scalar stores a number, address, time or boolean field given as text.
func (r *Reader) scalar(f field, v []byte, rec *Record) error {
	switch f {
	case fTS:
		ns, ok := parseNanos(v)
		if ok {
			rec.Time = time.Unix(0, ns).UTC()
		} else if rec.Time, ok = parseISOTime(v); !ok {
			return valueError(f, "not a time")
		}
		r.sawTS = true
	case fOrigH, fRespH:
		a, ok := r.addrs.parse(v)
		if !ok {
			return valueError(f, "not an address")
		}
		if f == fOrigH {
			r.origH = a
		} else {
			r.respH = a
		}
	case fOrigP, fRespP, fTransID, fQClass, fQType:
		n, ok := parseUint(v, 65535)
		if !ok {
			return valueError(f, "not a number from 0 to 65535")
		}
		switch f {
		case fOrigP:
			r.origP = uint16(n)
		case fRespP:
			r.respP = uint16(n)
		case fTransID:
			rec.TransID = uint16(n)
		case fQClass:
			rec.QClass = uint16(n)
		default:
			rec.QType, rec.QTypeSet = uint16(n), true
		}
	case fRCode:
		n, ok := parseUint(v, 255)
		if !ok {
			return valueError(f, "not a number from 0 to 255")
		}
		rec.RCode, rec.RCodeSet = uint8(n), true
	case fRTT:
		ns, ok := parseNanos(v)
		if !ok {
			return valueError(f, "not an interval")
		}
		rec.RTT, rec.RTTSet = time.Duration(ns), true
	case fAA, fTC, fRD, fRA, fRejected:
		var b bool
		switch string(v) {
		case "T", "true":
			b = true
		case "F", "false":
		default:
			return valueError(f, "not T or F")
		}
		switch f {
		case fAA:
			rec.AA = b
		case fTC:
			rec.TC = b
		case fRD:
			rec.RD = b
		case fRA:
			rec.RA = b
		default:
			rec.Rejected = b
		}
	}
	return nil
}
