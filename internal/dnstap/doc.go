// Package dnstap receives dnstap (https://dnstap.info) from DNS servers and
// hands out every DNS message they log, with its metadata.
//
// It owns the dnstap input of dnsieve: the Frame Streams transport (a Unix
// socket or TCP, the bidirectional handshake READY/ACCEPT/START ... STOP/
// FINISH and the unidirectional one, content type "protobuf:dnstap.Dnstap"),
// the Frame Streams file format (ReadFile), and the dnstap protobuf schema
// (Decode, a hand-written, allocation-free decoder of the fields dnsieve
// uses; protobuf-go with the golang-dnstap types is its test oracle).
//
// Listen serves senders until its context ends or Close is called. Each
// connection has its own goroutine; the callback is serialised, so it can
// feed a single-threaded engine (analyze.Analyzer.Message with Message.Wire).
// Frames are bounded (MaxFrameSize, 1 MiB), connections too (MaxConns);
// malformed frames are counted and skipped without ending the connection.
//
// Configuring the DNS servers (the sender side):
//
// Unbound (unbound.conf; dnstap-bidirectional is the default and needed):
//
//	dnstap:
//	  dnstap-enable: yes
//	  dnstap-socket-path: "/run/dnsieve/dnstap.sock"
//	  # or, over TCP: dnstap-ip: "127.0.0.1@6000" and dnstap-tls: no
//	  dnstap-send-identity: yes
//	  dnstap-send-version: yes
//	  dnstap-log-client-query-messages: yes
//	  dnstap-log-client-response-messages: yes
//
// BIND 9 (named.conf, options block; BIND writes to a Unix socket only):
//
//	dnstap { client; };
//	dnstap-output unix "/run/dnsieve/dnstap.sock";
//	dnstap-identity hostname;
//
// Knot DNS (knot.conf, the dnstap module):
//
//	mod-dnstap:
//	  - id: dnsieve
//	    sink: unix:/run/dnsieve/dnstap.sock
//	    log-queries: on
//	    log-responses: on
//	template:
//	  - id: default
//	    global-module: mod-dnstap/dnsieve
//
// CoreDNS (Corefile; "full" is required, without it no DNS message is sent):
//
//	dnstap unix:///run/dnsieve/dnstap.sock full
//	dnstap tcp://127.0.0.1:6000 full
//
// PowerDNS Recursor (Lua config file named by lua-config-file; it logs the
// queries it sends to authoritative servers, RESOLVER_QUERY/RESPONSE):
//
//	dnstapFrameStreamServer({"/run/dnsieve/dnstap.sock"}, {logQueries=true, logResponses=true})
//
// dnsdist (client traffic of the PowerDNS family):
//
//	fsul = newFrameStreamUnixLogger("/run/dnsieve/dnstap.sock")
//	addAction(AllRule(), DnstapLogAction("dnsdist", fsul))
//	addResponseAction(AllRule(), DnstapLogResponseAction("dnsdist", fsul))
//
// See README.md for the details (permissions, versions, limits).
package dnstap
