#!/usr/bin/env bash
# Writes EVALUATION.md: dnsieve's detection quality on the project's own
# corpus (testdata/corpus, recorded by scripts/corpus/) and, when present, on
# the shared development corpus (../shared/corpus), with the behavioural
# engine and with the per-message checks alone.
# usage: scripts/evaluation.sh [OUTPUT]   (default EVALUATION.md)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-EVALUATION.md}
bin=$(mktemp -d)/dnsieve
trap 'rm -rf "$(dirname "$bin")"' EXIT
go build -o "$bin" ./cmd/dnsieve
{
  echo "# Detection quality"
  echo
  echo "Produced by \`scripts/evaluation.sh\` with dnsieve $(git describe --always --dirty 2>/dev/null || echo dev) on $(date -u +%Y-%m-%d)."
  echo "Each capture is scanned on its own; packets count as flagged at probability medium, high or 100%,"
  echo "exactly as \`../shared/eval/score.py\` counts them (\`dnsieve eval\` agrees with it file by file: see"
  echo "internal/eval's TestAgreesWithScorePy). Ground truth: the labels applied to Wireshark's reading of"
  echo "each capture. \"First alert\" is the capture time from the tunnel's first packet to the engine's"
  echo "first tunnel verdict, and the lookups it had seen by then."
  for corpus in testdata/corpus testdata/downstream ../shared/corpus; do
    [ -f "$corpus/labels.json" ] || continue
    echo
    echo "## $corpus"
    echo
    echo "### Behavioural engine (default)"
    echo
    "$bin" eval --quiet --markdown --labels "$corpus/labels.json"
    echo
    echo "### Per-message checks only (\`--checks-only\`, the old tool's criteria with its bugs fixed)"
    echo
    "$bin" eval --quiet --markdown --checks-only --labels "$corpus/labels.json"
  done
} > "$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out"
