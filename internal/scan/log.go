package scan

import (
	"io"
	"log/slog"
)

// newLogger logs everything to the out.log file. Warnings and errors
// always reach stderr too; informational lines do when info is set. On a
// terminal (stderr a barWriter) the lines leave out the time.
func newLogger(file io.Writer, stderr io.Writer, info bool) *slog.Logger {
	handlers := []slog.Handler{slog.NewTextHandler(file, &slog.HandlerOptions{Level: slog.LevelDebug})}
	if stderr != nil {
		level := slog.LevelWarn
		if info {
			level = slog.LevelInfo
		}
		opts := &slog.HandlerOptions{Level: level}
		if _, ok := stderr.(*barWriter); ok {
			// A person at a terminal reads the line as it happens: the
			// time adds nothing (out.log keeps it).
			opts.ReplaceAttr = dropTime
		}
		handlers = append(handlers, slog.NewTextHandler(stderr, opts))
	}
	return slog.New(slog.NewMultiHandler(handlers...))
}

// dropTime removes the record's time.
func dropTime(groups []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey && len(groups) == 0 {
		return slog.Attr{}
	}
	return a
}
