package engine

import (
	"net/netip"

	"github.com/dnsieve/dnsieve/internal/fingerprint"
)

// Observation is one DNS message as the engine sees it. Slices are only
// read during Observe.
type Observation struct {
	// Time is the capture time in Unix nanoseconds; all windows use it.
	Time int64
	// File is the index of the capture the message came from.
	File int
	// Client is the host that asked: the source of a query, the
	// destination of a response.
	Client netip.Addr
	// Server is the other end.
	Server   netip.Addr
	Response bool
	QType    uint16
	RCode    uint8
	// Name is the first question name, lowercased, labels joined by '.';
	// Labels are the label lengths; RegStart is the index in Name where
	// the registered domain starts (0: the whole name).
	Name     []byte
	Labels   []uint8
	RegStart int
	// MixedCase is true when the name on the wire mixed upper and lower
	// case letters (0x20 randomisation or a case-sensitive encoding).
	MixedCase bool
	// Size is the DNS message length; AnswerData the RDATA bytes of the
	// answer section.
	Size       int
	AnswerData int
	// EDNSData is the size of the EDNS OPT record's options.
	EDNSData int
	// DataAnswer is how many bytes of a response's answers look like
	// encoded data (TXT strings of base64 or hex, NULL, KEY and
	// private-use records, AAAA addresses no host can have); DataRecords
	// lists those records one by one (at most MaxDataRecords: later ones
	// fold into the last), so that a record seen before counts once
	// whatever order a server returns a set in.
	DataAnswer  int
	DataRecords []DataRecord
	// Answer is the first A or AAAA address in the answer section.
	Answer netip.Addr
	// Match is what the fingerprints recognised in the message.
	Match fingerprint.Match
	// Flagged is true when a per-message check fired.
	Flagged bool
	// OffPort is true when the message was recognised by its content on a
	// port that is not a DNS port; ServerPort is the server's port then.
	OffPort    bool
	ServerPort uint16
	// Estimated is true when Size and AnswerData are estimates (the input,
	// such as a Zeek log, does not record message sizes).
	Estimated bool
}

// RawObservation is a non-DNS payload on a DNS port that a fingerprint
// recognised (iodine's raw mode sends its tunnel over plain UDP on port 53
// after a DNS handshake).
type RawObservation struct {
	Time           int64
	File           int
	Client, Server netip.Addr
	Size           int
	Match          fingerprint.Match
}

// DataRecord is one answer record whose content looks like encoded data:
// a hash of that content and its size.
type DataRecord struct {
	Hash  uint64
	Bytes int
}

// MaxDataRecords bounds Observation.DataRecords.
const MaxDataRecords = 16

// AddDataRecord notes one answer record of n bytes of encoded-looking
// content with hash h. buf is the caller's scratch space, which
// DataRecords then uses; past MaxDataRecords records, later ones fold into
// the last entry (bytes and hashes summed), so that a message's records
// stay bounded.
func (o *Observation) AddDataRecord(buf *[MaxDataRecords]DataRecord, n int, h uint64) {
	o.DataAnswer += n
	if o.DataRecords == nil {
		o.DataRecords = buf[:0]
	}
	if len(o.DataRecords) < cap(o.DataRecords) {
		o.DataRecords = append(o.DataRecords, DataRecord{Hash: h, Bytes: n})
		return
	}
	last := &o.DataRecords[len(o.DataRecords)-1]
	last.Hash += h
	last.Bytes += n
}
