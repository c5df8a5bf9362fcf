package fingerprint

// DET, the Data Exfiltration Toolkit (sensepost/DET), its DNS plugin.
// Facts used:
//
//   - det.py: every message is "<jobid>|!|..." ("<jobid>|!|<file>|!|
//     REGISTER|!|<md5>", "<jobid>|!|<index>|!|<data>", "<jobid>|!|<index>|!|
//     DONE"), the job id 7 characters drawn from letters and digits.
//   - plugins/dns.py send: the message is written in hex, and every query
//     name is the job id followed by the next part of that hex, cut into
//     labels of 63 (a shorter one last), then the configured key domain;
//     type A (dnslib's default), sent straight to the target.
//
// So the first query of every message starts with the job id, the job id
// again in hex and "|!|" in hex ("7c217c"): DET's alone.

// detJobID is the length of DET's job id.
const detJobID = 7

// detHeader is the length of "<jobid><hex of jobid>7c217c".
const detHeader = detJobID + 2*detJobID + 6

func detMatch(v *view, _ *Message) Match {
	l0 := v.label(0)
	if len(l0) < detHeader || !all(l0[:detJobID], cAlnum) || !all(l0[detJobID:], cHex) {
		return Match{}
	}
	id, ok := decodeHex(v.dec[:detJobID], l0[detJobID:detJobID+2*detJobID])
	if !ok || !equalFold(l0[detJobID+2*detJobID:detHeader], "7c217c") {
		return Match{}
	}
	// The job id as sent may have had its case changed by a resolver
	// (0x20); its hex keeps the original.
	for i, c := range id {
		if lower(c) != lower(l0[i]) {
			return Match{}
		}
	}
	return Match{Tool: DET, Strength: Strong, Evidence: EvDETMessage}
}
