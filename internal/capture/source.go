package capture

import (
	"io"
)

// source is a minimal zero-copy buffered reader. Unlike bufio.Reader it can
// hand out a window of any size up to max bytes (growing its buffer only when
// a record is larger than the current buffer) and it tracks the stream offset
// of the next unread byte, which the readers use for exact record offsets.
type source struct {
	rd   io.Reader
	buf  []byte
	r, w int   // unread bytes are buf[r:w]
	pos  int64 // stream offset of buf[r]
	err  error // sticky error from rd (io.EOF at a clean end)
	max  int   // the buffer never grows beyond this many bytes
}

// maxZeroReads bounds how many times in a row a Read may return (0, nil)
// before the source gives up with io.ErrNoProgress.
const maxZeroReads = 100

func newSource(rd io.Reader, size, max int) *source {
	return &source{rd: rd, buf: make([]byte, size), max: max}
}

// avail returns the number of buffered unread bytes.
func (s *source) avail() int { return s.w - s.r }

// ensure makes at least n unread bytes available in s.buf[s.r:] and reports
// whether it succeeded. On failure s.err says why (io.EOF when the stream
// simply ended). n must not exceed s.max.
func (s *source) ensure(n int) bool {
	if s.w-s.r >= n {
		return true
	}
	return s.fill(n)
}

func (s *source) fill(n int) bool {
	if n > s.max {
		return false
	}
	if len(s.buf)-s.r < n {
		s.w = copy(s.buf, s.buf[s.r:s.w])
		s.r = 0
	}
	zero := 0
	for s.w-s.r < n && s.err == nil {
		if s.w == len(s.buf) {
			// The buffer is full of unread data and still too small. Grow it
			// by doubling, so that a header claiming a huge length costs
			// memory only in proportion to the data really present.
			size := 2 * len(s.buf)
			if size > n {
				size = n
			}
			nb := make([]byte, size)
			s.w = copy(nb, s.buf[s.r:s.w])
			s.r = 0
			s.buf = nb
		}
		m, err := s.rd.Read(s.buf[s.w:])
		if m < 0 || m > len(s.buf)-s.w {
			// A broken io.Reader; never trust it with our indices.
			s.err = io.ErrShortBuffer
			break
		}
		s.w += m
		if err != nil {
			s.err = err
		} else if m == 0 {
			zero++
			if zero >= maxZeroReads {
				s.err = io.ErrNoProgress
			}
		} else {
			zero = 0
		}
	}
	return s.w-s.r >= n
}

// peek returns the next n unread bytes without consuming them. It is only
// valid after a successful ensure(n) and until the next ensure or skip.
func (s *source) peek(n int) []byte { return s.buf[s.r : s.r+n : s.r+n] }

// discard consumes n buffered bytes; n must be <= avail().
func (s *source) discard(n int) {
	s.r += n
	s.pos += int64(n)
}

// skip consumes n bytes, reading (and dropping) them from the underlying
// stream when they are not buffered, so skipping never grows the buffer. It
// reports whether all n bytes were there.
func (s *source) skip(n int64) bool {
	for {
		a := int64(s.w - s.r)
		if n <= a {
			s.discard(int(n))
			return true
		}
		s.discard(int(a))
		n -= a
		s.r, s.w = 0, 0
		if !s.fill(1) {
			return false
		}
	}
}
