package alert

import (
	"fmt"
	"log/syslog"
	"net"
	"strconv"
	"strings"
)

// syslogPriority is facility daemon (3), severity warning (4): PRI
// 3*8+4 = 28 (RFC 3164 section 4.1.1, RFC 5424 section 6.2.1).
const syslogPriority = syslog.LOG_DAEMON | syslog.LOG_WARNING

// defaultSyslogTag is the tag when the spec names none.
const defaultSyslogTag = "dnsieve"

// maxSyslogTag is the longest tag: RFC 3164 section 4.1.3 caps TAG at 32
// characters.
const maxSyslogTag = 32

// dialSyslog opens the syslog connection. network "" is the local daemon
// (log/syslog tries /dev/log, /var/run/syslog, /var/run/log). Tests
// replace it to reach the local forms without a daemon.
var dialSyslog = syslog.Dial

// syslogTarget is a parsed syslog spec: the arguments of syslog.Dial.
type syslogTarget struct {
	network, addr, tag string
}

// parseSyslogSpec parses the syslog forms Open accepts. It does no I/O.
func parseSyslogSpec(spec string) (syslogTarget, error) {
	t := syslogTarget{tag: defaultSyslogTag}
	var rest string
	switch {
	case spec == "syslog":
		return t, nil
	case strings.HasPrefix(spec, "syslog:"):
		t.tag = strings.TrimPrefix(spec, "syslog:")
		return t, checkSyslogTag(t.tag)
	case strings.HasPrefix(spec, "syslog+udp:"):
		t.network, rest = "udp", strings.TrimPrefix(spec, "syslog+udp:")
	case strings.HasPrefix(spec, "syslog+tcp:"):
		t.network, rest = "tcp", strings.TrimPrefix(spec, "syslog+tcp:")
	case strings.HasPrefix(spec, "syslog+unix:"):
		t.network, rest = "unixgram", strings.TrimPrefix(spec, "syslog+unix:")
	default:
		return t, unknownSpec(spec)
	}
	addr, tag, hasTag := strings.Cut(rest, ",")
	if hasTag {
		if err := checkSyslogTag(tag); err != nil {
			return t, err
		}
		t.tag = tag
	}
	t.addr = addr
	if t.network == "unixgram" {
		if addr == "" {
			return t, fmt.Errorf("alert syslog socket path is empty")
		}
		return t, nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" || port == "" {
		return t, fmt.Errorf("alert syslog address %q: want HOST:PORT", addr)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return t, fmt.Errorf("alert syslog port %q: want a number from 1 to 65535", port)
	}
	return t, nil
}

// checkSyslogTag accepts 1 to 32 letters, digits, '.', '_', '-' or '/':
// a space, ':' or '[' would end the tag early for the collector's parser
// and a control byte could forge a record.
func checkSyslogTag(tag string) error {
	ok := tag != "" && len(tag) <= maxSyslogTag
	for i := 0; ok && i < len(tag); i++ {
		c := tag[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == '/'
	}
	if !ok {
		return fmt.Errorf("alert syslog tag %q: want 1 to 32 letters, digits, '.', '_', '-' or '/'", tag)
	}
	return nil
}

// syslogSink sends each line as one syslog record of severity warning.
type syslogSink struct{ w *syslog.Writer }

// WriteLine sends b as the message of one record. A line holding a
// control byte is refused: a line break would split it into two records
// for the daemon (and end the record early over TCP). Alerts from a
// Writer never hold one: encoding/json escapes them.
func (s *syslogSink) WriteLine(b []byte) error {
	for i, c := range b {
		if c < 0x20 || c == 0x7f {
			return fmt.Errorf("alert line holds control byte 0x%02x at offset %d: not sent to syslog", c, i)
		}
	}
	return s.w.Warning(string(b))
}

// Close closes the connection.
func (s *syslogSink) Close() error { return s.w.Close() }
