package report

import "fmt"

// tone is how a headline without findings reads: good news or a warning.
type tone int

const (
	toneClean tone = iota // every input read, nothing found
	toneWarn              // nothing found, but not everything was looked at
)

// quietHeadline is the headline of a run without findings: its title, a
// sentence saying what the title rests on, and its tone. A run that read
// no capture, lost some to errors, or judged no domain (the engine off)
// must not read as a clean bill of health.
func quietHeadline(s *Input) (title, detail string, t tone) {
	tot := &s.Totals
	switch {
	case tot.FilesScanned == 0:
		detail := "No capture file was found in the inputs."
		switch {
		case tot.FilesFailed > 0:
			detail = fmt.Sprintf("%d input%s could not be read: see out.log.", tot.FilesFailed, plural(tot.FilesFailed))
		case tot.FilesSkipped > 0:
			detail = fmt.Sprintf("%d capture%s skipped as already processed.", tot.FilesSkipped, plural(tot.FilesSkipped))
			if s.Kept {
				detail = fmt.Sprintf("%d capture%s skipped as already processed; the results already in the output directory are kept.",
					tot.FilesSkipped, plural(tot.FilesSkipped))
			}
		}
		return "No capture analysed", detail, toneWarn
	case s.ChecksOnly:
		return "Behavioural engine off (--checks-only)",
			fmt.Sprintf("No domain was judged; %s packets were flagged by the per-packet checks alone (out.csv).",
				comma(tot.TotalMaliciousPackets)), toneWarn
	case tot.FilesFailed > 0:
		return "No DNS tunnel found in what could be read",
			fmt.Sprintf("%d input%s could not be read to the end: see out.log.", tot.FilesFailed, plural(tot.FilesFailed)), toneWarn
	}
	return "No DNS tunnel found", "No domain's traffic looked like a tunnel or exfiltration.", toneClean
}
