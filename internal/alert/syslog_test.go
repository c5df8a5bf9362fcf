package alert

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"log/syslog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dnsieve/dnsieve/internal/engine"
)

// teeSink records the lines a Writer hands to the sink under test, so
// that what a listener receives can be compared with them byte for byte.
type teeSink struct {
	Sink
	lines [][]byte
}

func (s *teeSink) WriteLine(b []byte) error {
	s.lines = append(s.lines, append([]byte(nil), b...))
	return s.Sink.WriteLine(b)
}

// syslogWriter opens spec and returns a Writer on it with a fixed clock.
func syslogWriter(t *testing.T, spec string) (*Writer, *teeSink) {
	t.Helper()
	s, err := Open(spec, nil)
	if err != nil {
		t.Fatalf("Open(%q): %v", spec, err)
	}
	tee := &teeSink{Sink: s}
	w := NewWriter(tee, "1.2.3")
	w.now = func() time.Time { return time.Date(2026, 5, 1, 10, 5, 0, 0, time.UTC) }
	t.Cleanup(func() { w.Close() })
	return w, tee
}

// findingN is a finding of its own registered domain (so its own id).
func findingN(i int) engine.Finding {
	f := finding(engine.SeverityMedium)
	f.RegisteredDomain = fmt.Sprintf("evil%d.example", i)
	f.Domain = "t1." + f.RegisteredDomain
	f.Samples = []string{fmt.Sprintf("p%04d.t1.evil%d.example", i, i)}
	return f
}

// socketDir is a short temporary directory: Unix socket paths are limited
// to 107 bytes, and t.TempDir() paths can be long.
func socketDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "dnsieve-syslog")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func listenUnixgram(t *testing.T, path string) *net.UnixConn {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func listenUDP(t *testing.T, addr string) net.PacketConn {
	t.Helper()
	c, err := net.ListenPacket("udp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readDatagram returns the next datagram on c, failing after 5 s.
func readDatagram(t *testing.T, c net.PacketConn) string {
	t.Helper()
	buf := make([]byte, 1<<20)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := c.ReadFrom(buf)
	if err != nil {
		t.Fatalf("no datagram: %v", err)
	}
	return string(buf[:n])
}

// checkLocalRecord checks the framing log/syslog uses on a local socket:
// "<28>Mmm dd hh:mm:ss TAG[PID]: MSG\n", RFC 3164 section 4.1 without the
// HOSTNAME field (the local daemon adds it), and a timestamp in
// [from, to] at second precision.
func checkLocalRecord(t *testing.T, got, tag, msg string, from, to time.Time) {
	t.Helper()
	const pri = "<28>"
	want := fmt.Sprintf(" %s[%d]: %s\n", tag, os.Getpid(), msg)
	if len(got) != len(pri)+len(time.Stamp)+len(want) || !strings.HasPrefix(got, pri) || got[len(pri)+len(time.Stamp):] != want {
		t.Fatalf("record\n%q\nwant <28>%s%q", got, time.Stamp, want)
	}
	ts, err := time.ParseInLocation(time.Stamp, got[len(pri):len(pri)+len(time.Stamp)], time.Local)
	if err != nil {
		t.Fatalf("timestamp: %v", err)
	}
	// time.Stamp has no year: take the one that puts ts nearest to from.
	best := time.Duration(1<<63 - 1)
	for _, y := range []int{from.Year() - 1, from.Year(), from.Year() + 1} {
		c := time.Date(y, ts.Month(), ts.Day(), ts.Hour(), ts.Minute(), ts.Second(), 0, time.Local)
		if d := c.Sub(from.Truncate(time.Second)); d.Abs() < best.Abs() {
			best, ts = d, c
		}
	}
	if ts.Before(from.Truncate(time.Second)) || ts.After(to) {
		t.Errorf("timestamp %v outside [%v, %v]", ts, from, to)
	}
}

// checkNetworkRecord checks the framing log/syslog uses on UDP and TCP:
// "<28>RFC3339-TIME HOSTNAME TAG[PID]: MSG\n".
func checkNetworkRecord(t *testing.T, got, tag, msg string, from, to time.Time) {
	t.Helper()
	host, err := os.Hostname()
	if err != nil || host == "" {
		t.Skip("no host name: log/syslog would send the local address")
	}
	rest, ok := strings.CutPrefix(got, "<28>")
	stamp, rest, _ := strings.Cut(rest, " ")
	want := fmt.Sprintf("%s %s[%d]: %s\n", host, tag, os.Getpid(), msg)
	if !ok || rest != want {
		t.Fatalf("record\n%q\nwant <28>TIME %q", got, want)
	}
	ts, err := time.Parse(time.RFC3339, stamp)
	if err != nil {
		t.Fatalf("timestamp: %v", err)
	}
	if ts.Before(from.Truncate(time.Second)) || ts.After(to) {
		t.Errorf("timestamp %v outside [%v, %v]", ts, from, to)
	}
}

func TestSyslogUnixgramRecords(t *testing.T) {
	path := filepath.Join(socketDir(t), "log")
	l := listenUnixgram(t, path)
	w, tee := syslogWriter(t, "syslog+unix:"+path+",dnsieve-test")
	from := time.Now()
	for i := 0; i < 3; i++ {
		if err := w.Finding(findingN(i)); err != nil {
			t.Fatal(err)
		}
	}
	to := time.Now()
	if w.Written != 3 || w.Errors != 0 || len(tee.lines) != 3 {
		t.Fatalf("written %d, errors %d, lines %d", w.Written, w.Errors, len(tee.lines))
	}
	for i := 0; i < 3; i++ {
		got := readDatagram(t, l)
		checkLocalRecord(t, got, "dnsieve-test", string(tee.lines[i]), from, to)
		var a Alert
		if err := json.Unmarshal(tee.lines[i], &a); err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("evil%d.example", i); a.DNS.Question.RegisteredDomain != want || a.Event.Kind != "alert" {
			t.Errorf("datagram %d: registered domain %q kind %q, want %q alert", i, a.DNS.Question.RegisteredDomain, a.Event.Kind, want)
		}
	}
}

func TestSyslogUDPRecords(t *testing.T) {
	l := listenUDP(t, "127.0.0.1:0")
	w, tee := syslogWriter(t, "syslog+udp:"+l.LocalAddr().String())
	from := time.Now()
	for i := 0; i < 3; i++ {
		if err := w.Finding(findingN(i)); err != nil {
			t.Fatal(err)
		}
	}
	to := time.Now()
	for i := 0; i < 3; i++ {
		checkNetworkRecord(t, readDatagram(t, l), "dnsieve", string(tee.lines[i]), from, to)
	}
}

func TestSyslogTCPRecords(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	w, tee := syslogWriter(t, "syslog+tcp:"+ln.Addr().String()+",dns/tcp")
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	from := time.Now()
	for i := 0; i < 3; i++ {
		if err := w.Finding(findingN(i)); err != nil {
			t.Fatal(err)
		}
	}
	to := time.Now()
	// RFC 6587 section 3.4.2 framing: each record ends with LF.
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	for i := 0; i < 3; i++ {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		checkNetworkRecord(t, line, "dns/tcp", string(tee.lines[i]), from, to)
	}
}

// TestSyslogLocalForms: "syslog" and "syslog:TAG" dial the local daemon
// (network "") with PRI daemon.warning and the tag.
func TestSyslogLocalForms(t *testing.T) {
	path := filepath.Join(socketDir(t), "log")
	l := listenUnixgram(t, path)
	saved := dialSyslog
	t.Cleanup(func() { dialSyslog = saved })
	var calls []string
	dialSyslog = func(network, raddr string, p syslog.Priority, tag string) (*syslog.Writer, error) {
		calls = append(calls, fmt.Sprintf("%q %q %d %q", network, raddr, p, tag))
		return syslog.Dial("unixgram", path, p, tag)
	}
	for _, c := range []struct{ spec, tag string }{{"syslog", "dnsieve"}, {"syslog:ids-eu1", "ids-eu1"}} {
		calls = nil
		w, tee := syslogWriter(t, c.spec)
		from := time.Now()
		if err := w.Finding(findingN(1)); err != nil {
			t.Fatal(err)
		}
		to := time.Now()
		if want := fmt.Sprintf(`"" "" 28 %q`, c.tag); len(calls) != 1 || calls[0] != want {
			t.Errorf("%s: dial calls %q, want [%s]", c.spec, calls, want)
		}
		checkLocalRecord(t, readDatagram(t, l), c.tag, string(tee.lines[0]), from, to)
	}
}

// TestSyslogNoLocalDaemon: without a daemon, "syslog" fails at Open with
// log/syslog's error.
func TestSyslogNoLocalDaemon(t *testing.T) {
	s, err := Open("syslog", nil)
	if err == nil {
		s.Close()
		t.Skip("a local syslog daemon is listening")
	}
	if err.Error() != "syslog: Unix syslog delivery error" {
		t.Fatalf("err = %v", err)
	}
}

// longFinding has about 9 KB of evidence.
func longFinding() engine.Finding {
	f := findingN(7)
	f.Evidence = nil
	for i := 0; i < 100; i++ {
		f.Evidence = append(f.Evidence, fmt.Sprintf("evidence %03d: %s", i, strings.Repeat("label-entropy ", 6)))
	}
	return f
}

func TestSyslogLongAlert(t *testing.T) {
	path := filepath.Join(socketDir(t), "log")
	ul := listenUnixgram(t, path)
	pl := listenUDP(t, "127.0.0.1:0")
	for _, c := range []struct {
		spec  string
		l     net.PacketConn
		local bool
	}{{"syslog+unix:" + path, ul, true}, {"syslog+udp:" + pl.LocalAddr().String(), pl, false}} {
		w, tee := syslogWriter(t, c.spec)
		from := time.Now()
		if err := w.Finding(longFinding()); err != nil {
			t.Fatal(err)
		}
		to := time.Now()
		if n := len(tee.lines[0]); n < 8192 {
			t.Fatalf("alert of %d bytes, want >= 8192", n)
		}
		got := readDatagram(t, c.l)
		if c.local {
			checkLocalRecord(t, got, "dnsieve", string(tee.lines[0]), from, to)
		} else {
			checkNetworkRecord(t, got, "dnsieve", string(tee.lines[0]), from, to)
		}
	}
}

// padLine is a JSON line of exactly n bytes.
func padLine(n int) []byte {
	return []byte(`{"pad":"` + strings.Repeat("x", n-10) + `"}`)
}

// TestSyslogUDPSizeLimit: a UDP record is one IPv4 datagram of at most
// 65507 bytes (65535 less the 20-byte IP and 8-byte UDP headers); the
// record adds the header and a newline to the alert. One byte more is
// refused with EMSGSIZE and nothing is sent.
func TestSyslogUDPSizeLimit(t *testing.T) {
	host, err := os.Hostname()
	if err != nil || host == "" {
		t.Skip("no host name")
	}
	l := listenUDP(t, "127.0.0.1:0")
	s, err := Open("syslog+udp:"+l.LocalAddr().String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	overhead := len(fmt.Sprintf("<28>%s %s dnsieve[%d]: \n", time.Now().Format(time.RFC3339), host, os.Getpid()))
	most := 65507 - overhead
	if err := s.WriteLine(padLine(most)); err != nil {
		t.Fatalf("%d-byte alert: %v", most, err)
	}
	if got := readDatagram(t, l); len(got) != 65507 || !strings.HasSuffix(got, string(padLine(most))+"\n") {
		t.Fatalf("datagram of %d bytes", len(got))
	}
	err = s.WriteLine(padLine(most + 1))
	if !errors.Is(err, syscall.EMSGSIZE) {
		t.Fatalf("%d-byte alert: err = %v, want EMSGSIZE", most+1, err)
	}
	small := padLine(20)
	if err := s.WriteLine(small); err != nil {
		t.Fatal(err)
	}
	if got := readDatagram(t, l); !strings.HasSuffix(got, string(small)+"\n") {
		t.Fatalf("after the refused alert got %q", got)
	}
}

// TestSyslogUnixgramSizeLimit: on a Unix datagram socket the limit is
// the sender's send buffer (Linux: net.core.wmem_default).
func TestSyslogUnixgramSizeLimit(t *testing.T) {
	b, err := os.ReadFile("/proc/sys/net/core/wmem_default")
	if err != nil {
		t.Skip(err)
	}
	wmem, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(socketDir(t), "log")
	l := listenUnixgram(t, path)
	s, err := Open("syslog+unix:"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.WriteLine(padLine(64 << 10)); err != nil {
		t.Fatalf("64 KiB alert: %v", err)
	}
	if got := readDatagram(t, l); !strings.HasSuffix(got, string(padLine(64<<10))+"\n") {
		t.Fatalf("64 KiB alert: got %d bytes", len(got))
	}
	if err := s.WriteLine(padLine(wmem)); !errors.Is(err, syscall.EMSGSIZE) {
		t.Fatalf("%d-byte alert: err = %v, want EMSGSIZE", wmem, err)
	}
}

// injection is a field value that would forge a second record if it
// reached the daemon raw.
const injection = "x\n<13>Jan  1 00:00:00 host forged[1]: {\"forged\":true}\r\x00\u2028"

func TestSyslogNoInjection(t *testing.T) {
	path := filepath.Join(socketDir(t), "log")
	l := listenUnixgram(t, path)
	w, tee := syslogWriter(t, "syslog+unix:"+path)
	f := findingN(3)
	f.Tool, f.Tools, f.SeverityText = injection, []string{injection}, injection
	f.Domain, f.Evidence, f.Samples = injection, []string{injection}, []string{injection}
	f.Clients = []engine.Client{{Addr: injection}}
	from := time.Now()
	if err := w.Finding(f); err != nil {
		t.Fatal(err)
	}
	if err := w.Finding(findingN(4)); err != nil {
		t.Fatal(err)
	}
	to := time.Now()
	got := readDatagram(t, l)
	checkLocalRecord(t, got, "dnsieve", string(tee.lines[0]), from, to)
	for i, c := range []byte(got[:len(got)-1]) {
		if c < 0x20 || c == 0x7f {
			t.Fatalf("control byte %#x at %d in %q", c, i, got)
		}
	}
	// encoding/json escapes the line break, '<' and U+2028; the field
	// decodes back to the original value.
	if want := `"tool":"x\n\u003c13\u003eJan  1 00:00:00 host forged[1]: {\"forged\":true}\r\u0000\u2028"`; !strings.Contains(got, want) {
		t.Errorf("tool not encoded as %s in %q", want, got)
	}
	var a Alert
	if err := json.Unmarshal(tee.lines[0], &a); err != nil {
		t.Fatal(err)
	}
	if a.Dnsieve.Tool != injection || a.Source.IP != injection {
		t.Errorf("tool %q, source.ip %q: want the raw value back", a.Dnsieve.Tool, a.Source.IP)
	}
	// The next datagram is the next alert: the first made exactly one.
	checkLocalRecord(t, readDatagram(t, l), "dnsieve", string(tee.lines[1]), from, to)

	// A raw line break handed to the sink directly is refused.
	s := tee.Sink
	if err := s.WriteLine([]byte("{\"a\":1}\n<13>forged")); err == nil ||
		err.Error() != "alert line holds control byte 0x0a at offset 7: not sent to syslog" {
		t.Errorf("err = %v", err)
	}
	if err := s.WriteLine([]byte("{\"a\":2}\x7f")); err == nil ||
		err.Error() != "alert line holds control byte 0x7f at offset 7: not sent to syslog" {
		t.Errorf("err = %v", err)
	}
	if err := s.WriteLine([]byte(`{"a":3}`)); err != nil {
		t.Fatal(err)
	}
	if got := readDatagram(t, l); !strings.HasSuffix(got, "]: {\"a\":3}\n") {
		t.Errorf("after refused lines got %q", got)
	}
}

// TestSyslogUnixgramGoesAway: with the daemon gone the alert fails with
// an error (counted, and retried on the next report of the finding);
// log/syslog dials again on each write, so delivery resumes when the
// socket is back.
func TestSyslogUnixgramGoesAway(t *testing.T) {
	path := filepath.Join(socketDir(t), "log")
	l := listenUnixgram(t, path)
	w, tee := syslogWriter(t, "syslog+unix:"+path)
	if err := w.Finding(findingN(0)); err != nil {
		t.Fatal(err)
	}
	readDatagram(t, l)

	l.Close() // the daemon stops; its socket file stays
	err := w.Finding(findingN(1))
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("daemon stopped: err = %v, want ECONNREFUSED", err)
	}
	os.Remove(path) // and its socket file goes
	err = w.Finding(findingN(2))
	if want := "dial unixgram " + path + ": connect: no such file or directory"; err == nil || err.Error() != want {
		t.Fatalf("socket removed: err = %v, want %s", err, want)
	}
	if w.Written != 1 || w.Errors != 2 {
		t.Fatalf("written %d errors %d, want 1 and 2", w.Written, w.Errors)
	}

	l = listenUnixgram(t, path) // the daemon is back
	from := time.Now()
	for _, i := range []int{2, 3} {
		if err := w.Finding(findingN(i)); err != nil {
			t.Fatal(err)
		}
	}
	to := time.Now()
	if w.Written != 3 || w.Errors != 2 {
		t.Fatalf("written %d errors %d, want 3 and 2", w.Written, w.Errors)
	}
	// findingN(2) failed before: it is sent again as a first alert.
	n := len(tee.lines)
	for _, line := range tee.lines[n-2:] {
		checkLocalRecord(t, readDatagram(t, l), "dnsieve", string(line), from, to)
	}
	var a Alert
	json.Unmarshal(tee.lines[n-2], &a)
	if a.DNS.Question.RegisteredDomain != "evil2.example" || a.Event.Action != "dns-tunnel-detected" || a.Dnsieve.Update {
		t.Errorf("retried alert: %s", tee.lines[n-2])
	}
}

// TestSyslogUDPGoesAway: UDP reports nothing when the collector is gone
// (the ICMP port unreachable fails the next write, which log/syslog
// retries once on a new socket): those alerts are lost without an error.
// Alerts written after the collector is back arrive.
func TestSyslogUDPGoesAway(t *testing.T) {
	l := listenUDP(t, "127.0.0.1:0")
	addr := l.LocalAddr().String()
	w, tee := syslogWriter(t, "syslog+udp:"+addr)
	if err := w.Finding(findingN(0)); err != nil {
		t.Fatal(err)
	}
	readDatagram(t, l)
	l.Close()
	for i := 1; i <= 3; i++ {
		if err := w.Finding(findingN(i)); err != nil {
			t.Fatalf("collector gone, alert %d: %v", i, err)
		}
	}
	l2, err := net.ListenPacket("udp4", addr)
	if err != nil {
		t.Skipf("port taken again: %v", err)
	}
	defer l2.Close()
	from := time.Now()
	if err := w.Finding(findingN(4)); err != nil {
		t.Fatal(err)
	}
	to := time.Now()
	checkNetworkRecord(t, readDatagram(t, l2), "dnsieve", string(tee.lines[4]), from, to)
	if w.Written != 5 || w.Errors != 0 {
		t.Fatalf("written %d errors %d", w.Written, w.Errors)
	}
}

// TestSyslogTCPGoesAway: when the collector closes, the alert written
// next may be accepted by the kernel and lost; a later one fails with
// the refused reconnection; after the collector is back, alerts arrive
// on a new connection.
func TestSyslogTCPGoesAway(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	w, tee := syslogWriter(t, "syslog+tcp:"+addr)
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	ln.Close()
	var failed error
	for i := 1; i <= 50 && failed == nil; i++ {
		failed = w.Finding(findingN(i))
		time.Sleep(10 * time.Millisecond)
	}
	if want := "dial tcp " + addr + ": connect: connection refused"; failed == nil || failed.Error() != want {
		t.Fatalf("collector gone: err = %v, want %s", failed, want)
	}
	if w.Errors != 1 || w.Written > 1 {
		t.Fatalf("written %d errors %d: want at most one alert lost unreported", w.Written, w.Errors)
	}
	ln, err = net.Listen("tcp4", addr)
	if err != nil {
		t.Skipf("port taken again: %v", err)
	}
	defer ln.Close()
	from := time.Now()
	if err := w.Finding(findingN(99)); err != nil {
		t.Fatal(err)
	}
	to := time.Now()
	c, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	checkNetworkRecord(t, line, "dnsieve", string(tee.lines[len(tee.lines)-1]), from, to)
}

func TestParseSyslogSpec(t *testing.T) {
	good := map[string]syslogTarget{
		"syslog":                                  {"", "", "dnsieve"},
		"syslog:ids-eu1":                          {"", "", "ids-eu1"},
		"syslog:dnsieve/eth0_2.a":                 {"", "", "dnsieve/eth0_2.a"},
		"syslog:" + strings.Repeat("t", 32):       {"", "", strings.Repeat("t", 32)},
		"syslog+udp:192.0.2.1:514":                {"udp", "192.0.2.1:514", "dnsieve"},
		"syslog+udp:[2001:db8::1]:514,dns":        {"udp", "[2001:db8::1]:514", "dns"},
		"syslog+tcp:collector.example:6514,ids-1": {"tcp", "collector.example:6514", "ids-1"},
		"syslog+tcp:collector.example:65535":      {"tcp", "collector.example:65535", "dnsieve"},
		"syslog+unix:/run/systemd/journal/syslog": {"unixgram", "/run/systemd/journal/syslog", "dnsieve"},
		"syslog+unix:relative/log,x":              {"unixgram", "relative/log", "x"},
	}
	for spec, want := range good {
		got, err := parseSyslogSpec(spec)
		if err != nil || got != want {
			t.Errorf("parseSyslogSpec(%q) = %+v, %v; want %+v", spec, got, err, want)
		}
	}
	const tagWant = `: want 1 to 32 letters, digits, '.', '_', '-' or '/'`
	const forms = ` (stdout, file:PATH[,MB,KEEP], syslog[:TAG], syslog+udp:HOST:PORT[,TAG], syslog+tcp:HOST:PORT[,TAG], syslog+unix:PATH[,TAG])`
	bad := map[string]string{
		"syslog:":                           `alert syslog tag ""` + tagWant,
		"syslog:my tag":                     `alert syslog tag "my tag"` + tagWant,
		"syslog:dnsieve:prod":               `alert syslog tag "dnsieve:prod"` + tagWant,
		"syslog:a[1]":                       `alert syslog tag "a[1]"` + tagWant,
		"syslog:a\nb":                       `alert syslog tag "a\nb"` + tagWant,
		"syslog:" + strings.Repeat("t", 33): `alert syslog tag "` + strings.Repeat("t", 33) + `"` + tagWant,
		"syslog+udp:h:514,":                 `alert syslog tag ""` + tagWant,
		"syslog+tcp:h:514,a,b":              `alert syslog tag "a,b"` + tagWant,
		"syslog+unix:/dev/log,":             `alert syslog tag ""` + tagWant,
		"syslog+udp:collector":              `alert syslog address "collector": want HOST:PORT`,
		"syslog+udp:":                       `alert syslog address "": want HOST:PORT`,
		"syslog+udp::514":                   `alert syslog address ":514": want HOST:PORT`,
		"syslog+udp:h:":                     `alert syslog address "h:": want HOST:PORT`,
		"syslog+udp:::1:514":                `alert syslog address "::1:514": want HOST:PORT`,
		"syslog+tcp:[::1]514":               `alert syslog address "[::1]514": want HOST:PORT`,
		"syslog+udp:h:0":                    `alert syslog port "0": want a number from 1 to 65535`,
		"syslog+udp:h:65536":                `alert syslog port "65536": want a number from 1 to 65535`,
		"syslog+tcp:h:syslog":               `alert syslog port "syslog": want a number from 1 to 65535`,
		"syslog+tcp:h:-1":                   `alert syslog port "-1": want a number from 1 to 65535`,
		"syslog+unix:":                      `alert syslog socket path is empty`,
		"syslog+unix:,tag":                  `alert syslog socket path is empty`,
		"syslog+sctp:h:514":                 `unknown alert output "syslog+sctp:h:514"` + forms,
		"syslog+udp//h:514":                 `unknown alert output "syslog+udp//h:514"` + forms,
		"syslog+":                           `unknown alert output "syslog+"` + forms,
		"syslogd":                           `unknown alert output "syslogd"` + forms,
		"Syslog":                            `unknown alert output "Syslog"` + forms,
		"kafka:x":                           `unknown alert output "kafka:x"` + forms,
	}
	for spec, want := range bad {
		if s, err := Open(spec, nil); err == nil || err.Error() != want {
			t.Errorf("Open(%q) = %v, %v\nwant error %s", spec, s, err, want)
		}
	}
}

// TestSyslogDialErrors: TCP and Unix targets are dialled at Open, so a
// missing collector is reported at start-up.
func TestSyslogDialErrors(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	path := filepath.Join(socketDir(t), "missing")
	for spec, want := range map[string]string{
		"syslog+tcp:" + addr:  "syslog: dial tcp " + addr + ": connect: connection refused",
		"syslog+unix:" + path: "syslog: dial unixgram " + path + ": connect: no such file or directory",
	} {
		if _, err := Open(spec, nil); err == nil || err.Error() != want {
			t.Errorf("Open(%q): err = %v, want %s", spec, err, want)
		}
	}
}

// failSink fails while fail is set.
type failSink struct {
	fail  bool
	lines []string
}

func (s *failSink) WriteLine(b []byte) error {
	if s.fail {
		return errors.New("down")
	}
	s.lines = append(s.lines, string(b))
	return nil
}
func (s *failSink) Close() error { return nil }

// TestWriterRetriesFailedAlert: an alert the sink refused is not taken as
// written: the next report of the finding writes it, as a first alert or
// as the update it was.
func TestWriterRetriesFailedAlert(t *testing.T) {
	s := &failSink{fail: true}
	w := NewWriter(s, "1")
	if err := w.Finding(finding(engine.SeverityMedium)); err == nil {
		t.Fatal("no error from a failing sink")
	}
	s.fail = false
	if err := w.Finding(finding(engine.SeverityMedium)); err != nil {
		t.Fatal(err)
	}
	s.fail = true
	if err := w.Finding(finding(engine.SeverityHigh)); err == nil {
		t.Fatal("no error from a failing sink")
	}
	s.fail = false
	for _, sev := range []engine.Severity{engine.SeverityMedium, engine.SeverityHigh, engine.SeverityHigh} {
		if err := w.Finding(finding(sev)); err != nil {
			t.Fatal(err)
		}
	}
	if len(s.lines) != 2 || w.Written != 2 || w.Errors != 2 {
		t.Fatalf("lines %d written %d errors %d, want 2 2 2", len(s.lines), w.Written, w.Errors)
	}
	var first, second Alert
	json.Unmarshal([]byte(s.lines[0]), &first)
	json.Unmarshal([]byte(s.lines[1]), &second)
	if first.Event.Action != "dns-tunnel-detected" || first.Dnsieve.Severity != "medium" ||
		second.Event.Action != "dns-tunnel-severity-raised" || second.Dnsieve.Severity != "high" {
		t.Errorf("alerts %s %s / %s %s", first.Event.Action, first.Dnsieve.Severity, second.Event.Action, second.Dnsieve.Severity)
	}
}
