package dnstap

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pb "github.com/dnstap/golang-dnstap"
	framestream "github.com/farsightsec/golang-framestream"
)

// collector records copies of the messages a Server hands out and checks
// that handle is never called concurrently.
type collector struct {
	mu       sync.Mutex
	msgs     []Message
	inFlight atomic.Int32
	overlap  atomic.Bool
}

func (c *collector) handle(m *Message) {
	if c.inFlight.Add(1) != 1 {
		c.overlap.Store(true)
	}
	time.Sleep(time.Microsecond) // widen the window for overlaps
	cp := *m
	cp.Wire = bytes.Clone(m.Wire)
	c.mu.Lock()
	c.msgs = append(c.msgs, cp)
	c.mu.Unlock()
	c.inFlight.Add(-1)
}

func (c *collector) snapshot() []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Message(nil), c.msgs...)
}

// checkGoroutines fails t if the goroutine count does not come back to
// the count at the start of the test.
func checkGoroutines(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<16)
				n := runtime.Stack(buf, true)
				t.Errorf("goroutine leak: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf[:n])
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// senderFrames builds n valid frames (alternating queries and responses,
// numbered names) tagged with identity.
func senderFrames(t *testing.T, identity string, n int) [][]byte {
	var frames [][]byte
	for i := range n {
		typ := pb.Message_CLIENT_QUERY
		if i%2 == 1 {
			typ = pb.Message_CLIENT_RESPONSE
		}
		name := fmt.Sprintf("n%d.%s.tunnel.test.", i, identity)
		frames = append(frames, mkFrame(t, frameSpec{typ: typ, proto: pb.SocketProtocol_UDP, qTime: t0, rTime: t1,
			wire: dnsQuery(t, uint16(i), name, i%2 == 1), identity: identity, version: "test 1",
			qAddr: netip.MustParseAddr("127.0.0.1"), rAddr: netip.MustParseAddr("::1"), qPort: uint32(10000 + i), rPort: 53}))
	}
	return frames
}

// checkSender checks that msgs are exactly what senderFrames built.
func checkSender(t *testing.T, msgs []Message, identity string, n int) {
	t.Helper()
	if len(msgs) != n {
		t.Fatalf("%s: %d messages, want %d", identity, len(msgs), n)
	}
	for i, m := range msgs {
		wantType, wantTime := "CLIENT_QUERY", t0
		if i%2 == 1 {
			wantType, wantTime = "CLIENT_RESPONSE", t1
		}
		h, name := questionName(t, m.Wire)
		if m.Type != wantType || m.Query != (i%2 == 0) || !m.Time.Equal(wantTime) || m.Transport != "udp" ||
			m.Client != netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(10000+i)) ||
			m.Server != netip.MustParseAddrPort("[::1]:53") || m.Identity != identity || m.Version != "test 1" ||
			name != fmt.Sprintf("n%d.%s.tunnel.test.", i, identity) || h.ID != uint16(i) || h.Response != (i%2 == 1) {
			t.Fatalf("%s message %d: %+v (%q)", identity, i, m, name)
		}
	}
}

// send writes frames over conn with golang-framestream's writer and closes
// the stream (STOP, and FINISH awaited when bidirectional).
func send(t *testing.T, conn net.Conn, bidi bool, frames [][]byte) {
	t.Helper()
	w, err := framestream.NewWriter(conn, &framestream.WriterOptions{
		ContentTypes:  [][]byte{[]byte(ContentType)},
		Bidirectional: bidi,
		Timeout:       5 * time.Second,
	})
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	for _, f := range frames {
		if _, err := w.WriteFrame(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
}

func TestRoundTripUnix(t *testing.T) {
	checkGoroutines(t)
	path := filepath.Join(t.TempDir(), "dnstap.sock")
	// A stale socket left by a crashed run.
	stale, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close()

	var c collector
	s, err := Listen(context.Background(), "unix", path, c.handle)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o660 {
		t.Errorf("socket mode %v, want socket 0660", fi.Mode())
	}
	if s.Addr().String() != path {
		t.Errorf("Addr %v", s.Addr())
	}

	frames := senderFrames(t, "u1", 50)
	noPayload := mkFrame(t, frameSpec{typ: pb.Message_CLIENT_QUERY, qTime: t0, wire: []byte{1}, noPayload: true})
	frames = append(frames[:10:10], append([][]byte{
		[]byte("\x08garbage"),                   // malformed
		noPayload,                               // dropped
		bytes.Repeat([]byte{1}, MaxFrameSize+1), // dropped: too large
	}, frames[10:]...)...)

	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	send(t, conn, true, frames)
	// FINISH came back: every frame before STOP has been handled.
	checkSender(t, c.snapshot(), "u1", 50)
	want := Stats{Connections: 1, Frames: 53, Messages: 50, Malformed: 1, Dropped: 2}
	if got := s.Stats(); got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
	// The server closes its side after FINISH.
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := conn.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Errorf("after FINISH: %d, %v", n, err)
	}
	conn.Close()

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket file left behind: %v", err)
	}
	if c.overlap.Load() {
		t.Error("handle called concurrently")
	}
}

func TestRoundTripTCP(t *testing.T) {
	checkGoroutines(t)
	var c collector
	s, err := Listen(context.Background(), "tcp", "127.0.0.1:0", c.handle)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 300
	var wg sync.WaitGroup
	for i, bidi := range []bool{true, false} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.Dial("tcp", s.Addr().String())
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			send(t, conn, bidi, senderFrames(t, fmt.Sprintf("s%d", i), n))
		}()
	}
	wg.Wait()
	waitFor(t, "all messages", func() bool { return s.Stats().Messages == 2*n })
	byID := map[string][]Message{}
	for _, m := range c.snapshot() {
		byID[m.Identity] = append(byID[m.Identity], m)
	}
	checkSender(t, byID["s0"], "s0", n)
	checkSender(t, byID["s1"], "s1", n)
	waitFor(t, "connections", func() bool { return s.Stats().Connections == 2 })
	if got, want := s.Stats(), (Stats{Connections: 2, Frames: 2 * n, Messages: 2 * n}); got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
	if c.overlap.Load() {
		t.Error("handle called concurrently")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := net.Dial("tcp", s.Addr().String()); err == nil {
		t.Error("still accepting after Close")
	}
}

// TestCloseWithOpenSender: Close ends live connections and returns promptly;
// handle is not called afterwards.
func TestCloseWithOpenSender(t *testing.T) {
	checkGoroutines(t)
	var c collector
	s, err := Listen(context.Background(), "tcp", "127.0.0.1:0", c.handle)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	w, err := framestream.NewWriter(conn, &framestream.WriterOptions{
		ContentTypes: [][]byte{[]byte(ContentType)}, Bidirectional: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	frames := senderFrames(t, "open", 3)
	for _, f := range frames {
		w.WriteFrame(f)
	}
	w.Flush()
	waitFor(t, "3 messages", func() bool { return s.Stats().Messages == 3 })

	start := time.Now()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v", d)
	}
	if err := s.Close(); err != nil { // idempotent
		t.Fatal(err)
	}
	// The sender sees the connection closed.
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		t.Error("connection still open after Close")
	}
	w.WriteFrame(frames[0])
	w.Flush()
	if got := len(c.snapshot()); got != 3 {
		t.Errorf("%d messages, want 3", got)
	}
	checkSender(t, c.snapshot(), "open", 3)
}

func TestContextEndsServer(t *testing.T) {
	checkGoroutines(t)
	path := filepath.Join(t.TempDir(), "ctx.sock")
	ctx, cancel := context.WithCancel(context.Background())
	var c collector
	s, err := Listen(ctx, "unix", path, c.handle)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	w, err := framestream.NewWriter(conn, &framestream.WriterOptions{
		ContentTypes: [][]byte{[]byte(ContentType)}, Bidirectional: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_ = w
	waitFor(t, "connection", func() bool { return s.Stats().Connections == 1 })
	cancel()
	waitFor(t, "socket removal", func() bool {
		_, err := os.Lstat(path)
		return errors.Is(err, os.ErrNotExist)
	})
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		t.Error("connection still open after the context ended")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestBadSenders(t *testing.T) {
	checkGoroutines(t)
	old := handshakeTimeout
	handshakeTimeout = 300 * time.Millisecond
	defer func() { handshakeTimeout = old }()

	var c collector
	s, err := Listen(context.Background(), "tcp", "127.0.0.1:0", c.handle)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	dial := func() net.Conn {
		conn, err := net.Dial("tcp", s.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	closedByServer := func(conn net.Conn) {
		t.Helper()
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.Copy(io.Discard, conn); err != nil {
			t.Errorf("server did not close the connection: %v", err)
		}
	}

	// 1. Another content type: no ACCEPT, the connection is closed.
	conn := dial()
	if _, err := framestream.NewWriter(conn, &framestream.WriterOptions{
		ContentTypes: [][]byte{[]byte("protobuf:other.Thing")}, Bidirectional: true, Timeout: 5 * time.Second}); err == nil {
		t.Error("handshake with a wrong content type succeeded")
	}
	closedByServer(conn)
	waitFor(t, "malformed 1", func() bool { return s.Stats().Malformed == 1 })

	// 2. Not Frame Streams at all.
	conn = dial()
	conn.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	closedByServer(conn)
	waitFor(t, "malformed 2", func() bool { return s.Stats().Malformed == 2 })

	// 3. A silent peer is dropped after the handshake timeout, uncounted.
	conn = dial()
	start := time.Now()
	closedByServer(conn)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("silent peer kept %v", d)
	}

	// 4. A frame cut in the middle by the sender hanging up.
	conn = dial()
	w, err := framestream.NewWriter(conn, &framestream.WriterOptions{ContentTypes: [][]byte{[]byte(ContentType)}})
	if err != nil {
		t.Fatal(err)
	}
	f := senderFrames(t, "cut", 1)[0]
	w.WriteFrame(f)
	w.Flush()
	conn.Write([]byte{0, 0, 1, 0, 1, 2, 3}) // 256-byte frame announced, 3 bytes sent
	conn.(*net.TCPConn).CloseWrite()
	closedByServer(conn)
	waitFor(t, "malformed 3", func() bool { return s.Stats().Malformed == 3 })

	want := Stats{Connections: 4, Frames: 1, Messages: 1, Malformed: 3}
	if got := s.Stats(); got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
	checkSender(t, c.snapshot(), "cut", 1)
}

func TestMaxConns(t *testing.T) {
	checkGoroutines(t)
	var c collector
	s, err := Listen(context.Background(), "tcp", "127.0.0.1:0", c.handle)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for range MaxConns {
		conn, err := net.Dial("tcp", s.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
	}
	waitFor(t, "MaxConns connections", func() bool { return s.Stats().Connections == MaxConns })
	extra, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	extra.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := extra.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("connection beyond MaxConns: %v, want EOF", err)
	}
	if got := s.Stats().Connections; got != MaxConns {
		t.Errorf("connections %d", got)
	}
}

func TestListenErrors(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	h := func(*Message) {}

	plain := filepath.Join(dir, "plain")
	os.WriteFile(plain, []byte("keep me"), 0o644)
	if _, err := Listen(context.Background(), "unix", plain, h); err == nil {
		t.Error("listened over a regular file")
	}
	if b, _ := os.ReadFile(plain); string(b) != "keep me" {
		t.Error("regular file damaged")
	}

	live := filepath.Join(dir, "live.sock")
	s1, err := Listen(context.Background(), "unix", live, h)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(context.Background(), "unix", live, h); err == nil {
		t.Error("took over a socket that is in use")
	}
	s1.Close()

	if _, err := Listen(context.Background(), "udp", "127.0.0.1:0", h); err == nil {
		t.Error("udp accepted")
	}
	if _, err := Listen(context.Background(), "tcp", "127.0.0.1:0", nil); err == nil {
		t.Error("nil handle accepted")
	}
	if _, err := Listen(context.Background(), "unix", filepath.Join(dir, "no", "such", "dir", "x.sock"), h); err == nil {
		t.Error("listened in a missing directory")
	}
}

// BenchmarkServerUnix measures the whole path: Frame Streams over a Unix
// socket, Decode, handle.
func BenchmarkServerUnix(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bench.sock")
	var count atomic.Uint64
	s, err := Listen(context.Background(), "unix", path, func(m *Message) { count.Add(1) })
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	conn, err := net.Dial("unix", path)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	w, err := framestream.NewWriter(conn, &framestream.WriterOptions{
		ContentTypes: [][]byte{[]byte(ContentType)}, Bidirectional: true})
	if err != nil {
		b.Fatal(err)
	}
	f := mkFrame(b, frameSpec{typ: pb.Message_CLIENT_QUERY, proto: pb.SocketProtocol_UDP, qTime: t0,
		wire: dnsQuery(b, 1, "aGVsbG8gd29ybGQ.t1.tunnel.test.", false), identity: "bench",
		qAddr: netip.MustParseAddr("192.0.2.1"), rAddr: netip.MustParseAddr("192.0.2.53"), qPort: 1, rPort: 53})
	b.ReportAllocs()
	b.SetBytes(int64(len(f)))
	for b.Loop() {
		w.WriteFrame(f)
	}
	w.Close() // waits for FINISH: everything was handled
	b.StopTimer()
	if count.Load() != uint64(b.N) && count.Load() < uint64(b.N) {
		b.Fatalf("handled %d of %d", count.Load(), b.N)
	}
}
