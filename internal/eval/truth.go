package eval

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Truth maps frame numbers of a capture's DNS packets to their first query
// name, lowercased, as Wireshark reads them.
type Truth map[uint64]string

// LoadTruth returns the ground truth of a capture: "<capture>.truth.tsv"
// beside it when present (tshark's frame.number and dns.qry.name,
// tab-separated), else the output of tshark, cached under cacheDir by the
// capture's SHA-256.
func LoadTruth(capture, cacheDir string) (Truth, error) {
	if f, err := os.Open(capture + ".truth.tsv"); err == nil {
		defer f.Close()
		return parseTruth(f)
	}
	sum, err := fileHash(capture)
	if err != nil {
		return nil, err
	}
	cached := filepath.Join(cacheDir, sum[:24]+".tsv")
	if f, err := os.Open(cached); err == nil {
		defer f.Close()
		return parseTruth(f)
	}
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		return nil, fmt.Errorf("%s: no %s.truth.tsv and no tshark to make one (apt-get install tshark)", capture, filepath.Base(capture))
	}
	out, err := exec.Command(tshark, "-n", "-r", capture, "-Y", "dns", "-T", "fields", "-E", "separator=/t",
		"-e", "frame.number", "-e", "dns.qry.name").Output()
	if err != nil && len(out) == 0 {
		return nil, fmt.Errorf("tshark on %s: %w", capture, err)
	}
	if err := os.MkdirAll(cacheDir, 0o755); err == nil {
		tmp := cached + ".tmp"
		if os.WriteFile(tmp, out, 0o644) == nil {
			os.Rename(tmp, cached)
		}
	}
	return parseTruth(bytes.NewReader(out))
}

// parseTruth reads tshark's two columns; the name is the first of a
// comma-separated list, decoded as UTF-8 with replacement and lowercased,
// exactly as score.py does.
func parseTruth(r io.Reader) (Truth, error) {
	t := Truth{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<24)
	for sc.Scan() {
		line := sc.Bytes()
		tab := bytes.IndexByte(line, '\t')
		num, rest := line, []byte(nil)
		if tab >= 0 {
			num, rest = line[:tab], line[tab+1:]
		}
		if len(num) == 0 {
			continue
		}
		n, err := strconv.ParseUint(string(num), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("truth: bad frame number %q", num)
		}
		if i := bytes.IndexByte(rest, ','); i >= 0 {
			rest = rest[:i]
		}
		t[n] = strings.ToLower(strings.ToValidUTF8(string(rest), string(utf8.RuneError)))
	}
	return t, sc.Err()
}

func fileHash(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
