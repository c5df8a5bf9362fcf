package zeek

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"
)

// Record is one dns.log line: one DNS transaction (a query, its response,
// or both) as Zeek's DNS::Info logs it. Fields Zeek left unset are zero and
// their *Set flag is false.
//
// Query, Answers and TTLs alias the Reader's buffers and are valid until the
// next call to Next; the strings themselves (UID, Proto, each answer) are
// never modified and may be kept.
type Record struct {
	// Time is ts: when Zeek saw the first message of the transaction (the
	// query, or the response when only the response was seen), in UTC.
	Time time.Time
	// UID is the connection uid.
	UID string
	// Client is id.orig_h:id.orig_p, Server id.resp_h:id.resp_p (invalid
	// when not logged).
	Client, Server netip.AddrPort
	// Proto is the transport: "udp", "tcp", ...
	Proto string
	// TransID is the DNS message ID (0 if unset).
	TransID uint16
	// Query is the question name as logged, with Zeek's \xNN escapes
	// decoded to raw bytes; Zeek lowercases it and drops the final dot. It
	// is nil when unset (a reply without question, a malformed
	// transaction) and empty for the root.
	Query []byte
	// QClass is the question class (0 if unset).
	QClass uint16
	// QType is the question type, valid when QTypeSet.
	QType    uint16
	QTypeSet bool
	// RCode is the response code, valid when RCodeSet: Zeek sets it when
	// it saw a response.
	RCode    uint8
	RCodeSet bool
	// AA, TC, RD, RA are the header bits Zeek logged (AA and RA from the
	// response, TC and RD from the query).
	AA, TC, RD, RA bool
	// Rejected is Zeek's "rejected" flag (a response with no answer,
	// authority or additional records, or an error with no question).
	Rejected bool
	// Answers are the answer-section records as Zeek describes them (an
	// address, a name, "TXT 5 hello", "<unknown type=10>", ...) and TTLs
	// their TTLs in seconds; nil when unset, empty for "(empty)".
	Answers []string
	TTLs    []float64
	// RTT is the time from query to response, valid when RTTSet (Zeek
	// leaves it unset when it only saw the response).
	RTT    time.Duration
	RTTSet bool
	// Line is the 1-based line number in its file, for reports.
	Line int
}

// MaxLine is the longest line accepted, in bytes (without the newline). A
// longer line is skipped without being held in memory and reported as a
// *LineError wrapping ErrLineTooLong.
const MaxLine = 1 << 20

// Errors a *LineError wraps, matched with errors.Is.
var (
	// ErrLineTooLong: the line is longer than MaxLine.
	ErrLineTooLong = errors.New("line longer than 1 MiB")
	// ErrTruncatedLine: the last line of the file has no newline and does
	// not parse (the log was cut while being written).
	ErrTruncatedLine = errors.New("truncated last line")
	// ErrFieldCount: a TSV line does not have as many fields as #fields
	// declares.
	ErrFieldCount = errors.New("wrong number of fields")
	// ErrSyntax: a JSON line is not a well-formed JSON object.
	ErrSyntax = errors.New("JSON syntax error")
	// ErrValue: a field value does not parse as its type.
	ErrValue = errors.New("bad field value")
	// ErrHeader: a TSV header line is malformed (#fields without ts, an
	// empty #separator, ...).
	ErrHeader = errors.New("bad header line")
	// ErrMissingField: a record has no ts.
	ErrMissingField = errors.New("missing ts field")
)

// ErrNotDNSLog is returned by NewReader when the content is neither a Zeek
// TSV log nor a JSON log, or is the TSV log of another stream (#path is
// not dns...).
var ErrNotDNSLog = errors.New("not a Zeek dns.log")

// LineError reports a line that could not be read as a record. The reader
// skips it: the next call to Next goes on with the following line.
type LineError struct {
	File string // the name given to NewReader or the path given to Open
	Line int    // 1-based line number
	Err  error  // wraps one of the Err* sentinels
}

// Error formats as "dns.log:12: bad field value: query: ...".
func (e *LineError) Error() string {
	return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Err.Error()
}

// Unwrap returns Err.
func (e *LineError) Unwrap() error { return e.Err }

// field identifies a DNS::Info column.
type field uint8

// The DNS::Info columns (Zeek base/protocols/dns/main.zeek), plus _path
// (added by some JSON shippers); fOther is any other column, ignored.
const (
	fOther field = iota
	fTS
	fUID
	fOrigH
	fOrigP
	fRespH
	fRespP
	fProto
	fTransID
	fRTT
	fQuery
	fQClass
	fQClassName
	fQType
	fQTypeName
	fRCode
	fRCodeName
	fAA
	fTC
	fRD
	fRA
	fZ
	fAnswers
	fTTLs
	fRejected
	fPath
)

// fieldNames are the names of the columns, in Zeek's default order.
var fieldNames = [...]string{
	fTS: "ts", fUID: "uid", fOrigH: "id.orig_h", fOrigP: "id.orig_p", fRespH: "id.resp_h",
	fRespP: "id.resp_p", fProto: "proto", fTransID: "trans_id", fRTT: "rtt", fQuery: "query",
	fQClass: "qclass", fQClassName: "qclass_name", fQType: "qtype", fQTypeName: "qtype_name",
	fRCode: "rcode", fRCodeName: "rcode_name", fAA: "AA", fTC: "TC", fRD: "RD", fRA: "RA",
	fZ: "Z", fAnswers: "answers", fTTLs: "TTLs", fRejected: "rejected", fPath: "_path",
}

// defaultFields is Zeek's column order for dns.log, used for a TSV log
// written without header (LogAscii::include_meta = F).
var defaultFields = []field{
	fTS, fUID, fOrigH, fOrigP, fRespH, fRespP, fProto, fTransID, fRTT, fQuery, fQClass,
	fQClassName, fQType, fQTypeName, fRCode, fRCodeName, fAA, fTC, fRD, fRA, fZ, fAnswers,
	fTTLs, fRejected,
}

// lookupField maps a column name to its field; it does not allocate.
func lookupField(name []byte) field {
	for i := fTS; i <= fPath; i++ {
		if string(name) == fieldNames[i] {
			return i
		}
	}
	return fOther
}

// valueError wraps ErrValue with the field name.
func valueError(f field, what string) error {
	return fmt.Errorf("%w: %s: %s", ErrValue, fieldNames[f], what)
}
