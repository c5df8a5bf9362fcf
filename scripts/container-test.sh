#!/usr/bin/env bash
# Builds the static binary and the FROM-scratch image with buildah (no Docker
# engine needed), runs `dnsieve scan` inside it on the bundled sample, and
# checks the outputs. Run as root: sudo scripts/container-test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v buildah >/dev/null || { apt-get update -qq && apt-get install -y -qq buildah >/dev/null; }
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$(git describe --always 2>/dev/null || echo dev)" -o dist/dnsieve ./cmd/dnsieve
buildah bud --isolation chroot -q -t dnsieve:test . >/dev/null
out=$(mktemp -d)
chmod 777 "$out" # the image runs as nobody (65534)
ctr=$(buildah from dnsieve:test)
trap 'buildah rm "$ctr" >/dev/null 2>&1 || true; rm -rf "$out"' EXIT
buildah run --isolation chroot -v "$PWD/testdata/corpus:/data:ro" -v "$out:/out" "$ctr" -- /dnsieve scan -q -o /out /data/sample.pcap
for f in out.csv stats.json out.log findings.jsonl domains.csv report.html; do
  [ -s "$out/$f" ] || { echo "container run did not write $f"; exit 1; }
done
grep -q '"severity":"high"' "$out/findings.jsonl" || { echo "no high finding on the sample"; exit 1; }
echo "container test passed: $(wc -l < "$out/findings.jsonl") finding(s)"
