package graph_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/glr-project/glr/graph"
	"github.com/glr-project/glr/layers"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// bpCases are the networks whose BP gradients are checked: MLPs with each
// smooth activation and bias mode, CNNs with max and average pooling (the
// first layer's noise before or after its pooling), and variants with
// copies (antithetic pairs, a single noisy site), the squared loss and a
// step with its zero derivative.
func bpCases(t *testing.T) []struct {
	name string
	spec graph.Spec
} {
	type c = struct {
		name string
		spec graph.Spec
	}
	var cases []c
	for _, act := range []graph.Activation{graph.Sigmoid, graph.Tanh, graph.ReLU} {
		for _, bias := range []layers.Bias{layers.BiasInput, layers.BiasAll, layers.BiasNone} {
			cases = append(cases, c{fmt.Sprintf("mlp/%v/%v", act, bias), mlpSpec(t, act, bias)})
		}
	}
	cases = append(cases,
		c{"cnn/max", cnnSpec(t, graph.ReLU, graph.MaxPool, layers.BiasAll)},
		c{"cnn/avg", cnnSpec(t, graph.Tanh, graph.AvgPool, layers.BiasNone)},
		c{"cnn/max/copies", with(cnnSpec(t, graph.Sigmoid, graph.MaxPool, layers.BiasAll), func(s *graph.Spec) { s.Copies = 2 })},
		c{"cnn/max/noise after pool", with(cnnSpec(t, graph.ReLU, graph.MaxPool, layers.BiasAll), noiseAfterPool)},
		c{"cnn/avg/noise after pool/copies", with(cnnSpec(t, graph.Tanh, graph.AvgPool, layers.BiasAll), func(s *graph.Spec) {
			noiseAfterPool(s)
			s.Copies = 2
		})},
		c{"mlp/antithetic copies", with(mlpSpec(t, graph.Tanh, layers.BiasAll), func(s *graph.Spec) { s.Copies, s.Antithetic = 4, true })},
		c{"mlp/only site 2", with(mlpSpec(t, graph.Sigmoid, layers.BiasInput), func(s *graph.Spec) { s.Copies, s.OnlySite = 3, 2 })},
		c{"mlp/squared", with(mlpSpec(t, graph.Tanh, layers.BiasAll), func(s *graph.Spec) { s.Loss = graph.Squared })},
		c{"mlp/threshold", mlpSpec(t, graph.Threshold, layers.BiasAll)},
	)
	return cases
}

// noiseAfterPool moves the noise of s's first layer, a pooled convolution,
// after its pooling.
func noiseAfterPool(s *graph.Spec) {
	ls := append([]graph.Layer(nil), s.Layers...)
	c := ls[0].(layers.Conv)
	c.NoiseAfterPool = true
	ls[0] = c
	s.Layers = ls
}

// finiteDifferences returns the central differences of the mean loss with
// respect to every parameter value, in the order of net.Params.
func finiteDifferences(t *testing.T, net *graph.Network, h float64) [][]float64 {
	t.Helper()
	p := program(t, net, net.Loss)
	out := make([][]float64, len(net.Params))
	for i, w := range net.ParamTensors() {
		x := w.Float64s()
		out[i] = make([]float64, len(x))
		for j := range x {
			orig := x[j]
			x[j] = orig + h
			up := meanLoss(t, net, p)
			x[j] = orig - h
			down := meanLoss(t, net, p)
			x[j] = orig
			out[i][j] = (up - down) / (2 * h)
		}
	}
	return out
}

// TestBackpropMatchesFiniteDifferences differentiates the mean loss of
// whole networks with gorgonia.Grad, run by a Program, and compares every
// parameter's gradient with central differences of the forward pass, with
// the noise off and with the noise on at a fixed step (which draws the
// same noise on every pass). Step h = 1e-5 in float64: the truncation
// error, h²/6 times the third derivative, is near 1e-11 and the rounding
// error ε·|L|/h near 1e-11 for losses of order 1, so a relative error of
// 1e-6 leaves four orders of magnitude of room, while a wrong gradient op
// is off by O(1). The ReLU's
// and max pool's kinks lie within h of a seeded input with probability
// ~1e-4, and these seeds avoid them.
func TestBackpropMatchesFiniteDifferences(t *testing.T) {
	const h, tol = 1e-5, 1e-6
	worst := 0.0
	for _, c := range bpCases(t) {
		for _, noise := range []bool{false, true} {
			name := fmt.Sprintf("%s/noise=%t", c.name, noise)
			t.Run(name, func(t *testing.T) {
				s := c.spec
				if !noise {
					s.NoiseOff, s.Copies = true, 1
				}
				net := build(t, s)
				feed(t, net, 3)
				net.SetStep(6)
				grads := gradients(t, net)
				if len(grads) != len(net.Params) {
					t.Fatalf("%d gradients for %d parameters", len(grads), len(net.Params))
				}
				p := program(t, net, grads...)
				run(t, p)
				var sym, num []float64
				for i, g := range grads {
					sym = append(sym, value(t, p, g)...)
					if g.Shape().TotalSize() != net.Params[i].Shape().TotalSize() {
						t.Fatalf("gradient %v of %v", g.Shape(), net.Params[i].Shape())
					}
				}
				for _, d := range finiteDifferences(t, net, h) {
					num = append(num, d...)
				}
				e := relErr(sym, num)
				worst = math.Max(worst, e)
				if e > tol || math.IsNaN(e) {
					t.Errorf("relative error %.3g between BP and finite differences\nBP %v\nFD %v", e, sym, num)
				}
				// A gradient of zero would match nothing above, but make sure
				// the check has something to match.
				if norm(num) < 1e-3 {
					t.Errorf("the finite differences are %v: nothing to check", norm(num))
				}
			})
		}
	}
	t.Logf("largest relative error: %.3g", worst)
}

func norm(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v * v
	}
	return math.Sqrt(s)
}

// TestFloat32MatchesFloat64: a float32 network agrees with the float64
// network of the same spec (its weights are the float64 ones rounded) in
// its logits, losses and BP gradients, to float32 rounding. The unit
// roundoff of float32 is u = 6e-8; a value goes through at most five
// layers, each a sum of at most 72 products, and the noise and the inputs
// are rounded once. The worst case n·u per sum would be 4e-6 a layer;
// rounding errors add up like √n in practice, so a relative error below
// 1e-5 is float32 rounding, and anything wrong in a float32 path (a kernel
// reading the wrong values) is off by O(1).
func TestFloat32MatchesFloat64(t *testing.T) {
	const tol = 1e-5
	for _, c := range []struct {
		name string
		spec graph.Spec
	}{
		{"mlp", with(mlpSpec(t, graph.Tanh, layers.BiasInput), func(s *graph.Spec) { s.Copies = 2 })},
		{"cnn/max", with(cnnSpec(t, graph.Sigmoid, graph.MaxPool, layers.BiasAll), func(s *graph.Spec) { s.Copies = 2 })},
		{"cnn/avg", cnnSpec(t, graph.Tanh, graph.AvgPool, layers.BiasNone)},
	} {
		t.Run(c.name, func(t *testing.T) {
			results := map[tensor.Dtype][][]float64{}
			for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
				s := c.spec
				s.Dtype = dt
				net := build(t, s)
				feed(t, net, 4)
				net.SetStep(2)
				grads := gradients(t, net)
				p := program(t, net, append(G.Nodes{net.Logits, net.Losses}, grads...)...)
				run(t, p)
				res := [][]float64{value(t, p, net.Logits), value(t, p, net.Losses)}
				for _, g := range grads {
					res = append(res, value(t, p, g))
				}
				results[dt] = res
			}
			worst := 0.0
			for i := range results[tensor.Float64] {
				e := relErr(results[tensor.Float32][i], results[tensor.Float64][i])
				worst = math.Max(worst, e)
				if e > tol {
					t.Errorf("result %d: float32 differs from float64 by %.3g", i, e)
				}
			}
			t.Logf("largest relative difference: %.3g", worst)
		})
	}
}
