package output

import (
	"bufio"
	"fmt"
	"io"
)

// CSVReader reads rows in the dialect CSVWriter writes (and Python's csv
// module with delimiter "|" and quotechar "^"): fields split at "|",
// fields enclosed in "^" may hold "|", line breaks and doubled "^".
type CSVReader struct {
	r    *bufio.Reader
	line int
}

// NewCSVReader returns a reader on r.
func NewCSVReader(r io.Reader) *CSVReader {
	return &CSVReader{r: bufio.NewReaderSize(r, 1<<16), line: 1}
}

// Read returns the next row, or io.EOF.
func (c *CSVReader) Read() ([]string, error) {
	var fields []string
	var f []byte
	quoted, inField := false, false
	for {
		b, err := c.r.ReadByte()
		if err == io.EOF {
			if quoted {
				return nil, fmt.Errorf("line %d: unterminated ^-quoted field", c.line)
			}
			if !inField && len(fields) == 0 && len(f) == 0 {
				return nil, io.EOF
			}
			return append(fields, string(f)), nil
		}
		if err != nil {
			return nil, err
		}
		inField = true
		switch {
		case quoted && b == '^':
			next, err := c.r.ReadByte()
			if err == nil && next == '^' {
				f = append(f, '^')
				continue
			}
			if err == nil {
				c.r.UnreadByte()
			}
			quoted = false
		case quoted:
			if b == '\n' {
				c.line++
			}
			f = append(f, b)
		case b == '^' && len(f) == 0:
			quoted = true
		case b == '|':
			fields = append(fields, string(f))
			f = f[:0]
		case b == '\r':
			// part of the row terminator
		case b == '\n':
			c.line++
			return append(fields, string(f)), nil
		default:
			f = append(f, b)
		}
	}
}
