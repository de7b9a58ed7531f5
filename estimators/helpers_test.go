package estimators

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/glr-project/glr/graph"
	"github.com/glr-project/glr/layers"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// netCase describes a small network for the tests.
type netCase struct {
	inputs, classes int
	hidden          []int
	act             layers.Activation
	bias            layers.Bias
	loss            graph.LossKind
	noise           graph.Distribution
	scale           float64
	rows            int
	seed            uint64
	dtype           tensor.Dtype
}

func (c netCase) build(t testing.TB) *graph.Network {
	t.Helper()
	ls, err := layers.MLP(c.hidden, c.act, c.bias, layers.ScaledNormal, c.classes)
	if err != nil {
		t.Fatal(err)
	}
	dt := c.dtype
	if dt == (tensor.Dtype{}) {
		dt = tensor.Float64
	}
	net, err := graph.Build(graph.Spec{
		Inputs: c.inputs, Classes: c.classes, Rows: c.rows, Dtype: dt,
		Layers: ls, Loss: c.loss, Noise: c.noise, Scale: c.scale, Seed: c.seed,
	})
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// batch returns n seeded examples with features in [0,1).
func batch(n, inputs, classes int, seed uint64) ([]float64, []int) {
	rng := rand.New(rand.NewPCG(seed, 7))
	x := make([]float64, n*inputs)
	for i := range x {
		x[i] = rng.Float64()
	}
	y := make([]int, n)
	for i := range y {
		y[i] = rng.IntN(classes)
	}
	return x, y
}

// flat concatenates gradient tensors into one float64 vector.
func flat(gs []*tensor.Dense) []float64 {
	var out []float64
	for _, g := range gs {
		switch d := g.Data().(type) {
		case []float64:
			out = append(out, d...)
		case []float32:
			for _, v := range d {
				out = append(out, float64(v))
			}
		}
	}
	return out
}

func cosine(a, b []float64) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += a[i] * b[i]
		aa += a[i] * a[i]
		bb += b[i] * b[i]
	}
	return ab / math.Sqrt(aa*bb)
}

func relErr(got, want []float64) float64 {
	var d, w float64
	for i := range got {
		d += (got[i] - want[i]) * (got[i] - want[i])
		w += want[i] * want[i]
	}
	return math.Sqrt(d / w)
}

// meanEstimate averages passes estimates of e.
func meanEstimate(t testing.TB, net *graph.Network, e Estimator, x []float64, y []int, passes int) []float64 {
	t.Helper()
	grads := NewGradients(net)
	var sum []float64
	for i := 0; i < passes; i++ {
		if _, err := e.Estimate(x, y, grads); err != nil {
			t.Fatal(err)
		}
		f := flat(grads)
		if sum == nil {
			sum = make([]float64, len(f))
		}
		for j, v := range f {
			sum[j] += v
		}
	}
	for j := range sum {
		sum[j] /= float64(passes)
	}
	return sum
}

// forwardLoss compiles a forward machine for the mean loss.
func forwardLoss(t testing.TB, net *graph.Network) func() float64 {
	t.Helper()
	m, err := net.Compile(net.Loss)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return func() float64 {
		if err := run(m); err != nil {
			t.Fatal(err)
		}
		v, err := scalar(net.Loss.Value())
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func paramData(p *G.Node) []float64 { return p.Value().Data().([]float64) }
