package dnstap

import (
	"bytes"
	"net/netip"
	"testing"

	pb "github.com/dnstap/golang-dnstap"
	"google.golang.org/protobuf/encoding/protowire"
)

// FuzzDecode checks that Decode never panics, that its Wire lies inside the
// frame, and that it agrees with protobuf-go decoding the generated dnstap
// types (the oracle) on the error class and every field.
func FuzzDecode(f *testing.F) {
	q := dnsQuery(f, 7, "mzxw6ytboi.t1.tunnel.test.", false)
	r := dnsQuery(f, 7, "mzxw6ytboi.t1.tunnel.test.", true)
	f.Add(mkFrame(f, frameSpec{typ: pb.Message_CLIENT_QUERY, proto: pb.SocketProtocol_UDP, qTime: t0, wire: q,
		qAddr: netip.MustParseAddr("127.0.0.1"), rAddr: netip.MustParseAddr("127.0.0.1"), qPort: 5353, rPort: 53,
		identity: "x", version: "y"}))
	f.Add(mkFrame(f, frameSpec{typ: pb.Message_RESOLVER_RESPONSE, proto: pb.SocketProtocol_TCP, qTime: t0, rTime: t1,
		wire: r, qAddr: netip.MustParseAddr("::1"), rAddr: netip.MustParseAddr("2001:db8::1"), qPort: 1, rPort: 53}))
	f.Add(mkFrame(f, frameSpec{typ: pb.Message_AUTH_QUERY, noAddrs: true, noProto: true, noTimes: true, wire: q}))
	f.Add([]byte{})
	f.Add([]byte{0x78, 0x01})
	grp := protowire.AppendTag(nil, 5, protowire.StartGroupType)
	grp = protowire.AppendTag(grp, 5, protowire.EndGroupType)
	f.Add(append(grp, 0x78, 0x01))
	f.Fuzz(func(t *testing.T, frame []byte) {
		var m Message
		err := Decode(frame, &m)
		want, timeFromFrame, oerr := oracle(frame)
		if errClass(err) != errClass(oerr) {
			t.Fatalf("Decode: %v; oracle: %v", err, oerr)
		}
		if err != nil {
			return
		}
		if !sameMessage(&m, &want) {
			t.Fatalf("got  %+v\nwant %+v", m, want)
		}
		if timeFromFrame && !m.Time.Equal(want.Time) {
			t.Fatalf("time %v, want %v", m.Time, want.Time)
		}
		if len(m.Wire) == 0 || len(m.Wire) > len(frame) {
			t.Fatalf("wire length %d, frame %d", len(m.Wire), len(frame))
		}
		// Wire aliases the frame: no copy was made.
		if !inside(m.Wire, frame) {
			t.Fatal("Wire does not point into the frame")
		}
	})
}

// inside reports whether sub is a sub-slice of b's backing array.
func inside(sub, b []byte) bool {
	if len(sub) == 0 {
		return true
	}
	for i := 0; i+len(sub) <= len(b); i++ {
		if &b[i] == &sub[0] {
			return bytes.Equal(b[i:i+len(sub)], sub)
		}
	}
	return false
}
