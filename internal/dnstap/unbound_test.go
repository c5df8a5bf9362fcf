package dnstap

import (
	"bytes"
	"context"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// findUnbound returns the unbound binary, or skips the test.
func findUnbound(t *testing.T) string {
	if p, err := exec.LookPath("unbound"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/unbound", "/usr/local/sbin/unbound"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("unbound is not installed (apt-get install unbound)")
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// freePort returns a port free for both UDP and TCP on 127.0.0.1.
func freePort(t *testing.T) int {
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err == nil {
			u.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// lockedBuffer collects unbound's log output for failure messages.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestUnbound runs a real Unbound that sends dnstap to Listen, over a Unix
// socket and over TCP, and checks every message against the queries sent.
func TestUnbound(t *testing.T) {
	bin := findUnbound(t)
	version := "?"
	if out, err := exec.Command(bin, "-V").Output(); err == nil {
		version = strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
	}
	t.Logf("unbound: %s (%s)", bin, version)
	for _, network := range []string{"unix", "tcp"} {
		t.Run(network, func(t *testing.T) { testUnbound(t, bin, network) })
	}
}

func testUnbound(t *testing.T, bin, network string) {
	checkGoroutines(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()

	var c collector
	var s *Server
	var err error
	var dnstapConf string
	if network == "unix" {
		sock := filepath.Join(dir, "dnstap.sock")
		s, err = Listen(ctx, "unix", sock, c.handle)
		dnstapConf = fmt.Sprintf("dnstap-socket-path: %q\n", sock)
	} else {
		s, err = Listen(ctx, "tcp", "127.0.0.1:0", c.handle)
		if err == nil {
			dnstapConf = fmt.Sprintf("dnstap-ip: \"127.0.0.1@%d\"\n  dnstap-tls: no\n", s.Addr().(*net.TCPAddr).Port)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })

	port := freePort(t)
	conf := fmt.Sprintf(`server:
  interface: 127.0.0.1
  port: %d
  do-ip6: no
  do-daemonize: no
  chroot: ""
  username: ""
  directory: %q
  pidfile: %q
  use-syslog: no
  logfile: ""
  verbosity: 1
  num-threads: 1
  module-config: "iterator"
  access-control: 127.0.0.0/8 allow
  local-zone: "tunnel.test." static
  local-data: "known.t1.tunnel.test. 60 IN TXT \"hello\""
  local-data: "probe.tunnel.test. 60 IN TXT \"ready\""
dnstap:
  dnstap-enable: yes
  dnstap-bidirectional: yes
  %s  dnstap-send-identity: yes
  dnstap-send-version: yes
  dnstap-identity: "dnsieve-test"
  dnstap-log-client-query-messages: yes
  dnstap-log-client-response-messages: yes
`, port, dir, filepath.Join(dir, "unbound.pid"), dnstapConf)
	confPath := filepath.Join(dir, "unbound.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if check := filepath.Join(filepath.Dir(bin), "unbound-checkconf"); fileExists(check) {
		if out, err := exec.Command(check, confPath).CombinedOutput(); err != nil {
			t.Fatalf("unbound-checkconf: %v\n%s", err, out)
		}
	}

	var logs lockedBuffer
	cmd := exec.Command(bin, "-d", "-c", confPath)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}
	t.Cleanup(stop)
	defer func() {
		if t.Failed() {
			t.Logf("unbound log:\n%s", logs.String())
		}
	}()

	server := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))
	// Wait until unbound answers and has connected to us.
	deadline := time.Now().Add(20 * time.Second)
	for {
		if time.Now().After(deadline) {
			t.Fatal("unbound did not become ready in 20 s")
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("unbound exited: %v", err)
		default:
		}
		if _, _, err := queryUDP(server, "probe.tunnel.test.", 300*time.Millisecond); err == nil && s.Stats().Connections > 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The queries: random base32 labels under t1.tunnel.test, one known name,
	// over UDP, and two over TCP.
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	enc := base32.StdEncoding.WithPadding(base32.NoPadding)
	type sent struct {
		transport string
		client    netip.AddrPort
		id        uint16
	}
	want := map[string]sent{}
	var order []string
	for i := range 34 {
		raw := make([]byte, 10+rng.IntN(20))
		for j := range raw {
			raw[j] = byte(rng.Uint32())
		}
		name := strings.ToLower(enc.EncodeToString(raw)) + ".t1.tunnel.test."
		if i == 0 {
			name = "known.t1.tunnel.test."
		}
		var client netip.AddrPort
		var id uint16
		var err error
		transport := "udp"
		if i >= 32 {
			transport = "tcp"
			client, id, err = queryTCP(server, name, 3*time.Second)
		} else {
			client, id, err = queryUDP(server, name, 3*time.Second)
		}
		if err != nil {
			t.Fatalf("query %s over %s: %v", name, transport, err)
		}
		want[name] = sent{transport, client, id}
		order = append(order, name)
	}

	// Unbound sends dnstap asynchronously: wait for both messages of every
	// query.
	type seen struct{ queries, responses int }
	count := func() (map[string]*seen, int) {
		got := map[string]*seen{}
		n := 0
		for _, m := range c.snapshot() {
			_, name := questionName(t, m.Wire)
			if _, ok := want[name]; !ok {
				continue
			}
			if got[name] == nil {
				got[name] = &seen{}
			}
			if m.Query {
				got[name].queries++
			} else {
				got[name].responses++
			}
			n++
		}
		return got, n
	}
	waitFor(t, "dnstap messages for all queries", func() bool {
		_, n := count()
		return n >= 2*len(want)
	})
	stop() // unbound ends its stream (STOP/FINISH) and exits
	waitFor(t, "unbound's connection to end", func() bool {
		s.connMu.Lock()
		defer s.connMu.Unlock()
		return len(s.conns) == 0
	})

	got, n := count()
	if n != 2*len(want) {
		t.Errorf("%d messages for the test names, want %d", n, 2*len(want))
	}
	for _, name := range order {
		if g := got[name]; g == nil || g.queries != 1 || g.responses != 1 {
			t.Errorf("%s: %+v, want one query and one response", name, g)
		}
	}
	for _, m := range c.snapshot() {
		h, name := questionName(t, m.Wire)
		w, ok := want[name]
		if !ok {
			if name != "probe.tunnel.test." {
				t.Errorf("unexpected name %q", name)
			}
			continue
		}
		wantType := "CLIENT_QUERY"
		if !m.Query {
			wantType = "CLIENT_RESPONSE"
		}
		if m.Type != wantType || h.Response == m.Query || h.ID != w.id {
			t.Errorf("%s: type %s query=%v header %+v, sent id %d", name, m.Type, m.Query, h, w.id)
		}
		if m.Client != w.client {
			t.Errorf("%s %s: client %v, want %v", name, m.Type, m.Client, w.client)
		}
		if m.Server != server {
			t.Errorf("%s %s: server %v, want %v", name, m.Type, m.Server, server)
		}
		if m.Transport != w.transport {
			t.Errorf("%s %s: transport %q, want %q", name, m.Type, m.Transport, w.transport)
		}
		if m.Identity != "dnsieve-test" || m.Version == "" {
			t.Errorf("%s: identity %q version %q", name, m.Identity, m.Version)
		}
		if d := time.Since(m.Time); d < 0 || d > time.Minute {
			t.Errorf("%s: time %v", name, m.Time)
		}
		if !m.Query && name == "known.t1.tunnel.test." && h.RCode != dnsmessage.RCodeSuccess {
			t.Errorf("known name: rcode %v", h.RCode)
		}
	}
	st := s.Stats()
	if st.Malformed != 0 || st.Dropped != 0 || st.Messages != st.Frames || st.Messages != uint64(len(c.snapshot())) ||
		st.Connections < 1 {
		t.Errorf("stats %+v", st)
	}
	t.Logf("stats %+v; sample: %s %s %v -> %v %s id=%q version=%q", st, c.snapshot()[0].Type,
		c.snapshot()[0].Transport, c.snapshot()[0].Client, c.snapshot()[0].Server, c.snapshot()[0].Time,
		c.snapshot()[0].Identity, c.snapshot()[0].Version)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// dnsRequest builds a TXT query for name with a random ID.
func dnsRequest(name string) ([]byte, uint16, error) {
	id := uint16(rand.Uint32())
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: id, RecursionDesired: true})
	if err := b.StartQuestions(); err != nil {
		return nil, 0, err
	}
	n, err := dnsmessage.NewName(name)
	if err != nil {
		return nil, 0, err
	}
	if err := b.Question(dnsmessage.Question{Name: n, Type: dnsmessage.TypeTXT, Class: dnsmessage.ClassINET}); err != nil {
		return nil, 0, err
	}
	msg, err := b.Finish()
	return msg, id, err
}

// checkReply parses a reply and checks its ID and question.
func checkReply(reply []byte, id uint16, name string) error {
	var p dnsmessage.Parser
	h, err := p.Start(reply)
	if err != nil {
		return err
	}
	q, err := p.Question()
	if err != nil {
		return err
	}
	if h.ID != id || !h.Response || q.Name.String() != name {
		return fmt.Errorf("bad reply %+v %s", h, q.Name)
	}
	return nil
}

// queryUDP sends one query over UDP and returns the local address used.
func queryUDP(server netip.AddrPort, name string, timeout time.Duration) (netip.AddrPort, uint16, error) {
	msg, id, err := dnsRequest(name)
	if err != nil {
		return netip.AddrPort{}, 0, err
	}
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(server))
	if err != nil {
		return netip.AddrPort{}, 0, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(timeout))
	if _, err := conn.Write(msg); err != nil {
		return netip.AddrPort{}, 0, err
	}
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	if err != nil {
		return netip.AddrPort{}, 0, err
	}
	return conn.LocalAddr().(*net.UDPAddr).AddrPort(), id, checkReply(buf[:n], id, name)
}

// queryTCP sends one query over TCP (RFC 1035 section 4.2.2 framing).
func queryTCP(server netip.AddrPort, name string, timeout time.Duration) (netip.AddrPort, uint16, error) {
	msg, id, err := dnsRequest(name)
	if err != nil {
		return netip.AddrPort{}, 0, err
	}
	conn, err := net.DialTCP("tcp", nil, net.TCPAddrFromAddrPort(server))
	if err != nil {
		return netip.AddrPort{}, 0, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(timeout))
	if _, err := conn.Write(binary.BigEndian.AppendUint16(nil, uint16(len(msg)))); err != nil {
		return netip.AddrPort{}, 0, err
	}
	if _, err := conn.Write(msg); err != nil {
		return netip.AddrPort{}, 0, err
	}
	var l [2]byte
	if _, err := io.ReadFull(conn, l[:]); err != nil {
		return netip.AddrPort{}, 0, err
	}
	reply := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := io.ReadFull(conn, reply); err != nil {
		return netip.AddrPort{}, 0, err
	}
	return conn.LocalAddr().(*net.TCPAddr).AddrPort(), id, checkReply(reply, id, name)
}
