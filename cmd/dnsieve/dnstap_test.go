package main

import (
	"bufio"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// udpQuery sends one TXT query to server and waits for the answer.
func udpQuery(server, name string, id uint16) error {
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: id, RecursionDesired: true})
	b.StartQuestions()
	b.Question(dnsmessage.Question{Name: dnsmessage.MustNewName(name), Type: dnsmessage.TypeTXT, Class: dnsmessage.ClassINET})
	msg, err := b.Finish()
	if err != nil {
		return err
	}
	c, err := net.Dial("udp", server)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write(msg); err != nil {
		return err
	}
	buf := make([]byte, 4096)
	_, err = c.Read(buf)
	return err
}

// startDnsieve runs `dnsieve dnstap` on a Unix socket.
func startDnsieve(t *testing.T, bin, dir, sock string) (*exec.Cmd, chan error) {
	t.Helper()
	logf, _ := os.OpenFile(filepath.Join(dir, "dnsieve.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	cmd := exec.Command(bin, "dnstap", "--unix", sock, "-o", filepath.Join(dir, "out"), "--metrics", "off",
		"--alerts", "file:"+filepath.Join(dir, "alerts.jsonl"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait(); logf.Close() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(sock); err == nil {
			return cmd, done
		}
		if time.Now().After(deadline) {
			t.Fatal("dnsieve dnstap did not open its socket")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func stopDnsieve(t *testing.T, cmd *exec.Cmd, done chan error) {
	t.Helper()
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("dnsieve exited: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("dnsieve did not stop on SIGTERM")
	}
}

func readFindings(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// TestDnstapUnboundTunnel starts a real Unbound that sends dnstap to
// `dnsieve dnstap`, sends an exfiltration-like stream of queries through
// it, and requires a high alert; then SIGTERM (no finding lost) and a
// restart that restores the engine's state.
func TestDnstapUnboundTunnel(t *testing.T) {
	unbound, err := exec.LookPath("unbound")
	if err != nil {
		if _, e := os.Stat("/usr/sbin/unbound"); e != nil {
			t.Skip("unbound is not installed (apt-get install unbound)")
		}
		unbound = "/usr/sbin/unbound"
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	sock := filepath.Join(dir, "dnstap.sock")
	dn, done := startDnsieve(t, bin, dir, sock)

	ln, _ := net.ListenPacket("udp", "127.0.0.1:0")
	port := ln.LocalAddr().(*net.UDPAddr).Port
	ln.Close()
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
  num-threads: 1
  module-config: "iterator"
  access-control: 127.0.0.0/8 allow
  local-zone: "t1.exfil.test." redirect
  local-data: "t1.exfil.test. 60 IN TXT \"ack-0123456789abcdef0123456789abcdef0123456789abcdef\""
  local-data: "probe.exfil.test. 60 IN TXT \"ready\""
dnstap:
  dnstap-enable: yes
  dnstap-bidirectional: yes
  dnstap-socket-path: %q
  dnstap-log-client-query-messages: yes
  dnstap-log-client-response-messages: yes
`, port, dir, filepath.Join(dir, "unbound.pid"), sock)
	confPath := filepath.Join(dir, "unbound.conf")
	os.WriteFile(confPath, []byte(conf), 0o644)
	ub := exec.Command(unbound, "-d", "-c", confPath)
	ublog, _ := os.Create(filepath.Join(dir, "unbound.log"))
	ub.Stdout, ub.Stderr = ublog, ublog
	if err := ub.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ub.Process.Kill(); ub.Wait() })
	server := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(20 * time.Second)
	for udpQuery(server, "probe.exfil.test.", 1) != nil {
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "unbound.log"))
			t.Fatalf("unbound not ready:\n%s", b)
		}
		time.Sleep(100 * time.Millisecond)
	}

	rng := rand.New(rand.NewPCG(5, 6))
	enc := base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)
	for i := 0; i < 300; i++ {
		data := make([]byte, 35)
		for j := range data {
			data[j] = byte(rng.IntN(256))
		}
		if err := udpQuery(server, enc.EncodeToString(data)+".t1.exfil.test.", uint16(i)); err != nil {
			t.Fatalf("query %d: %v", i, err)
		}
	}
	alertsPath := filepath.Join(dir, "alerts.jsonl")
	deadline = time.Now().Add(15 * time.Second)
	for {
		b, _ := os.ReadFile(alertsPath)
		if strings.Contains(string(b), `"severity":"high"`) {
			break
		}
		if time.Now().After(deadline) {
			l, _ := os.ReadFile(filepath.Join(dir, "dnsieve.log"))
			t.Fatalf("no high alert through dnstap; alerts:\n%s\nlog:\n%s", b, l)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The alert can come before unbound has sent all its dnstap frames
	// (it sends them asynchronously): let the rest arrive before the
	// stop, or the count below depends on how fast the engine judged.
	time.Sleep(1500 * time.Millisecond)
	stopDnsieve(t, dn, done)
	fs := readFindings(t, filepath.Join(dir, "out", "findings.jsonl"))
	if len(fs) != 1 || fs[0]["domain"] != "t1.exfil.test" || fs[0]["severity"] != "high" {
		t.Fatalf("findings after SIGTERM: %v", fs)
	}
	q1 := fs[0]["queries"].(float64)
	if q1 < 200 { // unbound sends dnstap asynchronously: a few may still be in flight
		t.Fatalf("queries %v", q1)
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "engine-state.bin")); err != nil {
		t.Fatalf("no engine state: %v", err)
	}

	// Restart: the state comes back; ten more queries add to the same
	// finding.
	dn, done = startDnsieve(t, bin, dir, sock)
	time.Sleep(1500 * time.Millisecond) // unbound reconnects to the socket
	for i := 0; i < 10; i++ {
		udpQuery(server, fmt.Sprintf("more%d.t1.exfil.test.", i), uint16(1000+i))
	}
	time.Sleep(500 * time.Millisecond)
	// SIGHUP re-reads the configuration without losing state.
	dn.Process.Signal(syscall.SIGHUP)
	deadline = time.Now().Add(5 * time.Second)
	for {
		l, _ := os.ReadFile(filepath.Join(dir, "dnsieve.log"))
		if strings.Contains(string(l), "configuration reloaded") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no reload after SIGHUP:\n%s", l)
		}
		time.Sleep(100 * time.Millisecond)
	}
	stopDnsieve(t, dn, done)
	fs = readFindings(t, filepath.Join(dir, "out", "findings.jsonl"))
	if len(fs) != 1 || fs[0]["queries"].(float64) < q1 || fs[0]["first_seen"] == "" {
		t.Fatalf("after the restart: %v", fs)
	}
	l, _ := os.ReadFile(filepath.Join(dir, "dnsieve.log"))
	if !strings.Contains(string(l), "engine state restored") {
		t.Fatalf("no restore in the log:\n%s", l)
	}
}
