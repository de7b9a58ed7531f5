package graph

import (
	"fmt"
	"math"

	"github.com/chewxy/hm"
	"github.com/glr-project/glr/score"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// NoiseConfig says what a [NoiseOp] adds.
type NoiseConfig struct {
	Law     score.Law
	Scale   float64 // σ (Gaussian) or b (Laplace); > 0 and finite
	Sampler score.Sampler
	// Antithetic pairs the copies: copy 2j+1 gets the negated draw of copy 2j.
	Antithetic bool
	// Copies is the number of copies of a batch that the op's rows hold,
	// copy-major (see score.Noise).
	Copies int
	// On adds the noise; an op that is off adds nothing and records zero
	// draws and scores.
	On   bool
	Seed uint64
}

// NoiseOp is the noise site of one layer: for a pre-activation z of shape
// rows × units it computes v = z + r, with r drawn by the score-function core
// ([score.Drawer]) from the counter-based streams keyed by (seed, step, site):
// the same step gives the same draw, in any process, whatever the number of
// goroutines. It keeps r and ψ(r) until the next pass, for the estimators to
// read. Under symbolic differentiation it is the identity, so
// backpropagation runs through the same graph whether the noise is on or
// off.
//
// The step is set before each pass with [NoiseOp.SetStep] (through
// [Network.SetStep]); it is the only state that changes between passes. A
// NoiseOp is not safe for concurrent use.
type NoiseOp struct {
	opBase
	site int
	name string
	what string // "noise site NAME", for messages
	cfg  NoiseConfig
	step uint64

	noise, score, out *tensor.Dense
	d64               *score.Drawer[float64]
	d32               *score.Drawer[float32]
	add               elementwise
}

// NewNoiseOp returns the noise op of site number site (unique within its
// graph), named for messages.
func NewNoiseOp(site int, name string, cfg NoiseConfig) (*NoiseOp, error) {
	if !(cfg.Scale > 0) || math.IsInf(cfg.Scale, 0) {
		return nil, fmt.Errorf("noise site %s: scale must be positive and finite, got %v", name, cfg.Scale)
	}
	if cfg.Copies == 0 {
		cfg.Copies = 1
	}
	check := score.Noise{Law: cfg.Law, Scale: cfg.Scale, Sampler: cfg.Sampler, Antithetic: cfg.Antithetic, Copies: cfg.Copies, Rows: 1, Units: 1}
	if err := check.Check(); err != nil {
		return nil, fmt.Errorf("noise site %s: %w", name, err)
	}
	op := &NoiseOp{
		opBase: opBase{id: fmt.Sprintf("glr.Noise{site=%d,%v,%g,on=%t}", site, cfg.Law, cfg.Scale, cfg.On)},
		site:   site, name: name, what: "noise site " + name, cfg: cfg,
	}
	op.add.init(func(in [3][]float64, out []float64) { addInto(in[0], in[1], out) },
		func(in [3][]float32, out []float32) { addInto(in[0], in[1], out) })
	return op, nil
}

func addInto[T float32 | float64](a, b, out []T) {
	for i, v := range a {
		out[i] = v + b[i]
	}
}

// Site is the op's site number, unique within its graph.
func (op *NoiseOp) Site() int { return op.site }

// Name is the site's name, such as "layer1".
func (op *NoiseOp) Name() string { return op.name }

// Config returns what the op adds.
func (op *NoiseOp) Config() NoiseConfig { return op.cfg }

// SetStep sets the stream position of the next passes' draws.
func (op *NoiseOp) SetStep(step uint64) { op.step = step }

// Noise is the draw r of the last pass (rows × units), or nil before the
// first pass. It is overwritten by the next pass.
func (op *NoiseOp) Noise() *tensor.Dense { return op.noise }

// Score is ψ(r) of the last pass, shaped like [NoiseOp.Noise].
func (op *NoiseOp) Score() *tensor.Dense { return op.score }

// Arity is 1: the pre-activation.
func (op *NoiseOp) Arity() int { return 1 }

// Type is a → a.
func (op *NoiseOp) Type() hm.Type { return hm.NewFnType(typeA, typeA) }

// InferShape returns the input's shape; the input must be a matrix whose rows
// split into the op's copies.
func (op *NoiseOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapes("noise site "+op.name, in, 2)
	if err != nil {
		return nil, err
	}
	if s[0][0]%op.cfg.Copies != 0 {
		return nil, fmt.Errorf("noise site %s: %d rows do not split into %d copies", op.name, s[0][0], op.cfg.Copies)
	}
	return s[0].Clone(), nil
}

// Do returns z + r in a buffer the op owns and reuses.
func (op *NoiseOp) Do(vals ...G.Value) (G.Value, error) {
	if err := arity(op.what, vals, 1); err != nil {
		return nil, err
	}
	in, err := asDense(op.what, 0, vals[0], 2, tensor.Dtype{})
	if err != nil {
		return nil, err
	}
	rows := in.Shape()[0]
	if rows%op.cfg.Copies != 0 {
		return nil, fmt.Errorf("noise site %s: %d rows do not split into %d copies", op.name, rows, op.cfg.Copies)
	}
	if err := op.prepare(in.Shape(), in.Dtype()); err != nil {
		return nil, err
	}
	if op.cfg.On {
		switch in.Dtype() {
		case tensor.Float64:
			op.d64.Fill(op.noise.Float64s(), op.score.Float64s(), op.cfg.Seed, op.step, uint64(op.site))
		case tensor.Float32:
			op.d32.Fill(op.noise.Float32s(), op.score.Float32s(), op.cfg.Seed, op.step, uint64(op.site))
		}
	}
	if err := op.add.run(op.what, op.out, in, op.noise); err != nil {
		return nil, err
	}
	return op.out, nil
}

// prepare sizes the op's buffers and drawer for inputs of the given shape.
func (op *NoiseOp) prepare(shape tensor.Shape, dt tensor.Dtype) error {
	if op.out != nil && op.out.Shape().Eq(shape) && op.out.Dtype() == dt {
		return nil
	}
	if dt != tensor.Float64 && dt != tensor.Float32 {
		return fmt.Errorf("noise site %s: unsupported dtype %v", op.name, dt)
	}
	op.noise = tensor.New(tensor.WithShape(shape.Clone()...), tensor.Of(dt))
	op.score = tensor.New(tensor.WithShape(shape.Clone()...), tensor.Of(dt))
	op.out = tensor.New(tensor.WithShape(shape.Clone()...), tensor.Of(dt))
	n := score.Noise{Law: op.cfg.Law, Scale: op.cfg.Scale, Sampler: op.cfg.Sampler, Antithetic: op.cfg.Antithetic,
		Copies: op.cfg.Copies, Rows: shape[0] / op.cfg.Copies, Units: shape[1]}
	var err error
	if dt == tensor.Float64 {
		op.d64, err = score.NewDrawer[float64](n)
	} else {
		op.d32, err = score.NewDrawer[float32](n)
	}
	if err != nil {
		return fmt.Errorf("noise site %s: %w", op.name, err)
	}
	return nil
}

// DiffWRT is true: the op is differentiable in its input.
func (op *NoiseOp) DiffWRT(inputs int) []bool { return []bool{true} }

// SymDiff passes the gradient through unchanged: ∂(z + r)/∂z = 1.
func (op *NoiseOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 1 {
		return nil, fmt.Errorf("noise site %s: want 1 input, got %d", op.name, len(inputs))
	}
	return G.Nodes{grad}, nil
}
