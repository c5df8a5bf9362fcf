package zeek

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// result is one outcome of Next: a record or an error.
type result struct {
	rec Record
	err error
}

// readResults reads everything, copying the aliased slices.
func readResults(t *testing.T, data []byte) ([]result, *Reader) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data), "test.log")
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	var out []result
	for i := 0; i < 10000; i++ {
		var rec Record
		err := r.Next(&rec)
		if err == io.EOF {
			if again := r.Next(&rec); again != io.EOF {
				t.Errorf("Next after EOF: %v", again)
			}
			return out, r
		}
		rec.Query = cloneNil(rec.Query)
		if rec.Answers != nil {
			rec.Answers = append([]string{}, rec.Answers...)
		}
		if rec.TTLs != nil {
			rec.TTLs = append([]float64{}, rec.TTLs...)
		}
		out = append(out, result{rec, err})
		var le *LineError
		if err != nil && !errors.As(err, &le) {
			return out, r
		}
	}
	t.Fatal("no EOF")
	return nil, nil
}

func cloneNil(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// checkResults compares outcomes: records exactly, errors by line and
// sentinel.
func checkResults(t *testing.T, got []result, want []result) {
	t.Helper()
	if len(got) != len(want) {
		for _, g := range got {
			t.Logf("got %+v %v", g.rec, g.err)
		}
		t.Fatalf("%d results, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if w.err != nil {
			var le *LineError
			if !errors.As(g.err, &le) || !errors.Is(g.err, w.err) || le.Line != w.rec.Line {
				t.Errorf("result %d: error %v, want a LineError at line %d wrapping %v", i, g.err, w.rec.Line, w.err)
			}
			continue
		}
		if g.err != nil {
			t.Errorf("result %d: %v", i, g.err)
			continue
		}
		if !reflect.DeepEqual(g.rec, w.rec) {
			t.Errorf("result %d:\n got %+v\nwant %+v", i, g.rec, w.rec)
		}
	}
}

const tsvHeader = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n#open\t2024-01-01-00-00-00\n" +
	"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt\tquery\tqclass\tqclass_name\tqtype\tqtype_name\trcode\trcode_name\tAA\tTC\tRD\tRA\tZ\tanswers\tTTLs\trejected\n" +
	"#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tcount\tinterval\tstring\tcount\tstring\tcount\tstring\tcount\tstring\tbool\tbool\tbool\tbool\tcount\tvector[string]\tvector[interval]\tbool\n"

func TestTSV(t *testing.T) {
	tab := func(f ...string) string { return strings.Join(f, "\t") + "\n" }
	log := tsvHeader +
		// 9: every field set.
		tab("1704067200.123456", "CHhAvVGS1DHFjwGM9", "192.0.2.10", "40001", "192.0.2.53", "53", "udp", "4103", "0.012345",
			"www.example.com", "1", "C_INTERNET", "1", "A", "0", "NOERROR", "T", "F", "T", "T", "0",
			"www.example.com.cdn.example.net,104.16.1.1", "300.000000,60.500000", "F") +
		// 10: escapes: \x09 in the name, \x5c, \xff, \x2c inside a set
		// element, \x2d for a lone "-", a "-" inside a name, set to "(empty)".
		tab("1704067201.5", "C2", "2001:db8::10", "41000", "2001:db8::53", "53", "tcp", "65535", "1",
			`tab\x09here.back\x5cslash.\xffa.x-y.example.com`, "1", "C_INTERNET", "16", "TXT", "3", "NXDOMAIN", "F", "T", "F", "F", "0",
			`TXT 4 a\x2cb\x2c,\x2d`, "1.000000,2.000000", "T") +
		// 11: unset everything optional; empty answers; empty query (root).
		tab("1704067202.000000", "C3", "192.0.2.11", "5353", "224.0.0.251", "5353", "udp", "-", "-",
			"(empty)", "-", "-", "-", "-", "-", "-", "F", "F", "F", "F", "0", "(empty)", "(empty)", "F") +
		// 12: query unset.
		tab("1704067203", "C4", "192.0.2.12", "1", "192.0.2.53", "53", "udp", "0", "-",
			"-", "-", "-", "-", "-", "0", "NOERROR", "F", "F", "F", "F", "0", "-", "-", "T") +
		"garbage line\n" + // 13: wrong field count
		tab("notatime", "C5", "192.0.2.12", "1", "192.0.2.53", "53", "udp", "0", "-", // 14: bad ts
			"-", "-", "-", "-", "-", "0", "NOERROR", "F", "F", "F", "F", "0", "-", "-", "F") +
		tab("1704067204", "C6", "192.0.2.300", "1", "192.0.2.53", "53", "udp", "0", "-", // 15: bad address
			"-", "-", "-", "-", "-", "0", "NOERROR", "F", "F", "F", "F", "0", "-", "-", "F") +
		tab("1704067204", "C7", "192.0.2.1", "1", "192.0.2.53", "53", "udp", "70000", "-", // 16: trans_id > 65535
			"-", "-", "-", "-", "-", "0", "NOERROR", "F", "F", "F", "F", "0", "-", "-", "F") +
		tab("1704067204", "C8", "192.0.2.1", "1", "192.0.2.53", "53", "udp", "1", "-", // 17: bad bool
			"-", "-", "-", "-", "-", "0", "NOERROR", "X", "F", "F", "F", "0", "-", "-", "F") +
		"\n" + // 18: blank
		"#close\t2024-01-01-01-00-00\n" + // 19
		// A second block, '|' separated, ';' set separator, other unset
		// and empty markers, columns reordered, an extra column, CRLF.
		"#separator \\x7c\r\n" + // 20
		"#set_separator|;\r\n" + // 21
		"#empty_field|EMPTY\r\n" + // 22
		"#unset_field|NONE\r\n" + // 23
		"#path|dns\r\n" + // 24
		"#fields|query|ts|extra|answers|TTLs|rcode|id.orig_h|id.orig_p|id.resp_h|id.resp_p\r\n" + // 25
		"a\\x7cb.example.com|1704067205.000001|whatever|1.2.3.4;5.6.7.8|1;2|0|192.0.2.13|7|192.0.2.53|53\r\n" + // 26
		"NONE|1704067206|x|EMPTY|EMPTY|NONE|192.0.2.13|7|192.0.2.53|53\r\n" + // 27
		// A block of another stream is skipped.
		"#separator \\x09\n#path\tconn\n#fields\tts\tuid\n1704067207\tCX\n" + // 28-31
		// Back to dns, default columns; a truncated last line.
		"#separator \\x09\n#path\tdns\n" + // 32, 33
		"1704067208.000000\tC9\t192.0.2.10\t40001\t192.0.2.53" // 34, no newline

	want := []result{
		{rec: Record{Time: ts("2024-01-01T00:00:00.123456Z"), UID: "CHhAvVGS1DHFjwGM9", Client: ap("192.0.2.10:40001"),
			Server: ap("192.0.2.53:53"), Proto: "udp", TransID: 4103, Query: []byte("www.example.com"), QClass: 1,
			QType: 1, QTypeSet: true, RCode: 0, RCodeSet: true, AA: true, RD: true, RA: true,
			Answers: []string{"www.example.com.cdn.example.net", "104.16.1.1"}, TTLs: []float64{300, 60.5},
			RTT: 12345 * time.Microsecond, RTTSet: true, Line: 9}},
		{rec: Record{Time: ts("2024-01-01T00:00:01.5Z"), UID: "C2", Client: ap("[2001:db8::10]:41000"),
			Server: ap("[2001:db8::53]:53"), Proto: "tcp", TransID: 65535, Query: []byte("tab\there.back\\slash.\xffa.x-y.example.com"),
			QClass: 1, QType: 16, QTypeSet: true, RCode: 3, RCodeSet: true, TC: true, Rejected: true,
			Answers: []string{"TXT 4 a,b,", "-"}, TTLs: []float64{1, 2}, RTT: time.Second, RTTSet: true, Line: 10}},
		{rec: Record{Time: ts("2024-01-01T00:00:02Z"), UID: "C3", Client: ap("192.0.2.11:5353"), Server: ap("224.0.0.251:5353"),
			Proto: "udp", Query: []byte{}, Answers: []string{}, TTLs: []float64{}, Line: 11}},
		{rec: Record{Time: ts("2024-01-01T00:00:03Z"), UID: "C4", Client: ap("192.0.2.12:1"), Server: ap("192.0.2.53:53"),
			Proto: "udp", RCodeSet: true, Rejected: true, Line: 12}},
		{rec: Record{Line: 13}, err: ErrFieldCount},
		{rec: Record{Line: 14}, err: ErrValue},
		{rec: Record{Line: 15}, err: ErrValue},
		{rec: Record{Line: 16}, err: ErrValue},
		{rec: Record{Line: 17}, err: ErrValue},
		{rec: Record{Time: ts("2024-01-01T00:00:05.000001Z"), Client: ap("192.0.2.13:7"), Server: ap("192.0.2.53:53"),
			Query: []byte("a|b.example.com"), Answers: []string{"1.2.3.4", "5.6.7.8"}, TTLs: []float64{1, 2},
			RCodeSet: true, Line: 26}},
		{rec: Record{Time: ts("2024-01-01T00:00:06Z"), Client: ap("192.0.2.13:7"), Server: ap("192.0.2.53:53"),
			Answers: []string{}, TTLs: []float64{}, Line: 27}},
		{rec: Record{Line: 34}, err: ErrTruncatedLine},
	}
	got, r := readResults(t, []byte(log))
	checkResults(t, got, want)
	if r.BadLines() != 6 || r.Records() != 6 || r.Skipped() != 1 || r.Format() != FormatTSV {
		t.Errorf("BadLines %d Records %d Skipped %d Format %v, want 6 6 1 tsv", r.BadLines(), r.Records(), r.Skipped(), r.Format())
	}
}

func TestTSVWithoutHeader(t *testing.T) {
	line := "1704067200.000000\tC1\t192.0.2.10\t40001\t192.0.2.53\t53\tudp\t7\t-\texample.com\t1\tC_INTERNET\t1\tA\t-\t-\tF\tF\tT\tF\t0\t-\t-\tF\n"
	got, _ := readResults(t, []byte(line))
	checkResults(t, got, []result{{rec: Record{Time: ts("2024-01-01T00:00:00Z"), UID: "C1", Client: ap("192.0.2.10:40001"),
		Server: ap("192.0.2.53:53"), Proto: "udp", TransID: 7, Query: []byte("example.com"), QClass: 1, QType: 1, QTypeSet: true,
		RD: true, Line: 1}}})
}

func TestHeaderErrors(t *testing.T) {
	log := "#separator \\x09\n" +
		"#fields\tuid\tquery\n" + // 2: no ts
		"x\ty\n" + // 3: skipped with its block
		"#separator \n" + // 4: empty separator
		"1\t2\n" + // 5: skipped
		"#separator \\x09\n" +
		"#set_separator\t\n" + // 7: empty value
		"1704067200\tC1\t192.0.2.1\t1\t192.0.2.2\t53\tudp\t1\t-\ta.b\t-\t-\t-\t-\t-\t-\tF\tF\tF\tF\t0\t-\t-\tF\n" // 8
	got, r := readResults(t, []byte(log))
	checkResults(t, got, []result{
		{rec: Record{Line: 2}, err: ErrHeader},
		{rec: Record{Line: 4}, err: ErrHeader},
		{rec: Record{Line: 7}, err: ErrHeader},
		{rec: Record{Time: ts("2024-01-01T00:00:00Z"), UID: "C1", Client: ap("192.0.2.1:1"), Server: ap("192.0.2.2:53"),
			Proto: "udp", TransID: 1, Query: []byte("a.b"), Line: 8}},
	})
	if r.Skipped() != 2 {
		t.Errorf("Skipped %d, want 2", r.Skipped())
	}
}

func TestJSON(t *testing.T) {
	log := strings.Join([]string{
		// 1: every field, epoch ts, escapes: \\x (Zeek's byte escape), \t, \u, a surrogate pair.
		`{"ts":1704067200.123456,"uid":"CHhAvVGS1DHFjwGM9","id.orig_h":"192.0.2.10","id.orig_p":40001,"id.resp_h":"192.0.2.53","id.resp_p":53,"proto":"udp","trans_id":4103,"rtt":0.012345,"query":"tab\there.\\xffa.\u00e9\ud83d\ude00.example.com","qclass":1,"qclass_name":"C_INTERNET","qtype":16,"qtype_name":"TXT","rcode":0,"rcode_name":"NOERROR","AA":true,"TC":false,"RD":true,"RA":true,"Z":0,"answers":["TXT 3 a\"b","1.2.3.4"],"TTLs":[300.0,6e1],"rejected":false}`,
		// 2: ISO 8601 ts, unset fields omitted, unknown nested members, nulls.
		` { "ts" : "2024-01-01T00:00:01.5Z" , "uid":"C2", "id.orig_h":"2001:db8::1", "id.orig_p":1, "extra":{"a":[1,{"b":null}],"c":"}"}, "query":null, "answers":[], "TTLs":[], "_path":"dns" } `,
		// 3: millisecond ts, numeric offset ISO is for line 4.
		`{"ts":1704067202250,"uid":"C3","rcode":3,"rejected":true}`,
		`{"ts":"2024-01-01T01:00:03.000001+01:00","uid":"C4","query":""}`,
		// 5: another stream.
		`{"_path":"conn","ts":1704067204}`,
		`{"ts":1704067205,"query":"a",}`,     // 6: trailing comma
		`{"ts":1704067205,"query":"a"} x`,    // 7: data after
		`{"ts":1704067205,"id.orig_p":"53"}`, // 8: port as string
		`{"ts":1704067205,"AA":1}`,           // 9: bool as number
		`{"uid":"C9"}`,                       // 10: no ts
		`{"ts":1704067205,"query":"\ud800"}`, // 11: lone surrogate: U+FFFD
		`{"ts":1704067205,"rcode":256}`,      // 12: rcode out of range
		`{"ts":1704067205,"extra":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`, // 13: too deep
		`{"ts":1704067205,"query":"unterminated`, // 14: truncated, no newline
	}, "\n")
	want := []result{
		{rec: Record{Time: ts("2024-01-01T00:00:00.123456Z"), UID: "CHhAvVGS1DHFjwGM9", Client: ap("192.0.2.10:40001"),
			Server: ap("192.0.2.53:53"), Proto: "udp", TransID: 4103, Query: []byte("tab\there.\xffa.é😀.example.com"), QClass: 1,
			QType: 16, QTypeSet: true, RCodeSet: true, AA: true, RD: true, RA: true,
			Answers: []string{`TXT 3 a"b`, "1.2.3.4"}, TTLs: []float64{300, 60}, RTT: 12345 * time.Microsecond, RTTSet: true, Line: 1}},
		{rec: Record{Time: ts("2024-01-01T00:00:01.5Z"), UID: "C2", Client: ap("[2001:db8::1]:1"), Answers: []string{}, TTLs: []float64{}, Line: 2}},
		{rec: Record{Time: ts("2024-01-01T00:00:02.25Z"), UID: "C3", RCode: 3, RCodeSet: true, Rejected: true, Line: 3}},
		{rec: Record{Time: ts("2024-01-01T00:00:03.000001Z"), UID: "C4", Query: []byte{}, Line: 4}},
		{rec: Record{Line: 6}, err: ErrSyntax},
		{rec: Record{Line: 7}, err: ErrSyntax},
		{rec: Record{Line: 8}, err: ErrValue},
		{rec: Record{Line: 9}, err: ErrValue},
		{rec: Record{Line: 10}, err: ErrMissingField},
		{rec: Record{Time: ts("2024-01-01T00:00:05Z"), Query: []byte("\uFFFD"), Line: 11}},
		{rec: Record{Line: 12}, err: ErrValue},
		{rec: Record{Line: 13}, err: ErrSyntax},
		{rec: Record{Line: 14}, err: ErrTruncatedLine},
	}
	got, r := readResults(t, []byte(log))
	checkResults(t, got, want)
	if r.Format() != FormatJSON || r.Skipped() != 1 || r.BadLines() != 8 {
		t.Errorf("Format %v Skipped %d BadLines %d", r.Format(), r.Skipped(), r.BadLines())
	}
}

func TestCompressed(t *testing.T) {
	plain := []byte(tsvHeader + "1704067200\tC1\t192.0.2.1\t1\t192.0.2.2\t53\tudp\t1\t-\ta.b\t-\t-\t-\t-\t-\t-\tF\tF\tF\tF\t0\t-\t-\tF\n")
	want, _ := readResults(t, plain)
	// gzip, two members (as rotated logs concatenated with cat).
	var gz bytes.Buffer
	for k := 0; k < 2; k++ {
		w := gzip.NewWriter(&gz)
		w.Write(plain)
		w.Close()
	}
	got, r := readResults(t, gz.Bytes())
	if r.Compression() != "gzip" {
		t.Errorf("Compression %q", r.Compression())
	}
	want2 := append(append([]result{}, want...), want...)
	want2[1].rec.Line = 10 + 8
	checkResults(t, got, want2)
	// zstd.
	enc, _ := zstd.NewWriter(nil)
	zs := enc.EncodeAll(plain, nil)
	got, r = readResults(t, zs)
	if r.Compression() != "zstd" {
		t.Errorf("Compression %q", r.Compression())
	}
	checkResults(t, got, want)
	// A truncated gzip stream: the records before the damage, then a
	// sticky non-line error.
	cut := gz.Bytes()[:gz.Len()/2+40]
	r2, err := NewReader(bytes.NewReader(cut), "cut.log.gz")
	if err != nil {
		t.Fatal(err)
	}
	var rec Record
	var last error
	for i := 0; i < 100; i++ {
		if last = r2.Next(&rec); last != nil && !errors.As(last, new(*LineError)) {
			break
		}
	}
	if last == nil || last == io.EOF || !errors.Is(last, io.ErrUnexpectedEOF) {
		t.Errorf("truncated gzip: %v, want io.ErrUnexpectedEOF", last)
	}
	if again := r2.Next(&rec); again != last {
		t.Errorf("error not sticky: %v", again)
	}
}

func TestHugeLine(t *testing.T) {
	good := "1704067200\tC1\t192.0.2.1\t1\t192.0.2.2\t53\tudp\t1\t-\ta.b\t-\t-\t-\t-\t-\t-\tF\tF\tF\tF\t0\t-\t-\tF\n"
	var b bytes.Buffer
	b.WriteString(tsvHeader)
	b.WriteString(good)                                  // 9
	b.WriteString(strings.Repeat("x", 5<<20) + "\n")     // 10
	b.WriteString(good)                                  // 11
	b.WriteString(strings.Repeat("y", MaxLine) + "\r\n") // 12: exactly MaxLine: fits, but is garbage
	b.WriteString("{" + strings.Repeat(" ", 3<<20))      // 13: no newline
	r, err := NewReader(bytes.NewReader(b.Bytes()), "huge.log")
	if err != nil {
		t.Fatal(err)
	}
	var rec Record
	wantLines := []struct {
		line int
		err  error
	}{{9, nil}, {10, ErrLineTooLong}, {11, nil}, {12, ErrFieldCount}, {13, ErrLineTooLong}}
	for _, w := range wantLines {
		err := r.Next(&rec)
		var le *LineError
		switch {
		case w.err == nil && (err != nil || rec.Line != w.line):
			t.Errorf("line %d: %v (record line %d)", w.line, err, rec.Line)
		case w.err != nil && (!errors.As(err, &le) || le.Line != w.line || !errors.Is(err, w.err)):
			t.Errorf("line %d: %v, want %v", w.line, err, w.err)
		}
	}
	if err := r.Next(&rec); err != io.EOF {
		t.Errorf("end: %v", err)
	}
	if c := cap(r.long); c > MaxLine+(256<<10) {
		t.Errorf("line buffer grew to %d bytes", c)
	}
}

func TestNotDNSLog(t *testing.T) {
	for name, data := range map[string]string{
		"conn":   "#separator \\x09\n#set_separator\t,\n#path\tconn\n#fields\tts\tuid\n1\tC\n",
		"binary": "\xd4\xc3\xb2\xa1\x02\x00\x04\x00",
		"text":   "hello world\n",
	} {
		if _, err := NewReader(strings.NewReader(data), name); !errors.Is(err, ErrNotDNSLog) {
			t.Errorf("%s: %v, want ErrNotDNSLog", name, err)
		}
	}
	for name, data := range map[string]string{"empty": "", "blank": "\n\n  \n", "bom": "\xef\xbb\xbf#separator \\x09\n"} {
		r, err := NewReader(strings.NewReader(data), name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		var rec Record
		if err := r.Next(&rec); err != io.EOF {
			t.Errorf("%s: %v, want EOF", name, err)
		}
	}
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"dns.log", "dns.2024-01-02-00-00-00.log.gz", "dns.2024-01-01-00-00-00.log.gz",
		"dns_json.log", "dns.00:00:00-01:00:00.log.zst", "conn.log", "dnsmasq.log", "dns.log.bak", "dns.txt", "dns"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Mkdir(filepath.Join(dir, "dns.sub.log"), 0o755)
	got, err := Files(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range got {
		names = append(names, filepath.Base(g))
	}
	want := []string{"dns.00:00:00-01:00:00.log.zst", "dns.2024-01-01-00-00-00.log.gz", "dns.2024-01-02-00-00-00.log.gz", "dns.log", "dns_json.log"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("Files = %v, want %v", names, want)
	}
	if _, err := Files(filepath.Join(dir, "missing")); err == nil {
		t.Error("Files of a missing directory: no error")
	}
}

func TestLineErrorText(t *testing.T) {
	e := &LineError{File: "dns.log", Line: 12, Err: fmt.Errorf("%w: query: x", ErrValue)}
	if e.Error() != "dns.log:12: bad field value: query: x" || !errors.Is(e, ErrValue) {
		t.Errorf("%q", e.Error())
	}
}
