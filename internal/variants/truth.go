package variants

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"

	"github.com/dnsieve/dnsieve/internal/eval"
)

// TruthSuffix is appended to a capture's path to name its ground-truth
// file, the one eval.LoadTruth reads before asking tshark.
const TruthSuffix = ".truth.tsv"

// writeTruth writes the ground truth of a variant when tshark's default
// reading would not be the truth:
//
//   - tcp-split: tshark 4.0 does not reassemble out-of-order TCP segments
//     unless told to (tcp.reassemble_out_of_order defaults to FALSE), so
//     the truth is tshark's reading with that preference on;
//   - off-port: tshark dissects DNS only on its registered ports (5353 as
//     mDNS, random high ports not at all). Frames map one to one and only
//     their ports changed, so the truth is the original's (its truth file,
//     or tshark's reading of it);
//   - encapsulated: tshark does not take Linux's VXLAN port (8472) for
//     VXLAN. Frames map one to one and only their wrapping changed: the
//     original's truth again.
//
// Other kinds need no file: tshark reads them as it reads the original.
// It reports whether a file was written; without tshark (and, for
// off-port and encapsulated, without a truth file beside the original)
// nothing is written.
func writeTruth(kind Kind, src, dst, cacheDir string) (bool, error) {
	var t eval.Truth
	switch kind {
	case OffPort, Encapsulated:
		var err error
		if _, serr := os.Stat(src + TruthSuffix); serr != nil {
			if _, lerr := exec.LookPath("tshark"); lerr != nil {
				return false, nil
			}
		}
		if t, err = eval.LoadTruth(src, cacheDir); err != nil {
			return false, err
		}
	case TCPSplit:
		tshark, err := exec.LookPath("tshark")
		if err != nil {
			return false, nil
		}
		out, err := exec.Command(tshark, "-n", "-o", "tcp.reassemble_out_of_order:TRUE", "-r", dst,
			"-Y", "dns", "-T", "fields", "-E", "separator=/t", "-e", "frame.number", "-e", "dns.qry.name").Output()
		if err != nil && len(out) == 0 {
			return false, fmt.Errorf("tshark on %s: %w", dst, err)
		}
		return true, writeFileAtomic(dst+TruthSuffix, out)
	default:
		return false, nil
	}
	frames := make([]uint64, 0, len(t))
	for f := range t {
		frames = append(frames, f)
	}
	sort.Slice(frames, func(i, j int) bool { return frames[i] < frames[j] })
	var b bytes.Buffer
	for _, f := range frames {
		b.WriteString(strconv.FormatUint(f, 10))
		b.WriteByte('\t')
		// The name is data: keep it on its line and in its column.
		for _, c := range []byte(t[f]) {
			if c == '\t' || c == '\n' || c == '\r' {
				c = ' '
			}
			b.WriteByte(c)
		}
		b.WriteByte('\n')
	}
	return true, writeFileAtomic(dst+TruthSuffix, b.Bytes())
}

func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
