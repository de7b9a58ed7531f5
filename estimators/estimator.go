// Package estimators computes gradient estimates from a graph.Network. Both
// estimators read the identical graph and weights:
//
//   - GLR runs the network forward once with noise on and, for every noise
//     site, forms Xᵀ·(diag(L − baseline)·ψ(R))/M with one matrix product:
//     no backward pass, no derivative of an activation or a loss, so threshold
//     networks and the zero-one loss train.
//   - BP differentiates the mean loss symbolically (gorgonia.Grad), with the
//     noise off (plain backpropagation) or on (the pathwise estimator of the
//     objective GLR estimates).
package estimators

import (
	"fmt"
	"math"

	"github.com/glr-project/glr/graph"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Estimator estimates the gradient of a network's expected mean per-example
// loss from one batch.
//
// Estimate feeds the batch to the network (x holds BatchSize()·Inputs
// features row by row, labels BatchSize() classes), runs it, and overwrites
// grads, one tensor per network parameter in the order of Network.Params and
// of its shape, with the estimate. It keeps neither x nor labels. It returns
// an error, and leaves the weights alone, when the loss is not finite.
// Close releases the compiled machine. An Estimator is used from one
// goroutine at a time.
type Estimator interface {
	Estimate(x []float64, labels []int, grads []*tensor.Dense) (Stats, error)
	Close() error
}

// Stats describes one estimate.
type Stats struct {
	// Loss is the mean per-example loss of the pass the estimate came from:
	// the noisy loss when the noise is on.
	Loss float64
	// Warnings are conditions the caller should show the user, such as a
	// backpropagated gradient that is identically zero.
	Warnings []string
}

// Options selects and configures an estimator; its fields mirror the
// [estimator] table of an experiment file.
type Options struct {
	Kind       string // "glr" or "bp"
	Copies     int    // noisy copies of each example per pass (≥ 1)
	Baseline   string // glr: none | batch-mean | leave-one-out | clean
	Antithetic bool   // glr: copies come in ± pairs
	Noise      bool   // bp: differentiate through the noisy network
}

// New returns the estimator opts selects, on net. The network's rows must be
// its batch size times opts.Copies.
func New(net *graph.Network, opts Options) (Estimator, error) {
	switch opts.Kind {
	case "glr":
		b, err := ParseBaseline(opts.Baseline)
		if err != nil {
			return nil, err
		}
		return NewGLR(net, GLROptions{Copies: opts.Copies, Baseline: b, Antithetic: opts.Antithetic})
	case "bp":
		if opts.Antithetic {
			return nil, fmt.Errorf("bp: antithetic pairs are a glr option")
		}
		return NewBP(net, BPOptions{Copies: opts.Copies, Noise: opts.Noise})
	}
	return nil, fmt.Errorf("unknown estimator %q (want glr | bp)", opts.Kind)
}

// NewGradients allocates zero gradients shaped like net's parameters.
func NewGradients(net *graph.Network) []*tensor.Dense {
	gs := make([]*tensor.Dense, len(net.Params))
	for i, p := range net.Params {
		gs[i] = tensor.New(tensor.WithShape(p.Shape().Clone()...), tensor.Of(p.Dtype()))
	}
	return gs
}

func checkGrads(net *graph.Network, grads []*tensor.Dense) error {
	if len(grads) != len(net.Params) {
		return fmt.Errorf("got %d gradient tensors for %d parameters", len(grads), len(net.Params))
	}
	for i, p := range net.Params {
		if !grads[i].Shape().Eq(p.Shape()) || grads[i].Dtype() != p.Dtype() {
			return fmt.Errorf("gradient %d is %v %v, parameter %s is %v %v", i, grads[i].Shape(), grads[i].Dtype(), p.Name(), p.Shape(), p.Dtype())
		}
	}
	return nil
}

// run runs m once and resets it for the next pass.
func run(m G.VM) error {
	defer m.Reset()
	return graph.Run(m)
}

// finiteLosses copies the per-example losses of the last pass into dst
// (allocated when nil or short) and checks that every one is finite.
func finiteLosses(net *graph.Network, dst []float64) ([]float64, error) {
	rows := net.Rows()
	if cap(dst) < rows {
		dst = make([]float64, rows)
	}
	dst = dst[:rows]
	if err := net.ReadLosses(dst); err != nil {
		return dst, err
	}
	for i, x := range dst {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return dst, fmt.Errorf("the loss of row %d is %v: training cannot go on (lower the learning rate or check the data)", i, x)
		}
	}
	return dst, nil
}

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}
