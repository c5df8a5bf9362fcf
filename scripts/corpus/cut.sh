#!/usr/bin/env bash
# cut.sh IN OUT N
#
# Keeps the first N frames of the capture IN and writes them to OUT as a
# classic pcap file (editcap). With N of the form "<bytes>B" (e.g. 150000B)
# it keeps as many leading frames as fit in that many bytes of pcap output.
# Prints the number of frames kept.
set -euo pipefail

if [[ $# -ne 3 ]]; then
	echo "usage: $0 IN OUT N|<bytes>B" >&2
	exit 2
fi
in=$1
out=$2
n=$3

if [[ $n =~ ^([0-9]+)B$ ]]; then
	budget=${BASH_REMATCH[1]}
	# pcap: 24-byte file header, 16-byte record header per frame.
	n=$(tshark -n -r "$in" -T fields -e frame.cap_len 2>/dev/null |
		awk -v b="$budget" 'BEGIN { s = 24 } !full { s += 16 + $1; if (s > b) full = 1; else k = NR } END { print k + 0 }')
fi
if ! [[ $n =~ ^[0-9]+$ ]] || ((n < 1)); then
	echo "cut.sh: nothing to keep (N=$n)" >&2
	exit 1
fi
editcap -F pcap -r "$in" "$out" "1-$n"
echo "$n"
