package engine

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// TestKnownServicesSuspiciousAtMost: a known service's zone is judged
// suspicious at most, its evidence naming the service; a look-alike
// registered domain is not a known service, and JudgeKnownServices
// judges the service like any other domain.
func TestKnownServicesSuspiciousAtMost(t *testing.T) {
	feed := func(cfg Config) *feeder {
		f := newFeeder(cfg)
		rng := rand.New(rand.NewPCG(5, 6))
		for i := 0; i < 400; i++ {
			data := make([]byte, 90)
			for j := range data {
				data[j] = byte(rng.IntN(256))
			}
			at := t0.Add(time.Duration(i) * 200 * time.Millisecond)
			f.lookup(chunkName(data, "i.00.mac.sophosxl.net"), at, "10.1.1.5", tTXT, 3, 0)
			f.lookup(chunkName(data, "i.00.mac.sophosxl-net.com"), at, "10.1.1.5", tTXT, 3, 0)
		}
		return f
	}
	f := feed(Config{})
	fd := f.find(t, "sophosxl.net")
	if fd == nil || fd.Verdict != "suspicious" || fd.Severity != SeverityLow || fd.Features.KnownService != "Sophos Live Protection lookups" {
		t.Fatalf("sophosxl.net: %+v, want suspicious, low, the service named", fd)
	}
	named := false
	for _, e := range fd.Evidence {
		named = named || strings.HasPrefix(e, "against: a known service that puts identifiers or data in DNS names by design (Sophos Live Protection lookups)")
	}
	if !named {
		t.Errorf("evidence %q does not name the service", fd.Evidence)
	}
	if fd := f.find(t, "sophosxl-net.com"); fd == nil || fd.Verdict != "tunnel" || fd.Severity != SeverityHigh || fd.Features.KnownService != "" {
		t.Errorf("look-alike: %+v, want a high tunnel", fd)
	}
	f = feed(Config{JudgeKnownServices: true})
	if fd := f.find(t, "sophosxl.net"); fd == nil || fd.Verdict != "tunnel" || fd.Severity != SeverityHigh {
		t.Errorf("JudgeKnownServices: %+v, want a high tunnel", fd)
	}
}

// TestKnownServiceNames: every entry is a registered domain in lower case
// with a name.
func TestKnownServiceNames(t *testing.T) {
	for dom, name := range knownServices {
		if dom != strings.ToLower(dom) || strings.Count(dom, ".") != 1 || name == "" {
			t.Errorf("%q: %q", dom, name)
		}
	}
	if KnownService("avqs.mcafee.com") != "" || KnownService("mcafee.com") == "" {
		t.Error("KnownService takes registered domains")
	}
}
