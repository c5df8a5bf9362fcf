package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// hostile strings an attacker can put in names, and a writer of captures
// or configuration in file names and values.
var hostile = []string{
	"<script>alert(1)</script>",
	`"><img src=x onerror=alert(1)>`,
	"javascript:alert(1)",
	`'quoted' "double" ` + "`back`",
	"</svg><script>alert(2)</script><svg>",
	"</title><script>alert(3)</script>",
	"</style><script>alert(4)</script>",
	"\x1b[31mred\x1b[0m\x1b]0;title\x07\x00\r\nnext line\x7f\x9b",
	"\xff\xfe\xc3(bad utf-8",
	"\u202eevil\u2066\u200f\u200b\u00ad\u061c\ufeff",
	"<!-- comment --> <![CDATA[ x ]]>",
}

// hostileInput fills every string of a run with hostile text.
func hostileInput() *Input {
	in := genInput(3)
	all := strings.Join(hostile, "|")
	in.Version = hostile[0]
	in.OutputDir = hostile[1]
	in.Outputs = append([]string{hostile[7]}, DefaultOutputs...)
	in.Config = append(in.Config, [2]string{hostile[2], hostile[4]}, [2]string{hostile[7], hostile[8]})
	in.Captures[0].Name = hostile[1]
	in.Captures[0].Stats.Path = hostile[0]
	in.Captures[0].Stats.Format = hostile[5]
	in.Captures[1].Stats.Compression = hostile[6]
	in.Captures[3].Stats.Errors = append(in.Captures[3].Stats.Errors, hostile...)
	in.TopByQueries[0].Domain = hostile[0]
	in.TopByUnique[1].Domain = hostile[7]
	for i, h := range hostile {
		f := genFinding(i+10, 2)
		f.Domain = h + ".evil.example"
		f.RegisteredDomain = h
		f.Tool = h
		f.Tools = []string{h, "iodine"}
		f.Verdict = h
		f.Samples = append(f.Samples, hostile...)
		f.Evidence = append(f.Evidence, hostile...)
		f.Evidence = append(f.Evidence, "against: "+h)
		f.Clients[0].Addr = h
		f.Clients[1].Tool = h
		f.Clients[1].FirstSeen = h
		f.Pcaps = []string{h, all}
		f.Features.Tool = h
		in.Findings = append(in.Findings, f)
	}
	return in
}

func TestHTMLHostile(t *testing.T) {
	in := hostileInput()
	var buf bytes.Buffer
	if err := HTML(&buf, in); err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()
	if !utf8.Valid(raw) {
		t.Error("report.html is not valid UTF-8")
	}
	for i, c := range raw {
		if c < 0x20 && c != '\n' || c == 0x7f {
			t.Fatalf("raw control byte %#x at offset %d", c, i)
		}
	}
	for _, r := range string(raw) {
		if r >= 0x80 && r < 0xa0 || unicode.Is(unicode.Cf, r) {
			t.Fatalf("invisible or control character %U in the output", r)
		}
	}
	lower := bytes.ToLower(raw)
	for _, bad := range []string{"<script", "<img", "<iframe", "<object", "<embed", "<!--", "<![cdata", "\u202e"} {
		if bytes.Contains(lower, []byte(bad)) {
			t.Errorf("output contains %q unescaped", bad)
		}
	}
	doc, err := html.Parse(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	checkDOM(t, doc)

	// The hostile texts are there, as text: the heading of the first
	// hostile finding is its domain, made safe.
	var headings []string
	walk(doc, func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "h2" && hasClass(n, "dom") {
			headings = append(headings, textOf(n))
		}
	})
	want := map[string]bool{}
	for _, h := range hostile {
		want[truncateMiddle(safe(h+".evil.example"), maxTextRunes)] = true
	}
	found := 0
	for _, h := range headings {
		if want[h] {
			found++
		}
	}
	if found != len(hostile) {
		t.Errorf("found %d hostile domains as heading text, want %d; headings %q", found, len(hostile), headings)
	}
}

// reporter is the part of testing.T that checkDOM uses (so that the
// checker itself can be tested).
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// checkDOM asserts that a report's DOM runs nothing and loads nothing.
func checkDOM(t reporter, doc *html.Node) {
	t.Helper()
	allowed := map[string]bool{}
	for _, e := range strings.Fields(`html head meta link title style body header div span main section h1 h2 h3 p
		dl dt dd table thead tbody tr th td a ul li b figure figcaption svg line rect text footer`) {
		allowed[e] = true
	}
	var styles []string
	var csp []string
	sawStyle := false
	walk(doc, func(n *html.Node) {
		if n.Type == html.CommentNode {
			t.Errorf("comment node %q", n.Data)
		}
		if n.Type != html.ElementNode {
			return
		}
		if !allowed[n.Data] {
			t.Errorf("unexpected element <%s>", n.Data)
		}
		for _, a := range n.Attr {
			key := strings.ToLower(a.Key)
			val := strings.ToLower(strings.Map(func(r rune) rune {
				if r <= ' ' {
					return -1
				}
				return r
			}, a.Val))
			if strings.HasPrefix(key, "on") {
				t.Errorf("<%s> has event handler attribute %s=%q", n.Data, a.Key, a.Val)
			}
			if key == "style" {
				t.Errorf("<%s> has a style attribute (blocked by the CSP)", n.Data)
			}
			switch key {
			case "href", "src", "xlink:href", "action", "formaction", "srcset", "data", "poster", "background":
				if strings.Contains(val, "javascript:") {
					t.Errorf("<%s %s=%q>", n.Data, a.Key, a.Val)
				}
				if !(strings.HasPrefix(a.Val, "#") || n.Data == "link" && a.Val == "data:,") {
					t.Errorf("<%s %s=%q> points outside the page", n.Data, a.Key, a.Val)
				}
			}
		}
		switch n.Data {
		case "style":
			sawStyle = true
			styles = append(styles, textOf(n))
		case "meta":
			if strings.EqualFold(attr(n, "http-equiv"), "Content-Security-Policy") {
				if sawStyle {
					t.Errorf("the CSP meta tag comes after the style element")
				}
				csp = append(csp, attr(n, "content"))
			}
		case "link":
			if attr(n, "rel") != "icon" || attr(n, "href") != "data:," {
				t.Errorf("unexpected link %v", n.Attr)
			}
		}
	})
	if len(csp) != 1 {
		t.Fatalf("%d CSP meta tags, want 1", len(csp))
		return
	}
	if len(styles) != 1 {
		t.Fatalf("%d style elements, want 1", len(styles))
		return
	}
	sum := sha256.Sum256([]byte(styles[0]))
	hash := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	want := "default-src 'none'; style-src " + hash + "; img-src data:; base-uri 'none'; form-action 'none'"
	if csp[0] != want {
		t.Errorf("CSP = %q\nwant %q", csp[0], want)
	}
}

func TestTerminalHostile(t *testing.T) {
	in := hostileInput()
	for _, color := range []bool{false, true} {
		var buf bytes.Buffer
		Terminal(&buf, in, color)
		out := buf.String()
		if color && !strings.Contains(out, ansiRed) {
			t.Error("no colour with color=true")
		}
		// Take out the report's own colour codes: nothing else may
		// remain that a terminal would act on.
		stripped := out
		for _, sgr := range []string{ansiReset, ansiBold, ansiDim, ansiRed, ansiYellow, ansiCyan, ansiGreen} {
			stripped = strings.ReplaceAll(stripped, sgr, "")
		}
		if !utf8.ValidString(stripped) {
			t.Errorf("color=%v: output is not valid UTF-8", color)
		}
		for i, r := range stripped {
			if r < 0x20 && r != '\n' || r >= 0x7f && r < 0xa0 || unicode.Is(unicode.Cf, r) {
				t.Fatalf("color=%v: control character %U at byte %d in %q", color, r, i, stripped[max(0, i-40):min(len(stripped), i+40)])
			}
		}
		// The escape sequence of a hostile name is shown, escaped.
		if !strings.Contains(stripped, `\x1b[31mred`) {
			t.Errorf("color=%v: hostile escape not shown escaped:\n%s", color, stripped)
		}
	}
}

var sgrRE = regexp.MustCompile("\x1b\\[[0-9;]*m")

// TestTerminalHostileSGROnly checks that every escape in the output is a
// well-formed SGR sequence of the report's own.
func TestTerminalHostileSGROnly(t *testing.T) {
	var buf bytes.Buffer
	Terminal(&buf, hostileInput(), true)
	own := map[string]bool{ansiReset: true, ansiBold: true, ansiDim: true, ansiRed: true, ansiYellow: true, ansiCyan: true, ansiGreen: true}
	for _, m := range sgrRE.FindAllString(buf.String(), -1) {
		if !own[m] {
			t.Errorf("foreign SGR %q", m)
		}
	}
	if n, m := strings.Count(buf.String(), "\x1b"), len(sgrRE.FindAllString(buf.String(), -1)); n != m {
		t.Errorf("%d ESC bytes but %d SGR sequences", n, m)
	}
}

func walk(n *html.Node, f func(*html.Node)) {
	f(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, f)
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasClass(n *html.Node, class string) bool {
	for _, c := range strings.Fields(attr(n, "class")) {
		if c == class {
			return true
		}
	}
	return false
}

func textOf(n *html.Node) string {
	var b strings.Builder
	walk(n, func(x *html.Node) {
		if x.Type == html.TextNode {
			b.WriteString(x.Data)
		}
	})
	return b.String()
}

// elements counts the elements named tag (with class, if not empty).
func elements(doc *html.Node, tag, class string) int {
	n := 0
	walk(doc, func(x *html.Node) {
		if x.Type == html.ElementNode && x.Data == tag && (class == "" || hasClass(x, class)) {
			n++
		}
	})
	return n
}

// recorder collects a checker's complaints.
type recorder struct{ msgs []string }

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

// TestCheckDOMCatches shows that the DOM checker fails on what it is
// meant to catch, so that its silence on real reports means something.
func TestCheckDOMCatches(t *testing.T) {
	var good bytes.Buffer
	if err := HTML(&good, genInput(1)); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct{ from, to string }{
		"script":                     {"<main", "<script>alert(1)</script><main"},
		"handler":                    {"<main", `<main onclick="alert(1)"`},
		"javascript":                 {`href="#f-1"`, `href="javascript:alert(1)"`},
		"javascript with whitespace": {`href="#f-1"`, `href=" java&#x09;script:alert(1)"`},
		"remote":                     {`href="#f-1"`, `href="https://example.com/"`},
		"image":                      {"<main", `<main><img src="x">`},
		"csp":                        {`http-equiv="Content-Security-Policy"`, `http-equiv="X-Nothing"`},
		"loose csp":                  {"default-src &#39;none&#39;", "default-src *"},
		"style attr":                 {"<main", `<main style="color:red"`},
		"style edit":                 {"<style>", "<style>body{}"},
	}
	for name, c := range cases {
		bad := strings.Replace(good.String(), c.from, c.to, 1)
		if bad == good.String() {
			t.Fatalf("%s: %q not in the report", name, c.from)
		}
		doc, err := html.Parse(strings.NewReader(bad))
		if err != nil {
			t.Fatal(err)
		}
		var r recorder
		checkDOM(&r, doc)
		if len(r.msgs) == 0 {
			t.Errorf("%s: the checker did not complain", name)
		}
	}
	doc, _ := html.Parse(&good)
	var r recorder
	checkDOM(&r, doc)
	if len(r.msgs) != 0 {
		t.Errorf("the checker complains about a clean report: %q", r.msgs)
	}
}
