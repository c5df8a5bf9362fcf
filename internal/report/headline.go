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
			if s.Deeper {
				detail += " Captures in subdirectories are read with --recursive (-r)."
			}
		case s.Deeper:
			detail = "No capture file was found directly in the inputs; their subdirectories hold some: add --recursive (-r)."
		case tot.FilesSkipped > 0:
			detail = fmt.Sprintf("%d capture%s skipped as already processed.", tot.FilesSkipped, plural(tot.FilesSkipped))
			if s.Kept {
				detail = fmt.Sprintf("%d capture%s skipped as already processed; the results already in the output directory are kept.",
					tot.FilesSkipped, plural(tot.FilesSkipped))
			}
		}
		return "No capture analysed", detail, toneWarn
	case tot.TotalDNSMessages == 0 && tot.FilesFailed > 0:
		return "No DNS traffic found in what could be read",
			fmt.Sprintf("%d input%s could not be read to the end: see out.log. The rest held no DNS message.",
				tot.FilesFailed, plural(tot.FilesFailed)), toneWarn
	case tot.TotalDNSMessages == 0:
		// Nothing was looked at: DNS on another port, or not DNS at all.
		if tot.TotalPackets == 0 {
			if tot.FilesScanned == 1 {
				return "No DNS traffic found", "The capture held no packet.", toneWarn
			}
			return "No DNS traffic found", fmt.Sprintf("The %d captures held no packet.", tot.FilesScanned), toneWarn
		}
		if tot.TotalMalformed > 0 {
			return "No DNS traffic found", fmt.Sprintf("%s packet%s read, %s of them malformed DNS messages (see out.log) and none a readable one.",
				comma(tot.TotalPackets), plural(int(min(tot.TotalPackets, 2))), comma(tot.TotalMalformed)), toneWarn
		}
		return "No DNS traffic found",
			fmt.Sprintf("%s packet%s read, none of them DNS (UDP is recognised on any port, TCP only on the --ports given).",
				comma(tot.TotalPackets), plural(int(min(tot.TotalPackets, 2)))), toneWarn
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
