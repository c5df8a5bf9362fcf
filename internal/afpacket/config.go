package afpacket

import (
	"time"

	"golang.org/x/net/bpf"
)

// Defaults applied by Open to zero Config fields.
const (
	DefaultSnapLen      = 65535
	DefaultBlockSize    = 1 << 20 // 1 MiB
	DefaultNumBlocks    = 64      // 64 MiB of ring per interface
	DefaultBlockTimeout = 10 * time.Millisecond
)

// AnyInterface is the pseudo-interface name that captures on every
// interface of the network namespace through one socket.
const AnyInterface = "any"

// Config describes a live capture.
type Config struct {
	// Interfaces to capture on, one AF_PACKET socket each, bound by
	// interface index. "any" (AnyInterface) captures on every interface
	// of the network namespace with one socket, as bare IP packets
	// (LinkTypeRaw); it must be the only entry, cannot be promiscuous, and
	// a packet forwarded between two interfaces is seen twice. Prefer
	// explicit interfaces.
	Interfaces []string

	// Filter selects the packets to capture, in a small subset of the
	// tcpdump language:
	//
	//	filter    = "all" | alt { "or" ( alt | NUMBER ) }
	//	alt       = primitive { "and" primitive }
	//	primitive = [ "ip" | "ip6" ] [ "udp" | "tcp" ] [ [ "src" | "dst" ] "port" NUMBER ]
	//
	// with at least one word in every primitive. "port 53" matches TCP or
	// UDP with source or destination port 53 over IPv4 or IPv6, also
	// behind one in-line 802.1Q/802.1ad VLAN tag. A bare number after
	// "or" repeats the previous primitive's qualifiers ("udp port 53 or
	// 5353"). "all" (also "ip or ip6") captures every IPv4 and IPv6
	// packet. Words are case-insensitive. Not supported: parentheses,
	// "not", hosts, nets, port ranges, SCTP ports, IPv6 extension headers
	// (a TCP/UDP header behind one is not found, as in tcpdump), and ports
	// of non-first IPv4 fragments (they never match a port primitive).
	//
	// Empty means DefaultFilter(Ports). Filter and BPF are exclusive.
	Filter string

	// BPF, when not nil, is a classic BPF program used instead of Filter.
	// It sees the frame as Next returns it (Ethernet header for
	// LinkTypeEthernet, IP header for LinkTypeRaw) and returns the number
	// of bytes to keep (0 drops). The package prepends a short prologue on
	// loopback and non-Ethernet sockets (see README.md).
	BPF []bpf.Instruction

	// Ports for the default filter; empty means 53.
	Ports []uint16

	// SnapLen is the most bytes kept per frame; 0 means DefaultSnapLen.
	SnapLen int

	// BlockSize and NumBlocks size the TPACKET_V3 receive ring of each
	// socket. BlockSize must be a multiple of the page size (a power of two
	// wastes no kernel memory); a frame larger than a block minus its
	// 48-byte header is truncated. Zero means DefaultBlockSize and
	// DefaultNumBlocks.
	BlockSize, NumBlocks int

	// BlockTimeout is how long the kernel keeps a partly filled block
	// before handing it to Next (tp_retire_blk_tov, whole milliseconds):
	// the worst-case delivery latency on a quiet link. 0 means
	// DefaultBlockTimeout.
	BlockTimeout time.Duration

	// Promiscuous puts each interface in promiscuous mode for as long as
	// its socket is open (PACKET_MR_PROMISC; the kernel counts users and
	// restores the mode itself, even if the process dies).
	Promiscuous bool
}

// Stats are the counters of a Source, summed over its sockets since Open.
type Stats struct {
	// Packets is the kernel's count of packets that passed the filter,
	// including those it dropped (PACKET_STATISTICS tp_packets, which the
	// kernel already sums with tp_drops for TPACKET_V3), like libpcap's
	// ps_recv.
	Packets uint64
	// Bytes is the sum of the on-the-wire lengths (Record.OrigLen) of the
	// frames returned by Next.
	Bytes uint64
	// KernelDrops counts packets that passed the filter but found no room
	// in the ring because the reader was too slow (tp_drops).
	KernelDrops uint64
	// KernelFreezes counts the times the ring was full and the kernel
	// froze the queue (tp_freeze_q_cnt).
	KernelFreezes uint64
	// UserDrops counts frames dropped in user space. Next reads the ring
	// directly, without an intermediate queue, so it is always 0: a slow
	// consumer shows up as KernelDrops.
	UserDrops uint64
}
