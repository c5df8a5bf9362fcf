package allowlist

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sample = `# corporate allowlist
*.corp.example.com   # every internal host
cdn.example.net
*.Akamaiedge.NET.

`

func TestContains(t *testing.T) {
	l, err := Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if l.Len() != 3 {
		t.Fatalf("Len = %d, want 3", l.Len())
	}
	cases := map[string]bool{
		"corp.example.com":            true, // a wildcard matches the bare domain
		"a.corp.example.com":          true,
		"A.B.CORP.example.com":        true,
		"xcorp.example.com":           false,
		"example.com":                 false,
		"cdn.example.net":             true,
		"cdn.example.net.":            true,
		"x.cdn.example.net":           false, // plain entries are exact
		"e1234.dscb.akamaiedge.net":   true,
		"akamaiedge.net.evil.example": false,
		"":                            false,
	}
	for name, want := range cases {
		if got := l.Contains([]byte(name)); got != want {
			t.Errorf("Contains(%q) = %v, want %v", name, got, want)
		}
	}
	var nilList *List
	if nilList.Contains([]byte("a.corp.example.com")) {
		t.Error("nil list allowed a name")
	}
}

func TestParseErrors(t *testing.T) {
	for _, bad := range []string{"a b.com", "foo.*.com", "*.", "*"} {
		if _, err := Parse(strings.NewReader("ok.com\n" + bad + "\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("Parse(%q) error = %v, want one naming line 2", bad, err)
		}
	}
}

func TestLoad(t *testing.T) {
	p := filepath.Join(t.TempDir(), "whitelist.txt")
	if err := os.WriteFile(p, []byte(sample), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := Load(p)
	if err != nil || !l.Contains([]byte("x.corp.example.com")) {
		t.Fatalf("Load: %v", err)
	}
	if _, err := Load(p + ".missing"); err == nil {
		t.Fatal("Load of a missing file succeeded")
	}
}

func TestContainsAllocatesNothing(t *testing.T) {
	l, _ := Parse(strings.NewReader(sample))
	name := []byte("deep.a.b.c.d.Corp.Example.com")
	if a := testing.AllocsPerRun(100, func() { l.Contains(name) }); a != 0 {
		t.Fatalf("Contains allocates %v", a)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(sample, "a.corp.example.com")
	f.Fuzz(func(t *testing.T, list, name string) {
		l, err := Parse(strings.NewReader(list))
		if err != nil {
			return
		}
		l.Contains([]byte(name))
	})
}
