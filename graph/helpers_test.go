package graph_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/glr-project/glr/graph"
	"github.com/glr-project/glr/layers"
	"github.com/glr-project/glr/score"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The small networks these tests build: an MLP of 5 inputs and a CNN on
// 2×6×6 images, both with 3 classes.
const (
	mlpInputs = 5
	classes   = 3
)

var cnnImage = graph.Image{C: 2, H: 6, W: 6}

// mlpSpec returns the spec of a 5-4-3-3 MLP of batch 4; the bias mode sets
// InputBias as it must.
func mlpSpec(t testing.TB, act graph.Activation, bias layers.Bias) graph.Spec {
	t.Helper()
	ls, err := layers.MLP([]int{4, 3}, act, bias, layers.ScaledNormal, classes)
	if err != nil {
		t.Fatal(err)
	}
	return graph.Spec{Inputs: mlpInputs, Classes: classes, Batch: 4, InputBias: bias.InputColumn(), Layers: ls,
		Loss: graph.CrossEntropy, Noise: score.Gaussian, Scales: []float64{0.5}, Seed: 1}
}

// cnnSpec returns the spec of a CNN of batch 3 on 2×6×6 images: conv 3@3
// (padding 1) with 2×2 pooling, conv 2@2, then dense 4 and the 3 logits.
func cnnSpec(t testing.TB, act graph.Activation, pool graph.PoolKind, bias layers.Bias) graph.Spec {
	t.Helper()
	convs := []layers.Conv{
		{Filters: 3, Kernel: 3, Pad: 1, Pool: 2, PoolKind: pool},
		{Filters: 2, Kernel: 2},
	}
	ls, err := layers.CNN(cnnImage, convs, []int{4}, act, bias, layers.Glorot, classes)
	if err != nil {
		t.Fatal(err)
	}
	return graph.Spec{Inputs: cnnImage.Len(), Classes: classes, Batch: 3, Layers: ls,
		Loss: graph.CrossEntropy, Noise: score.Laplace, Scales: []float64{0.3}, Seed: 2}
}

// with returns s changed by f.
func with(s graph.Spec, f func(*graph.Spec)) graph.Spec {
	f(&s)
	return s
}

func build(t testing.TB, s graph.Spec) *graph.Network {
	t.Helper()
	net, err := graph.Build(s)
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// examples returns n seeded examples of dim features in [−1, 1] with labels
// in [0, classes).
func examples(n, dim int, seed uint64) graph.Rows {
	rng := rand.New(rand.NewPCG(seed, 99))
	r := graph.Rows{X: make([]float64, n*dim), Labels: make([]int, n), Dim: dim}
	for i := range r.X {
		r.X[i] = 2*rng.Float64() - 1
	}
	for i := range r.Labels {
		r.Labels[i] = rng.IntN(classes)
	}
	return r
}

// feed feeds net a seeded batch.
func feed(t testing.TB, net *graph.Network, seed uint64) graph.Rows {
	t.Helper()
	ex := examples(net.Batch(), net.Spec().Inputs, seed)
	if err := net.Feed(ex); err != nil {
		t.Fatal(err)
	}
	return ex
}

func program(t testing.TB, net *graph.Network, roots ...*G.Node) *graph.Program {
	t.Helper()
	p, err := net.Program(roots...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func run(t testing.TB, p *graph.Program) {
	t.Helper()
	if err := p.Run(); err != nil {
		t.Fatal(err)
	}
}

func gradients(t testing.TB, net *graph.Network) G.Nodes {
	t.Helper()
	g, err := net.Gradients()
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// floats returns a copy of a float64 or float32 tensor's values as float64.
func floats(t testing.TB, v G.Value) []float64 {
	t.Helper()
	switch d := v.(type) {
	case *tensor.Dense:
		switch x := d.Data().(type) {
		case []float64:
			return append([]float64(nil), x...)
		case []float32:
			out := make([]float64, len(x))
			for i, v := range x {
				out[i] = float64(v)
			}
			return out
		}
	case *G.F64, *G.F32:
		s, err := graph.Scalar(v)
		if err != nil {
			t.Fatal(err)
		}
		return []float64{s}
	}
	t.Fatalf("unexpected value %T", v)
	return nil
}

// value returns a copy of the value n took in p's last run.
func value(t testing.TB, p *graph.Program, n *G.Node) []float64 {
	t.Helper()
	v := p.Value(n)
	if v == nil {
		t.Fatalf("%v was not computed", n)
	}
	return floats(t, v)
}

// meanLoss runs p (which must compute net.Loss) and returns the mean loss.
func meanLoss(t testing.TB, net *graph.Network, p *graph.Program) float64 {
	t.Helper()
	run(t, p)
	l, err := graph.Scalar(p.Value(net.Loss))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// relErr is ‖got − want‖ / ‖want‖ (‖got − want‖ when want is zero).
func relErr(got, want []float64) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	var d, w float64
	for i := range got {
		d += (got[i] - want[i]) * (got[i] - want[i])
		w += want[i] * want[i]
	}
	if w == 0 {
		return math.Sqrt(d)
	}
	return math.Sqrt(d / w)
}

// equal reports the first index at which a and b differ bit for bit, or −1.
func equal(a, b []float64) int {
	if len(a) != len(b) {
		return 0
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return i
		}
	}
	return -1
}
