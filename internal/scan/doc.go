// Package scan runs the batch job behind `dnsieve scan`: it expands the
// input paths, reads each capture with all cores (one reader, a pool of
// workers decoding and checking batches of whole records, one collector
// putting results back in frame order, reassembling DNS over TCP and
// feeding the engine, with the state of the messages to come prefetched),
// and writes out.csv, stats.json and out.log to the output directory.
//
// out.csv lists every packet of a domain judged a tunnel, also those seen
// before the verdict, so the collector spools a small record of every DNS
// packet (spool.go): 64k in memory, the rest in an unlinked temporary file
// in the output directory, written by a goroutine of its own. A capture's
// end waits for its records to be written; a failed write fails that
// capture and out.csv, never the analysis.
//
// It owns the order of work and the bookkeeping (statistics, the state file
// of processed captures, progress), not the decoding or the detection,
// which live in their own packages.
//
// The state file (dnsieve-state.json) records every capture read to its
// clean end by path, size, modification time and, in runs with
// ignore_parsed_pcaps (the only user of it), the SHA-256 of the file's
// bytes as stored. The hash is computed while the capture is read for the
// scan (capture.WithSHA256), so a scan reads each file once; the file is
// read again only when that digest is missing (then as before the change)
// and, with ignore_parsed_pcaps, before the scan of a capture whose path,
// size and time are not recorded but whose size is: it may be a copy of a
// processed capture under another name.
package scan
