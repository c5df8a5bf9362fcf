package testcap

import (
	"net"

	"github.com/gopacket/gopacket/layers"
)

// Option adjusts how a frame builder fills in headers. The zero set of
// options gives fixed, deterministic defaults (see each option).
type Option func(*config)

type config struct {
	srcMAC, dstMAC  net.HardwareAddr
	vlan, outerVLAN uint16
	ttl             uint8
	ipID            uint16
	fragID          uint32
	ipv4Options     []layers.IPv4Option
	hopByHop        bool
	destOpts        bool
	dontFragment    bool
	ack             uint32
	window          uint16
	sllPacketType   uint8
	ifIndex         uint32
	zeroUDPChecksum bool
}

// Default header values used when no Option overrides them.
var (
	// DefaultSrcMAC is the source MAC address of Ethernet frames and the
	// link-layer address of Linux cooked headers.
	DefaultSrcMAC = net.HardwareAddr{0x02, 0x00, 0x5e, 0x10, 0x00, 0x01}
	// DefaultDstMAC is the destination MAC address of Ethernet frames.
	DefaultDstMAC = net.HardwareAddr{0x02, 0x00, 0x5e, 0x10, 0x00, 0x02}
)

// Default numeric header values.
const (
	DefaultVLAN      = 100 // inner 802.1Q VLAN ID
	DefaultOuterVLAN = 200 // outer 802.1ad VLAN ID (EthernetQinQ)
	DefaultTTL       = 64  // IPv4 TTL and IPv6 hop limit
	DefaultIPID      = 0x1234
	DefaultFragID    = 0xabcd1234 // IPv6 fragment identification
	DefaultWindow    = 65535
	DefaultIfIndex   = 2 // SLL2 interface index
)

func newConfig(opts []Option) *config {
	c := &config{
		srcMAC:    DefaultSrcMAC,
		dstMAC:    DefaultDstMAC,
		vlan:      DefaultVLAN,
		outerVLAN: DefaultOuterVLAN,
		ttl:       DefaultTTL,
		ipID:      DefaultIPID,
		fragID:    DefaultFragID,
		window:    DefaultWindow,
		ifIndex:   DefaultIfIndex,
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// WithMACs sets the Ethernet source and destination addresses (6 bytes
// each). The source address is also the address of Linux cooked headers.
func WithMACs(src, dst net.HardwareAddr) Option {
	return func(c *config) { c.srcMAC, c.dstMAC = src, dst }
}

// WithVLAN sets the 802.1Q VLAN ID (inner tag for EthernetQinQ).
func WithVLAN(id uint16) Option { return func(c *config) { c.vlan = id } }

// WithOuterVLAN sets the 802.1ad outer VLAN ID of EthernetQinQ frames.
func WithOuterVLAN(id uint16) Option { return func(c *config) { c.outerVLAN = id } }

// WithTTL sets the IPv4 TTL or IPv6 hop limit.
func WithTTL(ttl uint8) Option { return func(c *config) { c.ttl = ttl } }

// WithIPID sets the IPv4 identification field (also the fragment ID of
// IPv4Fragments).
func WithIPID(id uint16) Option { return func(c *config) { c.ipID = id } }

// WithFragmentID sets the identification of the IPv6 Fragment header.
func WithFragmentID(id uint32) Option { return func(c *config) { c.fragID = id } }

// WithDontFragment sets the IPv4 DF flag.
func WithDontFragment() Option { return func(c *config) { c.dontFragment = true } }

// RouterAlertIPv4 is the IPv4 Router Alert option (RFC 2113): type 148
// (copied flag set, so it goes into every fragment), length 4, value 0.
var RouterAlertIPv4 = layers.IPv4Option{OptionType: 148, OptionLength: 4, OptionData: []byte{0, 0}}

// WithIPv4Options adds options to the IPv4 header; gopacket pads them to a
// multiple of 4 bytes and sets IHL. With no arguments it adds
// RouterAlertIPv4. Do not use source-route options: they change the UDP/TCP
// pseudo-header.
func WithIPv4Options(opts ...layers.IPv4Option) Option {
	if len(opts) == 0 {
		opts = []layers.IPv4Option{RouterAlertIPv4}
	}
	return func(c *config) { c.ipv4Options = append(c.ipv4Options, opts...) }
}

// WithHopByHop adds an IPv6 Hop-by-Hop Options header (RFC 8200 section
// 4.3) holding a Router Alert option (RFC 2711), 8 bytes long.
func WithHopByHop() Option { return func(c *config) { c.hopByHop = true } }

// WithDestinationOptions adds an IPv6 Destination Options header (RFC 8200
// section 4.6) in front of the upper-layer header, 8 bytes long, holding one
// experimental option (type 0x1e, RFC 4727) that receivers skip.
func WithDestinationOptions() Option { return func(c *config) { c.destOpts = true } }

// WithAck sets the TCP acknowledgment number (the ACK flag is set by the
// flags argument, not by this option).
func WithAck(ack uint32) Option { return func(c *config) { c.ack = ack } }

// WithWindow sets the TCP window.
func WithWindow(w uint16) Option { return func(c *config) { c.window = w } }

// Linux packet types of SLL/SLL2 headers (linux/if_packet.h).
const (
	PacketHost     uint8 = 0 // to us
	PacketOutgoing uint8 = 4 // sent by us
)

// WithSLLPacketType sets the packet type of Linux cooked headers
// (PacketHost by default).
func WithSLLPacketType(t uint8) Option { return func(c *config) { c.sllPacketType = t } }

// WithInterfaceIndex sets the interface index of SLL2 headers.
func WithInterfaceIndex(i uint32) Option { return func(c *config) { c.ifIndex = i } }

// WithZeroUDPChecksum writes 0 ("no checksum", RFC 768) as the UDP checksum
// over IPv4. It has no effect over IPv6, where a checksum is mandatory.
func WithZeroUDPChecksum() Option { return func(c *config) { c.zeroUDPChecksum = true } }
