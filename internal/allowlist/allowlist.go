package allowlist

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// List is a parsed allowlist. The zero value and nil allow nothing.
type List struct {
	exact    map[string]struct{}
	wildcard map[string]struct{}
}

// Load reads an allowlist file.
func Load(path string) (*List, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	l, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
}

// Parse reads an allowlist from r. A line that is not a domain name (it
// holds white space inside, or a "*" anywhere but a leading "*.") is an
// error naming the line.
func Parse(r io.Reader) (*List, error) {
	l := &List{exact: map[string]struct{}{}, wildcard: map[string]struct{}{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.ToLower(strings.TrimSpace(line))
		if line == "" {
			continue
		}
		wild := strings.HasPrefix(line, "*.")
		if wild {
			line = line[2:]
		}
		line = strings.TrimSuffix(line, ".")
		if line == "" || strings.ContainsAny(line, " \t*") {
			return nil, fmt.Errorf("line %d: not a domain name or *.domain pattern: %q", n, sc.Text())
		}
		if wild {
			l.wildcard[line] = struct{}{}
		} else {
			l.exact[line] = struct{}{}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return l, nil
}

// Len returns the number of entries.
func (l *List) Len() int {
	if l == nil {
		return 0
	}
	return len(l.exact) + len(l.wildcard)
}

// Contains reports whether name (labels joined by '.', any case, no
// trailing dot needed) is allowlisted. It allocates nothing.
func (l *List) Contains(name []byte) bool {
	if l == nil || len(name) == 0 || len(name) > 255 {
		return false
	}
	var buf [255]byte
	low := buf[:len(name)]
	for i, b := range name {
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		low[i] = b
	}
	if low[len(low)-1] == '.' {
		low = low[:len(low)-1]
	}
	if _, ok := l.exact[string(low)]; ok {
		return true
	}
	if len(l.wildcard) == 0 {
		return false
	}
	for s := low; ; {
		if _, ok := l.wildcard[string(s)]; ok {
			return true
		}
		i := indexDot(s)
		if i < 0 {
			return false
		}
		s = s[i+1:]
	}
}

func indexDot(b []byte) int {
	for i, c := range b {
		if c == '.' {
			return i
		}
	}
	return -1
}
