package report

import (
	"bytes"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// FuzzReport puts arbitrary text everywhere a report shows network text
// and checks both outputs: report.html runs and loads nothing and holds no
// raw control or invisible characters; the terminal summary holds no
// escape but its own colours.
func FuzzReport(f *testing.F) {
	for _, h := range hostile {
		f.Add(h, h)
	}
	f.Add("", "")
	f.Add(strings.Repeat("é", 400), "\x00")
	f.Fuzz(func(t *testing.T, name, other string) {
		in := genInput(1)
		in.Findings[0].Timeline = in.Findings[0].Timeline[:8]
		fd := genFinding(5, 2)
		fd.Timeline = fd.Timeline[:8]
		fd.Domain, fd.RegisteredDomain = name, other
		fd.Samples = []string{name, other}
		fd.Evidence = []string{other, "against: " + name}
		fd.Clients[0].Addr, fd.Clients[1].Tool = name, other
		fd.Tool, fd.Tools, fd.Pcaps = other, []string{name}, []string{other}
		in.Findings = append(in.Findings, fd)
		in.Captures[0].Name, in.Captures[1].Stats.Errors = name, []string{other}
		in.TopByQueries[0].Domain = name
		in.Config = [][2]string{{name, other}}

		var buf bytes.Buffer
		if err := HTML(&buf, in); err != nil {
			t.Fatal(err)
		}
		raw := buf.String()
		if !utf8.ValidString(raw) {
			t.Fatal("report.html is not valid UTF-8")
		}
		for _, r := range raw {
			if r < 0x20 && r != '\n' || r >= 0x7f && r < 0xa0 || unicode.Is(unicode.Cf, r) {
				t.Fatalf("character %U in report.html", r)
			}
		}
		if strings.Contains(strings.ToLower(raw), "<script") {
			t.Fatal("<script in report.html")
		}
		doc, err := html.Parse(strings.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		checkDOM(t, doc)
		if n := elements(doc, "section", "finding"); n != 2 {
			t.Fatalf("%d finding sections, want 2", n)
		}

		buf.Reset()
		Terminal(&buf, in, true)
		out := buf.String()
		for _, sgr := range []string{ansiReset, ansiBold, ansiDim, ansiRed, ansiYellow, ansiCyan, ansiGreen} {
			out = strings.ReplaceAll(out, sgr, "")
		}
		if !utf8.ValidString(out) {
			t.Fatal("terminal output is not valid UTF-8")
		}
		for _, r := range out {
			if r < 0x20 && r != '\n' || r >= 0x7f && r < 0xa0 || unicode.Is(unicode.Cf, r) {
				t.Fatalf("character %U on the terminal", r)
			}
		}
	})
}
