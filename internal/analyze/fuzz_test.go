package analyze

import (
	"bytes"
	"net/netip"
	"reflect"
	"testing"

	"github.com/dnsieve/dnsieve/internal/checks"
	"github.com/dnsieve/dnsieve/internal/engine"
	"github.com/dnsieve/dnsieve/internal/testcap"
)

// FuzzMessage runs Message on arbitrary bytes, with and without the
// shortcut for answer owners that point to the question (checked once per
// message), and requires the same result, counts and observation: the
// straightforward path, which decodes and checks every owner name, is the
// oracle.
func FuzzMessage(f *testing.F) {
	addr := netip.MustParseAddr("192.0.2.7")
	f.Add(testcap.Query(1, "www.example.com", testcap.TypeA))
	f.Add(testcap.Response(2, "www.example.com", testcap.TypeA, 0, testcap.AnswerAddr(addr), testcap.AnswerAddr(addr)))
	f.Add(testcap.Response(3, "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4.t.example.org", testcap.TypeCNAME, 0,
		testcap.AnswerCNAME("x\xfe\xc8y.t.example.org"), testcap.Answer{Name: "x\xfe\xc8y.t.example.org", Type: testcap.TypeA, TTL: 5, Addr: addr}))
	f.Add(testcap.Response(4, "www.ex!ample.com", testcap.TypeTXT, 0, testcap.AnswerTXT("hi"),
		testcap.Answer{Name: "other.example.com", Type: testcap.TypeTXT, TXT: []string{"x"}}))
	f.Add(testcap.Response(5, "host.example.net", testcap.TypeMX, 0, testcap.AnswerMX(10, "mail.example.net"), testcap.AnswerSRV(1, 2, 3, "s.example.net")))
	cfg := checks.Default()
	fast := New(Config{Checks: &cfg})
	slow := New(Config{Checks: &cfg})
	slow.everyOwner = true
	f.Fuzz(func(t *testing.T, msg []byte) {
		var cf, cs Counts
		var of, os engine.Observation
		var af, as bool
		rf, okf := fast.Message(msg, &cf, &of, &af)
		rs, oks := slow.Message(msg, &cs, &os, &as)
		if rf != rs || okf != oks || af != as || cf != cs {
			t.Fatalf("shortcut %+v %v %v %+v, every owner %+v %v %v %+v", rf, okf, af, cf, rs, oks, as, cs)
		}
		if !bytes.Equal(of.Name, os.Name) || !bytes.Equal(of.Labels, os.Labels) {
			t.Fatalf("names %q / %q", of.Name, os.Name)
		}
		of.Name, of.Labels, os.Name, os.Labels = nil, nil, nil, nil
		if !reflect.DeepEqual(of, os) {
			t.Fatalf("observations %+v / %+v", of, os)
		}
	})
}
