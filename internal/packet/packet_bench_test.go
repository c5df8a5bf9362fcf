package packet_test

import (
	"testing"

	"github.com/dnsieve/dnsieve/bench/traffic"
	"github.com/dnsieve/dnsieve/internal/packet"
)

// BenchmarkDecodeRealistic decodes a cycle of 65,536 frames of generated
// realistic DNS traffic (Ethernet, IPv4 and some IPv6, UDP/53).
func BenchmarkDecodeRealistic(b *testing.B) {
	frames := traffic.Frames(traffic.Config{Seed: 1}, 1<<16)
	var p packet.Packet
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		if err := packet.Decode(1, frames[i&(1<<16-1)], &p); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
