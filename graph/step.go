package graph

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// StepOp is the Heaviside step, the threshold activation: 1 where x > 0 and 0
// elsewhere (x = 0 gives 0). Its derivative is zero almost everywhere, and its
// symbolic gradient is exactly zero, so backpropagation through it runs but
// learns nothing below it. Gorgonia's own comparison ops refuse to be
// differentiated at all.
type StepOp struct {
	id  int
	out *tensor.Dense
}

// NewStepOp returns a step op; id must be unique among the graph's step ops.
func NewStepOp(id int) *StepOp { return &StepOp{id: id} }

// Arity is 1.
func (op *StepOp) Arity() int { return 1 }

// Type is a → a.
func (op *StepOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a)
}

// InferShape returns the input's shape.
func (op *StepOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("step: want 1 input, got %d", len(in))
	}
	s, ok := in[0].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("step: input has no shape")
	}
	return s.Clone(), nil
}

// Do returns 1[x > 0] in a buffer the op owns and reuses.
func (op *StepOp) Do(vals ...G.Value) (G.Value, error) {
	if len(vals) != 1 {
		return nil, fmt.Errorf("step: want 1 input, got %d", len(vals))
	}
	in, ok := vals[0].(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("step: want a tensor, got %T", vals[0])
	}
	op.out = reuse(op.out, in.Shape(), in.Dtype())
	switch x := in.Data().(type) {
	case []float64:
		heaviside(x, op.out.Float64s())
	case []float32:
		heaviside(x, op.out.Float32s())
	default:
		return nil, fmt.Errorf("step: unsupported dtype %v", in.Dtype())
	}
	return op.out, nil
}

func heaviside[T float32 | float64](x, out []T) {
	for i, v := range x {
		if v > 0 {
			out[i] = 1
		} else {
			out[i] = 0
		}
	}
}

// ReturnsPtr is false.
func (op *StepOp) ReturnsPtr() bool { return false }

// CallsExtern is false.
func (op *StepOp) CallsExtern() bool { return false }

// OverwritesInput is -1.
func (op *StepOp) OverwritesInput() int { return -1 }

// WriteHash writes the op's identity, its id included.
func (op *StepOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "glr.Step{id=%d}", op.id) }

// Hashcode is the FNV-1a hash of WriteHash.
func (op *StepOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

func (op *StepOp) String() string { return fmt.Sprintf("Step[%d]", op.id) }

// DiffWRT is true, so that backpropagation runs through the op (and yields
// zero) instead of refusing the graph.
func (op *StepOp) DiffWRT(inputs int) []bool { return []bool{true} }

// SymDiff returns a zero gradient of the input's shape.
func (op *StepOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 1 {
		return nil, fmt.Errorf("step: want 1 input, got %d", len(inputs))
	}
	// grad ⊙ 0 rather than a bare constant: a constant joins the graph only
	// through an op, and later SymDiffs need their inputs in the graph.
	d, err := G.HadamardProd(grad, zeroLike(grad))
	if err != nil {
		return nil, fmt.Errorf("step: gradient: %w", err)
	}
	return G.Nodes{d}, nil
}

// zeroLike is a constant zero tensor of n's shape and dtype.
func zeroLike(n *G.Node) *G.Node {
	dt := n.Dtype()
	z := tensor.New(tensor.WithShape(n.Shape().Clone()...), tensor.Of(dt))
	return G.NewConstant(z, G.WithName(fmt.Sprintf("zeros%v_%v", n.Shape(), dt)))
}

// reuse returns buf if it has the given shape and dtype, else a new tensor.
func reuse(buf *tensor.Dense, shape tensor.Shape, dt tensor.Dtype) *tensor.Dense {
	if buf != nil && buf.Shape().Eq(shape) && buf.Dtype() == dt {
		return buf
	}
	return tensor.New(tensor.WithShape(shape.Clone()...), tensor.Of(dt))
}
