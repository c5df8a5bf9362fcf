package traffic

import (
	"encoding/binary"
	"net/netip"
)

// host is one end of a DNS exchange.
type host struct {
	addr netip.Addr
	mac  [6]byte
}

// udpFrame appends an Ethernet II frame carrying a UDP datagram over IPv4
// or IPv6 (RFC 791, RFC 8200, RFC 768) to buf, with correct lengths and
// checksums.
func udpFrame(buf []byte, src, dst *host, sport, dport uint16, ipID uint16, payload []byte) []byte {
	b := append(buf[:0], dst.mac[:]...)
	b = append(b, src.mac[:]...)
	v4 := src.addr.Is4()
	udpLen := 8 + len(payload)
	var ipStart int
	if v4 {
		b = append(b, 0x08, 0x00)
		ipStart = len(b)
		b = append(b, 0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0)
		binary.BigEndian.PutUint16(b[ipStart+2:], uint16(20+udpLen))
		binary.BigEndian.PutUint16(b[ipStart+4:], ipID)
		s, d := src.addr.As4(), dst.addr.As4()
		b = append(b, s[:]...)
		b = append(b, d[:]...)
		binary.BigEndian.PutUint16(b[ipStart+10:], ^fold(onesSum(0, b[ipStart:ipStart+20])))
	} else {
		b = append(b, 0x86, 0xDD)
		ipStart = len(b)
		b = append(b, 0x60, 0, 0, 0, 0, 0, 17, 64)
		binary.BigEndian.PutUint16(b[ipStart+4:], uint16(udpLen))
		s, d := src.addr.As16(), dst.addr.As16()
		b = append(b, s[:]...)
		b = append(b, d[:]...)
	}
	u := len(b)
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0)
	binary.BigEndian.PutUint16(b[u:], sport)
	binary.BigEndian.PutUint16(b[u+2:], dport)
	binary.BigEndian.PutUint16(b[u+4:], uint16(udpLen))
	b = append(b, payload...)
	// Pseudo-header: addresses, protocol, UDP length.
	var sum uint32
	if v4 {
		sum = onesSum(0, b[ipStart+12:ipStart+20])
	} else {
		sum = onesSum(0, b[ipStart+8:ipStart+40])
	}
	sum += 17 + uint32(udpLen)
	c := ^fold(onesSum(sum, b[u:]))
	if c == 0 {
		c = 0xFFFF
	}
	binary.BigEndian.PutUint16(b[u+6:], c)
	return b
}

// onesSum adds b as big-endian 16-bit words to sum (RFC 1071).
func onesSum(sum uint32, b []byte) uint32 {
	for len(b) >= 2 {
		sum += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	return sum
}

func fold(sum uint32) uint16 {
	for sum > 0xFFFF {
		sum = sum>>16 + sum&0xFFFF
	}
	return uint16(sum)
}
