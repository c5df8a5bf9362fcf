package dnstap

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
	"time"

	pb "github.com/dnstap/golang-dnstap"
	"golang.org/x/net/dns/dnsmessage"
	"google.golang.org/protobuf/proto"
)

// dnsQuery builds a DNS query (or, with response, a response) for name/TXT.
func dnsQuery(t testing.TB, id uint16, name string, response bool) []byte {
	t.Helper()
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: id, Response: response, RecursionDesired: true})
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		t.Fatal(err)
	}
	if err := b.Question(dnsmessage.Question{
		Name:  dnsmessage.MustNewName(name),
		Type:  dnsmessage.TypeTXT,
		Class: dnsmessage.ClassINET,
	}); err != nil {
		t.Fatal(err)
	}
	msg, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// questionName parses wire with dnsmessage and returns its first question.
func questionName(t testing.TB, wire []byte) (dnsmessage.Header, string) {
	t.Helper()
	var p dnsmessage.Parser
	h, err := p.Start(wire)
	if err != nil {
		t.Fatalf("dnsmessage: %v", err)
	}
	q, err := p.Question()
	if err != nil {
		t.Fatalf("dnsmessage question: %v", err)
	}
	return h, q.Name.String()
}

// frameSpec describes a dnstap frame for mkFrame.
type frameSpec struct {
	typ                pb.Message_Type
	proto              pb.SocketProtocol
	qAddr, rAddr       netip.Addr
	qPort, rPort       uint32
	qTime, rTime       time.Time
	wire               []byte
	identity, version  string
	noProto, noTimes   bool
	noAddrs, noPayload bool
}

// mkMessage builds the golang-dnstap message for s.
func mkMessage(s frameSpec) *pb.Dnstap {
	m := &pb.Message{Type: s.typ.Enum()}
	if !s.noProto {
		m.SocketProtocol = s.proto.Enum()
		if s.qAddr.Is4() {
			m.SocketFamily = pb.SocketFamily_INET.Enum()
		} else {
			m.SocketFamily = pb.SocketFamily_INET6.Enum()
		}
	}
	if !s.noAddrs {
		m.QueryAddress = s.qAddr.AsSlice()
		m.ResponseAddress = s.rAddr.AsSlice()
		m.QueryPort = proto.Uint32(s.qPort)
		m.ResponsePort = proto.Uint32(s.rPort)
	}
	if !s.noTimes {
		if !s.qTime.IsZero() {
			m.QueryTimeSec = proto.Uint64(uint64(s.qTime.Unix()))
			m.QueryTimeNsec = proto.Uint32(uint32(s.qTime.Nanosecond()))
		}
		if !s.rTime.IsZero() {
			m.ResponseTimeSec = proto.Uint64(uint64(s.rTime.Unix()))
			m.ResponseTimeNsec = proto.Uint32(uint32(s.rTime.Nanosecond()))
		}
	}
	if !s.noPayload {
		if int32(s.typ)%2 == 1 {
			m.QueryMessage = s.wire
		} else {
			m.ResponseMessage = s.wire
		}
	}
	d := &pb.Dnstap{Type: pb.Dnstap_MESSAGE.Enum(), Message: m}
	if s.identity != "" {
		d.Identity = []byte(s.identity)
	}
	if s.version != "" {
		d.Version = []byte(s.version)
	}
	return d
}

func marshal(t testing.TB, d *pb.Dnstap) []byte {
	t.Helper()
	b, err := proto.MarshalOptions{AllowPartial: true}.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mkFrame(t testing.TB, s frameSpec) []byte { return marshal(t, mkMessage(s)) }

// oracle decodes frame with protobuf-go and the generated dnstap types, then
// applies Decode's documented rules. ok tells whether the time came from the
// frame (otherwise the caller cannot compare it).
func oracle(frame []byte) (m Message, timeFromFrame bool, err error) {
	var d pb.Dnstap
	if e := proto.Unmarshal(frame, &d); e != nil {
		return m, false, ErrMalformed
	}
	if d.Type == nil {
		return m, false, ErrMalformed
	}
	if d.GetType() != pb.Dnstap_MESSAGE || d.Message == nil {
		return m, false, ErrNoPayload
	}
	msg := d.Message
	typ := int32(msg.GetType())
	name, known := pb.Message_Type_name[typ]
	if !known {
		return m, false, ErrMalformed
	}
	m.Type = name
	m.Query = typ%2 == 1
	if m.Query {
		m.Wire = msg.QueryMessage
	} else {
		m.Wire = msg.ResponseMessage
	}
	if len(m.Wire) == 0 {
		return m, false, ErrNoPayload
	}
	m.Client = oracleAddr(msg.QueryAddress, msg.GetQueryPort())
	m.Server = oracleAddr(msg.ResponseAddress, msg.GetResponsePort())
	var protocol pb.SocketProtocol // GetSocketProtocol would default to UDP
	if msg.SocketProtocol != nil {
		protocol = *msg.SocketProtocol
	}
	switch protocol {
	case pb.SocketProtocol_UDP:
		m.Transport = "udp"
	case pb.SocketProtocol_TCP:
		m.Transport = "tcp"
	case pb.SocketProtocol_DOT:
		m.Transport = "dot"
	case pb.SocketProtocol_DOH:
		m.Transport = "doh"
	case 5:
		m.Transport = "dnscrypt-udp"
	case 6:
		m.Transport = "dnscrypt-tcp"
	case 7:
		m.Transport = "doq"
	}
	qOK := msg.QueryTimeSec != nil && msg.GetQueryTimeSec() <= maxUnixSec
	rOK := msg.ResponseTimeSec != nil && msg.GetResponseTimeSec() <= maxUnixSec
	if qOK && (m.Query || !rOK) {
		m.Time = time.Unix(int64(msg.GetQueryTimeSec()), int64(msg.GetQueryTimeNsec()))
		timeFromFrame = true
	} else if rOK {
		m.Time = time.Unix(int64(msg.GetResponseTimeSec()), int64(msg.GetResponseTimeNsec()))
		timeFromFrame = true
	}
	m.Identity = string(d.Identity)
	m.Version = string(d.Version)
	return m, timeFromFrame, nil
}

func oracleAddr(a []byte, port uint32) netip.AddrPort {
	ip, ok := netip.AddrFromSlice(a)
	if !ok {
		return netip.AddrPort{}
	}
	if port > 65535 {
		port = 0
	}
	return netip.AddrPortFrom(ip.Unmap(), uint16(port))
}

// errClass names the sentinel an error matches.
func errClass(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrMalformed) && errors.Is(err, ErrNoPayload):
		return "both?!"
	case errors.Is(err, ErrMalformed):
		return "malformed"
	case errors.Is(err, ErrNoPayload):
		return "nopayload"
	}
	return "other: " + err.Error()
}

// sameMessage compares everything but Time.
func sameMessage(a, b *Message) bool {
	return a.Type == b.Type && a.Query == b.Query && a.Client == b.Client && a.Server == b.Server &&
		a.Transport == b.Transport && bytes.Equal(a.Wire, b.Wire) && a.Identity == b.Identity &&
		a.Version == b.Version
}
