package fingerprint

import (
	"bytes"
	"testing"
)

// FuzzClassify feeds arbitrary Message contents (consistent or not) to
// Classify and ClassifyRaw: no panic, a verdict inside the enums, and a
// result that depends only on the message (the same input twice gives the
// same Match, and the input is not modified).
func FuzzClassify(f *testing.F) {
	for _, c := range toolCases() {
		var m Message
		if newBuilder().message(c.msg(), &m) {
			f.Add(m.Response, m.QType, append([]byte(nil), m.Sub...), append([]byte(nil), m.SubLabels...), append([]byte(nil), m.Zone...), m.Msg)
		}
	}
	f.Add(false, uint16(16), []byte("dnscat"), []byte{6}, []byte("dnscat.0102"), []byte{0x10, 0xd1, 0x9e, 0x30})
	f.Add(true, uint16(1), []byte("a.b"), []byte{1, 1}, []byte(""), []byte{})
	f.Fuzz(func(t *testing.T, resp bool, qt uint16, sub, lens, zone, msg []byte) {
		m := Message{Response: resp, QType: qt, Sub: sub, SubLabels: lens, Zone: zone, Msg: msg}
		before := concat(sub, lens, zone, msg)
		a := Classify(&m)
		b := Classify(&m)
		if a != b {
			t.Fatalf("not deterministic: %v vs %v", a, b)
		}
		after := concat(sub, lens, zone, msg)
		if !bytes.Equal(before, after) {
			t.Fatal("input modified")
		}
		if a.Tool >= numTools || a.Strength > Strong || a.Evidence >= numEvidence {
			t.Fatalf("out of range: %+v", a)
		}
		if (a.Strength == None) != (a.Tool == Unknown) || (a.Strength == None) != (a.Evidence == EvNone) {
			t.Fatalf("inconsistent: %+v", a)
		}
		_ = a.String()
		r := ClassifyRaw(msg)
		if r.Strength != None && r.Tool != Iodine {
			t.Fatalf("raw: %+v", r)
		}
	})
}

func concat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
		out = append(out, 0xFF)
	}
	return out
}
