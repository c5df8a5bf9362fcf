package scan

import (
	"io"
	"log/slog"
)

// newLogger logs everything to the out.log file. Warnings and errors
// always reach stderr too; informational lines do when info is set.
func newLogger(file io.Writer, stderr io.Writer, info bool) *slog.Logger {
	handlers := []slog.Handler{slog.NewTextHandler(file, &slog.HandlerOptions{Level: slog.LevelDebug})}
	if stderr != nil {
		level := slog.LevelWarn
		if info {
			level = slog.LevelInfo
		}
		handlers = append(handlers, slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	}
	return slog.New(slog.NewMultiHandler(handlers...))
}
