package scan

import (
	"fmt"
	"log/slog"
	"sync"
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
	if opt.Terminal {
		bar = progressbar.NewOptions64(totalBytes,
			progressbar.OptionSetWriter(opt.Stderr),
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
