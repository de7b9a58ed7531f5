package estimators

import (
	"fmt"
	"strings"

	"github.com/glr-project/glr/graph"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// BPOptions configures the backpropagation estimator.
type BPOptions struct {
	Copies int  // noisy copies of each example per pass (with Noise)
	Noise  bool // differentiate through the noisy network
	// Hold reuses the noise draw of the previous pass instead of drawing
	// anew, so the gradient is that of the very network a GLR pass or a
	// finite-difference check saw. It implies Noise.
	Hold bool
}

// BP is backpropagation: gorgonia.Grad of the mean loss over the same graph
// the GLR estimator reads. With the noise off it is the exact gradient of the
// deterministic network; with the noise on it is the pathwise (IPA) estimator
// of the smoothed objective that GLR estimates too.
type BP struct {
	net     *graph.Network
	opts    BPOptions
	grads   G.Nodes
	machine G.VM
}

// NewBP returns a backpropagation estimator on net. It refuses a loss without
// a derivative, such as the zero-one loss.
func NewBP(net *graph.Network, opts BPOptions) (*BP, error) {
	if opts.Copies == 0 {
		opts.Copies = 1
	}
	if !net.Spec().Loss.Differentiable() {
		return nil, fmt.Errorf("bp: backpropagation cannot differentiate the %v loss; use the glr estimator", net.Spec().Loss)
	}
	if opts.Hold {
		opts.Noise = true
	}
	if opts.Copies > 1 && !opts.Noise {
		return nil, fmt.Errorf("bp: %d copies without noise would compute the same gradient %d times", opts.Copies, opts.Copies)
	}
	if err := net.SetCopies(opts.Copies, false); err != nil {
		return nil, fmt.Errorf("bp: %w", err)
	}
	grads, err := net.Gradients()
	if err != nil {
		return nil, fmt.Errorf("bp: %w", err)
	}
	roots := append(G.Nodes{net.Loss}, grads...)
	m, err := net.Compile(roots...)
	if err != nil {
		return nil, fmt.Errorf("bp: %w", err)
	}
	return &BP{net: net, opts: opts, grads: grads, machine: m}, nil
}

// Close releases the machine.
func (e *BP) Close() error { return e.machine.Close() }

// Estimate implements Estimator. When the network has a threshold activation
// and a parameter's gradient comes out identically zero, Stats.Warnings says
// so: the step's derivative is zero, and backpropagation cannot train the
// layers below it.
func (e *BP) Estimate(x []float64, labels []int, grads []*tensor.Dense) (Stats, error) {
	if err := checkGrads(e.net, grads); err != nil {
		return Stats{}, fmt.Errorf("bp: %w", err)
	}
	// Another estimator may share the network: restore this one's copies.
	if err := e.net.SetCopies(e.opts.Copies, false); err != nil {
		return Stats{}, fmt.Errorf("bp: %w", err)
	}
	if err := e.net.Feed(x, labels); err != nil {
		return Stats{}, fmt.Errorf("bp: %w", err)
	}
	switch {
	case e.opts.Hold:
		e.net.SetNoise(graph.NoiseHold)
	case e.opts.Noise:
		e.net.SetNoise(graph.NoiseFresh)
	default:
		e.net.SetNoise(graph.NoiseOff)
	}
	defer e.machine.Reset()
	if err := graph.Run(e.machine); err != nil {
		return Stats{}, fmt.Errorf("bp: %w", err)
	}
	return e.collect(grads)
}

// collect copies the gradient nodes' values of the last pass into grads.
func (e *BP) collect(grads []*tensor.Dense) (Stats, error) {
	loss, err := scalar(e.net.Loss.Value())
	if err != nil {
		return Stats{}, fmt.Errorf("bp: %w", err)
	}
	if loss != loss || loss > 1e308 || loss < -1e308 {
		return Stats{}, fmt.Errorf("bp: the mean loss is %v: training cannot go on (lower the learning rate or check the data)", loss)
	}
	var zero []string
	for i, g := range e.grads {
		v, ok := g.Value().(*tensor.Dense)
		if !ok || v.Shape().TotalSize() != grads[i].Shape().TotalSize() {
			return Stats{}, fmt.Errorf("bp: the gradient of %s was not computed", e.net.Params[i].Name())
		}
		if err := tensor.Copy(grads[i], v); err != nil {
			return Stats{}, fmt.Errorf("bp: copy the gradient of %s: %w", e.net.Params[i].Name(), err)
		}
		if e.net.HasStep() && allZero(grads[i]) {
			zero = append(zero, e.net.Params[i].Name())
		}
	}
	st := Stats{Loss: loss}
	if len(zero) > 0 {
		st.Warnings = append(st.Warnings, fmt.Sprintf(
			"bp: the gradient of %s is exactly zero: the threshold activation has zero derivative, so backpropagation cannot train the layers below it; use the glr estimator",
			strings.Join(zero, ", ")))
	}
	return st, nil
}

func scalar(v G.Value) (float64, error) {
	switch s := v.(type) {
	case *G.F64:
		return float64(*s), nil
	case *G.F32:
		return float64(*s), nil
	case *tensor.Dense:
		if s.Shape().TotalSize() == 1 {
			switch d := s.Data().(type) {
			case []float64:
				return d[0], nil
			case []float32:
				return float64(d[0]), nil
			case float64:
				return d, nil
			case float32:
				return float64(d), nil
			}
		}
	}
	return 0, fmt.Errorf("the mean loss was not computed (got %T)", v)
}

func allZero(t *tensor.Dense) bool {
	switch d := t.Data().(type) {
	case []float64:
		for _, v := range d {
			if v != 0 {
				return false
			}
		}
	case []float32:
		for _, v := range d {
			if v != 0 {
				return false
			}
		}
	}
	return true
}
