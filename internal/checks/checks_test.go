package checks

import (
	"bytes"
	"math"
	"testing"
)

// split returns name and its label lengths, splitting on '.'.
func split(name string) ([]byte, []uint8) {
	if name == "" {
		return nil, nil
	}
	var lens []uint8
	for _, l := range bytes.Split([]byte(name), []byte(".")) {
		lens = append(lens, uint8(len(l)))
	}
	return []byte(name), lens
}

func TestEntropyExact(t *testing.T) {
	cases := []struct {
		in   string
		want float64
	}{
		{"", 0},
		{"aaaa", 0},
		{"ab", 1},
		{"abcd", 2},
		{"0123456789abcdef", 4},
		{"aab", -(2.0/3*math.Log2(2.0/3) + 1.0/3*math.Log2(1.0/3))},
	}
	for _, c := range cases {
		if got := Entropy([]byte(c.in)); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("Entropy(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestLongestHexRunSeesEveryRun(t *testing.T) {
	cases := []struct {
		in   string
		want int
	}{
		{"www.example.com", 1},             // "e", "c", "a"...: single letters
		{"abc.0123456789abcdef0123.x", 20}, // second run is the longest
		{"deadbeef-0123456789abcdef01234567.example.org", 24},
		{"xyz", 0},
		{"ABCDEF.abcdef", 6},
	}
	for _, c := range cases {
		if got := LongestHexRun([]byte(c.in)); got != c.want {
			t.Errorf("LongestHexRun(%q) = %d, want %d", c.in, got, c.want)
		}
	}
}

func TestNameChecks(t *testing.T) {
	cfg := Default()
	cases := []struct {
		name    string
		level   Level
		reasons Reason
	}{
		{"www.example.com", None, 0},
		{"_ldap._tcp.dc._msdcs.example.com", None, 0},
		{"selector1._domainkey.example.com", None, 0},
		{"_dmarc.example.com", None, 0},
		{"*.example.com", None, 0},
		{"my_host.corp.local", None, 0},
		// 41-byte label: too long.
		{"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz.example.com", High, LongLabel},
		// exactly 40: fine.
		{"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz.example.com", None, 0},
		{"a/b.example.com", High, RareSymbols},
		{"a\\b.example.com", High, RareSymbols},
		{"a+b=.example.com", High, RareSymbols},
		{"x.0123456789abcdef0123.example.com", Medium, HexEncoding},
		{"x.0123456789abcdef012.example.com", None, 0},
		// Invalid UTF-8 outranks everything; 0xff is also a rare symbol, which is a weaker level.
		{"a\xffb.example.com", Certain, NotUTF8},
		// Entropy above 4.5 needs at least 23 distinct bytes.
		{"qwertyuiopasdfghjklzxcvbnm1234567.io", High, HighEntropy},
		// Several checks at the same level are all named.
		{"qwertyuiopasdfghjklzxcvbnm1234567qwertyuiop.io", High, LongLabel | HighEntropy},
	}
	for _, c := range cases {
		n, lens := split(c.name)
		got := cfg.Name(n, lens)
		if got.Level != c.level || got.Reasons != c.reasons {
			t.Errorf("Name(%q) = %v %q, want %v %q", c.name, got.Level, got.Reasons, c.level, c.reasons)
		}
	}
}

func TestSomeRestrictsChecks(t *testing.T) {
	cfg := Default()
	n, lens := split("x.0123456789abcdef0123.a/b.example.com")
	if got := cfg.Some(n, lens, HexEncoding); got.Level != Medium || got.Reasons != HexEncoding {
		t.Errorf("hex only: %+v", got)
	}
	if got := cfg.Some(n, lens, All); got.Level != High || got.Reasons != RareSymbols {
		t.Errorf("all: %+v", got)
	}
	if got := cfg.Some(n, lens, LongLabel|HighEntropy); got.Level != None {
		t.Errorf("none expected: %+v", got)
	}
}

func TestDotInsideLabelIsRare(t *testing.T) {
	cfg := Default()
	// One 3-byte label "a.b" followed by "com": the dot inside the label is data.
	got := cfg.Name([]byte("a.b.com"), []uint8{3, 3})
	if got.Level != High || got.Reasons != RareSymbols {
		t.Fatalf("got %v %v, want high rare symbols", got.Level, got.Reasons)
	}
}

func TestReasonTextsAreTheOldOnes(t *testing.T) {
	cases := map[Reason]string{
		LongLabel:               "packet label length too high",
		RareSymbols:             "rare symbols detected",
		HighEntropy:             "high entropy detected",
		HexEncoding:             "hex encoding detected",
		NotUTF8:                 "not utf-8 symbols detected",
		LongLabel | HighEntropy: "packet label length too high; high entropy detected",
		NotUTF8 | RareSymbols:   "not utf-8 symbols detected; rare symbols detected",
		0:                       "",
	}
	for r, want := range cases {
		if got := r.String(); got != want {
			t.Errorf("Reason(%d).String() = %q, want %q", r, got, want)
		}
	}
}

func TestLevels(t *testing.T) {
	for _, l := range []Level{Low, Medium, High, Certain} {
		back, ok := ParseLevel(l.String())
		if !ok || back != l {
			t.Errorf("ParseLevel(%q) = %v %v", l.String(), back, ok)
		}
	}
	if _, ok := ParseLevel("bogus"); ok {
		t.Error("ParseLevel accepted bogus")
	}
	if !(Certain > High && High > Medium && Medium > Low && Low > None) {
		t.Error("levels out of order")
	}
}

func TestDisabledChecks(t *testing.T) {
	var cfg Config // everything off
	n, lens := split("qwertyuiopasdfghjklzxcvbnm1234567qwertyuiop.0123456789abcdef0123.a/b.\xff")
	if got := cfg.Name(n, lens); got.Level != None {
		t.Fatalf("zero Config fired: %+v", got)
	}
}

func TestNameAllocatesNothing(t *testing.T) {
	cfg := Default()
	n, lens := split("qwertyuiopasdfghjklzxcvbnm1234567qwertyuiop.0123456789abcdef0123.example.com")
	if a := testing.AllocsPerRun(100, func() { cfg.Name(n, lens) }); a != 0 {
		t.Fatalf("Name allocates %v times per call", a)
	}
}

func BenchmarkName(b *testing.B) {
	cfg := Default()
	n, lens := split("r3---sn-5hne6nzk.googlevideo.com")
	b.ReportAllocs()
	for b.Loop() {
		cfg.Name(n, lens)
	}
}

func FuzzName(f *testing.F) {
	f.Add([]byte("www.example.com"))
	f.Add([]byte("a\xff.b"))
	f.Fuzz(func(t *testing.T, name []byte) {
		if len(name) > 255 {
			name = name[:255]
		}
		_, lens := split(string(name))
		for _, l := range bytes.Split(name, []byte(".")) {
			if len(l) > 255 {
				return
			}
		}
		cfg := Default()
		r := cfg.Name(name, lens)
		if r.Level == None && r.Reasons != 0 || r.Level != None && r.Reasons == 0 {
			t.Fatalf("inconsistent result %+v", r)
		}
		if h := Entropy(name); h < 0 || h > 8.0000001 {
			t.Fatalf("entropy %v out of range", h)
		}
	})
}

// TestEntropyBoundIsExact: the shortcuts (distinct-byte bound, table
// estimate) never change the answer of Entropy(name) > max.
func TestEntropyBoundIsExact(t *testing.T) {
	rng := uint64(7)
	buf := make([]byte, 80)
	for i := 0; i < 20000; i++ {
		n := 1 + int(rng%80)
		alphabet := 1 + int((rng>>8)%40)
		for j := 0; j < n; j++ {
			rng = rng*6364136223846793005 + 1442695040888963407
			buf[j] = byte('a' + int(rng>>33)%alphabet)
		}
		name := buf[:n]
		for _, max := range []float64{3, 4, 4.5, 5} {
			if want := Entropy(name) > max; exceedsEntropy(name, max, scanBytes(name).class) != want {
				t.Fatalf("exceedsEntropy(%q, %v) = %v, entropy %.17g", name, max, !want, Entropy(name))
			}
		}
	}
}
