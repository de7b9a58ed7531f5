package attack

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// noisyLinear is a randomized linear model: its losses and input gradients
// are the exact ones plus independent N(0, σ²) noise on every value, and
// its prediction is replaced by the next class with probability flip,
// drawn afresh from its own stream on every call.
type noisyLinear struct {
	*linear
	sigma, flip float64
	rng         *rand.Rand
}

func (m noisyLinear) Losses(x []float64, labels []int, dst []float64) error {
	if err := m.linear.Losses(x, labels, dst); err != nil {
		return err
	}
	for i := range dst {
		dst[i] += m.sigma * m.rng.NormFloat64()
	}
	return nil
}

func (m noisyLinear) InputGradient(x []float64, labels []int, grad []float64) error {
	if err := m.linear.InputGradient(x, labels, grad); err != nil {
		return err
	}
	for j := range grad {
		grad[j] += m.sigma * m.rng.NormFloat64()
	}
	return nil
}

func (m noisyLinear) Predict(x []float64, dst []int) error {
	if err := m.linear.Predict(x, dst); err != nil {
		return err
	}
	for i := range dst {
		if m.rng.Float64() < m.flip {
			dst[i] = (dst[i] + 1) % m.c
		}
	}
	return nil
}

// TestEOTDeterministic checks that EOT of a deterministic model returns
// the model's values exactly.
func TestEOTDeterministic(t *testing.T) {
	m := newLinear(64, 3, 1, 1)
	x, labels := batch(10, 64, 3, 1)
	e := EOT{Model: m, Draws: 7}
	g, eg := make([]float64, len(x)), make([]float64, len(x))
	if err := m.InputGradient(x, labels, g); err != nil {
		t.Fatal(err)
	}
	if err := e.InputGradient(x, labels, eg); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(g, eg) {
		t.Error("EOT changed a deterministic gradient")
	}
	if !slices.Equal(losses(m, x, labels), losses(e, x, labels)) {
		t.Error("EOT changed deterministic losses")
	}
}

// TestEOTConverges checks that EOT's mean of K draws of a gradient (and
// loss) with N(0, σ²) noise is off the exact value by σ/sqrt(K) in the
// root mean square, for K = 1, 16 and 256. Why the tolerances hold: the
// mean square error over the 6400 gradient coordinates is σ²/K times a
// χ²(6400)/6400 draw, whose relative standard deviation is
// sqrt(2/6400) ≈ 0.018, so the RMS ratio has standard deviation ≈ 0.009
// and [0.95, 1.05] is more than 5 of them; over the 100 losses it is
// sqrt(2/100)/2 ≈ 0.07 and [0.7, 1.3] is more than 4. The seed is fixed.
func TestEOTConverges(t *testing.T) {
	lin := newLinear(64, 3, 1, 1)
	x, labels := batch(100, 64, 3, 2)
	exact := make([]float64, len(x))
	if err := lin.InputGradient(x, labels, exact); err != nil {
		t.Fatal(err)
	}
	exactLoss := losses(lin, x, labels)
	const sigma = 0.5
	rms := func(a, b []float64) float64 {
		var s float64
		for j := range a {
			s += (a[j] - b[j]) * (a[j] - b[j])
		}
		return math.Sqrt(s / float64(len(a)))
	}
	for _, k := range []int{1, 16, 256} {
		e := EOT{Model: noisyLinear{linear: lin, sigma: sigma, rng: rng(uint64(k))}, Draws: k}
		g := make([]float64, len(x))
		if err := e.InputGradient(x, labels, g); err != nil {
			t.Fatal(err)
		}
		want := sigma / math.Sqrt(float64(k))
		gr, lr := rms(g, exact)/want, rms(losses(e, x, labels), exactLoss)/want
		t.Logf("Draws %d: RMS error / (σ/√K): gradient %.4f, loss %.4f", k, gr, lr)
		if gr < 0.95 || gr > 1.05 {
			t.Errorf("Draws %d: gradient RMS error %.4f·σ/√K, want within 5%% of σ/√K", k, gr)
		}
		if lr < 0.7 || lr > 1.3 {
			t.Errorf("Draws %d: loss RMS error %.4f·σ/√K, want within 30%% of σ/√K", k, lr)
		}
	}
}

// TestEOTAccuracy checks the mean accuracy over prediction draws of a
// model whose prediction of its own labels is wrong with probability 0.3:
// the expectation is 0.7. Over 100 examples and 50 draws the estimate has
// standard deviation sqrt(0.21/5000) ≈ 0.0065, and the tolerance 0.03 is
// more than 4 of them (fixed seed).
func TestEOTAccuracy(t *testing.T) {
	lin := newLinear(64, 3, 1, 1)
	x, _ := batch(100, 64, 3, 2)
	labels := lin.predict(x)
	m := noisyLinear{linear: lin, flip: 0.3, rng: rng(1)}
	acc, err := EOTAccuracy(m, x, labels, 50)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("mean accuracy over 50 draws %.4f, expected 0.7", acc)
	if math.Abs(acc-0.7) > 0.03 {
		t.Errorf("mean accuracy %.4f, want 0.7 ± 0.03", acc)
	}
	one, err := EOTAccuracy(lin, x, labels, 3)
	if err != nil {
		t.Fatal(err)
	}
	if one != 1 {
		t.Errorf("a deterministic model's mean accuracy on its own labels is %v, want 1", one)
	}
}
