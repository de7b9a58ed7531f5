// Package bench measures the framework's speed on the machine it runs on,
// as ratios that travel between machines: the GLR and backpropagation
// training steps of a network against the raw matrix products of the same
// shapes, in one process. glr bench and the package's go test benchmarks
// (BenchmarkRawGEMM, BenchmarkGLRStep, BenchmarkBPStep, BenchmarkConvRawGEMM,
// BenchmarkConvGLRStep, BenchmarkConvPooledGLRStep) both run it.
//
// A step is one estimate plus an in-place SGD update. Its nominal work is
// that of its matrix products: for a dense layer of in × out weights and B
// rows, the forward product x·W and the weight gradient xᵀ·S, 2·B·in·out
// flops each; for a convolution, the same for its im2col patch matrix. Raw
// GEMM runs exactly those products, on random dense operands, with the
// pure-Go product's allocation-free tiling (or the native BLAS with -tags
// openblas). GFLOP/s divides the nominal work by the time, the same way for
// all three, so a step's GFLOP/s over raw GEMM's is the fraction of the
// machine's product throughput the step achieves.
package bench

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/glr-project/glr/estimators"
	"github.com/glr-project/glr/graph"
	"github.com/glr-project/glr/internal/linalg"
	"github.com/glr-project/glr/layers"
	"github.com/glr-project/glr/score"
	"gorgonia.org/tensor"
)

// Network is a benchmark network: its spec (Batch unset) and the matrix
// products of one step at one row per example.
type Network struct {
	Name string
	Spec graph.Spec
	// Products are the step's matrix products for one example: m rows of
	// k × n each (m = positions for a convolution, 1 for a dense layer).
	Products []Product
}

// Product is one forward product of a step, per example: Rows × K times
// K × N. The step also computes its transposed weight gradient of the
// same size.
type Product struct{ Rows, K, N int }

// Dense returns the 784-H-10 sigmoid network with a bias on every layer
// (784-500-10 is the classic benchmark), Gaussian noise σ = 1.
func Dense(hidden int, dt tensor.Dtype) Network {
	ls, _ := layers.MLP([]int{hidden}, layers.Sigmoid, layers.BiasAll, layers.ScaledNormal, 10)
	return Network{
		Name:     fmt.Sprintf("784-%d-10", hidden),
		Spec:     graph.Spec{Inputs: 784, Classes: 10, Layers: ls, Loss: graph.CrossEntropy, Noise: score.Gaussian, Scales: []float64{1}, Seed: 1, Dtype: dt},
		Products: []Product{{1, 784, hidden}, {1, hidden, 10}},
	}
}

// LeNet returns a LeNet-5 style network on 1×28×28 images: conv 6@5×5, max
// pool 2, conv 16@5×5, max pool 2, dense 120, 84, 10, sigmoid, biases on
// every layer.
func LeNet(dt tensor.Dtype) Network { return lenet("lenet", dt, false) }

// LeNetPooled returns the LeNet network with the noise of each convolution
// after its pooling (noise_after = "pool"), as the shipped GLR LeNet
// configs have it. Its products are LeNet's.
func LeNetPooled(dt tensor.Dtype) Network { return lenet("lenet-pooled", dt, true) }

func lenet(name string, dt tensor.Dtype, pooled bool) Network {
	convs := []layers.Conv{{Filters: 6, Kernel: 5, Pool: 2, NoiseAfterPool: pooled}, {Filters: 16, Kernel: 5, Pool: 2, NoiseAfterPool: pooled}}
	ls, err := layers.CNN(graph.Image{C: 1, H: 28, W: 28}, convs, []int{120, 84}, layers.Sigmoid, layers.BiasAll, layers.ScaledNormal, 10)
	if err != nil {
		panic(err) // a fixed, valid geometry
	}
	return Network{
		Name:     name,
		Spec:     graph.Spec{Inputs: 784, Classes: 10, Layers: ls, Loss: graph.CrossEntropy, Noise: score.Gaussian, Scales: []float64{1}, Seed: 1, Dtype: dt},
		Products: []Product{{576, 25, 6}, {64, 150, 16}, {1, 256, 120}, {1, 120, 84}, {1, 84, 10}},
	}
}

// Flops is the nominal work of a step of batch examples: forward products
// and weight gradients.
func (n Network) Flops(batch int) float64 {
	var f float64
	for _, p := range n.Products {
		f += 4 * float64(batch) * float64(p.Rows) * float64(p.K) * float64(p.N)
	}
	return f
}

// Result is one measurement.
type Result struct {
	Name      string  `json:"name"` // raw-gemm, glr-step or bp-step
	Network   string  `json:"network"`
	Dtype     string  `json:"dtype"`
	Batch     int     `json:"batch"`
	Seconds   float64 `json:"seconds"` // per step
	GFLOPS    float64 `json:"gflops"`
	OfGEMM    float64 `json:"fraction_of_gemm"` // GFLOP/s over raw GEMM's of the same shapes
	Examples  float64 `json:"examples_per_second"`
	Allocs    float64 `json:"allocs_per_step"`
	Bytes     float64 `json:"bytes_per_step"`
	Backend   string  `json:"blas"`
	GoMaxProc int     `json:"gomaxprocs"`
}

// Stepper runs one step.
type Stepper interface {
	Step() error
}

// gemm is the raw products of a network at a batch size.
type gemm[T float32 | float64] struct {
	prods            []Product
	batch            int
	a, w, c, s, grad [][]T
	p                linalg.Product[T]
}

func newGEMM[T float32 | float64](n Network, batch int) *gemm[T] {
	g := &gemm[T]{prods: n.Products, batch: batch}
	rng := rand.New(rand.NewPCG(1, 2))
	fill := func(size int) []T {
		x := make([]T, size)
		for i := range x {
			x[i] = T(rng.Float64()*2 - 1)
		}
		return x
	}
	for _, p := range n.Products {
		m := batch * p.Rows
		g.a = append(g.a, fill(m*p.K))
		g.w = append(g.w, fill(p.K*p.N))
		g.c = append(g.c, fill(m*p.N))
		g.s = append(g.s, fill(m*p.N))
		g.grad = append(g.grad, fill(p.K*p.N))
	}
	return g
}

// Step runs every forward product and its weight gradient.
func (g *gemm[T]) Step() error {
	for i, p := range g.prods {
		m := g.batch * p.Rows
		g.p.Gemm(false, false, m, p.N, p.K, 1, g.a[i], p.K, g.w[i], p.N, 0, g.c[i], p.N)
		g.p.Gemm(true, false, p.K, p.N, m, 1, g.a[i], p.K, g.s[i], p.N, 0, g.grad[i], p.N)
	}
	return nil
}

// RawGEMM returns the raw products of n at a batch size.
func RawGEMM(n Network, batch int) Stepper {
	if n.Spec.Dtype == tensor.Float32 {
		return newGEMM[float32](n, batch)
	}
	return newGEMM[float64](n, batch)
}

// step is one estimate and an SGD update.
type step struct {
	est    estimators.Estimator
	batch  graph.Examples
	params []*tensor.Dense
	grads  []*tensor.Dense
	n      uint64
}

// NewStep returns the training step of settings (a kind's settings) on n at
// a batch size, on random weights and a random batch of images in [0, 1).
func NewStep(n Network, settings estimators.Settings, batch int) (Stepper, error) {
	spec := n.Spec
	var err error
	if spec.Params, err = graph.NewParams(spec); err != nil {
		return nil, err
	}
	spec.Batch = batch
	est, err := settings.New(spec)
	if err != nil {
		return nil, err
	}
	grads, err := estimators.NewGradients(spec)
	if err != nil {
		return nil, err
	}
	probe := spec
	probe.Batch = 1
	net, err := graph.Build(probe)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(3, 4))
	rows := graph.Rows{X: make([]float64, batch*spec.Inputs), Labels: make([]int, batch), Dim: spec.Inputs}
	for i := range rows.X {
		rows.X[i] = rng.Float64()
	}
	for i := range rows.Labels {
		rows.Labels[i] = rng.IntN(spec.Classes)
	}
	return &step{est: est, batch: rows, params: net.ParamTensors(), grads: grads}, nil
}

// Step runs one estimate and a plain SGD update at learning rate 1e-3.
func (s *step) Step() error {
	if _, err := s.est.Estimate(s.batch, s.n, s.grads); err != nil {
		return err
	}
	s.n++
	for i, p := range s.params {
		g := s.grads[i]
		if p.Dtype() == tensor.Float32 {
			pd, gd := p.Float32s(), g.Float32s()
			for j := range pd {
				pd[j] -= 1e-3 * gd[j]
			}
			continue
		}
		pd, gd := p.Float64s(), g.Float64s()
		for j := range pd {
			pd[j] -= 1e-3 * gd[j]
		}
	}
	return nil
}

// Measure times s: one warm-up step, then steps until at least minTime has
// passed and at least minSteps were run. It returns the mean seconds,
// allocations and allocated bytes per step of those timed steps.
func Measure(s Stepper, minSteps int, minTime time.Duration) (seconds, allocs, bytes float64, err error) {
	if err := s.Step(); err != nil {
		return 0, 0, 0, err
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	n := 0
	began := time.Now()
	for n < minSteps || time.Since(began) < minTime {
		if err := s.Step(); err != nil {
			return 0, 0, 0, err
		}
		n++
	}
	seconds = time.Since(began).Seconds() / float64(n)
	runtime.ReadMemStats(&after)
	allocs = float64(after.Mallocs-before.Mallocs) / float64(n)
	bytes = float64(after.TotalAlloc-before.TotalAlloc) / float64(n)
	return seconds, allocs, bytes, nil
}
