// Package scan runs the batch job behind `dnsieve scan`: it expands the
// input paths, reads each capture with all cores (one reader, a pool of
// workers decoding and checking batches of whole records, one collector
// putting results back in frame order and reassembling DNS over TCP), and
// writes out.csv, stats.json and out.log to the output directory.
//
// It owns the order of work and the bookkeeping (statistics, the state file
// of processed captures, progress), not the decoding or the detection,
// which live in their own packages.
package scan
