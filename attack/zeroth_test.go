package attack

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestZerothOrderCosine compares the estimate with the exact gradient of
// the smooth linear model.
//
// Why 0.95 holds: for small σ, L(x + σr) − L(x) ≈ σ gᵀr, so each sample
// is (gᵀr)·r, whose component orthogonal to g has mean 0 and covariance
// |g|²(I − ggᵀ/|g|²). The average of K samples is off g's direction by
// an angle θ with tan²θ ≈ χ²(d−1)/K: expected 5/1000 for d = 6 and
// K = 1000, so cos θ ≈ 0.9975. cos θ < 0.95 needs tan²θ > 0.108, a
// χ²(5) draw above 108, about 20 times its mean, which has probability
// below 1e−20. The smoothing bias is O(σ²) with σ = 0.01, and antithetic
// pairs (K/2 directions) double the expected tan²θ: still far inside.
// The angle does not depend on |g|, so examples with small gradients are
// covered too. The seed is fixed, so the test is also deterministic.
func TestZerothOrderCosine(t *testing.T) {
	m := newLinear(6, 3, 1, 1)
	x, labels := batch(16, 6, 3, 2)
	exact := make([]float64, len(x))
	if err := m.InputGradient(x, labels, exact); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name       string
		baseline   Baseline
		antithetic bool
	}{
		{"clean", BaselineClean, false},
		{"mean", BaselineMean, false},
		{"antithetic", BaselineClean, true},
	} {
		z := &ZerothOrder{Model: m, Samples: 1000, Sigma: 0.01, Baseline: c.baseline,
			Antithetic: c.antithetic, Rng: rand.New(rand.NewPCG(7, 7))}
		g := make([]float64, len(x))
		if err := z.InputGradient(x, labels, g); err != nil {
			t.Fatal(err)
		}
		lo, sum := 1.0, 0.0
		for i := range labels {
			cos := cosine(g[i*6:(i+1)*6], exact[i*6:(i+1)*6])
			lo, sum = math.Min(lo, cos), sum+cos
		}
		t.Logf("%s: cosine with the exact gradient min %.4f, mean %.4f over %d examples", c.name, lo, sum/16, len(labels))
		if lo < 0.95 {
			t.Errorf("%s: min cosine %.4f < 0.95", c.name, lo)
		}
	}
}

// zoVariance returns the trace of the covariance of z's estimate at the
// batch, averaged over examples, from reps independent estimates.
func zoVariance(t *testing.T, z *ZerothOrder, x []float64, labels []int, reps int) float64 {
	t.Helper()
	sum, sq, g := make([]float64, len(x)), make([]float64, len(x)), make([]float64, len(x))
	for range reps {
		if err := z.InputGradient(x, labels, g); err != nil {
			t.Fatal(err)
		}
		for j, v := range g {
			sum[j] += v
			sq[j] += v * v
		}
	}
	var tr float64
	r := float64(reps)
	for j := range sum {
		tr += (sq[j] - sum[j]*sum[j]/r) / (r - 1)
	}
	return tr / float64(len(labels))
}

// TestZerothOrderAntitheticVariance measures what antithetic pairs buy.
//
// Per direction drawn they lower the variance: K/2 pairs ±r (K losses)
// against K/2 independent r with the clean baseline (K/2 + 1 losses), on
// the threshold model, whose loss is far from linear at this σ. Per loss
// evaluation they do not: on the linear model with a clean baseline the
// forward difference L(x+σr) − L(x) already cancels everything but
// O(σ) curvature, so K independent directions beat K/2 pairs by about 2.
func TestZerothOrderAntitheticVariance(t *testing.T) {
	const reps, k = 300, 20
	th := newThreshold(6, 8, 3, 1)
	lin := newLinear(6, 3, 1, 1)
	x, labels := batch(8, 6, 3, 2)
	variance := func(m Model, samples int, anti bool) float64 {
		z := &ZerothOrder{Model: m, Samples: samples, Sigma: 0.1, Antithetic: anti, Rng: rand.New(rand.NewPCG(5, 5))}
		return zoVariance(t, z, x, labels, reps)
	}

	perDirection := variance(th, 2*k, true) / variance(th, k, false)
	t.Logf("threshold model, %d directions: variance ratio antithetic/plain = %.3f", k, perDirection)
	if perDirection > 0.75 {
		t.Errorf("threshold model: antithetic pairs raised the variance per direction: ratio %.3f > 0.75", perDirection)
	}
	perEvalTh := variance(th, k, true) / variance(th, k, false)
	perEvalLin := variance(lin, k, true) / variance(lin, k, false)
	perDirLin := variance(lin, 2*k, true) / variance(lin, k, false)
	t.Logf("%d losses per example: variance ratio antithetic/plain = %.3f (threshold), %.3f (linear); linear per direction %.3f",
		k, perEvalTh, perEvalLin, perDirLin)
	if perEvalLin < 1.5 {
		t.Errorf("linear model: antithetic/plain variance ratio at equal losses %.3f < 1.5; update the ZerothOrder doc", perEvalLin)
	}
}

func TestZerothOrderBatching(t *testing.T) {
	m := newLinear(6, 3, 1, 1)
	x, labels := batch(5, 6, 3, 2)
	for _, c := range []struct {
		name       string
		baseline   Baseline
		antithetic bool
		extra      int // clean rows
	}{
		{"clean", BaselineClean, false, 5},
		{"mean", BaselineMean, false, 0},
		{"antithetic", BaselineMean, true, 0},
	} {
		var want []float64
		for _, maxRows := range []int{0, 1, 2, 7, 16, 4096} {
			cm := &counting{Model: m}
			z := &ZerothOrder{Model: cm, Samples: 8, Sigma: 0.05, Baseline: c.baseline,
				Antithetic: c.antithetic, MaxRows: maxRows, Rng: rand.New(rand.NewPCG(3, 3))}
			g := make([]float64, len(x))
			if err := z.InputGradient(x, labels, g); err != nil {
				t.Fatal(err)
			}
			rows := 5*8 + c.extra
			per := maxRows
			switch {
			case per == 0:
				per = DefaultMaxRows
			case c.antithetic && per%2 == 1:
				per = max(2, per-1) // a call holds whole pairs
			}
			if cm.rows != rows || cm.calls != (rows+per-1)/per {
				t.Errorf("%s MaxRows=%d: %d calls for %d rows, want %d for %d", c.name, maxRows, cm.calls, cm.rows, (rows+per-1)/per, rows)
			}
			if want == nil {
				want = g
			} else if !slices.Equal(g, want) {
				t.Errorf("%s MaxRows=%d: estimate depends on MaxRows", c.name, maxRows)
			}
		}
	}
}

// unboxed records whether a Model was asked about points outside [0, 1].
type unboxed struct {
	Model
	outside bool
}

func (m *unboxed) Losses(x []float64, labels []int, dst []float64) error {
	for _, v := range x {
		if v < 0 || v > 1 {
			m.outside = true
		}
	}
	return m.Model.Losses(x, labels, dst)
}

func TestZerothOrderDoesNotClip(t *testing.T) {
	m := &unboxed{Model: newLinear(6, 3, 1, 1)}
	x, labels := batch(2, 6, 3, 2) // holds exact 0s and 1s
	z := &ZerothOrder{Model: m, Samples: 4, Sigma: 0.1, Rng: rand.New(rand.NewPCG(1, 1))}
	if err := z.InputGradient(x, labels, make([]float64, len(x))); err != nil {
		t.Fatal(err)
	}
	if !m.outside {
		t.Error("perturbed points were clipped to [0, 1]")
	}
}

// TestZerothOrderThreshold: on a step-activation network backpropagation's
// gradient is zero, so FGSM with it changes nothing, while the
// zeroth-order gradient of the smoothed loss finds perturbations that
// raise the loss.
func TestZerothOrderThreshold(t *testing.T) {
	m := newThreshold(6, 8, 3, 1)
	x, labels := batch(32, 6, 3, 5)
	clean := losses(m, x, labels)
	const eps = 0.2
	exact, err := FGSM(m, x, labels, eps)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(exact, x) {
		t.Error("FGSM with a zero gradient changed the input")
	}
	z := &ZerothOrder{Model: m, Samples: 200, Sigma: 0.2, Rng: rand.New(rand.NewPCG(3, 4))}
	for _, c := range []struct {
		name string
		run  func() ([]float64, error)
	}{
		{"FGSM", func() ([]float64, error) { return FGSM(z, x, labels, eps) }},
		{"PGD", func() ([]float64, error) { return PGD(z, x, labels, eps, PGDOptions{}) }},
	} {
		adv, err := c.run()
		if err != nil {
			t.Fatal(err)
		}
		la := losses(m, adv, labels)
		up, down := 0, 0
		for i := range la {
			switch {
			case la[i] > clean[i]:
				up++
			case la[i] < clean[i]:
				down++
			}
		}
		t.Logf("zeroth-order %s eps=%v: mean loss %.3f -> %.3f, raised on %d, lowered on %d of %d",
			c.name, eps, mean(clean), mean(la), up, down, len(la))
		if !(mean(la) > mean(clean)) || up <= down {
			t.Errorf("zeroth-order %s did not raise the loss: mean %.3f -> %.3f, up %d, down %d", c.name, mean(clean), mean(la), up, down)
		}
	}
}

func TestZerothOrderDeterministic(t *testing.T) {
	m := newLinear(6, 3, 1, 1)
	x, labels := batch(3, 6, 3, 2)
	run := func() []float64 {
		z := &ZerothOrder{Model: m, Samples: 10, Sigma: 0.1, Antithetic: true, Rng: rand.New(rand.NewPCG(11, 12))}
		adv, err := PGD(z, x, labels, 0.1, PGDOptions{Steps: 3})
		if err != nil {
			t.Fatal(err)
		}
		return adv
	}
	if !slices.Equal(run(), run()) {
		t.Error("same seed, different results")
	}
}
