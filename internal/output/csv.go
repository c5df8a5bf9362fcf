package output

import (
	"io"
	"strconv"
	"strings"
)

// CSVHeader is the first row of out.csv, unchanged from the old tool.
var CSVHeader = []string{"pcap_name", "packet_number", "probability", "reason"}

// CSVWriter writes rows in the old tool's dialect: fields separated by "|",
// a field that holds "|", "^", a carriage return or a line feed enclosed in
// "^" with inner "^" doubled, rows ended by "\r\n". This is what Python's
// csv.writer(f, delimiter="|", quotechar="^") produces (QUOTE_MINIMAL,
// doublequote, the default line terminator).
type CSVWriter struct {
	w   io.Writer
	buf []byte
	err error
}

// NewCSVWriter returns a writer on w.
func NewCSVWriter(w io.Writer) *CSVWriter { return &CSVWriter{w: w} }

// WriteRow writes one row. Text fields are passed through SafeText by the
// caller where they come from the network; WriteRow neutralises formulas
// and quotes as needed. After an error every call returns it.
func (c *CSVWriter) WriteRow(fields ...string) error {
	if c.err != nil {
		return c.err
	}
	c.buf = c.buf[:0]
	for i, f := range fields {
		if i > 0 {
			c.buf = append(c.buf, '|')
		}
		c.buf = appendField(c.buf, NeutralizeFormula(f))
	}
	c.buf = append(c.buf, '\r', '\n')
	_, c.err = c.w.Write(c.buf)
	return c.err
}

// WriteFlag writes one out.csv row without allocating: the file name,
// packet number, probability and reason.
func (c *CSVWriter) WriteFlag(pcap string, packet uint64, probability, reason string) error {
	if c.err != nil {
		return c.err
	}
	c.buf = c.buf[:0]
	c.buf = appendField(c.buf, NeutralizeFormula(pcap))
	c.buf = append(c.buf, '|')
	c.buf = strconv.AppendUint(c.buf, packet, 10)
	c.buf = append(c.buf, '|')
	c.buf = appendField(c.buf, probability)
	c.buf = append(c.buf, '|')
	c.buf = appendField(c.buf, NeutralizeFormula(reason))
	c.buf = append(c.buf, '\r', '\n')
	_, c.err = c.w.Write(c.buf)
	return c.err
}

func appendField(b []byte, f string) []byte {
	if !strings.ContainsAny(f, "|^\r\n") {
		return append(b, f...)
	}
	b = append(b, '^')
	for i := 0; i < len(f); i++ {
		if f[i] == '^' {
			b = append(b, '^')
		}
		b = append(b, f[i])
	}
	return append(b, '^')
}
