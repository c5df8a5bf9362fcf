package regdomain

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/net/publicsuffix"
)

func lens(name string) []uint8 {
	var l []uint8
	for _, p := range strings.Split(name, ".") {
		l = append(l, uint8(len(p)))
	}
	return l
}

func TestSplit(t *testing.T) {
	s := New(0)
	cases := []struct{ name, sub, reg string }{
		{"www.example.com", "www", "example.com"},
		{"WWW.Example.COM", "www", "example.com"},
		{"example.com", "", "example.com"},
		{"a.b.c.example.co.uk", "a.b.c", "example.co.uk"},
		{"paaa.t1.biillpi.com", "paaa.t1", "biillpi.com"},
		{"vaaaakaskoq.pirate.sea", "vaaaakaskoq", "pirate.sea"}, // unknown TLD: the default rule "*"
		{"x.jz-n-bs.local", "x", "jz-n-bs.local"},
		{"4.3.2.1.zen.spamhaus.org", "4.3.2.1.zen", "spamhaus.org"},
		{"1.0.168.192.in-addr.arpa", "1.0.168.192", "in-addr.arpa"},
		{"b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa", "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4", "ip6.arpa"},
		{"localhost", "", "localhost"},
		{"com", "", "com"},
		{"ec2-1-2-3-4.compute-1.amazonaws.com", "", "ec2-1-2-3-4.compute-1.amazonaws.com"},
	}
	for _, c := range cases {
		for pass := 0; pass < 2; pass++ { // second pass: from the cache
			lower, start := s.Split([]byte(c.name), lens(c.name))
			reg := string(lower[start:])
			sub := ""
			if start > 0 {
				sub = string(lower[:start-1])
			}
			if reg != c.reg || sub != c.sub {
				t.Errorf("Split(%q) pass %d = %q + %q, want %q + %q", c.name, pass, sub, reg, c.sub, c.reg)
			}
		}
	}
}

// TestAgreesWithPublicSuffix compares with the library on many shapes.
func TestAgreesWithPublicSuffix(t *testing.T) {
	s := New(0)
	for _, suffix := range []string{"com", "co.uk", "github.io", "s3.amazonaws.com", "blogspot.com", "kawasaki.jp", "city.kawasaki.jp", "ck", "www.ck", "sch.uk", "x.sch.uk"} {
		for _, prefix := range []string{"a", "a.b", "a.b.c.d.e.f.g"} {
			name := prefix + "." + suffix
			want, err := publicsuffix.EffectiveTLDPlusOne(name)
			lower, start := s.Split([]byte(name), lens(name))
			if err != nil {
				continue
			}
			if got := string(lower[start:]); got != want {
				t.Errorf("%s: got %q, library %q", name, got, want)
			}
		}
	}
}

func TestDotInsideLabel(t *testing.T) {
	s := New(0)
	// Labels "a.b" and "example" and "com": the inner dot is data.
	lower, start := s.Split([]byte("a.b.example.com"), []uint8{3, 7, 3})
	if got := string(lower[start:]); got != "example.com" || start != 4 {
		t.Fatalf("got %q at %d", got, start)
	}
}

func TestCacheBoundedAndNoAllocs(t *testing.T) {
	s := New(4)
	for i := 0; i < 100; i++ {
		name := []byte("x.d" + strings.Repeat("a", i%40+1) + ".com.br") // the cached path
		s.Split(name, lens(string(name)))
		if len(s.cache) > 4 {
			t.Fatalf("cache grew to %d", len(s.cache))
		}
	}
	name := []byte("r3---sn-5hne6nzk.example.co.uk")
	l := lens(string(name))
	s.Split(name, l)
	if a := testing.AllocsPerRun(100, func() { s.Split(name, l) }); a != 0 {
		t.Fatalf("cached Split allocates %v", a)
	}
}

// TestFastPathNoAllocs: names the fast path answers (two labels, or a
// rule with nothing below it) touch neither the cache nor the library, and
// allocate nothing.
func TestFastPathNoAllocs(t *testing.T) {
	s := New(0)
	for _, c := range []struct{ name, reg string }{
		{"r3---sn-5hne6nzk.googlevideo.com", "googlevideo.com"},
		{"A1B2C3D4E5F6A7B8C9D0.Tunnel-Domain.ORG", "tunnel-domain.org"},
		{"x.corp.local", "corp.local"}, // unknown TLD: the default rule "*"
		{"d111111abcdef8.cloudfront.net", "d111111abcdef8.cloudfront.net"},
		{"a.b.d111111abcdef8.cloudfront.net", "d111111abcdef8.cloudfront.net"},
	} {
		name, l := []byte(c.name), lens(c.name)
		lower, start := s.Split(name, l)
		if got := string(lower[start:]); got != c.reg {
			t.Errorf("Split(%q) = %q, want %q", c.name, got, c.reg)
		}
		if a := testing.AllocsPerRun(100, func() { s.Split(name, l) }); a != 0 {
			t.Errorf("Split(%q) allocates %v", c.name, a)
		}
	}
	if s.Lookups != 0 || len(s.cache) != 0 {
		t.Fatalf("fast path used the cache: %d lookups, %d entries", s.Lookups, len(s.cache))
	}
}

func FuzzSplit(f *testing.F) {
	f.Add([]byte("www.example.co.uk"), []byte{3, 7, 2, 2})
	f.Fuzz(func(t *testing.T, name, ls []byte) {
		s := New(16)
		total := 0
		for _, l := range ls {
			total += int(l)
		}
		lower, start := s.Split(name, ls)
		if start < 0 || start > len(lower) || !bytes.EqualFold(lower, name[:len(lower)]) {
			t.Fatalf("bad split %d of %q", start, lower)
		}
	})
}

func BenchmarkSplitCached(b *testing.B) {
	s := New(0)
	name := []byte("e1234.dscb.akamaiedge.net")
	l := lens(string(name))
	b.ReportAllocs()
	for b.Loop() {
		s.Split(name, l)
	}
}

// TestAgreesWithPublicSuffixOnEveryRule builds names under every rule of
// the public suffix list (Debian's copy, when installed) and requires the
// cached split to agree with the library, including through the cache.
func TestAgreesWithPublicSuffixOnEveryRule(t *testing.T) {
	b, err := os.ReadFile("/usr/share/publicsuffix/public_suffix_list.dat")
	if err != nil {
		t.Skip("publicsuffix is not installed (apt-get install publicsuffix)")
	}
	s := New(0)
	checked := 0
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "//") {
			continue
		}
		rule := strings.ToLower(strings.TrimPrefix(strings.ReplaceAll(line, "*", "wild"), "!"))
		if strings.HasSuffix(rule, "arpa") {
			continue // reverse lookups are grouped under in-addr.arpa / ip6.arpa on purpose
		}
		for _, prefix := range []string{"a", "host.a", "x.host.a", "www"} {
			name := prefix + "." + rule
			ok := true
			for _, c := range name {
				if c >= 0x80 {
					ok = false
				}
			}
			if !ok {
				continue
			}
			want, err := publicsuffix.EffectiveTLDPlusOne(name)
			if err != nil {
				continue
			}
			for pass := 0; pass < 2; pass++ {
				lower, start := s.Split([]byte(name), lens(name))
				if got := string(lower[start:]); got != want {
					t.Fatalf("%s (rule %s, pass %d): got %q, library %q", name, line, pass, got, want)
				}
			}
			checked++
		}
	}
	t.Logf("%d names checked", checked)
}

func TestHostsShareOneCacheEntry(t *testing.T) {
	s := New(0)
	for i := 0; i < 100; i++ {
		// com.br has rules of three labels: the key is four labels,
		// www.example.com.br (example.com needs no cache at all).
		name := fmt.Sprintf("host%d.www.example.com.br", i)
		s.Split([]byte(name), lens(name))
	}
	if s.Misses != 1 {
		t.Fatalf("%d misses for 100 hosts of one domain", s.Misses)
	}
}
