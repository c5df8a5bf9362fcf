package report

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/dnsieve/dnsieve/internal/engine"
)

// A chart is an SVG drawing made of plain shapes, computed here and
// written by the HTML template (so every text in it is escaped there).
type chart struct {
	W, H  int
	Label string // what the chart shows, for screen readers
	Lines []line
	Rects []rect
	Texts []label
}

type line struct {
	X1, Y1, X2, Y2 float64
	Class          string
}

type rect struct {
	X, Y, W, H float64
	Class      string
	Tip        string // shown on hover (SVG title)
}

type label struct {
	X, Y   float64
	Anchor string // text-anchor: start, middle, end
	Class  string
	Text   string
}

// Chart geometry (SVG user units; the charts scale to their box).
// They are chosen so that a chart is drawn at about its natural size in
// the report's layout, where its text is as large as the page's small text.
const (
	timelineW   = 1080 // full width of a finding's section
	lengthW     = 520  // half of it
	chartLeft   = 62
	chartRight  = 16
	panelHeight = 90
)

// num writes a coordinate with at most one decimal.
func num(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "0"
	}
	return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64)
}

// niceScale returns a step and a top for an axis from 0 to at least max,
// with about four steps of 1, 2 or 5 times a power of ten (never below
// minStep).
func niceScale(maxV, minStep float64) (step, top float64) {
	if maxV <= 0 || math.IsNaN(maxV) || math.IsInf(maxV, 0) {
		return minStep, minStep * 4
	}
	raw := maxV / 4
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	switch f := raw / mag; {
	case f <= 1:
		step = mag
	case f <= 2:
		step = 2 * mag
	case f <= 5:
		step = 5 * mag
	default:
		step = 10 * mag
	}
	step = math.Max(step, minStep)
	top = math.Ceil(maxV/step) * step
	return step, top
}

// shortCount writes an axis value compactly: 950, 1.2k, 3M.
func shortCount(v float64) string {
	switch {
	case v >= 1e9:
		return strconv.FormatFloat(v/1e9, 'f', -1, 64) + "G"
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', -1, 64) + "M"
	case v >= 1e3:
		return strconv.FormatFloat(v/1e3, 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// shortBytes writes an axis value in bytes compactly: 512 B, 1.5 KiB.
func shortBytes(v float64) string {
	switch {
	case v >= 1<<30:
		return strconv.FormatFloat(math.Round(v/(1<<30)*10)/10, 'f', -1, 64) + " GiB"
	case v >= 1<<20:
		return strconv.FormatFloat(math.Round(v/(1<<20)*10)/10, 'f', -1, 64) + " MiB"
	case v >= 1<<10:
		return strconv.FormatFloat(math.Round(v/(1<<10)*10)/10, 'f', -1, 64) + " KiB"
	}
	return strconv.FormatFloat(v, 'f', -1, 64) + " B"
}

// bucketWidthText writes a timeline bucket's width: "1 s", "2m 08s".
func bucketWidthText(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	switch {
	case s < 1:
		return d.String()
	case s < 60:
		return fmt.Sprintf("%d s", s)
	case s < 3600:
		if s%60 == 0 {
			return fmt.Sprintf("%d min", s/60)
		}
		return fmt.Sprintf("%dm %02ds", s/60, s%60)
	case s < 86400:
		return fmt.Sprintf("%dh %02dm", s/3600, s%3600/60)
	}
	return fmt.Sprintf("%dd %02dh", s/86400, s%86400/3600)
}

// timelineChart draws a finding's queries and new-name bytes over time as
// two bar panels sharing a time axis. It returns nil when there is no
// timeline.
func timelineChart(tl []engine.Bucket) *chart {
	if len(tl) == 0 {
		return nil
	}
	width := time.Second
	if len(tl) >= 2 {
		if d := tl[1].Start.Sub(tl[0].Start); d > 0 {
			width = d
		}
	}
	start := tl[0].Start.UTC()
	end := tl[len(tl)-1].Start.Add(width).UTC()
	wt := bucketWidthText(width)
	plotW := float64(timelineW - chartLeft - chartRight)
	c := &chart{W: timelineW, H: 2*panelHeight + 104,
		Label: fmt.Sprintf("Queries and bytes of new names per %s, from %s to %s UTC", wt, timeText(start), timeText(end))}

	var maxQ, maxB float64
	for _, b := range tl {
		maxQ = math.Max(maxQ, float64(b.Queries))
		maxB = math.Max(maxB, float64(b.Bytes))
	}
	slot := plotW / float64(len(tl))
	barW := math.Max(slot*0.8, math.Min(slot, 0.6))

	top1 := 24.0
	top2 := top1 + panelHeight + 38
	c.Texts = append(c.Texts,
		label{X: chartLeft, Y: top1 - 10, Anchor: "start", Class: "ct", Text: "Queries per " + wt},
		label{X: chartLeft, Y: top2 - 10, Anchor: "start", Class: "ct", Text: "Bytes of new names per " + wt + " (as sent, before compression)"})
	qTop := c.panel(top1, plotW, maxQ, 1, shortCount)
	bTop := c.panel(top2, plotW, maxB, byteUnit(maxB), shortBytes)
	for i, b := range tl {
		x := chartLeft + float64(i)*slot + (slot-barW)/2
		when := b.Start.UTC().Format("2006-01-02 15:04:05")
		if b.Queries > 0 {
			h := float64(b.Queries) / qTop * panelHeight
			c.Rects = append(c.Rects, rect{X: x, Y: top1 + panelHeight - h, W: barW, H: h, Class: "bq",
				Tip: fmt.Sprintf("%s UTC: %s queries", when, comma(uint64(b.Queries)))})
		}
		if b.Bytes > 0 {
			h := float64(b.Bytes) / bTop * panelHeight
			c.Rects = append(c.Rects, rect{X: x, Y: top2 + panelHeight - h, W: barW, H: h, Class: "bn",
				Tip: fmt.Sprintf("%s UTC: %s of new names", when, bytesText(float64(b.Bytes)))})
		}
	}

	// Time axis: about six labels on bucket boundaries.
	base := top2 + panelHeight
	layout := "15:04:05"
	span := end.Sub(start)
	switch {
	case span >= 48*time.Hour:
		layout = "Jan 2"
	case start.YearDay() != end.YearDay() || start.Year() != end.Year():
		layout = "Jan 2 15:04"
	case width >= time.Minute:
		layout = "15:04"
	}
	step := max(1, (len(tl)+9)/10)
	for i := 0; i <= len(tl); i += step {
		x := chartLeft + float64(i)*slot
		c.Lines = append(c.Lines, line{X1: x, Y1: base, X2: x, Y2: base + 4, Class: "axis"})
		t := start.Add(time.Duration(i) * width)
		anchor := "middle"
		switch {
		case i == 0:
			anchor = "start"
		case x >= chartLeft+plotW-30: // the last tick's label ends at the edge, not past it
			anchor = "end"
		}
		c.Texts = append(c.Texts, label{X: x, Y: base + 16, Anchor: anchor, Text: t.Format(layout)})
	}
	c.Texts = append(c.Texts, label{X: chartLeft + plotW, Y: base + 34, Anchor: "end", Class: "cap",
		Text: fmt.Sprintf("UTC, %s to %s", start.Format("2006-01-02 15:04:05"), end.Format("2006-01-02 15:04:05"))})
	return c
}

// byteUnit is the binary unit in which a byte axis up to maxV counts, so
// that its steps are round numbers of that unit.
func byteUnit(maxV float64) float64 {
	switch {
	case maxV >= 1<<30:
		return 1 << 30
	case maxV >= 1<<20:
		return 1 << 20
	case maxV >= 1<<10:
		return 1 << 10
	}
	return 1
}

// panel draws a value axis with grid lines for a bar panel whose top is at
// y, in steps of round numbers of unit, and returns the axis's top value.
func (c *chart) panel(y, plotW, maxV, unit float64, format func(float64) string) float64 {
	step, top := niceScale(maxV/unit, 1)
	step, top = step*unit, top*unit
	for v := 0.0; v <= top+step/2; v += step {
		yy := y + panelHeight - v/top*panelHeight
		class := "grid"
		if v == 0 {
			class = "axis"
		}
		c.Lines = append(c.Lines, line{X1: chartLeft, Y1: yy, X2: chartLeft + plotW, Y2: yy, Class: class})
		c.Texts = append(c.Texts, label{X: chartLeft - 6, Y: yy + 4, Anchor: "end", Text: format(v)})
	}
	c.Lines = append(c.Lines, line{X1: chartLeft, Y1: y, X2: chartLeft, Y2: y + panelHeight, Class: "axis"})
	return top
}

// lengthChart draws the distribution of a finding's distinct subdomain
// lengths (buckets of 16 bytes) beside that of all domains. It returns nil
// when the finding has no histogram.
func lengthChart(lengths []uint32, background []uint64) *chart {
	var n, bg float64
	for _, v := range lengths {
		n += float64(v)
	}
	if n == 0 {
		return nil
	}
	for _, v := range background {
		bg += float64(v)
	}
	buckets := len(lengths)
	h := 170.0
	top := 44.0
	plotW := float64(lengthW - chartLeft - chartRight)
	c := &chart{W: lengthW, H: int(top + h + 48),
		Label: "Share of distinct subdomains by length, in 16-byte steps, this domain against all domains"}
	share := func(v, total float64) float64 {
		if total == 0 {
			return 0
		}
		return 100 * v / total
	}
	var maxS float64
	for i := 0; i < buckets; i++ {
		maxS = math.Max(maxS, share(float64(lengths[i]), n))
		if i < len(background) {
			maxS = math.Max(maxS, share(float64(background[i]), bg))
		}
	}
	c.Texts = append(c.Texts, label{X: chartLeft, Y: 14, Anchor: "start", Class: "ct", Text: "Share of distinct names (%) by subdomain length"})
	// Legend.
	c.Rects = append(c.Rects, rect{X: chartLeft, Y: 24, W: 10, H: 10, Class: "bf"})
	c.Texts = append(c.Texts, label{X: chartLeft + 14, Y: 33, Anchor: "start",
		Text: fmt.Sprintf("this domain (%s names)", comma(uint64(n)))})
	if bg > 0 {
		c.Rects = append(c.Rects, rect{X: chartLeft + 200, Y: 24, W: 10, H: 10, Class: "bg"})
		c.Texts = append(c.Texts, label{X: chartLeft + 214, Y: 33, Anchor: "start",
			Text: fmt.Sprintf("all domains (%s names)", comma(uint64(bg)))})
	}
	step, yTop := niceScale(maxS, 1)
	for v := 0.0; v <= yTop+step/2; v += step {
		yy := top + h - v/yTop*h
		class := "grid"
		if v == 0 {
			class = "axis"
		}
		c.Lines = append(c.Lines, line{X1: chartLeft, Y1: yy, X2: chartLeft + plotW, Y2: yy, Class: class})
		c.Texts = append(c.Texts, label{X: chartLeft - 6, Y: yy + 4, Anchor: "end", Text: strconv.FormatFloat(v, 'f', -1, 64) + "%"})
	}
	c.Lines = append(c.Lines, line{X1: chartLeft, Y1: top, X2: chartLeft, Y2: top + h, Class: "axis"})
	slot := plotW / float64(buckets)
	barW := slot * 0.36
	for i := 0; i < buckets; i++ {
		x := chartLeft + float64(i)*slot
		rangeText := fmt.Sprintf("%d–%d bytes", i*16, i*16+15)
		if i == buckets-1 {
			rangeText = fmt.Sprintf("%d bytes or more", i*16)
		}
		if s := share(float64(lengths[i]), n); s > 0 {
			bh := s / yTop * h
			c.Rects = append(c.Rects, rect{X: x + slot*0.12, Y: top + h - bh, W: barW, H: bh, Class: "bf",
				Tip: fmt.Sprintf("this domain, %s: %s names (%.1f%%)", rangeText, comma(uint64(lengths[i])), s)})
		}
		if i < len(background) {
			if s := share(float64(background[i]), bg); s > 0 {
				bh := s / yTop * h
				c.Rects = append(c.Rects, rect{X: x + slot*0.12 + barW, Y: top + h - bh, W: barW, H: bh, Class: "bg",
					Tip: fmt.Sprintf("all domains, %s: %s names (%.1f%%)", rangeText, comma(background[i]), s)})
			}
		}
		c.Lines = append(c.Lines, line{X1: x, Y1: top + h, X2: x, Y2: top + h + 4, Class: "axis"})
		if i%2 == 0 || slot >= 36 {
			c.Texts = append(c.Texts, label{X: x, Y: top + h + 16, Anchor: "middle", Text: strconv.Itoa(i * 16)})
		}
	}
	c.Texts = append(c.Texts, label{X: chartLeft + plotW, Y: top + h + 36, Anchor: "end", Class: "cap",
		Text: "subdomain length in bytes (16-byte steps; the last one open)"})
	return c
}
