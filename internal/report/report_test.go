package report

import (
	"bytes"
	"fmt"
	stdhtml "html"
	"strings"
	"testing"
	"time"

	"github.com/dnsieve/dnsieve/internal/engine"
	"golang.org/x/net/html"
)

func TestTerminalExact(t *testing.T) {
	in := genInput(2)
	in.Findings[1].Domain = strings.Repeat("a", 63) + "." + strings.Repeat("b", 18) + ".tunnel1.example.net"
	var buf bytes.Buffer
	Terminal(&buf, in, false)
	want := `
2 findings:  1 high, 1 medium, 0 low

  SEVERITY       DOMAIN                                        TOOL     CLIENTS  TOP CLIENT  QUERIES         UP       DOWN  FIRST SEEN (UTC)     LAST SEEN
  high tunnel    t.tunnel0.example.net                         iodine         1  10.0.0.1      6,267   89.9 KiB  645.6 KiB  2024-03-05 10:00:00  10:12:47
  medium tunnel  aaaaaaaaaaaaaaa…bbbbbbbb.tunnel1.example.net  dnscat2   1 of 2  10.1.0.1      4,752  114.8 KiB  332.2 KiB  2024-03-05 10:01:00  10:13:47

Scanned 4 files (1 with errors): 1,234,567 packets, 1,200,000 DNS messages in 2.5 s (493.8 k packets/s)
4,321 packets listed in out.csv (tunnel traffic and per-name check hits)
Results in out/
  report.html     the report: open it in a browser, hand it on
  findings.jsonl  every finding with its evidence, one JSON object a line
  domains.csv     every finding, one row each
  out.csv         flagged packets, in the old tool's format
  stats.json      counts per capture and in total
  out.log         the run's log: errors with file and byte offset
`
	if got := buf.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestTerminalMany(t *testing.T) {
	in := genInput(25)
	var buf bytes.Buffer
	Terminal(&buf, in, true)
	out := buf.String()
	rows := strings.Count(out, " 2024-03-05 ")
	if rows != TerminalRows {
		t.Errorf("%d finding rows, want %d", rows, TerminalRows)
	}
	if !strings.Contains(out, "  and 5 more (see out/findings.jsonl)\n") {
		t.Errorf("no count of the rest:\n%s", out)
	}
	if !strings.Contains(out, ansiRed+"9 high"+ansiReset+", "+ansiYellow+"8 medium"+ansiReset+", "+ansiCyan+"8 low"+ansiReset) {
		t.Errorf("severity line wrong:\n%q", out)
	}
	// Most severe first: every high row comes before every medium row.
	lastHigh := strings.LastIndex(out, "high tunnel")
	firstMedium := strings.Index(out, "medium tunnel")
	if lastHigh < 0 || firstMedium < 0 || lastHigh > firstMedium {
		t.Errorf("rows not sorted by severity:\n%s", out)
	}
}

func TestTerminalNone(t *testing.T) {
	in := genInput(0)
	in.Totals.FilesFailed = 0
	in.Totals.FilesSkipped = 2
	in.Outputs = []string{"out.csv", "extra.txt"}
	in.OutputDir = ""
	var buf bytes.Buffer
	Terminal(&buf, in, false)
	want := `
No DNS tunnel found. No domain's traffic looked like a tunnel or exfiltration.

Scanned 4 files (2 skipped): 1,234,567 packets, 1,200,000 DNS messages in 2.5 s (493.8 k packets/s)
4,321 packets listed in out.csv (tunnel traffic and per-name check hits)
Results in ./
  out.csv    flagged packets, in the old tool's format
  extra.txt
`
	if got := buf.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestHelpers(t *testing.T) {
	for _, c := range []struct {
		name, reg string
		n         int
		want      string
	}{
		{"short.example.com", "example.com", 44, "short.example.com"},
		{"abcdefghijklmnopqrstuvwxyz.example.com", "example.com", 30, "abcdefghijk…uvwxyz.example.com"},
		{"abcdefghijklmnopqrstuvwxyz.example.com", "", 20, "abcdefgh…example.com"},
		{"abcdefghij.a-very-long-registered-domain.com", "a-very-long-registered-domain.com", 20, "abcdefgh…-domain.com"},
	} {
		got := truncateDomain(c.name, c.reg, c.n)
		if got != c.want {
			t.Errorf("truncateDomain(%q, %q, %d) = %q, want %q", c.name, c.reg, c.n, got, c.want)
		}
		if n := len([]rune(got)); n > c.n {
			t.Errorf("truncateDomain(%q) has %d runes, more than %d", c.name, n, c.n)
		}
	}
	for in, want := range map[float64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 5 << 20: "5.0 MiB", 3 << 30: "3.0 GiB"} {
		if got := bytesText(in); got != want {
			t.Errorf("bytesText(%v) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[uint64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", 18446744073709551615: "18,446,744,073,709,551,615"} {
		if got := comma(in); got != want {
			t.Errorf("comma(%d) = %q, want %q", in, got, want)
		}
	}
	for _, c := range []struct{ max, step, top float64 }{{0, 1, 4}, {3, 1, 3}, {40, 10, 40}, {41, 20, 60}, {0.3, 1, 1}, {957, 500, 1000}, {80.5, 50, 100}} {
		step, top := niceScale(c.max, 1)
		if step != c.step || top != c.top {
			t.Errorf("niceScale(%v) = %v, %v; want %v, %v", c.max, step, top, c.step, c.top)
		}
	}
	for in, want := range map[time.Duration]string{time.Second: "1 s", 64 * time.Second: "1m 04s", 2 * time.Minute: "2 min", 4096 * time.Second: "1h 08m", 3 * 86400 * time.Second: "3d 00h"} {
		if got := bucketWidthText(in); got != want {
			t.Errorf("bucketWidthText(%v) = %q, want %q", in, got, want)
		}
	}
	if got := safe("a\x1b[31m\xffb\u202e\u200fc\\é"); got != `a\x1b[31m\xffb\xe2\x80\xae\xe2\x80\x8fc\\é` {
		t.Errorf("safe = %q", got)
	}
}

func TestTimelineChart(t *testing.T) {
	tl := []engine.Bucket{
		{Start: testStart, Queries: 10, Bytes: 100},
		{Start: testStart.Add(time.Second)},
		{Start: testStart.Add(2 * time.Second), Queries: 40, Bytes: 400},
	}
	c := timelineChart(tl)
	if len(c.Rects) != 4 {
		t.Fatalf("%d bars, want 4 (empty buckets draw none)", len(c.Rects))
	}
	// Queries: scale 0..40, so 40 fills the panel and 10 a quarter of it.
	if c.Rects[0].H != panelHeight/4.0 || c.Rects[2].H != panelHeight {
		t.Errorf("query bars %v and %v high, want %v and %v", c.Rects[0].H, c.Rects[2].H, panelHeight/4.0, panelHeight)
	}
	if c.Rects[1].Class != "bn" || c.Rects[3].H != panelHeight || c.Rects[1].H != panelHeight/4.0 {
		t.Errorf("byte bars wrong: %+v %+v", c.Rects[1], c.Rects[3])
	}
	if c.Rects[0].Tip != "2024-03-05 10:00:00 UTC: 10 queries" || c.Rects[3].Tip != "2024-03-05 10:00:02 UTC: 400 B of new names" {
		t.Errorf("tips %q, %q", c.Rects[0].Tip, c.Rects[3].Tip)
	}
	// Bars stand on the axis, side by side, inside the plot.
	slot := float64(timelineW-chartLeft-chartRight) / 3
	if got := c.Rects[2].X - c.Rects[0].X; got != 2*slot {
		t.Errorf("bars %v apart, want %v", got, 2*slot)
	}
	if c.Rects[0].Y+c.Rects[0].H != 24+panelHeight {
		t.Errorf("query bar does not stand on the axis: %+v", c.Rects[0])
	}
	if c.Texts[0].Text != "Queries per 1 s" || c.Texts[1].Text != "Bytes of new names per 1 s (as sent, before compression)" {
		t.Errorf("titles %q, %q", c.Texts[0].Text, c.Texts[1].Text)
	}
	if timelineChart(nil) != nil {
		t.Error("a chart for no timeline")
	}
}

func TestLengthChart(t *testing.T) {
	lengths := make([]uint32, 16)
	lengths[0], lengths[15] = 1, 3
	bg := make([]uint64, 16)
	bg[0], bg[1] = 6, 2
	c := lengthChart(lengths, bg)
	var bars []rect
	for _, r := range c.Rects {
		if r.Tip != "" {
			bars = append(bars, r)
		}
	}
	// Shares: domain 25% and 75%, background 75% and 25%; scale to 100%.
	if len(bars) != 4 {
		t.Fatalf("%d bars, want 4: %+v", len(bars), bars)
	}
	want := []string{
		"this domain, 0–15 bytes: 1 names (25.0%)",
		"all domains, 0–15 bytes: 6 names (75.0%)",
		"all domains, 16–31 bytes: 2 names (25.0%)",
		"this domain, 240 bytes or more: 3 names (75.0%)",
	}
	for i, b := range bars {
		if b.Tip != want[i] {
			t.Errorf("bar %d: %q, want %q", i, b.Tip, want[i])
		}
	}
	if bars[0].H*3 != bars[1].H || bars[3].H != bars[1].H {
		t.Errorf("bar heights %v %v %v not in proportion", bars[0].H, bars[1].H, bars[3].H)
	}
	if lengthChart(make([]uint32, 16), bg) != nil {
		t.Error("a chart for no names")
	}
}

func render(t *testing.T, in *Input) (*html.Node, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := HTML(&buf, in); err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	return doc, buf.Bytes()
}

func TestHTMLStructure(t *testing.T) {
	in := genInput(5)
	// Unsorted input: the report sorts, without touching the input.
	in.Findings[0], in.Findings[4] = in.Findings[4], in.Findings[0]
	first := in.Findings[0].Domain
	doc, _ := render(t, in)
	checkDOM(t, doc)
	if in.Findings[0].Domain != first {
		t.Error("HTML reordered its input")
	}
	if n := elements(doc, "section", "finding"); n != 5 {
		t.Errorf("%d finding sections, want 5", n)
	}
	if n := elements(doc, "svg", "chart"); n != 10 {
		t.Errorf("%d charts, want 10", n)
	}
	if n := elements(doc, "section", "rest"); n != 0 {
		t.Errorf("a table of the rest with 5 findings")
	}
	var order []string
	var ids []string
	walk(doc, func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "section" && hasClass(n, "finding") {
			order = append(order, attr(n, "class"))
			ids = append(ids, attr(n, "id"))
		}
	})
	wantOrder := []string{"finding sev-high", "finding sev-high", "finding sev-medium", "finding sev-medium", "finding sev-low"}
	if strings.Join(order, ",") != strings.Join(wantOrder, ",") {
		t.Errorf("sections %q, want %q", order, wantOrder)
	}
	if strings.Join(ids, ",") != "f-1,f-2,f-3,f-4,f-5" {
		t.Errorf("ids %q", ids)
	}
	var links []string
	walk(doc, func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "a" && strings.HasPrefix(attr(n, "href"), "#f-") {
			links = append(links, attr(n, "href"))
		}
	})
	if strings.Join(links, ",") != "#f-1,#f-2,#f-3,#f-4,#f-5" {
		t.Errorf("overview links %q", links)
	}
	text := textOf(doc)
	for _, want := range []string{"v1.2.3-test", "2024-03-06 08:30:00 UTC", "capture-03.pcapng", "byte offset 123456", "pcapng (zstd)",
		"busy0.example.com", "wide19.example.org", "max_entropy", "1,234,567", "Information carried by the names (compressed)",
		"Findings active", "2024-03-05 10:00:00 – 10:16:47 UTC (16m 47s)"} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestHTMLMaxSections(t *testing.T) {
	in := genInput(7)
	in.MaxSections = 2
	doc, _ := render(t, in)
	if n := elements(doc, "section", "finding"); n != 2 {
		t.Errorf("%d sections, want 2", n)
	}
	rows := 0
	walk(doc, func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "section" && hasClass(n, "rest") {
			rows = elements(n, "tr", "") - 1 // minus the header
		}
	})
	if rows != 5 {
		t.Errorf("%d rows in the table of the rest, want 5", rows)
	}
}

func TestHTMLManyClients(t *testing.T) {
	in := genInput(0)
	f := genFinding(1, 256)
	f.OtherClients = 44
	f.Features.ClientsEstimated = true
	in.Findings = []engine.Finding{f}
	doc, _ := render(t, in)
	text := textOf(doc)
	if !strings.Contains(text, "And ≈275 more client(s)") || !strings.Contains(text, "Clients≈300") {
		t.Error("no estimated count of the clients left out")
	}
	var rows int
	walk(doc, func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "td" && hasClass(n, "mono") && strings.HasPrefix(textOf(n), "10.1.") {
			rows++
		}
	})
	if rows != maxClientRows+1 { // the clients table and the overview's first client
		t.Errorf("%d client cells, want %d", rows, maxClientRows+1)
	}
}

// TestHTMLLarge checks that a run with 10,000 findings makes a report that
// stays small enough to open.
func TestHTMLLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("large report")
	}
	in := genInput(10000)
	for i := range in.Findings {
		f := &in.Findings[i]
		f.Domain = strings.Repeat("x", 60) + "." + f.Domain // long names, as tunnels have
	}
	start := time.Now()
	doc, raw := render(t, in)
	t.Logf("10,000 findings: %d bytes in %v", len(raw), time.Since(start).Round(time.Millisecond))
	if len(raw) >= 20<<20 {
		t.Errorf("report is %d bytes, want under 20 MiB", len(raw))
	}
	if n := elements(doc, "section", "finding"); n != DefaultMaxSections {
		t.Errorf("%d sections, want %d", n, DefaultMaxSections)
	}
	if n := elements(doc, "svg", "chart"); n != 2*DefaultMaxSections {
		t.Errorf("%d charts, want %d", n, 2*DefaultMaxSections)
	}
	if !strings.Contains(string(raw), fmt.Sprintf("%d more findings", MaxRestRows)) ||
		!strings.Contains(string(raw), fmt.Sprintf("%d further findings are only in findings.jsonl", 10000-DefaultMaxSections-MaxRestRows)) {
		t.Error("no table of the next findings, or no pointer to findings.jsonl for the rest")
	}
}

func BenchmarkHTML(b *testing.B) {
	in := genInput(200)
	b.ReportAllocs()
	for b.Loop() {
		var buf bytes.Buffer
		if err := HTML(&buf, in); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(buf.Len()))
	}
}

func BenchmarkTerminal(b *testing.B) {
	in := genInput(200)
	b.ReportAllocs()
	for b.Loop() {
		var buf bytes.Buffer
		Terminal(&buf, in, true)
	}
}

func TestHTMLSparse(t *testing.T) {
	in := &Input{CaptureStart: testStart, CaptureEnd: testStart.Add(26 * time.Hour)}
	f := genFinding(0, 0)
	f.Timeline, f.Lengths, f.Samples, f.Tools = nil, nil, nil, nil
	in.Findings = []engine.Finding{f}
	doc, _ := render(t, in)
	checkDOM(t, doc)
	if n := elements(doc, "svg", ""); n != 0 {
		t.Errorf("%d charts without data", n)
	}
	text := textOf(doc)
	for _, want := range []string{"No length histogram", "No client address recorded.", "Capture time",
		"2024-03-05 10:00:00 – 2024-03-06 12:00:00 UTC (26h 00m)", "dnsieve unknown", "No capture was read.", "Not recorded."} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if elements(doc, "section", "finding") != 1 {
		t.Error("no section for the finding")
	}
}

func TestFeatureRows(t *testing.T) {
	f := genFinding(0, 1).Features
	f.AnswersUsed = 0
	f.RawPackets = 12
	f.DataAnswers, f.DistinctAnswers, f.DistinctAnswerBytes = 1500, 1200, 300*1024
	f.NumberedNames, f.NumberedSpan, f.NumberedInOrder, f.NumberedAnswers, f.AnswerFirstOctets = 1500, 1600, 1490, 6000, 211
	f.AnswerNonUnicastOctets = 30
	rows := featureRows(&f)
	got := map[string]string{}
	for _, r := range rows {
		got[r.Key] = r.Value
	}
	for k, v := range map[string]string{
		"Distinct names, share of lookups":                                                    "1,771 (62%)",
		"Subdomain length, mean ± deviation":                                                  "48 ± 9 bytes",
		"Queries for NULL, KEY, private or obsolete types":                                    "98%",
		"Addresses it resolved to contacted by other traffic":                                 "never",
		"Non-DNS packets on the DNS port":                                                     "12",
		"Responses carrying encoded-looking data (TXT, NULL, private types, impossible AAAA)": "1,500: 1,200 distinct, 300.0 KiB",
		"Tool fingerprint (iodine): proof / resemblance":                                      "1,200 / 0 messages",
		"Active for": "12m 47s",
		"Numbered names (one family): names, numbers in their range, names in order; IPv4 addresses of their first answers, first octets, of them 224 to 255": "1,500, 1,600, 1,490; 6,000, 211, 30",
	} {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	f.AnswersUsed = -1
	f.DataAnswers = 0
	f.NumberedNames = 9
	for _, r := range featureRows(&f) {
		if strings.HasPrefix(r.Key, "Numbered") {
			t.Error("numbered-names row shown for a handful of names")
		}
		if strings.HasPrefix(r.Key, "Addresses") {
			t.Error("answers-used row shown when it cannot be told")
		}
		if strings.HasPrefix(r.Key, "Responses carrying") {
			t.Error("data-answer row shown without data answers")
		}
	}
}

// TestQuietHeadline checks that a run without findings reads as a clean
// bill of health only when every input was read and judged: not with the
// engine off, not when nothing was read, not when inputs failed; on the
// terminal and in report.html.
func TestQuietHeadline(t *testing.T) {
	for _, c := range []struct {
		name                     string
		scanned, failed, skipped int
		deeper                   bool
		checksOnly               bool
		wantTitle, wantDetail    string
		wantWarn                 bool
	}{
		{"clean", 4, 0, 0, false, false, "No DNS tunnel found", "No domain's traffic looked like a tunnel or exfiltration.", false},
		{"clean with skipped", 4, 0, 2, false, false, "No DNS tunnel found", "No domain's traffic looked like a tunnel or exfiltration.", false},
		{"some failed", 4, 1, 0, false, false, "No DNS tunnel found in what could be read", "1 input could not be read to the end: see out.log.", true},
		{"checks only", 4, 0, 0, false, true, "Behavioural engine off (--checks-only)", "No domain was judged; 4,321 packets were flagged by the per-packet checks alone (out.csv).", true},
		{"nothing found", 0, 0, 0, false, false, "No capture analysed", "No capture file was found in the inputs.", true},
		{"all failed", 0, 2, 0, false, false, "No capture analysed", "2 inputs could not be read: see out.log.", true},
		{"all skipped", 0, 0, 3, false, false, "No capture analysed", "3 captures skipped as already processed.", true},
		{"no DNS", 2, 0, 0, false, false, "No DNS traffic found", "1,234,567 packets read, none of them DNS (UDP is recognised on any port, TCP only on the --ports given).", true},
		{"no packet", 2, 0, 0, false, false, "No DNS traffic found", "The 2 captures held no packet.", true},
		{"nested only", 0, 0, 0, true, false, "No capture analysed", "No capture file was found directly in the inputs; their subdirectories hold some: add --recursive (-r).", true},
		{"nested and failed", 0, 1, 0, true, false, "No capture analysed", "1 input could not be read: see out.log. Captures in subdirectories are read with --recursive (-r).", true},
		{"no DNS, some failed", 2, 1, 0, false, false, "No DNS traffic found in what could be read", "1 input could not be read to the end: see out.log. The rest held no DNS message.", true},
		{"malformed only", 2, 0, 0, false, false, "No DNS traffic found", "1,234,567 packets read, 12 of them malformed DNS messages (see out.log) and none a readable one.", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := genInput(0)
			in.Totals.FilesScanned, in.Totals.FilesFailed, in.Totals.FilesSkipped = c.scanned, c.failed, c.skipped
			in.ChecksOnly, in.Deeper = c.checksOnly, c.deeper
			switch c.name {
			case "no DNS", "no DNS, some failed":
				in.Totals.TotalDNSMessages, in.Totals.TotalMalformed = 0, 0
			case "malformed only":
				in.Totals.TotalDNSMessages, in.Totals.TotalMalformed = 0, 12
			case "no packet":
				in.Totals.TotalPackets, in.Totals.TotalDNSMessages = 0, 0
			}
			title, detail, tn := quietHeadline(in)
			if title != c.wantTitle || detail != c.wantDetail || (tn == toneWarn) != c.wantWarn {
				t.Errorf("got %q, %q, warn %v", title, detail, tn == toneWarn)
			}
			var term bytes.Buffer
			Terminal(&term, in, false)
			if first := strings.SplitN(term.String(), "\n", 3)[1]; first != c.wantTitle+". "+c.wantDetail {
				t.Errorf("terminal headline %q", first)
			}
			var page bytes.Buffer
			if err := HTML(&page, in); err != nil {
				t.Fatal(err)
			}
			h := page.String()
			if !strings.Contains(h, "<h1>"+stdhtml.EscapeString(c.wantTitle)+"</h1>") || !strings.Contains(h, stdhtml.EscapeString(c.wantDetail)) ||
				strings.Contains(h, `class="lede warn"`) != c.wantWarn {
				t.Errorf("report.html does not head with %q / %q (warn %v)", c.wantTitle, c.wantDetail, c.wantWarn)
			}
			if c.wantWarn && strings.Contains(h, "No DNS tunnel found<") {
				t.Error("report.html says no tunnel was found")
			}
		})
	}
}

// TestHTMLChannelColumn checks that report.html marks a client that did
// not use the channel, and says what that means.
func TestHTMLChannelColumn(t *testing.T) {
	var page bytes.Buffer
	if err := HTML(&page, genInput(2)); err != nil {
		t.Fatal(err)
	}
	h := page.String()
	for _, want := range []string{
		`<tr><td class="mono">10.1.0.1</td><td>yes</td>`,
		`<tr class="other"><td class="mono">10.1.0.2</td><td>no: other names of the domain only</td>`,
		"it is listed for context, not implicated",
		"2 (1 using the channel)",
	} {
		if !strings.Contains(h, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
}

func TestScoreText(t *testing.T) {
	for in, want := range map[float64]string{0.829: "0.829", 0.9994: "0.999", 1: "1.000", 0: "0.000", 7: "7.0", 12.25: "12.2"} {
		if got := scoreText(in); got != want {
			t.Errorf("scoreText(%v) = %q, want %q", in, got, want)
		}
	}
}
