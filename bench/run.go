package bench

import (
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/glr-project/glr/estimators"
	"github.com/glr-project/glr/graph"
	"github.com/glr-project/glr/internal/linalg"
	"github.com/glr-project/glr/layers"
	"github.com/glr-project/glr/score"
	"gorgonia.org/tensor"
)

// FaithfulLRS returns the reference code's LRS network and estimator: 785-50-10
// sigmoid with the bias in a constant-1 input column, Laplace noise b = 1,
// GLR with 10 copies and no baseline. The input layer's product is computed
// once per example and tiled into the copies.
func FaithfulLRS(dt tensor.Dtype) (Network, estimators.Settings) {
	ls, _ := layers.MLP([]int{50}, layers.Sigmoid, layers.BiasInput, layers.ScaledNormal, 10)
	n := Network{
		Name:     "lrs-785-50-10",
		Spec:     graph.Spec{Inputs: 784, Classes: 10, InputBias: true, Layers: ls, Loss: graph.CrossEntropy, Noise: score.Laplace, Scales: []float64{1}, Seed: 1, Dtype: dt},
		Products: []Product{{1, 785, 50}, {10, 50, 10}},
	}
	return n, &estimators.GLRSettings{Copies: 10, Baseline: "none", Sampler: "iid"}
}

// Options says what Run measures.
type Options struct {
	Dtypes  []tensor.Dtype
	Batches []int
	MinTime time.Duration // per measurement (default 1 s)
	Log     io.Writer
}

// Run measures, for each dtype and batch size, raw GEMM and the GLR and BP
// steps of the 784-500-10 network, the same for the faithful LRS
// configuration (with its own estimator), and LeNet's GLR and BP steps, and
// the GLR step of LeNet with its noise after the pooling, against their
// im2col products.
func Run(opts Options) ([]Result, error) {
	if opts.MinTime == 0 {
		opts.MinTime = time.Second
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	glr := &estimators.GLRSettings{Copies: 1, Baseline: "none", Sampler: "iid"}
	bp := &estimators.BPSettings{Copies: 1}
	var out []Result
	for _, dt := range opts.Dtypes {
		lrs, lrsGLR := FaithfulLRS(dt)
		cases := []struct {
			net   Network
			steps map[string]estimators.Settings
		}{
			{Dense(500, dt), map[string]estimators.Settings{"glr-step": glr, "bp-step": bp}},
			{lrs, map[string]estimators.Settings{"glr-step": lrsGLR}},
			{LeNet(dt), map[string]estimators.Settings{"glr-step": glr, "bp-step": bp}},
			{LeNetPooled(dt), map[string]estimators.Settings{"glr-step": glr}},
		}
		for _, c := range cases {
			for _, b := range opts.Batches {
				raw, err := measure("raw-gemm", c.net, b, RawGEMM(c.net, b), opts)
				if err != nil {
					return nil, err
				}
				out = append(out, raw)
				for _, name := range []string{"glr-step", "bp-step"} {
					s, ok := c.steps[name]
					if !ok {
						continue
					}
					st, err := NewStep(c.net, s, b)
					if err != nil {
						return nil, fmt.Errorf("bench %s %s: %w", c.net.Name, name, err)
					}
					r, err := measure(name, c.net, b, st, opts)
					if err != nil {
						return nil, err
					}
					r.OfGEMM = r.GFLOPS / raw.GFLOPS
					out = append(out, r)
				}
			}
		}
	}
	return out, nil
}

func measure(name string, n Network, batch int, s Stepper, opts Options) (Result, error) {
	secs, allocs, bytes, err := Measure(s, 3, opts.MinTime)
	if err != nil {
		return Result{}, fmt.Errorf("bench %s %s batch %d: %w", n.Name, name, batch, err)
	}
	r := Result{Name: name, Network: n.Name, Dtype: dtypeName(n.Spec.Dtype), Batch: batch, Seconds: secs,
		GFLOPS: n.Flops(batch) / secs / 1e9, Examples: float64(batch) / secs, Allocs: allocs, Bytes: bytes,
		Backend: linalg.Backend(), GoMaxProc: runtime.GOMAXPROCS(0), OfGEMM: 1}
	fmt.Fprintf(opts.Log, "bench: %s %s %s batch %d: %.3g ms, %.1f GFLOP/s\n", n.Name, r.Dtype, name, batch, 1e3*secs, r.GFLOPS)
	return r, nil
}

func dtypeName(dt tensor.Dtype) string {
	if dt == tensor.Float32 {
		return "float32"
	}
	return "float64"
}
