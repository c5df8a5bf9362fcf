package ngram

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestOrdinaryNamesScoreAboveEncodedData(t *testing.T) {
	m := Default
	ordinary := []string{"www", "ns1", "smtp", "mail", "google", "update", "microsoft", "static", "images", "login", "weather", "accounts"}
	encoded := []string{
		"mnxw2aaaadkxk3lbmmwtmnbnmv2g2qdpobsw443tnaxgg33nfr2w2yldfuyt", // base32
		"GQ5vdW+KBA", // base64
		"546b03f50000000000a6023ed4df184d6ac5c2628b47714fdee584fed739", // hex
		"vaaaakaskoq",
		"xjqzkvwpfh",
	}
	worstOrdinary := 0.0
	for i, s := range ordinary {
		b := m.BitsPerChar([]byte(s))
		if i == 0 || b < worstOrdinary {
			worstOrdinary = b
		}
	}
	for _, s := range encoded {
		if b := m.BitsPerChar([]byte(s)); b >= worstOrdinary {
			t.Errorf("%q scores %.2f bits/char, not below the worst ordinary label (%.2f)", s, b, worstOrdinary)
		}
	}
	if worstOrdinary < -4.5 {
		t.Errorf("ordinary labels score as low as %.2f bits/char", worstOrdinary)
	}
}

func TestScoreIsCaseInsensitive(t *testing.T) {
	a, n1 := Default.LabelScore([]byte("WwW"))
	b, n2 := Default.LabelScore([]byte("www"))
	if a != b || n1 != n2 || n1 != 4 {
		t.Fatalf("%d/%d vs %d/%d", a, n1, b, n2)
	}
}

func TestNoAllocs(t *testing.T) {
	l := []byte("r3---sn-5hne6nzk")
	if n := testing.AllocsPerRun(100, func() { Default.LabelScore(l) }); n != 0 {
		t.Fatalf("%v allocs", n)
	}
}

// TestModelReproducible rebuilds the model from the Debian inputs named in
// the package doc and requires the committed table to be identical.
func TestModelReproducible(t *testing.T) {
	words, psl := "/usr/share/dict/american-english", "/usr/share/publicsuffix/public_suffix_list.dat"
	for _, p := range []string{words, psl} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("%s not installed (apt-get install wamerican publicsuffix)", p)
		}
	}
	out := filepath.Join(t.TempDir(), "model_table.go")
	cmd := exec.Command("go", "run", "./gen", "-words", words, "-psl", psl, "-hosts", "hostlabels.txt", "-o", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gen: %v\n%s", err, b)
	}
	got, _ := os.ReadFile(out)
	want, _ := os.ReadFile("model_table.go")
	if !bytes.Equal(got, want) {
		t.Fatal("model_table.go differs from what gen builds from the Debian inputs: regenerate it (see doc.go)")
	}
}

func FuzzLabelScore(f *testing.F) {
	f.Add([]byte("www"))
	f.Fuzz(func(t *testing.T, label []byte) {
		s, n := Default.LabelScore(label)
		if n != int32(len(label)+1) || s > 0 {
			t.Fatalf("score %d over %d", s, n)
		}
	})
}
