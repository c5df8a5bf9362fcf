package report

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dnsieve/dnsieve/internal/engine"
)

// Terminal limits.
const (
	// TerminalRows is the number of findings listed on the terminal.
	TerminalRows   = 20
	domainWidth    = 44 // runes of a domain name on the terminal
	clientWidth    = 24 // runes of a client address
	terminalIndent = "  "
)

// ANSI select graphic rendition codes (ECMA-48).
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[1;31m"
	ansiYellow = "\x1b[1;33m"
	ansiCyan   = "\x1b[36m"
	ansiGreen  = "\x1b[32m"
)

// Terminal writes a short summary of a run for the end of a scan: the
// findings, most severe first (at most TerminalRows, then a count of the
// rest), the totals, and where the full outputs are. Colour (ANSI SGR
// sequences) is used only when color is true; the caller decides, e.g.
// from whether w is a terminal. Text from the network is escaped, so the
// only escape sequences written are the report's own colours. Write errors
// are ignored: the summary is a courtesy, the files are the results.
func Terminal(w io.Writer, s *Input, color bool) {
	p := &painter{color: color}
	var b strings.Builder
	high, medium, low := severityCounts(s.Findings)
	total := len(s.Findings)

	b.WriteByte('\n')
	if total == 0 {
		title, detail, t := quietHeadline(s)
		sgr := ansiGreen
		if t == toneWarn {
			sgr = ansiYellow
		}
		b.WriteString(p.paint(sgr, title+"."))
		b.WriteString(" " + detail + "\n")
	} else {
		fmt.Fprintf(&b, "%s  %s\n", p.paint(ansiBold, fmt.Sprintf("%d finding%s:", total, plural(total))),
			severityLine(p, high, medium, low))
		b.WriteByte('\n')
		writeFindingTable(&b, p, s)
		if rest := total - min(total, TerminalRows); rest > 0 {
			fmt.Fprintf(&b, "%sand %s more (see %s)\n", terminalIndent, comma(uint64(rest)),
				safe(filepath.Join(s.OutputDir, "findings.jsonl")))
		}
	}
	b.WriteByte('\n')
	writeTotals(&b, p, s)
	writeOutputs(&b, p, s)
	io.WriteString(w, b.String())
}

// severityLine writes "2 high, 1 medium, 0 low" with colours.
func severityLine(p *painter, high, medium, low int) string {
	return fmt.Sprintf("%s, %s, %s",
		p.paintIf(high > 0, ansiRed, fmt.Sprintf("%d high", high)),
		p.paintIf(medium > 0, ansiYellow, fmt.Sprintf("%d medium", medium)),
		p.paintIf(low > 0, ansiCyan, fmt.Sprintf("%d low", low)))
}

// cell is one table cell: its text, its colour and its alignment.
type cell struct {
	text  string
	sgr   string
	right bool
}

func writeFindingTable(b *strings.Builder, p *painter, s *Input) {
	head := []cell{{text: "SEVERITY"}, {text: "DOMAIN"}, {text: "TOOL"}, {text: "CLIENTS", right: true},
		{text: "TOP CLIENT"}, {text: "QUERIES", right: true}, {text: "UP", right: true}, {text: "DOWN", right: true},
		{text: "FIRST SEEN (UTC)"}, {text: "LAST SEEN"}}
	rows := [][]cell{head}
	fs := sortedFindings(s.Findings)
	for _, f := range fs[:min(len(fs), TerminalRows)] {
		first := "-"
		if len(f.Clients) > 0 {
			first = truncateMiddle(safe(f.Clients[0].Addr), clientWidth)
		}
		rows = append(rows, []cell{
			{text: truncateEnd(safe(f.SeverityText+" "+f.Verdict), 24), sgr: severitySGR(f.Severity)},
			{text: truncateDomain(safe(f.Domain), safe(f.RegisteredDomain), domainWidth)},
			{text: truncateEnd(toolText(f), 16)},
			{text: clientsText(f), right: true},
			{text: first},
			{text: comma(f.Queries), right: true},
			{text: bytesText(float64(f.BytesUp)), right: true},
			{text: bytesText(float64(f.BytesDown)), right: true},
			{text: timeText(f.FirstSeen)},
			{text: spanEnd(f.FirstSeen, f.LastSeen)},
		})
	}
	width := make([]int, len(head))
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], utf8.RuneCountInString(c.text))
		}
	}
	for n, r := range rows {
		b.WriteString(terminalIndent)
		for i, c := range r {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c.text))
			text := c.text
			sgr := c.sgr
			if n == 0 {
				sgr = ansiDim
			}
			if c.right {
				b.WriteString(pad)
				b.WriteString(p.paint(sgr, text))
			} else {
				b.WriteString(p.paint(sgr, text))
				if i < len(r)-1 {
					b.WriteString(pad)
				}
			}
			if i < len(r)-1 {
				b.WriteString("  ")
			}
		}
		b.WriteByte('\n')
	}
}

func writeTotals(b *strings.Builder, p *painter, s *Input) {
	t := &s.Totals
	files := fmt.Sprintf("%d file%s", t.FilesScanned, plural(t.FilesScanned))
	var notes []string
	if t.FilesFailed > 0 {
		notes = append(notes, p.paint(ansiYellow, fmt.Sprintf("%d with errors", t.FilesFailed)))
	}
	if t.FilesSkipped > 0 {
		notes = append(notes, fmt.Sprintf("%d skipped", t.FilesSkipped))
	}
	if len(notes) > 0 {
		files += " (" + strings.Join(notes, ", ") + ")"
	}
	files += ":"
	elapsed := time.Duration(t.TotalTime * float64(time.Second))
	fmt.Fprintf(b, "%s %s %s packets, %s DNS messages in %s (%s packets/s)\n",
		p.paint(ansiBold, "Scanned"), files, comma(t.TotalPackets), comma(t.TotalDNSMessages),
		durationText(elapsed), rateText(t.PacketsPerSecond))
	if t.TotalMaliciousPackets > 0 {
		fmt.Fprintf(b, "%s packets listed in out.csv (tunnel traffic and per-name check hits)\n", comma(t.TotalMaliciousPackets))
	}
}

func writeOutputs(b *strings.Builder, p *painter, s *Input) {
	dir := s.OutputDir
	if dir == "" {
		dir = "."
	}
	fmt.Fprintf(b, "%s %s\n", p.paint(ansiBold, "Results in"), safe(dir+string(filepath.Separator)))
	outs := s.Outputs
	if outs == nil {
		outs = DefaultOutputs
	}
	w := 0
	for _, o := range outs {
		w = max(w, utf8.RuneCountInString(safe(o)))
	}
	for _, o := range outs {
		name := safe(o)
		desc := outputDescriptions[o]
		if desc == "" {
			b.WriteString(terminalIndent + name + "\n")
			continue
		}
		fmt.Fprintf(b, "%s%s%s  %s\n", terminalIndent, name, strings.Repeat(" ", w-utf8.RuneCountInString(name)),
			p.paint(ansiDim, desc))
	}
}

// outputDescriptions say what each output file is for.
var outputDescriptions = map[string]string{
	"report.html":    "the report: open it in a browser, hand it on",
	"findings.jsonl": "every finding with its evidence, one JSON object a line",
	"domains.csv":    "every finding, one row each",
	"out.csv":        "flagged packets, in the old tool's format",
	"stats.json":     "counts per capture and in total",
	"out.log":        "the run's log: errors with file and byte offset",
}

func severitySGR(s engine.Severity) string {
	switch s {
	case engine.SeverityHigh:
		return ansiRed
	case engine.SeverityMedium:
		return ansiYellow
	case engine.SeverityLow:
		return ansiCyan
	}
	return ""
}

// painter wraps text in SGR sequences when colour is on.
type painter struct{ color bool }

func (p *painter) paint(sgr, text string) string {
	if !p.color || sgr == "" {
		return text
	}
	return sgr + text + ansiReset
}

func (p *painter) paintIf(cond bool, sgr, text string) string {
	if !cond {
		return text
	}
	return p.paint(sgr, text)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// clientsText is the terminal's client count: "1 of 4" when some clients
// of the registered domain did not use the channel (they only looked up
// its other names), so that they are not counted as its users.
func clientsText(f *engine.Finding) string {
	all := approx(f) + comma(clientCount(f))
	if users, ok := channelUsers(f); ok {
		return comma(uint64(users)) + " of " + all
	}
	return all
}
