package traffic

import (
	"encoding/binary"
	"strings"
)

// DNS constants (RFC 1035 section 3.2, RFC 3596, RFC 6891, RFC 9460).
const (
	typeA     = 1
	typeNS    = 2
	typeCNAME = 5
	typeNULL  = 10
	typePTR   = 12
	typeMX    = 15
	typeTXT   = 16
	typeAAAA  = 28
	typeSRV   = 33
	typeOPT   = 41
	typeHTTPS = 65

	rcodeNoError  = 0
	rcodeServFail = 2
	rcodeNXDomain = 3
)

// msgBuilder writes one DNS message by hand, compressing names the way
// servers do (RFC 1035 section 4.1.4): a name, or its longest suffix,
// already written is replaced by a pointer.
type msgBuilder struct {
	b    []byte
	comp []compEntry
	an   int
	ar   int
}

type compEntry struct {
	suffix string
	off    int
}

func (m *msgBuilder) start(buf []byte, id, flags uint16) {
	m.b = append(buf[:0], 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0)
	binary.BigEndian.PutUint16(m.b[0:], id)
	binary.BigEndian.PutUint16(m.b[2:], flags)
	m.comp = m.comp[:0]
	m.an, m.ar = 0, 0
}

// name writes a name (labels joined by '.', no trailing dot).
func (m *msgBuilder) name(s string) {
	for s != "" {
		for _, c := range m.comp {
			if c.suffix == s {
				m.b = append(m.b, 0xC0|byte(c.off>>8), byte(c.off))
				return
			}
		}
		if len(m.b) < 0x3FFF {
			m.comp = append(m.comp, compEntry{s, len(m.b)})
		}
		label := s
		rest := ""
		if i := strings.IndexByte(s, '.'); i >= 0 {
			label, rest = s[:i], s[i+1:]
		}
		m.b = append(m.b, byte(len(label)))
		m.b = append(m.b, label...)
		s = rest
	}
	m.b = append(m.b, 0)
}

func (m *msgBuilder) u16(v uint16) { m.b = binary.BigEndian.AppendUint16(m.b, v) }
func (m *msgBuilder) u32(v uint32) { m.b = binary.BigEndian.AppendUint32(m.b, v) }

func (m *msgBuilder) question(name string, qtype uint16) {
	m.name(name)
	m.u16(qtype)
	m.u16(1) // IN
}

// rr starts an answer record; the caller appends RDATA and calls end.
func (m *msgBuilder) rr(name string, typ uint16, ttl uint32) int {
	m.name(name)
	m.u16(typ)
	m.u16(1)
	m.u32(ttl)
	m.u16(0)
	m.an++
	return len(m.b)
}

func (m *msgBuilder) end(start int) {
	binary.BigEndian.PutUint16(m.b[start-2:], uint16(len(m.b)-start))
}

// opt appends an EDNS(0) OPT pseudo-record (RFC 6891) advertising a
// 1232-byte payload.
func (m *msgBuilder) opt() {
	m.b = append(m.b, 0, 0, typeOPT, 0x04, 0xD0, 0, 0, 0, 0, 0, 0)
	m.ar++
}

func (m *msgBuilder) finish() []byte {
	binary.BigEndian.PutUint16(m.b[6:], uint16(m.an))
	binary.BigEndian.PutUint16(m.b[10:], uint16(m.ar))
	return m.b
}
