package fingerprint

import (
	"github.com/dnsieve/dnsieve/internal/dnswire"
	"github.com/dnsieve/dnsieve/internal/regdomain"
)

// builder turns a DNS payload into a Message the way the scan pipeline
// does: the first question's name, split with regdomain.
type builder struct {
	p    dnswire.Parser
	q    dnswire.Question
	sp   *regdomain.Splitter
	lens [dnswire.MaxLabels]uint8
	sub  [256]byte
}

func newBuilder() *builder { return &builder{sp: regdomain.New(0)} }

// message fills m from payload; ok is false when payload is not a DNS
// message with a question.
func (b *builder) message(payload []byte, m *Message) bool {
	*m = Message{Msg: payload}
	h, err := b.p.Start(payload)
	if err != nil || b.p.Question(&b.q) != nil {
		return false
	}
	m.Response = h.Response()
	m.RCode = h.RCode()
	m.QType = b.q.Type
	name := b.q.Name.Bytes()
	n := b.q.Name.Labels()
	for i := 0; i < n; i++ {
		b.lens[i] = uint8(len(b.q.Name.Label(i)))
	}
	lower, start := b.sp.Split(name, b.lens[:n])
	m.Zone = lower[start:]
	if start > 0 {
		// Count the labels left of the registered domain.
		k, pos := 0, 0
		for k < n && pos < start {
			pos += int(b.lens[k]) + 1
			k++
		}
		m.Sub = b.sub[:copy(b.sub[:], name[:start-1])]
		m.SubLabels = b.lens[:k]
	}
	return true
}
