package testcap

import "testing"

func BenchmarkUDP(b *testing.B) {
	q := Query(1, "www.example.com", TypeA)
	b.ReportAllocs()
	for b.Loop() {
		UDP(Ethernet, c4, s4, q)
	}
}

func BenchmarkUDPSLL2IPv6(b *testing.B) {
	q := Query(1, "www.example.com", TypeA)
	b.ReportAllocs()
	for b.Loop() {
		UDP(LinuxSLL2, c6, s6, q, WithHopByHop(), WithDestinationOptions())
	}
}

func BenchmarkQuery(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Query(1, "www.example.com", TypeA)
	}
}

func BenchmarkIPv4Fragments(b *testing.B) {
	payload := make([]byte, 20000)
	b.ReportAllocs()
	for b.Loop() {
		IPv4Fragments(Ethernet, c4, s4, payload, 8)
	}
}

func BenchmarkMix1000(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Mix(1, 1000, Ethernet, LinuxSLL2, RawIP)
	}
}

func BenchmarkWritePCAPNG(b *testing.B) {
	frames := Mix(1, 1000, Ethernet, LinuxSLL2, RawIP)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(frames, "pcapng"); err != nil {
			b.Fatal(err)
		}
	}
}
