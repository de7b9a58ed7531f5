package score

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// centred is the baseline of row m by its definition, summing every other
// row it averages explicitly.
func centred(L, clean []float64, copies int, b Baseline, m int) float64 {
	rows := len(L)
	batch := rows / copies
	switch b {
	case BatchMean:
		var s float64
		for _, l := range L {
			s += l
		}
		return L[m] - s/float64(rows)
	case Clean:
		return L[m] - clean[m%batch]
	case SiteClean:
		return L[m] - clean[m]
	case LeaveOneOut:
		var s float64
		var n int
		for j := range L {
			other := j != m && (copies == 1 || j%batch == m%batch)
			if other {
				s += L[j]
				n++
			}
		}
		return L[m] - s/float64(n)
	}
	return L[m]
}

// TestCenter compares Center with the definitions, for every baseline, one
// and several copies and batches of one and more examples. Center sums
// each total once and subtracts, the definition sums the others directly:
// the two differ by a few roundings of the sums, below 1e-14 here.
func TestCenter(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 5))
	for _, shape := range []struct{ copies, batch int }{{1, 2}, {1, 7}, {2, 1}, {3, 4}, {8, 5}} {
		rows := shape.copies * shape.batch
		L, clean, quiet := make([]float64, rows), make([]float64, shape.batch), make([]float64, rows)
		for i := range L {
			L[i] = 3 * rng.Float64()
			quiet[i] = 3 * rng.Float64()
		}
		for i := range clean {
			clean[i] = 3 * rng.Float64()
		}
		for _, b := range []Baseline{None, BatchMean, LeaveOneOut, Clean, SiteClean} {
			d := make([]float64, rows)
			base := clean
			if b == SiteClean {
				base = quiet
			}
			Center(d, L, base, shape.copies, b)
			for m := range d {
				if want := centred(L, base, shape.copies, b, m); math.Abs(d[m]-want) > 1e-14 {
					t.Errorf("%v, %d copies of %d: row %d is %v, want %v", b, shape.copies, shape.batch, m, d[m], want)
				}
			}
		}
	}
}

// TestCenterPanics: lengths that do not fit are programming errors.
func TestCenterPanics(t *testing.T) {
	cases := []struct {
		name string
		run  func()
		want string
	}{
		{"short output", func() { Center(make([]float64, 3), make([]float64, 4), nil, 1, None) }, "3 centred slots for 4 losses in 1 copies"},
		{"copies that do not divide", func() { Center(make([]float64, 4), make([]float64, 4), nil, 3, None) }, "4 centred slots for 4 losses in 3 copies"},
		{"clean losses missing", func() { Center(make([]float64, 4), make([]float64, 4), make([]float64, 1), 2, Clean) }, "1 clean losses for a batch of 2"},
		{"site-clean losses missing", func() { Center(make([]float64, 4), make([]float64, 4), make([]float64, 2), 2, SiteClean) }, "2 site-clean losses for 4 rows"},
		{"one row to leave out", func() { Center(make([]float64, 1), make([]float64, 1), nil, 1, LeaveOneOut) }, "needs at least 2 rows"},
		{"unknown baseline", func() { Center(make([]float64, 2), make([]float64, 2), nil, 1, Baseline(8)) }, "unknown baseline 8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), c.want) {
					t.Fatalf("recovered %v, want a panic containing %q", r, c.want)
				}
			}()
			c.run()
		})
	}
}

func TestShrink(t *testing.T) {
	for _, c := range []struct {
		b      Baseline
		rows   int
		want   float64
		others bool
	}{
		{None, 4, 1, false}, {BatchMean, 4, 0.75, true}, {BatchMean, 100, 0.99, true},
		{LeaveOneOut, 4, 1, true}, {Clean, 4, 1, false}, {SiteClean, 4, 1, false},
	} {
		if got := c.b.Shrink(c.rows); math.Abs(got-c.want) > 1e-15 || c.b.UsesOtherCopies() != c.others {
			t.Errorf("%v: Shrink(%d) = %v (want %v), UsesOtherCopies %t", c.b, c.rows, got, c.want, c.b.UsesOtherCopies())
		}
	}
}

// TestBaselineBias estimates d/dv E[f(v + r)] for f(x) = x², v = 1 and
// Gaussian r of σ = 1, whose value is E[f'(1 + r)] = 2, by the mean over
// 200,000 passes of Σ_c (L_c − b_c)·ψ(r_c)/K with K = 4 independent copies
// per pass. Without a baseline, with the clean loss f(v) and with the
// leave-one-out mean the estimate is unbiased; with the batch mean it is
// shrunk by Shrink(4) = 3/4. The test is a z-test at 5 standard errors,
// each estimated from the passes themselves: without a baseline the
// per-pass variance is 30/K (the variance of (1 + r)²·r is 30), a standard
// error of 0.006, while the batch mean's shrinkage moves the estimate by
// 0.5.
func TestBaselineBias(t *testing.T) {
	const passes, k, v = 200000, 4, 1.0
	n := Noise{Law: Gaussian, Scale: 1, Copies: k, Rows: passes, Units: 1}
	r, psi := draw[float64](t, n, 11, 0, 0)
	L, d := make([]float64, k), make([]float64, k)
	clean := []float64{v * v}
	for _, b := range []Baseline{None, Clean, LeaveOneOut, BatchMean} {
		var sum, sum2 float64
		for p := 0; p < passes; p++ {
			for c := 0; c < k; c++ {
				x := v + r[c*passes+p]
				L[c] = x * x
			}
			Center(d, L, clean, k, b)
			var g float64
			for c := 0; c < k; c++ {
				g += d[c] * psi[c*passes+p] / k
			}
			sum += g
			sum2 += g * g
		}
		got, want := sum/passes, 2*b.Shrink(k)
		se := math.Sqrt((sum2/passes - got*got) / passes)
		t.Logf("%v: estimate %.4f ± %.4f, want %.4f", b, got, se, want)
		if math.Abs(got-want) > 5*se {
			t.Errorf("%v: estimate %.4f, want %.4f ± %.4f", b, got, want, 5*se)
		}
	}
}
