package score

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// draw fills n once with the given keys and returns the draws and scores
// as float64.
func draw[T float32 | float64](t testing.TB, n Noise, seed, step, stream uint64) (r, psi []float64) {
	t.Helper()
	d, err := NewDrawer[T](n)
	if err != nil {
		t.Fatal(err)
	}
	rt, pt := make([]T, n.Len()), make([]T, n.Len())
	d.Fill(rt, pt, seed, step, stream)
	r, psi = make([]float64, n.Len()), make([]float64, n.Len())
	for i := range rt {
		r[i], psi[i] = float64(rt[i]), float64(pt[i])
	}
	return r, psi
}

func drawAs(t testing.TB, float32s bool, n Noise, seed, step, stream uint64) (r, psi []float64) {
	t.Helper()
	if float32s {
		return draw[float32](t, n, seed, step, stream)
	}
	return draw[float64](t, n, seed, step, stream)
}

// std is the standard deviation of the law at the given scale.
func std(l Law, scale float64) float64 {
	if l == Laplace {
		return math.Sqrt2 * scale
	}
	return scale
}

// TestMoments draws 2²⁰ values for each law, sampler and element type and
// checks the moments that the estimators rely on: the mean 0 and the
// variance (σ², 2b²) of r, its kurtosis (3, 6), E[ψ(r)] = 0 and E[r·ψ(r)]
// = 1 (integration by parts, for any density vanishing at ±∞). Each
// estimate must lie within 5 standard errors of the truth; the standard
// errors follow from the laws' higher moments, n = 2²⁰:
//
//	mean r          σ_r/√n
//	variance        σ_r²·√((κ−1)/n), κ = 3 or 6
//	kurtosis        √(E z⁸ − κ²)/√n: √96 (Gaussian), √2484 (Laplace)
//	mean ψ          σ_ψ/√n, σ_ψ = 1/σ or 1/b
//	mean r·ψ        √2/√n (r·ψ = z²), 1/√n (r·ψ = |x|, exponential)
//
// The QMC sampler draws each value from the law exactly, and its
// stratification only lowers these errors. Every draw and score must be
// finite, and ψ must be the law's score of r.
func TestMoments(t *testing.T) {
	for _, law := range []Law{Gaussian, Laplace} {
		for _, sampler := range []Sampler{IID, QMC} {
			for _, f32 := range []bool{false, true} {
				name := fmt.Sprintf("%v/%v/float32=%t", law, sampler, f32)
				t.Run(name, func(t *testing.T) {
					const scale = 0.8
					n := Noise{Law: law, Scale: scale, Sampler: sampler, Copies: 8, Rows: 256, Units: 512}
					r, psi := drawAs(t, f32, n, 1, 2, 3)
					m := float64(len(r))
					var s1, s2, s4, sp, srp float64
					for i, v := range r {
						if math.IsInf(v, 0) || math.IsNaN(v) || math.IsInf(psi[i], 0) || math.IsNaN(psi[i]) {
							t.Fatalf("value %d: r = %v, ψ = %v", i, v, psi[i])
						}
						want := law.Score(v, scale)
						if tol := map[bool]float64{false: 1e-15, true: 2e-7}[f32]; math.Abs(psi[i]-want) > tol*math.Abs(want) {
							t.Fatalf("value %d: ψ(%v) = %v, want %v", i, v, psi[i], want)
						}
						s1 += v
						s2 += v * v
						s4 += v * v * v * v
						sp += psi[i]
						srp += v * psi[i]
					}
					sd := std(law, scale)
					mean, variance := s1/m, s2/m-(s1/m)*(s1/m)
					kurt := s4 / m / (variance * variance)
					kappa, kurtSE, sdPsi, sdRPsi := 3.0, math.Sqrt(96), 1/scale, math.Sqrt2
					if law == Laplace {
						kappa, kurtSE, sdPsi, sdRPsi = 6, math.Sqrt(2484), 1/scale, 1
					}
					for _, c := range []struct {
						what      string
						got, want float64
						se        float64
					}{
						{"mean", mean, 0, sd / math.Sqrt(m)},
						{"variance", variance, sd * sd, sd * sd * math.Sqrt((kappa-1)/m)},
						{"kurtosis", kurt, kappa, kurtSE / math.Sqrt(m)},
						{"E[ψ]", sp / m, 0, sdPsi / math.Sqrt(m)},
						{"E[rψ]", srp / m, 1, sdRPsi / math.Sqrt(m)},
					} {
						if math.Abs(c.got-c.want) > 5*c.se {
							t.Errorf("%s = %.5g, want %.5g ± %.2g", c.what, c.got, c.want, 5*c.se)
						}
						t.Logf("%s %.5g (want %.5g; %.2f standard errors)", c.what, c.got, c.want, (c.got-c.want)/c.se)
					}
				})
			}
		}
	}
}

// TestExtremeScales: at the smallest and largest scales Check accepts, in
// both element types, every draw and score is finite and the scores keep
// the sign of the draws.
func TestExtremeScales(t *testing.T) {
	for _, law := range []Law{Gaussian, Laplace} {
		for _, sampler := range []Sampler{IID, QMC} {
			for _, scale := range []float64{MinScale, MaxScale} {
				for _, f32 := range []bool{false, true} {
					n := Noise{Law: law, Scale: scale, Sampler: sampler, Copies: 4, Rows: 64, Units: 64}
					r, psi := drawAs(t, f32, n, 5, 6, 7)
					for i, v := range r {
						if math.IsInf(v, 0) || math.IsNaN(v) || math.IsInf(psi[i], 0) || math.IsNaN(psi[i]) || v*psi[i] < 0 || v == 0 {
							t.Fatalf("%v/%v/%g/float32=%t: value %d: r = %v, ψ = %v", law, sampler, scale, f32, i, v, psi[i])
						}
					}
				}
			}
		}
	}
}

// ks returns the Kolmogorov–Smirnov statistic of the sample u against the
// uniform law on (0, 1). It sorts u.
func ks(u []float64) float64 {
	slices.Sort(u)
	n := float64(len(u))
	d := 0.0
	for i, v := range u {
		d = math.Max(d, math.Max(float64(i+1)/n-v, v-float64(i)/n))
	}
	return d
}

// ksCritical is the asymptotic critical value of the KS statistic of n
// values at level 10⁻⁴, √(ln(2/α)/2)/√n ≈ 2.23/√n: the tests below run
// a few dozen KS tests, so that a correct sampler fails one with
// probability below 1 %.
func ksCritical(n int) float64 { return math.Sqrt(math.Log(2/1e-4)/2) / math.Sqrt(float64(n)) }

// TestMarginals: each value the QMC sampler draws has the law's
// distribution. For each copy position of a unit, its value over 4,000
// seeds, mapped through the law's CDF, must pass a KS test against the
// uniform law; so must 2¹⁷ IID values of one pass.
func TestMarginals(t *testing.T) {
	const seeds = 4000
	for _, law := range []Law{Gaussian, Laplace} {
		for _, c := range []struct {
			copies     int
			antithetic bool
		}{{5, false}, {8, true}} {
			n := Noise{Law: law, Scale: 1.5, Sampler: QMC, Antithetic: c.antithetic, Copies: c.copies, Rows: 1, Units: 1}
			d, err := NewDrawer[float64](n)
			if err != nil {
				t.Fatal(err)
			}
			u := make([][]float64, c.copies)
			r, psi := make([]float64, n.Len()), make([]float64, n.Len())
			for seed := range uint64(seeds) {
				d.Fill(r, psi, seed, 0, 0)
				for k, v := range r {
					u[k] = append(u[k], law.CDF(v, n.Scale))
				}
			}
			worst := 0.0
			for k := range u {
				D := ks(u[k])
				worst = math.Max(worst, D)
				if D > ksCritical(seeds) {
					t.Errorf("%v, %d copies, antithetic %t: copy %d: KS statistic %.4f exceeds %.4f", law, c.copies, c.antithetic, k, D, ksCritical(seeds))
				}
			}
			t.Logf("%v QMC, %d copies, antithetic %t: largest KS statistic %.4f (critical %.4f)", law, c.copies, c.antithetic, worst, ksCritical(seeds))
		}
		iid := Noise{Law: law, Scale: 0.3, Copies: 1, Rows: 1 << 10, Units: 1 << 7}
		r, _ := draw[float64](t, iid, 1, 1, 1)
		for i, v := range r {
			r[i] = law.CDF(v, iid.Scale)
		}
		if D := ks(r); D > ksCritical(len(r)) {
			t.Errorf("%v IID: KS statistic %.5f exceeds %.5f", law, D, ksCritical(len(r)))
		} else {
			t.Logf("%v IID: KS statistic %.5f (critical %.5f)", law, D, ksCritical(len(r)))
		}
	}
}

// TestStrata: the K values the QMC sampler draws for one unit lie one in
// each of the K equal-probability strata of the law; with antithetic
// pairs the K/2 independent copies do, and their negations as well.
func TestStrata(t *testing.T) {
	for _, law := range []Law{Gaussian, Laplace} {
		for _, k := range []int{1, 2, 3, 4, 6, 7, 8, 16, 30} {
			for _, antithetic := range []bool{false, true} {
				if antithetic && k%2 != 0 {
					continue
				}
				n := Noise{Law: law, Scale: 0.5, Sampler: QMC, Antithetic: antithetic, Copies: k, Rows: 3, Units: 5}
				r, _ := draw[float64](t, n, uint64(k), 9, 2)
				cells := n.Rows * n.Units
				for c := 0; c < cells; c++ {
					// The copies that must cover the strata, and how many strata.
					var group [][]int
					strata := k
					if antithetic {
						strata = k / 2
						var even, odd []int
						for j := 0; j < k; j += 2 {
							even, odd = append(even, j), append(odd, j+1)
						}
						group = [][]int{even, odd}
					} else {
						group = [][]int{make([]int, k)}
						for j := range k {
							group[0][j] = j
						}
					}
					for _, g := range group {
						seen := make([]bool, strata)
						for _, j := range g {
							s := int(float64(strata) * law.CDF(r[j*cells+c], n.Scale))
							if s < 0 || s >= strata || seen[s] {
								t.Fatalf("%v K=%d antithetic=%t cell %d: copies %v fall in strata %v", law, k, antithetic, c, g, strataOf(r, g, cells, c, strata, law, n.Scale))
							}
							seen[s] = true
						}
					}
				}
			}
		}
	}
}

func strataOf(r []float64, copies []int, cells, c, strata int, law Law, scale float64) []int {
	var s []int
	for _, j := range copies {
		s = append(s, int(float64(strata)*law.CDF(r[j*cells+c], scale)))
	}
	return s
}

// TestQMCVariance: the mean over the K copies of a smooth loss, tanh(1 + r),
// varies much less across units with the QMC sampler than with IID draws.
// The QMC mean is a Riemann sum of the loss over the quantiles with one
// random shift, whose error falls like 1/K, so its variance falls like
// 1/K² against Var/K for IID: the ratio falls like 1/K. Measured over
// 10,000 units (each variance to about 3 %): about 2.5/K for both laws
// without antithetic pairs, less with them; the test requires below 4/K.
func TestQMCVariance(t *testing.T) {
	for _, law := range []Law{Gaussian, Laplace} {
		for _, antithetic := range []bool{false, true} {
			for _, k := range []int{8, 16, 32} {
				v := map[Sampler]float64{}
				for _, s := range []Sampler{IID, QMC} {
					n := Noise{Law: law, Scale: 0.5, Sampler: s, Antithetic: antithetic, Copies: k, Rows: 100, Units: 100}
					r, _ := draw[float64](t, n, 1, 2, 3)
					cells := n.Rows * n.Units
					var s1, s2 float64
					for c := 0; c < cells; c++ {
						m := 0.0
						for j := 0; j < k; j++ {
							m += math.Tanh(1 + r[j*cells+c])
						}
						m /= float64(k)
						s1 += m
						s2 += m * m
					}
					v[s] = s2/float64(cells) - (s1/float64(cells))*(s1/float64(cells))
				}
				ratio := v[QMC] / v[IID]
				t.Logf("%v antithetic=%t K=%d: variance ratio QMC/IID %.4f (K·ratio %.2f)", law, antithetic, k, ratio, ratio*float64(k))
				if ratio > 4/float64(k) {
					t.Errorf("%v antithetic=%t K=%d: variance ratio QMC/IID %.4f, want below %.4f", law, antithetic, k, ratio, 4/float64(k))
				}
			}
		}
	}
}

// TestAntitheticPairs: copy 2j+1 holds exactly the negated draws and
// scores of copy 2j, and different pairs are not paired.
func TestAntitheticPairs(t *testing.T) {
	for _, law := range []Law{Gaussian, Laplace} {
		for _, sampler := range []Sampler{IID, QMC} {
			for _, f32 := range []bool{false, true} {
				n := Noise{Law: law, Scale: 2, Sampler: sampler, Antithetic: true, Copies: 6, Rows: 70, Units: 130}
				r, psi := drawAs(t, f32, n, 3, 4, 5)
				cells := n.Rows * n.Units
				for j := 0; j < n.Copies; j += 2 {
					for c := 0; c < cells; c++ {
						if r[(j+1)*cells+c] != -r[j*cells+c] || psi[(j+1)*cells+c] != -psi[j*cells+c] {
							t.Fatalf("%v/%v: copy %d cell %d is not the negation of copy %d", law, sampler, j+1, c, j)
						}
					}
				}
				for c := 0; c < cells; c++ {
					for _, j := range []int{2, 3, 4, 5} {
						if math.Abs(r[j*cells+c]) == math.Abs(r[c]) {
							t.Fatalf("%v/%v: copy %d cell %d is paired with copy 0 (%v, %v)", law, sampler, j, c, r[j*cells+c], r[c])
						}
					}
				}
			}
		}
	}
}

// TestDeterminism: the values depend on the keys alone. The same keys give
// the same bits after fills with other keys and whatever GOMAXPROCS is (the
// sizes span several blocks of the parallel loops: 10,000 cells, 40,000
// values); changing any one key changes every draw.
func TestDeterminism(t *testing.T) {
	for _, law := range []Law{Gaussian, Laplace} {
		for _, sampler := range []Sampler{IID, QMC} {
			for _, antithetic := range []bool{false, true} {
				for _, f32 := range []bool{false, true} {
					name := fmt.Sprintf("%v/%v/antithetic=%t/float32=%t", law, sampler, antithetic, f32)
					n := Noise{Law: law, Scale: 0.5, Sampler: sampler, Antithetic: antithetic, Copies: 4, Rows: 50, Units: 200}
					at := func(procs int, seed, step, stream uint64) ([]float64, []float64) {
						defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
						return drawAs(t, f32, n, seed, step, stream)
					}
					r1, p1 := at(1, 1, 2, 3)
					r2, p2 := at(2, 1, 2, 3)
					if !slices.Equal(r1, r2) || !slices.Equal(p1, p2) {
						t.Errorf("%s: one and two goroutines draw differently", name)
					}
					for _, keys := range [][3]uint64{{2, 2, 3}, {1, 3, 3}, {1, 2, 4}} {
						r, _ := at(2, keys[0], keys[1], keys[2])
						for i := range r {
							if r[i] == r1[i] {
								t.Fatalf("%s: keys %v draw %v at %d, as keys (1, 2, 3) do", name, keys, r[i], i)
							}
						}
					}
					// One drawer, filled with other keys in between.
					var d any
					if f32 {
						dd, _ := NewDrawer[float32](n)
						d = dd
					} else {
						dd, _ := NewDrawer[float64](n)
						d = dd
					}
					again := refill(d, n)
					if !slices.Equal(again, r1) {
						t.Errorf("%s: a drawer reused after other keys draws differently", name)
					}
				}
			}
		}
	}
}

// refill fills d with keys (9, 9, 9), then (1, 2, 3), and returns the second
// draw.
func refill(d any, n Noise) []float64 {
	out := make([]float64, n.Len())
	switch d := d.(type) {
	case *Drawer[float64]:
		r, p := make([]float64, n.Len()), make([]float64, n.Len())
		d.Fill(r, p, 9, 9, 9)
		d.Fill(r, p, 1, 2, 3)
		copy(out, r)
	case *Drawer[float32]:
		r, p := make([]float32, n.Len()), make([]float32, n.Len())
		d.Fill(r, p, 9, 9, 9)
		d.Fill(r, p, 1, 2, 3)
		for i, v := range r {
			out[i] = float64(v)
		}
	}
	return out
}

func TestCheckErrors(t *testing.T) {
	ok := Noise{Law: Gaussian, Scale: 1, Copies: 2, Rows: 3, Units: 4}
	cases := []struct {
		name   string
		modify func(*Noise)
		want   string
	}{
		{"unknown law", func(n *Noise) { n.Law = Law(2) }, "score: unknown law Law(2)"},
		{"zero scale", func(n *Noise) { n.Scale = 0 }, "score: noise scale must be in [1e-30, 1e+30], got 0"},
		{"tiny scale", func(n *Noise) { n.Scale = 1e-31 }, "score: noise scale must be in [1e-30, 1e+30], got 1e-31"},
		{"huge scale", func(n *Noise) { n.Scale = 2e30 }, "score: noise scale must be in [1e-30, 1e+30], got 2e+30"},
		{"NaN scale", func(n *Noise) { n.Scale = math.NaN() }, "score: noise scale must be in [1e-30, 1e+30], got NaN"},
		{"infinite scale", func(n *Noise) { n.Scale = math.Inf(1) }, "score: noise scale must be in [1e-30, 1e+30], got +Inf"},
		{"unknown sampler", func(n *Noise) { n.Sampler = Sampler(5) }, "score: unknown sampler Sampler(5)"},
		{"no copies", func(n *Noise) { n.Copies = 0 }, "score: 0 copies of 3 rows of 4 units: each must be at least 1"},
		{"no rows", func(n *Noise) { n.Rows = -1 }, "score: 2 copies of -1 rows of 4 units: each must be at least 1"},
		{"no units", func(n *Noise) { n.Units = 0 }, "score: 2 copies of 3 rows of 0 units: each must be at least 1"},
		{"odd antithetic copies", func(n *Noise) { n.Copies, n.Antithetic = 3, true }, "score: antithetic pairs need an even number of copies, got 3"},
		{"overflow", func(n *Noise) { n.Copies, n.Rows, n.Units = 1<<40, 1<<20, 1<<10 }, "score: the draws overflow an int"},
	}
	for _, c := range cases {
		n := ok
		c.modify(&n)
		if err := n.Check(); err == nil || err.Error() != c.want {
			t.Errorf("%s: Check = %v, want %q", c.name, err, c.want)
		}
		if _, err := NewDrawer[float32](n); err == nil || err.Error() != c.want {
			t.Errorf("%s: NewDrawer = %v, want %q", c.name, err, c.want)
		}
	}
	if err := ok.Check(); err != nil {
		t.Errorf("a valid noise: %v", err)
	}
	d, _ := NewDrawer[float64](ok)
	if d.Noise() != ok || ok.Len() != 24 {
		t.Errorf("Noise() = %+v, Len = %d", d.Noise(), ok.Len())
	}
	// Fill with slices of another length is a programming error: it panics.
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "score: Fill: got 24 draws and 23 scores, want 24") {
				t.Errorf("recovered %v", r)
			}
		}()
		d.Fill(make([]float64, 24), make([]float64, 23), 1, 1, 1)
	}()
}

// TestFillAllocs: a fill allocates nothing, for either sampler.
func TestFillAllocs(t *testing.T) {
	for _, law := range []Law{Gaussian, Laplace} {
		for _, sampler := range []Sampler{IID, QMC} {
			for _, antithetic := range []bool{false, true} {
				n := Noise{Law: law, Scale: 1, Sampler: sampler, Antithetic: antithetic, Copies: 4, Rows: 50, Units: 200}
				d, err := NewDrawer[float32](n)
				if err != nil {
					t.Fatal(err)
				}
				r, psi := make([]float32, n.Len()), make([]float32, n.Len())
				step := uint64(0)
				fill := func() { step++; d.Fill(r, psi, 1, step, 0) }
				fill()
				if a := testing.AllocsPerRun(10, fill); a != 0 {
					t.Errorf("%v/%v/antithetic=%t: %v allocations per fill", law, sampler, antithetic, a)
				}
			}
		}
	}
}
