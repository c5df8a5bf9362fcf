package regdomain

import (
	"bytes"
	"math/rand"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/publicsuffix"
)

// The tests in this file prove that the generated tables (psl_depth.go)
// and Split's fast path agree with golang.org/x/net/publicsuffix itself.

var (
	rulesOnce sync.Once
	rulesList []string
	rulesErr  string
)

// libraryRules returns every rule of the library's tree, decoded by gen
// from the module's table ("!" and "*." prefixes as in the list), or skips
// the test when the module's source is not in the module cache.
func libraryRules(t *testing.T) []string {
	t.Helper()
	rulesOnce.Do(func() {
		dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "golang.org/x/net").Output()
		d := strings.TrimSpace(string(dir))
		if err != nil || d == "" {
			rulesErr = "golang.org/x/net's source is not in GOMODCACHE (go mod download golang.org/x/net)"
			return
		}
		if _, err := os.Stat(filepath.Join(d, "publicsuffix", "data", "nodes")); err != nil {
			rulesErr = "golang.org/x/net/publicsuffix/data is missing from " + d
			return
		}
		out := filepath.Join(os.TempDir(), "regdomain-rules-"+strings.ReplaceAll(filepath.Base(d), "@", "-")+".txt")
		if b, err := exec.Command("go", "run", "./gen", "-rules", out).CombinedOutput(); err != nil {
			rulesErr = "gen -rules: " + err.Error() + "\n" + string(b)
			return
		}
		b, err := os.ReadFile(out)
		if err != nil {
			rulesErr = err.Error()
			return
		}
		os.Remove(out)
		rulesList = strings.Fields(string(b))
	})
	if rulesErr != "" {
		if strings.HasPrefix(rulesErr, "gen") {
			t.Fatal(rulesErr)
		}
		t.Skip(rulesErr)
	}
	return rulesList
}

// TestTablesUpToDate regenerates psl_depth.go from the module's data and
// requires the committed file to be the same.
func TestTablesUpToDate(t *testing.T) {
	libraryRules(t) // skips without the module's source
	out := filepath.Join(t.TempDir(), "psl_depth.go")
	if b, err := exec.Command("go", "run", "./gen", "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("gen: %v\n%s", err, b)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("psl_depth.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("psl_depth.go differs from what gen builds from golang.org/x/net: regenerate it (go run ./internal/regdomain/gen -o internal/regdomain/psl_depth.go)")
	}
}

// TestGeneratedRulesMatchTables: the rule list that gen decodes is the one
// the tables were built from (maxRuleLabels, ruleDepth, wildDepth), and the
// library agrees that each rule is a public suffix.
func TestGeneratedRulesMatchTables(t *testing.T) {
	rules := libraryRules(t)
	deepest := 0
	two := map[string]uint8{}
	wild := map[string]uint8{}
	for _, r := range rules {
		bare := strings.TrimPrefix(r, "!")
		labels := strings.Split(bare, ".")
		n := len(labels)
		deepest = max(deepest, n)
		if n >= 2 {
			if labels[n-2] == "*" {
				wild[labels[n-1]] = max(wild[labels[n-1]], uint8(n))
			} else {
				k := labels[n-2] + "." + labels[n-1]
				two[k] = max(two[k], uint8(n))
			}
		}
		if strings.HasPrefix(r, "!") || strings.HasPrefix(r, "*") {
			continue
		}
		if ps, _ := publicsuffix.PublicSuffix(r); ps != r {
			t.Errorf("rule %q: library's public suffix is %q", r, ps)
		}
	}
	if deepest != maxRuleLabels {
		t.Errorf("deepest rule has %d labels, maxRuleLabels = %d", deepest, maxRuleLabels)
	}
	if len(two) != len(ruleDepth) || len(wild) != len(wildDepth) {
		t.Fatalf("%d/%d two-label keys, %d/%d wildcard TLDs", len(two), len(ruleDepth), len(wild), len(wildDepth))
	}
	for k, d := range two {
		if ruleDepth[k] != d {
			t.Errorf("ruleDepth[%q] = %d, rules say %d", k, ruleDepth[k], d)
		}
	}
	for k, d := range wild {
		if wildDepth[k] != d || !specialTLD(k) {
			t.Errorf("wildDepth[%q] = %d (special %v), rules say %d", k, wildDepth[k], specialTLD(k), d)
		}
	}
}

// TestDeepBloomHoldsEveryKey: the fast path's filter never misses a key of
// ruleDepth (else it would answer for names with deeper rules), and its
// false positives are rare.
func TestDeepBloomHoldsEveryKey(t *testing.T) {
	for k := range ruleDepth {
		if !mayStartDeepRule([]byte(k)) {
			t.Fatalf("deepBloom misses %q", k)
		}
	}
	rng := rand.New(rand.NewSource(3))
	fp := 0
	const n = 100000
	for i := 0; i < n; i++ {
		k := randLabel(rng) + "." + []string{"com", "net", "org", "de", "io"}[i%5]
		if _, ok := ruleDepth[k]; !ok && mayStartDeepRule([]byte(k)) {
			fp++
		}
	}
	if fp > n/100 {
		t.Fatalf("%d false positives in %d", fp, n)
	}
	t.Logf("%d false positives in %d random keys", fp, n)
}

func randLabel(rng *rand.Rand) string {
	const alpha = "abcdefghijklmnopqrstuvwxyz0123456789-"
	b := make([]byte, 1+rng.Intn(20))
	for i := range b {
		b[i] = alpha[rng.Intn(len(alpha))]
	}
	return string(b)
}

// checkLibrary splits name with s and requires the library's
// EffectiveTLDPlusOne, or, for a name that the library calls a public
// suffix (or one under in-addr.arpa / ip6.arpa, which Split groups), the
// uncached reference. It reports whether the fast path answered.
func checkLibrary(t *testing.T, s *Splitter, name string) (fast bool) {
	t.Helper()
	before := s.Lookups
	l := lens(name)
	lower, start := s.Split([]byte(name), l)
	fast = s.Lookups == before
	got := string(lower[start:])
	folded := string(bytes.Clone(lower))
	want, err := publicsuffix.EffectiveTLDPlusOne(folded)
	if err != nil || arpaZone(lower, l) >= 0 {
		rl, rs := splitRef([]byte(name), l)
		if w := string(rl[rs:]); got != w {
			t.Fatalf("Split(%q) = %q, reference %q (library: %v)", name, got, w, err)
		}
		return fast
	}
	if got != want {
		t.Fatalf("Split(%q) = %q (fast path %v), library %q", name, got, fast, want)
	}
	return fast
}

// TestEveryRuleMatchesLibrary builds names at and under every rule of the
// library's tree ("rule", "x.rule", "y.x.rule"; a wildcard's "*" replaced
// by a label; an exception's siblings under its wildcard) and requires
// Split to agree with the library, with a fresh Splitter and a shared one.
func TestEveryRuleMatchesLibrary(t *testing.T) {
	rules := libraryRules(t)
	shared := New(0)
	checked, fast := 0, 0
	for _, r := range rules {
		bare := strings.TrimPrefix(r, "!")
		var bases []string
		if strings.HasPrefix(bare, "*.") {
			bases = append(bases, "wild"+bare[1:], "www"+bare[1:], "city"+bare[1:])
		} else {
			bases = append(bases, bare)
			if strings.HasPrefix(r, "!") {
				if i := strings.IndexByte(bare, '.'); i > 0 {
					bases = append(bases, "other"+bare[i:])
				}
			}
		}
		for _, base := range bases {
			for _, name := range []string{base, "x." + base, "y.x." + base, "A.B.c." + base} {
				f := checkLibrary(t, New(0), name)
				if checkLibrary(t, shared, name) != f {
					t.Fatalf("%s: fast path taken by one Splitter and not another", name)
				}
				checked++
				if f {
					fast++
				}
			}
		}
	}
	t.Logf("%d names checked, %d by the fast path", checked, fast)
	if fast == 0 {
		t.Fatal("the fast path answered for no name")
	}
}

// tlds returns every top-level domain of the library's rules (or, without
// the module's source, of the generated tables) and a few unknown ones.
func tlds(t *testing.T) []string {
	set := map[string]bool{"local": true, "lan": true, "corp": true, "home": true, "internal": true, "zz": true, "x--y": true}
	if rulesErr == "" {
		func() {
			defer func() { recover() }()
			for _, r := range libraryRules(t) {
				set[r[strings.LastIndexByte(r, '.')+1:]] = true
			}
		}()
	}
	for k := range ruleDepth {
		set[k[strings.LastIndexByte(k, '.')+1:]] = true
	}
	for k := range wildDepth {
		set[k] = true
	}
	var out []string
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestEveryTLDMatchesLibrary: every top-level domain with random second
// level labels and hosts, and random labels under every two-label key of
// ruleDepth (the names the fast path must leave to the cache, or answer as
// three labels), agree with the library.
func TestEveryTLDMatchesLibrary(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	s := New(1 << 10)
	checked, fast := 0, 0
	for _, tld := range tlds(t) {
		for i := 0; i < 8; i++ {
			name := randLabel(rng) + "." + tld
			for j := rng.Intn(4); j > 0; j-- {
				name = randLabel(rng) + "." + name
			}
			if checkLibrary(t, s, name) {
				fast++
			}
			checked++
		}
	}
	for key := range ruleDepth {
		for _, name := range []string{key, randLabel(rng) + "." + key, randLabel(rng) + "." + randLabel(rng) + "." + key,
			"a.b.c.d.e.f.g.h." + randLabel(rng) + "." + key} {
			if checkLibrary(t, s, name) {
				fast++
			}
			checked++
		}
	}
	t.Logf("%d names checked, %d by the fast path", checked, fast)
}

// FuzzFastPath: names of up to four labels (any bytes, any case), built so
// that the fast path often answers. Split always equals the uncached
// reference; when the fast path answers for a name whose labels hold no
// '.' and that is not an IP address, the answer is also the library's.
func FuzzFastPath(f *testing.F) {
	f.Add("www", "Example", "com", "")
	f.Add("a", "d111111abcdef8", "cloudfront", "net")
	f.Add("x", "y", "corp", "local")
	f.Add("fe80::1%eth0", "x", "www", "ck")
	f.Add("", "a.b", "co", "uk")
	f.Fuzz(func(t *testing.T, a, b, c, d string) {
		var labels []string
		var l []uint8
		for _, x := range []string{a, b, c, d} {
			if x == "" || len(x) > 63 {
				continue
			}
			labels = append(labels, x)
			l = append(l, uint8(len(x)))
		}
		if len(labels) < 2 {
			return
		}
		name := []byte(strings.Join(labels, "."))
		s := New(4)
		checkRef(t, s, name, l)
		lower, start := s.Split(name, l)
		if s.Lookups != 0 || arpaZone(lower, l) >= 0 {
			return // the cached path, checked against the reference
		}
		if strings.Contains(a+b+c+d, ".") {
			return // labels that the library would split further: the reference decides
		}
		if _, err := netip.ParseAddr(string(lower)); err == nil {
			return // the library's answer for IP addresses is the address; Split keeps its last two labels
		}
		want, err := publicsuffix.EffectiveTLDPlusOne(string(lower))
		if err != nil {
			// Only a two-label name that is a rule itself ("cloudfront.net").
			if start != 0 || len(l) != 2 || ruleDepth[string(lower)] != 2 {
				t.Fatalf("fast path split %q at %d; library: %v", lower, start, err)
			}
			return
		}
		if got := string(lower[start:]); got != want {
			t.Fatalf("fast path: Split(%q) = %q, library %q", name, got, want)
		}
	})
}

// isTLDByLibrary is what the engine asked the library before IsTLD: the
// public suffix of a name directly under label is under ICANN and is that
// name (a wildcard rule) or label itself.
func isTLDByLibrary(label string) bool {
	probe := "x." + label
	suffix, icann := publicsuffix.PublicSuffix(probe)
	return icann && (suffix == probe || suffix == label)
}

// TestIsTLDMatchesLibrary: IsTLD answers as the library does for every
// label of every rule (decoded by gen) and, independently of gen, for
// every label of one to three letters.
func TestIsTLDMatchesLibrary(t *testing.T) {
	labels := map[string]bool{}
	const letters = "abcdefghijklmnopqrstuvwxyz"
	for _, a := range letters {
		labels[string(a)] = true
		for _, b := range letters {
			labels[string(a)+string(b)] = true
			for _, c := range letters {
				labels[string(a)+string(b)+string(c)] = true
			}
		}
	}
	compare := func() (tlds int) {
		for l := range labels {
			got := IsTLD([]byte(l))
			if got != isTLDByLibrary(l) {
				t.Errorf("IsTLD(%q) = %v, the library says %v", l, got, !got)
			}
			if got {
				tlds++
			}
		}
		return tlds
	}
	// Every two-letter country code of the list and the three-letter
	// generic domains: several hundred; far fewer means a broken oracle.
	if short := compare(); short < 300 {
		t.Fatalf("only %d top-level domains of 1 to 3 letters", short)
	}
	for _, r := range libraryRules(t) { // skips without the module's source
		for _, l := range strings.Split(strings.TrimLeft(r, "!"), ".") {
			if l != "*" {
				labels[l] = true
			}
		}
	}
	tlds := compare()
	// The list's ICANN section held 1,400 to 1,600 top-level domains from
	// 2016 on; far fewer means the generator lost them.
	if tlds < 1200 {
		t.Errorf("%d top-level domains, want at least 1200", tlds)
	}
}

// TestIsTLD: known answers, and no allocation.
func TestIsTLD(t *testing.T) {
	for _, c := range []struct {
		label string
		want  bool
	}{{"com", true}, {"np", true}, {"ck", true}, {"za", true}, {"xn--p1ai", true}, {"global", true}, {"uk", true},
		{"COM", false}, {"local", false}, {"corp", false}, {"blogspot", false}, {"", false}} {
		if got := IsTLD([]byte(c.label)); got != c.want {
			t.Errorf("IsTLD(%q) = %v, want %v", c.label, got, c.want)
		}
	}
	made := []byte("qzxwvkjh")
	if n := testing.AllocsPerRun(100, func() { IsTLD(made) }); n != 0 {
		t.Errorf("IsTLD allocates %v times a call", n)
	}
}

// FuzzIsTLD: IsTLD answers as the library does for any label (no dot).
func FuzzIsTLD(f *testing.F) {
	for _, s := range []string{"com", "np", "za", "xn--p1ai", "COM", "local", "", "co", "x-y", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, label string) {
		if label == "" || strings.Contains(label, ".") {
			return
		}
		if got, want := IsTLD([]byte(label)), isTLDByLibrary(label); got != want {
			t.Fatalf("IsTLD(%q) = %v, the library says %v", label, got, want)
		}
	})
}
