#!/usr/bin/env bash
# record.sh [OUTDIR]
#
# Records dnsieve's labelled corpus from real DNS tunnel tools (iodine,
# dns2tcp) and from ordinary lookups, inside three network namespaces that
# this script creates and always removes again:
#
#   client 10.53.1.2 --- 10.53.1.1 resolver (unbound) 10.53.2.1 --- server
#                                                   10.53.2.2 nsd (benign zones, delegations)
#                                                   10.53.2.3 iodined
#                                                   10.53.2.4 dns2tcpd
#
# Every packet stays inside these namespaces. tcpdump on the client's veth
# writes one pcap per run into OUTDIR (default ./out), with OUTDIR/labels.json,
# and small fixtures for the repository in OUTDIR/fixtures/.
#
# Must run as root on Debian (installs what it needs with apt-get).
# Environment: RUNS="iodine-null dns2tcp-txt ..." to record a subset;
# SEED=n for the benign name generator; PAYLOAD_KB, D2T_PAYLOAD_KB,
# BENIGN_QUERIES, MIXED_QUERIES to change sizes; FIXTURE_BYTES and
# SAMPLE_BYTES for the fixtures; SERVER_CAPTURE=1 also writes the
# resolver<->server leg to OUTDIR/logs/RUN.server.pcap (debugging).
# See README.md beside this file.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${1:-out}
SEED=${SEED:-$RANDOM}
PAYLOAD_KB=${PAYLOAD_KB:-300}
D2T_PAYLOAD_KB=${D2T_PAYLOAD_KB:-200}
BENIGN_QUERIES=${BENIGN_QUERIES:-3000}
MIXED_QUERIES=${MIXED_QUERIES:-600}
FIXTURE_BYTES=${FIXTURE_BYTES:-140000}
SAMPLE_BYTES=${SAMPLE_BYTES:-300000}
TRANSFER_TIMEOUT=${TRANSFER_TIMEOUT:-45}

ALL_RUNS="iodine-null iodine-private iodine-txt iodine-srv iodine-mx iodine-cname iodine-a
iodine-cname-base32 iodine-cname-base64 iodine-cname-base128 iodine-txt-base32
iodine-null-caps iodine-raw
dns2tcp-txt dns2tcp-key benign mixed stager-txt stager-aaaa stager-a"
RUNS=${RUNS:-$ALL_RUNS}

NS_C=dnsieve-client
NS_R=dnsieve-resolver
NS_S=dnsieve-server
CLIENT_IP=10.53.1.2
RESOLVER_IP=10.53.1.1
RESOLVER_UP=10.53.2.1
NSD_IP=10.53.2.2
IODINE_IP=10.53.2.3
DNS2TCP_IP=10.53.2.4
BENIGN_IPS=(10.53.1.10 10.53.1.11 10.53.1.12 10.53.1.13 10.53.1.14 10.53.1.15)
IODINE_ZONE=t.cdn-sync.net
DNS2TCP_ZONE=dl.updates-mirror.org
IODINE_NET=10.53.100.1/27
IODINE_SERVER_TUN=10.53.100.1
TUNNEL_PASSWORD=corpus-password
DNS2TCP_KEY=corpus-key
SINK_PORT=5000
ECHO_PORT=5001
# Downstream-only stagers (DNSStager's layout: a payload served from the
# records of numbered names, one chunk each), from zones nsd serves.
STAGER_TXT_ZONE=cdn-assets-cache.net
STAGER_AAAA_ZONE=img-static-cache.com
STAGER_A_ZONE=fonts-edge-cache.net
STAGER_TXT_KB=${STAGER_TXT_KB:-48}
STAGER_AAAA_KB=${STAGER_AAAA_KB:-8}
STAGER_A_KB=${STAGER_A_KB:-2}

log() { printf '%s [record] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ $(id -u) -eq 0 ]] || die "run as root (namespaces, tun devices, port 53)"

# ---------------------------------------------------------------- packages
need_pkgs() {
	local missing=()
	command -v iodine >/dev/null || missing+=(iodine)
	command -v dns2tcpc >/dev/null || missing+=(dns2tcp)
	command -v unbound >/dev/null || missing+=(unbound)
	command -v nsd >/dev/null || missing+=(nsd)
	command -v tcpdump >/dev/null || missing+=(tcpdump)
	command -v ip >/dev/null || missing+=(iproute2)
	command -v dig >/dev/null || missing+=(bind9-dnsutils)
	command -v socat >/dev/null || missing+=(socat)
	command -v tshark >/dev/null || missing+=(tshark)
	command -v editcap >/dev/null || missing+=(wireshark-common)
	command -v ethtool >/dev/null || missing+=(ethtool)
	if ((${#missing[@]})); then
		log "installing ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -q >/dev/null
		apt-get install -y -q "${missing[@]}" >/dev/null
	fi
}
need_pkgs

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d /tmp/dnsieve-corpus.XXXXXX)
LOGS=$OUT/logs
mkdir -p "$LOGS"
rm -f "$LOGS"/*.log

# ---------------------------------------------------------------- processes
declare -A PIDS=()

# bg NAME NS CMD...: start CMD in namespace NS in the background, log to LOGS/NAME.log.
bg() {
	local name=$1 ns=$2
	shift 2
	ip netns exec "$ns" "$@" >"$LOGS/$name.log" 2>&1 &
	PIDS[$name]=$!
}

# stop NAME: end a process started by bg, by its pid, and reap it.
stop() {
	local name=$1 pid
	pid=${PIDS[$name]:-}
	[[ -n $pid ]] || return 0
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
	unset "PIDS[$name]"
}

cleanup() {
	local rc=$?
	set +e
	((rc == 0)) || log "stopping (exit $rc): tearing down namespaces"
	for name in "${!PIDS[@]}"; do stop "$name"; done
	# Anything still running inside our own namespaces was started by us.
	for ns in $NS_C $NS_R $NS_S; do
		if ip netns list | grep -qw "$ns"; then
			for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
			ip netns del "$ns" 2>/dev/null
		fi
	done
	rm -rf "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'log "failed: line $LINENO: $BASH_COMMAND"' ERR
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- topology
in_c() { ip netns exec "$NS_C" "$@"; }
in_r() { ip netns exec "$NS_R" "$@"; }
in_s() { ip netns exec "$NS_S" "$@"; }

setup_net() {
	for ns in $NS_C $NS_R $NS_S; do
		if ip netns list | grep -qw "$ns"; then
			for pid in $(ip netns pids "$ns"); do kill -KILL "$pid" 2>/dev/null || true; done
			ip netns del "$ns"
		fi
		ip netns add "$ns"
		ip -n "$ns" link set lo up
		# IPv4 only: no router solicitations or MLD reports in the captures.
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	done
	ip link add c-r netns "$NS_C" type veth peer name r-c netns "$NS_R"
	ip link add r-s netns "$NS_R" type veth peer name s-r netns "$NS_S"
	ip -n "$NS_C" addr add "$CLIENT_IP/24" dev c-r
	for a in "${BENIGN_IPS[@]}"; do ip -n "$NS_C" addr add "$a/24" dev c-r; done
	ip -n "$NS_R" addr add "$RESOLVER_IP/24" dev r-c
	ip -n "$NS_R" addr add "$RESOLVER_UP/24" dev r-s
	for a in $NSD_IP $IODINE_IP $DNS2TCP_IP; do ip -n "$NS_S" addr add "$a/24" dev s-r; done
	ip -n "$NS_C" link set c-r up
	ip -n "$NS_R" link set r-c up
	ip -n "$NS_R" link set r-s up
	ip -n "$NS_S" link set s-r up
	# Only iodine's raw mode uses these routes: it talks UDP to iodined directly.
	ip -n "$NS_C" route add 10.53.2.0/24 via "$RESOLVER_IP"
	ip -n "$NS_S" route add 10.53.1.0/24 via "$RESOLVER_UP"
	in_r sysctl -qw net.ipv4.ip_forward=1
	# No default route anywhere: nothing can leave the namespaces.
	# Offloads off so the capture holds the packets as sent on the wire.
	for x in "$NS_C c-r" "$NS_R r-c" "$NS_R r-s" "$NS_S s-r"; do
		set -- $x
		ip netns exec "$1" ethtool -K "$2" tx off rx off >/dev/null 2>&1 || true
	done
}

# ---------------------------------------------------------------- services
setup_nsd() {
	local z=$WORK/nsd
	mkdir -p "$z"
	NSD_IP=$NSD_IP IODINE_IP=$IODINE_IP DNS2TCP_IP=$DNS2TCP_IP IODINE_ZONE=$IODINE_ZONE \
		DNS2TCP_ZONE=$DNS2TCP_ZONE "$HERE/gen-benign.sh" "$z" "$WORK/benign-queries.txt" \
		"$((BENIGN_QUERIES + MIXED_QUERIES))" "$SEED"
	stager_zones "$z"
	{
		cat <<EOF
server:
	ip-address: $NSD_IP
	port: 53
	do-ip6: no
	username: ""
	chroot: ""
	zonesdir: "$z"
	database: ""
	zonelistfile: "$z/zone.list"
	xfrdfile: "$z/xfrd.state"
	xfrdir: "$z"
	pidfile: "$z/nsd.pid"
	server-count: 1
	hide-version: yes
	verbosity: 1
remote-control:
	control-enable: no
EOF
		while read -r zone; do
			if [[ $zone == . ]]; then file=root.zone; else file=$zone.zone; fi
			printf 'zone:\n\tname: "%s"\n\tzonefile: "%s"\n' "$zone" "$file"
		done <"$z/zones.list"
	} >"$z/nsd.conf"
	bg nsd "$NS_S" nsd -d -c "$z/nsd.conf"
}

# stager_zones ZONEDIR: the stagers' zones, added to ZONEDIR/zones.list.
# STAGER_TXT_ZONE: cdnN holds the Nth 200-character line of the base64 of a
# random payload in one TXT string (DNSStager's TXT mode); STAGER_AAAA_ZONE:
# imgN holds the Nth 16 bytes of a random payload as an IPv6 address
# (DNSStager's IPv6 mode); STAGER_A_ZONE: fN holds the Nth 4 bytes of a
# random payload as an IPv4 address (the same layout over A records). All
# have ordinary www and mx names too.
stager_zones() {
	local z=$1 zone
	for zone in "$STAGER_TXT_ZONE" "$STAGER_AAAA_ZONE" "$STAGER_A_ZONE"; do
		{
			printf '$ORIGIN %s.\n$TTL 300\n' "$zone"
			printf '@ IN SOA ns1.%s. hostmaster.%s. 2024060101 3600 600 604800 300\n' "$zone" "$zone"
			printf '@ IN NS ns1.%s.\nns1 IN A %s\nwww IN A 203.0.113.80\nmx IN A 203.0.113.25\n' "$zone" "$NSD_IP"
		} >"$z/$zone.zone"
	done
	head -c "$((STAGER_TXT_KB * 1024))" /dev/urandom | base64 -w 200 |
		awk '{ printf "cdn%d IN TXT \"%s\"\n", NR - 1, $0 }' >>"$z/$STAGER_TXT_ZONE.zone"
	head -c "$((STAGER_AAAA_KB * 1024))" /dev/urandom | od -An -v -tx1 -w16 |
		awk '{ a = ""; for (i = 1; i <= 16; i += 2) a = a (i > 1 ? ":" : "") $i $(i + 1); printf "img%d IN AAAA %s\n", NR - 1, a }' \
			>>"$z/$STAGER_AAAA_ZONE.zone"
	head -c "$((STAGER_A_KB * 1024))" /dev/urandom | od -An -v -tu1 -w4 |
		awk '{ printf "f%d IN A %d.%d.%d.%d\n", NR - 1, $1, $2, $3, $4 }' >>"$z/$STAGER_A_ZONE.zone"
	STAGER_TXT_NAMES=$(grep -c ' IN TXT ' "$z/$STAGER_TXT_ZONE.zone" || true)
	STAGER_AAAA_NAMES=$(grep -c ' IN AAAA ' "$z/$STAGER_AAAA_ZONE.zone" || true)
	STAGER_A_NAMES=$(grep -c '^f[0-9]* IN A ' "$z/$STAGER_A_ZONE.zone" || true)
	printf '%s\n%s\n%s\n' "$STAGER_TXT_ZONE" "$STAGER_AAAA_ZONE" "$STAGER_A_ZONE" >>"$z/zones.list"
}

setup_unbound() {
	local u=$WORK/unbound
	mkdir -p "$u"
	{
		cat <<EOF
server:
	interface: $RESOLVER_IP
	port: 53
	outgoing-interface: $RESOLVER_UP
	access-control: 10.53.0.0/16 allow
	do-ip6: no
	username: ""
	chroot: ""
	directory: "$u"
	pidfile: "$u/unbound.pid"
	use-syslog: no
	logfile: ""
	verbosity: 1
	num-threads: 1
	so-reuseport: no
	module-config: "iterator"
	qname-minimisation: no
	do-not-query-localhost: yes
	local-zone: "2.0.192.in-addr.arpa." nodefault
	local-zone: "100.51.198.in-addr.arpa." nodefault
	local-zone: "113.0.203.in-addr.arpa." nodefault
	local-zone: "8.b.d.0.1.0.0.2.ip6.arpa." nodefault
${UNBOUND_EXTRA:-}
remote-control:
	control-enable: no
EOF
		# Every benign zone (and the parents of the tunnel zones, which hold
		# the NS delegations to iodined and dns2tcpd) is served by nsd.
		while read -r zone; do
			[[ $zone == . ]] && continue
			printf 'stub-zone:\n\tname: "%s"\n\tstub-addr: %s\n' "$zone" "$NSD_IP"
		done <"$WORK/nsd/zones.list"
		# Anything else goes to nsd too, which serves a stand-in root zone
		# (NXDOMAIN): unbound never tries the real root servers.
		printf 'forward-zone:\n\tname: "."\n\tforward-addr: %s\n' "$NSD_IP"
	} >"$u/unbound.conf"
	unbound-checkconf "$u/unbound.conf" >/dev/null
	bg unbound "$NS_R" unbound -d -c "$u/unbound.conf"
}

# Servers the tunnels carry payload to, in the server namespace.
start_sink() {
	rm -f "$WORK/received.bin"
	bg sink "$NS_S" socat -u "TCP-LISTEN:$SINK_PORT,reuseaddr" "CREATE:$WORK/received.bin"
}
start_echo() {
	bg echo "$NS_S" socat "TCP-LISTEN:$ECHO_PORT,reuseaddr,fork" EXEC:cat
}

wait_dns() { # wait_dns NS SERVER NAME
	for _ in $(seq 1 50); do
		if ip netns exec "$1" dig +short +tries=1 +time=1 @"$2" "$3" A >/dev/null 2>&1; then return 0; fi
		sleep 0.2
	done
	return 1
}

# ---------------------------------------------------------------- capture
start_capture() { # start_capture RUN
	bg tcpdump "$NS_C" tcpdump -Z root -i c-r -n -s 0 -U -w "$OUT/$1.pcap"
	for _ in $(seq 1 50); do grep -q "listening on" "$LOGS/tcpdump.log" 2>/dev/null && break; sleep 0.1; done
	mv "$LOGS/tcpdump.log" "$LOGS/$1.tcpdump.log" 2>/dev/null || true
	if [[ -n ${SERVER_CAPTURE:-} ]]; then # debugging: the resolver<->server leg too
		bg tcpdump-server "$NS_S" tcpdump -Z root -i s-r -n -s 0 -U -w "$LOGS/$1.server.pcap"
	fi
	sleep 0.3
}
stop_capture() {
	sleep 1
	stop tcpdump
	stop tcpdump-server
}

# ---------------------------------------------------------------- payload
# interactive NS HOST PORT: five short lines, seconds apart, echoed back.
interactive() {
	local ns=$1 host=$2 port=$3
	ip netns exec "$ns" bash -c '
		for i in 1 2 3 4 5; do echo "hello $i $(date +%s) ls -la /tmp"; sleep 2; done | socat -t 6 - TCP:'"$host:$port"'
	' >"$WORK/echoed.txt" 2>>"$LOGS/interactive.log" || true
	wc -l <"$WORK/echoed.txt"
}
# transfer NS HOST PORT FILE: push FILE to the sink, report bytes received.
transfer() {
	local ns=$1 host=$2 port=$3 file=$4
	# Keep the connection open a few seconds after the data: dns2tcpc drops
	# what it has not yet sent when the local side closes.
	{ cat "$file"; sleep 4; } | timeout "$TRANSFER_TIMEOUT" ip netns exec "$ns" socat -u - "TCP:$host:$port" \
		2>>"$LOGS/transfer.log" || true
	# The sink exits once the tunnel has delivered everything and closed.
	local pid=${PIDS[sink]:-}
	for _ in $(seq 1 100); do [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	stop sink
	stat -c %s "$WORK/received.bin" 2>/dev/null || echo 0
}

# ---------------------------------------------------------------- labels
declare -a LABELS=()
json_str() { # JSON string literal
	local s=$1
	s=${s//\\/\\\\}
	s=${s//\"/\\\"}
	s=${s//$'\t'/\\t}
	s=${s//$'\n'/\\n}
	printf '"%s"' "$s"
}
dns_packets() { tshark -n -r "$1" -Y dns 2>/dev/null | wc -l; }

VERSIONS=$(
	printf '{'
	sep=""
	for p in iodine dns2tcp unbound nsd tcpdump bind9-dnsutils socat tshark; do
		printf '%s"%s": %s' "$sep" "$p" "$(json_str "$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || echo unknown)")"
		sep=", "
	done
	printf '%s"kernel": %s}' "$sep" "$(json_str "$(uname -r)")"
)

# add_label RUN VERDICT TOOL DOMAINS(JSON array) RAW(true|false) OPTIONS CLIENT EXTRA(JSON members or "")
add_label() {
	local run=$1 verdict=$2 tool=$3 domains=$4 raw=$5 options=$6 client=$7 extra=$8 e
	e="{\"file\": $(json_str "$run.pcap"), \"expected_verdict\": $(json_str "$verdict")"
	[[ -n $tool ]] && e+=", \"tool\": $(json_str "$tool")"
	e+=", \"tunnel_domains\": $domains"
	[[ $raw == true ]] && e+=", \"raw_tunnel\": true"
	e+=", \"options\": $(json_str "$options"), \"client\": $(json_str "$client")"
	e+=", \"packets\": $(dns_packets "$OUT/$run.pcap")"
	[[ -n $extra ]] && e+=", $extra"
	e+=", \"recorded_with\": $VERSIONS}"
	LABELS+=("$e")
}

write_labels() { # write_labels FILE ENTRY...
	local f=$1 sep="" e
	shift
	{
		printf '{\n "files": [\n'
		for e in "$@"; do printf '%s  %s' "$sep" "$e"; sep=$',\n'; done
		printf '\n ]\n}\n'
	} >"$f"
}

# ---------------------------------------------------------------- runs
declare -A RESULT=()

run_iodine() { # run_iodine RUN RAWMODE(yes|no) IODINE-OPTIONS...
	local run=$1 raw=$2
	shift 2
	local opts=("$@") up=false echoed=0 got=0 t0 cmd
	t0=$(date +%s)
	log "run $run: iodine ${opts[*]}"
	local payload=$WORK/payload.bin
	head -c "$((PAYLOAD_KB * 1024))" /dev/urandom >"$payload"
	start_capture "$run"
	bg iodined "$NS_S" iodined -f -l "$IODINE_IP" -P "$TUNNEL_PASSWORD" "$IODINE_NET" "$IODINE_ZONE"
	start_sink
	sleep 1
	cmd=(iodine -f)
	[[ $raw == no ]] && cmd+=(-r)
	cmd+=("${opts[@]}" -P "$TUNNEL_PASSWORD" "$RESOLVER_IP" "$IODINE_ZONE")
	bg iodine "$NS_C" "${cmd[@]}"
	for _ in $(seq 1 150); do
		if ip -n "$NS_C" -4 addr show dev dns0 2>/dev/null | grep -q 'inet 10\.53\.100\.'; then up=true; break; fi
		kill -0 "${PIDS[iodine]}" 2>/dev/null || break
		sleep 0.2
	done
	if $up; then
		sleep 1
		echoed=$(interactive "$NS_C" "$IODINE_SERVER_TUN" "$ECHO_PORT")
		got=$(transfer "$NS_C" "$IODINE_SERVER_TUN" "$SINK_PORT" "$payload")
	else
		log "run $run: tunnel did not come up (see logs/$run.iodine.log)"
		sleep 3
	fi
	stop iodine
	stop sink
	stop iodined
	stop_capture
	mv "$LOGS/iodine.log" "$LOGS/$run.iodine.log"
	mv "$LOGS/iodined.log" "$LOGS/$run.iodined.log"
	local secs=$(($(date +%s) - t0))
	log "run $run: up=$up echoed=$echoed/5 received=$got/$((PAYLOAD_KB * 1024)) bytes, ${secs}s"
	RESULT[$run]="up=$up echoed=$echoed received=$got secs=$secs"
	local tool=iodine rawflag=false
	if [[ $raw == yes ]]; then tool=iodine-raw; rawflag=true; fi
	add_label "$run" tunnel "$tool" "[\"$IODINE_ZONE\"]" "$rawflag" "${cmd[*]}" "$CLIENT_IP" \
		"\"tunnel_up\": $up, \"payload_bytes\": $((PAYLOAD_KB * 1024)), \"payload_bytes_received\": $got, \"interactive_lines_echoed\": $echoed, \"seconds\": $secs"
}

start_dns2tcpd() {
	mkdir -p "$WORK/dns2tcp-chroot"
	cat >"$WORK/dns2tcpd.conf" <<EOF
listen = $DNS2TCP_IP
port = 53
user = nobody
chroot = $WORK/dns2tcp-chroot
domain = $DNS2TCP_ZONE
key = $DNS2TCP_KEY
resources = sink:127.0.0.1:$SINK_PORT , echo:127.0.0.1:$ECHO_PORT
EOF
	bg dns2tcpd "$NS_S" dns2tcpd -F -d 1 -f "$WORK/dns2tcpd.conf"
}

run_dns2tcp() { # run_dns2tcp RUN TYPE
	local run=$1 type=$2 echoed=0 got=0 t0 cmd_sink cmd_echo
	t0=$(date +%s)
	log "run $run: dns2tcp -T $type"
	local payload=$WORK/payload.bin
	head -c "$((D2T_PAYLOAD_KB * 1024))" /dev/urandom >"$payload"
	start_capture "$run"
	start_dns2tcpd
	start_sink
	sleep 1
	cmd_echo=(dns2tcpc -z "$DNS2TCP_ZONE" -k "$DNS2TCP_KEY" -T "$type" -r echo -l 2223 "$RESOLVER_IP")
	cmd_sink=(dns2tcpc -z "$DNS2TCP_ZONE" -k "$DNS2TCP_KEY" -T "$type" -r sink -l 2222 "$RESOLVER_IP")
	bg dns2tcpc-echo "$NS_C" "${cmd_echo[@]}"
	bg dns2tcpc-sink "$NS_C" "${cmd_sink[@]}"
	sleep 2
	echoed=$(interactive "$NS_C" 127.0.0.1 2223)
	got=$(transfer "$NS_C" 127.0.0.1 2222 "$payload")
	stop dns2tcpc-sink
	stop dns2tcpc-echo
	stop sink
	stop dns2tcpd
	stop_capture
	for n in dns2tcpc-sink dns2tcpc-echo dns2tcpd; do mv "$LOGS/$n.log" "$LOGS/$run.$n.log"; done
	local secs=$(($(date +%s) - t0))
	log "run $run: echoed=$echoed/5 received=$got/$((D2T_PAYLOAD_KB * 1024)) bytes, ${secs}s"
	RESULT[$run]="echoed=$echoed received=$got secs=$secs"
	add_label "$run" tunnel dns2tcp "[\"$DNS2TCP_ZONE\"]" false "${cmd_sink[*]} ; ${cmd_echo[*]}" "$CLIENT_IP" \
		"\"tunnel_up\": $([[ $echoed -gt 0 || $got -gt 0 ]] && echo true || echo false), \"payload_bytes\": $((D2T_PAYLOAD_KB * 1024)), \"payload_bytes_received\": $got, \"interactive_lines_echoed\": $echoed, \"seconds\": $secs"
}

# benign_lookups FIRST COUNT SPREAD: COUNT lines of the query list from line
# FIRST, shared round robin among the benign clients. Each client sends its
# lookups in small bursts (1-8 names, one dig batch each, like a page load or
# a mail check) with random pauses between, so the whole set takes roughly
# SPREAD seconds plus dig's own run time.
benign_lookups() {
	local first=$1 count=$2 spread=$3 n=${#BENIGN_IPS[@]} i pids=()
	for ((i = 0; i < n; i++)); do
		local dir=$WORK/bursts.$first.$i
		rm -rf "$dir"
		mkdir -p "$dir"
		# Most lookups look like a plain stub resolver; some carry EDNS
		# cookies as dig does by default; one in 25 goes over TCP.
		tail -n +"$first" "$WORK/benign-queries.txt" | head -n "$count" |
			awk -v n="$n" -v i="$i" -v dir="$dir" -v seed="$SEED$i" '
				BEGIN { srand(seed); left = 0; b = 0 }
				(NR - 1) % n == i {
					k++
					if (k % 25 == 0) { # dig ignores +tcp on a batch line: its own burst
						b++; t = sprintf("%s/%05d.tcp", dir, b); print $1, $2 > t; close(t); next
					}
					opt = (k % 4 == 0) ? "+cookie" : "+nocookie"
					if (left == 0) { b++; left = 1 + int(rand() * 8); f = sprintf("%s/%05d", dir, b) }
					print $1, $2, opt > f
					left--
					if (left == 0) close(f)
				}'
		local bursts
		bursts=$(find "$dir" -type f | wc -l)
		local gap=$((spread * 1000 / (bursts > 0 ? bursts : 1)))
		ip netns exec "$NS_C" bash -c '
			src=$1 dir=$2 gap=$3 res=$4
			for f in "$dir"/*; do
				[[ -f $f ]] || continue
				tcp=; [[ $f == *.tcp ]] && tcp=+tcp
				dig -b "$src" @"$res" +tries=1 +time=2 +noall $tcp -f "$f" >/dev/null 2>&1 || true
				ms=$((RANDOM % (2 * gap + 1)))
				sleep "$((ms / 1000)).$(printf "%03d" $((ms % 1000)))"
			done
		' _ "${BENIGN_IPS[$i]}" "$dir" "$gap" "$RESOLVER_IP" &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || true; done
}

run_benign() {
	local run=benign t0
	t0=$(date +%s)
	log "run $run: $BENIGN_QUERIES lookups from ${#BENIGN_IPS[@]} clients"
	start_capture "$run"
	benign_lookups 1 "$BENIGN_QUERIES" 30
	stop_capture
	local secs=$(($(date +%s) - t0))
	log "run $run: ${secs}s"
	RESULT[$run]="queries=$BENIGN_QUERIES secs=$secs"
	add_label "$run" benign "" "[]" false "dig -b CLIENT @$RESOLVER_IP +tries=1 +time=2 [+nocookie|+cookie|+tcp] NAME TYPE (gen-benign.sh seed $SEED)" \
		"${BENIGN_IPS[*]}" "\"queries\": $BENIGN_QUERIES, \"seconds\": $secs"
}

# mixed: ordinary lookups from the benign clients while 10.53.1.2 runs an
# iodine NULL tunnel (the source of sample.pcap).
run_mixed() {
	local run=mixed up=false got=0 echoed=0 t0
	t0=$(date +%s)
	log "run $run: iodine -T NULL plus $MIXED_QUERIES benign lookups"
	local payload=$WORK/payload.bin
	head -c "$((PAYLOAD_KB * 1024 / 2))" /dev/urandom >"$payload"
	start_capture "$run"
	benign_lookups "$((BENIGN_QUERIES + 1))" "$MIXED_QUERIES" 25 &
	local bpid=$!
	sleep 2
	bg iodined "$NS_S" iodined -f -l "$IODINE_IP" -P "$TUNNEL_PASSWORD" "$IODINE_NET" "$IODINE_ZONE"
	start_sink
	sleep 1
	local cmd=(iodine -f -r -T NULL -P "$TUNNEL_PASSWORD" "$RESOLVER_IP" "$IODINE_ZONE")
	bg iodine "$NS_C" "${cmd[@]}"
	for _ in $(seq 1 150); do
		if ip -n "$NS_C" -4 addr show dev dns0 2>/dev/null | grep -q 'inet 10\.53\.100\.'; then up=true; break; fi
		sleep 0.2
	done
	if $up; then
		sleep 1
		echoed=$(interactive "$NS_C" "$IODINE_SERVER_TUN" "$ECHO_PORT")
		got=$(transfer "$NS_C" "$IODINE_SERVER_TUN" "$SINK_PORT" "$payload")
	fi
	wait "$bpid" || true
	stop iodine
	stop sink
	stop iodined
	stop_capture
	mv "$LOGS/iodine.log" "$LOGS/$run.iodine.log"
	mv "$LOGS/iodined.log" "$LOGS/$run.iodined.log"
	local secs=$(($(date +%s) - t0))
	log "run $run: up=$up echoed=$echoed received=$got, ${secs}s"
	RESULT[$run]="up=$up echoed=$echoed received=$got secs=$secs"
	add_label "$run" tunnel iodine "[\"$IODINE_ZONE\"]" false "${cmd[*]} ; benign: dig -b CLIENT @$RESOLVER_IP NAME TYPE" \
		"$CLIENT_IP" "\"benign_clients\": \"${BENIGN_IPS[*]}\", \"queries\": $MIXED_QUERIES, \"tunnel_up\": $up, \"payload_bytes_received\": $got, \"seconds\": $secs"
}

# run_stager RUN TYPE ZONE PREFIX COUNT: ordinary lookups from the benign
# clients while 10.53.1.2 fetches PREFIX0..PREFIX(COUNT-1).ZONE one after
# the other, as a stager pulls its payload.
run_stager() {
	local run=$1 type=$2 zone=$3 prefix=$4 count=$5 t0 got
	t0=$(date +%s)
	log "run $run: $count $type lookups under $zone plus $((MIXED_QUERIES / 2)) benign lookups"
	local list=$WORK/$run.names
	seq 0 "$((count - 1))" | awk -v p="$prefix" -v z="$zone" -v t="$type" '{ print p $1 "." z, t }' >"$list"
	start_capture "$run"
	# The last half of the mixed run's lookups (benign_lookups reads to the
	# end of the list: a pipe cut short would end it under set -e).
	benign_lookups "$((BENIGN_QUERIES + MIXED_QUERIES - MIXED_QUERIES / 2 + 1))" "$((MIXED_QUERIES / 2))" 20 &
	local bpid=$!
	sleep 2
	in_c dig -b "$CLIENT_IP" @"$RESOLVER_IP" +tries=1 +time=2 +nocookie +noall +answer -f "$list" >/dev/null 2>>"$LOGS/$run.dig.log" || true
	wait "$bpid" || true
	stop_capture
	got=$(tshark -n -r "$OUT/$run.pcap" -Y "ip.dst==$CLIENT_IP && dns.flags.response==1 && dns.count.answers>0" 2>/dev/null | wc -l)
	local secs=$(($(date +%s) - t0))
	log "run $run: $got/$count answers, ${secs}s"
	RESULT[$run]="answers=$got/$count secs=$secs"
	add_label "$run" tunnel "" "[\"$zone\"]" false "dig -b $CLIENT_IP @$RESOLVER_IP +nocookie -f NAMES (${prefix}0..${prefix}$((count - 1)).$zone $type) ; benign: dig -b CLIENT @$RESOLVER_IP NAME TYPE" \
		"$CLIENT_IP" "\"benign_clients\": \"${BENIGN_IPS[*]}\", \"names\": $count, \"answers_received\": $got, \"seconds\": $secs"
}

# ---------------------------------------------------------------- fixtures
make_fixtures() {
	local fx=$OUT/fixtures e f n budget out entries=()
	rm -rf "$fx"
	mkdir -p "$fx"
	for e in "${LABELS[@]}"; do
		f=$(sed -E 's/^\{"file": "([^"]+)".*/\1/' <<<"$e")
		[[ -s $OUT/$f ]] || continue
		budget=$FIXTURE_BYTES
		out=$f
		if [[ $f == mixed.pcap ]]; then
			budget=$SAMPLE_BYTES
			out=sample.pcap
		fi
		n=$("$HERE/cut.sh" "$OUT/$f" "$fx/$out" "${budget}B")
		# Same entry, pointed at the fixture, with its own DNS packet count.
		e=$(sed -E "s/^\{\"file\": \"[^\"]+\"/{\"file\": \"$out\"/; s/\"packets\": [0-9]+/\"packets\": $(dns_packets "$fx/$out"), \"cut_from\": \"$f\", \"frames_kept\": $n/" <<<"$e")
		entries+=("$e")
	done
	write_labels "$fx/labels.json" "${entries[@]}"
}

# ---------------------------------------------------------------- main
T_START=$(date +%s)
log "output: $OUT (seed $SEED)"
setup_net
setup_nsd
setup_unbound
wait_dns "$NS_C" "$RESOLVER_IP" www.acme-corp.com || die "resolver does not answer (see $LOGS)"
start_echo
prev=startup

for run in $RUNS; do
	# A fresh resolver per run: no cache or server state (e.g. a tunnel
	# server marked unresponsive at the end of the previous run) carries over.
	stop unbound
	mv "$LOGS/unbound.log" "$LOGS/unbound.$prev.log" 2>/dev/null || true
	UNBOUND_EXTRA=
	# 0x20 (random letter case in the resolver's queries): iodine finds the
	# path not case-preserving and falls back to Base32 upstream.
	[[ $run == iodine-null-caps ]] && UNBOUND_EXTRA=$'\tuse-caps-for-id: yes'
	setup_unbound
	wait_dns "$NS_C" "$RESOLVER_IP" www.acme-corp.com || die "resolver does not answer (see $LOGS)"
	prev=$run
	case $run in
	iodine-null) run_iodine "$run" no -T NULL ;;
	iodine-private) run_iodine "$run" no -T PRIVATE ;;
	iodine-txt) run_iodine "$run" no -T TXT ;;
	iodine-srv) run_iodine "$run" no -T SRV ;;
	iodine-mx) run_iodine "$run" no -T MX ;;
	iodine-cname) run_iodine "$run" no -T CNAME ;;
	iodine-a) run_iodine "$run" no -T A ;;
	iodine-cname-base32) run_iodine "$run" no -T CNAME -O Base32 ;;
	iodine-cname-base64) run_iodine "$run" no -T CNAME -O Base64 ;;
	iodine-cname-base128) run_iodine "$run" no -T CNAME -O Base128 ;;
	iodine-txt-base32) run_iodine "$run" no -T TXT -O Base32 ;;
	iodine-null-caps) run_iodine "$run" no -T NULL ;;
	iodine-raw) run_iodine "$run" yes ;;
	dns2tcp-txt) run_dns2tcp "$run" TXT ;;
	dns2tcp-key) run_dns2tcp "$run" KEY ;;
	benign) run_benign ;;
	mixed) run_mixed ;;
	stager-txt) run_stager "$run" TXT "$STAGER_TXT_ZONE" cdn "$STAGER_TXT_NAMES" ;;
	stager-aaaa) run_stager "$run" AAAA "$STAGER_AAAA_ZONE" img "$STAGER_AAAA_NAMES" ;;
	stager-a) run_stager "$run" A "$STAGER_A_ZONE" f "$STAGER_A_NAMES" ;;
	*) die "unknown run $run" ;;
	esac
done

write_labels "$OUT/labels.json" "${LABELS[@]}"
make_fixtures
log "done in $(($(date +%s) - T_START))s; summary:"
for run in $RUNS; do log "  $run: ${RESULT[$run]:-}"; done
