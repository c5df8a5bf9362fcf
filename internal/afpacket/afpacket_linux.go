//go:build linux

package afpacket

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/dnsieve/dnsieve/internal/capture"
)

// Offsets in the TPACKET_V3 ring (linux/if_packet.h). A block starts with
// struct tpacket_block_desc {version, offset_to_priv, struct tpacket_hdr_v1
// {block_status, num_pkts, offset_to_first_pkt, blk_len, ...}}; each packet
// starts with struct tpacket3_hdr.
const (
	blkStatusOff   = 8
	blkNumPktsOff  = 12
	blkFirstPktOff = 16
	blkDescLen     = 48 // BLK_PLUS_PRIV(0): the aligned block header

	pktNextOff    = 0
	pktSecOff     = 4
	pktNsecOff    = 8
	pktSnaplenOff = 12
	pktLenOff     = 16
	pktMacOff     = 24
	pktHdrLen     = unix.SizeofTpacket3Hdr // 48
)

// sock is one AF_PACKET socket and its mapped ring.
type sock struct {
	fd        int
	name      string
	link      uint16
	ring      []byte
	blockSize int
	numBlocks int

	blk   int    // index of the block being read or awaited
	owned bool   // blk belongs to user space (TP_STATUS_USER seen)
	left  uint32 // packets of blk not yet returned
	off   int    // offset in blk of the next packet header
}

// Source reads frames from AF_PACKET sockets. Next and Close may be called
// from different goroutines; Next itself must not be called concurrently.
type Source struct {
	mu    sync.Mutex // held by Next while it uses the rings and by Close
	socks []sock
	pfds  []unix.PollFd // one per socket, then the wake-up eventfd
	frame uint64
	stop  atomic.Bool
	bytes atomic.Uint64

	wakeMu sync.Mutex
	efd    int // eventfd written by Close and by context cancellation; -1 once closed

	statsMu sync.Mutex
	closed  bool // sockets closed; stats are final
	kstats  Stats

	stopCtx func() bool // unregisters the context.AfterFunc
}

// Open opens one AF_PACKET socket with a TPACKET_V3 ring per interface of
// cfg (CAP_NET_RAW is required). The filter is attached before the socket is
// bound, so no unfiltered packet is ever queued. Sockets belong to the
// network namespace of the calling thread.
func Open(cfg Config) (*Source, error) {
	return OpenContext(context.Background(), cfg)
}

// OpenContext is Open with a context: once ctx is done, Next returns io.EOF
// (Close must still be called to release the sockets).
func OpenContext(ctx context.Context, cfg Config) (*Source, error) {
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	s := &Source{efd: -1}
	ok := false
	defer func() {
		if !ok {
			s.release()
		}
	}()
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("afpacket: eventfd: %w", err)
	}
	s.efd = efd
	for _, name := range cfg.Interfaces {
		k, err := openSock(name, &cfg)
		if k.fd >= 0 {
			s.socks = append(s.socks, k)
		}
		if err != nil {
			return nil, err
		}
	}
	for i := range s.socks {
		s.pfds = append(s.pfds, unix.PollFd{Fd: int32(s.socks[i].fd), Events: unix.POLLIN})
	}
	s.pfds = append(s.pfds, unix.PollFd{Fd: int32(s.efd), Events: unix.POLLIN})
	if ctx.Done() != nil {
		s.stopCtx = context.AfterFunc(ctx, s.interrupt)
	}
	ok = true
	return s, nil
}

// normalize applies defaults and validates cfg.
func (cfg *Config) normalize() error {
	if len(cfg.Interfaces) == 0 {
		return errors.New("afpacket: no interface given")
	}
	seen := make(map[string]bool)
	for _, n := range cfg.Interfaces {
		if n == "" || len(n) >= unix.IFNAMSIZ {
			return fmt.Errorf("afpacket: bad interface name %q", n)
		}
		if seen[n] {
			return fmt.Errorf("afpacket: interface %q given twice", n)
		}
		seen[n] = true
	}
	if seen[AnyInterface] {
		if len(cfg.Interfaces) > 1 {
			return errors.New(`afpacket: "any" already captures every interface and must be given alone`)
		}
		if cfg.Promiscuous {
			return errors.New(`afpacket: promiscuous mode is not supported on "any"; name the interfaces`)
		}
	}
	if cfg.SnapLen == 0 {
		cfg.SnapLen = DefaultSnapLen
	}
	if cfg.SnapLen < 0 || cfg.SnapLen > capture.MaxCaplen {
		return fmt.Errorf("afpacket: snap length %d out of range 1-%d", cfg.SnapLen, capture.MaxCaplen)
	}
	if cfg.BlockSize == 0 {
		cfg.BlockSize = DefaultBlockSize
	}
	if cfg.NumBlocks == 0 {
		cfg.NumBlocks = DefaultNumBlocks
	}
	page := os.Getpagesize()
	if cfg.BlockSize <= 0 || cfg.BlockSize%page != 0 || cfg.BlockSize > 1<<30 {
		return fmt.Errorf("afpacket: block size %d is not a multiple of the %d-byte page up to 1 GiB", cfg.BlockSize, page)
	}
	if cfg.NumBlocks <= 0 || int64(cfg.NumBlocks)*int64(cfg.BlockSize) > 1<<32 {
		return fmt.Errorf("afpacket: %d blocks of %d bytes: need 1 or more blocks and at most 4 GiB per ring", cfg.NumBlocks, cfg.BlockSize)
	}
	if cfg.BlockTimeout == 0 {
		cfg.BlockTimeout = DefaultBlockTimeout
	}
	if cfg.BlockTimeout < 0 {
		return fmt.Errorf("afpacket: negative block timeout %v", cfg.BlockTimeout)
	}
	if cfg.BPF != nil && cfg.Filter != "" {
		return fmt.Errorf("%w: Filter and BPF are both set", ErrFilter)
	}
	if cfg.BPF == nil && cfg.Filter == "" {
		cfg.Filter = DefaultFilter(cfg.Ports)
	}
	if cfg.BPF == nil {
		// Fail early, before any socket exists, on a bad expression.
		if _, err := parseFilter(cfg.Filter); err != nil {
			return err
		}
	}
	return nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// ifaceInfo returns the index and ARPHRD type of the named interface, asked
// through fd so that the answer comes from the socket's network namespace.
func ifaceInfo(fd int, name string) (index int, arphrd uint16, err error) {
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return 0, 0, err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFINDEX, ifr); err != nil {
		return 0, 0, err
	}
	index = int(ifr.Uint32())
	ifr, _ = unix.NewIfreq(name)
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFHWADDR, ifr); err != nil {
		return 0, 0, err
	}
	// ifr_hwaddr is a struct sockaddr whose sa_family is the ARPHRD type.
	return index, ifr.Uint16(), nil
}

// openSock opens, configures and binds the socket of one interface. On
// error the returned sock holds whatever must still be released.
func openSock(name string, cfg *Config) (k sock, err error) {
	k.name = name
	k.fd = -1
	wrap := func(what string, err error) error {
		if errors.Is(err, unix.EPERM) {
			return fmt.Errorf("afpacket: %s: %s: %w (CAP_NET_RAW is required)", name, what, err)
		}
		return fmt.Errorf("afpacket: %s: %s: %w", name, what, err)
	}
	// Protocol 0: the socket receives nothing until bind names ETH_P_ALL.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return k, wrap("socket", err)
	}
	k.fd = fd
	index, arphrd := 0, uint16(unix.ARPHRD_NONE)
	loIndex := 0
	if name == AnyInterface {
		if loIndex, _, err = ifaceInfo(fd, "lo"); err != nil {
			loIndex = -1
		}
	} else if index, arphrd, err = ifaceInfo(fd, name); err != nil {
		return k, wrap("interface", err)
	}
	var prologue []bpf.Instruction
	switch arphrd {
	case unix.ARPHRD_ETHER, unix.ARPHRD_LOOPBACK:
		k.link = LinkTypeEthernet
		if arphrd == unix.ARPHRD_LOOPBACK {
			// Loopback frames are seen twice, leaving and arriving:
			// keep the arriving copy only.
			prologue = []bpf.Instruction{
				bpf.LoadExtension{Num: bpf.ExtType},
				bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.PACKET_OUTGOING, SkipFalse: 1},
				bpf.RetConstant{Val: 0},
			}
		}
	default:
		// Every other device, and "any", is read with SOCK_DGRAM, which
		// removes whatever link-layer header there is, and only IPv4 and
		// IPv6 are let through: the frames are LINKTYPE_RAW.
		unix.Close(fd)
		k.fd = -1
		if fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0); err != nil {
			return k, wrap("socket", err)
		}
		k.fd = fd
		k.link = LinkTypeRaw
		prologue = []bpf.Instruction{
			bpf.LoadExtension{Num: bpf.ExtProto},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.ETH_P_IP, SkipTrue: 2},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.ETH_P_IPV6, SkipTrue: 1},
			bpf.RetConstant{Val: 0},
		}
		if name == AnyInterface && loIndex > 0 {
			prologue = append(prologue,
				bpf.LoadExtension{Num: bpf.ExtType},
				bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.PACKET_OUTGOING, SkipFalse: 3},
				bpf.LoadExtension{Num: bpf.ExtInterfaceIndex},
				bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(loIndex), SkipFalse: 1},
				bpf.RetConstant{Val: 0},
			)
		}
	}

	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); err != nil {
		return k, wrap("PACKET_VERSION TPACKET_V3 (kernel 3.2 or later is required)", err)
	}

	prog := cfg.BPF
	if prog == nil {
		if prog, err = CompileFilter(cfg.Filter, k.link, cfg.SnapLen); err != nil {
			return k, err
		}
	}
	raw, err := bpf.Assemble(append(prologue, prog...))
	if err != nil {
		return k, fmt.Errorf("%w: %s: %v", ErrFilter, name, err)
	}
	if len(raw) == 0 || len(raw) > 4096 {
		return k, fmt.Errorf("%w: %s: program of %d instructions (1-4096 allowed)", ErrFilter, name, len(raw))
	}
	filt := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		filt[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	fprog := unix.SockFprog{Len: uint16(len(filt)), Filter: &filt[0]}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fprog); err != nil {
		return k, wrap("SO_ATTACH_FILTER", err)
	}

	tov := cfg.BlockTimeout.Milliseconds()
	if tov < 1 {
		tov = 1
	}
	req := unix.TpacketReq3{
		Block_size:     uint32(cfg.BlockSize),
		Block_nr:       uint32(cfg.NumBlocks),
		Frame_size:     uint32(cfg.BlockSize),
		Frame_nr:       uint32(cfg.NumBlocks),
		Retire_blk_tov: uint32(min(tov, 1<<31)),
	}
	if err := unix.SetsockoptTpacketReq3(fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
		return k, wrap(fmt.Sprintf("PACKET_RX_RING (%d blocks of %d bytes)", cfg.NumBlocks, cfg.BlockSize), err)
	}
	ring, err := unix.Mmap(fd, 0, cfg.BlockSize*cfg.NumBlocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return k, wrap("mmap ring", err)
	}
	k.ring, k.blockSize, k.numBlocks = ring, cfg.BlockSize, cfg.NumBlocks

	if cfg.Promiscuous {
		mreq := unix.PacketMreq{Ifindex: int32(index), Type: unix.PACKET_MR_PROMISC}
		if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
			return k, wrap("promiscuous mode", err)
		}
	}
	sa := unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: index}
	if err := unix.Bind(fd, &sa); err != nil {
		return k, wrap("bind", err)
	}
	return k, nil
}

// block returns block i of the ring.
func (k *sock) block(i int) []byte {
	return k.ring[i*k.blockSize : (i+1)*k.blockSize : (i+1)*k.blockSize]
}

func (k *sock) status(i int) *uint32 {
	return (*uint32)(unsafe.Pointer(&k.ring[i*k.blockSize+blkStatusOff]))
}

// ready reports whether k has a packet to return. It first hands back to the
// kernel a block whose packets have all been returned, then takes the next
// block if the kernel has released it.
func (k *sock) ready() bool {
	for {
		if k.left > 0 {
			return true
		}
		if k.owned {
			atomic.StoreUint32(k.status(k.blk), unix.TP_STATUS_KERNEL)
			k.owned = false
			k.blk++
			if k.blk == k.numBlocks {
				k.blk = 0
			}
		}
		if atomic.LoadUint32(k.status(k.blk))&unix.TP_STATUS_USER == 0 {
			return false
		}
		b := k.block(k.blk)
		k.owned = true
		k.left = binary.NativeEndian.Uint32(b[blkNumPktsOff:])
		k.off = int(binary.NativeEndian.Uint32(b[blkFirstPktOff:]))
		if !k.valid(b) {
			k.left = 0
		}
	}
}

// valid checks that the packet header at k.off and its data lie in b.
func (k *sock) valid(b []byte) bool {
	if k.off < blkDescLen || k.off > len(b)-pktHdrLen {
		return false
	}
	h := b[k.off:]
	mac := int(binary.NativeEndian.Uint16(h[pktMacOff:]))
	snap := int(binary.NativeEndian.Uint32(h[pktSnaplenOff:]))
	return mac >= pktHdrLen && mac <= len(h) && snap <= len(h)-mac
}

// time returns the timestamp of k's next packet in Unix nanoseconds.
func (k *sock) time() int64 {
	h := k.block(k.blk)[k.off:]
	return int64(binary.NativeEndian.Uint32(h[pktSecOff:]))*1e9 + int64(binary.NativeEndian.Uint32(h[pktNsecOff:]))
}

// take fills rec with k's next packet and advances.
func (k *sock) take(rec *capture.Record) {
	b := k.block(k.blk)
	h := b[k.off:]
	mac := k.off + int(binary.NativeEndian.Uint16(h[pktMacOff:]))
	snap := int(binary.NativeEndian.Uint32(h[pktSnaplenOff:]))
	rec.Time = int64(binary.NativeEndian.Uint32(h[pktSecOff:]))*1e9 + int64(binary.NativeEndian.Uint32(h[pktNsecOff:]))
	rec.OrigLen = int(binary.NativeEndian.Uint32(h[pktLenOff:]))
	rec.LinkType = k.link
	rec.Offset = 0
	rec.Data = b[mac : mac+snap : mac+snap]
	k.left--
	if k.left > 0 {
		next := int(binary.NativeEndian.Uint32(h[pktNextOff:]))
		k.off += next
		if next <= 0 || !k.valid(b) {
			k.left = 0
		}
	}
}

// Next blocks until a frame arrives on any interface and stores it in rec.
// rec.Data points into the kernel ring and is valid only until the next
// call to Next or Close. rec.Frame counts frames across all interfaces from
// 1; rec.Time is the kernel's receive timestamp; rec.Offset is 0. When
// several interfaces have frames ready, the earliest is returned first.
// Next returns io.EOF once Close was called or the OpenContext context is
// done. A socket error (such as ENETDOWN when an interface goes down) is
// returned once, wrapped with the interface name; Next may be called again.
func (s *Source) Next(rec *capture.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if s.stop.Load() || s.socks == nil {
			return io.EOF
		}
		best := -1
		var bestT int64
		for i := range s.socks {
			k := &s.socks[i]
			if !k.ready() {
				continue
			}
			if len(s.socks) == 1 {
				best = i
				break
			}
			if t := k.time(); best < 0 || t < bestT {
				best, bestT = i, t
			}
		}
		if best >= 0 {
			s.socks[best].take(rec)
			s.frame++
			rec.Frame = s.frame
			s.bytes.Add(uint64(rec.OrigLen))
			return nil
		}
		for i := range s.pfds {
			s.pfds[i].Revents = 0
		}
		if _, err := unix.Poll(s.pfds, -1); err != nil {
			if err == unix.EINTR {
				continue
			}
			return fmt.Errorf("afpacket: poll: %w", err)
		}
		for i := range s.socks {
			re := s.pfds[i].Revents
			if re&(unix.POLLERR|unix.POLLNVAL) == 0 {
				continue
			}
			if re&unix.POLLNVAL != 0 {
				return fmt.Errorf("afpacket: %s: socket is not open", s.socks[i].name)
			}
			if e, err := unix.GetsockoptInt(s.socks[i].fd, unix.SOL_SOCKET, unix.SO_ERROR); err == nil && e != 0 {
				return fmt.Errorf("afpacket: %s: %w", s.socks[i].name, unix.Errno(e))
			}
		}
	}
}

// interrupt makes a blocked or future Next return io.EOF.
func (s *Source) interrupt() {
	s.stop.Store(true)
	s.wakeMu.Lock()
	defer s.wakeMu.Unlock()
	if s.efd >= 0 {
		var one [8]byte
		binary.NativeEndian.PutUint64(one[:], 1)
		unix.Write(s.efd, one[:])
	}
}

// Stats returns the counters summed over all sockets since Open. It may be
// called at any time from any goroutine, also after Close (the final
// counters are kept).
func (s *Source) Stats() Stats {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	if !s.closed {
		s.pollStatsLocked()
	}
	st := s.kstats
	st.Bytes = s.bytes.Load()
	return st
}

// pollStatsLocked adds the kernel counters, which reading resets, to kstats.
func (s *Source) pollStatsLocked() {
	for i := range s.socks {
		ks, err := unix.GetsockoptTpacketStatsV3(s.socks[i].fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
		if err != nil {
			continue
		}
		s.kstats.Packets += uint64(ks.Packets)
		s.kstats.KernelDrops += uint64(ks.Drops)
		s.kstats.KernelFreezes += uint64(ks.Freeze_q_cnt)
	}
}

// Close stops the capture: a Next blocked in another goroutine returns
// io.EOF, then the rings are unmapped and the sockets closed (which also
// ends promiscuous mode). Frames returned earlier become invalid. Close is
// idempotent.
func (s *Source) Close() error {
	s.interrupt()
	if s.stopCtx != nil {
		s.stopCtx()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.release()
}

// release frees everything; s.mu must be held (or s unpublished).
func (s *Source) release() error {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	var first error
	if !s.closed {
		s.pollStatsLocked()
		s.closed = true
		for i := range s.socks {
			k := &s.socks[i]
			if k.ring != nil {
				if err := unix.Munmap(k.ring); err != nil && first == nil {
					first = err
				}
				k.ring = nil
			}
			if err := unix.Close(k.fd); err != nil && first == nil {
				first = err
			}
		}
		s.socks = nil
	}
	s.wakeMu.Lock()
	if s.efd >= 0 {
		unix.Close(s.efd)
		s.efd = -1
	}
	s.wakeMu.Unlock()
	return first
}
