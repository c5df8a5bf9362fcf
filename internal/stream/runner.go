package stream

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dnsieve/dnsieve/internal/alert"
	"github.com/dnsieve/dnsieve/internal/allowlist"
	"github.com/dnsieve/dnsieve/internal/analyze"
	"github.com/dnsieve/dnsieve/internal/capture"
	"github.com/dnsieve/dnsieve/internal/config"
	"github.com/dnsieve/dnsieve/internal/engine"
	"github.com/dnsieve/dnsieve/internal/fingerprint"
	"github.com/dnsieve/dnsieve/internal/ipreasm"
	"github.com/dnsieve/dnsieve/internal/packet"
	"github.com/dnsieve/dnsieve/internal/scan"
	"github.com/dnsieve/dnsieve/internal/tcpstream"
)

// Options configure a Runner.
type Options struct {
	// Config is the detector configuration (checks, allowlist, ports,
	// engine bounds, output directory).
	Config config.Config
	// Alerts receives alerts; nil writes none.
	Alerts *alert.Writer
	// StateFile is where the engine is checkpointed and restored from
	// ("" disables checkpoints).
	StateFile string
	// CheckpointEvery is the checkpoint interval (default 5 minutes).
	CheckpointEvery time.Duration
	// Log receives operational messages.
	Log *slog.Logger
	// Version is written into outputs.
	Version string
	// Input names the source in outputs (an interface, socket or folder).
	Input string
}

// Counters are the Runner's traffic counters, safe to read at any time.
type Counters struct {
	Frames, DNSMessages, Queries, Responses, Malformed, Skipped, Fragments atomic.Uint64
	Unwrapped                                                              atomic.Uint64    // frames taken out of an encapsulation
	Alerts, Findings                                                       [4]atomic.Uint64 // by engine.Severity
	LastPacketTime                                                         atomic.Int64     // Unix ns of the latest packet seen
	LastPacketWall                                                         atomic.Int64     // when it was processed (Unix ns)
	Checkpoints, CheckpointErrors                                          atomic.Uint64
}

// Runner analyses traffic continuously. Its methods are safe for
// concurrent use (they serialise on one lock: the engine is single
// threaded).
type Runner struct {
	opt Options
	log *slog.Logger

	mu      sync.Mutex
	cfg     config.Config
	an      *analyze.Analyzer
	eng     *engine.Engine
	asm     *tcpstream.Assembler
	ipr     *ipreasm.Reassembler
	whole   packet.Packet
	counts  analyze.Counts
	obs     engine.Observation
	lastCkp time.Time

	// C holds the counters for metrics.
	C Counters
}

// New returns a Runner, restoring the engine from the state file when it
// exists.
func New(opt Options) (*Runner, error) {
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.CheckpointEvery <= 0 {
		opt.CheckpointEvery = 5 * time.Minute
	}
	r := &Runner{opt: opt, log: opt.Log, lastCkp: time.Now()}
	if err := r.configure(opt.Config); err != nil {
		return nil, err
	}
	ecfg := opt.Config.Engine
	ecfg.RenumberIDs = true // the runner keeps no domain IDs
	r.eng = engine.New(ecfg)
	r.eng.OnAlert = r.onAlert
	r.asm = tcpstream.New(tcpstream.Config{})
	r.ipr = ipreasm.New(ipreasm.Config{})
	if opt.StateFile != "" {
		err := engine.LoadSnapshotFile(r.eng, opt.StateFile)
		switch {
		case err == nil:
			st := r.eng.Stats()
			r.log.Info("engine state restored", "file", opt.StateFile, "domains", st.Domains)
		case errors.Is(err, os.ErrNotExist):
		default:
			return nil, fmt.Errorf("restoring %s: %w (move it away to start afresh)", opt.StateFile, err)
		}
	}
	return r, nil
}

// configure builds the analyzer from a configuration.
func (r *Runner) configure(cfg config.Config) error {
	var allow *allowlist.List
	if cfg.EnableAllowlist {
		var err error
		if allow, err = allowlist.Load(cfg.Allowlist); err != nil {
			return fmt.Errorf("allowlist: %w", err)
		}
	}
	r.cfg = cfg
	r.an = analyze.New(analyze.Config{Checks: &r.cfg.Checks, Allow: allow, Ports: analyze.NewPortSet(cfg.DNSPorts)})
	return nil
}

// Reload applies a new configuration (allowlist, checks, ports) without
// losing the engine's state (SIGHUP).
func (r *Runner) Reload(cfg config.Config) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.configure(cfg); err != nil {
		return err
	}
	r.log.Info("configuration reloaded")
	return nil
}

// onAlert writes an alert for f and, once the sink accepted it, marks it
// announced in the engine (persisted by checkpoints), so that it is not
// announced again, by this process or after a restart; an alert that
// could not be written is tried again at the next rise or at Close. The
// caller holds r.mu (OnAlert runs inside the engine's Observe).
func (r *Runner) onAlert(f engine.Finding) {
	r.C.Alerts[f.Severity].Add(1)
	if r.opt.Alerts == nil {
		return
	}
	if err := r.opt.Alerts.Finding(f); err != nil {
		r.log.Error("writing an alert", "error", err)
		return
	}
	r.eng.MarkAlerted(f.ID, f.Severity)
}

// Frame analyses one captured frame (live capture, watched files).
func (r *Runner) Frame(rec *capture.Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.C.Frames.Add(1)
	r.seen(rec.Time)
	c := &r.counts
	kind := r.an.Frame(rec.LinkType, rec.Data)
	if r.an.Packet().Encapsulated > 0 {
		c.Unwrapped++
	}
	switch kind {
	case analyze.Skipped:
		c.Skipped++
		if p := r.an.Packet(); p.Proto == packet.ProtoUDP || p.Proto == packet.ProtoTCP {
			r.eng.Contacted([]netip.Addr{p.Dst, p.Src})
		}
	case analyze.Malformed:
		c.Malformed++
	case analyze.Fragment:
		c.Fragments++
		w := &r.whole
		if r.ipr.Add(rec.Frame, rec.Time, r.an.Packet(), w) && (r.an.OnDNSPort(w) || w.Proto == packet.ProtoUDP && r.an.LooksLikeDNS(w.Payload)) {
			c.Reassembled++
			switch r.whole.Proto {
			case packet.ProtoUDP:
				r.udp(&r.whole, rec.Time)
			case packet.ProtoTCP:
				r.tcp(rec, &r.whole)
			}
		}
	case analyze.UDPDNS:
		r.udp(r.an.Packet(), rec.Time)
	case analyze.TCPDNS:
		r.tcp(rec, r.an.Packet())
	}
	r.sync()
}

// udp analyses a UDP datagram on a DNS port.
func (r *Runner) udp(p *packet.Packet, t int64) {
	var allowed bool
	if _, ok := r.an.Message(p.Payload, &r.counts, &r.obs, &allowed); !ok {
		if m := r.an.Raw(p.Payload); m.Tool != fingerprint.Unknown {
			client, server := r.an.Endpoints(p, false)
			r.eng.ObserveRaw(&engine.RawObservation{Time: t, Client: client, Server: server, Size: len(p.Payload), Match: m})
		}
		return
	}
	if !allowed {
		r.obs.Client, r.obs.Server = r.an.Endpoints(p, r.obs.Response)
		r.obs.Time = t
		if r.an.OffPort() {
			r.obs.OffPort = true
			r.obs.ServerPort = p.DstPort
			if r.obs.Response {
				r.obs.ServerPort = p.SrcPort
			}
		}
		r.observe()
	}
}

// tcp feeds a TCP segment on a DNS port to stream reassembly.
func (r *Runner) tcp(rec *capture.Record, p *packet.Packet) {
	seg := *p
	r.asm.Add(rec.Frame, rec.Time, &seg, func(_ uint64, msg []byte) {
		r.counts.TCPMessages++
		var allowed bool
		if _, ok := r.an.Message(msg, &r.counts, &r.obs, &allowed); ok && !allowed {
			r.obs.Client, r.obs.Server = r.an.Endpoints(&seg, r.obs.Response)
			r.obs.Time = rec.Time
			r.observe()
		}
	})
}

// Message analyses one DNS message whose addresses are known (dnstap).
func (r *Runner) Message(t time.Time, client, server netip.Addr, msg []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen(t.UnixNano())
	var allowed bool
	if _, ok := r.an.Message(msg, &r.counts, &r.obs, &allowed); ok && !allowed {
		r.obs.Client, r.obs.Server, r.obs.Time = client, server, t.UnixNano()
		r.observe()
	}
	r.sync()
}

// Observe adds already-parsed observations (Zeek logs); r may be nil.
func (r *Runner) Observe(q, resp *engine.Observation) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, o := range []*engine.Observation{q, resp} {
		if o == nil {
			continue
		}
		r.seen(o.Time)
		r.counts.DNSMessages++
		if o.Response {
			r.counts.Responses++
		} else {
			r.counts.Queries++
		}
		r.eng.Observe(o)
	}
	r.sync()
}

func (r *Runner) observe() {
	if r.obs.Name == nil && r.obs.Match.Tool != fingerprint.Unknown {
		o := &r.obs
		r.eng.ObserveRaw(&engine.RawObservation{Time: o.Time, Client: o.Client, Server: o.Server, Size: o.Size, Match: o.Match})
		return
	}
	r.eng.Observe(&r.obs)
}

func (r *Runner) seen(t int64) {
	if t > r.C.LastPacketTime.Load() {
		r.C.LastPacketTime.Store(t)
	}
	r.C.LastPacketWall.Store(time.Now().UnixNano())
}

// sync publishes the counters (called with the lock held).
func (r *Runner) sync() {
	c := &r.counts
	r.C.DNSMessages.Store(c.DNSMessages)
	r.C.Queries.Store(c.Queries)
	r.C.Responses.Store(c.Responses)
	r.C.Malformed.Store(c.Malformed)
	r.C.Skipped.Store(c.Skipped)
	r.C.Fragments.Store(c.Fragments)
	r.C.Unwrapped.Store(c.Unwrapped)
}

// EngineStats returns the engine's counters.
func (r *Runner) EngineStats() engine.Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.eng.Stats()
}

// Tick does periodic work: a checkpoint when one is due. Call it every few
// seconds.
func (r *Runner) Tick(now time.Time) {
	if r.opt.StateFile == "" || now.Sub(r.lastCkp) < r.opt.CheckpointEvery {
		return
	}
	r.lastCkp = now
	if err := r.Checkpoint(); err != nil {
		r.log.Error("checkpoint", "error", err)
	}
}

// Checkpoint saves the engine's state to the state file.
func (r *Runner) Checkpoint() error {
	if r.opt.StateFile == "" {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := engine.SaveSnapshotFile(r.eng, r.opt.StateFile); err != nil {
		r.C.CheckpointErrors.Add(1)
		return err
	}
	r.C.Checkpoints.Add(1)
	return nil
}

// Findings judges every domain now.
func (r *Runner) Findings() []engine.Finding {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.eng.Findings()
}

// Close writes findings.jsonl and domains.csv to the output directory,
// alerts for every finding not yet alerted at its severity, by this
// process or by one whose state it restored, and a final checkpoint
// (SIGTERM).
func (r *Runner) Close() ([]engine.Finding, error) {
	r.mu.Lock()
	fs := r.eng.Findings()
	for i := range fs {
		r.C.Findings[fs[i].Severity].Add(1)
		if fs[i].Severity > fs[i].Alerted {
			r.onAlert(fs[i])
		}
	}
	r.mu.Unlock()
	var errs []error
	if dir := r.opt.Config.OutputDir; dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			errs = append(errs, err)
		} else {
			for i := range fs {
				fs[i].Pcaps = []string{r.opt.Input}
			}
			errs = append(errs, scan.WriteFindings(dir, fs))
		}
	}
	errs = append(errs, r.Checkpoint())
	if err := errors.Join(errs...); err != nil {
		return fs, err
	}
	if r.opt.StateFile != "" {
		r.log.Info("engine state saved", "file", filepath.Clean(r.opt.StateFile))
	}
	return fs, nil
}
