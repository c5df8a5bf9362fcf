package dnswire

import "encoding/binary"

// HeaderLen is the size of the fixed DNS message header (RFC 1035 section 4.1.1).
const HeaderLen = 12

// Header flag bits (RFC 1035 section 4.1.1, RFC 4035 section 3.2 for AD/CD).
const (
	FlagQR uint16 = 1 << 15 // response
	FlagAA uint16 = 1 << 10 // authoritative answer
	FlagTC uint16 = 1 << 9  // truncated
	FlagRD uint16 = 1 << 8  // recursion desired
	FlagRA uint16 = 1 << 7  // recursion available
	FlagZ  uint16 = 1 << 6  // reserved, must be zero
	FlagAD uint16 = 1 << 5  // authentic data
	FlagCD uint16 = 1 << 4  // checking disabled
)

// Common RR TYPE values (IANA "DNS Parameters" registry).
const (
	TypeA      uint16 = 1
	TypeNS     uint16 = 2
	TypeCNAME  uint16 = 5
	TypeSOA    uint16 = 6
	TypeNULL   uint16 = 10
	TypePTR    uint16 = 12
	TypeHINFO  uint16 = 13
	TypeMX     uint16 = 15
	TypeTXT    uint16 = 16
	TypeAAAA   uint16 = 28
	TypeSRV    uint16 = 33
	TypeNAPTR  uint16 = 35
	TypeDNAME  uint16 = 39
	TypeOPT    uint16 = 41
	TypeDS     uint16 = 43
	TypeRRSIG  uint16 = 46
	TypeDNSKEY uint16 = 48
	TypeSVCB   uint16 = 64
	TypeHTTPS  uint16 = 65
	TypeAXFR   uint16 = 252
	TypeANY    uint16 = 255
	ClassINET  uint16 = 1
)

// Header is the fixed 12-byte DNS message header.
type Header struct {
	ID, Flags, QDCount, ANCount, NSCount, ARCount uint16
}

// Response reports whether the QR bit is set.
func (h Header) Response() bool { return h.Flags&FlagQR != 0 }

// Opcode returns the 4-bit OPCODE (0 query, 4 notify, 5 update, ...).
func (h Header) Opcode() uint8 { return uint8(h.Flags>>11) & 0x0F }

// RCode returns the 4-bit header RCODE (without the EDNS extension bits).
func (h Header) RCode() uint8 { return uint8(h.Flags & 0x0F) }

// Truncated reports whether the TC bit is set.
func (h Header) Truncated() bool { return h.Flags&FlagTC != 0 }

// RecursionDesired reports whether the RD bit is set.
func (h Header) RecursionDesired() bool { return h.Flags&FlagRD != 0 }

// Question is one entry of the question section.
type Question struct {
	Name        Name
	Type, Class uint16
}

// ResourceHeader is the part of a resource record before its RDATA.
type ResourceHeader struct {
	Name        Name
	Type, Class uint16
	TTL         uint32
	// Length is the RDLENGTH field.
	Length uint16
	// DataOffset is the offset of the RDATA in the message, for ReadName on
	// names inside it (CNAME, NS, PTR, MX, SRV, SOA).
	DataOffset int
	// NameOffset is the offset of the owner name in the message.
	NameOffset int
}

// Section identifies a section of a DNS message.
type Section uint8

// Message sections in wire order.
const (
	SectionNone       Section = iota // before Start, or after the last section
	SectionQuestion                  // question section
	SectionAnswer                    // answer section
	SectionAuthority                 // authority section
	SectionAdditional                // additional section
)

// Parser walks a DNS message section by section without allocating. Call
// Start, then Question until ErrSectionDone, then Answer, Authority and
// Additional likewise. Asking for a later section skips (but still
// validates) whatever is left of the earlier ones; asking for an earlier one
// returns ErrSectionDone. After any other error the parser is stuck: every
// call returns that error until the next Start. The zero Parser is ready for
// Start.
type Parser struct {
	msg     []byte
	off     int
	section Section
	left    uint16 // records left in section
	hdr     Header
	err     error
}

// Start resets the parser to the beginning of msg and returns its header.
// The parser keeps msg; slices it returns point into it.
func (p *Parser) Start(msg []byte) (Header, error) {
	*p = Parser{}
	if len(msg) < HeaderLen {
		p.err = ErrShortHeader
		return Header{}, ErrShortHeader
	}
	p.hdr = Header{
		ID:      binary.BigEndian.Uint16(msg[0:]),
		Flags:   binary.BigEndian.Uint16(msg[2:]),
		QDCount: binary.BigEndian.Uint16(msg[4:]),
		ANCount: binary.BigEndian.Uint16(msg[6:]),
		NSCount: binary.BigEndian.Uint16(msg[8:]),
		ARCount: binary.BigEndian.Uint16(msg[10:]),
	}
	p.msg = msg
	p.off = HeaderLen
	p.section = SectionQuestion
	p.left = p.hdr.QDCount
	return p.hdr, nil
}

// Section returns the section the next record will be read from, or
// SectionNone before Start and after the additional section.
func (p *Parser) Section() Section { return p.section }

// Offset returns the offset in the message of the next unread byte.
func (p *Parser) Offset() int { return p.off }

// advance moves to the next section.
func (p *Parser) advance() {
	switch p.section {
	case SectionQuestion:
		p.section, p.left = SectionAnswer, p.hdr.ANCount
	case SectionAnswer:
		p.section, p.left = SectionAuthority, p.hdr.NSCount
	case SectionAuthority:
		p.section, p.left = SectionAdditional, p.hdr.ARCount
	default:
		p.section, p.left = SectionNone, 0
	}
}

// Question reads the next question into q. It returns ErrSectionDone after
// the last question (and moves the parser to the answer section).
func (p *Parser) Question(q *Question) error {
	if p.err != nil {
		return p.err
	}
	if p.msg == nil {
		return ErrNotStarted
	}
	if p.section != SectionQuestion {
		return ErrSectionDone
	}
	if p.left == 0 {
		p.advance()
		return ErrSectionDone
	}
	var n *Name
	if q != nil {
		n = &q.Name
	}
	off, err := p.question(n)
	if err != nil {
		p.err = err
		return err
	}
	if q != nil {
		q.Type = binary.BigEndian.Uint16(p.msg[off-4:])
		q.Class = binary.BigEndian.Uint16(p.msg[off-2:])
	}
	p.off = off
	p.left--
	return nil
}

// question validates the question at p.off, decoding its name into n if
// non-nil, and returns the offset after it.
func (p *Parser) question(n *Name) (int, error) {
	off, err := ReadName(p.msg, p.off, n)
	if err != nil {
		if err == ErrShortName {
			err = ErrShortQuestion
		}
		return 0, err
	}
	if off+4 > len(p.msg) {
		return 0, ErrShortQuestion
	}
	return off + 4, nil
}

// SkipAllQuestions validates and skips the rest of the question section.
// The next record read is the first answer.
func (p *Parser) SkipAllQuestions() error {
	for {
		err := p.Question(nil)
		if err == ErrSectionDone {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// Answer reads the next answer record into h and returns its RDATA (a slice
// of the message). It returns ErrSectionDone after the last answer.
func (p *Parser) Answer(h *ResourceHeader) (rdata []byte, err error) {
	return p.resource(SectionAnswer, h, true)
}

// AnswerHeader reads the next answer record like Answer, validating its
// owner name without decoding it: h.Name is left as it was, and the name
// is at h.NameOffset for ReadName. Most owner names are a compression
// pointer to the question, which the caller already holds.
func (p *Parser) AnswerHeader(h *ResourceHeader) (rdata []byte, err error) {
	return p.resource(SectionAnswer, h, false)
}

// Authority reads the next authority record; see Answer.
func (p *Parser) Authority(h *ResourceHeader) (rdata []byte, err error) {
	return p.resource(SectionAuthority, h, true)
}

// Additional reads the next additional record (EDNS OPT included); see
// Answer.
func (p *Parser) Additional(h *ResourceHeader) (rdata []byte, err error) {
	return p.resource(SectionAdditional, h, true)
}

// Resource reads the next resource record of whichever section comes next,
// skipping any questions left, and reports its section. It returns
// ErrSectionDone (with SectionNone) after the last record of the message.
func (p *Parser) Resource(h *ResourceHeader) (Section, []byte, error) {
	if p.err != nil {
		return SectionNone, nil, p.err
	}
	if p.msg == nil {
		return SectionNone, nil, ErrNotStarted
	}
	for {
		if p.section == SectionQuestion {
			if err := p.SkipAllQuestions(); err != nil {
				return SectionNone, nil, err
			}
			continue
		}
		if p.section == SectionNone {
			return SectionNone, nil, ErrSectionDone
		}
		sec := p.section
		rdata, err := p.resource(sec, h, true)
		if err == ErrSectionDone {
			continue
		}
		return sec, rdata, err
	}
}

// resource reads the next record of section sec, first skipping whatever
// is left of earlier sections.
func (p *Parser) resource(sec Section, h *ResourceHeader, name bool) ([]byte, error) {
	if p.err != nil {
		return nil, p.err
	}
	if p.msg == nil {
		return nil, ErrNotStarted
	}
	for p.section != SectionNone && p.section < sec {
		if p.section == SectionQuestion {
			if err := p.SkipAllQuestions(); err != nil {
				return nil, err
			}
			continue
		}
		for p.left > 0 {
			if _, err := p.record(nil, false); err != nil {
				return nil, err
			}
		}
		p.advance()
	}
	if p.section != sec {
		return nil, ErrSectionDone
	}
	if p.left == 0 {
		p.advance()
		return nil, ErrSectionDone
	}
	return p.record(h, name)
}

// record reads one resource record at p.off (RFC 1035 section 4.1.3),
// decoding its owner name into h.Name if name is set.
func (p *Parser) record(h *ResourceHeader, name bool) ([]byte, error) {
	var n *Name
	if h != nil && name {
		n = &h.Name
	}
	nameOff := p.off
	off, err := ReadName(p.msg, p.off, n)
	if err != nil {
		if err == ErrShortName {
			err = ErrShortResource
		}
		p.err = err
		return nil, err
	}
	// TYPE(2) CLASS(2) TTL(4) RDLENGTH(2)
	if off+10 > len(p.msg) {
		p.err = ErrShortResource
		return nil, ErrShortResource
	}
	fixed := p.msg[off : off+10]
	rdlen := int(binary.BigEndian.Uint16(fixed[8:]))
	start := off + 10
	end := start + rdlen
	if end > len(p.msg) {
		p.err = ErrShortResource
		return nil, ErrShortResource
	}
	if h != nil {
		h.Type = binary.BigEndian.Uint16(fixed[0:])
		h.Class = binary.BigEndian.Uint16(fixed[2:])
		h.TTL = binary.BigEndian.Uint32(fixed[4:])
		h.Length = uint16(rdlen)
		h.DataOffset = start
		h.NameOffset = nameOff
	}
	p.off = end
	p.left--
	return p.msg[start:end:end], nil
}
