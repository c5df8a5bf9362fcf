package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/dnsieve/dnsieve/internal/alert"
	"github.com/dnsieve/dnsieve/internal/config"
	"github.com/dnsieve/dnsieve/internal/stream"
)

// defaultMetrics is where a continuous command serves its metrics unless
// told otherwise.
const defaultMetrics = "127.0.0.1:9530"

// runKind says whether a command runs until stopped or ends by itself,
// which decides whether it serves metrics by default.
type runKind int

const (
	// continuous commands (live, dnstap) run until stopped: metrics are
	// served on defaultMetrics unless --metrics says otherwise.
	continuous runKind = iota
	// oneShot commands (zeek) read finished input and exit: no metrics
	// unless --metrics gives an address.
	oneShot
	// onceFlag commands (watch) are continuous, or one-shot with --once.
	onceFlag
)

// streamFlags are the flags every continuous command shares.
type streamFlags struct {
	output, configFile, alerts, metrics, state, model string
	noState, quiet                                    bool
	checkpoint                                        time.Duration

	kind       runKind
	metricsSet bool // --metrics was given
	once       bool // an onceFlag command was told to stop when done
}

func (f *streamFlags) register(fl *flag.FlagSet, kind runKind) {
	f.kind = kind
	fl.StringVar(&f.output, "output", "", "write findings.jsonl, domains.csv and the engine state to `DIR` (default: output_dir from the config, else ./output)")
	fl.StringVar(&f.output, "o", "", "short for --output `DIR`")
	fl.StringVar(&f.configFile, "config", "", "read the configuration from `FILE` (default: ./config.ini when present); SIGHUP re-reads it")
	fl.StringVar(&f.alerts, "alerts", "stdout", "where alerts go: `SPEC` stdout, file:PATH[,MB,KEEP] (rotated), syslog[:TAG] (local daemon), syslog+udp:HOST:PORT[,TAG], syslog+tcp:HOST:PORT[,TAG] or syslog+unix:PATH[,TAG]")
	metricsHelp := "serve Prometheus /metrics and /healthz on `ADDR` (\"off\" disables; default " + defaultMetrics + ")"
	switch kind {
	case oneShot:
		metricsHelp = "serve Prometheus /metrics and /healthz on `ADDR` while the run lasts (default: off, as the run ends by itself)"
	case onceFlag:
		metricsHelp = "serve Prometheus /metrics and /healthz on `ADDR` (\"off\" disables; default " + defaultMetrics + ", or off with --once)"
	}
	fl.Func("metrics", metricsHelp, func(v string) error {
		f.metrics, f.metricsSet = v, true
		return nil
	})
	fl.StringVar(&f.state, "state", "", "checkpoint the engine to `FILE` and restore it at start (default: DIR/engine-state.bin)")
	fl.BoolVar(&f.noState, "no-state", false, "neither restore nor checkpoint the engine")
	fl.DurationVar(&f.checkpoint, "checkpoint", 5*time.Minute, "checkpoint the engine every `DURATION`")
	fl.StringVar(&f.model, "model", "", "how verdicts are decided: `MODEL` builtin (default), rules, or a model file from dnsieve train")
	fl.BoolVar(&f.quiet, "quiet", false, "log warnings and errors only")
	fl.BoolVar(&f.quiet, "q", false, "short for --quiet")
}

// metricsAddr is the address to serve metrics on, "" for none: the one
// given by --metrics, else defaultMetrics for a run that lasts until it is
// stopped and none for a one-shot run (zeek, watch --once), which would
// only hold the port.
func (f *streamFlags) metricsAddr() string {
	if f.metricsSet {
		if f.metrics == "off" {
			return ""
		}
		return f.metrics
	}
	if f.kind == oneShot || f.kind == onceFlag && f.once {
		return ""
	}
	return defaultMetrics
}

// config loads the configuration and lays the flags over it.
func (f *streamFlags) config(stderr io.Writer) (config.Config, error) {
	cfg, err := loadConfig(f.configFile, stderr)
	if err != nil {
		return cfg, err
	}
	if f.output != "" {
		cfg.OutputDir = f.output
	}
	if cfg.OutputDir == "" {
		cfg.OutputDir = "output"
	}
	if f.model != "" {
		if err := cfg.SetModel(f.model); err != nil {
			return cfg, fmt.Errorf("--model: %w", err)
		}
	}
	return cfg, nil
}

// streamSource feeds a runner until ctx ends or the input is exhausted;
// drops, when not nil, reports the source's packet drops for metrics.
type streamSource struct {
	name  string
	run   func(ctx context.Context, r *stream.Runner, log *slog.Logger) error
	drops stream.DropCounter
}

// runStream runs a continuous command: it sets up the runner, alerts and
// metrics, handles SIGHUP (reload) and SIGTERM/SIGINT (flush and exit),
// and calls the source.
func runStream(f *streamFlags, stdout, stderr io.Writer, open func(cfg config.Config, log *slog.Logger) (*streamSource, error)) int {
	cfg, err := f.config(stderr)
	if err != nil {
		fmt.Fprintln(stderr, "dnsieve:", err)
		return 2
	}
	setMemoryLimit(cfg, 0)
	level := slog.LevelInfo
	if f.quiet {
		level = slog.LevelWarn
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	sink, err := alert.Open(f.alerts, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "dnsieve:", err)
		return 2
	}
	alerts := alert.NewWriter(sink, version)
	defer alerts.Close()
	state := f.state
	if state == "" {
		state = filepath.Join(cfg.OutputDir, "engine-state.bin")
	}
	if f.noState {
		state = ""
	}
	if err := os.MkdirAll(cfg.OutputDir, 0o755); err != nil {
		fmt.Fprintln(stderr, "dnsieve:", err)
		return 1
	}
	src, err := open(cfg, log)
	if err != nil {
		fmt.Fprintln(stderr, "dnsieve:", err)
		return 1
	}
	r, err := stream.New(stream.Options{Config: cfg, Alerts: alerts, StateFile: state, CheckpointEvery: f.checkpoint,
		Log: log, Version: version, Input: src.name})
	if err != nil {
		fmt.Fprintln(stderr, "dnsieve:", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if m := f.metricsAddr(); m != "" {
		addr, err := stream.Serve(ctx, m, r.Registry(src.drops))
		if err != nil {
			fmt.Fprintln(stderr, "dnsieve: metrics:", err)
			return 1
		}
		log.Info("metrics and health served", "address", addr.String())
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		tick := time.NewTicker(2 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				c, err := f.config(stderr)
				if err == nil {
					err = r.Reload(c)
				}
				if err != nil {
					log.Error("reload failed: keeping the running configuration", "error", err)
				}
			case now := <-tick.C:
				r.Tick(now)
			}
		}
	}()
	log.Info("started", "input", src.name, "output_dir", cfg.OutputDir, "state", state)
	runErr := src.run(ctx, r, log)
	findings, err := r.Close()
	status := 0
	if err != nil {
		log.Error("writing results", "error", err)
		status = 1
	}
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		log.Error("input failed", "error", runErr)
		status = 1
	}
	log.Info("stopped", "findings", len(findings), "alerts", alerts.Written)
	return status
}
