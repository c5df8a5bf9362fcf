// Package afpacket captures live traffic on Linux with AF_PACKET sockets
// and TPACKET_V3 memory-mapped rings, in pure Go (no cgo, no libpcap), and
// yields capture.Records that go through the same analysis as capture files.
//
// It owns: opening one socket per interface (bound by index, in the network
// namespace of the calling thread), compiling a small tcpdump-like filter
// language to classic BPF (CompileFilter, attached before the socket is
// bound so no unfiltered packet is ever queued), reading the rings without
// copying (Source.Next), the kernel's drop counters (Source.Stats), and
// switching the process to an unprivileged user once the sockets are open
// (DropPrivileges).
//
// Link types: Ethernet-like devices and the loopback device give
// LINKTYPE_ETHERNET (1), frames returned without the 802.1Q tag the kernel
// strips; every other device (tun such as iodine's dns0, WireGuard, IP-in-IP,
// GRE, SIT, PPP, InfiniBand...) and "any" are read with SOCK_DGRAM and give
// bare IPv4/IPv6 packets, LINKTYPE_RAW (101).
//
// Requirements: Linux 3.2 or later (TPACKET_V3), and CAP_NET_RAW to open
// the sockets: run as root, or give the binary the capability with
// `setcap cap_net_raw+ep dnsieve`, or use systemd's
// AmbientCapabilities=CAP_NET_RAW (see README.md).
package afpacket
