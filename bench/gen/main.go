// Command gen writes a deterministic capture of realistic DNS traffic for
// dnsieve's benchmarks (see package bench/traffic for the traffic model).
//
//	go run ./bench/gen -n 10000000 -domains 1000000 -seed 1 -format pcap -o /tmp/big.pcap
//
// The capture is streamed: memory stays constant whatever -n is. The same
// -seed and -domains give the same frames, and a shorter capture is a
// prefix of a longer one. -compress gzip|zstd compresses the output (by
// default it follows the name: .gz, .zst).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/dnsieve/dnsieve/bench/traffic"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("gen", flag.ContinueOnError)
	fl.SetOutput(stderr)
	n := fl.Int("n", 1_000_000, "number of packets")
	domains := fl.Int("domains", 1_000_000, "distinct registered domains in the population")
	seed := fl.Uint64("seed", 1, "random seed")
	rate := fl.Float64("rate", 20_000, "average packets per second of capture time")
	format := fl.String("format", "pcap", "pcap or pcapng")
	compress := fl.String("compress", "", "none, gzip or zstd (default: from the -o suffix .gz/.zst, else none)")
	out := fl.String("o", "", "output file (default: standard output)")
	quiet := fl.Bool("q", false, "no summary on standard error")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *n < 0 || fl.NArg() > 0 {
		return fmt.Errorf("usage: gen [-n N] [-domains N] [-seed S] [-format pcap|pcapng] [-compress none|gzip|zstd] [-o FILE]")
	}
	comp := *compress
	if comp == "" {
		switch {
		case strings.HasSuffix(*out, ".gz"):
			comp = "gzip"
		case strings.HasSuffix(*out, ".zst"):
			comp = "zstd"
		default:
			comp = "none"
		}
	}
	start := time.Now()
	var w io.Writer = stdout
	var f *os.File
	if *out != "" {
		var err error
		if f, err = os.Create(*out + ".tmp"); err != nil {
			return err
		}
		defer os.Remove(*out + ".tmp") // after a failure; a no-op once renamed
		w = f
	}
	g := traffic.New(traffic.Config{Domains: *domains, Seed: *seed, Rate: *rate})
	bw := bufio.NewWriterSize(w, 1<<20)
	if err := traffic.Write(bw, g, *n, *format, comp); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if f != nil {
		if err := f.Close(); err != nil {
			return err
		}
		if err := os.Rename(*out+".tmp", *out); err != nil {
			return err
		}
	}
	if !*quiet {
		s := g.Stats()
		el := time.Since(start)
		fmt.Fprintf(stderr, "gen: %d packets (%d queries, %d responses, %d tunnel = %.2f%%) %s/%s in %.1fs (%.0f packets/s)\n",
			s.Packets, s.Queries, s.Responses, s.Tunnel, 100*float64(s.Tunnel)/float64(max(s.Packets, 1)), *format, comp,
			el.Seconds(), float64(s.Packets)/el.Seconds())
	}
	return nil
}
