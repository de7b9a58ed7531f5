package attack

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// linear is a softmax classifier with logits z = xW + b, exact
// cross-entropy losses and exact input gradients W(p − e_y).
type linear struct {
	d, c int
	w    []float64 // d×c, row-major
	b    []float64 // c
}

// newLinear returns a linear model with N(0, scale²) weights and biases.
func newLinear(d, c int, scale float64, seed uint64) *linear {
	rng := rand.New(rand.NewPCG(seed, 1))
	m := &linear{d: d, c: c, w: make([]float64, d*c), b: make([]float64, c)}
	for j := range m.w {
		m.w[j] = scale * rng.NormFloat64()
	}
	for k := range m.b {
		m.b[k] = scale * rng.NormFloat64()
	}
	return m
}

func (m *linear) Dims() (int, int) { return m.d, m.c }

// check validates a batch the way a real model would.
func check(d, c int, x []float64, labels []int, out int) error {
	n := len(labels)
	if len(x) != n*d || out != n*d && out != n {
		return fmt.Errorf("bad lengths: x %d, labels %d, out %d", len(x), n, out)
	}
	for _, y := range labels {
		if y < 0 || y >= c {
			return fmt.Errorf("label %d out of range", y)
		}
	}
	return nil
}

// softmax writes the probabilities of logits z into p and returns the
// cross-entropy −log p_y, computed stably.
func softmax(z, p []float64, y int) float64 {
	mx := math.Inf(-1)
	for _, v := range z {
		mx = math.Max(mx, v)
	}
	var s float64
	for k, v := range z {
		p[k] = math.Exp(v - mx)
		s += p[k]
	}
	for k := range p {
		p[k] /= s
	}
	return math.Log(s) + mx - z[y]
}

func (m *linear) logits(x, z []float64) {
	copy(z, m.b)
	for j, v := range x {
		for k := range z {
			z[k] += v * m.w[j*m.c+k]
		}
	}
}

func (m *linear) Losses(x []float64, labels []int, dst []float64) error {
	if err := check(m.d, m.c, x, labels, len(dst)); err != nil {
		return err
	}
	z, p := make([]float64, m.c), make([]float64, m.c)
	for i, y := range labels {
		m.logits(x[i*m.d:(i+1)*m.d], z)
		dst[i] = softmax(z, p, y)
	}
	return nil
}

func (m *linear) InputGradient(x []float64, labels []int, grad []float64) error {
	if err := check(m.d, m.c, x, labels, len(grad)); err != nil {
		return err
	}
	z, p := make([]float64, m.c), make([]float64, m.c)
	for i, y := range labels {
		m.logits(x[i*m.d:(i+1)*m.d], z)
		softmax(z, p, y)
		p[y]--
		g := grad[i*m.d : (i+1)*m.d]
		for j := range g {
			g[j] = 0
			for k, pk := range p {
				g[j] += m.w[j*m.c+k] * pk
			}
		}
	}
	return nil
}

// threshold is a network with one hidden layer of step units,
// z = step(xA + a)·V + c: its loss is piecewise constant in x, so its exact
// input gradient is zero almost everywhere.
type threshold struct {
	d, h, c int
	a, a0   []float64 // d×h, h
	v, c0   []float64 // h×c, c
}

func newThreshold(d, h, c int, seed uint64) *threshold {
	rng := rand.New(rand.NewPCG(seed, 2))
	m := &threshold{d: d, h: h, c: c,
		a: make([]float64, d*h), a0: make([]float64, h),
		v: make([]float64, h*c), c0: make([]float64, c)}
	for j := range m.a {
		m.a[j] = rng.NormFloat64()
	}
	// Thresholds put each unit's boundary near the middle of the box.
	for k := range m.a0 {
		var s float64
		for j := range d {
			s += m.a[j*h+k]
		}
		m.a0[k] = -s/2 + 0.3*rng.NormFloat64()
	}
	for j := range m.v {
		m.v[j] = 2 * rng.NormFloat64()
	}
	return m
}

func (m *threshold) Dims() (int, int) { return m.d, m.c }

func (m *threshold) Losses(x []float64, labels []int, dst []float64) error {
	if err := check(m.d, m.c, x, labels, len(dst)); err != nil {
		return err
	}
	z, p := make([]float64, m.c), make([]float64, m.c)
	for i, y := range labels {
		m.forward(x[i*m.d:(i+1)*m.d], z)
		dst[i] = softmax(z, p, y)
	}
	return nil
}

// forward writes the logits of one input xi into z.
func (m *threshold) forward(xi, z []float64) {
	copy(z, m.c0)
	for k := range m.h {
		s := m.a0[k]
		for j, v := range xi {
			s += v * m.a[j*m.h+k]
		}
		if s > 0 {
			for l := range z {
				z[l] += m.v[k*m.c+l]
			}
		}
	}
}

// InputGradient is what backpropagation gives: zero.
func (m *threshold) InputGradient(x []float64, labels []int, grad []float64) error {
	if err := check(m.d, m.c, x, labels, len(grad)); err != nil {
		return err
	}
	clear(grad)
	return nil
}

// counting records the Losses calls and rows a Model receives.
type counting struct {
	Model
	calls, rows int
}

func (m *counting) Losses(x []float64, labels []int, dst []float64) error {
	m.calls++
	m.rows += len(labels)
	return m.Model.Losses(x, labels, dst)
}

// broken is a GradientModel whose calls fail or return NaN.
type broken struct {
	*linear
	fail bool // return an error
	nan  bool // return NaN values
}

var errBroken = errors.New("broken model")

func (m *broken) Losses(x []float64, labels []int, dst []float64) error {
	if m.fail {
		return errBroken
	}
	err := m.linear.Losses(x, labels, dst)
	if m.nan && len(dst) > 0 {
		dst[0] = math.NaN()
	}
	return err
}

func (m *broken) InputGradient(x []float64, labels []int, grad []float64) error {
	if m.fail {
		return errBroken
	}
	err := m.linear.InputGradient(x, labels, grad)
	if m.nan && len(grad) > 0 {
		grad[0] = math.NaN()
	}
	return err
}

// badDims is a model with no features.
type badDims struct{ *linear }

func (badDims) Dims() (int, int) { return 0, 3 }

// batch returns n uniform inputs in [0, 1] with d features, a few of them
// exactly 0 or 1 or close to the bounds, and uniform labels in [0, c).
func batch(n, d, c int, seed uint64) ([]float64, []int) {
	rng := rand.New(rand.NewPCG(seed, 3))
	x := make([]float64, n*d)
	for j := range x {
		switch j % 7 {
		case 0:
			x[j] = 0
		case 3:
			x[j] = 1
		case 5:
			x[j] = 0.97 + 0.03*rng.Float64()
		default:
			x[j] = rng.Float64()
		}
	}
	labels := make([]int, n)
	for i := range labels {
		labels[i] = rng.IntN(c)
	}
	return x, labels
}

// losses returns m's losses of the batch, panicking on error (tests only).
func losses(m Model, x []float64, labels []int) []float64 {
	dst := make([]float64, len(labels))
	if err := m.Losses(x, labels, dst); err != nil {
		panic(err)
	}
	return dst
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func cosine(a, b []float64) float64 {
	return dot(a, b) / math.Sqrt(dot(a, a)*dot(b, b))
}

// predict returns m's predicted classes, so that an attack starts from
// correctly classified examples.
func (m *linear) predict(x []float64) []int {
	n := len(x) / m.d
	y := make([]int, n)
	z := make([]float64, m.c)
	for i := range n {
		m.logits(x[i*m.d:(i+1)*m.d], z)
		for k := range z {
			if z[k] > z[y[i]] {
				y[i] = k
			}
		}
	}
	return y
}
