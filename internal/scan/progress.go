package scan

import (
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
)

// startProgress shows progress while captures are scanned: a bar with
// bytes, packets, rate and ETA on a terminal, a log line every
// ProgressEvery otherwise, nothing when quiet. The returned function stops
// it.
func startProgress(opt Options, log *slog.Logger, p *progress, totalBytes int64, files int) func() {
	if opt.Quiet || opt.Stderr == nil {
		return func() {}
	}
	every := opt.ProgressEvery
	if every <= 0 {
		every = 10 * time.Second
	}
	var bar *progressbar.ProgressBar
	bw, _ := opt.Stderr.(*barWriter)
	if opt.Terminal {
		w := opt.Stderr
		if bw != nil {
			w = bw.bar()
			bw.active.Store(true)
		}
		bar = progressbar.NewOptions64(totalBytes,
			progressbar.OptionSetWriter(w),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSetDescription("scanning"),
		)
		every = 200 * time.Millisecond
	}
	start := time.Now()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				if bar != nil {
					bar.Finish()
				}
				if bw != nil {
					bw.active.Store(false)
				}
				return
			case <-t.C:
				done := p.bytesDone.Load() + p.bytesFile.Load()
				pk := p.packetsDone.Load()
				el := time.Since(start).Seconds()
				rate := float64(pk) / el
				if bar != nil {
					bar.Describe(fmt.Sprintf("%d packets, %.0f/s", pk, rate))
					bar.Set64(done)
					continue
				}
				eta := "unknown"
				if done > 0 && totalBytes > done {
					eta = time.Duration(el * float64(totalBytes-done) / float64(done) * float64(time.Second)).Round(time.Second).String()
				}
				log.Info("progress", "bytes", done, "total_bytes", totalBytes, "files", files,
					"packets", pk, "packets_per_second", fmt.Sprintf("%.0f", rate), "eta", eta)
			}
		}
	}()
	return func() {
		close(stop)
		wg.Wait()
	}
}

// barWriter is stderr on a terminal that may be showing the progress bar.
// Writes are serialised, and while the bar is shown each write that is
// not the bar's own (a log line) first clears the bar's line, so that the
// line does not land in the middle of the bar; the bar redraws itself at
// its next tick.
type barWriter struct {
	mu     sync.Mutex
	w      io.Writer
	active atomic.Bool
}

// clearLine returns the cursor to the start of the line and erases it
// (ANSI EL).
const clearLine = "\r\x1b[K"

func (b *barWriter) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.active.Load() {
		if _, err := io.WriteString(b.w, clearLine); err != nil {
			return 0, err
		}
	}
	return b.w.Write(p)
}

// bar returns the writer the progress bar draws with: serialised with the
// log lines, never cleared.
func (b *barWriter) bar() io.Writer { return barSide{b} }

type barSide struct{ b *barWriter }

func (s barSide) Write(p []byte) (int, error) {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	return s.b.w.Write(p)
}
