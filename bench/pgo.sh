#!/usr/bin/env bash
# bench/pgo.sh: refresh cmd/dnsieve/default.pgo, the CPU profile that Go's
# profile-guided optimisation reads when it builds dnsieve (go build picks
# the main package's default.pgo up by itself; -pgo=off turns it off).
#
#   bench/pgo.sh            # N=10000000 packets, one run on 1 core, one on 2
#
# The profile comes from the benchmark's realistic traffic (bench/traffic:
# 1M registered domains, CDN and PTR names, a few tunnels), scanned by a
# binary built without PGO, on one core and on two, merged. Refresh it when
# the hot path changes much; a stale profile is still correct, only less
# useful. BENCHMARKS.md records what it gains.
#
# Environment (defaults in brackets): N [10000000], DOMAINS [1000000],
# SEED [1], BENCH_DIR [/tmp/dnsieve-bench] (captures cached there, shared
# with compare.sh).
set -euo pipefail

N=${N:-10000000}
DOMAINS=${DOMAINS:-1000000}
SEED=${SEED:-1}
BENCH_DIR=${BENCH_DIR:-/tmp/dnsieve-bench}
GEN_VERSION=v1 # as in compare.sh

ROOT=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$BENCH_DIR"
cd "$ROOT"
go build -pgo=off -o "$BENCH_DIR/dnsieve-nopgo" ./cmd/dnsieve
go build -o "$BENCH_DIR/gen" ./bench/gen

capture=$BENCH_DIR/dns-$GEN_VERSION-n$N-d$DOMAINS-s$SEED.pcap
if [[ ! -s $capture ]]; then
	echo "generating $capture" >&2
	"$BENCH_DIR/gen" -q -n "$N" -domains "$DOMAINS" -seed "$SEED" -format pcap -o "$capture"
fi

profiles=()
for cores in 1 2; do
	out=$BENCH_DIR/pgo-out-$cores
	rm -rf "$out"
	echo "profiling a $cores-core scan of $capture" >&2
	GOMAXPROCS=$cores "$BENCH_DIR/dnsieve-nopgo" scan -q --no-progress --workers "$cores" \
		--cpuprofile "$BENCH_DIR/pgo-$cores.prof" -o "$out" "$capture" || [[ $? == 1 ]] # 1: tunnels found
	profiles+=("$BENCH_DIR/pgo-$cores.prof")
done
go tool pprof -proto "${profiles[@]}" >cmd/dnsieve/default.pgo
echo "wrote cmd/dnsieve/default.pgo ($(wc -c <cmd/dnsieve/default.pgo) bytes)" >&2
