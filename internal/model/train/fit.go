package train

import (
	"errors"
	"math"
	"strconv"

	"github.com/dnsieve/dnsieve/internal/model"
)

// Reproducibility: every loop runs in a fixed order over slices, and each
// product is converted explicitly to float64 before it is added, which
// forbids the compiler from fusing multiply-adds (Go spec, "Floating-point
// operators"), so the same inputs give the same bits on every machine of
// an architecture. The model file rounds its numbers to nine significant
// digits, which also absorbs the last-bit differences math.Exp may show
// between CPUs with and without FMA.

// newtonIters is the fixed number of Newton steps: logistic regression
// with an L2 penalty is strictly convex, and Newton's method converges
// quadratically, so this is far more than needed.
const newtonIters = 40

// fitted is a trained linear model on standardised inputs.
type fitted struct {
	means, scales, weights []float64
	bias                   float64
}

// standardise computes weighted means and standard deviations.
func standardise(x [][]float64, sw []float64) (means, scales []float64) {
	k := len(x[0])
	means, scales = make([]float64, k), make([]float64, k)
	total := 0.0
	for _, w := range sw {
		total += w
	}
	for j := 0; j < k; j++ {
		m := 0.0
		for i := range x {
			m += float64(sw[i] * x[i][j])
		}
		m /= total
		v := 0.0
		for i := range x {
			d := x[i][j] - m
			v += float64(sw[i] * float64(d*d))
		}
		s := math.Sqrt(v / total)
		if s < 1e-9 {
			s = 1
		}
		means[j], scales[j] = round9(m), round9(s)
	}
	return means, scales
}

// logistic fits an L2-regularised logistic regression by Newton's method
// (iteratively reweighted least squares): it minimises
// Σ sw[i]·logloss(y[i], p[i]) + lambda/2·|weights|² (the bias is not
// penalised). y holds 0 or 1.
func logistic(x [][]float64, y, sw []float64, lambda float64) (*fitted, error) {
	if len(x) == 0 {
		return nil, errors.New("train: no samples")
	}
	means, scales := standardise(x, sw)
	k := len(means)
	n := k + 1 // the bias is the last coordinate
	z := make([][]float64, len(x))
	for i := range x {
		z[i] = make([]float64, n)
		for j := 0; j < k; j++ {
			z[i][j] = (x[i][j] - means[j]) / scales[j]
		}
		z[i][k] = 1
	}
	beta := make([]float64, n)
	h := make([][]float64, n)
	for j := range h {
		h[j] = make([]float64, n)
	}
	g := make([]float64, n)
	for it := 0; it < newtonIters; it++ {
		for a := 0; a < n; a++ {
			g[a] = 0
			for b := 0; b < n; b++ {
				h[a][b] = 0
			}
		}
		for i := range z {
			s := 0.0
			for j := 0; j < n; j++ {
				s += float64(beta[j] * z[i][j])
			}
			p := model.Sigmoid(s)
			r := float64(sw[i] * (p - y[i]))
			c := float64(sw[i] * float64(p*(1-p)))
			for a := 0; a < n; a++ {
				g[a] += float64(r * z[i][a])
				ca := float64(c * z[i][a])
				for b := 0; b <= a; b++ {
					h[a][b] += float64(ca * z[i][b])
				}
			}
		}
		for a := 0; a < k; a++ {
			g[a] += float64(lambda * beta[a])
			h[a][a] += lambda
		}
		// A tiny ridge on the bias keeps H definite when one class is
		// absent (held-out folds).
		h[k][k] += 1e-9
		step, err := cholSolve(h, g)
		if err != nil {
			return nil, err
		}
		for a := 0; a < n; a++ {
			beta[a] -= step[a]
		}
	}
	f := &fitted{means: means, scales: scales, weights: make([]float64, k), bias: round9(beta[k])}
	for j := 0; j < k; j++ {
		f.weights[j] = round9(beta[j])
	}
	return f, nil
}

// cholSolve solves H·x = g for a symmetric positive definite H of which
// only the lower triangle is filled.
func cholSolve(h [][]float64, g []float64) ([]float64, error) {
	n := len(g)
	l := make([][]float64, n)
	for i := range l {
		l[i] = make([]float64, n)
	}
	for i := 0; i < n; i++ {
		for j := 0; j <= i; j++ {
			s := h[i][j]
			for k := 0; k < j; k++ {
				s -= float64(l[i][k] * l[j][k])
			}
			if i == j {
				if !(s > 0) {
					return nil, errors.New("train: the Hessian is not positive definite")
				}
				l[i][i] = math.Sqrt(s)
			} else {
				l[i][j] = s / l[j][j]
			}
		}
	}
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		s := g[i]
		for k := 0; k < i; k++ {
			s -= float64(l[i][k] * y[k])
		}
		y[i] = s / l[i][i]
	}
	x := make([]float64, n)
	for i := n - 1; i >= 0; i-- {
		s := y[i]
		for k := i + 1; k < n; k++ {
			s -= float64(l[k][i] * x[k])
		}
		x[i] = s / l[i][i]
	}
	return x, nil
}

// round9 rounds to nine significant digits (what the model file keeps).
func round9(x float64) float64 {
	if x == 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	y, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 9, 64), 64)
	return y
}
