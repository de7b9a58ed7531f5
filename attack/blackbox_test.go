package attack

import (
	"math"
	"slices"
	"testing"
)

// epsAttack is an attack run at a list of budgets, giving one adversarial
// batch per budget.
type epsAttack struct {
	name string
	run  func(x []float64, labels []int, eps []float64) ([][]float64, error)
}

// atEach runs an attack of one budget at each budget.
func atEach(f func(x []float64, labels []int, eps float64) ([]float64, error)) func([]float64, []int, []float64) ([][]float64, error) {
	return func(x []float64, labels []int, eps []float64) ([][]float64, error) {
		out := make([][]float64, len(eps))
		for k, e := range eps {
			var err error
			if out[k], err = f(x, labels, e); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
}

// predictOnly is a Model and Predictor but not a Scorer.
type predictOnly struct {
	Model
	p Predictor
}

func (m predictOnly) Predict(x []float64, dst []int) error { return m.p.Predict(x, dst) }

// epsAttacks returns every attack that promises an L∞ budget, against the
// linear model m on 64 features, read as 8×8×1 or 4×4×4 images.
func epsAttacks(m *linear) []epsAttack {
	sq := func(mm Model, o SquareOptions) func([]float64, []int, []float64) ([][]float64, error) {
		return atEach(func(x []float64, y []int, eps float64) ([]float64, error) {
			o.Rng = rng(1)
			r, err := Square(mm, x, y, eps, o)
			if err != nil {
				return nil, err
			}
			return r.Adv, nil
		})
	}
	hsj := func(mm Model, o HSJOptions) func([]float64, []int, []float64) ([][]float64, error) {
		return func(x []float64, y []int, eps []float64) ([][]float64, error) {
			o.Rng = rng(2)
			r, err := HopSkipJump(mm, x, y, o)
			if err != nil {
				return nil, err
			}
			return r.AtEps(eps)
		}
	}
	pgd := func(g GradientModel, o PGDOptions) func([]float64, []int, []float64) ([][]float64, error) {
		return atEach(func(x []float64, y []int, eps float64) ([]float64, error) {
			if o.RandomStart || o.Restarts > 1 {
				o.Rng = rng(3)
			}
			return PGD(g, x, y, eps, o)
		})
	}
	geo := SquareOptions{Height: 8, Width: 8, Channels: 1}
	return []epsAttack{
		{"FGSM", atEach(func(x []float64, y []int, eps float64) ([]float64, error) { return FGSM(m, x, y, eps) })},
		{"PGD", pgd(m, PGDOptions{})},
		{"PGD/restarts+best", pgd(m, PGDOptions{Steps: 5, Restarts: 3, KeepBest: true})},
		{"PGD/BPDA", pgd(BPDA{Model: m, Surrogate: m}, PGDOptions{Steps: 5, KeepBest: true})},
		{"PGD/EOT", pgd(EOT{Model: m, Draws: 3}, PGDOptions{Steps: 5})},
		{"Square/margin", sq(m, geo)},
		{"Square/margin/equal", sq(m, SquareOptions{Height: 8, Width: 8, Channels: 1, AcceptEqual: true, Queries: 300})},
		{"Square/CE+predict/4x4x4", sq(predictOnly{lossOnly{m}, m}, SquareOptions{Height: 4, Width: 4, Channels: 4, Queries: 300, PInit: 0.3})},
		{"Square/CE+losses", sq(lossOnly{m}, SquareOptions{Height: 8, Width: 8, Channels: 1, Queries: 100})},
		{"HopSkipJump", hsj(m, HSJOptions{Queries: 1000})},
		{"HopSkipJump/losses", hsj(lossOnly{m}, HSJOptions{Queries: 300, Batch: 3})},
		{"HopSkipJump/batch-starts", hsj(m, HSJOptions{Queries: 300, InitTries: 1, BatchStarts: true})},
	}
}

// centred shifts m's weights so that every class's weights sum to 0: the
// logits z_k = Σ_j (x_j − ½)·w_jk + b'_k of uniform inputs then do not all
// favour the class of the largest weight sum, and noise images fall into
// every class.
func centred(m *linear) *linear {
	for k := range m.c {
		var s float64
		for j := range m.d {
			s += m.w[j*m.c+k]
		}
		for j := range m.d {
			m.w[j*m.c+k] -= s / float64(m.d)
		}
	}
	return m
}

// TestBlackBoxBudgetAndBox checks, for every attack and budget, that each
// value of each image lies in [0, 1] and within the budget of its clean
// value, exactly in floating point, and that budget 0 changes nothing.
func TestBlackBoxBudgetAndBox(t *testing.T) {
	m := centred(newLinear(64, 3, 1, 1))
	x, _ := batch(20, 64, 3, 2)
	// 0.1 + 0.3 − 0.1 > 0.3 in floating point: a naive clip overshoots.
	x[1], x[2] = 0.1, 0.7
	labels := m.predict(x)
	eps := []float64{0, 1e-3, 0.05, 0.1, 0.3, 1}
	for _, a := range epsAttacks(m) {
		advs, err := a.run(x, labels, eps)
		if err != nil {
			t.Fatalf("%s: %v", a.name, err)
		}
		fooled := 0
		for k, adv := range advs {
			if len(adv) != len(x) {
				t.Fatalf("%s eps=%v: len %d, want %d", a.name, eps[k], len(adv), len(x))
			}
			for j, v := range adv {
				if !(v >= 0 && v <= 1) || math.Abs(v-x[j]) > eps[k] {
					t.Fatalf("%s eps=%v: adv[%d] = %v from x = %v, outside the box or budget", a.name, eps[k], j, v, x[j])
				}
			}
			if eps[k] == 0 && !slices.Equal(adv, x) {
				t.Errorf("%s at eps = 0 changed the input", a.name)
			}
			ok, err := Correct(m, adv, labels)
			if err != nil {
				t.Fatal(err)
			}
			fooled += len(ok) - int(Accuracy(ok)*float64(len(ok))+0.5)
		}
		// Budgets up to 1 reach any point of the box: an attack that
		// fools nothing is broken, whatever its strength.
		if fooled == 0 {
			t.Errorf("%s fooled the model on no image at any budget", a.name)
		}
	}
}

// TestBlackBoxNeverQueriesGradient runs Square and HopSkipJump on models
// whose InputGradient panics, and on models that have none: a query of the
// gradient would panic or not compile. The attacks must also work there.
func TestBlackBoxNeverQueriesGradient(t *testing.T) {
	m, x, labels := separable(64, 3, 40, 2)
	th := newThreshold(64, 16, 3, 1)
	thx, _ := batch(40, 64, 3, 5)
	thLabels := make([]int, 40)
	if err := classifier(th)(thx, thLabels); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		m      Model
		x      []float64
		labels []int
		eps    float64
	}{
		{"linear/gradient panics", gradientPanics{m}, x, labels, 0.03},
		{"linear/losses only", lossOnly{m}, x, labels, 0.03},
		{"threshold/logits", struct {
			Model
			Scorer
		}{lossOnly{th}, th}, thx, thLabels, 0.1},
		{"threshold/losses only", lossOnly{th}, thx, thLabels, 0.1},
	} {
		if _, ok := c.m.(GradientModel); ok && c.name != "linear/gradient panics" {
			t.Fatalf("%s: the model has a gradient", c.name)
		}
		sq, err := Square(c.m, c.x, c.labels, c.eps, SquareOptions{Height: 8, Width: 8, Channels: 1, Queries: 200, Rng: rng(1)})
		if err != nil {
			t.Fatalf("%s: Square: %v", c.name, err)
		}
		hsj, err := HopSkipJump(c.m, c.x, c.labels, HSJOptions{Queries: 500, Rng: rng(1)})
		if err != nil {
			t.Fatalf("%s: HopSkipJump: %v", c.name, err)
		}
		at, err := hsj.AtEps([]float64{c.eps})
		if err != nil {
			t.Fatal(err)
		}
		sqOK, _ := Correct(c.m, sq.Adv, c.labels)
		hsjOK, _ := Correct(c.m, at[0], c.labels)
		t.Logf("%s: accuracy at eps %v: Square %.3f, HopSkipJump %.3f", c.name, c.eps, Accuracy(sqOK), Accuracy(hsjOK))
		if Accuracy(sqOK) == 1 || Accuracy(hsjOK) == 1 {
			t.Errorf("%s: an attack fooled the model on no image", c.name)
		}
	}
}
