#!/usr/bin/env bash
# Runs every `go test -fuzz` target of the module for a short time each.
# usage: scripts/fuzz.sh [DURATION]   (default 10s per target)
set -euo pipefail
cd "$(dirname "$0")/.."
dur=${1:-10s}
status=0
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "== fuzz $pkg $target ($dur)"
    if ! go test "$pkg" -run='^$' -fuzz="^${target}\$" -fuzztime="$dur" -fuzzminimizetime=1s >/tmp/fuzz.$$.log 2>&1; then
      cat /tmp/fuzz.$$.log
      status=1
    else
      tail -n 1 /tmp/fuzz.$$.log
    fi
  done
done
rm -f /tmp/fuzz.$$.log
exit $status
