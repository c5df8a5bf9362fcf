package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/dnsieve/dnsieve/internal/afpacket"
	"github.com/dnsieve/dnsieve/internal/capture"
	"github.com/dnsieve/dnsieve/internal/config"
	"github.com/dnsieve/dnsieve/internal/stream"
)

const liveUsage = `Usage: dnsieve live -i IFACE [-i IFACE ...] [flags]

Captures DNS traffic live with AF_PACKET (pure Go, no libpcap; needs
CAP_NET_RAW) on a mirror port, a resolver's interface or a tunnel device,
analyses it with the same engine as scan, and alerts as soon as a tunnel is
recognised. The default filter keeps UDP and TCP on the DNS ports. Once the
sockets are open, --user drops root for an unprivileged user. SIGHUP reloads
the allowlist and thresholds; SIGTERM writes findings.jsonl, domains.csv and
the engine state and exits.

Flags:
`

// multiFlag collects a repeated string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func runLive(args []string, stdout, stderr io.Writer) int {
	var f streamFlags
	var ifaces multiFlag
	fl := flag.NewFlagSet("live", flag.ContinueOnError)
	fl.SetOutput(stderr)
	f.register(fl, continuous)
	fl.Var(&ifaces, "i", "capture on interface `IFACE` (repeat for several; \"any\" alone for all)")
	fl.Var(&ifaces, "interface", "same as -i `IFACE`")
	filter := fl.String("filter", "", "capture filter `EXPR`, e.g. \"port 53 or 5353\", \"udp port 53\", \"ip6 and tcp port 853\" (default: port 53, or the config's dns_ports)")
	user := fl.String("user", "", "after opening the sockets, switch to this `USER` (name or uid)")
	group := fl.String("group", "", "and this `GROUP` (default: the user's primary group)")
	promisc := fl.Bool("promisc", false, "put the interfaces in promiscuous mode (a mirror port)")
	setUsage(fl, liveUsage, "\nExamples:\n  dnsieve live -i eth1 --promisc -o /var/lib/dnsieve --alerts file:/var/log/dnsieve/alerts.jsonl\n  dnsieve live -i eth0 -i eth1 --user nobody --metrics 127.0.0.1:9530\n")
	if code, done := parseFlags(fl, args, stdout, stderr); done {
		return code
	}
	if len(ifaces) == 0 || fl.NArg() > 0 {
		return usageError(fl, stderr, "give at least one -i IFACE, and nothing else")
	}
	var src *afpacket.Source
	return runStream(&f, stdout, stderr, func(cfg config.Config, log *slog.Logger) (*streamSource, error) {
		var err error
		src, err = afpacket.Open(afpacket.Config{Interfaces: ifaces, Filter: *filter, Ports: cfg.DNSPorts, Promiscuous: *promisc})
		if err != nil {
			return nil, err
		}
		if *user != "" {
			if err := afpacket.DropPrivileges(*user, *group); err != nil {
				src.Close()
				return nil, fmt.Errorf("dropping privileges: %w", err)
			}
			log.Info("privileges dropped", "user", *user)
		}
		drops := func() (uint64, uint64) { s := src.Stats(); return s.KernelDrops, s.UserDrops }
		return &streamSource{name: "live:" + ifaces.String(), drops: drops, run: func(ctx context.Context, r *stream.Runner, log *slog.Logger) error {
			go func() { <-ctx.Done(); src.Close() }()
			var rec capture.Record
			for {
				err := src.Next(&rec)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					log.Warn("capture", "error", err)
					continue
				}
				r.Frame(&rec)
			}
			st := src.Stats()
			log.Info("capture closed", "packets", st.Packets, "bytes", st.Bytes, "kernel_drops", st.KernelDrops, "kernel_freezes", st.KernelFreezes)
			return nil
		}}, nil
	})
}
