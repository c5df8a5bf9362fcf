package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/dnsieve/dnsieve/internal/config"
	"github.com/dnsieve/dnsieve/internal/engine"
	"github.com/dnsieve/dnsieve/internal/stream"
	"github.com/dnsieve/dnsieve/internal/zeek"
)

const zeekUsage = `Usage: dnsieve zeek [flags] FILE|DIR...

Analyses Zeek dns.log files (the TSV and the JSON forms, plain, gzip or
zstd compressed; in a directory, every dns*.log[.gz|.zst] in name order,
i.e. rotation order) with the same behavioural engine as scan, writes an
alert for each finding, and findings.jsonl and domains.csv to the output
directory. Zeek logs no message sizes: they are estimated from the names
and answers, and findings say so. Zeek lower-cases query names, so
fingerprints of case-sensitive encodings (dns2tcp's base64, iodine's
base64 codec) can be lost (dns2tcp is still named from its command
labels); behaviour still judges those domains.

Flags:
`

func runZeek(args []string, stdout, stderr io.Writer) int {
	var f streamFlags
	fl := flag.NewFlagSet("zeek", flag.ContinueOnError)
	fl.SetOutput(stderr)
	f.register(fl, oneShot)
	setUsage(fl, zeekUsage, "\nExamples:\n  dnsieve zeek -o results /opt/zeek/logs/2024-05-01\n  dnsieve zeek --alerts file:alerts.jsonl dns.log current/dns.log\n")
	if code, done := parseFlags(fl, args, stdout, stderr); done {
		return code
	}
	if fl.NArg() == 0 {
		return usageError(fl, stderr, "give dns.log files or directories")
	}
	var files []string
	for _, p := range fl.Args() {
		fi, err := os.Stat(p)
		if err != nil {
			fmt.Fprintln(stderr, "dnsieve zeek:", err)
			return 1
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		fs, err := zeek.Files(p)
		if err != nil {
			fmt.Fprintln(stderr, "dnsieve zeek:", err)
			return 1
		}
		files = append(files, fs...)
	}
	failed := false
	code := runStream(&f, stdout, stderr, func(cfg config.Config, log *slog.Logger) (*streamSource, error) {
		return &streamSource{name: "zeek", run: func(ctx context.Context, r *stream.Runner, log *slog.Logger) error {
			conv := zeek.NewConverter()
			var rec zeek.Record
			var q, resp engine.Observation
			for i, path := range files {
				rd, err := zeek.Open(path)
				if err != nil {
					log.Error("log not readable", "file", path, "error", err)
					failed = true
					continue
				}
				for ctx.Err() == nil {
					err := rd.Next(&rec)
					if errors.Is(err, io.EOF) {
						break
					}
					var le *zeek.LineError
					if errors.As(err, &le) {
						log.Warn("bad line skipped", "file", le.File, "line", le.Line, "error", le.Err)
						continue
					}
					if err != nil {
						log.Error("log damaged: read up to the damage", "file", path, "error", err)
						failed = true
						break
					}
					if len(rec.Query) == 0 {
						continue
					}
					hasResp := conv.Observations(&rec, &q, &resp)
					q.File, q.Estimated = i, true
					if hasResp {
						resp.File, resp.Estimated = i, true
						r.Observe(&q, &resp)
					} else {
						r.Observe(&q, nil)
					}
				}
				log.Info("log read", "file", path, "format", rd.Format(), "records", rd.Records(), "bad_lines", rd.BadLines())
				rd.Close()
			}
			return ctx.Err()
		}}, nil
	})
	if failed && code == 0 {
		code = 1
	}
	return code
}
