package zeek

// A dns.log writer for the tests, written from Zeek's documented behaviour
// (base/protocols/dns/main.zeek for what goes in each field, the ASCII
// writer for the TSV layout and escaping, the JSON writer for the JSON
// layout). It works from packets decoded by golang.org/x/net/dns/dnsmessage,
// independently of the code under test.

import (
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/net/dns/dnsmessage"
)

// info is one DNS::Info record.
type info struct {
	ts             time.Time
	uid            string
	orig, resp     netip.AddrPort
	proto          string
	transID        uint16
	rtt            time.Duration
	rttSet         bool
	query          []byte
	querySet       bool
	qclass, qtype  uint16
	qSet           bool
	rcode          uint8
	rcodeSet       bool
	aa, tc, rd, ra bool
	z              uint8
	answers        []string // nil: unset
	ttls           []float64
	rejected       bool
	// saw_query, saw_reply (not logged).
	sawQuery, sawReply bool
}

// zeekName renders a wire name the way Zeek's DNS analyzer does
// (DNS_Interpreter::ExtractName): labels joined by '.', no final dot,
// ASCII lower-cased; the root is the empty string.
func zeekName(n dnsmessage.Name) []byte {
	b := append([]byte(nil), n.Data[:n.Length]...)
	if len(b) >= 2 && b[len(b)-1] == '.' {
		b = b[:len(b)-1]
	} else if len(b) == 1 && b[0] == '.' {
		b = b[:0]
	}
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return b
}

// zeekAnswer describes an answer as main.zeek's dns_*_reply handlers do;
// ok is false when Zeek logs nothing for it (an empty reply string).
func zeekAnswer(h dnsmessage.ResourceHeader, body dnsmessage.ResourceBody) string {
	switch b := body.(type) {
	case *dnsmessage.AResource:
		return netip.AddrFrom4(b.A).String()
	case *dnsmessage.AAAAResource:
		return netip.AddrFrom16(b.AAAA).String()
	case *dnsmessage.CNAMEResource:
		return string(zeekName(b.CNAME))
	case *dnsmessage.NSResource:
		return string(zeekName(b.NS))
	case *dnsmessage.PTRResource:
		return string(zeekName(b.PTR))
	case *dnsmessage.MXResource:
		return string(zeekName(b.MX))
	case *dnsmessage.SRVResource:
		return string(zeekName(b.Target))
	case *dnsmessage.SOAResource:
		return string(zeekName(b.NS))
	case *dnsmessage.TXTResource:
		var parts []string
		for _, s := range b.TXT {
			parts = append(parts, fmt.Sprintf("TXT %d %s", len(s), s))
		}
		return strings.Join(parts, " ")
	}
	return fmt.Sprintf("<unknown type=%d>", h.Type)
}

// zeekLog pairs queries and responses as main.zeek does (per connection
// and transaction ID) and returns the records in the order Zeek writes
// them: a transaction when its response arrives, the unmatched ones when
// the connection is removed (here: at the end).
type zeekLog struct {
	pending map[[2]netip.AddrPort]map[uint16]*info
	uidOf   map[[2]netip.AddrPort]string
	out     []*info
	n       int
}

func newZeekLog() *zeekLog {
	return &zeekLog{pending: map[[2]netip.AddrPort]map[uint16]*info{}, uidOf: map[[2]netip.AddrPort]string{}}
}

// uid returns a connection's uid: "C" and 17 base62 digits, like Zeek's.
func (z *zeekLog) uid(conn [2]netip.AddrPort) string {
	if u, ok := z.uidOf[conn]; ok {
		return u
	}
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	z.n++
	x := uint64(z.n)*0x9e3779b97f4a7c15 + 12345
	var b [18]byte
	b[0] = 'C'
	for i := 1; i < len(b); i++ {
		b[i] = digits[x%62]
		x /= 62
		if x == 0 {
			x = uint64(z.n)*0xbf58476d1ce4e5b9 + uint64(i)
		}
	}
	z.uidOf[conn] = string(b[:])
	return z.uidOf[conn]
}

// message adds one DNS message seen at t from src to dst.
func (z *zeekLog) message(t time.Time, src, dst netip.AddrPort, msg []byte) error {
	var p dnsmessage.Parser
	h, err := p.Start(msg)
	if err != nil {
		return err
	}
	qs, err := p.AllQuestions()
	if err != nil {
		return err
	}
	conn := [2]netip.AddrPort{src, dst}
	if h.Response {
		conn = [2]netip.AddrPort{dst, src}
	}
	if z.pending[conn] == nil {
		z.pending[conn] = map[uint16]*info{}
	}
	in := z.pending[conn][h.ID]
	if in == nil {
		// new_session: ts is now; the originator is the side that sent
		// first, which for these exchanges is the client.
		in = &info{ts: t, uid: z.uid(conn), orig: conn[0], resp: conn[1], proto: "udp", transID: h.ID}
		z.pending[conn][h.ID] = in
	}
	if !h.Response {
		// dns_request.
		in.sawQuery = true
		in.rd, in.tc, in.z = h.RecursionDesired, h.Truncated, 0
		if len(qs) > 0 {
			in.query, in.querySet = zeekName(qs[0].Name), true
			in.qclass, in.qtype, in.qSet = uint16(qs[0].Class), uint16(qs[0].Type), true
		}
		return nil
	}
	// set_session for a reply, then do_reply for each answer.
	in.sawReply = true
	in.rcode, in.rcodeSet = uint8(h.RCode), true
	in.aa, in.ra = h.Authoritative, h.RecursionAvailable
	if h.RCode != 0 && len(qs) == 0 {
		in.rejected = true
	}
	if !in.querySet && len(qs) > 0 {
		// The query was not seen: the question comes from the reply.
		in.query, in.querySet = zeekName(qs[0].Name), true
		in.qclass, in.qtype, in.qSet = uint16(qs[0].Class), uint16(qs[0].Type), true
		in.rd = h.RecursionDesired
	}
	for {
		rh, err := p.AnswerHeader()
		if err == dnsmessage.ErrSectionDone {
			break
		}
		if err != nil {
			return err
		}
		var body dnsmessage.ResourceBody
		switch rh.Type {
		case dnsmessage.TypeA:
			r, err := p.AResource()
			if err != nil {
				return err
			}
			body = &r
		case dnsmessage.TypeAAAA:
			r, err := p.AAAAResource()
			if err != nil {
				return err
			}
			body = &r
		case dnsmessage.TypeCNAME:
			r, err := p.CNAMEResource()
			if err != nil {
				return err
			}
			body = &r
		case dnsmessage.TypeNS:
			r, err := p.NSResource()
			if err != nil {
				return err
			}
			body = &r
		case dnsmessage.TypePTR:
			r, err := p.PTRResource()
			if err != nil {
				return err
			}
			body = &r
		case dnsmessage.TypeMX:
			r, err := p.MXResource()
			if err != nil {
				return err
			}
			body = &r
		case dnsmessage.TypeSRV:
			r, err := p.SRVResource()
			if err != nil {
				return err
			}
			body = &r
		case dnsmessage.TypeTXT:
			r, err := p.TXTResource()
			if err != nil {
				return err
			}
			body = &r
		default:
			if err := p.SkipAnswer(); err != nil {
				return err
			}
		}
		// do_reply: rtt from the first answer on (0 means only the
		// reply was seen and stays unset).
		if !in.rttSet {
			if rtt := t.Sub(in.ts); rtt != 0 {
				in.rtt, in.rttSet = rtt, true
			}
		}
		if in.answers == nil {
			in.answers, in.ttls = []string{}, []float64{}
		}
		in.answers = append(in.answers, zeekAnswer(rh, body))
		in.ttls = append(in.ttls, float64(rh.TTL))
	}
	// dns_end: both seen, log it.
	if in.sawQuery && in.sawReply {
		z.out = append(z.out, in)
		delete(z.pending[conn], h.ID)
	}
	return nil
}

// finish logs what is still pending (finalize_dns), in arrival order.
func (z *zeekLog) finish() []*info {
	var rest []*info
	for _, m := range z.pending {
		for _, in := range m {
			rest = append(rest, in)
		}
	}
	// Deterministic: by time then uid.
	for i := 1; i < len(rest); i++ {
		for j := i; j > 0 && (rest[j].ts.Before(rest[j-1].ts) ||
			rest[j].ts.Equal(rest[j-1].ts) && rest[j].uid < rest[j-1].uid); j-- {
			rest[j], rest[j-1] = rest[j-1], rest[j]
		}
	}
	z.pending = map[[2]netip.AddrPort]map[uint16]*info{}
	return append(z.out, rest...)
}

// The default dns.log columns and their Zeek types.
var (
	tsvFields = []string{"ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "trans_id",
		"rtt", "query", "qclass", "qclass_name", "qtype", "qtype_name", "rcode", "rcode_name", "AA", "TC", "RD",
		"RA", "Z", "answers", "TTLs", "rejected"}
	tsvTypes = []string{"time", "string", "addr", "port", "addr", "port", "enum", "count", "interval", "string",
		"count", "string", "count", "string", "count", "string", "bool", "bool", "bool", "bool", "count",
		"vector[string]", "vector[interval]", "bool"}
)

// Names from base/protocols/dns/consts.zeek for the values the tests use.
func qclassName(c uint16) string {
	if c == 1 {
		return "C_INTERNET"
	}
	return fmt.Sprintf("unknown-%d", c)
}

func qtypeName(t uint16) string {
	names := map[uint16]string{1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 10: "NULL", 12: "PTR", 15: "MX", 16: "TXT",
		28: "AAAA", 33: "SRV", 65: "HTTPS"}
	if n, ok := names[t]; ok {
		return n
	}
	return fmt.Sprintf("query-%d", t)
}

func rcodeName(r uint8) string {
	names := []string{"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"}
	if int(r) < len(names) {
		return names[r]
	}
	return fmt.Sprintf("unknown-%d", r)
}

// tsvEscape escapes a string as ODesc::AddBytes does for the ASCII writer
// (without UTF-8 pass-through): unprintable bytes, backslashes and the
// separators as \xNN. inSet adds the set separator.
func tsvEscape(b []byte, inSet bool) string {
	if len(b) == 0 {
		return "(empty)"
	}
	if string(b) == "-" {
		return `\x2d`
	}
	var sb strings.Builder
	for _, c := range b {
		if c < 0x20 || c >= 0x7f || c == '\\' || c == '\t' || inSet && c == ',' {
			fmt.Fprintf(&sb, `\x%02x`, c)
			continue
		}
		sb.WriteByte(c)
	}
	return sb.String()
}

func tsvBool(b bool) string {
	if b {
		return "T"
	}
	return "F"
}

// zeekDouble formats time and interval values as the ASCII writer does
// (six decimals).
func zeekDouble(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 6, 64)
}

// writeTSV writes a TSV dns.log with one header block.
func writeTSV(w *bytes.Buffer, infos []*info, open time.Time) {
	w.WriteString("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n")
	fmt.Fprintf(w, "#open\t%s\n", open.Format("2006-01-02-15-04-05"))
	w.WriteString("#fields\t" + strings.Join(tsvFields, "\t") + "\n")
	w.WriteString("#types\t" + strings.Join(tsvTypes, "\t") + "\n")
	for _, in := range infos {
		f := make([]string, 0, len(tsvFields))
		unset := "-"
		opt := func(set bool, v string) string {
			if set {
				return v
			}
			return unset
		}
		f = append(f, zeekDouble(time.Duration(in.ts.UnixNano())), in.uid,
			in.orig.Addr().String(), strconv.Itoa(int(in.orig.Port())),
			in.resp.Addr().String(), strconv.Itoa(int(in.resp.Port())), in.proto,
			strconv.Itoa(int(in.transID)), opt(in.rttSet, zeekDouble(in.rtt)),
			opt(in.querySet, tsvEscape(in.query, false)),
			opt(in.qSet, strconv.Itoa(int(in.qclass))), opt(in.qSet, qclassName(in.qclass)),
			opt(in.qSet, strconv.Itoa(int(in.qtype))), opt(in.qSet, qtypeName(in.qtype)),
			opt(in.rcodeSet, strconv.Itoa(int(in.rcode))), opt(in.rcodeSet, rcodeName(in.rcode)),
			tsvBool(in.aa), tsvBool(in.tc), tsvBool(in.rd), tsvBool(in.ra), strconv.Itoa(int(in.z)))
		switch {
		case in.answers == nil:
			f = append(f, unset, unset)
		case len(in.answers) == 0:
			f = append(f, "(empty)", "(empty)")
		default:
			var as, ts []string
			for i, a := range in.answers {
				as = append(as, tsvEscape([]byte(a), true))
				ts = append(ts, zeekDouble(time.Duration(in.ttls[i]*float64(time.Second))))
			}
			f = append(f, strings.Join(as, ","), strings.Join(ts, ","))
		}
		f = append(f, tsvBool(in.rejected))
		w.WriteString(strings.Join(f, "\t") + "\n")
	}
	fmt.Fprintf(w, "#close\t%s\n", open.Add(time.Hour).Format("2006-01-02-15-04-05"))
}

// jsonString writes a JSON string as Zeek's JSON writer does: valid UTF-8
// kept, other bytes (and backslashes, as the ASCII writer) as the text
// \xNN, control characters as \u00NN.
func jsonString(b []byte) string {
	var sb strings.Builder
	sb.WriteByte('"')
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&sb, `\\x%02x`, b[0])
		case r == '\\':
			sb.WriteString(`\\x5c`)
		case r == '"':
			sb.WriteString(`\"`)
		case r < 0x20:
			fmt.Fprintf(&sb, `\u%04x`, r)
		default:
			sb.Write(b[:n])
		}
		b = b[n:]
	}
	sb.WriteByte('"')
	return sb.String()
}

// jsonDouble formats a double as the JSON writer does (shortest form with
// a decimal point).
func jsonDouble(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

// writeJSON writes a JSON dns.log; iso selects JSON::TS_ISO8601.
func writeJSON(w *bytes.Buffer, infos []*info, iso bool) {
	for _, in := range infos {
		var f []string
		add := func(k, v string) { f = append(f, `"`+k+`":`+v) }
		if iso {
			add("ts", `"`+in.ts.UTC().Format("2006-01-02T15:04:05.000000Z")+`"`)
		} else {
			add("ts", strconv.FormatFloat(float64(in.ts.UnixMicro())/1e6, 'f', 6, 64))
		}
		add("uid", jsonString([]byte(in.uid)))
		add("id.orig_h", `"`+in.orig.Addr().String()+`"`)
		add("id.orig_p", strconv.Itoa(int(in.orig.Port())))
		add("id.resp_h", `"`+in.resp.Addr().String()+`"`)
		add("id.resp_p", strconv.Itoa(int(in.resp.Port())))
		add("proto", `"`+in.proto+`"`)
		add("trans_id", strconv.Itoa(int(in.transID)))
		if in.rttSet {
			add("rtt", jsonDouble(in.rtt.Seconds()))
		}
		if in.querySet {
			add("query", jsonString(in.query))
		}
		if in.qSet {
			add("qclass", strconv.Itoa(int(in.qclass)))
			add("qclass_name", `"`+qclassName(in.qclass)+`"`)
			add("qtype", strconv.Itoa(int(in.qtype)))
			add("qtype_name", `"`+qtypeName(in.qtype)+`"`)
		}
		if in.rcodeSet {
			add("rcode", strconv.Itoa(int(in.rcode)))
			add("rcode_name", `"`+rcodeName(in.rcode)+`"`)
		}
		add("AA", strconv.FormatBool(in.aa))
		add("TC", strconv.FormatBool(in.tc))
		add("RD", strconv.FormatBool(in.rd))
		add("RA", strconv.FormatBool(in.ra))
		add("Z", strconv.Itoa(int(in.z)))
		if in.answers != nil {
			var as, ts []string
			for i, a := range in.answers {
				as = append(as, jsonString([]byte(a)))
				ts = append(ts, jsonDouble(in.ttls[i]))
			}
			add("answers", "["+strings.Join(as, ",")+"]")
			add("TTLs", "["+strings.Join(ts, ",")+"]")
		}
		add("rejected", strconv.FormatBool(in.rejected))
		w.WriteString("{" + strings.Join(f, ",") + "}\n")
	}
}
