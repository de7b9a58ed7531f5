package attack

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// attackFunc is one attack under test, with its model bound.
type attackFunc func(x []float64, labels []int, eps float64) ([]float64, error)

// budgeted returns the attacks that promise the L∞ budget, against m.
func budgeted(m GradientModel) []struct {
	name string
	run  attackFunc
} {
	zo := &ZerothOrder{Model: m, Samples: 50, Sigma: 0.05, Rng: rand.New(rand.NewPCG(1, 1))}
	return []struct {
		name string
		run  attackFunc
	}{
		{"FGSM", func(x []float64, y []int, eps float64) ([]float64, error) { return FGSM(m, x, y, eps) }},
		{"FGSM/zeroth-order", func(x []float64, y []int, eps float64) ([]float64, error) { return FGSM(zo, x, y, eps) }},
		{"PGD", func(x []float64, y []int, eps float64) ([]float64, error) { return PGD(m, x, y, eps, PGDOptions{}) }},
		{"PGD/random-start", func(x []float64, y []int, eps float64) ([]float64, error) {
			return PGD(m, x, y, eps, PGDOptions{Steps: 5, RandomStart: true, Rng: rand.New(rand.NewPCG(2, 2))})
		}},
		{"PGD/step=1", func(x []float64, y []int, eps float64) ([]float64, error) {
			return PGD(m, x, y, eps, PGDOptions{Steps: 3, StepSize: 1})
		}},
		{"PGD/zeroth-order", func(x []float64, y []int, eps float64) ([]float64, error) {
			return PGD(zo, x, y, eps, PGDOptions{Steps: 3})
		}},
		{"LBFGSBounded", func(x []float64, y []int, eps float64) ([]float64, error) {
			return LBFGSBounded(m, x, y, eps, LBFGSOptions{})
		}},
	}
}

func TestZeroEpsChangesNothing(t *testing.T) {
	for _, model := range []struct {
		name string
		m    GradientModel
	}{
		{"linear", newLinear(6, 3, 3, 1)},
		{"threshold", newThreshold(6, 8, 3, 1)},
	} {
		x, labels := batch(10, 6, 3, 1)
		for _, a := range budgeted(model.m) {
			adv, err := a.run(x, labels, 0)
			if err != nil {
				t.Fatalf("%s/%s: %v", model.name, a.name, err)
			}
			if !slices.Equal(adv, x) {
				t.Errorf("%s/%s at eps = 0 changed the input", model.name, a.name)
			}
			if &adv[0] == &x[0] {
				t.Errorf("%s/%s returned its input slice", model.name, a.name)
			}
		}
	}
}

func TestBudgetAndBox(t *testing.T) {
	m := newLinear(6, 3, 3, 1)
	x, labels := batch(20, 6, 3, 2)
	// 0.1 + 0.3 − 0.1 > 0.3 in floating point: a naive clip overshoots.
	x[1], x[2] = 0.1, 0.7
	for _, a := range budgeted(m) {
		for _, eps := range []float64{1e-3, 0.05, 0.1, 0.3, 0.7, 1} {
			adv, err := a.run(x, labels, eps)
			if err != nil {
				t.Fatalf("%s eps=%v: %v", a.name, eps, err)
			}
			if len(adv) != len(x) {
				t.Fatalf("%s eps=%v: len %d, want %d", a.name, eps, len(adv), len(x))
			}
			for j, v := range adv {
				if !(v >= 0 && v <= 1) || math.Abs(v-x[j]) > eps {
					t.Fatalf("%s eps=%v: adv[%d] = %v from x = %v, outside the box or budget", a.name, eps, j, v, x[j])
				}
			}
		}
	}
	adv, err := LBFGS(m, x, labels, LBFGSOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for j, v := range adv {
		if !(v >= 0 && v <= 1) {
			t.Fatalf("LBFGS: adv[%d] = %v outside [0, 1]", j, v)
		}
	}
}

func TestProjectIsExact(t *testing.T) {
	if x, eps := 0.1, 0.3; x+eps-x <= eps {
		t.Fatal("the rounding case this test relies on is gone")
	}
	rng := rand.New(rand.NewPCG(9, 9))
	for range 100000 {
		x := rng.Float64()
		eps := rng.Float64() * []float64{1e-6, 0.1, 1, 2}[rng.IntN(4)]
		v := x + (rng.Float64()*2-1)*3*eps
		p := project(v, x, eps)
		if !(p >= 0 && p <= 1) || math.Abs(p-x) > eps {
			t.Fatalf("project(%v, %v, %v) = %v", v, x, eps, p)
		}
		if v >= 0 && v <= 1 && math.Abs(v-x) <= eps && p != v {
			t.Fatalf("project(%v, %v, %v) = %v moved a feasible point", v, x, eps, p)
		}
	}
}

func TestAttacksIncreaseLoss(t *testing.T) {
	for _, c := range []struct {
		classes int
		eps     float64
		// strict asks for PGD to beat FGSM on some example. With 3
		// classes this model's gradient signs do not change inside these
		// balls, so PGD walks to FGSM's corner (measured: equal losses);
		// with 5 classes they do.
		strict bool
	}{
		{3, 0.05, false}, {3, 0.1, false}, {3, 0.3, false},
		{5, 0.1, true}, {5, 0.3, true},
	} {
		m := newLinear(6, c.classes, 2, 1)
		x, _ := batch(40, 6, c.classes, 3)
		labels := m.predict(x)
		clean := losses(m, x, labels)
		f, err := FGSM(m, x, labels, c.eps)
		if err != nil {
			t.Fatal(err)
		}
		p, err := PGD(m, x, labels, c.eps, PGDOptions{})
		if err != nil {
			t.Fatal(err)
		}
		lf, lp := losses(m, f, labels), losses(m, p, labels)
		better := 0
		for i := range clean {
			// The loss of a linear model is convex in x, so
			// L(x + δ) >= L(x) + ∇Lᵀδ, and FGSM's δ has ∇Lᵀδ >= 0.
			if lf[i] < clean[i] {
				t.Errorf("classes=%d eps=%v: FGSM lowered example %d's loss, %v < %v", c.classes, c.eps, i, lf[i], clean[i])
			}
			if lp[i] > lf[i] {
				better++
			}
		}
		t.Logf("classes=%d eps=%v: mean loss clean %.4f, FGSM %.4f, PGD %.4f (PGD higher on %d of %d)",
			c.classes, c.eps, mean(clean), mean(lf), mean(lp), better, len(clean))
		if !(mean(lf) > mean(clean)) {
			t.Errorf("classes=%d eps=%v: FGSM mean loss %v <= clean %v", c.classes, c.eps, mean(lf), mean(clean))
		}
		if mean(lp) < mean(lf)-1e-12 {
			t.Errorf("classes=%d eps=%v: PGD mean loss %v < FGSM %v", c.classes, c.eps, mean(lp), mean(lf))
		}
		if c.strict && better == 0 {
			t.Errorf("classes=%d eps=%v: PGD never beat FGSM", c.classes, c.eps)
		}
	}
}

func TestLBFGS(t *testing.T) {
	m := newLinear(6, 3, 2, 1)
	x, _ := batch(12, 6, 3, 4)
	labels := m.predict(x)
	clean := losses(m, x, labels)
	adv, err := LBFGS(m, x, labels, LBFGSOptions{})
	if err != nil {
		t.Fatal(err)
	}
	la := losses(m, adv, labels)
	t.Logf("mean loss clean %.4f, LBFGS %.4f", mean(clean), mean(la))
	if !(mean(la) > mean(clean)) {
		t.Errorf("LBFGS mean loss %v <= clean %v", mean(la), mean(clean))
	}
	for j, v := range adv {
		if !(v >= 0 && v <= 1) {
			t.Fatalf("adv[%d] = %v outside [0, 1]", j, v)
		}
	}
	again, err := LBFGS(m, x, labels, LBFGSOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(adv, again) {
		t.Error("LBFGS is not deterministic")
	}
	// The examples run in lockstep; each must end where it ends alone.
	for i := range labels {
		one, err := LBFGS(m, x[i*6:(i+1)*6], labels[i:i+1], LBFGSOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(one, adv[i*6:(i+1)*6]) {
			t.Errorf("example %d: batch result differs from its own run", i)
		}
	}
	// Zero gradient: torch's optimality test stops before any step.
	th := newThreshold(6, 8, 3, 1)
	same, err := LBFGS(th, x, labels, LBFGSOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(same, x) {
		t.Error("LBFGS moved inputs of a model with zero gradient")
	}
}

// bowl is a test Model whose "loss" is −½ Σ_j a_j (x_j − c_j)², so that
// LBFGS, minimising −loss, should find c.
type bowl struct{ a, c []float64 }

func (b bowl) Dims() (int, int) { return len(b.a), 1 }

func (b bowl) Losses(x []float64, labels []int, dst []float64) error {
	d := len(b.a)
	for i := range labels {
		dst[i] = 0
		for j, v := range x[i*d : (i+1)*d] {
			dst[i] -= b.a[j] * (v - b.c[j]) * (v - b.c[j]) / 2
		}
	}
	return nil
}

func (b bowl) InputGradient(x []float64, labels []int, grad []float64) error {
	for j, v := range x {
		k := j % len(b.a)
		grad[j] = -b.a[k] * (v - b.c[k])
	}
	return nil
}

// TestLBFGSConverges checks the quasi-Newton recursion: on a convex
// quadratic with condition number 10, unit steps along the L-BFGS direction
// reach the minimum, where unit gradient steps would diverge (a_j > 2). The
// run stops once the loss changes by less than torch's 1e−9, about 1e−5
// from the minimum.
func TestLBFGSConverges(t *testing.T) {
	b := bowl{a: []float64{1, 2, 3, 5, 8, 10}, c: []float64{0.2, 0.4, 0.6, 0.8, 0.1, 0.9}}
	x := []float64{1, 0, 0, 0, 1, 0}
	for _, c := range []struct {
		hist int
		tol  float64
	}{{100, 1e-4}, {5, 1e-4}, {1, 1e-3}} {
		v, err := lbfgs(b, x, []int{0}, LBFGSOptions{MaxIterations: 30, History: c.hist, LearningRate: 1})
		if err != nil {
			t.Fatal(err)
		}
		var worst float64
		for j := range v {
			worst = math.Max(worst, math.Abs(v[j]-b.c[j]))
		}
		t.Logf("history %d: max |v − c| = %.3g", c.hist, worst)
		if worst > c.tol {
			t.Errorf("history %d: max |v − c| = %g, want <= %g", c.hist, worst, c.tol)
		}
	}
}
