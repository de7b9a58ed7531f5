package graph

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/chewxy/hm"
	"github.com/glr-project/glr/internal/parallel"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Activation is an elementwise nonlinearity.
type Activation int

const (
	// Identity applies nothing: the output layer's logits.
	Identity Activation = iota
	// Sigmoid is the logistic function 1/(1+e^{−z}).
	Sigmoid
	// Threshold is the Heaviside step 1[z > 0] (z = 0 gives 0). Its
	// derivative is zero almost everywhere: backpropagation learns nothing
	// below it unless a surrogate derivative is asked for ([Surrogate]).
	Threshold
	// ReLU is max(z, 0).
	ReLU
	// Tanh is the hyperbolic tangent.
	Tanh
)

// ParseActivation maps sigmoid, threshold, relu and tanh to their Activation.
func ParseActivation(s string) (Activation, error) {
	switch s {
	case "sigmoid":
		return Sigmoid, nil
	case "threshold":
		return Threshold, nil
	case "relu":
		return ReLU, nil
	case "tanh":
		return Tanh, nil
	}
	return 0, fmt.Errorf("unknown activation %q (want sigmoid | threshold | relu | tanh)", s)
}

// String returns the activation's name.
func (a Activation) String() string {
	switch a {
	case Identity:
		return "identity"
	case Sigmoid:
		return "sigmoid"
	case Threshold:
		return "threshold"
	case ReLU:
		return "relu"
	case Tanh:
		return "tanh"
	}
	return fmt.Sprintf("Activation(%d)", int(a))
}

// Surrogate is the derivative backpropagation uses for a threshold
// activation: the straight-through estimator (Bengio, Léonard and Courville
// 2013) replaces the step's zero derivative in the backward pass only.
type Surrogate int

const (
	// ZeroDerivative is the step's true derivative: zero.
	ZeroDerivative Surrogate = iota
	// IdentityDerivative passes the gradient through unchanged, as if the
	// step were the identity.
	IdentityDerivative
	// SigmoidDerivative uses σ'(z) = σ(z)(1 − σ(z)), as if the step were a
	// sigmoid of its input.
	SigmoidDerivative
)

// ParseSurrogate maps zero, identity and sigmoid to their Surrogate.
func ParseSurrogate(s string) (Surrogate, error) {
	switch s {
	case "zero":
		return ZeroDerivative, nil
	case "identity":
		return IdentityDerivative, nil
	case "sigmoid":
		return SigmoidDerivative, nil
	}
	return 0, fmt.Errorf("unknown surrogate %q (want zero | identity | sigmoid)", s)
}

// String returns the surrogate's name.
func (s Surrogate) String() string {
	switch s {
	case ZeroDerivative:
		return "zero"
	case IdentityDerivative:
		return "identity"
	case SigmoidDerivative:
		return "sigmoid"
	}
	return fmt.Sprintf("Surrogate(%d)", int(s))
}

// ActivationOp applies an activation elementwise, in parallel, into a
// buffer it owns. Its symbolic gradient is an op of this package that
// multiplies the upstream gradient by the activation's derivative (for the
// step, by its [Surrogate]).
type ActivationOp struct {
	opBase
	act       Activation
	surrogate Surrogate
	out       *tensor.Dense
	loop      elementwise
}

// NewActivationOp returns an activation op; id must be unique among the
// graph's activation ops. The surrogate matters only for Threshold.
func NewActivationOp(id string, act Activation, surrogate Surrogate) (*ActivationOp, error) {
	if act < Identity || act > Tanh {
		return nil, fmt.Errorf("activation %s: unknown activation %d", id, int(act))
	}
	if surrogate < ZeroDerivative || surrogate > SigmoidDerivative {
		return nil, fmt.Errorf("activation %s: unknown surrogate %d", id, int(surrogate))
	}
	op := &ActivationOp{opBase: opBase{id: fmt.Sprintf("glr.Activation{%s,%v,%v}", id, act, surrogate)}, act: act, surrogate: surrogate}
	op.loop.init(func(in [3][]float64, y []float64) { activate(op.act, in[0], y) },
		func(in [3][]float32, y []float32) { activate(op.act, in[0], y) })
	return op, nil
}

// Activation is the function the op applies.
func (op *ActivationOp) Activation() Activation { return op.act }

// Arity is 1.
func (op *ActivationOp) Arity() int { return 1 }

// Type is a → a.
func (op *ActivationOp) Type() hm.Type { return hm.NewFnType(typeA, typeA) }

// InferShape returns the input's shape.
func (op *ActivationOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapes(op.id, in, -1)
	if err != nil {
		return nil, err
	}
	return s[0].Clone(), nil
}

// Do applies the activation.
func (op *ActivationOp) Do(vals ...G.Value) (G.Value, error) {
	if err := arity(op.id, vals, 1); err != nil {
		return nil, err
	}
	x, err := asDense(op.id, 0, vals[0], -1, tensor.Dtype{})
	if err != nil {
		return nil, err
	}
	op.out = reuse(op.out, x.Shape(), x.Dtype())
	if err := op.loop.run(op.id, op.out, x); err != nil {
		return nil, err
	}
	return op.out, nil
}

func activate[T float32 | float64](act Activation, x, y []T) {
	switch act {
	case Identity:
		copy(y, x)
	case Sigmoid:
		if ys, ok := any(y).([]float32); ok {
			sigmoid32(any(x).([]float32), ys)
			return
		}
		for i, v := range x {
			y[i] = T(1 / (1 + math.Exp(-float64(v))))
		}
	case Threshold:
		step(x, y)
	case ReLU:
		for i, v := range x {
			y[i] = max(v, 0)
		}
	case Tanh:
		for i, v := range x {
			y[i] = T(math.Tanh(float64(v)))
		}
	}
}

// step sets y[i] = 1 where x[i] > 0 and 0 elsewhere (NaN included),
// without a branch: the noisy pre-activations of a step layer fall on
// either side at random, so a branch would be mispredicted half the time.
// x > 0 exactly when the bits u of x, as an unsigned integer, are in
// [1, bits(+Inf)]: u − 1 is then below bits(+Inf), which the borrow of the
// subtraction (u − 1) − bits(+Inf) reports.
func step[T float32 | float64](x, y []T) {
	y = y[:len(x)]
	if x32, ok := any(x).([]float32); ok {
		y32 := any(y).([]float32)
		for i, v := range x32 {
			_, pos := bits.Sub64(uint64(math.Float32bits(v))-1&0xffffffff, 0x7f800000, 0)
			y32[i] = float32(pos)
		}
		return
	}
	x64, y64 := any(x).([]float64), any(y).([]float64)
	for i, v := range x64 {
		_, pos := bits.Sub64(math.Float64bits(v)-1, 0x7ff0000000000000, 0)
		y64[i] = float64(pos)
	}
}

// DiffWRT is true: a threshold is differentiated too (to zero, or to its
// surrogate), so that backpropagation runs through it instead of refusing.
func (op *ActivationOp) DiffWRT(inputs int) []bool { return []bool{true} }

// SymDiff returns the upstream gradient times the derivative.
func (op *ActivationOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 1 {
		return nil, fmt.Errorf("%s: want 1 input, got %d", op.id, len(inputs))
	}
	g := &activationGradOp{opBase: opBase{id: op.id + "/d"}, act: op.act, surrogate: op.surrogate}
	g.loop.init(func(in [3][]float64, out []float64) { derivative(g.act, g.surrogate, in[0], in[1], in[2], out) },
		func(in [3][]float32, out []float32) { derivative(g.act, g.surrogate, in[0], in[1], in[2], out) })
	d, err := G.ApplyOp(g, inputs[0], output, grad)
	if err != nil {
		return nil, fmt.Errorf("%s: gradient: %w", op.id, err)
	}
	return G.Nodes{d}, nil
}

// activationGradOp computes g ⊙ act'(x) from the input x, the output y and
// the upstream gradient g.
type activationGradOp struct {
	opBase
	act       Activation
	surrogate Surrogate
	out       *tensor.Dense
	loop      elementwise
}

func (op *activationGradOp) Arity() int    { return 3 }
func (op *activationGradOp) Type() hm.Type { return hm.NewFnType(typeA, typeA, typeA, typeA) }

func (op *activationGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapes(op.id, in, -1, -1, -1)
	if err != nil {
		return nil, err
	}
	return s[0].Clone(), nil
}

func (op *activationGradOp) Do(vals ...G.Value) (G.Value, error) {
	if err := arity(op.id, vals, 3); err != nil {
		return nil, err
	}
	x, err := asDense(op.id, 0, vals[0], -1, tensor.Dtype{})
	if err != nil {
		return nil, err
	}
	y, err := asDense(op.id, 1, vals[1], -1, x.Dtype())
	if err != nil {
		return nil, err
	}
	g, err := asDense(op.id, 2, vals[2], -1, x.Dtype())
	if err != nil {
		return nil, err
	}
	if !y.Shape().Eq(x.Shape()) || !g.Shape().Eq(x.Shape()) {
		return nil, fmt.Errorf("%s: shapes %v, %v and %v differ", op.id, x.Shape(), y.Shape(), g.Shape())
	}
	op.out = reuse(op.out, x.Shape(), x.Dtype())
	if err := op.loop.run(op.id, op.out, x, y, g); err != nil {
		return nil, err
	}
	return op.out, nil
}

func derivative[T float32 | float64](act Activation, s Surrogate, x, y, g, out []T) {
	switch act {
	case Identity:
		copy(out, g)
	case Sigmoid:
		for i, v := range y {
			out[i] = g[i] * v * (1 - v)
		}
	case Tanh:
		for i, v := range y {
			out[i] = g[i] * (1 - v*v)
		}
	case ReLU:
		for i, v := range x {
			if v > 0 {
				out[i] = g[i]
			} else {
				out[i] = 0
			}
		}
	case Threshold:
		switch s {
		case IdentityDerivative:
			copy(out, g)
		case SigmoidDerivative:
			for i, v := range x {
				p := 1 / (1 + math.Exp(-float64(v)))
				out[i] = g[i] * T(p*(1-p))
			}
		default:
			clear(out)
		}
	}
}

// elementwise runs a kernel over tensors of one length in parallel chunks
// of grain elements. The chunks depend only on the length, so results do not
// depend on GOMAXPROCS, and a run allocates nothing.
type elementwise struct {
	in   [3]*tensor.Dense
	out  *tensor.Dense
	f64  func(in [3][]float64, out []float64)
	f32  func(in [3][]float32, out []float32)
	body func(lo, hi int)
}

func (e *elementwise) init(f64 func([3][]float64, []float64), f32 func([3][]float32, []float32)) {
	e.f64, e.f32 = f64, f32
	e.body = e.chunk
}

// run applies the kernel to the inputs (at most three, all of out's size and
// dtype) into out.
func (e *elementwise) run(what string, out *tensor.Dense, in ...*tensor.Dense) error {
	n := out.Shape().TotalSize()
	for i, t := range in {
		if t.Shape().TotalSize() != n || t.Dtype() != out.Dtype() {
			return fmt.Errorf("%s: input %d is %v %v, want %d values of %v", what, i, t.Shape(), t.Dtype(), n, out.Dtype())
		}
		e.in[i] = t
	}
	if out.Dtype() != tensor.Float64 && out.Dtype() != tensor.Float32 {
		return fmt.Errorf("%s: unsupported dtype %v", what, out.Dtype())
	}
	e.out = out
	parallel.For(n, grain, e.body)
	e.in, e.out = [3]*tensor.Dense{}, nil
	return nil
}

func (e *elementwise) chunk(lo, hi int) {
	if e.out.Dtype() == tensor.Float64 {
		var in [3][]float64
		for i, t := range e.in {
			if t != nil {
				in[i] = t.Float64s()[lo:hi]
			}
		}
		e.f64(in, e.out.Float64s()[lo:hi])
		return
	}
	var in [3][]float32
	for i, t := range e.in {
		if t != nil {
			in[i] = t.Float32s()[lo:hi]
		}
	}
	e.f32(in, e.out.Float32s()[lo:hi])
}
