package zeek

import (
	"bytes"
	"net/netip"
	"strings"

	"github.com/dnsieve/dnsieve/internal/analyze"
	"github.com/dnsieve/dnsieve/internal/engine"
	"github.com/dnsieve/dnsieve/internal/fingerprint"
	"github.com/dnsieve/dnsieve/internal/regdomain"
)

// DNS RR types and sizes used by the reconstruction (RFC 1035 section
// 3.2.2 and 4.1, RFC 3596, RFC 2782).
const (
	typeA     = 1
	typeNS    = 2
	typeCNAME = 5
	typeSOA   = 6
	typePTR   = 12
	typeMX    = 15
	typeTXT   = 16
	typeAAAA  = 28
	typeSRV   = 33
	typeDS    = 43
	typeRRSIG = 46
	typeNSEC  = 47
	typeKEY   = 48 // DNSKEY
	typeNSEC3 = 50
	typeN3P   = 51 // NSEC3PARAM
	typeSPF   = 99
	typeSSHFP = 44
	typeLOC   = 29

	headerLen = 12 // RFC 1035 section 4.1.1
	// rrFixed is an answer's TYPE, CLASS, TTL and RDLENGTH.
	rrFixed = 10
	// maxMessage bounds the reconstructed message (a DNS message over TCP
	// is at most 65535 bytes); answers beyond it are only counted.
	maxMessage = 65535
	// maxNameText bounds the query text used as the name (the longest
	// presentation of a 255-byte wire name is 253 bytes).
	maxNameText = 255
	// maxSuffixes bounds the compression table.
	maxSuffixes = 512
)

// Converter turns Records into engine Observations. It owns the buffers the
// Observations' Name and Labels point to (valid until the next call) and
// is not safe for concurrent use. It does not allocate in steady state
// (regdomain's cache aside, which allocates once per new suffix).
type Converter struct {
	split *regdomain.Splitter
	lens  [maxNameText + 1]uint8
	msg   []byte
	fm    fingerprint.Message
	comp  compressor
	// norm is the question name in the form the wire message spells it.
	norm []byte
	nlab []int
	// full: the message reached maxMessage; later answers are only sized.
	full bool
	tmp  []byte
	// dataRecs backs the response's DataRecords.
	dataRecs [engine.MaxDataRecords]engine.DataRecord
}

// NewConverter returns a Converter.
func NewConverter() *Converter {
	return &Converter{split: regdomain.New(0), msg: make([]byte, 0, 1024)}
}

// Observations describes rec as the engine would see the messages it
// summarises: q, the query, always; r, the response, when the log shows
// one (rcode set or answers present), in which case it returns true.
//
// The names, types, codes, flags and addresses are those logged. The
// message sizes are not logged by Zeek; Size and AnswerData are those of a
// wire message rebuilt from the record (see README.md, "Size estimates"):
// header, the question, and the answers Zeek describes, with names
// compressed as the usual servers do, without EDNS, authority or
// additional records. q.Match and r.Match come from fingerprint.Classify on
// that message. Time is ts for the query and ts+rtt for the response (ts
// when rtt is unset). File and Flagged are left zero for the caller.
func (c *Converter) Observations(rec *Record, q, r *engine.Observation) (hasResponse bool) {
	name := rec.Query
	if len(name) > maxNameText {
		name = name[:maxNameText]
	}
	if len(name) > 1 && name[len(name)-1] == '.' {
		name = name[:len(name)-1]
	}
	*q = engine.Observation{
		Time:   rec.Time.UnixNano(),
		Client: rec.Client.Addr(),
		Server: rec.Server.Addr(),
		QType:  rec.QType,
	}
	var labels []uint8
	if rec.Query != nil {
		k := 0
		if len(name) > 0 {
			start := 0
			for i := 0; i <= len(name); i++ {
				if i == len(name) || name[i] == '.' {
					c.lens[k] = uint8(i - start)
					k++
					start = i + 1
				}
			}
		}
		labels = c.lens[:k]
		lower, start := c.split.Split(name, labels)
		q.Name, q.Labels, q.RegStart = lower, labels, start
		upper, low := false, false
		for _, ch := range name {
			upper = upper || 'A' <= ch && ch <= 'Z'
			low = low || 'a' <= ch && ch <= 'z'
		}
		q.MixedCase = upper && low
	}

	// The query.
	var flags uint16
	if rec.RD {
		flags |= 0x0100
	}
	qflags := flags
	if rec.TC {
		qflags |= 0x0200
	}
	c.norm, c.nlab = normalize(c.norm[:0], c.nlab[:0], name)
	qclass := rec.QClass
	if qclass == 0 {
		qclass = 1
	}
	c.start(rec.TransID, qflags, rec.Query != nil, rec.QType, qclass)
	q.Size = len(c.msg)
	q.Match = c.classify(q, name, labels)

	if !rec.RCodeSet && len(rec.Answers) == 0 {
		return false
	}
	*r = *q
	r.Response = true
	r.RCode = rec.RCode
	if rec.RTTSet {
		r.Time += int64(rec.RTT)
	}
	rflags := flags | 0x8000 | uint16(rec.RCode&0x0f)
	if rec.AA {
		rflags |= 0x0400
	}
	if rec.RA {
		rflags |= 0x0080
	}
	c.start(rec.TransID, rflags, rec.Query != nil, rec.QType, qclass)
	extra := 0
	ancount := 0
	// Answer content counts except under an underscore label (service
	// metadata) and in zone transfers (IXFR 251, AXFR 252) and ANY (255),
	// as in the packet analysis.
	metaData := !(len(r.Name) > 0 && r.Name[0] == '_') && rec.QType != 251 && rec.QType != 252 && rec.QType != 255
	for i, a := range rec.Answers {
		var ttl float64
		if i < len(rec.TTLs) {
			ttl = rec.TTLs[i]
		}
		n, typ, addr := c.answer(a, rec.QType, qclass, ttl)
		if n > 0 && metaData {
			// The RDATA just appended: its content, as the packet
			// analysis reads it.
			if dn, h := analyze.DataAnswer(typ, c.msg[len(c.msg)-n:]); dn > 0 {
				r.AddDataRecord(&c.dataRecs, dn, h)
			}
		}
		if n < 0 {
			// Beyond the message limit: only sized.
			n = -n
			extra += 2 + rrFixed + n
		} else {
			ancount++
		}
		r.AnswerData += n
		if addr.Is4() {
			r.AddAnswerV4(addr.As4()[0])
		}
		if !r.Answer.IsValid() && addr.IsValid() {
			r.Answer = addr
		}
	}
	c.msg[6], c.msg[7] = byte(ancount>>8), byte(ancount)
	r.Size = len(c.msg) + extra
	r.Match = c.classify(r, name, labels)
	return true
}

// classify runs the fingerprints on the message in c.msg, as the packet
// analyzer does (analyze.describe).
func (c *Converter) classify(o *engine.Observation, raw []byte, labels []uint8) fingerprint.Match {
	if o.Name == nil {
		return fingerprint.Match{}
	}
	fm := &c.fm
	*fm = fingerprint.Message{Response: o.Response, QType: o.QType, RCode: o.RCode, Msg: c.msg, Zone: o.Name[o.RegStart:]}
	if o.RegStart > 1 {
		fm.Sub = raw[:o.RegStart-1]
		fm.SubLabels = labels[:subLabels(labels, o.RegStart)]
	}
	return fingerprint.Classify(fm)
}

// subLabels counts the labels that lie left of the byte offset start.
func subLabels(lens []uint8, start int) int {
	off := 0
	for i, l := range lens {
		if off >= start {
			return i
		}
		off += int(l) + 1
	}
	return len(lens)
}

// normalize prepares a name for the wire: labels split at '.', empty
// labels dropped, labels over 63 bytes cut into 63-byte pieces, and no more
// labels than fit in 255 bytes (RFC 1035 section 2.3.4). It appends the
// result, labels joined by '.', to norm and the label start offsets to
// labs.
func normalize(norm []byte, labs []int, name []byte) ([]byte, []int) {
	wire := 1
	for len(name) > 0 {
		i := bytes.IndexByte(name, '.')
		if i < 0 {
			i = len(name)
		}
		label := name[:i]
		name = name[min(i+1, len(name)):]
		for len(label) > 0 {
			n := min(len(label), 63)
			if wire+1+n > 255 {
				return norm, labs
			}
			wire += 1 + n
			if len(norm) > 0 {
				norm = append(norm, '.')
			}
			labs = append(labs, len(norm))
			norm = append(norm, label[:n]...)
			label = label[n:]
		}
	}
	return norm, labs
}

// start writes the header and the question (from c.norm) into c.msg.
func (c *Converter) start(id, flags uint16, question bool, qtype, qclass uint16) {
	qd := byte(0)
	if question {
		qd = 1
	}
	c.msg = append(c.msg[:0], byte(id>>8), byte(id), byte(flags>>8), byte(flags), 0, qd, 0, 0, 0, 0, 0, 0)
	c.comp.reset()
	c.full = false
	if !question {
		return
	}
	c.msg = c.comp.pack(c.msg, c.norm, c.nlab, true)
	c.msg = append(c.msg, byte(qtype>>8), byte(qtype), byte(qclass>>8), byte(qclass))
}

// answer appends one answer record for Zeek's description a of it and
// returns its RDATA length, negated when the record did not fit in the
// message and was only sized, its type, and the address of an A/AAAA
// answer.
func (c *Converter) answer(a string, qtype, class uint16, ttlSec float64) (int, uint16, netip.Addr) {
	typ, addr := answerType(a, qtype)
	if c.full {
		return -c.estimateRDATA(a, typ), typ, addr
	}
	ttl := uint32(0)
	switch {
	case ttlSec >= 4294967295:
		ttl = 4294967295
	case ttlSec > 0:
		ttl = uint32(ttlSec)
	}
	start := len(c.msg)
	// The owner: a pointer to the question name (RFC 1035 section 4.1.4),
	// or the root when there is no question.
	if c.msg[5] == 1 {
		c.msg = append(c.msg, 0xc0, headerLen)
	} else {
		c.msg = append(c.msg, 0)
	}
	c.msg = append(c.msg, byte(typ>>8), byte(typ), byte(class>>8), byte(class),
		byte(ttl>>24), byte(ttl>>16), byte(ttl>>8), byte(ttl), 0, 0)
	rdStart := len(c.msg)
	switch typ {
	case typeA:
		b := addr.As4()
		c.msg = append(c.msg, b[:]...)
	case typeAAAA:
		b := addr.As16()
		c.msg = append(c.msg, b[:]...)
	case typeTXT, typeSPF:
		c.msg = appendTXT(c.msg, a)
	case typeCNAME, typeNS, typePTR:
		c.msg = c.packText(c.msg, a, true)
	case typeMX:
		c.msg = append(c.msg, 0, 10) // the preference is not logged
		c.msg = c.packText(c.msg, a, true)
	case typeSRV:
		// Priority, weight and port are not logged; the target is not
		// compressed (RFC 2782).
		c.msg = append(c.msg, 0, 0, 0, 0, 0, 0)
		c.msg = c.packText(c.msg, a, false)
	case typeSOA:
		// Zeek logs MNAME only: RNAME is taken as the root, then the five
		// 32-bit counters (RFC 1035 section 3.3.13).
		c.msg = c.packText(c.msg, a, true)
		c.msg = append(c.msg, 0)
		c.msg = append(c.msg, zero20[:]...)
	}
	n := len(c.msg) - rdStart
	if len(c.msg) > maxMessage {
		c.msg = c.msg[:start]
		c.comp.truncate(start)
		c.full = true
		return -n, typ, addr
	}
	c.msg[rdStart-2], c.msg[rdStart-1] = byte(n>>8), byte(n)
	return n, typ, addr
}

// zero20 is SOA's five counters.
var zero20 [20]byte

// packText packs a name given as text.
func (c *Converter) packText(msg []byte, text string, compress bool) []byte {
	p := &c.comp
	p.tmpText = append(p.tmpText[:0], text...)
	if len(p.tmpText) > 1 && p.tmpText[len(p.tmpText)-1] == '.' {
		p.tmpText = p.tmpText[:len(p.tmpText)-1]
	}
	p.tmpNorm, p.tmpLab = normalize(p.tmpNorm[:0], p.tmpLab[:0], p.tmpText)
	return p.pack(msg, p.tmpNorm, p.tmpLab, compress)
}

// appendTXT appends the character-strings of a TXT (or SPF) answer as Zeek
// describes it: "TXT <len> <bytes>" per string, joined by spaces (the
// length makes spaces inside a string unambiguous). A description that
// does not follow this form is taken as one text cut into 255-byte
// strings.
func appendTXT(msg []byte, a string) []byte {
	start := len(msg)
	s := a
	for {
		if len(s) < 4 || (s[:4] != "TXT " && s[:4] != "SPF ") {
			break
		}
		s = s[4:]
		j := strings.IndexByte(s, ' ')
		if j <= 0 {
			break
		}
		n, ok := parseUint([]byte(s[:j]), 255)
		if !ok || int(n) > len(s)-j-1 {
			break
		}
		msg = append(msg, byte(n))
		msg = append(msg, s[j+1:j+1+int(n)]...)
		s = s[j+1+int(n):]
		if s == "" {
			return msg
		}
		if s[0] != ' ' {
			break
		}
		s = s[1:]
	}
	msg = msg[:start]
	for len(a) > 0 {
		n := min(len(a), 255)
		msg = append(msg, byte(n))
		msg = append(msg, a[:n]...)
		a = a[n:]
	}
	if len(msg) == start {
		msg = append(msg, 0)
	}
	return msg
}

// answerType infers the RR type of an answer from Zeek's description of it
// (base/protocols/dns/main.zeek: an address for A and AAAA, "TXT n s" for
// TXT, "<unknown type=N>", fixed prefixes for the DNSSEC types, and a bare
// name for NS, CNAME, PTR, MX, SOA and SRV, which the question type then
// tells apart: a name answering an A query is a CNAME).
func answerType(a string, qtype uint16) (uint16, netip.Addr) {
	if addr, ok := parseIPv4(a); ok {
		return typeA, addr
	}
	if strings.IndexByte(a, ':') >= 0 && len(a) <= 45 && !strings.HasPrefix(a, "SSHFP:") && !strings.HasPrefix(a, "LOC:") {
		if addr, err := netip.ParseAddr(a); err == nil && addr.Zone() == "" {
			if addr.Is4() {
				return typeA, addr
			}
			return typeAAAA, addr
		}
	}
	switch {
	case strings.HasPrefix(a, "TXT "):
		return typeTXT, netip.Addr{}
	case strings.HasPrefix(a, "SPF "):
		return typeSPF, netip.Addr{}
	case strings.HasPrefix(a, "<unknown type="):
		if n, ok := parseUint([]byte(strings.TrimSuffix(a[len("<unknown type="):], ">")), 65535); ok {
			return uint16(n), netip.Addr{}
		}
		return 0, netip.Addr{}
	case strings.HasPrefix(a, "RRSIG "):
		return typeRRSIG, netip.Addr{}
	case strings.HasPrefix(a, "DNSKEY "):
		return typeKEY, netip.Addr{}
	case strings.HasPrefix(a, "NSEC "):
		return typeNSEC, netip.Addr{}
	case a == "NSEC3":
		return typeNSEC3, netip.Addr{}
	case a == "NSEC3PARAM":
		return typeN3P, netip.Addr{}
	case strings.HasPrefix(a, "DS "):
		return typeDS, netip.Addr{}
	case strings.HasPrefix(a, "SSHFP:"):
		return typeSSHFP, netip.Addr{}
	case strings.HasPrefix(a, "LOC:"):
		return typeLOC, netip.Addr{}
	}
	if strings.IndexByte(a, ' ') >= 0 {
		// Not a name: a description this code does not know.
		return 0, netip.Addr{}
	}
	switch qtype {
	case typeNS, typePTR, typeMX, typeSRV, typeSOA:
		return qtype, netip.Addr{}
	}
	return typeCNAME, netip.Addr{}
}

// estimateRDATA sizes an answer that is not written: names uncompressed.
func (c *Converter) estimateRDATA(a string, typ uint16) int {
	switch typ {
	case typeA:
		return 4
	case typeAAAA:
		return 16
	case typeTXT, typeSPF:
		c.tmp = appendTXT(c.tmp[:0], a)
		return len(c.tmp)
	case typeCNAME, typeNS, typePTR:
		return len(a) + 2
	case typeMX:
		return len(a) + 4
	case typeSRV:
		return len(a) + 8
	case typeSOA:
		return len(a) + 23
	}
	return 0
}

// parseIPv4 parses dotted-quad IPv4 without allocating on failure.
func parseIPv4(s string) (netip.Addr, bool) {
	var b [4]byte
	k, n, digits := 0, 0, 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if digits == 0 || k == 4 {
				return netip.Addr{}, false
			}
			b[k] = byte(n)
			k++
			n, digits = 0, 0
			continue
		}
		c := s[i]
		if c < '0' || c > '9' || digits == 3 || (digits == 1 && n == 0) {
			return netip.Addr{}, false
		}
		n = n*10 + int(c-'0')
		digits++
		if n > 255 {
			return netip.Addr{}, false
		}
	}
	if k != 4 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(b), true
}

// compressor implements RFC 1035 section 4.1.4 name compression the way
// golang.org/x/net/dns/dnsmessage (and most servers) do it: every suffix of
// every compressible name already written can be pointed to, and a name is
// written up to its longest suffix already present. Suffixes are found
// through a small open-addressing table of hashes.
type compressor struct {
	table   [2 * maxSuffixes]int16 // index+1 into entries, 0: empty
	entries []suffixEntry
	text    []byte // the texts of the suffixes recorded
	tmpText []byte
	tmpNorm []byte
	tmpLab  []int
	hashes  []uint64
}

type suffixEntry struct {
	hash       uint64
	off        int // offset in the message
	start, end int // the suffix text in text
	slot       int // its place in table
}

// reset empties the table, clearing only the slots in use.
func (p *compressor) reset() {
	for _, e := range p.entries {
		p.table[e.slot] = 0
	}
	p.entries = p.entries[:0]
	p.text = p.text[:0]
}

// truncate forgets the suffixes recorded at or after message offset off.
func (p *compressor) truncate(off int) {
	keep := 0
	for _, e := range p.entries {
		if e.off < off {
			keep++
		}
	}
	if keep == len(p.entries) {
		return
	}
	// Entries are recorded in message order: keep the prefix and rebuild
	// the table.
	p.entries = p.entries[:keep]
	clear(p.table[:])
	for i := range p.entries {
		p.entries[i].slot = p.insert(p.entries[i].hash, i)
	}
}

// insert places entry idx in the table and returns its slot.
func (p *compressor) insert(h uint64, idx int) int {
	mask := uint64(len(p.table) - 1)
	for j := h & mask; ; j = (j + 1) & mask {
		if p.table[j] == 0 {
			p.table[j] = int16(idx + 1)
			return int(j)
		}
	}
}

// pack appends the name whose labels are norm[labs[i]:...] (joined by '.')
// to msg, compressing it against earlier names when compress is set, and
// records its suffixes.
func (p *compressor) pack(msg []byte, norm []byte, labs []int, compress bool) []byte {
	// Suffix hashes, right to left, each from its first label (FNV-1a)
	// and the hash of the suffix after it: linear in the name.
	p.hashes = p.hashes[:0]
	if compress {
		for range labs {
			p.hashes = append(p.hashes, 0)
		}
		h := uint64(14695981039346656037)
		end := len(norm)
		for i := len(labs) - 1; i >= 0; i-- {
			h = h*1099511628211 ^ uint64(end-labs[i])
			for _, ch := range norm[labs[i]:end] {
				h ^= uint64(ch)
				h *= 1099511628211
			}
			p.hashes[i] = h
			end = labs[i] - 1
		}
	}
	mask := uint64(len(p.table) - 1)
	textBase := -1 // where norm is in p.text, once recorded
	for i, ls := range labs {
		suf := norm[ls:]
		if compress {
			h := p.hashes[i]
			for j := h & mask; p.table[j] != 0; j = (j + 1) & mask {
				e := &p.entries[p.table[j]-1]
				if e.hash == h && bytes.Equal(p.text[e.start:e.end], suf) {
					return append(msg, 0xc0|byte(e.off>>8), byte(e.off))
				}
			}
			if off := len(msg); off <= 0x3fff && len(p.entries) < maxSuffixes {
				if textBase < 0 {
					textBase = len(p.text)
					p.text = append(p.text, norm...)
				}
				p.entries = append(p.entries, suffixEntry{hash: h, off: off, start: textBase + ls, end: textBase + len(norm)})
				p.entries[len(p.entries)-1].slot = p.insert(h, len(p.entries)-1)
			}
		}
		end := len(norm)
		if i+1 < len(labs) {
			end = labs[i+1] - 1
		}
		msg = append(msg, byte(end-ls))
		msg = append(msg, norm[ls:end]...)
	}
	return append(msg, 0)
}
