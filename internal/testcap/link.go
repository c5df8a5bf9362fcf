package testcap

import (
	"encoding/binary"
	"fmt"

	"github.com/gopacket/gopacket/layers"
)

// Link selects the link-layer framing of generated frames.
type Link int

// The link layers the frame builders can produce. The LINKTYPE_* values and
// header layouts are those of https://www.tcpdump.org/linktypes.html.
const (
	// Ethernet is LINKTYPE_ETHERNET (1): a 14-byte Ethernet II header.
	Ethernet Link = iota
	// EthernetVLAN is Ethernet with one IEEE 802.1Q tag (TPID 0x8100).
	EthernetVLAN
	// EthernetQinQ is Ethernet with an IEEE 802.1ad outer tag (TPID 0x88a8)
	// followed by an 802.1Q inner tag (TPID 0x8100).
	EthernetQinQ
	// LinuxSLL is LINKTYPE_LINUX_SLL (113), the 16-byte Linux cooked header.
	LinuxSLL
	// LinuxSLL2 is LINKTYPE_LINUX_SLL2 (276), the 20-byte Linux cooked v2 header.
	LinuxSLL2
	// RawIP is LINKTYPE_RAW (101): the frame starts with an IPv4 or IPv6 header.
	RawIP
	// RawIPv4 is LINKTYPE_IPV4 (228): the frame is an IPv4 datagram.
	RawIPv4
	// RawIPv6 is LINKTYPE_IPV6 (229): the frame is an IPv6 datagram.
	RawIPv6
	// Null is LINKTYPE_NULL (0), BSD loopback: a 4-byte address family in
	// the host byte order of the capturing machine; always written here in
	// little-endian order, as on x86 and ARM.
	Null
	// Loop is LINKTYPE_LOOP (108), OpenBSD loopback: like Null but the
	// 4-byte address family is in network (big-endian) byte order.
	Loop

	numLinks
)

// otherLinkBase tags Link values made by OtherLink.
const otherLinkBase Link = 1 << 20

// OtherLink returns a Link that only records the given LINKTYPE_* value in
// capture files. The frame builders panic on it; use it with Frame.Data
// filled by hand to test how readers handle unsupported link types.
func OtherLink(linkType uint16) Link { return otherLinkBase + Link(linkType) }

// Links lists every link layer the frame builders support, in declaration
// order. Tests can range over it to cover them all.
func Links() []Link {
	out := make([]Link, 0, numLinks)
	for l := Link(0); l < numLinks; l++ {
		out = append(out, l)
	}
	return out
}

// LinkType returns the LINKTYPE_* value written in capture files for l.
func (l Link) LinkType() uint16 {
	switch l {
	case Ethernet, EthernetVLAN, EthernetQinQ:
		return 1 // LINKTYPE_ETHERNET
	case LinuxSLL:
		return 113 // LINKTYPE_LINUX_SLL
	case LinuxSLL2:
		return 276 // LINKTYPE_LINUX_SLL2
	case RawIP:
		return 101 // LINKTYPE_RAW
	case RawIPv4:
		return 228 // LINKTYPE_IPV4
	case RawIPv6:
		return 229 // LINKTYPE_IPV6
	case Null:
		return 0 // LINKTYPE_NULL
	case Loop:
		return 108 // LINKTYPE_LOOP
	}
	if l >= otherLinkBase && l <= otherLinkBase+0xffff {
		return uint16(l - otherLinkBase)
	}
	panic(fmt.Sprintf("testcap: unknown Link %d", int(l)))
}

// String returns a short name for l, used as the pcapng interface name.
func (l Link) String() string {
	switch l {
	case Ethernet:
		return "ethernet"
	case EthernetVLAN:
		return "ethernet-vlan"
	case EthernetQinQ:
		return "ethernet-qinq"
	case LinuxSLL:
		return "linux-sll"
	case LinuxSLL2:
		return "linux-sll2"
	case RawIP:
		return "raw"
	case RawIPv4:
		return "raw-ipv4"
	case RawIPv6:
		return "raw-ipv6"
	case Null:
		return "null"
	case Loop:
		return "loop"
	}
	if l >= otherLinkBase && l <= otherLinkBase+0xffff {
		return fmt.Sprintf("linktype-%d", l.LinkType())
	}
	return fmt.Sprintf("Link(%d)", int(l))
}

// IsEthernet reports whether l is one of the Ethernet framings.
func (l Link) IsEthernet() bool {
	return l == Ethernet || l == EthernetVLAN || l == EthernetQinQ
}

// HeaderLen returns the length of the link-layer header the builders put in
// front of the network-layer packet (0 for the raw IP link types).
func (l Link) HeaderLen() int {
	switch l {
	case Ethernet:
		return 14
	case EthernetVLAN:
		return 18
	case EthernetQinQ:
		return 22
	case LinuxSLL:
		return 16
	case LinuxSLL2:
		return 20
	case Null, Loop:
		return 4
	case RawIP, RawIPv4, RawIPv6:
		return 0
	}
	panic(fmt.Sprintf("testcap: frame builders do not support %v", l))
}

// BSD address family values used in Null and Loop headers
// (https://www.tcpdump.org/linktypes/LINKTYPE_NULL.html): 2 for IPv4 and one
// of 24, 28 or 30 for IPv6. 24 is the value of NetBSD and OpenBSD, and the
// only one valid for LINKTYPE_LOOP, which comes from OpenBSD.
const (
	bsdAFInet  = 2
	bsdAFInet6 = 24
)

// ARPHRD_ETHER, the Linux ARP hardware type of an Ethernet device.
const arphrdEther = 1

// cookedHeader hand-builds the link header of the link types gopacket cannot
// serialize: Linux SLL, Linux SLL2, Null and Loop. etherType is the
// EtherType of the payload (0x0800, 0x86dd, 0x0806).
func cookedHeader(l Link, etherType layers.EthernetType, c *config) []byte {
	switch l {
	case LinuxSLL:
		// https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html, all
		// fields big-endian:
		//   0  packet type (2)          2  ARPHRD_ type (2)
		//   4  link-layer addr len (2)  6  link-layer address (8, zero-padded)
		//   14 protocol type (2): EtherType
		h := make([]byte, 16)
		binary.BigEndian.PutUint16(h[0:], uint16(c.sllPacketType))
		binary.BigEndian.PutUint16(h[2:], arphrdEther)
		binary.BigEndian.PutUint16(h[4:], uint16(len(c.srcMAC)))
		copy(h[6:14], c.srcMAC)
		binary.BigEndian.PutUint16(h[14:], uint16(etherType))
		return h
	case LinuxSLL2:
		// https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html, all
		// fields big-endian:
		//   0  protocol type (2): EtherType   2  reserved, must be zero (2)
		//   4  interface index (4)            8  ARPHRD_ type (2)
		//   10 packet type (1)                11 link-layer addr len (1)
		//   12 link-layer address (8, zero-padded)
		h := make([]byte, 20)
		binary.BigEndian.PutUint16(h[0:], uint16(etherType))
		binary.BigEndian.PutUint32(h[4:], c.ifIndex)
		binary.BigEndian.PutUint16(h[8:], arphrdEther)
		h[10] = c.sllPacketType
		h[11] = byte(len(c.srcMAC))
		copy(h[12:20], c.srcMAC)
		return h
	case Null, Loop:
		// https://www.tcpdump.org/linktypes/LINKTYPE_NULL.html and
		// LINKTYPE_LOOP.html: a 4-byte address family, host byte order for
		// Null (little-endian here), network byte order for Loop.
		var af uint32
		switch etherType {
		case layers.EthernetTypeIPv4:
			af = bsdAFInet
		case layers.EthernetTypeIPv6:
			af = bsdAFInet6
		default:
			panic(fmt.Sprintf("testcap: %v cannot carry EtherType %#04x", l, uint16(etherType)))
		}
		h := make([]byte, 4)
		if l == Null {
			binary.LittleEndian.PutUint32(h, af)
		} else {
			binary.BigEndian.PutUint32(h, af)
		}
		return h
	}
	panic(fmt.Sprintf("testcap: no cooked header for %v", l))
}
