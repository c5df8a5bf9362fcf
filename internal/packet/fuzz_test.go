package packet

import (
	"bytes"
	"testing"
)

// fuzzLinkTypes maps the fuzzer's selector byte to a link type.
var fuzzLinkTypes = []uint16{
	LinkTypeEthernet, LinkTypeLinuxSLL, LinkTypeLinuxSLL2, LinkTypeRaw, LinkTypeIPv4, LinkTypeIPv6,
	LinkTypeNull, LinkTypeLoop, LinkTypeRawDLT12, LinkTypeRawDLT14,
	LinkTypePPP, LinkTypePPPHDLC, LinkTypeIEEE80211, LinkTypeRadiotap,
}

var sentinels = []error{
	ErrUnsupportedLinkType, ErrNotIP, ErrBadIPHeader, ErrBadTransportHeader, ErrNotTransport, ErrFragment,
	ErrTruncatedLink, ErrTruncatedIPv4, ErrTruncatedIPv6, ErrTruncatedUDP, ErrTruncatedTCP,
}

// payloadOffset returns where s starts inside frame, or -1 if s is not a
// subslice of frame.
func payloadOffset(frame, s []byte) int {
	if len(s) == 0 {
		return 0
	}
	off := cap(frame) - cap(s)
	if off < 0 || off+len(s) > len(frame) || &frame[off] != &s[0] {
		return -1
	}
	return off
}

func FuzzDecode(f *testing.F) {
	for _, c := range goodFrames(f) {
		for i, lt := range fuzzLinkTypes {
			if lt == c.linkType {
				f.Add(byte(i), c.frame)
			}
		}
	}
	f.Add(byte(0), []byte{})
	f.Add(byte(6), []byte{2, 0, 0, 0, 0x45})
	f.Fuzz(func(t *testing.T, sel byte, frame []byte) {
		lt := fuzzLinkTypes[int(sel)%len(fuzzLinkTypes)]
		var p Packet
		err := Decode(lt, frame, &p)
		known := err == nil
		for _, s := range sentinels {
			known = known || err == s
		}
		if !known {
			t.Fatalf("unexpected error value %#v", err)
		}
		if payloadOffset(frame, p.Payload) < 0 {
			t.Fatalf("payload is not inside the frame")
		}
		if err == nil {
			if p.Proto != ProtoUDP && p.Proto != ProtoTCP || !p.Src.IsValid() || !p.Dst.IsValid() {
				t.Fatalf("success without transport: %+v", p)
			}
		}
		if err == ErrFragment && !p.Frag.IsFragment {
			t.Fatalf("ErrFragment without Frag: %+v", p)
		}
		if payloadOffset(frame, p.Frag.Data) < 0 {
			t.Fatalf("fragment data is not inside the frame")
		}
		if p.Frag.IsFragment != (p.Frag.Data != nil) {
			t.Fatalf("Frag.Data set without IsFragment or the reverse: %+v", p.Frag)
		}
		if err == ErrFragment && !bytes.Equal(p.Payload, p.Frag.Data) {
			t.Fatalf("ErrFragment: payload %x is not the fragment data %x", p.Payload, p.Frag.Data)
		}
		if err == nil && p.Frag.IsFragment && p.Frag.Offset == 0 && payloadOffset(p.Frag.Data, p.Payload) < 0 {
			t.Fatalf("first fragment: payload is not inside the fragment data")
		}

		if p.Encapsulated > maxEncapsulations {
			t.Fatalf("%d encapsulations removed, more than %d", p.Encapsulated, maxEncapsulations)
		}

		e := oracle(lt, frame)
		if !e.transportOK || e.truncated {
			return
		}
		// Encapsulations: Decode and gopacket differ on purpose at the
		// edges (README.md, "Known differences"), so where one removed
		// more layers than the other there is nothing to compare; where
		// they removed the same, everything must agree. An inner packet
		// that is not UDP or TCP (ICMP in GRE) is reported by Decode, while
		// gopacket's innermost transport is the outer one.
		if p.Encapsulated != e.encap {
			return
		}
		// Documented differences: gopacket does not check the IP version
		// nibble behind an EtherType or loopback family, and it maps the
		// Linux AF_INET6 (10) loopback family to IPv6.
		if err == ErrBadIPHeader && e.versionMismatch {
			return
		}
		if err == ErrNotIP && (lt == LinkTypeNull || lt == LinkTypeLoop) && (frame[0] == 10 || frame[3] == 10) {
			return
		}
		// gopacket also takes any LLC control byte and any SNAP OUI, its
		// own EtherType 0xFFFF as raw IP, and PPPoE discovery frames as
		// session frames.
		if err == ErrNotIP && e.laxLink {
			return
		}
		if err != nil {
			t.Fatalf("gopacket decoded %d %d->%d payload %x, Decode: %v", e.proto, e.sport, e.dport, e.payload, err)
		}
		if !bytes.Equal(p.Payload, e.payload) || p.Src != e.src || p.Dst != e.dst ||
			p.SrcPort != e.sport || p.DstPort != e.dport || p.Proto != e.proto || p.TCPSeq != e.seq || p.TCPFlags != e.flags {
			t.Fatalf("disagreement:\n ours %+v\n gopacket %+v", p, e)
		}
	})
}
