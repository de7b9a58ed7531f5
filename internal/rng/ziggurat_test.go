package rng

import (
	"math"
	"testing"
)

// The ziggurat tests draw n = 10⁷ values from a Source, enough to reach the
// slow paths thousands of times: about 1.2 % of normal draws and 1.0 % of
// exponential ones fall outside their layer's inner rectangle.
const zigN = 10000000

// chiSquare bins n draws into k cells of equal probability under cdf and
// returns Pearson's χ² statistic and its critical value at level 0.001 for
// k−1 degrees of freedom (the Wilson–Hilferty approximation, accurate to a
// fraction of a percent at this size), so a correct sampler exceeds it with
// probability 0.001. A misplaced layer edge or a wedge test that accepts
// too much puts excess mass into a band of cells, which χ² on fine cells
// sees long before the Kolmogorov–Smirnov statistic does.
func chiSquare(draw func() float64, cdf func(float64) float64, n, k int) (stat, critical float64) {
	counts := make([]int, k)
	for range n {
		c := int(cdf(draw()) * float64(k))
		counts[min(max(c, 0), k-1)]++
	}
	e := float64(n) / float64(k)
	for _, o := range counts {
		d := float64(o) - e
		stat += d * d / e
	}
	df := float64(k - 1)
	const z999 = 3.0902 // the standard normal's 0.999 quantile
	h := 2 / (9 * df)
	return stat, df * math.Pow(1-h+z999*math.Sqrt(h), 3)
}

func TestZigguratChiSquare(t *testing.T) {
	const k = 1000
	tests := []struct {
		name string
		draw func(*Source) float64
		cdf  func(float64) float64
	}{
		{"Normal", (*Source).Normal, func(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }},
		{"Exp", (*Source).Exp, func(x float64) float64 { return -math.Expm1(-x) }},
		{"Laplace", (*Source).Laplace, func(x float64) float64 {
			if x < 0 {
				return 0.5 * math.Exp(x)
			}
			return 1 - 0.5*math.Exp(-x)
		}},
	}
	for i, tt := range tests {
		src := Stream(77, 0, uint64(i), 0)
		stat, critical := chiSquare(func() float64 { return tt.draw(&src) }, tt.cdf, zigN, k)
		if stat > critical {
			t.Errorf("%s: χ² = %.1f over %d cells of equal probability, want < %.1f (the 0.1 %% point)", tt.name, stat, k, critical)
		}
	}
}

// TestZigguratTails checks the samplers beyond the base layer's edge, where
// the slow paths draw. Given z > r, the normal's excess z − r has mean
// φ(r)/(1 − Φ(r)) − r; the exponential's excess is again Exp(1), mean 1,
// variance 1. The standard error of a mean of m excesses is their standard
// deviation over √m, estimated from the sample.
func TestZigguratTails(t *testing.T) {
	tests := []struct {
		name   string
		draw   func(*Source) float64
		edge   float64
		excess float64 // the mean of |x| − edge given |x| > edge
	}{
		{"Normal", (*Source).Normal, normR,
			math.Exp(-normR*normR/2)/math.Sqrt(2*math.Pi)/(0.5*math.Erfc(normR/math.Sqrt2)) - normR},
		{"Exp", (*Source).Exp, expR, 1},
	}
	for i, tt := range tests {
		src := Stream(78, 0, uint64(i), 0)
		var m int
		var s1, s2 float64
		for range zigN {
			if d := math.Abs(tt.draw(&src)) - tt.edge; d > 0 {
				m++
				s1, s2 = s1+d, s2+d*d
			}
		}
		mean := s1 / float64(m)
		se := math.Sqrt((s2/float64(m) - mean*mean) / float64(m))
		if m < 1000 || math.Abs(mean-tt.excess) > 5*se {
			t.Errorf("%s: %d draws beyond %.3f with mean excess %.4f, want %.4f ± %.4f (5 standard errors)",
				tt.name, m, tt.edge, mean, tt.excess, 5*se)
		}
	}
}

// TestZigguratTables checks the published constants against each other. The
// tables are built from the base layer up, each layer given the area v, so
// only the two ends can be wrong: the base layer (the rectangle of width r
// plus the tail beyond r) must have area v, and so must the top layer, the
// rectangle of width x₁ from f(x₁) to f(0) = 1, which the recursion reaches
// only if r and v agree. With the paper's constants both hold to 10⁻⁹; an
// error of 10⁻³ in v alone puts 16 % into the top layer.
func TestZigguratTables(t *testing.T) {
	tests := []struct {
		name                  string
		base, top, v, topEdge float64
	}{
		{"normal",
			normR*math.Exp(-normR*normR/2) + math.Sqrt(math.Pi/2)*math.Erfc(normR/math.Sqrt2),
			normW[1] * normM * (1 - normF[1]), normV, normW[1] * normM},
		{"exponential",
			expR*math.Exp(-expR) + math.Exp(-expR),
			expW[1] * expM * (1 - expF[1]), expV, expW[1] * expM},
	}
	for _, tt := range tests {
		if d := math.Abs(tt.base/tt.v - 1); d > 1e-9 {
			t.Errorf("%s: base layer area %.12g, want v = %.12g (relative error %.2g)", tt.name, tt.base, tt.v, d)
		}
		if d := math.Abs(tt.top/tt.v - 1); d > 1e-8 {
			t.Errorf("%s: top layer (edge %.6g) area %.12g, want v = %.12g (relative error %.2g)", tt.name, tt.topEdge, tt.top, tt.v, d)
		}
	}
}
