package dnswire

// parseError is the type of every error this package returns. The values are
// package-level sentinels, so returning one never allocates, and they compare
// with == as well as errors.Is.
type parseError struct {
	msg string
	// short marks the sentinels that also match ErrShortMessage.
	short bool
}

func (e *parseError) Error() string { return e.msg }

// Is makes every "message too short" sentinel match ErrShortMessage too.
func (e *parseError) Is(target error) bool {
	return e.short && target == ErrShortMessage
}

// Sentinel errors. Compare them with errors.Is (or ==).
var (
	// ErrShortMessage matches (with errors.Is) every ErrShortXxx below. It
	// is never returned itself.
	ErrShortMessage error = &parseError{msg: "dnswire: message too short", short: true}
	// ErrShortHeader: the message is shorter than the 12-byte header.
	ErrShortHeader error = &parseError{msg: "dnswire: message shorter than the header", short: true}
	// ErrShortQuestion: a question's name, type or class runs past the end
	// of the message.
	ErrShortQuestion error = &parseError{msg: "dnswire: question runs past the end of the message", short: true}
	// ErrShortResource: a resource record's name, fixed fields or RDATA run
	// past the end of the message.
	ErrShortResource error = &parseError{msg: "dnswire: resource record runs past the end of the message", short: true}
	// ErrShortName: ReadName ran past the end of the message. Question and
	// the resource methods report ErrShortQuestion / ErrShortResource instead.
	ErrShortName error = &parseError{msg: "dnswire: name runs past the end of the message", short: true}

	// ErrBadPointer: a compression pointer to itself or to a later offset.
	// RFC 1035 section 4.1.4 only allows pointers to a prior occurrence.
	ErrBadPointer error = &parseError{msg: "dnswire: compression pointer does not point backwards"}
	// ErrPointerLoop: a compression pointer that points backwards but not
	// before the labels already read since the last jump, so following it
	// would read them again (a loop); or a chain of more than MaxPointers
	// pointers.
	ErrPointerLoop error = &parseError{msg: "dnswire: compression pointer loop"}
	// ErrNameTooLong: a name longer than 255 octets in wire form
	// (RFC 1035 section 3.1), counting the labels reached through pointers.
	ErrNameTooLong error = &parseError{msg: "dnswire: name longer than 255 octets"}
	// ErrBadLabelType: a label whose two top bits are 01 (the EDNS extended
	// label type, RFC 6891 section 5) or 10 (reserved).
	ErrBadLabelType error = &parseError{msg: "dnswire: unsupported label type"}
	// ErrSectionDone: no more records in the section asked for (or the
	// parser has already moved past it).
	ErrSectionDone error = &parseError{msg: "dnswire: no more records in this section"}
	// ErrNotStarted: a Parser method was called before a successful Start.
	ErrNotStarted error = &parseError{msg: "dnswire: parser not started"}
)
