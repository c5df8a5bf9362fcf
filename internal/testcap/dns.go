package testcap

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"

	"golang.org/x/net/dns/dnsmessage"
)

// DNS RR types (RFC 1035 section 3.2.2, RFC 3596, RFC 2782, RFC 6891,
// RFC 9460), as
// the uint16 the builders take.
const (
	TypeA     uint16 = 1
	TypeNS    uint16 = 2
	TypeCNAME uint16 = 5
	TypeSOA   uint16 = 6
	TypeNULL  uint16 = 10
	TypePTR   uint16 = 12
	TypeMX    uint16 = 15
	TypeTXT   uint16 = 16
	TypeAAAA  uint16 = 28
	TypeSRV   uint16 = 33
	TypeHTTPS uint16 = 65 // RFC 9460
	TypeOPT   uint16 = 41
	TypeANY   uint16 = 255
)

// ClassIN is the Internet class (RFC 1035 section 3.2.4).
const ClassIN uint16 = 1

// DNS response codes (RFC 1035 section 4.1.1).
const (
	RcodeSuccess  = 0
	RcodeFormErr  = 1
	RcodeServFail = 2
	RcodeNXDomain = 3
	RcodeNotImp   = 4
	RcodeRefused  = 5
)

// DNS header flag bits of the 16-bit flags word (RFC 1035 section 4.1.1).
const (
	FlagQR uint16 = 0x8000 // response
	FlagAA uint16 = 0x0400 // authoritative answer
	FlagTC uint16 = 0x0200 // truncated
	FlagRD uint16 = 0x0100 // recursion desired
	FlagRA uint16 = 0x0080 // recursion available
)

// DefaultAnswerTTL is the TTL the Answer constructors set.
const DefaultAnswerTTL = 300

// Answer is one resource record of a Response. Which fields are used depends
// on Type:
//
//	A, AAAA         Addr
//	CNAME, NS, PTR  Target
//	MX              Pref, Target
//	SRV             Priority, Weight, Port, Target
//	TXT             TXT (each string at most 255 bytes)
//	anything else   Data, as raw RDATA (e.g. NULL, RFC 1035 section 3.3.10)
type Answer struct {
	// Name is the owner name; empty means the question name.
	Name string
	Type uint16
	// Class defaults to ClassIN when zero.
	Class                  uint16
	TTL                    uint32
	Addr                   netip.Addr
	Target                 string
	Pref                   uint16
	Priority, Weight, Port uint16
	TXT                    []string
	Data                   []byte
}

// AnswerAddr returns an A (IPv4 addr) or AAAA (IPv6 addr) answer.
func AnswerAddr(addr netip.Addr) Answer {
	t := TypeAAAA
	if addr.Is4() {
		t = TypeA
	}
	return Answer{Type: t, TTL: DefaultAnswerTTL, Addr: addr}
}

// AnswerCNAME returns a CNAME answer.
func AnswerCNAME(target string) Answer {
	return Answer{Type: TypeCNAME, TTL: DefaultAnswerTTL, Target: target}
}

// AnswerTXT returns a TXT answer with the given character-strings.
func AnswerTXT(txt ...string) Answer {
	return Answer{Type: TypeTXT, TTL: DefaultAnswerTTL, TXT: txt}
}

// AnswerNULL returns a NULL answer with arbitrary RDATA.
func AnswerNULL(data []byte) Answer {
	return Answer{Type: TypeNULL, TTL: DefaultAnswerTTL, Data: data}
}

// AnswerMX returns an MX answer.
func AnswerMX(pref uint16, exchange string) Answer {
	return Answer{Type: TypeMX, TTL: DefaultAnswerTTL, Pref: pref, Target: exchange}
}

// AnswerSRV returns an SRV answer (RFC 2782).
func AnswerSRV(priority, weight, port uint16, target string) Answer {
	return Answer{Type: TypeSRV, TTL: DefaultAnswerTTL, Priority: priority, Weight: weight, Port: port, Target: target}
}

// AnswerNS returns an NS answer.
func AnswerNS(host string) Answer { return Answer{Type: TypeNS, TTL: DefaultAnswerTTL, Target: host} }

// AnswerPTR returns a PTR answer.
func AnswerPTR(host string) Answer { return Answer{Type: TypePTR, TTL: DefaultAnswerTTL, Target: host} }

// mustName converts a presentation-format name to a dnsmessage.Name, adding
// the final dot if missing. dnsmessage splits on every '.', so a name whose
// labels contain dots or need escapes must be built with RawName instead.
func mustName(s string) dnsmessage.Name {
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	n, err := dnsmessage.NewName(s)
	if err != nil {
		panic(fmt.Sprintf("testcap: DNS name %q: %v", s, err))
	}
	return n
}

func must(err error) {
	if err != nil {
		panic(fmt.Sprintf("testcap: build DNS message: %v", err))
	}
}

// Query returns a standard recursive query (RD set) for name/qtype in class
// IN, built with dnsmessage.Builder. It panics if dnsmessage rejects the
// name (longer than 255 bytes, a label over 63 bytes, an empty label).
func Query(id uint16, name string, qtype uint16) []byte {
	return query(id, name, qtype, 0)
}

// QueryEDNS is Query with an EDNS(0) OPT record (RFC 6891) advertising
// udpSize in the additional section.
func QueryEDNS(id uint16, name string, qtype uint16, udpSize uint16) []byte {
	return query(id, name, qtype, udpSize)
}

func query(id uint16, name string, qtype uint16, ednsSize uint16) []byte {
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: id, RecursionDesired: true})
	must(b.StartQuestions())
	must(b.Question(dnsmessage.Question{Name: mustName(name), Type: dnsmessage.Type(qtype), Class: dnsmessage.ClassINET}))
	if ednsSize != 0 {
		must(b.StartAdditionals())
		var h dnsmessage.ResourceHeader
		must(h.SetEDNS0(int(ednsSize), dnsmessage.RCodeSuccess, false))
		must(b.OPTResource(h, dnsmessage.OPTResource{}))
	}
	msg, err := b.Finish()
	must(err)
	return msg
}

// Response returns a recursive resolver's response (QR, RD, RA set) to the
// question name/qtype with the given rcode (0..15) and answer records, built
// with dnsmessage.Builder with name compression enabled.
func Response(id uint16, name string, qtype uint16, rcode int, answers ...Answer) []byte {
	if rcode < 0 || rcode > 15 {
		panic(fmt.Sprintf("testcap: rcode %d does not fit the 4-bit header field", rcode))
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{
		ID: id, Response: true, RecursionDesired: true, RecursionAvailable: true,
		RCode: dnsmessage.RCode(rcode),
	})
	b.EnableCompression()
	qname := mustName(name)
	must(b.StartQuestions())
	must(b.Question(dnsmessage.Question{Name: qname, Type: dnsmessage.Type(qtype), Class: dnsmessage.ClassINET}))
	must(b.StartAnswers())
	for _, a := range answers {
		addAnswer(&b, qname, a)
	}
	msg, err := b.Finish()
	must(err)
	return msg
}

func addAnswer(b *dnsmessage.Builder, qname dnsmessage.Name, a Answer) {
	h := dnsmessage.ResourceHeader{Name: qname, Type: dnsmessage.Type(a.Type), Class: dnsmessage.Class(a.Class), TTL: a.TTL}
	if a.Name != "" {
		h.Name = mustName(a.Name)
	}
	if a.Class == 0 {
		h.Class = dnsmessage.ClassINET
	}
	switch a.Type {
	case TypeA:
		if !a.Addr.Is4() {
			panic(fmt.Sprintf("testcap: A answer needs an IPv4 address, got %v", a.Addr))
		}
		must(b.AResource(h, dnsmessage.AResource{A: a.Addr.As4()}))
	case TypeAAAA:
		if !a.Addr.Is6() {
			panic(fmt.Sprintf("testcap: AAAA answer needs an IPv6 address, got %v", a.Addr))
		}
		must(b.AAAAResource(h, dnsmessage.AAAAResource{AAAA: a.Addr.As16()}))
	case TypeCNAME:
		must(b.CNAMEResource(h, dnsmessage.CNAMEResource{CNAME: mustName(a.Target)}))
	case TypeNS:
		must(b.NSResource(h, dnsmessage.NSResource{NS: mustName(a.Target)}))
	case TypePTR:
		must(b.PTRResource(h, dnsmessage.PTRResource{PTR: mustName(a.Target)}))
	case TypeMX:
		must(b.MXResource(h, dnsmessage.MXResource{Pref: a.Pref, MX: mustName(a.Target)}))
	case TypeSRV:
		must(b.SRVResource(h, dnsmessage.SRVResource{
			Priority: a.Priority, Weight: a.Weight, Port: a.Port, Target: mustName(a.Target),
		}))
	case TypeTXT:
		must(b.TXTResource(h, dnsmessage.TXTResource{TXT: a.TXT}))
	default:
		must(b.UnknownResource(h, dnsmessage.UnknownResource{Type: dnsmessage.Type(a.Type), Data: a.Data}))
	}
}

// RawName returns the uncompressed wire encoding (RFC 1035 section 3.1) of a
// name made of the given labels followed by the root label. Labels may hold
// any bytes, including '.', '\\', NUL and non-ASCII, which dnsmessage.Name
// cannot express. It panics on an empty label or one longer than 63 bytes
// (those need hand-written bytes), but not on a total length over 255, so
// over-long names can be built on purpose.
func RawName(labels ...[]byte) []byte {
	return append(rawLabels(labels), 0)
}

// RawNamePtr is RawName with the root label replaced by a compression
// pointer (RFC 1035 section 4.1.4) to message offset ptr (below 0x4000).
// With no labels it is a bare pointer; a pointer to itself or forward makes
// the hostile loops decoders must reject.
func RawNamePtr(ptr uint16, labels ...[]byte) []byte {
	if ptr >= 0x4000 {
		panic(fmt.Sprintf("testcap: compression pointer %#x does not fit 14 bits", ptr))
	}
	return binary.BigEndian.AppendUint16(rawLabels(labels), 0xc000|ptr)
}

func rawLabels(labels [][]byte) []byte {
	var out []byte
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 {
			panic(fmt.Sprintf("testcap: label length %d outside 1..63", len(l)))
		}
		out = append(out, byte(len(l)))
		out = append(out, l...)
	}
	return out
}

// Labels splits a dotted name into labels for RawName ("a.b.c" or "a.b.c.").
func Labels(name string) [][]byte {
	name = strings.TrimSuffix(name, ".")
	if name == "" {
		return nil
	}
	var out [][]byte
	for _, s := range strings.Split(name, ".") {
		out = append(out, []byte(s))
	}
	return out
}

// RawQuestion is a question entry with a name in wire format.
type RawQuestion struct {
	Name  []byte // wire-format name (RawName, RawNamePtr, or any bytes)
	Type  uint16
	Class uint16 // ClassIN when zero
}

// RawRR is a resource record with a wire-format owner name and raw RDATA.
type RawRR struct {
	// Name is the wire-format owner name; nil means a compression pointer
	// to the first question name (offset 12).
	Name  []byte
	Type  uint16
	Class uint16 // ClassIN when zero
	TTL   uint32
	Data  []byte // RDATA, written verbatim with its length
}

// RawMsg is a DNS message assembled byte by byte, without any validation,
// for inputs dnsmessage would refuse to build.
type RawMsg struct {
	ID                                uint16
	Flags                             uint16 // FlagQR|FlagRD|..., opcode (bits 11-14) and rcode (bits 0-3)
	Questions                         []RawQuestion
	Answers, Authorities, Additionals []RawRR
	// Counts, when non-nil, replaces the QDCOUNT, ANCOUNT, NSCOUNT and
	// ARCOUNT header fields, so they can disagree with the sections.
	Counts *[4]uint16
	// Trailer is appended after the last record.
	Trailer []byte
}

// Bytes returns the wire encoding of m (RFC 1035 section 4.1).
func (m RawMsg) Bytes() []byte {
	counts := [4]uint16{uint16(len(m.Questions)), uint16(len(m.Answers)), uint16(len(m.Authorities)), uint16(len(m.Additionals))}
	if m.Counts != nil {
		counts = *m.Counts
	}
	out := make([]byte, 0, 512)
	out = binary.BigEndian.AppendUint16(out, m.ID)
	out = binary.BigEndian.AppendUint16(out, m.Flags)
	for _, c := range counts {
		out = binary.BigEndian.AppendUint16(out, c)
	}
	for _, q := range m.Questions {
		out = append(out, q.Name...)
		out = binary.BigEndian.AppendUint16(out, q.Type)
		out = binary.BigEndian.AppendUint16(out, classOrIN(q.Class))
	}
	for _, sec := range [][]RawRR{m.Answers, m.Authorities, m.Additionals} {
		for _, rr := range sec {
			if rr.Name == nil {
				out = append(out, 0xc0, 12)
			} else {
				out = append(out, rr.Name...)
			}
			out = binary.BigEndian.AppendUint16(out, rr.Type)
			out = binary.BigEndian.AppendUint16(out, classOrIN(rr.Class))
			out = binary.BigEndian.AppendUint32(out, rr.TTL)
			out = binary.BigEndian.AppendUint16(out, uint16(len(rr.Data)))
			out = append(out, rr.Data...)
		}
	}
	return append(out, m.Trailer...)
}

func classOrIN(c uint16) uint16 {
	if c == 0 {
		return ClassIN
	}
	return c
}

// RawQuery returns a recursive query (RD set) whose single question has the
// wire-format name wireName (see RawName), type qtype and class IN.
func RawQuery(id uint16, wireName []byte, qtype uint16) []byte {
	return RawMsg{ID: id, Flags: FlagRD, Questions: []RawQuestion{{Name: wireName, Type: qtype}}}.Bytes()
}

// RawResponse returns a response (QR, RD, RA set) to the question
// wireName/qtype with the given rcode and raw answer records; a record with
// a nil Name points back at the question name.
func RawResponse(id uint16, wireName []byte, qtype uint16, rcode int, answers ...RawRR) []byte {
	return RawMsg{
		ID: id, Flags: FlagQR | FlagRD | FlagRA | uint16(rcode&0xf),
		Questions: []RawQuestion{{Name: wireName, Type: qtype}},
		Answers:   answers,
	}.Bytes()
}
