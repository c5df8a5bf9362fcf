package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/dnsieve/dnsieve/internal/capture"
	"github.com/dnsieve/dnsieve/internal/config"
	"github.com/dnsieve/dnsieve/internal/scan"
	"github.com/dnsieve/dnsieve/internal/stream"
)

const watchUsage = `Usage: dnsieve watch [flags] DIR

Processes capture files as they appear in DIR and are closed (e.g. by
tcpdump -G or -C rotation), each exactly once, surviving restarts: processed
files are recorded in the output directory's dnsieve-state.json, the same
state file as scan's, and the engine's state is checkpointed, so a slow
tunnel spread over many files is still one finding. A file counts as closed
when a newer capture has appeared in DIR, or when it has not changed for
--settle. Alerts are written as soon as a verdict is reached.

Flags:
`

func runWatch(args []string, stdout, stderr io.Writer) int {
	var f streamFlags
	fl := flag.NewFlagSet("watch", flag.ContinueOnError)
	fl.SetOutput(stderr)
	f.register(fl, onceFlag)
	settle := fl.Duration("settle", 10*time.Second, "a file unchanged for `DURATION` is taken as closed")
	poll := fl.Duration("poll", time.Second, "list DIR every `DURATION`")
	recursive := fl.Bool("recursive", false, "also watch subdirectories")
	once := fl.Bool("once", false, "process what is closed now and exit (for tests and cron)")
	setUsage(fl, watchUsage, "\nExample:\n  tcpdump -i eth0 -G 300 -w '/var/spool/dns/dns-%Y%m%d%H%M%S.pcap' port 53 &\n  dnsieve watch -o /var/lib/dnsieve --alerts file:/var/log/dnsieve/alerts.jsonl /var/spool/dns\n")
	if code, done := parseFlags(fl, args, stdout, stderr); done {
		return code
	}
	if fl.NArg() != 1 {
		return usageError(fl, stderr, "give exactly one directory")
	}
	f.once = *once
	dir := fl.Arg(0)
	return runStream(&f, stdout, stderr, func(cfg config.Config, log *slog.Logger) (*streamSource, error) {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("%s is not a directory", dir)
		}
		st, err := scan.LoadState(cfg.OutputDir)
		if err != nil {
			log.Warn("state file", "error", err)
		}
		w := &watcher{dir: dir, recursive: *recursive, settle: *settle, state: st, out: cfg.OutputDir, log: log}
		return &streamSource{name: dir, run: func(ctx context.Context, r *stream.Runner, log *slog.Logger) error {
			for {
				w.scanOnce(ctx, r, *once)
				if *once {
					return nil
				}
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(*poll):
				}
			}
		}}, nil
	})
}

// watcher finds closed, unprocessed captures in a directory.
type watcher struct {
	dir       string
	recursive bool
	settle    time.Duration
	state     *scan.State
	out       string
	log       *slog.Logger
}

// scanOnce processes every capture that is closed and new. With final,
// every capture counts as closed.
func (w *watcher) scanOnce(ctx context.Context, r *stream.Runner, final bool) {
	files, errs := capture.Walk([]string{w.dir}, w.recursive)
	for _, e := range errs {
		w.log.Warn("watch", "error", e)
	}
	type cand struct {
		path string
		fi   os.FileInfo
	}
	var cs []cand
	for _, p := range files {
		fi, err := os.Stat(p)
		if err != nil {
			continue
		}
		cs = append(cs, cand{p, fi})
	}
	// Oldest first; the newest file is the one being written, unless it
	// has settled.
	sort.Slice(cs, func(i, j int) bool {
		if !cs[i].fi.ModTime().Equal(cs[j].fi.ModTime()) {
			return cs[i].fi.ModTime().Before(cs[j].fi.ModTime())
		}
		return cs[i].path < cs[j].path
	})
	for i, c := range cs {
		if ctx.Err() != nil {
			return
		}
		newest := i == len(cs)-1
		if !final && newest && time.Since(c.fi.ModTime()) < w.settle {
			continue // still being written
		}
		abs, err := filepath.Abs(c.path)
		if err != nil {
			abs = c.path
		}
		if seen, _ := w.state.Seen(abs, c.fi); seen {
			continue
		}
		rd, err := w.process(ctx, r, c.path)
		if err != nil {
			w.log.Error("capture damaged: analysed up to the damage", "file", c.path, "error", err)
		}
		if ctx.Err() != nil {
			return // interrupted: not recorded, so it is read again next time
		}
		// The digest taken while reading; a capture not read to its
		// end is hashed again.
		w.state.RecordRead(abs, c.fi, rd)
		if err := w.state.Save(w.out); err != nil {
			w.log.Error("saving the state file", "error", err)
		}
	}
}

// process feeds one capture to the runner and returns its reader (closed;
// nil when the capture could not be opened), whose digest the state
// records.
func (w *watcher) process(ctx context.Context, r *stream.Runner, path string) (*capture.Reader, error) {
	rd, err := capture.Open(path, capture.WithSHA256())
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	var rec capture.Record
	n := 0
	for ctx.Err() == nil {
		if err := rd.Next(&rec); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return rd, err
		}
		r.Frame(&rec)
		n++
	}
	w.log.Info("capture processed", "file", path, "packets", n)
	return rd, nil
}
