package dnswire

import (
	"bytes"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// checkName verifies the internal consistency of a decoded name.
func checkName(t *testing.T, n *Name) {
	t.Helper()
	if n.Len() > 254 || n.Len() > maxPresentationLen {
		t.Fatalf("name of %d bytes", n.Len())
	}
	if n.Labels() > MaxLabels || n.WireLen() > MaxNameWireLen {
		t.Fatalf("%d labels, wire %d", n.Labels(), n.WireLen())
	}
	var joined []byte
	wire := 1
	for i := range n.Labels() {
		l := n.Label(i)
		if len(l) == 0 || len(l) > MaxLabelLen {
			t.Fatalf("label %d of %d bytes", i, len(l))
		}
		if i > 0 {
			joined = append(joined, '.')
		}
		joined = append(joined, l...)
		wire += 1 + len(l)
	}
	if !bytes.Equal(joined, n.Bytes()) || wire != n.WireLen() {
		t.Fatalf("labels %q / wire %d disagree with %q / %d", joined, wire, n.Bytes(), n.WireLen())
	}
}

func FuzzParse(f *testing.F) {
	f.Add(fullMessage(f))
	f.Add(query(wireName([]byte("www"), []byte("example"), []byte("com"))))
	f.Add(append(header12(1, 0, 0, 0), 1, 'a', 0xC0, 12, 0, 1, 0, 1))
	f.Add(append(header12(2, 1, 0, 0), 1, 'a', 0, 0, 1, 0, 1, 1, 'b', 0xC0, 12, 0, 1, 0, 1, 0xC0, 18, 0, 5, 0, 1, 0, 0, 0, 1, 0, 2, 0xC0, 12))
	f.Fuzz(func(t *testing.T, msg []byte) {
		var p Parser
		var q Question
		var h ResourceHeader
		hdr, err := p.Start(msg)
		if err != nil {
			if err != ErrShortHeader || len(msg) >= HeaderLen {
				t.Fatalf("Start: %v", err)
			}
			return
		}
		// Agreement with dnsmessage on the first question.
		var dp dnsmessage.Parser
		if _, derr := dp.Start(msg); derr != nil {
			t.Fatalf("dnsmessage rejects a header we accept: %v", derr)
		}
		dq, derr := dp.Question()
		err = p.Question(&q)
		switch {
		case err == nil && derr == nil:
			if dmName(&q.Name) != dq.Name.String() || q.Type != uint16(dq.Type) || q.Class != uint16(dq.Class) {
				t.Fatalf("first question %q %d %d, dnsmessage %q %d %d", q.Name.Bytes(), q.Type, q.Class, dq.Name.String(), dq.Type, dq.Class)
			}
		case err == ErrSectionDone || derr == dnsmessage.ErrSectionDone:
			if err != ErrSectionDone || derr != dnsmessage.ErrSectionDone || hdr.QDCount != 0 {
				t.Fatalf("section done: ours %v, dnsmessage %v", err, derr)
			}
		case derr == nil:
			// dnsmessage follows any pointer (up to 10); we refuse
			// pointers that do not go backwards.
			if err != ErrBadPointer && err != ErrPointerLoop {
				t.Fatalf("dnsmessage parses %q, we fail: %v", dq.Name.String(), err)
			}
		}
		if err == nil {
			checkName(t, &q.Name)
		}
		// Walk the rest; every record is bounded by the message.
		steps := 0
		for {
			err := p.Question(&q)
			if err != nil {
				break
			}
			checkName(t, &q.Name)
			steps++
		}
		for {
			_, rdata, err := p.Resource(&h)
			if err != nil {
				break
			}
			checkName(t, &h.Name)
			if h.DataOffset+len(rdata) > len(msg) || len(rdata) != int(h.Length) ||
				(len(rdata) > 0 && &msg[h.DataOffset] != &rdata[0]) {
				t.Fatalf("rdata not at DataOffset")
			}
			steps++
		}
		if steps > len(msg) {
			t.Fatalf("%d records from %d bytes", steps, len(msg))
		}
		// AnswerHeader reads what Answer reads, the owner name at
		// NameOffset.
		var pa, pb Parser
		var ha, hb ResourceHeader
		pa.Start(msg)
		pb.Start(msg)
		var owner Name
		for {
			ra, ea := pa.Answer(&ha)
			rb, eb := pb.AnswerHeader(&hb)
			if ea != eb || !bytes.Equal(ra, rb) {
				t.Fatalf("Answer %v, AnswerHeader %v", ea, eb)
			}
			if ea != nil {
				break
			}
			if _, err := ReadName(msg, hb.NameOffset, &owner); err != nil || !bytes.Equal(owner.Bytes(), ha.Name.Bytes()) {
				t.Fatalf("owner at NameOffset %d: %q (%v), Answer read %q", hb.NameOffset, owner.Bytes(), err, ha.Name.Bytes())
			}
			hb.Name = ha.Name
			if ha != hb {
				t.Fatalf("headers differ: %+v, %+v", ha, hb)
			}
		}
		// ReadName at every offset: no panic, names consistent, next in range.
		var n Name
		for off := range len(msg) {
			next, err := ReadName(msg, off, &n)
			if err == nil {
				checkName(t, &n)
				if next <= off || next > len(msg) {
					t.Fatalf("ReadName at %d: next %d", off, next)
				}
			} else if next != off {
				t.Fatalf("ReadName error at %d returns %d", off, next)
			}
		}
	})
}
