package fingerprint

import "bytes"

// DNSlivery (no0be/DNSlivery), files and PowerShell payloads delivered in
// TXT answers. Facts used, from dnslivery.py:
//
//   - each served file gets a name of its own: the file name lower-cased,
//     every byte outside a-z, 0-9 and '-' replaced by '-';
//   - the file's base64 (standard alphabet, '=' padded) is cut into chunks
//     of 255 characters (the -s option; 255 by default), and chunk n is
//     the TXT record answering "<file>.<n>.<domain>": one string, or, for a
//     size over 255, strings of 255 and a shorter last one (scapy cuts TXT
//     data so);
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
	digits := true
	for _, c := range file {
		if classTab[c]&cAlnum == 0 && c != '-' {
			return Match{}
		}
		digits = digits && classTab[c]&cDigit != 0
	}
	rr, rdata, ok := firstAnswer(m.Msg)
	if !ok || rr.Type != typeTXT {
		return Match{}
	}
	if dnsliveryStagerFor(rdata, file) {
		return Match{Tool: DNSlivery, Strength: Strong, Evidence: EvDNSliveryStager}
	}
	// A chunk's name: "<file>.<n>". A file name of digits alone is more
	// likely a reversed address (a blocklist's "2.0.0.127").
	if v.n < 2 || digits {
		return Match{}
	}
	n, ok := parseDec(v.label(1))
	if !ok {
		return Match{}
	}
	// The chunk, all of it base64: a full one of the default size, or one
	// over several strings, is strong; a shorter one (the last chunk, or a
	// size chosen with -s) is only consistent.
	size, whole := dnsliveryChunkSize(rdata)
	switch {
	case size == 0:
		return Match{}
	case whole && size >= dnsliveryChunk:
		return Match{Tool: DNSlivery, Strength: Strong, Evidence: EvDNSliveryChunk, Detail: n}
	case size >= dnsliveryMinChunk:
		return Match{Tool: DNSlivery, Strength: Weak, Evidence: EvDNSliveryChunk, Detail: n}
	}
	return Match{}
}

// dnsliveryMinChunk is the shortest chunk a weak match takes: a word or a
// token answered in TXT is not a file.
const dnsliveryMinChunk = 16

// dnsliveryChunkSize returns the characters of base64 a TXT record's data
// holds when it is one chunk as DNSlivery writes it (0 otherwise): its
// strings all of 255 but the last, the alphabet, at most two '=' at the
// very end. whole is true when no '=' ends it: not a file's last chunk.
func dnsliveryChunkSize(rdata []byte) (size int, whole bool) {
	end := false
	for len(rdata) > 0 {
		l := int(rdata[0])
		if end || l == 0 || l > len(rdata)-1 {
			return 0, false
		}
		str := rdata[1 : 1+l]
		rdata = rdata[1+l:]
		end = l < dnsliveryChunk
		pad := 0
		for pad < 2 && pad < len(str) && str[len(str)-1-pad] == '=' {
			pad++
		}
		if pad > 0 && len(rdata) > 0 || !all(str[:len(str)-pad], cB64) {
			return 0, false
		}
		size += l
		whole = pad == 0
	}
	return size, whole
}

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
