package zeek

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/dnsieve/dnsieve/internal/engine"
)

// FuzzReader: arbitrary bytes as a dns.log (plain or gzip): no panic, the
// reader ends, line numbers grow, every record converts to a valid DNS
// message of bounded size, and memory stays bounded (the line buffer never
// exceeds MaxLine plus one bufio buffer).
func FuzzReader(f *testing.F) {
	f.Add([]byte(tsvHeader + "1704067200.5\tC1\t192.0.2.1\t1\t192.0.2.2\t53\tudp\t1\t0.1\ta\\x09b.example.com\t1\tC_INTERNET\t16\tTXT\t0\tNOERROR\tF\tF\tT\tT\t0\tTXT 3 a\\x2cb,1.2.3.4\t1.0,2.0\tF\n"))
	f.Add([]byte(`{"ts":1704067200.5,"id.orig_h":"2001:db8::1","id.orig_p":1,"query":"\\xff.example.com","rcode":0,"answers":["x.example.net","TXT 2 ab"],"TTLs":[1,2],"extra":{"a":[1,2,{"b":"c"}]}}` + "\n"))
	f.Add([]byte("#separator \\x7c\n#fields|ts|query|answers\n1|a.b|c;d\n"))
	f.Add([]byte("{\"ts\":\"2024-01-01T00:00:00Z\"}\r\n\n{\"ts\":1,"))
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte(tsvHeader + "1\tC\t1.2.3.4\t1\t1.2.3.5\t53\tudp\t1\t-\ta\t-\t-\t-\t-\t0\t-\tF\tF\tF\tF\t0\t-\t-\tF\n"))
	w.Close()
	f.Add(gz.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data), "fuzz.log")
		if err != nil {
			if !errors.Is(err, ErrNotDNSLog) && r != nil {
				t.Fatalf("NewReader returned a reader and %v", err)
			}
			return
		}
		c := NewConverter()
		var rec Record
		var q, resp engine.Observation
		last := 0
		// Each call consumes at least one line; decompressed data is
		// bounded by the fuzzer's input size times the gzip ratio.
		for calls := 0; ; calls++ {
			if calls > 1<<20 {
				t.Fatal("reader does not end")
			}
			err := r.Next(&rec)
			if err == io.EOF {
				break
			}
			var le *LineError
			if errors.As(err, &le) {
				if le.Line <= last {
					t.Fatalf("error line %d after %d", le.Line, last)
				}
				last = le.Line
				continue
			}
			if err != nil {
				break // a damaged compressed stream
			}
			if rec.Line <= last {
				t.Fatalf("record line %d after %d", rec.Line, last)
			}
			last = rec.Line
			if len(rec.Query) > MaxLine {
				t.Fatalf("query of %d bytes", len(rec.Query))
			}
			has := c.Observations(&rec, &q, &resp)
			if q.Size < headerLen || len(q.Name) > maxNameText || len(q.Labels) > len(q.Name)+1 {
				t.Fatalf("query observation %+v", q)
			}
			if has && (resp.Size < q.Size || resp.AnswerData < 0) {
				t.Fatalf("response observation %+v", resp)
			}
			if len(c.msg) > maxMessage {
				t.Fatalf("message of %d bytes", len(c.msg))
			}
			var p dnsmessage.Parser
			if _, err := p.Start(c.msg); err != nil {
				t.Fatalf("reconstructed message: %v", err)
			}
			if _, err := p.AllQuestions(); err != nil {
				t.Fatalf("reconstructed questions: %v %x", err, c.msg)
			}
			if _, err := p.AllAnswers(); err != nil {
				t.Fatalf("reconstructed answers: %v %x", err, c.msg)
			}
		}
		if cap(r.long) > MaxLine+(128<<10) {
			t.Fatalf("line buffer of %d bytes", cap(r.long))
		}
		r.Close()
	})
}

// FuzzJSONString: the string scanner agrees with encoding/json on valid
// UTF-8 input.
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{`abc`, `a\"b`, `\u00e9\ud83d\ude00`, `\ud800`, `\ud800\u0041`, `\\x41`, `tab\there`, `\u12`, `é`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) || strings.ContainsRune(s, utf8.RuneError) {
			return
		}
		lit := `"` + s + `"`
		var want string
		jerr := json.Unmarshal([]byte(lit), &want)
		sc := jscan{b: []byte(lit)}
		got, ok := sc.str(nil)
		ok = ok && sc.i == len(lit)
		if ok != (jerr == nil) {
			t.Fatalf("%q: scanner ok=%v, encoding/json: %v", lit, ok, jerr)
		}
		if ok && string(got) != want {
			t.Fatalf("%q: scanner %q, encoding/json %q", lit, got, want)
		}
	})
}

// FuzzNanos: parseNanos agrees with strconv on plain decimals.
func FuzzNanos(f *testing.F) {
	for _, s := range []string{"1704067200.123456", "0.000001", "-1.5", "37", ".5", "5.", "1e3", "9223372036.9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ns, ok := parseNanos([]byte(s))
		if !ok {
			return
		}
		x, ok2 := parseFloat([]byte(s))
		if !ok2 {
			t.Fatalf("%q: parseNanos %d, not a float", s, ns)
		}
		// Within float64 precision of the value (and one ns of truncation).
		d := float64(ns) - x*1e9
		if d < 0 {
			d = -d
		}
		lim := 1 + 1e-15*abs(x*1e9)*4
		if d > lim {
			t.Fatalf("%q: parseNanos %d, float %v", s, ns, x)
		}
	})
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
