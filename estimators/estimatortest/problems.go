package estimatortest

import (
	"math"
	"math/rand/v2"

	"github.com/glr-project/glr/graph"
	"github.com/glr-project/glr/layers"
	"github.com/glr-project/glr/score"
)

// problem is a small network with references computed by direct loops,
// independently of the graph package.
type problem struct {
	name   string
	in     int
	hidden int
	out    int
	act    graph.Activation
	bias   layers.Bias
	loss   graph.LossKind
	law    score.Law
	scale  float64
	x      [][]float64 // the distinct examples of a batch
	labels []int
	// repeat is how many times each example appears in a batch: the target
	// is the same, and the variance of one estimate is lower.
	repeat int
	seed   uint64
	// smoothed computes the gradient of the noisy network's expected loss,
	// and siteSmoothed each site's parameters' gradient with noise at that
	// site alone; nil means by Monte Carlo over the pathwise gradient.
	smoothed, siteSmoothed func(p *problem, w weights) []float64
}

// weights of a problem's network: W1 (in' × hidden), b1, W2 (hidden × out),
// b2, with in' = in+1 for an input bias; biases empty when absent.
type weights struct {
	w1, b1, w2, b2 []float64
}

func problems() []*problem {
	x := [][]float64{{0.8, -0.4, 0.3}, {-0.6, 0.9, 0.5}, {0.2, 0.7, -0.9}, {-0.5, -0.3, 0.6}}
	labels := []int{0, 1, 1, 0}
	return []*problem{
		{name: "linear/squared/gaussian", in: 3, hidden: 2, out: 2, act: graph.Identity, bias: layers.BiasAll,
			loss: graph.Squared, law: score.Gaussian, scale: 0.5, x: x, labels: labels, repeat: 2, seed: 11,
			smoothed: linearSmoothed, siteSmoothed: linearSiteSmoothed},
		// Seed 30 keeps every hidden pre-activation at least 0.58 from the
		// step (TestThresholdMargins), so the weight-space estimators'
		// perturbations of 0.01 never cross it.
		{name: "threshold/squared/laplace", in: 3, hidden: 3, out: 2, act: graph.Threshold, bias: layers.BiasInput,
			loss: graph.Squared, law: score.Laplace, scale: 1, x: x, labels: labels, repeat: 2, seed: 30,
			smoothed: thresholdSmoothed, siteSmoothed: thresholdSiteSmoothed},
		{name: "sigmoid/cross-entropy/gaussian", in: 3, hidden: 3, out: 2, act: graph.Sigmoid, bias: layers.BiasAll,
			loss: graph.CrossEntropy, law: score.Gaussian, scale: 0.5, x: x, labels: labels, repeat: 2, seed: 13},
	}
}

// inputs is the width of the first layer's input.
func (p *problem) inputs() int {
	if p.bias == layers.BiasInput {
		return p.in + 1
	}
	return p.in
}

// split cuts a flat parameter vector (in the network's order: layer1/W,
// [layer1/b], layer2/W, [layer2/b]) into weights.
func (p *problem) split(flat []float64) weights {
	var w weights
	k := 0
	take := func(n int) []float64 { s := flat[k : k+n]; k += n; return s }
	w.w1 = take(p.inputs() * p.hidden)
	if p.bias == layers.BiasAll {
		w.b1 = take(p.hidden)
	}
	w.w2 = take(p.hidden * p.out)
	if p.bias == layers.BiasAll {
		w.b2 = take(p.out)
	}
	return w
}

// example returns example i's first-layer input.
func (p *problem) example(i int) []float64 {
	x := append([]float64(nil), p.x[i]...)
	if p.bias == layers.BiasInput {
		x = append(x, 1)
	}
	return x
}

// pass is one forward and backward pass of one example through the direct
// loop: r1, r2 are the noise draws (nil: none), and deriv the derivative
// used for a threshold in the backward pass (0 for the true one). It returns
// the loss and adds the example's gradient into g (flattened like split).
func (p *problem) pass(w weights, i int, r1, r2 []float64, deriv graph.Surrogate, g []float64) float64 {
	x := p.example(i)
	n := p.inputs()
	a := make([]float64, p.hidden)
	h := make([]float64, p.hidden)
	for j := range a {
		for k := 0; k < n; k++ {
			a[j] += x[k] * w.w1[k*p.hidden+j]
		}
		if w.b1 != nil {
			a[j] += w.b1[j]
		}
		if r1 != nil {
			a[j] += r1[j]
		}
		h[j] = activate(p.act, a[j])
	}
	z := make([]float64, p.out)
	for c := range z {
		for j := 0; j < p.hidden; j++ {
			z[c] += h[j] * w.w2[j*p.out+c]
		}
		if w.b2 != nil {
			z[c] += w.b2[c]
		}
		if r2 != nil {
			z[c] += r2[c]
		}
	}
	loss, dz := lossAndGrad(p.loss, z, p.labels[i])
	if g == nil {
		return loss
	}
	gw := p.split(g)
	dh := make([]float64, p.hidden)
	for j := 0; j < p.hidden; j++ {
		for c := 0; c < p.out; c++ {
			gw.w2[j*p.out+c] += h[j] * dz[c]
			dh[j] += dz[c] * w.w2[j*p.out+c]
		}
	}
	if gw.b2 != nil {
		for c := range dz {
			gw.b2[c] += dz[c]
		}
	}
	for j := 0; j < p.hidden; j++ {
		da := dh[j] * derivative(p.act, deriv, a[j], h[j])
		for k := 0; k < n; k++ {
			gw.w1[k*p.hidden+j] += x[k] * da
		}
		if gw.b1 != nil {
			gw.b1[j] += da
		}
	}
	return loss
}

func activate(act graph.Activation, a float64) float64 {
	switch act {
	case graph.Sigmoid:
		return 1 / (1 + math.Exp(-a))
	case graph.Threshold:
		if a > 0 {
			return 1
		}
		return 0
	}
	return a
}

func derivative(act graph.Activation, s graph.Surrogate, a, h float64) float64 {
	switch act {
	case graph.Sigmoid:
		return h * (1 - h)
	case graph.Threshold:
		switch s {
		case graph.IdentityDerivative:
			return 1
		case graph.SigmoidDerivative:
			q := 1 / (1 + math.Exp(-a))
			return q * (1 - q)
		}
		return 0
	}
	return 1
}

func lossAndGrad(kind graph.LossKind, z []float64, label int) (float64, []float64) {
	dz := make([]float64, len(z))
	if kind == graph.Squared {
		var l float64
		for c, v := range z {
			y := 0.0
			if c == label {
				y = 1
			}
			l += (v - y) * (v - y) / 2
			dz[c] = v - y
		}
		return l, dz
	}
	m := math.Inf(-1)
	for _, v := range z {
		m = math.Max(m, v)
	}
	var s float64
	for _, v := range z {
		s += math.Exp(v - m)
	}
	lse := m + math.Log(s)
	for c, v := range z {
		dz[c] = math.Exp(v - lse)
	}
	dz[label]--
	return lse - z[label], dz
}

// gradient is the mean over the problem's examples of the per-example
// gradient at fixed draws (none for the noise-free network).
func (p *problem) gradient(w weights, deriv graph.Surrogate, size int) []float64 {
	g := make([]float64, size)
	for i := range p.x {
		p.pass(w, i, nil, nil, deriv, g)
	}
	scale(g, 1/float64(len(p.x)))
	return g
}

// pathwise averages the pathwise (backpropagated) gradient of the noisy
// network over draws draws: for a network differentiable almost everywhere
// in its weights at every draw, the gradient of the expected loss. sites
// says which sites draw noise (bit 0: the hidden layer, bit 1: the output).
func (p *problem) pathwise(w weights, size, draws int, sites int) []float64 {
	rng := rand.New(rand.NewPCG(p.seed, 0x9a7))
	g := make([]float64, size)
	r1, r2 := make([]float64, p.hidden), make([]float64, p.out)
	for d := 0; d < draws; d++ {
		for i := range p.x {
			for j := range r1 {
				r1[j] = draw(rng, p.law, p.scale)
				if sites&1 == 0 {
					r1[j] = 0
				}
			}
			for c := range r2 {
				r2[c] = draw(rng, p.law, p.scale)
				if sites&2 == 0 {
					r2[c] = 0
				}
			}
			p.pass(w, i, r1, r2, 0, g)
		}
	}
	scale(g, 1/float64(draws*len(p.x)))
	return g
}

func draw(rng *rand.Rand, law score.Law, s float64) float64 {
	if law == score.Laplace {
		e := rng.ExpFloat64() * s
		if rng.IntN(2) == 0 {
			return -e
		}
		return e
	}
	return rng.NormFloat64() * s
}

func scale(x []float64, a float64) {
	for i := range x {
		x[i] *= a
	}
}

// linearSmoothed is the exact smoothed gradient of the linear network with
// the squared loss: E[½‖(xW1 + b1 + r1)W2 + b2 + r2 − y‖²] is the noise-free
// loss plus ½σ₁²‖W2‖² plus a constant, so only W2's gradient changes, by
// σ₁²·W2.
func linearSmoothed(p *problem, w weights) []float64 {
	size := len(w.w1) + len(w.b1) + len(w.w2) + len(w.b2)
	g := p.gradient(w, 0, size)
	gw := p.split(g)
	s2 := p.scale * p.scale
	for i, v := range w.w2 {
		gw.w2[i] += s2 * v
	}
	return g
}

// linearSiteSmoothed is the linear network's gradient with noise at one
// site alone for that site's weights: noise at the hidden layer adds
// ½σ²‖W2‖², which does not depend on W1, and noise at the output a constant,
// so both are the noise-free gradient.
func linearSiteSmoothed(p *problem, w weights) []float64 {
	size := len(w.w1) + len(w.b1) + len(w.w2) + len(w.b2)
	return p.gradient(w, 0, size)
}

// thresholdSiteSmoothed is the threshold network's gradient with noise at one
// site alone for that site's weights: the hidden layer's weights get the
// smoothed gradient (the output noise only adds a constant to the squared
// loss), the output layer's the noise-free one (no noise reaches the step).
func thresholdSiteSmoothed(p *problem, w weights) []float64 {
	size := len(w.w1) + len(w.b1) + len(w.w2) + len(w.b2)
	g := p.gradient(w, 0, size)
	sm := thresholdSmoothed(p, w)
	n := len(w.w1) + len(w.b1)
	copy(g[:n], sm[:n])
	return g
}

// thresholdSmoothed is the gradient of the threshold network's expected
// squared loss, in closed form: with noise of CDF F at the hidden layer, unit
// j fires with probability q_j = F(a_j), independently, so for the linear
// output z = hW2 (+ b2) + r2
//
//	E[½‖z − y‖²] = ½‖qW2 + b2 − y‖² + ½ Σ_j q_j(1 − q_j)‖W2[j,:]‖² + const,
//
// differentiated by central differences of this smooth expression.
func thresholdSmoothed(p *problem, w weights) []float64 {
	flat := append(append(append(append([]float64(nil), w.w1...), w.b1...), w.w2...), w.b2...)
	objective := func(flat []float64) float64 {
		w := p.split(flat)
		var total float64
		for i := range p.x {
			x := p.example(i)
			q := make([]float64, p.hidden)
			for j := range q {
				var a float64
				for k, v := range x {
					a += v * w.w1[k*p.hidden+j]
				}
				if w.b1 != nil {
					a += w.b1[j]
				}
				q[j] = p.law.CDF(a, p.scale)
			}
			for c := 0; c < p.out; c++ {
				var m float64
				for j := range q {
					m += q[j] * w.w2[j*p.out+c]
				}
				if w.b2 != nil {
					m += w.b2[c]
				}
				y := 0.0
				if c == p.labels[i] {
					y = 1
				}
				total += (m - y) * (m - y) / 2
			}
			for j := range q {
				var n2 float64
				for c := 0; c < p.out; c++ {
					n2 += w.w2[j*p.out+c] * w.w2[j*p.out+c]
				}
				total += q[j] * (1 - q[j]) * n2 / 2
			}
		}
		return total / float64(len(p.x))
	}
	g := make([]float64, len(flat))
	const h = 1e-5
	for i := range flat {
		v := flat[i]
		flat[i] = v + h
		up := objective(flat)
		flat[i] = v - h
		down := objective(flat)
		flat[i] = v
		g[i] = (up - down) / (2 * h)
	}
	return g
}
