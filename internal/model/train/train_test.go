package train

import (
	"bytes"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/dnsieve/dnsieve/internal/model"
)

const corpusLabels = "../../../testdata/corpus/labels.json"

// TestShippedModelReproduces is the bit-for-bit acceptance: the recipe
// run on the committed corpus gives exactly the embedded model file, and
// it is accepted by leave-one-tool-out validation.
func TestShippedModelReproduces(t *testing.T) {
	if _, err := os.Stat(corpusLabels); err != nil {
		t.Skip("committed corpus absent:", err)
	}
	if testing.Short() {
		t.Skip("trains the model (seconds)")
	}
	res, err := Run(Options{Labels: []string{corpusLabels}, Synthetic: true, Config: DefaultConfig()})
	if err != nil {
		t.Fatal(err)
	}
	b, err := res.Model.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, model.DefaultJSON()) {
		t.Errorf("the recipe does not reproduce internal/model/default_model.json; regenerate with\n"+
			"  dnsieve train -o internal/model/default_model.json --report docs/MODEL.md\ngot:\n%s", b)
	}
	if !res.Accepted {
		t.Errorf("the shipped recipe is not accepted: %v", res.Missed)
	}
	// Every committed tunnel capture is found, no committed benign domain
	// reaches medium.
	all := Evaluate(res.Model, res.Data, func(s Source) bool { return !s.Synthetic })
	if all.FoundCombined != all.Tunnels || all.Tunnels != 16 || all.BenignMedium+all.BenignHigh != 0 {
		t.Errorf("on the committed corpus: %d/%d tunnels, %d benign at medium or high", all.FoundCombined, all.Tunnels,
			all.BenignMedium+all.BenignHigh)
	}
	var md bytes.Buffer
	res.Markdown(&md, "dnsieve train")
	for _, want := range []string{"## Which features carry the decision", "## Feature distributions", "## Precision, recall",
		"Leave-one-tool-out", "Leave-one-network-out", "| iodine | 14 | 14 |", "Accepted: every held-out tool was found."} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

// TestTrainingDeterministic trains twice on the synthetic set.
func TestTrainingDeterministic(t *testing.T) {
	a, b := Synthetic(7), Synthetic(7)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the synthetic set differs between two runs")
	}
	if c := Synthetic(8); reflect.DeepEqual(a.Samples, c.Samples) {
		t.Error("the seed does not change the synthetic set")
	}
	cfg := DefaultConfig()
	cfg.Seed = 7
	m1, err := Fit(a, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := Fit(b, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b1, _ := m1.Bytes()
	b2, _ := m2.Bytes()
	if !bytes.Equal(b1, b2) {
		t.Error("two trainings give different bytes")
	}
	// Tunnel and benign families both present, labels as generated.
	var tun, ben int
	for _, s := range a.Samples {
		if s.Early {
			continue
		}
		if s.Tunnel {
			tun++
			if s.Source.Tool == "" {
				t.Errorf("tunnel sample %s from a benign family", s.String())
			}
		} else {
			ben++
		}
	}
	if tun != 24 || ben < 300 {
		t.Errorf("%d tunnel and %d benign synthetic domains", tun, ben)
	}
}

// TestLogisticOptimal checks the fit against the optimality condition
// of the penalised likelihood: its gradient vanishes.
func TestLogisticOptimal(t *testing.T) {
	r := &rng{s: 42}
	var x [][]float64
	var y, w []float64
	for i := 0; i < 200; i++ {
		a, b := float64(r.intn(1000))/100, float64(r.intn(1000))/100
		x = append(x, []float64{a, b})
		label := 0.0
		if a+0.5*b+float64(r.intn(300))/100 > 8 {
			label = 1
		}
		y = append(y, label)
		w = append(w, 0.5+float64(r.intn(10))/10)
	}
	const lambda = 0.3
	f, err := logistic(x, y, w, lambda)
	if err != nil {
		t.Fatal(err)
	}
	grad := make([]float64, 3)
	for i := range x {
		z := f.bias
		zs := make([]float64, 2)
		for j := 0; j < 2; j++ {
			zs[j] = (x[i][j] - f.means[j]) / f.scales[j]
			z += f.weights[j] * zs[j]
		}
		p := 1 / (1 + math.Exp(-z))
		for j := 0; j < 2; j++ {
			grad[j] += w[i] * (p - y[i]) * zs[j]
		}
		grad[2] += w[i] * (p - y[i])
	}
	for j := 0; j < 2; j++ {
		grad[j] += lambda * f.weights[j]
	}
	for j, g := range grad {
		if math.Abs(g) > 1e-5 {
			t.Errorf("gradient[%d] = %g at the solution", j, g)
		}
	}
	if f.weights[0] <= f.weights[1] || f.weights[1] <= 0 {
		t.Errorf("weights %v: the first input matters more, both positively", f.weights)
	}
}

func TestCholSolve(t *testing.T) {
	h := [][]float64{{4, 0, 0}, {2, 5, 0}, {-2, 1, 6}} // lower triangle of a SPD matrix
	full := [][]float64{{4, 2, -2}, {2, 5, 1}, {-2, 1, 6}}
	g := []float64{1, 2, 3}
	x, err := cholSolve(h, g)
	if err != nil {
		t.Fatal(err)
	}
	for i := range full {
		s := 0.0
		for j := range x {
			s += full[i][j] * x[j]
		}
		if math.Abs(s-g[i]) > 1e-12 {
			t.Errorf("row %d: %v, want %v", i, s, g[i])
		}
	}
	if _, err := cholSolve([][]float64{{-1}}, []float64{1}); err == nil {
		t.Error("a negative matrix was solved")
	}
}

func TestChooseThresholds(t *testing.T) {
	// 1,000,000 benign lookups; a domain of 50 lookups at p 0.93 and one
	// of 2000 at p 0.75.
	o := benignOOF{lookups: 1_000_000, scores: []scored{{0.93, 50}, {0.75, 2000}, {0.1, 900000}}}
	got := chooseThresholds(o, Config{LowFPM: 10000, MediumFPM: 100, HighFPM: 10})
	want := model.Thresholds{Low: 0.3, Medium: 0.8, High: 0.95}
	if got != want {
		t.Errorf("thresholds %+v, want %+v", got, want)
	}
	if got := chooseThresholds(benignOOF{}, DefaultConfig()); got != (model.Thresholds{Low: 0.3, Medium: 0.5, High: 0.9}) {
		t.Errorf("no benign data: %+v", got)
	}
}

func TestLabeler(t *testing.T) {
	l := labeler{domains: []string{"t.cdn-sync.net"}, raw: true}
	for key, want := range map[string]bool{"cdn-sync.net": true, "t.cdn-sync.net": true, "x.t.cdn-sync.net": true,
		"sync.net": false, "other.net": false, "raw:10.0.0.1": true} {
		if l.domain(key) != want {
			t.Errorf("domain(%q) = %v", key, !want)
		}
	}
	if !l.name("abc.t.cdn-sync.net") || l.name("t.cdn-sync.net.evil.com") || l.name("cdn-sync.net") {
		t.Error("name labels wrong")
	}
	if toolName("iodine-raw") != "iodine" || toolName("DNS2TCP") != "dns2tcp" {
		t.Error("toolName")
	}
}

// TestMessageWire parses the synthetic generator's messages with
// dnsmessage.
func TestMessageWire(t *testing.T) {
	r := &rng{s: 1}
	msg := message(77, true, 3, "abc.def.example.com", typeTXT, []rr{txtRR(strings.Repeat("x", 300)), aRR(r),
		nameRR(typeMX, []byte{0, 10}, "mx.example.com")})
	var p dnsmessage.Parser
	h, err := p.Start(msg)
	if err != nil {
		t.Fatal(err)
	}
	if h.ID != 77 || !h.Response || h.RCode != dnsmessage.RCodeNameError {
		t.Errorf("header %+v", h)
	}
	q, err := p.Question()
	if err != nil || q.Name.String() != "abc.def.example.com." || q.Type != dnsmessage.TypeTXT {
		t.Fatalf("question %v %v", q, err)
	}
	if err := p.SkipAllQuestions(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.AnswerHeader(); err != nil {
		t.Fatal(err)
	}
	if txt, err := p.TXTResource(); err != nil || strings.Join(txt.TXT, "") != strings.Repeat("x", 300) {
		t.Fatalf("TXT %v %v", txt, err)
	}
	a, err := p.AnswerHeader()
	if err != nil || a.Type != dnsmessage.TypeA {
		t.Fatalf("A %v %v", a, err)
	}
	p.SkipAnswer()
	if _, err := p.AnswerHeader(); err != nil {
		t.Fatal(err)
	}
	mx, err := p.MXResource()
	if err != nil || mx.MX.String() != "mx.example.com." || mx.Pref != 10 {
		t.Errorf("MX %v %v", mx, err)
	}
	if chunk("abcdefg", 3) != "abc.def.g" {
		t.Error("chunk")
	}
}
