package fingerprint

// DNS-Shell (sensepost/DNS-Shell), a PowerShell reverse shell over DNS.
// Facts used, from DNS-shell.py (the payload prepare_recursive and
// prepare_direct write, and the server's handlers):
//
//   - every 3 seconds the client asks TXT "<Get-Random>.<domain>" (a
//     decimal number); the server answers "NoCMD" or the command.
//   - a command's output, as the hex of its UTF-8 bytes (BitConverter,
//     upper case, dashes removed), goes up in A queries: first
//     "<rnd>.CMDC<chunks>.<domain>" ("CMDC" alone when the length divides
//     evenly), then "<rnd>.CMD<i>.<50 hex>.<domain>" and a shorter last
//     chunk, then "<rnd>.END.<domain>"; each is answered 127.0.0.1.

// dnsShellChunk is the hex characters a full output chunk holds.
const dnsShellChunk = 50

func dnsShellMatch(v *view, m *Message) Match {
	// Get-Random: a non-negative Int32, up to 10 digits.
	if l0 := v.label(0); len(l0) > 10 || !all(l0, cDigit) {
		return Match{}
	}
	if m.QType == typeTXT {
		// A poll ("<rnd>.<domain>"): only its answer tells.
		if m.Response {
			if txt, ok := firstTXT(m.Msg); ok && string(txt) == "NoCMD" {
				return Match{Tool: DNSShell, Strength: Strong, Evidence: EvDNSShellPoll}
			}
		}
		return Match{}
	}
	if m.QType != typeA || v.n < 2 {
		return Match{}
	}
	l1 := v.label(1)
	switch {
	case len(l1) >= 4 && equalFold(l1[:4], "cmdc"):
		if _, ok := parseDec(l1[4:]); ok || len(l1) == 4 {
			return Match{Tool: DNSShell, Strength: Strong, Evidence: EvDNSShellOutput}
		}
	case len(l1) > 3 && equalFold(l1[:3], "cmd") && v.n >= 3:
		if _, ok := parseDec(l1[3:]); !ok {
			return Match{}
		}
		if h := v.label(2); len(h)%2 == 0 && len(h) <= dnsShellChunk && all(h, cHex) {
			return Match{Tool: DNSShell, Strength: Strong, Evidence: EvDNSShellOutput}
		}
	case equalFold(l1, "end"):
		return Match{Tool: DNSShell, Strength: Weak, Evidence: EvDNSShellOutput}
	}
	return Match{}
}
