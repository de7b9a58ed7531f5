package estimators

import (
	"fmt"
	"testing"

	"github.com/glr-project/glr/graph"
	"github.com/glr-project/glr/layers"
	"gorgonia.org/tensor"
)

// benchStep measures one training step, estimate plus an in-place SGD
// update, of a 784-500-10 sigmoid network with a bias on every layer, built
// once per batch size. Both estimators get the same care: one graph, one
// compiled machine reused for every step, gradients written into buffers
// allocated once.
func benchStep(b *testing.B, opts Options) {
	for _, batchSize := range []int{64, 256, 1000} {
		b.Run(fmt.Sprintf("batch=%d", batchSize), func(b *testing.B) {
			c := netCase{inputs: 784, classes: 10, hidden: []int{500}, act: layers.Sigmoid, bias: layers.BiasAll,
				loss: graph.CrossEntropy, noise: graph.Gaussian, scale: 1, rows: batchSize, seed: 1}
			net := c.build(b)
			e, err := New(net, opts)
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			x, y := batch(batchSize, 784, 10, 1)
			grads := NewGradients(net)
			step := func() {
				if _, err := e.Estimate(x, y, grads); err != nil {
					b.Fatal(err)
				}
				sgd(net, grads, 1e-3)
			}
			step() // warm up: first-pass allocations
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				step()
			}
			// Nominal work of a step: the forward GEMMs and the weight-gradient
			// GEMMs, 4·B·(784·500 + 500·10) flops, the same for both estimators.
			flops := 4 * float64(batchSize) * (784*500 + 500*10)
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

func sgd(net *graph.Network, grads []*tensor.Dense, lr float64) {
	for i, p := range net.Params {
		w := p.Value().Data().([]float64)
		for j, g := range grads[i].Float64s() {
			w[j] -= lr * g
		}
	}
}

// BenchmarkGLRStep is a forward-only GLR step with noise on, one copy.
func BenchmarkGLRStep(b *testing.B) { benchStep(b, Options{Kind: "glr", Copies: 1}) }

// BenchmarkBPStep is a backpropagation step with the noise off.
func BenchmarkBPStep(b *testing.B) { benchStep(b, Options{Kind: "bp"}) }
