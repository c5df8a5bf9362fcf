// Package report turns the results of a scan into the two things an
// analyst reads first: a short summary on the terminal (Terminal) and
// report.html (HTML), one self-contained page to open offline and hand to a
// colleague.
//
// The package owns presentation only. It takes plain data (Input), filled
// by the caller from the scan's summary, and decides nothing about
// detection. Every string that came from the network (domain names, sample
// names, evidence, client addresses, file names) is treated as hostile: it
// is passed through output.SafeText, which escapes control bytes, escape
// sequences and invalid UTF-8, and the HTML is produced by html/template,
// whose contextual escaping keeps it text. report.html loads nothing from
// anywhere: its style is inline and allowed by hash in a strict
// Content-Security-Policy, it has no script at all, and its charts are SVG
// drawn when the report is written.
package report
