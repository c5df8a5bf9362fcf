package engine

import (
	"math"
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
	// AnswerV4 counts the A records of the answer section (at most 255)
	// and AnswerV4Firsts holds the first octets of the first
	// MaxAnswerV4Firsts of them. Fill them with AddAnswerV4.
	AnswerV4       uint8
	AnswerV4Firsts [MaxAnswerV4Firsts]byte
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
	// DataRecords lists the records of a response's answers whose
	// content looks like encoded data (TXT strings of base64 or hex, NULL,
	// KEY and private-use records, AAAA addresses no host can have), one
	// by one, so that a record seen before counts once whatever order a
	// server returns a set in. Fill it with AddDataRecord: it holds at
	// most MaxDataRecords entries (the engine reads no more).
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

	// folded is true once DataRecords' last entry is a fold of several
	// records (AddDataRecord).
	folded bool
	// hashes are the hashes of the names, when a Hasher computed them
	// (Hasher.Hash); Observe uses them only if its own engine's did.
	hashes observationHashes
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

// MaxAnswerV4Firsts is how many A records' first octets an Observation
// holds: a payload packed into many A records an answer still shows its
// spread in the first few.
const MaxAnswerV4Firsts = 8

// AddAnswerV4 counts an A record of the answer section whose address
// starts with first.
func (o *Observation) AddAnswerV4(first byte) {
	if int(o.AnswerV4) < MaxAnswerV4Firsts {
		o.AnswerV4Firsts[o.AnswerV4] = first
	}
	if o.AnswerV4 < math.MaxUint8 {
		o.AnswerV4++
	}
}

// MaxDataRecords bounds Observation.DataRecords.
const MaxDataRecords = 16

// AddDataRecord notes one answer record of n bytes of encoded-looking
// content with hash h. buf is the caller's scratch space, which
// DataRecords then uses. Up to MaxDataRecords records are listed one by
// one; beyond, the list keeps the MaxDataRecords-1 records with the
// smallest hashes and folds all others into its last entry (bytes and
// hashes summed), so that what a set of records gives does not depend on
// the order they came in.
func (o *Observation) AddDataRecord(buf *[MaxDataRecords]DataRecord, n int, h uint64) {
	if o.DataRecords == nil {
		o.DataRecords, o.folded = buf[:0], false
	}
	r := DataRecord{Hash: h, Bytes: n}
	if len(o.DataRecords) < MaxDataRecords {
		o.DataRecords = append(o.DataRecords, r)
		return
	}
	fold := &o.DataRecords[MaxDataRecords-1]
	if !o.folded {
		// The last entry becomes the fold: its record is placed again.
		o.folded = true
		last := *fold
		*fold = DataRecord{}
		o.foldRecord(last)
	}
	o.foldRecord(r)
}

// foldRecord places r in a full list: the records kept one by one are
// the smallest hashes seen, every other record is summed into the fold.
func (o *Observation) foldRecord(r DataRecord) {
	kept, fold := o.DataRecords[:MaxDataRecords-1], &o.DataRecords[MaxDataRecords-1]
	big := 0
	for i := range kept {
		if kept[i].Hash > kept[big].Hash {
			big = i
		}
	}
	if r.Hash < kept[big].Hash {
		r, kept[big] = kept[big], r
	}
	fold.Hash += r.Hash
	fold.Bytes += r.Bytes
}
