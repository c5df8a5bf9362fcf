package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWatchProcessesEachCaptureOnce runs `dnsieve watch --once` twice over
// a folder of captures: the first run processes them and alerts on the
// tunnel, the second finds nothing new; a capture added later is processed
// by a third run, which restores the engine's state.
func TestWatchProcessesEachCaptureOnce(t *testing.T) {
	dir := t.TempDir()
	spool := filepath.Join(dir, "spool")
	out := filepath.Join(dir, "out")
	os.MkdirAll(spool, 0o755)
	copyFile := func(name string) {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "corpus", name))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(spool, name), b, 0o644)
	}
	copyFile("benign.pcap")
	copyFile("iodine-null.pcap")
	run := func() (string, string, int) {
		var stdout, stderr bytes.Buffer
		code := run([]string{"watch", "--once", "--metrics", "off", "-o", out, spool}, &stdout, &stderr)
		return stdout.String(), stderr.String(), code
	}
	alerts, log, code := run()
	if code != 0 || strings.Count(log, "capture processed") != 2 || !strings.Contains(alerts, `"software":{"name":"iodine"}`) {
		t.Fatalf("first run: exit %d\n%s\n%s", code, alerts, log)
	}
	_, log, code = run()
	if code != 0 || strings.Contains(log, "capture processed") {
		t.Fatalf("second run processed again: exit %d\n%s", code, log)
	}
	copyFile("dns2tcp-txt.pcap")
	alerts, log, code = run()
	if code != 0 || strings.Count(log, "capture processed") != 1 || !strings.Contains(log, "engine state restored") ||
		!strings.Contains(alerts, `"software":{"name":"dns2tcp"}`) {
		t.Fatalf("third run: exit %d\n%s\n%s", code, alerts, log)
	}
	b, _ := os.ReadFile(filepath.Join(out, "findings.jsonl"))
	if !strings.Contains(string(b), `"tool":"iodine"`) || !strings.Contains(string(b), `"tool":"dns2tcp"`) {
		t.Fatalf("findings.jsonl lacks a tunnel:\n%s", b)
	}
}
