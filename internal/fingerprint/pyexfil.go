package fingerprint

import (
	"bytes"

	"github.com/dnsieve/dnsieve/internal/dnswire"
)

// PyExfil's DNS exfiltration (ytisf/PyExfil, pyexfil/network/DNS/dns_exfil.py
// and its older copies: _build_dns_query/build_dns, dns_exfil). Facts used:
//
//   - every query is built by hand: ID 0x0406, flags 0x0100, one
//     question and no records (the 12 bytes 04 06 01 00 00 01 00 00 00 00
//     00 00), the name given (the server's address), type A, class IN;
//   - the data follows the question, in bytes no record count announces:
//     "INIT_445" + the file name + "::" + its CRC-32 first, then chunks of
//     the (compressed, possibly encrypted) file each ending with the
//     terminator cc cc cc cc ff ff ff ff, then terminator, NUL, terminator.
//     The queries go straight to the server, which answers only at the
//     end, in plain text.

// pyexfilHeader is the fixed start of every PyExfil query.
var pyexfilHeader = []byte{0x04, 0x06, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}

var (
	pyexfilInit       = []byte("INIT_445")
	pyexfilTerminator = []byte{0xcc, 0xcc, 0xcc, 0xcc, 0xff, 0xff, 0xff, 0xff}
)

// pyexfilMatch recognises a PyExfil query from its whole message: the
// header, then bytes after the question. They are strong with the
// initiation string or the terminator, weak otherwise.
func pyexfilMatch(msg []byte) Match {
	if !bytes.HasPrefix(msg, pyexfilHeader) {
		return Match{}
	}
	var p dnswire.Parser
	var q dnswire.Question
	if _, err := p.Start(msg); err != nil {
		return Match{}
	}
	if err := p.Question(&q); err != nil || q.Type != typeA {
		return Match{}
	}
	trail := msg[p.Offset():]
	switch {
	case len(trail) == 0:
		return Match{}
	case bytes.HasPrefix(trail, pyexfilInit) || bytes.HasSuffix(trail, pyexfilTerminator):
		return Match{Tool: PyExfil, Strength: Strong, Evidence: EvPyExfilData}
	}
	return Match{Tool: PyExfil, Strength: Weak, Evidence: EvPyExfilData}
}
