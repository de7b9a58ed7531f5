package attack

import (
	"math"
	"math/rand/v2"
)

// This file holds the test models of the black-box attacks: the models of
// models_test.go with logits and predictions, and wrappers that hide
// interfaces.

// rng returns a random stream for a test.
func rng(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// Logits makes *linear a Scorer.
func (m *linear) Logits(x, dst []float64) error {
	if err := check(m.d, m.c, x, make([]int, len(dst)/m.c), len(x)); err != nil {
		return err
	}
	for i := range len(dst) / m.c {
		m.logits(x[i*m.d:(i+1)*m.d], dst[i*m.c:(i+1)*m.c])
	}
	return nil
}

// Predict makes *linear a Predictor.
func (m *linear) Predict(x []float64, dst []int) error {
	if err := check(m.d, m.c, x, dst, len(x)); err != nil {
		return err
	}
	copy(dst, m.predict(x))
	return nil
}

// separable returns a nearest-mean linear classifier on d features and c
// classes, n inputs in [0.3, 0.7] and the classes it gives them (so its
// clean accuracy is 1). Class means are uniform in [0.45, 0.55]^d, inputs
// are a mean plus N(0, 0.05²) noise clipped to [0.3, 0.7], and the model is
// z_k = s·(μ_k·x − ½|μ_k|²) with s = 10, whose argmax is the nearest mean.
// No input lies within 0.3 of the box's faces, so balls of radius up to
// 0.3 never meet them, and the minimal L∞ perturbation that changes the
// class of example i is exactly (see minimalEps)
//
//	ε*_i = min_{k≠y_i} (z_y − z_k)/|w_y − w_k|₁,
//
// the margin over the dual norm of the weight difference.
func separable(d, c, n int, seed uint64) (*linear, []float64, []int) {
	rng := rand.New(rand.NewPCG(seed, 4))
	const s = 10
	m := &linear{d: d, c: c, w: make([]float64, d*c), b: make([]float64, c)}
	mu := make([]float64, c*d)
	for k := range c {
		for j := range d {
			v := 0.45 + 0.1*rng.Float64()
			mu[k*d+j] = v
			m.w[j*c+k] = s * v
			m.b[k] -= s * v * v / 2
		}
	}
	x := make([]float64, n*d)
	for i := range n {
		k := rng.IntN(c)
		for j := range d {
			x[i*d+j] = math.Min(0.7, math.Max(0.3, mu[k*d+j]+0.05*rng.NormFloat64()))
		}
	}
	return m, x, m.predict(x)
}

// minimalEps returns ε*_i for each example of a linear model (see
// separable), ignoring the box: the smallest L∞ norm of a δ with
// z_y(x + δ) ≤ z_k(x + δ) for some k ≠ y. For one k the margin
// z_y − z_k falls by at most ε|w_y − w_k|₁ over the ε-ball (Hölder's
// inequality, attained at δ = −ε·sign(w_y − w_k)), so ε*_i is the smallest
// ratio of margin to that norm.
func minimalEps(m *linear, x []float64, labels []int) []float64 {
	out := make([]float64, len(labels))
	z := make([]float64, m.c)
	for i, y := range labels {
		m.logits(x[i*m.d:(i+1)*m.d], z)
		out[i] = math.Inf(1)
		for k := range m.c {
			if k == y {
				continue
			}
			var norm float64
			for j := range m.d {
				norm += math.Abs(m.w[j*m.c+y] - m.w[j*m.c+k])
			}
			out[i] = math.Min(out[i], (z[y]-z[k])/norm)
		}
	}
	return out
}

// floorAccuracy is the accuracy a perfect attack leaves at eps: the
// fraction of examples with ε*_i > eps.
func floorAccuracy(minEps []float64, eps float64) float64 {
	k := 0
	for _, e := range minEps {
		if e > eps {
			k++
		}
	}
	return float64(k) / float64(len(minEps))
}

// logits makes *threshold a Scorer: z = step(xA + a)·V + c.
func (m *threshold) Logits(x, dst []float64) error {
	if err := check(m.d, m.c, x, make([]int, len(dst)/m.c), len(x)); err != nil {
		return err
	}
	for i := range len(dst) / m.c {
		m.forward(x[i*m.d:(i+1)*m.d], dst[i*m.c:(i+1)*m.c])
	}
	return nil
}

// lossOnly hides every method of a model but Dims and Losses: it is not a
// GradientModel, Scorer or Predictor.
type lossOnly struct{ Model }

// gradientPanics is a Scorer and Predictor whose InputGradient panics, to
// show that an attack never asks for the gradient.
type gradientPanics struct{ *linear }

func (gradientPanics) InputGradient([]float64, []int, []float64) error {
	panic("attack: the input gradient was queried")
}

// sigmoidSurrogate is the BPDA surrogate of a threshold network: the same
// weights with each step unit 1[s > 0] replaced, in the backward pass, by
// the sigmoid σ(βs). Its InputGradient is the exact gradient of the
// cross-entropy of that smooth network, whose logits are
// z = σ(β(xA + a))·V + c.
type sigmoidSurrogate struct {
	*threshold
	beta float64
}

func (m sigmoidSurrogate) InputGradient(x []float64, labels []int, grad []float64) error {
	t := m.threshold
	if err := check(t.d, t.c, x, labels, len(grad)); err != nil {
		return err
	}
	hid, ds := make([]float64, t.h), make([]float64, t.h)
	z, p := make([]float64, t.c), make([]float64, t.c)
	for i, y := range labels {
		xi := x[i*t.d : (i+1)*t.d]
		copy(z, t.c0)
		for k := range t.h {
			s := t.a0[k]
			for j, v := range xi {
				s += v * t.a[j*t.h+k]
			}
			hid[k] = 1 / (1 + math.Exp(-m.beta*s))
			for l := range z {
				z[l] += hid[k] * t.v[k*t.c+l]
			}
		}
		softmax(z, p, y)
		p[y]--
		for k := range t.h { // ∂L/∂s_k = Σ_l V_kl (p_l − e_y) · βσ(1 − σ)
			var g float64
			for l, pl := range p {
				g += t.v[k*t.c+l] * pl
			}
			ds[k] = g * m.beta * hid[k] * (1 - hid[k])
		}
		gi := grad[i*t.d : (i+1)*t.d]
		for j := range gi {
			gi[j] = 0
			for k, v := range ds {
				gi[j] += t.a[j*t.h+k] * v
			}
		}
	}
	return nil
}

// Predict makes *threshold a Predictor.
func (m *threshold) Predict(x []float64, dst []int) error {
	if err := check(m.d, m.c, x, dst, len(x)); err != nil {
		return err
	}
	z := make([]float64, m.c)
	for i := range dst {
		m.forward(x[i*m.d:(i+1)*m.d], z)
		dst[i] = argmax(z)
	}
	return nil
}
