package fingerprint

import "bytes"

// DNSlivery (no0be/DNSlivery), files and PowerShell payloads delivered in
// TXT answers. Facts used, from dnslivery.py:
//
//   - each served file gets a name of its own: the file name lower-cased,
//     every byte outside a-z, 0-9 and '-' replaced by '-';
//   - the file's base64 (standard alphabet, '=' padded) is cut into chunks
//     of 255 characters (the -s option; 255 by default), and chunk n is
//     the one TXT string answering "<file>.<n>.<domain>";
//   - "<file>.<domain>", "<file>.exec.<domain>" and "<file>.save.<domain>"
//     are answered with a PowerShell stager that fetches the chunks:
//     `... Resolve-DnsName -type TXT -Name "<file>.$_.<domain>" ...`, or
//     `"<file>.0.<domain>"` for a file of one chunk.

// dnsliveryChunk is the default chunk size, the TXT string of every chunk
// but the last.
const dnsliveryChunk = 255

// dnsliveryStager is the text every stager holds just before the name of
// the file it fetches (a variable: a converted constant this long would be
// allocated at each call).
var dnsliveryStager = []byte(`Resolve-DnsName -type TXT -Name "`)

func dnsliveryMatch(v *view, m *Message) Match {
	if m.QType != typeTXT || !m.Response {
		return Match{}
	}
	file := v.label(0)
	for _, c := range file {
		if classTab[c]&cAlnum == 0 && c != '-' {
			return Match{}
		}
	}
	rr, rdata, ok := firstAnswer(m.Msg)
	if !ok || rr.Type != typeTXT {
		return Match{}
	}
	if dnsliveryStagerFor(rdata, file) {
		return Match{Tool: DNSlivery, Strength: Strong, Evidence: EvDNSliveryStager}
	}
	if v.n < 2 {
		return Match{}
	}
	n, ok := parseDec(v.label(1))
	if !ok || len(rdata) < 1 || int(rdata[0]) != len(rdata)-1 {
		return Match{}
	}
	// One string, all of it base64: a full chunk is strong; a shorter one
	// (the last chunk, or a size chosen with -s) is only consistent.
	chunk := rdata[1:]
	if !dnsliveryBase64(chunk) {
		return Match{}
	}
	switch {
	case len(chunk) == dnsliveryChunk && chunk[len(chunk)-1] != '=':
		return Match{Tool: DNSlivery, Strength: Strong, Evidence: EvDNSliveryChunk, Detail: n}
	case len(chunk) >= dnsliveryMinChunk:
		return Match{Tool: DNSlivery, Strength: Weak, Evidence: EvDNSliveryChunk, Detail: n}
	}
	return Match{}
}

// dnsliveryMinChunk is the shortest string a weak chunk match takes: a
// word or a flag answered in TXT is not a file.
const dnsliveryMinChunk = 8

// dnsliveryStagerFor reports whether a TXT record's data holds a DNSlivery
// stager fetching file (compared without case: a resolver may scramble
// the case of the question, never of the answer).
func dnsliveryStagerFor(rdata, file []byte) bool {
	i := bytes.Index(rdata, dnsliveryStager)
	if i < 0 {
		return false
	}
	rest := rdata[i+len(dnsliveryStager):]
	if len(rest) <= len(file) || rest[len(file)] != '.' {
		return false
	}
	for j, c := range file {
		if lower(c) != rest[j] {
			return false
		}
	}
	return true
}

// dnsliveryBase64 reports whether b is standard base64 text: the alphabet,
// then at most two '=' at the end.
func dnsliveryBase64(b []byte) bool {
	end := len(b)
	for k := 0; k < 2 && end > 0 && b[end-1] == '='; k++ {
		end--
	}
	return end > 0 && all(b[:end], cB64)
}
