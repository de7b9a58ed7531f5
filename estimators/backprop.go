package estimators

import (
	"fmt"
	"strings"

	"github.com/glr-project/glr/graph"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func init() {
	MustRegister(Kind{
		Name:        "bp",
		Summary:     "backpropagation: gorgonia.Grad of the mean loss, through the noise-free network or the noisy one",
		NewSettings: func() Settings { return &BPSettings{Copies: 1} },
		Variants: []Variant{
			{Name: "noise", TOML: "noise = true\ncopies = 2"},
		},
	})
}

// BPSettings are the keys of a bp [estimator] table.
type BPSettings struct {
	// Copies is the number of noisy copies of each example per pass (with
	// Noise).
	Copies int `toml:"copies"`
	// Noise differentiates through the noisy network: the pathwise (IPA)
	// estimator of the objective glr estimates.
	Noise bool `toml:"noise"`
}

// Target is NoiseFree, or Pathwise with the noise on (the smoothed
// gradient where the network is differentiable).
func (s *BPSettings) Target() Target {
	if s.Noise {
		return Pathwise
	}
	return NoiseFree
}

// String describes the settings.
func (s *BPSettings) String() string {
	if s.Noise {
		return fmt.Sprintf("bp through noise K=%d", s.Copies)
	}
	return "bp"
}

// Check implements Settings.
func (s *BPSettings) Check(info Info) []Problem { return checkBackprop("bp", s.Copies, s.Noise, info) }

func checkBackprop(kind string, copies int, noise bool, info Info) []Problem {
	var ps []Problem
	if copies < 1 || copies > MaxCopies {
		ps = append(ps, Problem{"copies", fmt.Sprintf("must be in [1, %d], got %d", MaxCopies, copies)})
	}
	if copies > 1 && !noise {
		ps = append(ps, Problem{"copies", fmt.Sprintf("backpropagation without noise computes the same gradient for each of the %d copies; set copies = 1 or noise = true", copies)})
	}
	ps = append(ps, checkRows(info, copies)...)
	if !info.Loss.Differentiable() {
		ps = append(ps, Problem{"loss.kind", fmt.Sprintf("%s (backpropagation) cannot differentiate the %v loss; use a likelihood-ratio or weight-space estimator such as glr", kind, info.Loss)})
	}
	return ps
}

// New implements Settings.
func (s *BPSettings) New(base graph.Spec) (Estimator, error) {
	return newBackprop("bp", base, s.Copies, s.Noise, graph.ZeroDerivative)
}

// backprop runs a network forward and its gorgonia.Grad gradient graph
// backward, in one allocation-free program.
type backprop struct {
	kind  string
	net   *graph.Network
	prog  *graph.Program
	grads G.Nodes // the gradient nodes, in the order of the parameters
	warn  bool    // the network has a threshold the gradient cannot pass
	// zero marks the parameters whose gradient came out identically zero
	// in the last estimate, and warnings holds the warning about them,
	// rebuilt only when the set changes.
	zero, warned []bool
	warnings     []string
}

func newBackprop(kind string, base graph.Spec, copies int, noise bool, surrogate graph.Surrogate) (*backprop, error) {
	if base.Params == nil {
		return nil, fmt.Errorf("%s: the spec carries no weights (make them with graph.NewParams)", kind)
	}
	if !base.Loss.Differentiable() {
		return nil, fmt.Errorf("%s: backpropagation cannot differentiate the %v loss; use the glr estimator", kind, base.Loss)
	}
	if copies > 1 && !noise {
		return nil, fmt.Errorf("%s: %d copies without noise would compute the same gradient %d times", kind, copies, copies)
	}
	spec := base.OnePass()
	spec.Copies, spec.NoiseOff, spec.Surrogate = copies, !noise, surrogate
	net, err := graph.Build(spec)
	if err != nil {
		return nil, fmt.Errorf("%s: network: %w", kind, err)
	}
	gs, err := net.Gradients()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", kind, err)
	}
	prog, err := net.Program(append(G.Nodes{net.Loss}, gs...)...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", kind, err)
	}
	return &backprop{kind: kind, net: net, prog: prog, grads: gs, warn: net.HasStep() && surrogate == graph.ZeroDerivative,
		zero: make([]bool, len(gs)), warned: make([]bool, len(gs))}, nil
}

// Close implements Estimator.
func (e *backprop) Close() error { return nil }

// Estimate implements Estimator. When the network has a threshold
// activation and a parameter's gradient comes out identically zero,
// Stats.Warnings says so: the step's derivative is zero, and backpropagation
// cannot train the layers below it.
func (e *backprop) Estimate(batch graph.Examples, step uint64, grads []*tensor.Dense) (Stats, error) {
	if err := checkGrads(e.net, grads); err != nil {
		return Stats{}, fmt.Errorf("%s: %w", e.kind, err)
	}
	if err := e.net.Feed(batch); err != nil {
		return Stats{}, fmt.Errorf("%s: %w", e.kind, err)
	}
	e.net.SetStep(step)
	if err := e.prog.Run(); err != nil {
		return Stats{}, fmt.Errorf("%s: %w", e.kind, err)
	}
	loss, err := graph.Scalar(e.prog.Value(e.net.Loss))
	if err != nil {
		return Stats{}, fmt.Errorf("%s: %w", e.kind, err)
	}
	if loss != loss || loss > 1e308 || loss < -1e308 {
		return Stats{}, fmt.Errorf("%s: %w: the mean loss is %v: training cannot go on (lower the learning rate or check the data)", e.kind, graph.ErrNonFiniteLoss, loss)
	}
	for i, g := range e.grads {
		v, err := e.prog.Dense(g)
		if err != nil || v.Shape().TotalSize() != grads[i].Shape().TotalSize() || v.Dtype() != grads[i].Dtype() {
			return Stats{}, fmt.Errorf("%s: the gradient of %s was not computed", e.kind, e.net.Params[i].Name())
		}
		if v.Dtype() == tensor.Float32 {
			copy(grads[i].Float32s(), v.Float32s())
		} else {
			copy(grads[i].Float64s(), v.Float64s())
		}
		e.zero[i] = e.warn && allZero(grads[i])
	}
	return Stats{Loss: loss, Rows: e.net.Rows(), Warnings: e.zeroWarnings()}, nil
}

// zeroWarnings returns the warning about the parameters marked in e.zero.
func (e *backprop) zeroWarnings() []string {
	changed, any := false, false
	for i, z := range e.zero {
		changed = changed || z != e.warned[i]
		any = any || z
	}
	if changed {
		copy(e.warned, e.zero)
		e.warnings = nil
		if any {
			var names []string
			for i, z := range e.zero {
				if z {
					names = append(names, e.net.Params[i].Name())
				}
			}
			e.warnings = []string{fmt.Sprintf(
				"the gradient of %s is exactly zero: the threshold activation has zero derivative, so backpropagation cannot train the layers below it; use the glr or ste estimator",
				strings.Join(names, ", "))}
		}
	}
	return e.warnings
}

func allZero(t *tensor.Dense) bool {
	if t.Dtype() == tensor.Float32 {
		for _, v := range t.Float32s() {
			if v != 0 {
				return false
			}
		}
		return true
	}
	for _, v := range t.Float64s() {
		if v != 0 {
			return false
		}
	}
	return true
}
