// Package engine is dnsieve's behavioural detector. It groups DNS messages
// by registered domain (and, within a domain, by client), accumulates
// features over packet time, and turns them into verdicts with evidence: a
// domain whose names carry more information than lookups need, in forms
// ordinary names do not take, with the record types and answer sizes of a
// data channel, is a tunnel, and so is one whose answers carry distinct
// encoded data at a channel's volume (a downstream channel's names may
// show nothing; DownstreamFloor), and so is one whose sweep of numbered
// names is answered with IPv4 addresses spread over the byte range, a
// payload served four bytes per A record (counter.go, StagerFloor), and so
// is one whose names nearly all look like data and carry a channel's volume
// of information, each asked about once by one to three hosts and answered with
// at most a few addresses (data in short labels; UpstreamFloor), or
// whose names carry text written in hex (TextFloor); the
// tool that made it is named from protocol facts (package fingerprint). A
// domain whose names are nearly all a resolver's search-path expansions of
// names its clients then ask on their own (a Kubernetes cluster's zone) is
// judged suspicious at most, unless its answers carry data or a tool or
// raw tunnel packets were recognised in it: its names carry other domains'
// names (expand.go). So is the registered domain of a known service that
// puts identifiers or data in DNS names by design (known.go), unless a tool's protocol, raw tunnel packets or a downstream
// channel's answers were recognised in it. A finding names the tunnel's own
// zone below the registered domain: the label nine in ten of its data-like
// names share and where its tool's fingerprints hold, found by majority
// votes that benign hosts of a busy domain do not move (zone.go). A label
// that holds two in three of the data-like names is also judged as a unit
// of its own when the domain has other traffic, so that the domain's other
// lookups do not dilute the channel; the unit's verdict is the finding
// when it is the more severe (unit.go).
//
// The engine sees messages in capture order, from one goroutine. The
// hashes it needs of each name can be computed beforehand where messages
// are analysed in parallel (a copy of Engine.Hasher in each analyzer;
// hasher.go), so that the one goroutine does less; with those hashes,
// whoever feeds it a batch can ask for the memory of the messages to come
// while it observes the ones before (prefetch.go). Its state
// is keyed by registered domain, so that it can be sharded or moved; its
// memory is bounded by Config.MaxMemory, with least recently seen domains
// evicted first (counted, never silent). Most domains never need more than
// counters: they live in a compact tier of fixed-size records until they
// show something (cold.go). A full domain tracks its clients one by one
// (clienttable.go) up to Config.MaxClientsPerDomain, and estimates how many
// there are beyond that with a one-word HyperLogLog (clientsketch.go).
// The addresses seen in non-DNS traffic, which tell whether a domain's
// answers were used, are an exact set and then a Bloom filter that always
// takes the newest, within a 32nd of the memory cap (at most 4 MiB;
// contacted.go).
package engine
