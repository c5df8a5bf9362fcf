package train

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"strings"

	"github.com/dnsieve/dnsieve/internal/analyze"
	"github.com/dnsieve/dnsieve/internal/capture"
	"github.com/dnsieve/dnsieve/internal/checks"
	"github.com/dnsieve/dnsieve/internal/engine"
	"github.com/dnsieve/dnsieve/internal/fingerprint"
	"github.com/dnsieve/dnsieve/internal/ipreasm"
	"github.com/dnsieve/dnsieve/internal/model"
	"github.com/dnsieve/dnsieve/internal/packet"
	"github.com/dnsieve/dnsieve/internal/tcpstream"
)

// labeler says which names and domains of a source are tunnel traffic.
type labeler struct {
	domains []string       // labelled tunnel domains, lowercase
	rx      *regexp.Regexp // tunnel_regex
	raw     bool           // raw_tunnel: "raw:" domains are tunnels
}

// name reports whether a question name is tunnel traffic.
func (l *labeler) name(q string) bool {
	for _, d := range l.domains {
		if q == d || strings.HasSuffix(q, "."+d) {
			return true
		}
	}
	return l.rx != nil && l.rx.MatchString(q)
}

// domain reports whether a registered domain (an engine key) names a
// labelled tunnel domain: the same name or one below the other, as the
// evaluation's coversDomain does.
func (l *labeler) domain(key string) bool {
	if l.raw && strings.HasPrefix(key, "raw:") {
		return true
	}
	for _, d := range l.domains {
		if key == d || strings.HasSuffix(key, "."+d) || strings.HasSuffix(d, "."+key) {
			return true
		}
	}
	return false
}

// feeder runs DNS traffic through the same analysis as a scan (analyze,
// IP reassembly, DNS-over-TCP, the behavioural engine) and keeps, besides
// the engine, which domains carried labelled tunnel names, the early
// snapshots of every domain's features, and benign lookup totals.
type feeder struct {
	an  *analyze.Analyzer
	asm *tcpstream.Assembler
	ipr *ipreasm.Reassembler
	eng *engine.Engine
	// early is a second engine fed the same messages, whose features are
	// read as the traffic goes (reading flushes compression state, so the
	// final engine is kept untouched).
	early *engine.Engine
	whole packet.Packet
	obs   engine.Observation
	cnt   analyze.Counts
	lab   labeler
	// tunnelIDs are the domain IDs that received a labelled tunnel name.
	tunnelIDs map[uint32]bool
	// synthTunnel are the registered domains a synthetic generator made
	// tunnels of.
	synthTunnel map[string]bool
	messages    int
	nextSnap    int
	snaps       []map[string]engine.Features
	chk         checks.Config
}

func newFeeder(lab labeler) *feeder {
	f := &feeder{lab: lab, tunnelIDs: map[uint32]bool{}, nextSnap: firstSnapshot, chk: checks.Default()}
	f.an = analyze.New(analyze.Config{Checks: &f.chk, Ports: analyze.NewPortSet([]uint16{53})})
	f.asm = tcpstream.New(tcpstream.Config{})
	f.ipr = ipreasm.New(ipreasm.Config{})
	f.eng = engine.New(engine.Config{})
	f.early = engine.New(engine.Config{})
	return f
}

// firstSnapshot is the message count of the first early snapshot; the
// next ones come at each doubling.
const firstSnapshot = 64

// frame analyses one captured frame.
func (f *feeder) frame(rec *capture.Record) {
	switch f.an.Frame(rec.LinkType, rec.Data) {
	case analyze.Skipped:
		if p := f.an.Packet(); p.Proto == packet.ProtoUDP || p.Proto == packet.ProtoTCP {
			addrs := []netip.Addr{p.Dst, p.Src}
			f.eng.Contacted(addrs)
			f.early.Contacted(addrs)
		}
	case analyze.Fragment:
		if f.ipr.Add(rec.Frame, rec.Time, f.an.Packet(), &f.whole) && f.an.OnDNSPort(&f.whole) {
			switch f.whole.Proto {
			case packet.ProtoUDP:
				f.udp(&f.whole, rec.Time)
			case packet.ProtoTCP:
				f.tcp(rec, &f.whole)
			}
		}
	case analyze.UDPDNS:
		f.udp(f.an.Packet(), rec.Time)
	case analyze.TCPDNS:
		f.tcp(rec, f.an.Packet())
	}
}

func (f *feeder) udp(p *packet.Packet, t int64) {
	var allowed bool
	if _, ok := f.an.Message(p.Payload, &f.cnt, &f.obs, &allowed); !ok {
		if m := f.an.Raw(p.Payload); m.Tool != fingerprint.Unknown {
			client, server := f.an.Endpoints(p, false)
			f.raw(&engine.RawObservation{Time: t, Client: client, Server: server, Size: len(p.Payload), Match: m})
		}
		return
	}
	if !allowed {
		f.obs.Client, f.obs.Server = f.an.Endpoints(p, f.obs.Response)
		f.obs.Time = t
		if f.an.OffPort() {
			f.obs.OffPort, f.obs.ServerPort = true, p.DstPort
			if f.obs.Response {
				f.obs.ServerPort = p.SrcPort
			}
		}
		f.observe()
	}
}

func (f *feeder) tcp(rec *capture.Record, p *packet.Packet) {
	seg := *p
	f.asm.Add(rec.Frame, rec.Time, &seg, func(_ uint64, msg []byte) {
		var allowed bool
		if _, ok := f.an.Message(msg, &f.cnt, &f.obs, &allowed); ok && !allowed {
			f.obs.Client, f.obs.Server = f.an.Endpoints(&seg, f.obs.Response)
			f.obs.Time = rec.Time
			f.observe()
		}
	})
}

// message analyses one DNS message with known endpoints (synthetic data).
func (f *feeder) message(t int64, client, server netip.Addr, msg []byte) {
	var allowed bool
	if _, ok := f.an.Message(msg, &f.cnt, &f.obs, &allowed); ok && !allowed {
		f.obs.Client, f.obs.Server, f.obs.Time = client, server, t
		f.observe()
	}
}

func (f *feeder) observe() {
	o := &f.obs
	if o.Name == nil && o.Match.Tool != fingerprint.Unknown {
		f.raw(&engine.RawObservation{Time: o.Time, Client: o.Client, Server: o.Server, Size: o.Size, Match: o.Match})
		return
	}
	id := f.eng.Observe(o)
	f.early.Observe(o)
	if id != 0 && f.lab.name(string(o.Name)) {
		f.tunnelIDs[id] = true
	}
	f.tick()
}

func (f *feeder) raw(o *engine.RawObservation) {
	f.eng.ObserveRaw(o)
	f.early.ObserveRaw(o)
	f.tick()
}

// tick counts a message and takes an early snapshot at each doubling.
func (f *feeder) tick() {
	f.messages++
	if f.messages == f.nextSnap {
		f.nextSnap *= 2
		f.snaps = append(f.snaps, f.early.AllFeatures(minUnique))
	}
}

// minUnique is the breadth a domain needs to become a sample: the
// engine's own gate for a verdict (see model.Enough).
const minUnique = 10

// readCapture feeds a whole capture file.
func (f *feeder) readCapture(path string) error {
	r, err := capture.Open(path)
	if err != nil {
		return err
	}
	defer r.Close()
	var rec capture.Record
	for {
		err := r.Next(&rec)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		f.frame(&rec)
	}
}

// samples turns the engine's state into samples of one source.
func (f *feeder) samples(src Source) ([]Sample, Traffic) {
	var out []Sample
	var tr Traffic
	tunnel := func(key string) bool {
		return f.lab.domain(key) || f.tunnelIDs[f.eng.DomainID(key)] || f.synthTunnel[key]
	}
	all := f.eng.AllFeatures(0)
	hand := map[string]engine.Severity{}
	for _, fd := range f.eng.Findings() {
		hand[fd.RegisteredDomain] = fd.Severity
	}
	for _, key := range sortedKeys(all) {
		ft := all[key]
		if tunnel(key) {
			tr.TunnelLookups += ft.Lookups
		} else {
			tr.BenignLookups += ft.Lookups
		}
		if !model.Enough(&ft) {
			continue
		}
		out = append(out, Sample{Source: src, Domain: key, Tunnel: tunnel(key), Features: ft, Weight: 1, Hand: hand[key]})
	}
	// Early snapshots: the same domain as it looked before the end, so
	// that the model also learns to judge early.
	early := map[string][]engine.Features{}
	for _, s := range f.snaps {
		for d, ft := range s {
			if model.Enough(&ft) && ft.Lookups < all[d].Lookups {
				early[d] = append(early[d], ft)
			}
		}
	}
	n := len(out)
	for i := 0; i < n; i++ {
		es := early[out[i].Domain]
		if len(es) == 0 {
			continue
		}
		out[i].Weight = 1 - earlyShare
		for _, ft := range es {
			s := out[i]
			s.Features, s.Early, s.Weight, s.Hand = ft, true, earlyShare/float64(len(es)), engine.SeverityNone
			out = append(out, s)
		}
	}
	return out, tr
}

// earlyShare is the weight of a domain's early snapshots, together,
// against its final state.
const earlyShare = 0.5
