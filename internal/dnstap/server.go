package dnstap

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	framestream "github.com/farsightsec/golang-framestream"
)

// Limits of a Server.
const (
	// MaxFrameSize is the largest data frame accepted (1 MiB, the Frame
	// Streams library default). Larger frames are skipped and counted as
	// Dropped; the connection goes on.
	MaxFrameSize = 1 << 20
	// MaxConns is the number of sender connections served at once; each
	// holds a MaxFrameSize buffer. Connections beyond it are closed at once.
	MaxConns = 64
	// SocketMode is the permission of the Unix socket Listen creates: the
	// owner and the group may connect, so the DNS server's user must be
	// in the group of the socket (or be its owner).
	SocketMode = 0o660
)

// handshakeTimeout bounds the Frame Streams handshake (READY/ACCEPT/START)
// and each control frame written back; a variable for tests.
var handshakeTimeout = 10 * time.Second

// Stats are a Server's counters. They only grow.
type Stats struct {
	// Connections is the number of sender connections accepted and served.
	Connections uint64
	// Frames is the number of data frames received (Messages + Malformed
	// frames + Dropped frames).
	Frames uint64
	// Messages is the number of DNS messages handed to the callback.
	Messages uint64
	// Malformed counts data frames that are not valid dnstap (ErrMalformed)
	// and connections ended by a Frame Streams protocol error (a bad
	// handshake, an unexpected content type, a broken control frame).
	Malformed uint64
	// Dropped counts frames skipped on purpose: larger than MaxFrameSize,
	// or valid dnstap without a DNS message (ErrNoPayload).
	Dropped uint64
}

// Server receives dnstap from DNS servers over Frame Streams. It is made by
// Listen and stopped by Close or by the end of Listen's context.
type Server struct {
	ln     net.Listener
	handle func(*Message)

	handleMu sync.Mutex // serialises handle calls

	connections, frames, messages, malformed, dropped atomic.Uint64

	connMu sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool

	wg        sync.WaitGroup
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// Listen serves dnstap senders on network ("unix" or "tcp", also "tcp4" and
// "tcp6") and address until ctx ends or Close is called.
//
// For "unix", a socket file left at address by an earlier run is removed
// first (an error is returned if something still listens on it, or if the
// path is not a socket), the new socket gets mode SocketMode (0660), and it
// is removed again on Close.
//
// Senders may use the bidirectional Frame Streams handshake (READY, ACCEPT,
// START ... STOP, FINISH), which is what BIND, Unbound, Knot, CoreDNS and
// PowerDNS do on sockets, or the unidirectional one (START ... STOP); the
// content type must be "protobuf:dnstap.Dnstap" (or absent).
//
// Each connection is served in its own goroutine. handle is called from one
// goroutine at a time, in arrival order for each connection; the Message and
// its Wire bytes are valid only during the call. A slow handle slows the
// senders down (back-pressure through the socket).
func Listen(ctx context.Context, network, address string, handle func(*Message)) (*Server, error) {
	if handle == nil {
		return nil, errors.New("dnstap: nil handle")
	}
	var ln net.Listener
	var err error
	switch network {
	case "unix":
		ln, err = listenUnix(address)
	case "tcp", "tcp4", "tcp6":
		ln, err = net.Listen(network, address)
	default:
		return nil, fmt.Errorf("dnstap: unsupported network %q (want unix or tcp)", network)
	}
	if err != nil {
		return nil, err
	}
	s := &Server{
		ln:     ln,
		handle: handle,
		conns:  make(map[net.Conn]struct{}),
		done:   make(chan struct{}),
	}
	s.wg.Add(2)
	go s.acceptLoop()
	go func() {
		defer s.wg.Done()
		select {
		case <-ctx.Done():
			s.shutdown()
		case <-s.done:
		}
	}()
	return s, nil
}

// listenUnix listens on a Unix socket at path, replacing a stale socket file.
func listenUnix(path string) (net.Listener, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("dnstap: %s exists and is not a socket", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("dnstap: %s: another process is listening on it", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("dnstap: removing stale socket: %w", err)
		}
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, SocketMode); err != nil {
		ln.Close()
		return nil, fmt.Errorf("dnstap: %w", err)
	}
	return ln, nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Stats returns the counters. It is safe to call at any time.
func (s *Server) Stats() Stats {
	return Stats{
		Connections: s.connections.Load(),
		Frames:      s.frames.Load(),
		Messages:    s.messages.Load(),
		Malformed:   s.malformed.Load(),
		Dropped:     s.dropped.Load(),
	}
}

// Close stops accepting, closes every connection, and waits until all the
// server's goroutines have ended: handle is not called after Close returns.
// It returns the error of closing the listener, if any; calling it again
// returns the same.
func (s *Server) Close() error {
	s.shutdown()
	s.wg.Wait()
	return s.closeErr
}

// shutdown closes the listener and the connections without waiting.
func (s *Server) shutdown() {
	s.closeOnce.Do(func() {
		close(s.done)
		if err := s.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			s.closeErr = err
		}
		s.connMu.Lock()
		s.closed = true
		for c := range s.conns {
			c.Close()
		}
		s.connMu.Unlock()
	})
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	var backoff time.Duration
	for {
		c, err := s.ln.Accept()
		if err != nil {
			select {
			case <-s.done:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// A passing failure (for example too many open files): wait
			// a little and go on, as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			select {
			case <-time.After(backoff):
			case <-s.done:
				return
			}
			continue
		}
		backoff = 0
		if !s.track(c) {
			c.Close()
			continue
		}
		s.connections.Add(1)
		s.wg.Add(1)
		go s.serve(c)
	}
}

// track registers c; false when the server is closing or full.
func (s *Server) track(c net.Conn) bool {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	if s.closed || len(s.conns) >= MaxConns {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c net.Conn) {
	s.connMu.Lock()
	delete(s.conns, c)
	s.connMu.Unlock()
	c.Close()
}

// deadlineWriter gives every write (ACCEPT and FINISH control frames) a
// deadline, so that a sender that does not read cannot block us forever.
type deadlineWriter struct{ c net.Conn }

func (w deadlineWriter) Write(p []byte) (int, error) {
	w.c.SetWriteDeadline(time.Now().Add(handshakeTimeout))
	return w.c.Write(p)
}

// readWriter joins the buffered reader and the writer of one connection.
type readWriter struct {
	io.Reader
	io.Writer
}

// Control frame types of the Frame Streams protocol.
const (
	controlStart = 0x02
	controlReady = 0x04
)

func (s *Server) serve(c net.Conn) {
	defer s.wg.Done()
	defer s.untrack(c)

	// Handshake. A bidirectional sender starts with READY, a
	// unidirectional one with START: an escape (4 zero bytes), the
	// control frame length, then its type.
	c.SetReadDeadline(time.Now().Add(handshakeTimeout))
	br := bufio.NewReaderSize(c, 64<<10)
	head, err := br.Peek(12)
	if err != nil {
		s.connError(err)
		return
	}
	bidi := false
	switch binary.BigEndian.Uint32(head[8:]) {
	case controlReady:
		bidi = true
	case controlStart:
	default:
		s.malformed.Add(1)
		return
	}
	r, err := framestream.NewReader(readWriter{br, deadlineWriter{c}}, &framestream.ReaderOptions{
		ContentTypes:  [][]byte{[]byte(ContentType)},
		Bidirectional: bidi,
	})
	if err != nil {
		s.connError(err)
		return
	}
	// Senders stay connected and may be idle for long: no read deadline.
	c.SetReadDeadline(time.Time{})

	buf := make([]byte, MaxFrameSize)
	var m Message
	for {
		n, err := r.ReadFrame(buf)
		if err != nil {
			if errors.Is(err, framestream.ErrDataFrameTooLarge) {
				s.frames.Add(1)
				s.dropped.Add(1)
				continue
			}
			// io.EOF: STOP received (FINISH sent back) or the
			// sender hung up between frames.
			s.connError(err)
			return
		}
		s.frames.Add(1)
		switch err := Decode(buf[:n], &m); {
		case err == nil:
			s.deliver(&m)
		case errors.Is(err, ErrNoPayload):
			s.dropped.Add(1)
		default:
			s.malformed.Add(1)
		}
	}
}

// connError counts the error that ended a connection when it is a Frame
// Streams protocol error. A normal end (STOP, the sender hanging up, the
// server closing, a silent peer timing out) is not counted.
func (s *Server) connError(err error) {
	select {
	case <-s.done:
		return
	default:
	}
	if protocolError(err) {
		s.malformed.Add(1)
	}
}

// protocolError reports whether err is a broken Frame Streams exchange.
func protocolError(err error) bool {
	return errors.Is(err, framestream.ErrDecode) || errors.Is(err, framestream.ErrContentTypeMismatch) ||
		errors.Is(err, framestream.ErrType) || errors.Is(err, io.ErrUnexpectedEOF)
}

func (s *Server) deliver(m *Message) {
	s.handleMu.Lock()
	defer s.handleMu.Unlock()
	s.messages.Add(1)
	s.handle(m)
}
