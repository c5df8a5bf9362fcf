package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/dnsieve/dnsieve/internal/config"
	"github.com/dnsieve/dnsieve/internal/dnstap"
	"github.com/dnsieve/dnsieve/internal/stream"
)

const dnstapUsage = `Usage: dnsieve dnstap (--unix PATH | --tcp ADDR) [flags]

Receives dnstap (Frame Streams) from DNS servers (BIND, Unbound, Knot,
CoreDNS, PowerDNS, dnsdist) and analyses their clients' queries and
responses with the same engine as scan, alerting as soon as a verdict is
reached. By default the CLIENT_QUERY and CLIENT_RESPONSE messages are
analysed (what the server's clients asked); --types resolver analyses the
server's own queries to authoritative servers instead (PowerDNS Recursor
only logs those), --types all both. See internal/dnstap/README.md for each
server's configuration.

Flags:
`

func runDnstap(args []string, stdout, stderr io.Writer) int {
	var f streamFlags
	fl := flag.NewFlagSet("dnstap", flag.ContinueOnError)
	fl.SetOutput(stderr)
	f.register(fl, continuous)
	unix := fl.String("unix", "", "listen on the Unix socket `PATH` (mode 0660)")
	tcp := fl.String("tcp", "", "listen on TCP `ADDR` (host:port)")
	types := fl.String("types", "client", "which messages to analyse: `TYPES` client, resolver or all")
	setUsage(fl, dnstapUsage, "\nExample:\n  dnsieve dnstap --unix /run/dnsieve/dnstap.sock -o /var/lib/dnsieve --alerts syslog\n")
	if code, done := parseFlags(fl, args, stdout, stderr); done {
		return code
	}
	if (*unix == "") == (*tcp == "") || fl.NArg() > 0 {
		return usageError(fl, stderr, "give exactly one of --unix PATH and --tcp ADDR")
	}
	var want func(string) bool
	switch *types {
	case "client":
		want = func(t string) bool { return strings.HasPrefix(t, "CLIENT_") }
	case "resolver":
		want = func(t string) bool { return strings.HasPrefix(t, "RESOLVER_") || strings.HasPrefix(t, "FORWARDER_") }
	case "all":
		want = func(string) bool { return true }
	default:
		fmt.Fprintln(stderr, "dnsieve dnstap: --types is client, resolver or all")
		return 2
	}
	network, addr := "unix", *unix
	if *tcp != "" {
		network, addr = "tcp", *tcp
	}
	return runStream(&f, stdout, stderr, func(cfg config.Config, log *slog.Logger) (*streamSource, error) {
		return &streamSource{name: network + ":" + addr, run: func(ctx context.Context, r *stream.Runner, log *slog.Logger) error {
			srv, err := dnstap.Listen(ctx, network, addr, func(m *dnstap.Message) {
				if want(m.Type) {
					r.Message(m.Time, m.Client.Addr(), m.Server.Addr(), m.Wire)
				}
			})
			if err != nil {
				return err
			}
			log.Info("listening for dnstap", "address", srv.Addr().String())
			<-ctx.Done()
			err = srv.Close()
			st := srv.Stats()
			log.Info("dnstap closed", "connections", st.Connections, "frames", st.Frames, "messages", st.Messages,
				"malformed", st.Malformed, "dropped", st.Dropped)
			return err
		}}, nil
	})
}
