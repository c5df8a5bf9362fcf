//go:build linux

package report

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// chromiumPath is where Debian's chromium package puts the browser.
const chromiumPath = "/usr/bin/chromium"

// chromium runs headless chromium on a local file with the extra
// arguments and returns its standard output and standard error. Nothing
// may reach the network: background services are off, and the page itself
// is under its CSP.
func chromium(t testing.TB, page string, args ...string) (stdout, stderr []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	all := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
		"--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0"}, args...)
	all = append(all, "file://"+page)
	cmd := exec.CommandContext(ctx, chromiumPath, all...)
	// Chromium starts helper processes: run it in its own process group
	// and end the whole group on timeout.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, lastLines(errb.String(), 20))
	}
	return out.Bytes(), errb.Bytes()
}

// consoleLines returns chromium's log lines about the page: console
// messages (where CSP violations and script errors are reported) and
// security refusals.
func consoleLines(stderr []byte) []string {
	var out []string
	for _, l := range strings.Split(string(stderr), "\n") {
		if strings.Contains(l, ":CONSOLE") || strings.Contains(l, "Content Security Policy") || strings.Contains(l, "Refused to") {
			out = append(out, l)
		}
	}
	return out
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(l[max(0, len(l)-n):], "\n")
}

func artifactsDir(t *testing.T) string {
	if d := os.Getenv("DNSIEVE_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

func writeReport(t testing.TB, path string, in *Input) {
	t.Helper()
	var buf bytes.Buffer
	if err := HTML(&buf, in); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBrowser renders report.html in headless chromium: a screenshot for
// people (kept in DNSIEVE_ARTIFACTS), the DOM as the browser built it, and
// the browser's console, which must be silent (no CSP violation, no error).
func TestBrowser(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skip("no chromium at " + chromiumPath)
	}
	dir := artifactsDir(t)

	// Control: the console check sees a CSP violation when there is one,
	// so that its silence below means something.
	control := filepath.Join(t.TempDir(), "control.html")
	if err := os.WriteFile(control, []byte(`<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="`+
		ContentSecurityPolicy+`"><title>control</title></head><body><p>x</p><img src="https://invalid.example/x.png"></body></html>`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr := chromium(t, control, "--dump-dom"); len(consoleLines(stderr)) == 0 {
		t.Fatalf("chromium reported no CSP violation on the control page; the console check cannot work:\n%s", lastLines(string(stderr), 20))
	}

	in := genInput(3)
	in.Findings[2].Timeline = in.Findings[2].Timeline[:30] // a shorter timeline draws too
	page := filepath.Join(dir, "report.html")
	writeReport(t, page, in)

	shot := filepath.Join(dir, "report-screenshot.png")
	_, stderr := chromium(t, page, "--screenshot="+shot, "--window-size=1280,2400", "--hide-scrollbars")
	if l := consoleLines(stderr); len(l) > 0 {
		t.Errorf("console messages while rendering:\n%s", strings.Join(l, "\n"))
	}
	checkScreenshot(t, shot, 1280, 2400)
	t.Logf("screenshot: %s", shot)

	dom, stderr := chromium(t, page, "--dump-dom")
	if l := consoleLines(stderr); len(l) > 0 {
		t.Errorf("console messages while building the DOM:\n%s", strings.Join(l, "\n"))
	}
	doc, err := html.Parse(bytes.NewReader(dom))
	if err != nil {
		t.Fatal(err)
	}
	if n := elements(doc, "section", "finding"); n != 3 {
		t.Errorf("browser DOM has %d finding sections, want 3", n)
	}
	if n := elements(doc, "svg", "chart"); n != 6 {
		t.Errorf("browser DOM has %d charts, want 6", n)
	}
	if n := elements(doc, "rect", ""); n < 3*(2*80) {
		t.Errorf("browser DOM has %d bars, want at least %d", n, 3*2*80)
	}
	if n := elements(doc, "script", ""); n != 0 {
		t.Errorf("browser DOM has %d script elements", n)
	}
}

// TestBrowserHostile loads the report of hostile names: an injection that
// got through would either run or be blocked by the CSP, and both show in
// the console.
func TestBrowserHostile(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skip("no chromium at " + chromiumPath)
	}
	page := filepath.Join(t.TempDir(), "hostile.html")
	writeReport(t, page, hostileInput())
	dom, stderr := chromium(t, page, "--dump-dom")
	if l := consoleLines(stderr); len(l) > 0 {
		t.Errorf("console messages:\n%s", strings.Join(l, "\n"))
	}
	doc, err := html.Parse(bytes.NewReader(dom))
	if err != nil {
		t.Fatal(err)
	}
	checkDOM(t, doc)
	if n := elements(doc, "section", "finding"); n != 3+len(hostile) {
		t.Errorf("%d finding sections, want %d", n, 3+len(hostile))
	}
}

// checkScreenshot asserts that the screenshot has the window's size and
// shows a page (many colours, not a blank window).
func checkScreenshot(t *testing.T, path string, w, h int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b != image.Rect(0, 0, w, h) {
		t.Errorf("screenshot is %v, want %dx%d", b, w, h)
	}
	colours := map[uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[r>>11<<10|g>>11<<5|bl>>11] = true
		}
	}
	if len(colours) < 50 {
		t.Errorf("screenshot has %d colours: a blank page?", len(colours))
	}
}

// BenchmarkBrowserOpen times headless chromium opening a report and
// drawing it (a screenshot forces layout and paint): "blank" is the
// browser's own start and a one-line page, "findings=10000" the report of
// a run with 10,000 findings (the scale: under 20 MB, open in
// under 3 seconds). The difference is the report's own cost. Run with
// -benchtime=3x; results are in BENCHMARKS.md.
func BenchmarkBrowserOpen(b *testing.B) {
	if _, err := os.Stat(chromiumPath); err != nil {
		b.Skip("no chromium at " + chromiumPath)
	}
	dir := b.TempDir()
	blank := filepath.Join(dir, "blank.html")
	if err := os.WriteFile(blank, []byte(`<!DOCTYPE html><html><head><title>blank</title></head><body><p>x</p></body></html>`), 0o644); err != nil {
		b.Fatal(err)
	}
	in := genInput(10000)
	for i := range in.Findings {
		f := &in.Findings[i]
		f.Domain = strings.Repeat("x", 60) + "." + f.Domain
	}
	large := filepath.Join(dir, "large.html")
	writeReport(b, large, in)
	st, err := os.Stat(large)
	if err != nil {
		b.Fatal(err)
	}
	for _, page := range []struct{ name, path string }{{"blank", blank}, {"findings=10000", large}} {
		b.Run(page.name, func(b *testing.B) {
			shot := filepath.Join(b.TempDir(), "shot.png")
			for b.Loop() {
				chromium(b, page.path, "--screenshot="+shot, "--window-size=1280,2400", "--hide-scrollbars")
			}
			if page.path == large {
				b.ReportMetric(float64(st.Size())/(1<<20), "MiB")
			}
		})
	}
}
