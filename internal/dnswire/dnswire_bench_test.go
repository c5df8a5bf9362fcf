package dnswire_test

import (
	"testing"

	"github.com/dnsieve/dnsieve/bench/traffic"
	"github.com/dnsieve/dnsieve/internal/dnswire"
)

// BenchmarkParseRealistic parses a cycle of 65,536 messages of generated
// realistic DNS traffic the way dnsieve does: every question, every answer
// header, and the names inside CNAME, NS, PTR and MX answers.
func BenchmarkParseRealistic(b *testing.B) {
	frames := traffic.Frames(traffic.Config{Seed: 1}, 1<<16)
	msgs := make([][]byte, len(frames))
	for i, f := range frames {
		msgs[i] = traffic.Payload(f)
	}
	var p dnswire.Parser
	var q dnswire.Question
	var rr dnswire.ResourceHeader
	var target dnswire.Name
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		msg := msgs[i&(1<<16-1)]
		i++
		h, err := p.Start(msg)
		if err != nil {
			b.Fatal(err)
		}
		for p.Question(&q) == nil {
		}
		for left := h.ANCount; left > 0; left-- {
			rdata, err := p.Answer(&rr)
			if err != nil {
				b.Fatal(err)
			}
			skip := -1
			switch rr.Type {
			case dnswire.TypeCNAME, dnswire.TypeNS, dnswire.TypePTR:
				skip = 0
			case dnswire.TypeMX:
				skip = 2
			}
			if skip >= 0 && len(rdata) > skip {
				if _, err := dnswire.ReadName(msg, rr.DataOffset+skip, &target); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
}
