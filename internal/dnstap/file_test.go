package dnstap

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	pb "github.com/dnstap/golang-dnstap"
	framestream "github.com/farsightsec/golang-framestream"
)

// dnstapFile writes frames in the Frame Streams file format, as `dnstap -w`
// and fstrm_capture do.
func dnstapFile(t *testing.T, contentType string, frames [][]byte, stop bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := framestream.NewWriter(&buf, &framestream.WriterOptions{ContentTypes: [][]byte{[]byte(contentType)}})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range frames {
		if _, err := w.WriteFrame(f); err != nil {
			t.Fatal(err)
		}
	}
	if stop {
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	} else if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readAll(t *testing.T, file []byte) ([]Message, error) {
	var c collector
	err := ReadFile(bytes.NewReader(file), c.handle)
	return c.snapshot(), err
}

func TestReadFile(t *testing.T) {
	frames := senderFrames(t, "file", 40)
	msgs, err := readAll(t, dnstapFile(t, ContentType, frames, true))
	if err != nil {
		t.Fatal(err)
	}
	checkSender(t, msgs, "file", 40)
}

func TestReadFileSkips(t *testing.T) {
	frames := senderFrames(t, "file", 10)
	noPayload := mkFrame(t, frameSpec{typ: pb.Message_CLIENT_QUERY, qTime: t0, noPayload: true})
	mixed := append([][]byte{noPayload, []byte("\x08junk")}, frames[:5]...)
	mixed = append(mixed, bytes.Repeat([]byte{0}, MaxFrameSize+1))
	mixed = append(mixed, frames[5:]...)
	msgs, err := readAll(t, dnstapFile(t, ContentType, mixed, true))
	checkSender(t, msgs, "file", 10)
	if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "2 of 13 frames") {
		t.Fatalf("err = %v, want 2 of 13 frames skipped", err)
	}
}

func TestReadFileDamaged(t *testing.T) {
	frames := senderFrames(t, "file", 10)
	whole := dnstapFile(t, ContentType, frames, false) // no STOP: a capture that was cut
	msgs, err := readAll(t, whole)
	if err != nil {
		t.Fatalf("cut between frames: %v", err)
	}
	checkSender(t, msgs, "file", 10)

	cut := whole[:len(whole)-5] // in the middle of the last frame
	msgs, err = readAll(t, cut)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("cut inside a frame: %v", err)
	}
	checkSender(t, msgs, "file", 9)

	for _, tc := range []struct {
		name string
		file []byte
	}{
		{"empty", nil},
		{"header cut", whole[:6]},
		{"wrong content type", dnstapFile(t, "protobuf:something.Else", frames, true)},
		{"not frame streams", []byte("\xd4\xc3\xb2\xa1 a pcap file, not dnstap")},
	} {
		msgs, err := readAll(t, tc.file)
		if err == nil || len(msgs) != 0 {
			t.Errorf("%s: %d messages, err %v", tc.name, len(msgs), err)
		}
	}
}
