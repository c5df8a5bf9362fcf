package scan

import (
	"io"
	"log/slog"
)

// newLogger logs everything to the out.log file and, unless quiet, to
// stderr too; warnings and errors always reach stderr.
func newLogger(file io.Writer, stderr io.Writer, quiet bool) *slog.Logger {
	handlers := []slog.Handler{slog.NewTextHandler(file, &slog.HandlerOptions{Level: slog.LevelDebug})}
	if stderr != nil {
		level := slog.LevelInfo
		if quiet {
			level = slog.LevelWarn
		}
		handlers = append(handlers, slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	}
	return slog.New(slog.NewMultiHandler(handlers...))
}
