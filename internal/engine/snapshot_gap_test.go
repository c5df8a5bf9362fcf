package engine

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// reframe rewrites the payload of the record with tag in an exported
// stream with mod, fixing its length and checksum.
func reframe(t *testing.T, b []byte, tag byte, mod func([]byte) []byte) []byte {
	out := append([]byte(nil), b[:len(domainMagic)]...)
	b = b[len(domainMagic):]
	_, n := binary.Uvarint(b)
	out, b = append(out, b[:n]...), b[n:]
	for len(b) > 0 {
		tg := b[0]
		l, n := binary.Uvarint(b[1:])
		p := b[1+n : 1+n+int(l)]
		b = b[1+n+int(l)+4:]
		if tg == tag {
			p = mod(append([]byte(nil), p...))
		}
		out = append(out, frame(tg, p)...)
	}
	return out
}

// TestImportRejectsFamilyGap: an exported domain whose first numbered
// family is rewritten as a free slot, the second left taken, is refused.
// Accepted, the engine would take the free slot for the second family's
// key again on its next name, and refuse the snapshot it then writes.
func TestImportRejectsFamilyGap(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	f := newFeeder(Config{})
	for n := range 10 {
		f.aLookup(fmt.Sprintf("a%d.example.com", n), t0.Add(time.Duration(n)*time.Second), "10.0.0.7", netip.AddrFrom4([4]byte{10, 0, 0, byte(n)}))
	}
	for n := range 10 {
		f.aLookup(fmt.Sprintf("b%d.example.com", n), t0.Add(time.Duration(20+n)*time.Second), "10.0.0.7", netip.AddrFrom4([4]byte{10, 0, 0, byte(n)}))
	}
	d := f.e.domains["example.com"]
	if d.num == nil || d.num.taken() != 2 {
		t.Fatalf("families %+v", d.num)
	}
	a := d.num.fams[0]
	var p enc
	for _, v := range [...]uint64{a.key, uint64(a.names), uint64(a.lo), uint64(a.hi), uint64(a.weight), uint64(a.last), uint64(a.near), uint64(a.addrs), uint64(a.most)} {
		p.u(v)
	}
	for _, w := range a.octets {
		p.u(w)
	}
	exp, ok := f.e.ExportDomain("example.com")
	if !ok {
		t.Fatal("export")
	}
	bad := reframe(t, exp, recDomain, func(pl []byte) []byte {
		i := bytes.Index(pl, p.b)
		if i < 0 {
			t.Fatal("family A not found")
		}
		return append(append(pl[:i:i], make([]byte, 13)...), pl[i+len(p.b):]...)
	})
	g := newFeeder(Config{})
	err := g.e.ImportDomain(bad)
	if err == nil || !strings.Contains(err.Error(), "example.com: numbered state without a family") {
		t.Fatalf("a free family slot before a taken one: %v", err)
	}
	if _, ok := g.e.domains["example.com"]; ok {
		t.Fatal("the refused domain was imported")
	}
}
