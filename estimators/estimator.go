package estimators

import (
	"fmt"
	"math"

	"github.com/glr-project/glr/graph"
	"gorgonia.org/tensor"
)

// Estimator estimates the gradient of a network's expected mean per-example
// loss from one batch.
//
// Estimate writes into grads, one tensor per parameter in the order of the
// network's Params and of its shape and dtype, the estimate at the current
// weights for the batch (which must hold the examples per pass the
// estimator was built for). It overwrites every element of grads. Its
// randomness comes from the streams at position step of the spec's seed: the
// same weights, batch and step give the same estimate, bit for bit, whatever
// GOMAXPROCS is. It never writes the weights, keeps neither the batch nor
// grads, and returns an error, without a usable estimate, when a loss is
// not finite (wrapping graph.ErrNonFiniteLoss). After its first call it
// allocates nothing.
//
// Close releases what the estimator holds. An Estimator is used from one
// goroutine at a time.
type Estimator interface {
	Estimate(batch graph.Examples, step uint64, grads []*tensor.Dense) (Stats, error)
	Close() error
}

// Stats describes one estimate.
type Stats struct {
	// Loss is the mean per-example loss of the estimate's first pass: the
	// noisy loss when its noise is on, the loss of the first perturbed
	// weights for weight-space estimators.
	Loss float64
	// Rows is the number of network rows the estimate ran forward (passes ×
	// rows per pass): its cost in forward rows.
	Rows int
	// Warnings are conditions the caller should show the user, such as a
	// backpropagated gradient that is identically zero.
	Warnings []string
}

// NewGradients allocates zero gradients shaped like the parameters of
// networks built from spec, in the order of their Params.
func NewGradients(spec graph.Spec) ([]*tensor.Dense, error) {
	params, order, err := paramOrder(spec)
	if err != nil {
		return nil, err
	}
	gs := make([]*tensor.Dense, len(order))
	for i, name := range order {
		p := params[name]
		gs[i] = tensor.New(tensor.WithShape(p.Shape().Clone()...), tensor.Of(p.Dtype()))
	}
	return gs, nil
}

// paramOrder returns spec's shared parameters and their names in build
// order.
func paramOrder(spec graph.Spec) (map[string]*tensor.Dense, []string, error) {
	if spec.Params == nil {
		return nil, nil, fmt.Errorf("the spec carries no weights (make them with graph.NewParams)")
	}
	probe := spec.Probe()
	net, err := graph.Build(probe)
	if err != nil {
		return nil, nil, err
	}
	order := make([]string, len(net.Params))
	for i, p := range net.Params {
		order[i] = p.Name()
	}
	return spec.Params, order, nil
}

// checkGrads checks that grads fit net's parameters. It reads the shapes
// of the parameters' values, since a node's Shape method allocates a copy.
func checkGrads(net *graph.Network, grads []*tensor.Dense) error {
	if len(grads) != len(net.Params) {
		return fmt.Errorf("got %d gradient tensors for %d parameters", len(grads), len(net.Params))
	}
	for i, p := range net.Params {
		g, v := grads[i], p.Value().(*tensor.Dense)
		if g == nil || !g.Shape().Eq(v.Shape()) || g.Dtype() != v.Dtype() {
			if g == nil {
				return fmt.Errorf("gradient %d is nil, parameter %s is %v %v", i, p.Name(), v.Shape(), v.Dtype())
			}
			return fmt.Errorf("gradient %d is %v %v, parameter %s is %v %v", i, g.Shape(), g.Dtype(), p.Name(), v.Shape(), v.Dtype())
		}
	}
	return nil
}

// readLosses runs nothing: it copies the losses of p's last run into dst and
// checks that every one is finite.
func readLosses(net *graph.Network, p *graph.Program, dst []float64) error {
	if err := net.ReadLosses(p, dst); err != nil {
		return err
	}
	for i, x := range dst {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("%w: the loss of row %d is %v: training cannot go on (lower the learning rate or check the data)", graph.ErrNonFiniteLoss, i, x)
		}
	}
	return nil
}

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// copyInto writes float64 values into a tensor of either dtype.
func copyInto(dst *tensor.Dense, src []float64) {
	if dst.Dtype() == tensor.Float32 {
		d := dst.Float32s()
		for i, v := range src {
			d[i] = float32(v)
		}
		return
	}
	copy(dst.Float64s(), src)
}
