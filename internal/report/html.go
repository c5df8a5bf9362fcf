package report

import (
	"bufio"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/dnsieve/dnsieve/internal/engine"
)

// Per-section limits in report.html (the full lists are in findings.jsonl).
const (
	maxClientRows   = 25
	maxSampleRows   = 10
	maxEvidenceRows = 40
	maxTextRunes    = 600 // longest text shown from the network
	maxTopRows      = 20
	maxErrorRows    = 20
)

//go:embed report.css
var reportCSS string

//go:embed report.html.tmpl
var reportTemplate string

// ContentSecurityPolicy is report.html's policy: nothing may be loaded or
// run; only the page's own style element (by hash) and data: images apply.
var ContentSecurityPolicy = "default-src 'none'; style-src '" + styleHash() + "'; img-src data:; base-uri 'none'; form-action 'none'"

func styleHash() string {
	sum := sha256.Sum256([]byte(reportCSS))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

var pageTemplate = template.Must(template.New("report").Funcs(template.FuncMap{"num": num}).Parse(reportTemplate))

// HTML writes report.html: one self-contained page (no script, nothing
// fetched, charts drawn as inline SVG) with an overview of the run, one
// section per finding (at most Input.MaxSections, the rest in one table),
// the busiest domains and the run's configuration. Text from the network is
// escaped. The error is the writer's.
func HTML(w io.Writer, s *Input) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := pageTemplate.Execute(bw, buildPage(s)); err != nil {
		return err
	}
	return bw.Flush()
}

// page is the template's view of a report: text made safe, numbers
// formatted.
type page struct {
	CSP       string
	CSS       template.CSS
	Version   string
	Generated string
	OutputDir string

	High, Medium, Low int
	Total             int
	// QuietTitle and QuietDetail head a run without findings
	// (quietHeadline); QuietWarn is true when that is not good news.
	QuietTitle, QuietDetail string
	QuietWarn               bool
	Files                   int
	Failed, Skipped         int
	Packets                 string
	DNSMessages             string
	Flagged                 string
	Elapsed                 string
	Rate                    string
	SpanLabel               string
	SpanText                string

	Captures []captureRow
	Index    []indexRow
	Sections []section
	Rest     []indexRow
	Omitted  int // findings beyond Sections and Rest: only in findings.jsonl

	TopByQueries []volumeRow
	TopByUnique  []volumeRow
	Config       [][2]string
	Outputs      []string
}

type captureRow struct {
	Name, Path, Format    string
	Bytes                 string
	Packets, DNS, Flagged string
	Malformed, Skipped    string
	Complete              bool
	Errors                []string
	MoreErrors            int
}

type indexRow struct {
	ID, Sev, SevText, Verdict string
	Domain, Tool              string
	Score                     string
	Clients, Queries          string
	Up, Down                  string
	First, Last               string
}

type keyValue struct{ Key, Value string }

type section struct {
	indexRow
	Registered  string
	Tools       string
	Recognised  bool
	Span        string
	Responses   string
	Unique      string
	Pcaps       string
	Facts       []keyValue
	Evidence    []string
	Against     []string
	Samples     []string
	Clients     []clientRow
	MoreClients string
	Features    []keyValue
	Timeline    *chart
	Lengths     *chart
}

type clientRow struct {
	Addr, Queries, Unique, Up, Tool, First, Last, Gap, CV string
	// Channel says whether the client used the channel ("yes") or only
	// looked up other names of the registered domain.
	Channel string
	Other   bool
}

type volumeRow struct {
	Domain, Queries, Responses, Unique, Clients string
}

// long makes network text safe and caps its length.
func long(s string) string { return truncateMiddle(safe(s), maxTextRunes) }

func buildPage(s *Input) *page {
	p := &page{
		CSP: ContentSecurityPolicy, CSS: template.CSS(reportCSS),
		Version: safe(s.Version), OutputDir: safe(s.OutputDir), Total: len(s.Findings),
	}
	if p.Version == "" {
		p.Version = "unknown"
	}
	if !s.Generated.IsZero() {
		p.Generated = s.Generated.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	p.High, p.Medium, p.Low = severityCounts(s.Findings)
	if p.Total == 0 {
		var t tone
		p.QuietTitle, p.QuietDetail, t = quietHeadline(s)
		p.QuietWarn = t == toneWarn
	}
	t := &s.Totals
	p.Files, p.Failed, p.Skipped = t.FilesScanned, t.FilesFailed, t.FilesSkipped
	p.Packets, p.DNSMessages, p.Flagged = comma(t.TotalPackets), comma(t.TotalDNSMessages), comma(t.TotalMaliciousPackets)
	p.Elapsed = durationText(time.Duration(t.TotalTime * float64(time.Second)))
	p.Rate = rateText(t.PacketsPerSecond)
	if !s.CaptureStart.IsZero() {
		p.SpanLabel = "Capture time"
		p.SpanText = spanText(s.CaptureStart, s.CaptureEnd)
	} else if first, last := activitySpan(s.Findings); !first.IsZero() {
		p.SpanLabel = "Findings active"
		p.SpanText = spanText(first, last)
	}

	for _, c := range s.Captures {
		if c.Stats == nil {
			continue
		}
		st := c.Stats
		format := safe(st.Format)
		if st.Compression != "" {
			format += " (" + safe(st.Compression) + ")"
		}
		row := captureRow{Name: long(c.Name), Path: long(st.Path), Format: format, Bytes: bytesText(float64(st.Bytes)),
			Packets: comma(st.PacketsCount), DNS: comma(st.DNSMessages), Flagged: comma(st.MaliciousPacketsCount),
			Malformed: comma(st.Malformed), Skipped: comma(st.Skipped), Complete: st.Complete}
		for i, e := range st.Errors {
			if i == maxErrorRows {
				row.MoreErrors = len(st.Errors) - i
				break
			}
			row.Errors = append(row.Errors, long(e))
		}
		p.Captures = append(p.Captures, row)
	}

	maxSections := s.MaxSections
	if maxSections <= 0 {
		maxSections = DefaultMaxSections
	}
	for i, f := range sortedFindings(s.Findings) {
		row := indexOf(i, f)
		if i < maxSections {
			p.Index = append(p.Index, row)
			p.Sections = append(p.Sections, sectionOf(row, f, s.LengthBackground))
		} else if len(p.Rest) < MaxRestRows {
			p.Rest = append(p.Rest, row)
		} else {
			p.Omitted++
		}
	}
	p.TopByQueries = volumes(s.TopByQueries)
	p.TopByUnique = volumes(s.TopByUnique)
	for _, kv := range s.Config {
		p.Config = append(p.Config, [2]string{long(kv[0]), long(kv[1])})
	}
	outs := s.Outputs
	if outs == nil {
		outs = DefaultOutputs
	}
	for _, o := range outs {
		p.Outputs = append(p.Outputs, long(o))
	}
	return p
}

func spanText(a, b time.Time) string {
	if b.IsZero() || b.Before(a) {
		return timeText(a) + " UTC"
	}
	return fmt.Sprintf("%s – %s UTC (%s)", timeText(a), spanEnd(a, b), durationText(b.Sub(a)))
}

// severityClass maps a severity to a CSS class (never text from input).
func severityClass(s engine.Severity) string {
	switch s {
	case engine.SeverityHigh:
		return "high"
	case engine.SeverityMedium:
		return "medium"
	case engine.SeverityLow:
		return "low"
	}
	return "none"
}

func indexOf(i int, f *engine.Finding) indexRow {
	sev := severityClass(f.Severity)
	first := "-"
	if len(f.Clients) > 0 {
		first = safe(f.Clients[0].Addr)
	}
	clients := truncateMiddle(first, 40)
	if n := clientCount(f); n > 1 {
		clients += " +" + approx(f) + comma(n-1)
	}
	return indexRow{
		ID: fmt.Sprintf("f-%d", i+1), Sev: sev, SevText: sev, Verdict: truncateEnd(safe(f.Verdict), 16),
		Domain: long(f.Domain), Tool: truncateEnd(toolText(f), 32), Score: scoreText(f.Score),
		Clients: clients, Queries: comma(f.Queries),
		Up: bytesText(float64(f.BytesUp)), Down: bytesText(float64(f.BytesDown)),
		First: timeText(f.FirstSeen), Last: spanEnd(f.FirstSeen, f.LastSeen),
	}
}

func sectionOf(row indexRow, f *engine.Finding, background []uint64) section {
	sec := section{indexRow: row, Registered: long(f.RegisteredDomain), Recognised: f.ToolRecognised}
	var tools []string
	for _, t := range f.Tools {
		tools = append(tools, safe(t))
	}
	sec.Tools = strings.Join(tools, ", ")
	tool := safe(f.Tool)
	if tool == "" {
		tool = "unknown"
	}
	switch {
	case f.ToolRecognised:
		tool += " (protocol recognised)"
	case tool != "unknown":
		tool += " (not proven)"
	}
	var pcaps []string
	for _, p := range f.Pcaps {
		pcaps = append(pcaps, long(p))
	}
	sec.Facts = []keyValue{
		{"Registered domain", sec.Registered},
		{"Tool", tool},
		{"Tools seen", orDash(sec.Tools)},
		{"Active", spanText(f.FirstSeen, f.LastSeen)},
		{"Queries / responses", comma(f.Queries) + " / " + comma(f.Responses)},
		{"Distinct names", comma(f.UniqueNames)},
		{"Data out (estimated)", bytesText(float64(f.BytesUp)) + " in names"},
		{"Data in (estimated)", bytesText(float64(f.BytesDown)) + " in answers"},
		{"Clients", clientsFact(f)},
		{"Captures", orDash(strings.Join(pcaps, ", "))},
	}
	for i, e := range f.Evidence {
		if i == maxEvidenceRows {
			sec.Evidence = append(sec.Evidence, fmt.Sprintf("… %d more in findings.jsonl", len(f.Evidence)-i))
			break
		}
		if a, ok := strings.CutPrefix(e, "against: "); ok {
			sec.Against = append(sec.Against, long(a))
			continue
		}
		sec.Evidence = append(sec.Evidence, long(e))
	}
	for i, n := range f.Samples {
		if i == maxSampleRows {
			break
		}
		sec.Samples = append(sec.Samples, long(n))
	}
	for i := range f.Clients {
		if i == maxClientRows {
			break
		}
		c := &f.Clients[i]
		row := clientRow{Addr: long(c.Addr), Queries: comma(c.Queries), Unique: comma(c.UniqueNames),
			Up: bytesText(float64(c.BytesUp)), Tool: orDash(safe(c.Tool)),
			First: clientTime(c.FirstSeen), Last: clientTime(c.LastSeen), Gap: "-", CV: "-", Channel: "yes"}
		switch {
		case c.Resolver:
			row.Channel, row.Other = "resolver: relays its clients' lookups", !c.UsesChannel
		case !c.UsesChannel:
			row.Channel, row.Other = "no: other names of the domain only", true
		}
		if c.MeanGap > 0 {
			row.Gap = gapText(c.MeanGap)
			row.CV = fmt.Sprintf("%.2f", c.GapCV)
		}
		sec.Clients = append(sec.Clients, row)
	}
	if more := clientCount(f) - uint64(len(sec.Clients)); more > 0 {
		sec.MoreClients = approx(f) + comma(more)
	}
	sec.Features = featureRows(&f.Features)
	sec.Timeline = timelineChart(f.Timeline)
	sec.Lengths = lengthChart(f.Lengths, background)
	return sec
}

// clientTime rewrites an RFC 3339 time as the report writes times.
func clientTime(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return long(s)
	}
	return timeText(t)
}

func gapText(sec float64) string {
	switch {
	case sec < 1:
		return fmt.Sprintf("%.0f ms", sec*1000)
	case sec < 120:
		return fmt.Sprintf("%.1f s", sec)
	}
	return durationText(time.Duration(sec * float64(time.Second)))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func pct(f float64) string { return fmt.Sprintf("%.0f%%", 100*f) }

// featureRows explains a finding's features in plain words.
func featureRows(f *engine.Features) []keyValue {
	rows := []keyValue{
		{"Lookups (one per transaction)", comma(f.Lookups)},
		{"Distinct names, share of lookups", fmt.Sprintf("%s (%s)", comma(f.Unique), pct(f.UniqueRatio))},
		{"Information carried by the names (compressed)", bytesText(f.InfoBytes)},
		{"Information per distinct name", fmt.Sprintf("%.1f bytes", f.InfoPerName)},
		{"Information on the busiest day", bytesText(f.PeakDayInfo)},
		{"Subdomain length, mean ± deviation", fmt.Sprintf("%.0f ± %.0f bytes", f.MeanSubLen, f.SubLenStddev)},
		{"Longest label", fmt.Sprintf("%d bytes", f.MaxLabel)},
		{"Likeness to ordinary host names", fmt.Sprintf("%.2f bits/char (lower is less word-like)", f.NgramBits)},
		{"Names that look like data / like hashes", comma(f.DataNames) + " / " + comma(f.DigestNames)},
		{"Names that are reversed IP addresses", comma(f.IPShaped)},
		{"Queries for NULL, KEY, private or obsolete types", pct(f.RareTypeShare)},
		{"Queries for TXT, CNAME, MX or SRV", pct(f.DataTypeShare)},
		{"Answers that are NXDOMAIN / other errors", pct(f.NXShare) + " / " + pct(f.ErrorShare)},
		{"Answer bytes per response", fmt.Sprintf("%.0f", f.AnswerBytes)},
		{"Distinct addresses answered (first of each response, up to 4)", fmt.Sprint(f.AnswerAddresses)},
		{"Messages failing the per-name checks", pct(f.FlaggedShare)},
		{"Names mixing upper and lower case", pct(f.MixedCaseShare)},
		{"Most queries in a window; most new names in a window", comma(f.PeakWinQueries) + "; " + comma(f.PeakWinUnique)},
		{"Active for", durationText(time.Duration(f.Seconds * float64(time.Second)))},
	}
	switch f.AnswersUsed {
	case 1:
		rows = append(rows, keyValue{"Addresses it resolved to contacted by other traffic", "yes"})
	case 0:
		rows = append(rows, keyValue{"Addresses it resolved to contacted by other traffic", "never"})
	}
	if f.DataAnswers > 0 {
		rows = append(rows, keyValue{"Responses carrying encoded-looking data (TXT, NULL, private types, impossible AAAA)",
			fmt.Sprintf("%s: %s distinct, %s", comma(f.DataAnswers), comma(f.DistinctAnswers), bytesText(float64(f.DistinctAnswerBytes)))})
	}
	if f.NumberedNames >= 10 {
		text := ""
		if f.AnswerTextOctets {
			text = " (every first octet a text byte)"
		}
		rows = append(rows, keyValue{"Numbered names (one family): names, numbers in their range, names in order; IPv4 addresses of their first answers, first octets, of them 224 to 255",
			fmt.Sprintf("%s, %s, %s; %s, %d, %d%s", comma(f.NumberedNames), comma(f.NumberedSpan), comma(f.NumberedInOrder),
				comma(f.NumberedAnswers), f.AnswerFirstOctets, f.AnswerNonUnicastOctets, text)})
	}
	if f.RawPackets > 0 {
		rows = append(rows, keyValue{"Non-DNS packets on the DNS port", comma(f.RawPackets)})
	}
	if f.ToolStrong > 0 || f.ToolWeak > 0 {
		rows = append(rows, keyValue{"Tool fingerprint (" + safe(f.Tool) + "): proof / resemblance",
			comma(uint64(f.ToolStrong)) + " / " + comma(uint64(f.ToolWeak)) + " messages"})
	}
	return rows
}

func volumes(vs []engine.Volume) []volumeRow {
	var out []volumeRow
	for i, v := range vs {
		if i == maxTopRows {
			break
		}
		out = append(out, volumeRow{Domain: long(v.Domain), Queries: comma(v.Queries), Responses: comma(v.Responses),
			Unique: comma(v.UniqueNames), Clients: comma(uint64(max(v.Clients, 0)))})
	}
	return out
}

// clientsFact is the finding's client count, with how many used the
// channel when some only looked up other names of the registered domain.
func clientsFact(f *engine.Finding) string {
	all := approx(f) + comma(clientCount(f))
	if users, ok := channelUsers(f); ok {
		return fmt.Sprintf("%s (%s using the channel)", all, comma(uint64(users)))
	}
	return all
}
