package output

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestSafeText(t *testing.T) {
	cases := map[string]string{
		"www.example.com":   "www.example.com",
		"a\nb":              `a\x0ab`,
		"tab\there":         `tab\x09here`,
		"back\\slash":       `back\\slash`,
		"bad\xff\xfeutf8":   `bad\xff\xfeutf8`,
		"é.example":         "é.example",
		"del\x7f":           `del\x7f`,
		"bidi\u202egnp.exe": `bidi\xe2\x80\xaegnp.exe`,
		"c1\u0085":          `c1\xc2\x85`,
		"<script>alert(1)":  "<script>alert(1)",
	}
	for in, want := range cases {
		if got := SafeText([]byte(in)); got != want {
			t.Errorf("SafeText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNeutralizeFormula(t *testing.T) {
	cases := map[string]string{
		"=cmd|' /C calc'!A0": "'=cmd|' /C calc'!A0",
		"+1":                 "'+1",
		"-2":                 "'-2",
		"@SUM(A1)":           "'@SUM(A1)",
		"high":               "high",
		"":                   "",
	}
	for in, want := range cases {
		if got := NeutralizeFormula(in); got != want {
			t.Errorf("NeutralizeFormula(%q) = %q, want %q", in, got, want)
		}
	}
}

// rows with every quoting case of the dialect.
var rows = [][]string{
	CSVHeader,
	{"a.pcap", "1", "high", "high entropy detected"},
	{"pipe|name.pcap", "22", "100%", "x^y"},
	{"caret^.pcap", "3", "medium", "line\nbreak"},
	{"plain", "4", "low", "cr\rhere"},
}

func TestCSVMatchesPythonCSVModule(t *testing.T) {
	var ours bytes.Buffer
	w := NewCSVWriter(&ours)
	for _, r := range rows {
		if err := w.WriteRow(r...); err != nil {
			t.Fatal(err)
		}
	}
	// The exact bytes, known from the dialect's rules.
	want := "pcap_name|packet_number|probability|reason\r\n" +
		"a.pcap|1|high|high entropy detected\r\n" +
		"^pipe|name.pcap^|22|100%|^x^^y^\r\n" +
		"^caret^^.pcap^|3|medium|^line\nbreak^\r\n" +
		"plain|4|low|^cr\rhere^\r\n"
	if ours.String() != want {
		t.Fatalf("got %q\nwant %q", ours.String(), want)
	}
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed: the oracle comparison is skipped")
	}
	in, _ := json.Marshal(rows)
	cmd := exec.Command(py, "-c", `import csv, io, json, sys
rows = json.load(sys.stdin)
buf = io.StringIO(newline="")
csv.writer(buf, delimiter="|", quotechar="^").writerows(rows)
sys.stdout.write(buf.getvalue())`)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != ours.String() {
		t.Fatalf("python wrote %q\nwe wrote %q", out, ours.String())
	}
}

func TestWriteFlagEqualsWriteRow(t *testing.T) {
	var a, b bytes.Buffer
	NewCSVWriter(&a).WriteFlag("=evil|x.pcap", 12345, "high", "tunnel domain a^b")
	NewCSVWriter(&b).WriteRow("=evil|x.pcap", "12345", "high", "tunnel domain a^b")
	if a.String() != b.String() || a.String() != "^'=evil|x.pcap^|12345|high|^tunnel domain a^^b^\r\n" {
		t.Fatalf("%q vs %q", a.String(), b.String())
	}
	w := NewCSVWriter(&a)
	if n := testing.AllocsPerRun(100, func() { w.WriteFlag("x.pcap", 1, "high", "r") }); n != 0 {
		t.Fatalf("WriteFlag allocates %v", n)
	}
}

func TestAtomicFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.csv")
	a, err := CreateAtomic(p)
	if err != nil {
		t.Fatal(err)
	}
	a.WriteString("half")
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Fatal("final name exists before Commit")
	}
	a.Abort()
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("Abort left %v", ents)
	}
	if err := WriteFileAtomic(p, []byte("whole")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "whole" {
		t.Fatalf("content %q", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("temp files left: %v", ents)
	}
}

func TestStatsLayout(t *testing.T) {
	f := &FileStats{PacketsCount: 10, MaliciousPacketsCount: 2, Path: "/x/a.pcap", Format: "pcap", Errors: []string{}, Complete: true}
	b, err := MarshalStats([]NamedStats{{"a.pcap", f}}, Totals{TotalPackets: 10, TotalMaliciousPackets: 2, TotalTime: 0.5, PacketsPerSecond: 20})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, b)
	}
	file := m["a.pcap"].(map[string]any)
	if file["packets_count"] != 10.0 || file["malicious_packets_count"] != 2.0 {
		t.Fatalf("file entry %v", file)
	}
	for k, want := range map[string]float64{"total_packets": 10, "total_malicious_packets": 2, "total_time": 0.5, "packets_per_second": 20} {
		if m[k] != want {
			t.Errorf("%s = %v, want %v", k, m[k], want)
		}
	}
	if !strings.HasPrefix(string(b), "{\n  \"a.pcap\": {") {
		t.Fatalf("files do not come first:\n%s", b)
	}
}

func TestCSVReaderReadsWhatTheWriterWrites(t *testing.T) {
	var b bytes.Buffer
	w := NewCSVWriter(&b)
	for _, r := range rows {
		w.WriteRow(r...)
	}
	r := NewCSVReader(&b)
	for i, want := range rows {
		got, err := r.Read()
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
			t.Fatalf("row %d: %q, want %q", i, got, want)
		}
	}
	if _, err := r.Read(); err != io.EOF {
		t.Fatalf("after the last row: %v", err)
	}
	if _, err := NewCSVReader(strings.NewReader("a|^open\n")).Read(); err == nil {
		t.Fatal("unterminated quote accepted")
	}
}
