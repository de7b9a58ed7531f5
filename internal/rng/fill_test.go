package rng

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// fillFunc is the signature of FillGaussian and FillLaplace.
type fillFunc[T Float] func(r, psi []T, scale float64, seed, step, site uint64) error

func TestFillIndependentOfProcs(t *testing.T) {
	testFillIndependentOfProcs(t, FillGaussian[float32], FillLaplace[float32])
	testFillIndependentOfProcs(t, FillGaussian[float64], FillLaplace[float64])
}

func testFillIndependentOfProcs[T Float](t *testing.T, fills ...fillFunc[T]) {
	const n = 1000000
	for li, fill := range fills {
		var want, wantPsi []T
		for _, procs := range []int{1, 2, 4} {
			r, psi := make([]T, n), make([]T, n)
			old := runtime.GOMAXPROCS(procs)
			err := fill(r, psi, 0.7, 42, 9, 2)
			runtime.GOMAXPROCS(old)
			if err != nil {
				t.Fatal(err)
			}
			if want == nil {
				want, wantPsi = r, psi
				continue
			}
			for i := range r {
				if math.Float64bits(float64(r[i])) != math.Float64bits(float64(want[i])) || psi[i] != wantPsi[i] {
					t.Fatalf("%T law %d, GOMAXPROCS %d: value %d is (%v, %v), with GOMAXPROCS 1 (%v, %v)",
						T(0), li, procs, i, r[i], psi[i], want[i], wantPsi[i])
				}
			}
		}
	}
}

// TestContract checks the reproducibility contract of the package doc: value
// i is σ times draw i mod BlockSize of block i/BlockSize's stream, in
// float64 and, rounded, in float32.
func TestContract(t *testing.T) {
	const n = 2*BlockSize + 100
	const seed, step, site = 3, 5, 8
	tests := []struct {
		name  string
		scale float64
		f32   fillFunc[float32]
		f64   fillFunc[float64]
		draw  func(*Source) float64
		psiOf func(x, scale float64) float64
	}{
		{"Gaussian", 0.3, FillGaussian[float32], FillGaussian[float64], (*Source).Normal,
			func(z, sigma float64) float64 { return z * (1 / sigma) }},
		{"Laplace", 1.7, FillLaplace[float32], FillLaplace[float64], (*Source).Laplace,
			func(x, b float64) float64 { return math.Copysign(1/b, x) }},
	}
	for _, tt := range tests {
		r64, psi64 := make([]float64, n), make([]float64, n)
		r32, psi32 := make([]float32, n), make([]float32, n)
		if err := tt.f64(r64, psi64, tt.scale, seed, step, site); err != nil {
			t.Fatal(err)
		}
		if err := tt.f32(r32, psi32, tt.scale, seed, step, site); err != nil {
			t.Fatal(err)
		}
		var src Source
		for i := range n {
			if i%BlockSize == 0 {
				src = Stream(seed, step, site, uint64(i/BlockSize))
			}
			x := tt.draw(&src)
			r, psi := tt.scale*x, tt.psiOf(x, tt.scale)
			if r64[i] != r || psi64[i] != psi {
				t.Fatalf("%s float64 value %d: (%v, %v), want (%v, %v) from the block's stream", tt.name, i, r64[i], psi64[i], r, psi)
			}
			if r32[i] != float32(r) || psi32[i] != float32(psi) {
				t.Fatalf("%s float32 value %d: (%v, %v), want (%v, %v) rounded", tt.name, i, r32[i], psi32[i], r, psi)
			}
		}
	}
}

// TestBlockRegeneration refills parts of a slice on their own, starting at
// a block, and expects the slice's values.
func TestBlockRegeneration(t *testing.T) {
	const n = 3*BlockSize + BlockSize/2
	tests := []struct {
		name string
		all  func(r, psi []float64) error
		at   func(r, psi []float64, block uint64) error
	}{
		{"Gaussian",
			func(r, psi []float64) error { return FillGaussian(r, psi, 2, 1, 2, 3) },
			func(r, psi []float64, block uint64) error { return FillGaussianAt(r, psi, 2, 1, 2, 3, block) }},
		{"Laplace",
			func(r, psi []float64) error { return FillLaplace(r, psi, 2, 1, 2, 3) },
			func(r, psi []float64, block uint64) error { return FillLaplaceAt(r, psi, 2, 1, 2, 3, block) }},
	}
	for _, tt := range tests {
		r, psi := make([]float64, n), make([]float64, n)
		if err := tt.all(r, psi); err != nil {
			t.Fatal(err)
		}
		parts := []struct{ block, lo, hi int }{
			{2, 2 * BlockSize, 3 * BlockSize}, // one whole block
			{3, 3 * BlockSize, n},             // the last, partial block
			{1, BlockSize, n},                 // several blocks
			{0, 0, 10},                        // the start of a block
		}
		for _, p := range parts {
			pr, ppsi := make([]float64, p.hi-p.lo), make([]float64, p.hi-p.lo)
			if err := tt.at(pr, ppsi, uint64(p.block)); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(pr, r[p.lo:p.hi]) || !slices.Equal(ppsi, psi[p.lo:p.hi]) {
				t.Errorf("%s: refilling [%d, %d) from block %d alone gives other values", tt.name, p.lo, p.hi, p.block)
			}
		}
		// Without psi, r must be the same.
		r2 := make([]float64, n)
		if err := tt.at(r2, nil, 0); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(r2, r) {
			t.Errorf("%s: r differs when psi is nil", tt.name)
		}
	}
}

// moments holds sample statistics of a fill.
type moments struct {
	mean, variance, kurtosis float64 // kurtosis is m4/m2² − 3 about 0
	meanPsi, meanPsiR        float64
}

func sampleMoments[T Float](r, psi []T) moments {
	var s1, s2, s4, sp, spr float64
	for i, v := range r {
		x := float64(v)
		x2 := x * x
		s1, s2, s4 = s1+x, s2+x2, s4+x2*x2
		sp += float64(psi[i])
		spr += float64(psi[i]) * x
	}
	n := float64(len(r))
	return moments{
		mean: s1 / n, variance: s2 / n, kurtosis: (s4/n)/(s2/n*s2/n) - 3,
		meanPsi: sp / n, meanPsiR: spr / n,
	}
}

// ks returns the Kolmogorov–Smirnov statistic of the sample x against the
// distribution function cdf; x is sorted in place.
func ks(x []float64, cdf func(float64) float64) float64 {
	slices.Sort(x)
	n := float64(len(x))
	var d float64
	for i, v := range x {
		f := cdf(v)
		d = max(d, f-float64(i)/n, float64(i+1)/n-f)
	}
	return d
}

// tailFraction returns the fraction of x with |x| > t.
func tailFraction(x []float64, t float64) float64 {
	var c int
	for _, v := range x {
		if math.Abs(v) > t {
			c++
		}
	}
	return float64(c) / float64(len(x))
}

// The statistical tests draw n = 10⁶ values at a fixed seed. Each moment is
// checked to within 5 standard errors, derived in the comments from the
// law's moments (a correct sampler fails one with probability 6·10⁻⁷), and
// the Kolmogorov–Smirnov statistic against 1.95/√n, the 0.1 % point of the
// Kolmogorov distribution.
const statN = 1000000

func within(t *testing.T, name string, got, want, se float64) {
	t.Helper()
	if math.Abs(got-want) > 5*se {
		t.Errorf("%s = %.5g, want %.5g ± %.3g (5 standard errors)", name, got, want, 5*se)
	}
}

func TestGaussianStatistics(t *testing.T) {
	testGaussianStatistics[float32](t)
	testGaussianStatistics[float64](t)
}

func testGaussianStatistics[T Float](t *testing.T) {
	const sigma = 0.5
	r, psi := make([]T, statN), make([]T, statN)
	if err := FillGaussian(r, psi, sigma, 2024, 1, 0); err != nil {
		t.Fatal(err)
	}
	t.Run(fmt.Sprintf("%T", T(0)), func(t *testing.T) {
		m := sampleMoments(r, psi)
		n := math.Sqrt(statN)
		// r = σz: Var(r) = σ², Var(r²) = 2σ⁴; the sample excess kurtosis has
		// variance 24/n; ψ = z/σ has variance 1/σ², ψr = z² variance 2.
		within(t, "mean", m.mean, 0, sigma/n)
		within(t, "variance", m.variance, sigma*sigma, sigma*sigma*math.Sqrt2/n)
		within(t, "excess kurtosis", m.kurtosis, 0, math.Sqrt(24)/n)
		within(t, "E[ψ]", m.meanPsi, 0, 1/sigma/n)
		within(t, "E[ψ·r]", m.meanPsiR, 1, math.Sqrt2/n)
		z := make([]float64, statN)
		for i, v := range r {
			z[i] = float64(v) / sigma
		}
		// Tails, through the ziggurat's tail (beyond 3.44) and past it: a
		// fraction p has standard error √(p(1−p)/n).
		for _, c := range []float64{2, normR, 3.5, 4} {
			p := math.Erfc(c / math.Sqrt2)
			within(t, fmt.Sprintf("P(|z| > %.3g)", c), tailFraction(z, c), p, math.Sqrt(p*(1-p))/n)
		}
		if d := ks(z, func(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }); d > 1.95/n {
			t.Errorf("Kolmogorov–Smirnov statistic %.5f against N(0, 1), want < %.5f", d, 1.95/n)
		}
	})
}

func TestLaplaceStatistics(t *testing.T) {
	testLaplaceStatistics[float32](t)
	testLaplaceStatistics[float64](t)
}

func testLaplaceStatistics[T Float](t *testing.T) {
	const b = 2.0
	r, psi := make([]T, statN), make([]T, statN)
	if err := FillLaplace(r, psi, b, 2024, 1, 0); err != nil {
		t.Fatal(err)
	}
	t.Run(fmt.Sprintf("%T", T(0)), func(t *testing.T) {
		m := sampleMoments(r, psi)
		n := math.Sqrt(statN)
		// For x = r/b: E x² = 2, E x⁴ = 24, E x⁶ = 720, E x⁸ = 40320, so
		// Var(r) = 2b², Var(r²) = 20b⁴, and by the delta method the sample
		// kurtosis m4/m2² has variance
		//   (1/16)·39744 + 36·20 − 2·(1/4)·6·672 = 1188 over n.
		// ψ = ±1/b has variance 1/b²; ψr = |x| has mean 1 and variance 1.
		within(t, "mean", m.mean, 0, b*math.Sqrt2/n)
		within(t, "variance", m.variance, 2*b*b, b*b*math.Sqrt(20)/n)
		within(t, "excess kurtosis", m.kurtosis, 3, math.Sqrt(1188)/n)
		within(t, "E[ψ]", m.meanPsi, 0, 1/b/n)
		within(t, "E[ψ·r]", m.meanPsiR, 1, 1/n)
		for i := range r {
			if want := math.Copysign(1/b, float64(r[i])); float64(psi[i]) != float64(T(want)) {
				t.Fatalf("ψ(%v) = %v, want sign(r)/b = %v", r[i], psi[i], T(want))
			}
		}
		x := make([]float64, statN)
		for i, v := range r {
			x[i] = float64(v) / b
		}
		// P(|x| > c) = exp(−c); c = 7.70 is where the ziggurat's tail starts.
		for _, c := range []float64{1, 4, expR, 9} {
			p := math.Exp(-c)
			within(t, fmt.Sprintf("P(|x| > %.3g)", c), tailFraction(x, c), p, math.Sqrt(p*(1-p))/n)
		}
		cdf := func(v float64) float64 {
			if v < 0 {
				return 0.5 * math.Exp(v)
			}
			return 1 - 0.5*math.Exp(-v)
		}
		if d := ks(x, cdf); d > 1.95/n {
			t.Errorf("Kolmogorov–Smirnov statistic %.5f against Laplace(0, 1), want < %.5f", d, 1.95/n)
		}
	})
}

// TestExpStatistics checks Source.Exp, the magnitude behind Laplace noise:
// Exp(1) has mean 1 and variance 1.
func TestExpStatistics(t *testing.T) {
	src := Stream(9, 9, 9, 9)
	x := make([]float64, statN)
	var s1, s2 float64
	for i := range x {
		x[i] = src.Exp()
		s1, s2 = s1+x[i], s2+x[i]*x[i]
	}
	n := math.Sqrt(statN)
	mean := s1 / statN
	// Var(x) = 1 and Var(x²) = E x⁴ − (E x²)² = 24 − 4 = 20.
	within(t, "mean", mean, 1, 1/n)
	within(t, "E[x²]", s2/statN, 2, math.Sqrt(20)/n)
	if d := ks(x, func(v float64) float64 { return -math.Expm1(-v) }); d > 1.95/n {
		t.Errorf("Kolmogorov–Smirnov statistic %.5f against Exp(1), want < %.5f", d, 1.95/n)
	}
}

// TestFinite fills at the extreme scales allowed for float32 and checks
// that every value and score is finite. The scale range [64/M, M/64] holds
// because no draw exceeds 64 in magnitude.
func TestFinite(t *testing.T) {
	if maxNorm >= 64 || maxExp >= 64 {
		t.Fatalf("draw bounds %v (normal) and %v (exponential) must stay below 64", maxNorm, maxExp)
	}
	r, psi := make([]float32, 200000), make([]float32, 200000)
	for _, scale := range []float64{64 / math.MaxFloat32, math.MaxFloat32 / 64} {
		for name, fill := range map[string]fillFunc[float32]{"Gaussian": FillGaussian[float32], "Laplace": FillLaplace[float32]} {
			if err := fill(r, psi, scale, 1, 2, 3); err != nil {
				t.Fatal(err)
			}
			for i := range r {
				if math.IsInf(float64(r[i]), 0) || math.IsNaN(float64(r[i])) || math.IsInf(float64(psi[i]), 0) || math.IsNaN(float64(psi[i])) {
					t.Fatalf("%s at scale %g: value %d is (%v, %v)", name, scale, i, r[i], psi[i])
				}
			}
		}
	}
}

func TestFillErrors(t *testing.T) {
	r, psi := make([]float32, 10), make([]float32, 10)
	tests := []struct {
		name  string
		r     []float32
		psi   []float32
		scale float64
		want  string
	}{
		{"short psi", r, psi[:9], 1, "len(psi) = 9"},
		{"psi without r", nil, psi, 1, "len(psi) = 10"},
		{"zero scale", r, psi, 0, "scale 0"},
		{"negative scale", r, psi, -1, "scale -1"},
		{"NaN scale", r, psi, math.NaN(), "scale NaN"},
		{"infinite scale", r, psi, math.Inf(1), "scale +Inf"},
		{"too large for float32", r, psi, 1e37, "scale 1e+37"},
		{"too small for float32", r, psi, 1e-37, "scale 1e-37"},
	}
	for _, tt := range tests {
		for name, fill := range map[string]fillFunc[float32]{"FillGaussian": FillGaussian[float32], "FillLaplace": FillLaplace[float32]} {
			clear(r)
			err := fill(tt.r, tt.psi, tt.scale, 1, 2, 3)
			if err == nil || !strings.HasPrefix(err.Error(), "rng: "+name+": ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s %s: error %v, want one starting \"rng: %s: \" and containing %q", name, tt.name, err, name, tt.want)
			}
			if slices.ContainsFunc(r, func(v float32) bool { return v != 0 }) {
				t.Errorf("%s %s: r written despite the error", name, tt.name)
			}
		}
	}
	// The same scale is fine in float64, and an empty fill is fine.
	if err := FillGaussian(make([]float64, 3), nil, 1e37, 1, 2, 3); err != nil {
		t.Errorf("FillGaussian float64 at scale 1e37: %v", err)
	}
	if err := FillLaplace[float32](nil, nil, 1, 1, 2, 3); err != nil {
		t.Errorf("FillLaplace of nothing: %v", err)
	}
}

func TestFillAllocs(t *testing.T) {
	r, psi := make([]float32, 10*BlockSize+3), make([]float32, 10*BlockSize+3)
	r64 := make([]float64, 5*BlockSize)
	fills := map[string]func(){
		"Gaussian":        func() { FillGaussian(r, psi, 1, 1, 2, 3) },
		"Laplace":         func() { FillLaplace(r, psi, 1, 1, 2, 3) },
		"Gaussian no psi": func() { FillGaussian(r64, nil, 1, 1, 2, 3) },
		"Laplace at":      func() { FillLaplaceAt(r64, nil, 1, 1, 2, 3, 7) },
	}
	for _, procs := range []int{1, 2, 4} {
		old := runtime.GOMAXPROCS(procs)
		for name, f := range fills {
			f() // warm up
			if a := testing.AllocsPerRun(20, f); a != 0 {
				t.Errorf("%s with GOMAXPROCS %d: %v allocations per call, want 0", name, procs, a)
			}
		}
		runtime.GOMAXPROCS(old)
	}
}
