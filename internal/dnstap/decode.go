package dnstap

import (
	"errors"
	"net/netip"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// ContentType is the Frame Streams content type of dnstap payloads.
const ContentType = "protobuf:dnstap.Dnstap"

// Message is one DNS message seen by a DNS server, with what the server said
// about it. Decode fills it; a Message can be reused for the next frame.
type Message struct {
	// Type is the dnstap message type: "AUTH_QUERY", "AUTH_RESPONSE",
	// "RESOLVER_QUERY", "RESOLVER_RESPONSE", "CLIENT_QUERY",
	// "CLIENT_RESPONSE", "FORWARDER_QUERY", "FORWARDER_RESPONSE",
	// "STUB_QUERY", "STUB_RESPONSE", "TOOL_QUERY", "TOOL_RESPONSE",
	// "UPDATE_QUERY" or "UPDATE_RESPONSE".
	Type string
	// Query is true for the *_QUERY types (Wire is the query_message) and
	// false for the *_RESPONSE types (Wire is the response_message).
	Query bool
	// Time is query_time for queries and response_time for responses. When
	// that is absent it is the other one, and when both are absent it is
	// the time Decode ran (for a server: when the frame arrived).
	Time time.Time
	// Client is query_address:query_port, the initiator of the DNS
	// transaction. It is the zero AddrPort when the address is absent or
	// not 4 or 16 bytes long; IPv4-mapped IPv6 addresses are unmapped.
	Client netip.AddrPort
	// Server is response_address:response_port, the responder.
	Server netip.AddrPort
	// Transport is socket_protocol: "udp", "tcp", "dot", "doh",
	// "dnscrypt-udp", "dnscrypt-tcp", "doq", or "" when absent or unknown.
	Transport string
	// Wire is the DNS message in wire format. It points into the frame
	// given to Decode and is valid only as long as that frame (for Listen
	// and ReadFile: during the callback). Copy it to keep it.
	Wire []byte
	// Identity and Version are the sending server's identity and version
	// strings from the dnstap envelope, "" when it does not send them.
	Identity, Version string
}

// Errors reported by Decode. Every error Decode returns matches exactly one
// of them with errors.Is.
var (
	// ErrMalformed: the frame is not a valid dnstap protobuf message
	// (bad protobuf encoding, required field missing, unknown message type).
	ErrMalformed = errors.New("dnstap: malformed frame")
	// ErrNoPayload: the frame is valid dnstap but carries no DNS message to
	// analyse: it is not of type MESSAGE, has no message, or lacks the
	// query_message (for a query) or response_message (for a response).
	// CoreDNS sends such frames unless its dnstap line says "full".
	ErrNoPayload = errors.New("dnstap: frame carries no DNS message")
)

// decodeError is a static, allocation-free error that matches one sentinel.
type decodeError struct {
	msg  string
	kind error
}

func (e *decodeError) Error() string        { return e.kind.Error() + ": " + e.msg }
func (e *decodeError) Is(target error) bool { return target == e.kind }

var (
	errProtobuf       = &decodeError{"bad protobuf encoding", ErrMalformed}
	errFieldNumber    = &decodeError{"invalid protobuf field number", ErrMalformed}
	errNoEnvelopeType = &decodeError{"Dnstap.type missing", ErrMalformed}
	errNoMessageType  = &decodeError{"Message.type missing", ErrMalformed}
	errUnknownType    = &decodeError{"unknown Message.type", ErrMalformed}
	errNotMessage     = &decodeError{"Dnstap.type is not MESSAGE", ErrNoPayload}
	errNoMessage      = &decodeError{"Dnstap.message missing", ErrNoPayload}
	errNoQueryWire    = &decodeError{"query_message missing", ErrNoPayload}
	errNoResponseWire = &decodeError{"response_message missing", ErrNoPayload}
)

// Field numbers of dnstap.proto (https://github.com/dnstap/dnstap.pb).
const (
	fieldIdentity = 1  // Dnstap.identity, bytes
	fieldVersion  = 2  // Dnstap.version, bytes
	fieldMessage  = 14 // Dnstap.message, Message
	fieldType     = 15 // Dnstap.type, enum (required)

	fieldMsgType          = 1  // Message.type, enum (required)
	fieldSocketProtocol   = 3  // enum SocketProtocol
	fieldQueryAddress     = 4  // bytes
	fieldResponseAddress  = 5  // bytes
	fieldQueryPort        = 6  // uint32
	fieldResponsePort     = 7  // uint32
	fieldQueryTimeSec     = 8  // uint64
	fieldQueryTimeNsec    = 9  // fixed32
	fieldQueryMessage     = 10 // bytes
	fieldResponseTimeSec  = 12 // uint64
	fieldResponseTimeNsec = 13 // fixed32
	fieldResponseMessage  = 14 // bytes

	envelopeMessage = 1 // Dnstap.Type MESSAGE
)

// messageTypes maps Message.Type numbers to their names; odd numbers are
// queries, even numbers responses.
var messageTypes = [...]string{
	1: "AUTH_QUERY", 2: "AUTH_RESPONSE",
	3: "RESOLVER_QUERY", 4: "RESOLVER_RESPONSE",
	5: "CLIENT_QUERY", 6: "CLIENT_RESPONSE",
	7: "FORWARDER_QUERY", 8: "FORWARDER_RESPONSE",
	9: "STUB_QUERY", 10: "STUB_RESPONSE",
	11: "TOOL_QUERY", 12: "TOOL_RESPONSE",
	13: "UPDATE_QUERY", 14: "UPDATE_RESPONSE",
}

// transports maps SocketProtocol numbers to Message.Transport.
var transports = [...]string{
	1: "udp", 2: "tcp", 3: "dot", 4: "doh",
	5: "dnscrypt-udp", 6: "dnscrypt-tcp", 7: "doq",
}

// maxUnixSec bounds the seconds accepted as a timestamp (year 9999); larger
// values are treated as absent.
const maxUnixSec = 253402300799

// raw holds the fields of interest of one frame as the protobuf carries them.
type raw struct {
	identity, version  []byte
	envType, msgType   int32
	protocol           int32
	hasEnvType, hasMsg bool
	hasMsgType         bool
	hasQSec, hasRSec   bool
	qAddr, rAddr       []byte
	qWire, rWire       []byte
	qPort, rPort       uint32
	qNsec, rNsec       uint32
	qSec, rSec         uint64
}

// Decode turns one dnstap protobuf frame (a Frame Streams data frame) into
// m. It does not allocate when m is reused and the identity and version
// strings do not change. m.Wire points into frame.
//
// Protobuf is decoded as protobuf-go does: the last occurrence of a scalar
// field wins, repeated occurrences of the embedded message are merged, fields
// with an unexpected wire type are skipped as unknown.
func Decode(frame []byte, m *Message) error {
	var r raw
	if err := r.parseEnvelope(frame); err != nil {
		return err
	}
	return r.fill(m)
}

func (r *raw) parseEnvelope(b []byte) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return errProtobuf
		}
		if num > protowire.MaxValidNumber {
			return errFieldNumber
		}
		b = b[n:]
		switch {
		case num == fieldIdentity && typ == protowire.BytesType:
			r.identity, n = protowire.ConsumeBytes(b)
		case num == fieldVersion && typ == protowire.BytesType:
			r.version, n = protowire.ConsumeBytes(b)
		case num == fieldMessage && typ == protowire.BytesType:
			var v []byte
			v, n = protowire.ConsumeBytes(b)
			if n >= 0 {
				if err := r.parseMessage(v); err != nil {
					return err
				}
				r.hasMsg = true
			}
		case num == fieldType && typ == protowire.VarintType:
			var v uint64
			v, n = protowire.ConsumeVarint(b)
			r.envType, r.hasEnvType = int32(v), true
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return errProtobuf
		}
		b = b[n:]
	}
	return nil
}

// parseMessage decodes one occurrence of Dnstap.message into r, on top of
// what earlier occurrences set (protobuf merge semantics).
func (r *raw) parseMessage(b []byte) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return errProtobuf
		}
		if num > protowire.MaxValidNumber {
			return errFieldNumber
		}
		b = b[n:]
		var v uint64
		switch {
		case typ == protowire.VarintType && (num == fieldMsgType || num == fieldSocketProtocol ||
			num == fieldQueryPort || num == fieldResponsePort ||
			num == fieldQueryTimeSec || num == fieldResponseTimeSec):
			v, n = protowire.ConsumeVarint(b)
			switch num {
			case fieldMsgType:
				r.msgType, r.hasMsgType = int32(v), true
			case fieldSocketProtocol:
				r.protocol = int32(v)
			case fieldQueryPort:
				r.qPort = uint32(v)
			case fieldResponsePort:
				r.rPort = uint32(v)
			case fieldQueryTimeSec:
				r.qSec, r.hasQSec = v, true
			case fieldResponseTimeSec:
				r.rSec, r.hasRSec = v, true
			}
		case typ == protowire.Fixed32Type && num == fieldQueryTimeNsec:
			r.qNsec, n = protowire.ConsumeFixed32(b)
		case typ == protowire.Fixed32Type && num == fieldResponseTimeNsec:
			r.rNsec, n = protowire.ConsumeFixed32(b)
		case typ == protowire.BytesType && num == fieldQueryAddress:
			r.qAddr, n = protowire.ConsumeBytes(b)
		case typ == protowire.BytesType && num == fieldResponseAddress:
			r.rAddr, n = protowire.ConsumeBytes(b)
		case typ == protowire.BytesType && num == fieldQueryMessage:
			r.qWire, n = protowire.ConsumeBytes(b)
		case typ == protowire.BytesType && num == fieldResponseMessage:
			r.rWire, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return errProtobuf
		}
		b = b[n:]
	}
	return nil
}

// fill checks the required fields and turns r into m.
func (r *raw) fill(m *Message) error {
	if !r.hasEnvType {
		return errNoEnvelopeType
	}
	if r.hasMsg && !r.hasMsgType {
		return errNoMessageType
	}
	if r.envType != envelopeMessage {
		return errNotMessage
	}
	if !r.hasMsg {
		return errNoMessage
	}
	if r.msgType <= 0 || int(r.msgType) >= len(messageTypes) {
		return errUnknownType
	}
	query := r.msgType%2 == 1
	wire := r.rWire
	if query {
		wire = r.qWire
	}
	if len(wire) == 0 {
		if query {
			return errNoQueryWire
		}
		return errNoResponseWire
	}

	m.Type = messageTypes[r.msgType]
	m.Query = query
	m.Wire = wire
	m.Client = addrPort(r.qAddr, r.qPort)
	m.Server = addrPort(r.rAddr, r.rPort)
	m.Transport = ""
	if r.protocol > 0 && int(r.protocol) < len(transports) {
		m.Transport = transports[r.protocol]
	}
	qOK := r.hasQSec && r.qSec <= maxUnixSec
	rOK := r.hasRSec && r.rSec <= maxUnixSec
	switch {
	case qOK && (query || !rOK):
		m.Time = time.Unix(int64(r.qSec), int64(r.qNsec))
	case rOK:
		m.Time = time.Unix(int64(r.rSec), int64(r.rNsec))
	default:
		m.Time = time.Now()
	}
	// Reuse the previous strings when they did not change: no allocation
	// for the usual stream of frames from one server.
	if string(r.identity) != m.Identity {
		m.Identity = string(r.identity)
	}
	if string(r.version) != m.Version {
		m.Version = string(r.version)
	}
	return nil
}

// addrPort turns a dnstap address and port into an AddrPort: the zero value
// when the address is not 4 or 16 bytes, port 0 when it exceeds 65535.
func addrPort(a []byte, port uint32) netip.AddrPort {
	var ip netip.Addr
	switch len(a) {
	case 4:
		ip = netip.AddrFrom4([4]byte(a))
	case 16:
		ip = netip.AddrFrom16([16]byte(a)).Unmap()
	default:
		return netip.AddrPort{}
	}
	if port > 0xffff {
		port = 0
	}
	return netip.AddrPortFrom(ip, uint16(port))
}
