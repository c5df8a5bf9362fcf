package dnstap

import (
	"errors"
	"fmt"
	"io"

	framestream "github.com/farsightsec/golang-framestream"
)

// ReadFile reads a dnstap file: the unidirectional Frame Streams file format
// (a START control frame, data frames, a STOP control frame) written by
// `dnstap -w`, `fstrm_capture`, or BIND's `dnstap-output file`. It calls
// handle for each DNS message, in file order; the Message and its Wire bytes
// are valid only during the call.
//
// Frames without a DNS message (ErrNoPayload) are skipped silently. Frames
// that are malformed or larger than MaxFrameSize are skipped too, and
// reported after the whole file was read, as one error that matches
// ErrMalformed and tells how many there were. A file that ends in the middle
// of a frame yields the messages before the damage and an error matching
// io.ErrUnexpectedEOF. A file that ends between frames without a STOP frame
// (a capture that was cut) is read to its end without error.
func ReadFile(r io.Reader, handle func(*Message)) error {
	fr, err := framestream.NewReader(r, &framestream.ReaderOptions{
		ContentTypes: [][]byte{[]byte(ContentType)},
	})
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("dnstap: file header: %w", err)
	}
	buf := make([]byte, MaxFrameSize)
	var m Message
	var frames, skipped int
	var first error
	for {
		n, err := fr.ReadFrame(buf)
		if err != nil {
			if errors.Is(err, framestream.ErrDataFrameTooLarge) {
				frames++
				skipped++
				if first == nil {
					first = fmt.Errorf("frame %d: larger than %d bytes", frames, MaxFrameSize)
				}
				continue
			}
			if err == io.EOF {
				break
			}
			return fmt.Errorf("dnstap: after frame %d: %w", frames, err)
		}
		frames++
		switch err := Decode(buf[:n], &m); {
		case err == nil:
			handle(&m)
		case errors.Is(err, ErrNoPayload):
		default:
			skipped++
			if first == nil {
				first = fmt.Errorf("frame %d: %w", frames, err)
			}
		}
	}
	if skipped > 0 {
		return &skippedError{skipped: skipped, frames: frames, first: first}
	}
	return nil
}

// skippedError reports the frames ReadFile skipped.
type skippedError struct {
	skipped, frames int
	first           error
}

func (e *skippedError) Error() string {
	return fmt.Sprintf("dnstap: %d of %d frames skipped as malformed; first: %v", e.skipped, e.frames, e.first)
}

func (e *skippedError) Is(target error) bool { return target == ErrMalformed }
