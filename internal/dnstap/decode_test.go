package dnstap

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
	"time"

	pb "github.com/dnstap/golang-dnstap"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

var (
	t0 = time.Unix(1700000000, 123456789)
	t1 = time.Unix(1700000001, 987654321)
)

func TestDecodeFields(t *testing.T) {
	q := dnsQuery(t, 0x1234, "aGVsbG8.t1.tunnel.test.", false)
	r := dnsQuery(t, 0x1234, "aGVsbG8.t1.tunnel.test.", true)
	v4c, v4s := netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("192.0.2.53")
	v6c, v6s := netip.MustParseAddr("2001:db8::10"), netip.MustParseAddr("2001:db8::53")
	tests := []struct {
		name string
		spec frameSpec
		want Message
	}{
		{
			name: "ipv4 client query",
			spec: frameSpec{typ: pb.Message_CLIENT_QUERY, proto: pb.SocketProtocol_UDP, qAddr: v4c, rAddr: v4s,
				qPort: 40000, rPort: 53, qTime: t0, wire: q, identity: "ns1.example", version: "unbound 1.17.1"},
			want: Message{Type: "CLIENT_QUERY", Query: true, Time: t0, Client: netip.AddrPortFrom(v4c, 40000),
				Server: netip.AddrPortFrom(v4s, 53), Transport: "udp", Wire: q, Identity: "ns1.example", Version: "unbound 1.17.1"},
		},
		{
			name: "ipv6 client response uses response time",
			spec: frameSpec{typ: pb.Message_CLIENT_RESPONSE, proto: pb.SocketProtocol_TCP, qAddr: v6c, rAddr: v6s,
				qPort: 1, rPort: 65535, qTime: t0, rTime: t1, wire: r},
			want: Message{Type: "CLIENT_RESPONSE", Query: false, Time: t1, Client: netip.AddrPortFrom(v6c, 1),
				Server: netip.AddrPortFrom(v6s, 65535), Transport: "tcp", Wire: r},
		},
		{
			name: "query with both times uses query time",
			spec: frameSpec{typ: pb.Message_RESOLVER_QUERY, proto: pb.SocketProtocol_DOT, qAddr: v4c, rAddr: v4s,
				qPort: 5, rPort: 853, qTime: t0, rTime: t1, wire: q},
			want: Message{Type: "RESOLVER_QUERY", Query: true, Time: t0, Client: netip.AddrPortFrom(v4c, 5),
				Server: netip.AddrPortFrom(v4s, 853), Transport: "dot", Wire: q},
		},
		{
			name: "query falls back to response time",
			spec: frameSpec{typ: pb.Message_AUTH_QUERY, proto: pb.SocketProtocol_DOH, qAddr: v6c, rAddr: v6s,
				qPort: 5, rPort: 443, rTime: t1, wire: q},
			want: Message{Type: "AUTH_QUERY", Query: true, Time: t1, Client: netip.AddrPortFrom(v6c, 5),
				Server: netip.AddrPortFrom(v6s, 443), Transport: "doh", Wire: q},
		},
		{
			name: "response falls back to query time",
			spec: frameSpec{typ: pb.Message_FORWARDER_RESPONSE, proto: pb.SocketProtocol_UDP, qAddr: v4c, rAddr: v4s,
				qPort: 7, rPort: 53, qTime: t0, wire: r},
			want: Message{Type: "FORWARDER_RESPONSE", Time: t0, Client: netip.AddrPortFrom(v4c, 7),
				Server: netip.AddrPortFrom(v4s, 53), Transport: "udp", Wire: r},
		},
		{
			name: "ipv4-mapped ipv6 is unmapped",
			spec: frameSpec{typ: pb.Message_CLIENT_QUERY, proto: pb.SocketProtocol_UDP,
				qAddr: netip.MustParseAddr("::ffff:198.51.100.7"), rAddr: netip.MustParseAddr("::ffff:198.51.100.53"),
				qPort: 3333, rPort: 53, qTime: t0, wire: q},
			want: Message{Type: "CLIENT_QUERY", Query: true, Time: t0,
				Client:    netip.MustParseAddrPort("198.51.100.7:3333"),
				Server:    netip.MustParseAddrPort("198.51.100.53:53"),
				Transport: "udp", Wire: q},
		},
		{
			name: "no addresses, no protocol",
			spec: frameSpec{typ: pb.Message_STUB_RESPONSE, noAddrs: true, noProto: true, qTime: t0, rTime: t1, wire: r},
			want: Message{Type: "STUB_RESPONSE", Time: t1, Wire: r},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var m Message
			if err := Decode(mkFrame(t, tc.spec), &m); err != nil {
				t.Fatal(err)
			}
			if !sameMessage(&m, &tc.want) || !m.Time.Equal(tc.want.Time) {
				t.Errorf("got  %+v\nwant %+v", m, tc.want)
			}
			h, name := questionName(t, m.Wire)
			if name != "aGVsbG8.t1.tunnel.test." || h.ID != 0x1234 || h.Response == m.Query {
				t.Errorf("wire: %v %q", h, name)
			}
		})
	}
}

func TestDecodeAllTypes(t *testing.T) {
	q := dnsQuery(t, 1, "a.example.", false)
	for n := int32(1); n <= 14; n++ {
		typ := pb.Message_Type(n)
		var m Message
		err := Decode(mkFrame(t, frameSpec{typ: typ, proto: pb.SocketProtocol_UDP, qTime: t0, rTime: t0, wire: q,
			qAddr: netip.MustParseAddr("10.0.0.1"), rAddr: netip.MustParseAddr("10.0.0.2")}), &m)
		if err != nil {
			t.Fatalf("%v: %v", typ, err)
		}
		if m.Type != typ.String() || m.Query != (n%2 == 1) || !bytes.Equal(m.Wire, q) {
			t.Errorf("%v: got %q query=%v", typ, m.Type, m.Query)
		}
	}
}

// appendMsgField appends raw protobuf fields to a Dnstap.message.
func withRawMessage(t *testing.T, d *pb.Dnstap, extra []byte) []byte {
	t.Helper()
	inner, err := proto.MarshalOptions{AllowPartial: true}.Marshal(d.Message)
	if err != nil {
		t.Fatal(err)
	}
	inner = append(inner, extra...)
	outer := d
	outer.Message = nil
	b := marshal(t, outer)
	b = protowire.AppendTag(b, 14, protowire.BytesType)
	return protowire.AppendBytes(b, inner)
}

func TestDecodeNewTransports(t *testing.T) {
	q := dnsQuery(t, 1, "a.example.", false)
	for proto, want := range map[uint64]string{5: "dnscrypt-udp", 6: "dnscrypt-tcp", 7: "doq", 8: "", 0: "", 1 << 40: ""} {
		d := mkMessage(frameSpec{typ: pb.Message_CLIENT_QUERY, noProto: true, qTime: t0, wire: q})
		extra := protowire.AppendTag(nil, 3, protowire.VarintType)
		extra = protowire.AppendVarint(extra, proto)
		var m Message
		if err := Decode(withRawMessage(t, d, extra), &m); err != nil {
			t.Fatal(err)
		}
		if m.Transport != want {
			t.Errorf("socket_protocol %d: got %q, want %q", proto, m.Transport, want)
		}
	}
}

func TestDecodeOddInputs(t *testing.T) {
	q := dnsQuery(t, 1, "a.example.", false)
	base := func() *pb.Dnstap {
		return mkMessage(frameSpec{typ: pb.Message_CLIENT_QUERY, proto: pb.SocketProtocol_UDP, qTime: t0, wire: q,
			qAddr: netip.MustParseAddr("10.0.0.1"), rAddr: netip.MustParseAddr("10.0.0.2"), qPort: 1, rPort: 53})
	}
	good := marshal(t, base())
	tests := []struct {
		name  string
		frame []byte
		class string
	}{
		{"empty", nil, "malformed"},
		{"garbage", []byte("this is not protobuf at all \xff\xff\xff"), "malformed"},
		{"truncated", good[:len(good)-3], "malformed"},
		{"field zero", []byte{0x00, 0x01}, "malformed"},
		{"end group at top", []byte{0x0c}, "malformed"},
		{"reserved wire type", []byte{0x0e}, "malformed"},
		{"overlong varint", append([]byte{0x78}, bytes.Repeat([]byte{0xff}, 11)...), "malformed"},
		{"field number too large", append(protowire.AppendTag(nil, protowire.MaxValidNumber+1, protowire.VarintType), 1), "malformed"},
		{"missing envelope type", func() []byte { d := base(); d.Type = nil; return marshal(t, d) }(), "malformed"},
		{"missing message type", func() []byte { d := base(); d.Message.Type = nil; return marshal(t, d) }(), "malformed"},
		{"unknown message type", func() []byte { d := base(); d.Message.Type = pb.Message_Type(15).Enum(); return marshal(t, d) }(), "malformed"},
		{"unknown envelope type", func() []byte { d := base(); d.Type = pb.Dnstap_Type(2).Enum(); return marshal(t, d) }(), "nopayload"},
		{"no message", func() []byte { d := base(); d.Message = nil; return marshal(t, d) }(), "nopayload"},
		{"no query_message", func() []byte { d := base(); d.Message.QueryMessage = nil; return marshal(t, d) }(), "nopayload"},
		{"response without response_message", func() []byte {
			d := base()
			d.Message.Type = pb.Message_CLIENT_RESPONSE.Enum()
			return marshal(t, d)
		}(), "nopayload"},
		{"unknown fields and groups skipped", func() []byte {
			b := append([]byte(nil), good...)
			b = protowire.AppendTag(b, 3, protowire.BytesType) // extra
			b = protowire.AppendBytes(b, []byte("extra"))
			b = protowire.AppendTag(b, 99, protowire.StartGroupType)
			b = protowire.AppendTag(b, 1, protowire.Fixed64Type)
			b = protowire.AppendFixed64(b, 7)
			b = protowire.AppendTag(b, 99, protowire.EndGroupType)
			b = protowire.AppendTag(b, 1, protowire.VarintType) // identity with the wrong wire type: unknown
			b = protowire.AppendVarint(b, 5)
			return b
		}(), "ok"},
		{"unterminated group", append(append([]byte(nil), good...), protowire.AppendTag(nil, 99, protowire.StartGroupType)...), "malformed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var m Message
			err := Decode(tc.frame, &m)
			if got := errClass(err); got != tc.class {
				t.Fatalf("got %s (%v), want %s", got, err, tc.class)
			}
			_, _, oerr := oracle(tc.frame)
			if got := errClass(oerr); got != tc.class {
				t.Errorf("oracle disagrees: %s", got)
			}
			if err != nil && err.Error() == "" {
				t.Error("empty error text")
			}
		})
	}
}

func TestDecodeMergesRepeatedMessage(t *testing.T) {
	q := dnsQuery(t, 1, "merge.example.", false)
	// First occurrence: type and addresses; second: the payload and time.
	a := &pb.Message{Type: pb.Message_CLIENT_QUERY.Enum(), QueryAddress: []byte{10, 1, 2, 3}, QueryPort: proto.Uint32(99)}
	b := &pb.Message{QueryMessage: q, QueryTimeSec: proto.Uint64(uint64(t0.Unix())), QueryPort: proto.Uint32(100)}
	ab, _ := proto.MarshalOptions{AllowPartial: true}.Marshal(a)
	bb, _ := proto.MarshalOptions{AllowPartial: true}.Marshal(b)
	var f []byte
	f = protowire.AppendTag(f, 14, protowire.BytesType)
	f = protowire.AppendBytes(f, ab)
	f = protowire.AppendTag(f, 15, protowire.VarintType)
	f = protowire.AppendVarint(f, 1)
	f = protowire.AppendTag(f, 14, protowire.BytesType)
	f = protowire.AppendBytes(f, bb)
	var m Message
	if err := Decode(f, &m); err != nil {
		t.Fatal(err)
	}
	want, _, err := oracle(f)
	if err != nil {
		t.Fatal(err)
	}
	if !sameMessage(&m, &want) || m.Client != netip.MustParseAddrPort("10.1.2.3:100") || !bytes.Equal(m.Wire, q) {
		t.Errorf("got %+v, want %+v", m, want)
	}
}

func TestDecodeBadAddressAndPort(t *testing.T) {
	q := dnsQuery(t, 1, "a.example.", false)
	d := mkMessage(frameSpec{typ: pb.Message_CLIENT_QUERY, proto: pb.SocketProtocol_UDP, qTime: t0, wire: q})
	d.Message.QueryAddress = []byte{1, 2, 3}                    // not 4 or 16 bytes
	d.Message.ResponseAddress = []byte{192, 0, 2, 1}            // fine
	d.Message.ResponsePort = proto.Uint32(70000)                // out of range
	d.Message.QueryTimeSec = proto.Uint64(maxUnixSec + 1)       // absurd: ignored
	d.Message.ResponseTimeSec = proto.Uint64(uint64(t1.Unix())) // used instead
	var m Message
	if err := Decode(marshal(t, d), &m); err != nil {
		t.Fatal(err)
	}
	if m.Client.IsValid() || m.Client.Addr().IsValid() {
		t.Errorf("client %v, want invalid", m.Client)
	}
	if m.Server != netip.MustParseAddrPort("192.0.2.1:0") {
		t.Errorf("server %v", m.Server)
	}
	if m.Time.Unix() != t1.Unix() {
		t.Errorf("time %v", m.Time)
	}
}

func TestDecodeTimeFallsBackToNow(t *testing.T) {
	q := dnsQuery(t, 1, "a.example.", false)
	f := mkFrame(t, frameSpec{typ: pb.Message_CLIENT_QUERY, noTimes: true, wire: q})
	before := time.Now()
	var m Message
	if err := Decode(f, &m); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	if m.Time.Before(before) || m.Time.After(after) {
		t.Errorf("time %v not within [%v, %v]", m.Time, before, after)
	}
}

func TestDecodeReusesMessage(t *testing.T) {
	q := dnsQuery(t, 1, "a.example.", false)
	full := mkFrame(t, frameSpec{typ: pb.Message_CLIENT_QUERY, proto: pb.SocketProtocol_TCP, qTime: t0, wire: q,
		qAddr: netip.MustParseAddr("10.0.0.1"), rAddr: netip.MustParseAddr("10.0.0.2"), qPort: 1, rPort: 53,
		identity: "id", version: "v"})
	bare := mkFrame(t, frameSpec{typ: pb.Message_CLIENT_QUERY, noAddrs: true, noProto: true, qTime: t1, wire: q})
	var m Message
	if err := Decode(full, &m); err != nil {
		t.Fatal(err)
	}
	if err := Decode(bare, &m); err != nil {
		t.Fatal(err)
	}
	want := Message{Type: "CLIENT_QUERY", Query: true, Wire: q, Time: t1}
	if !sameMessage(&m, &want) || !m.Time.Equal(t1) {
		t.Errorf("stale fields: %+v", m)
	}
	// A failing decode leaves no half-filled message behind: it does not
	// touch m at all.
	before := m
	if err := Decode([]byte{0xff}, &m); err == nil {
		t.Fatal("no error")
	}
	if !sameMessage(&m, &before) {
		t.Error("failed Decode changed m")
	}
}

func TestDecodeZeroAllocs(t *testing.T) {
	q := dnsQuery(t, 1, "aGVsbG8gd29ybGQ.t1.tunnel.test.", false)
	f := mkFrame(t, frameSpec{typ: pb.Message_CLIENT_QUERY, proto: pb.SocketProtocol_UDP, qTime: t0, wire: q,
		qAddr: netip.MustParseAddr("2001:db8::1"), rAddr: netip.MustParseAddr("2001:db8::53"), qPort: 1, rPort: 53,
		identity: "resolver-1", version: "BIND 9.18"})
	bad := []byte("garbage\xff\xff")
	var m Message
	if err := Decode(f, &m); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(1000, func() {
		if err := Decode(f, &m); err != nil {
			t.Fatal(err)
		}
		if err := Decode(bad, &m); !errors.Is(err, ErrMalformed) {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Decode allocates %v times per frame, want 0", allocs)
	}
}

func BenchmarkDecode(b *testing.B) {
	q := dnsQuery(b, 1, "aGVsbG8gd29ybGQ.t1.tunnel.test.", false)
	f := mkFrame(b, frameSpec{typ: pb.Message_CLIENT_QUERY, proto: pb.SocketProtocol_UDP, qTime: t0, wire: q,
		qAddr: netip.MustParseAddr("192.0.2.1"), rAddr: netip.MustParseAddr("192.0.2.53"), qPort: 1, rPort: 53,
		identity: "resolver-1", version: "BIND 9.18"})
	b.ReportAllocs()
	b.SetBytes(int64(len(f)))
	var m Message
	for b.Loop() {
		if err := Decode(f, &m); err != nil {
			b.Fatal(err)
		}
	}
}
