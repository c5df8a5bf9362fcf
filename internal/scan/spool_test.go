package scan

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/dnsieve/dnsieve/internal/checks"
	"github.com/dnsieve/dnsieve/internal/engine"
	"github.com/dnsieve/dnsieve/internal/fingerprint"
	"github.com/dnsieve/dnsieve/internal/output"
)

// TestSpoolSpillsAndReadsBackInOrder: records kept past the memory budget
// go to a temporary file and come back exactly, in order.
func TestSpoolSpillsAndReadsBackInOrder(t *testing.T) {
	for _, spillAt := range []int{1000, 2*spillChunk + 5} {
		spoolRoundTrip(t, spillAt)
	}
}

// spoolRoundTrip adds 25,000 records to a spool that spills at spillAt,
// with the last (25,000 mod spillAt) kept in memory, and reads them back.
func spoolRoundTrip(t *testing.T, spillAt int) {
	sp := newSpool(t.TempDir(), spillAt)
	defer sp.close()
	const n = 25000
	for i := 0; i < n; i++ {
		r := spoolRec{frame: uint64(i) * 3, domain: uint32(i % 77), level: checks.Level(i % 5), reasons: checks.Reason(i % 32),
			tool: uint8(i % 7)}
		r.zone1, r.zone2 = zoneHashes([]byte("a.t1"))
		if err := sp.add(r); err != nil {
			t.Fatal(err)
		}
	}
	if sp.len() != n || sp.spilled != n-n%spillAt {
		t.Fatalf("spill at %d: len %d spilled %d", spillAt, sp.len(), sp.spilled)
	}
	want1, want2 := zoneHashes([]byte("a.t1"))
	i := 0
	err := sp.each(func(k int, r spoolRec) error {
		if k != i || r.frame != uint64(i)*3 || r.domain != uint32(i%77) || r.level != checks.Level(i%5) ||
			r.reasons != checks.Reason(i%32) || r.zone1 != want1 || r.zone2 != want2 || r.tool != uint8(i%7) {
			t.Fatalf("record %d: %+v", k, r)
		}
		i++
		return nil
	})
	if err != nil || i != n {
		t.Fatalf("read %d records: %v", i, err)
	}
}

func TestUnderZone(t *testing.T) {
	rec := func(sub string) spoolRec {
		var r spoolRec
		r.zone1, r.zone2 = zoneHashes([]byte(sub))
		return r
	}
	cases := []struct {
		sub, zone string
		want      bool
	}{
		{"abc.t1", "t1", true},
		{"abc.t2", "t1", false},
		{"x.y.t1", "y.t1", true},
		{"x.z.t1", "y.t1", false},
		{"www", "", true},
		{"t1", "t1", true},
		{"abc.t1", "q.t1", false},
	}
	for _, c := range cases {
		if got := underZone(rec(c.sub), c.zone); got != c.want {
			t.Errorf("underZone(%q, %q) = %v", c.sub, c.zone, got)
		}
	}
}

// TestCSVNamesEachPacketsTool checks out.csv's rows for a domain two tools
// used: a packet whose protocol was recognised names its own tool, the
// others name both; through the spill file as in memory.
func TestCSVNamesEachPacketsTool(t *testing.T) {
	for _, spillAt := range []int{1, 1 << 10} {
		dir := t.TempDir()
		sp := newSpool(dir, spillAt)
		for i, tool := range []fingerprint.Tool{fingerprint.Iodine, fingerprint.Unknown, fingerprint.Dnscat2} {
			if err := sp.add(spoolRec{frame: uint64(i + 1), domain: 7, tool: uint8(tool)}); err != nil {
				t.Fatal(err)
			}
		}
		st := &output.FileStats{}
		findings := []engine.Finding{{ID: 7, Domain: "shared.example", RegisteredDomain: "shared.example", Verdict: "tunnel",
			Tool: "iodine", Tools: []string{"iodine", "dnscat2"}, ToolRecognised: true}}
		path := filepath.Join(dir, CSVName)
		n, err := writeCSV(path, sp, []scannedFile{{name: "x.pcap", stats: st, from: 0, to: 3}}, findings, false)
		sp.close()
		if err != nil || n != 3 {
			t.Fatalf("%d rows, %v", n, err)
		}
		want := "pcap_name|packet_number|probability|reason\r\n" +
			"x.pcap|1|100%|tunnel domain shared.example (iodine)\r\n" +
			"x.pcap|2|100%|tunnel domain shared.example (iodine, dnscat2)\r\n" +
			"x.pcap|3|100%|tunnel domain shared.example (dnscat2)\r\n"
		if got := readFile(t, path); got != want {
			t.Errorf("spill at %d:\n%s\nwant\n%s", spillAt, got, want)
		}
	}
}

// TestCSVZoneRows checks out.csv's rows for a tunnel in zone t1 of a
// registered domain: its packets under the zone are listed, and so are
// those outside it that show evidence of their own (a check, a tool's
// protocol: a second session under a label of its own) as data does
// (long labels, high entropy: not rare symbols alone, which stay low); the
// domain's ordinary lookups are not, nor are those of a suspicious
// domain's zone limited.
func TestCSVZoneRows(t *testing.T) {
	dir := t.TempDir()
	sp := newSpool(dir, 1<<10)
	recs := []struct {
		sub    string
		domain uint32
		level  checks.Level
		reason checks.Reason
		tool   fingerprint.Tool
	}{
		{"abc.t1", 7, checks.None, 0, fingerprint.Unknown},                    // 1: in the zone
		{"www", 7, checks.None, 0, fingerprint.Unknown},                       // 2: an ordinary host
		{"def.t2", 7, checks.High, checks.LongLabel, fingerprint.Unknown},     // 3: a check fired
		{"ghi.s2", 7, checks.None, 0, fingerprint.Iodine},                     // 4: the tool's protocol
		{"mail", 8, checks.None, 0, fingerprint.Unknown},                      // 5: a suspicious domain
		{"jkl.t1", 9, checks.Medium, checks.HexEncoding, fingerprint.Unknown}, // 6: no finding: low
		{"abc.t1.x", 7, checks.None, 0, fingerprint.Unknown},                  // 7: not under t1
		{"my host", 7, checks.High, checks.RareSymbols, fingerprint.Unknown},  // 8: rare symbols alone: low
	}
	for i, r := range recs {
		rec := spoolRec{frame: uint64(i + 1), domain: r.domain, level: r.level, reasons: r.reason, tool: uint8(r.tool)}
		rec.zone1, rec.zone2 = zoneHashes([]byte(r.sub))
		if err := sp.add(rec); err != nil {
			t.Fatal(err)
		}
	}
	findings := []engine.Finding{
		{ID: 7, Domain: "t1.example.com", RegisteredDomain: "example.com", Verdict: "tunnel", Tool: "iodine", Tools: []string{"iodine"}},
		{ID: 8, Domain: "example.net", RegisteredDomain: "example.net", Verdict: "suspicious"},
	}
	path := filepath.Join(dir, CSVName)
	n, err := writeCSV(path, sp, []scannedFile{{name: "x.pcap", stats: &output.FileStats{}, from: 0, to: len(recs)}}, findings, false)
	sp.close()
	if err != nil || n != 6 {
		t.Fatalf("%d rows, %v", n, err)
	}
	want := "pcap_name|packet_number|probability|reason\r\n" +
		"x.pcap|1|high|tunnel domain t1.example.com (iodine)\r\n" +
		"x.pcap|3|high|tunnel domain t1.example.com (iodine); " + checks.LongLabel.String() + "\r\n" +
		"x.pcap|4|high|tunnel domain t1.example.com (iodine)\r\n" +
		"x.pcap|5|low|suspicious domain example.net\r\n" +
		"x.pcap|6|low|" + checks.HexEncoding.String() + "\r\n" +
		"x.pcap|8|low|" + checks.RareSymbols.String() + "\r\n"
	if got := readFile(t, path); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestSpoolWriteErrorReported: a spill that fails on its goroutine fails
// the next add that spills, and each, with the file's error.
func TestSpoolWriteErrorReported(t *testing.T) {
	sp := newSpool(t.TempDir(), 10)
	defer sp.close()
	for i := range 10 {
		if err := sp.add(spoolRec{frame: uint64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sp.wait(); err != nil {
		t.Fatal(err)
	}
	sp.file.Close() // the next spill's writes fail
	var err error
	for i := 10; i < 30 && err == nil; i++ {
		err = sp.add(spoolRec{frame: uint64(i)})
	}
	if !errors.Is(err, os.ErrClosed) {
		t.Fatalf("add after a failed spill: %v, want the closed file's error", err)
	}
	// From the failure on, nothing more is kept.
	for i := range 100 {
		if err := sp.add(spoolRec{frame: uint64(100 + i)}); !errors.Is(err, os.ErrClosed) {
			t.Fatalf("add %d after the failure: %v", i, err)
		}
	}
	if len(sp.mem) != 0 {
		t.Errorf("%d records held after the failure", len(sp.mem))
	}
	if err := sp.each(func(int, spoolRec) error { return nil }); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("each after a failed spill: %v", err)
	}
}

// TestSpoolSyncEndsACapture: at a capture's end, a spool that has spilled
// writes out what it holds and reports that write's error there; one that
// never spilled keeps its records in memory.
func TestSpoolSyncEndsACapture(t *testing.T) {
	small := newSpool(t.TempDir(), 10)
	defer small.close()
	for i := range 5 {
		small.add(spoolRec{frame: uint64(i)})
	}
	if err := small.sync(); err != nil || small.file != nil || len(small.mem) != 5 {
		t.Fatalf("sync of a spool that never spilled: %v, file %v, %d in memory", err, small.file, len(small.mem))
	}

	sp := newSpool(t.TempDir(), 10)
	defer sp.close()
	for i := range 13 {
		if err := sp.add(spoolRec{frame: uint64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sp.sync(); err != nil || len(sp.mem) != 0 || sp.spilled != 13 {
		t.Fatalf("first capture: %v, %d in memory, %d spilled", err, len(sp.mem), sp.spilled)
	}
	sp.file.Close() // the second capture's records cannot be written
	for i := range 3 {
		if err := sp.add(spoolRec{frame: uint64(13 + i)}); err != nil {
			t.Fatalf("add %d: %v", i, err)
		}
	}
	if err := sp.sync(); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("second capture's sync: %v, want the closed file's error", err)
	}
}
