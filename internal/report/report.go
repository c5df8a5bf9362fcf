package report

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dnsieve/dnsieve/internal/engine"
	"github.com/dnsieve/dnsieve/internal/output"
)

// DefaultMaxSections is the number of findings given a full section in
// report.html when Input.MaxSections is 0; the others are listed in one
// table.
const DefaultMaxSections = 50

// MaxRestRows caps the table of findings shown without a section; the
// others are only in findings.jsonl. Together with DefaultMaxSections it
// keeps a report of tens of thousands of findings quick to open.
const MaxRestRows = 2000

// DefaultOutputs are the files a scan writes into its output directory, in
// the order the terminal summary lists them.
var DefaultOutputs = []string{"report.html", "findings.jsonl", "domains.csv", "out.csv", "stats.json", "out.log"}

// Input is everything a report shows. It is plain data: the caller fills it
// from the scan's summary. Strings may hold attacker-controlled bytes; the
// report makes them safe.
type Input struct {
	// Version is dnsieve's version.
	Version string
	// Generated is when the report was made (zero: not shown).
	Generated time.Time
	// OutputDir is the directory holding the run's output files.
	OutputDir string
	// Outputs are the names of the files written into OutputDir, most
	// useful first (nil: DefaultOutputs).
	Outputs []string
	// Config is the run's configuration as key/value pairs, in the order
	// to show them.
	Config [][2]string
	// Captures are the captures scanned, with their statistics.
	Captures []output.NamedStats
	// Totals are the run-wide counts (stats.json's top level).
	Totals output.Totals
	// Findings are the engine's verdicts; the report sorts them by
	// severity, then score.
	Findings []engine.Finding
	// TopByQueries and TopByUnique are the busiest domains, for context.
	TopByQueries, TopByUnique []engine.Volume
	// LengthBackground is the histogram of distinct subdomain lengths over
	// all domains, in buckets of 16 bytes (engine.Engine.LengthHistogram).
	LengthBackground []uint64
	// CaptureStart and CaptureEnd are the packet times of the first and
	// last packets, when the caller knows them; otherwise the report shows
	// the span of the findings' activity.
	CaptureStart, CaptureEnd time.Time
	// MaxSections is the number of findings given a full section in
	// report.html (0: DefaultMaxSections).
	MaxSections int
	// ChecksOnly is true when the behavioural engine was off: no domain
	// was judged, so no finding means nothing.
	ChecksOnly bool
	// Kept is true when every input had been processed before and the
	// results already in the output directory were left as they were.
	Kept bool
	// Deeper is true when no capture was found without --recursive but
	// the inputs' subdirectories hold some.
	Deeper bool
}

// sortedFindings returns the findings, most severe first, without
// changing the input.
func sortedFindings(in []engine.Finding) []*engine.Finding {
	out := make([]*engine.Finding, len(in))
	for i := range in {
		out[i] = &in[i]
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		return a.Domain < b.Domain
	})
	return out
}

// severityCounts counts findings by severity: high, medium, low.
func severityCounts(fs []engine.Finding) (high, medium, low int) {
	for i := range fs {
		switch fs[i].Severity {
		case engine.SeverityHigh:
			high++
		case engine.SeverityMedium:
			medium++
		case engine.SeverityLow:
			low++
		}
	}
	return
}

// safe makes attacker-controlled text printable: control bytes, escape
// sequences, invalid UTF-8 and bidirectional overrides become \xNN
// (output.SafeText), and so do the other invisible format characters
// (Unicode category Cf: bidirectional marks, zero-width characters, soft
// hyphens), which could hide or reorder parts of a name on screen.
func safe(s string) string {
	t := output.SafeText([]byte(s))
	clean := true
	for _, r := range t {
		if r >= 0x80 && unicode.Is(unicode.Cf, r) {
			clean = false
			break
		}
	}
	if clean {
		return t
	}
	const hex = "0123456789abcdef"
	var b strings.Builder
	for _, r := range t {
		if r < 0x80 || !unicode.Is(unicode.Cf, r) {
			b.WriteRune(r)
			continue
		}
		var buf [utf8.UTFMax]byte
		for _, c := range buf[:utf8.EncodeRune(buf[:], r)] {
			b.WriteString(`\x`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// truncateMiddle shortens s to at most n runes, keeping its start and its
// end (the registered domain of a long name) around an ellipsis.
func truncateMiddle(s string, n int) string {
	if utf8.RuneCountInString(s) <= n || n < 5 {
		return s
	}
	r := []rune(s)
	tail := (n - 1) * 3 / 5
	head := n - 1 - tail
	return string(r[:head]) + "…" + string(r[len(r)-tail:])
}

// truncateDomain shortens a (safe) domain name to n runes, keeping the
// registered domain whole when it fits and cutting the subdomain in its
// middle.
func truncateDomain(name, registered string, n int) string {
	if utf8.RuneCountInString(name) <= n {
		return name
	}
	if registered != "" && strings.HasSuffix(name, "."+registered) {
		keep := utf8.RuneCountInString(registered) + 1
		if keep+8 <= n {
			sub := []rune(strings.TrimSuffix(name, "."+registered))
			room := n - keep - 1 // runes for the subdomain, with the ellipsis
			head := room * 2 / 3
			tail := room - head
			return string(sub[:head]) + "…" + string(sub[len(sub)-tail:]) + "." + registered
		}
	}
	return truncateMiddle(name, n)
}

// truncateEnd shortens s to at most n runes, with an ellipsis at the end.
func truncateEnd(s string, n int) string {
	if utf8.RuneCountInString(s) <= n || n < 2 {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// bytesText writes a byte count for people (binary units).
func bytesText(b float64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", b/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", b/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", b/(1<<10))
	}
	return fmt.Sprintf("%.0f B", b)
}

// comma writes n with thousands separators.
func comma(n uint64) string {
	s := strconv.FormatUint(n, 10)
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// rateText writes a rate per second with a metric prefix.
func rateText(r float64) string {
	switch {
	case math.IsNaN(r) || math.IsInf(r, 0) || r <= 0:
		return "0"
	case r >= 1e6:
		return fmt.Sprintf("%.2f M", r/1e6)
	case r >= 1e3:
		return fmt.Sprintf("%.1f k", r/1e3)
	}
	return fmt.Sprintf("%.0f", r)
}

// durationText writes a duration for people, rounded to what matters.
func durationText(d time.Duration) string {
	switch {
	case d <= 0:
		return "0 s"
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm %02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd %02dh", int(d.Hours())/24, int(d.Hours())%24)
}

// timeText writes a packet time in UTC.
func timeText(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

// spanEnd writes the end of a span, without its date when it is the
// start's.
func spanEnd(start, end time.Time) string {
	if end.IsZero() {
		return "-"
	}
	s, e := start.UTC(), end.UTC()
	if s.Year() == e.Year() && s.YearDay() == e.YearDay() {
		return e.Format("15:04:05")
	}
	return timeText(e)
}

// toolText names a finding's tool: the recognised one, else "unknown",
// with a count of the other tools seen in the domain.
func toolText(f *engine.Finding) string {
	t := f.Tool
	if t == "" {
		t = "unknown"
	}
	others := 0
	for _, x := range f.Tools {
		if x != f.Tool {
			others++
		}
	}
	if others > 0 {
		t += fmt.Sprintf(" +%d", others)
	}
	return safe(t)
}

// clientCount is the number of clients of a finding, counted ones
// included.
func clientCount(f *engine.Finding) uint64 {
	n := uint64(len(f.Clients)) + f.OtherClients
	if m := uint64(max(f.Features.Clients, 0)); m > n {
		n = m
	}
	return n
}

// approx returns "≈" when the finding's client count is an estimate (the
// domain had more clients than the engine tracks one by one).
func approx(f *engine.Finding) string {
	if f.Features.ClientsEstimated {
		return "≈"
	}
	return ""
}

// activitySpan returns the earliest first-seen and latest last-seen time of
// the findings.
func activitySpan(fs []engine.Finding) (first, last time.Time) {
	for i := range fs {
		f := &fs[i]
		if !f.FirstSeen.IsZero() && (first.IsZero() || f.FirstSeen.Before(first)) {
			first = f.FirstSeen
		}
		if f.LastSeen.After(last) {
			last = f.LastSeen
		}
	}
	return first, last
}

// channelUsers returns how many of a finding's clients used the channel,
// and whether that is worth saying: some clients did not (they only
// looked up other names of the registered domain), and every client is
// known one by one. Findings of versions that did not tell users apart
// mark none.
func channelUsers(f *engine.Finding) (users int, ok bool) {
	for i := range f.Clients {
		if f.Clients[i].UsesChannel {
			users++
		}
	}
	ok = users > 0 && users < len(f.Clients) && f.OtherClients == 0 && !f.Features.ClientsEstimated
	return users, ok
}

// scoreText writes a finding's score: a model's probability to three
// decimals (0.829, not 0.8), rule points to one.
func scoreText(s float64) string {
	if s >= 0 && s <= 1 {
		return strconv.FormatFloat(s, 'f', 3, 64)
	}
	return strconv.FormatFloat(s, 'f', 1, 64)
}
