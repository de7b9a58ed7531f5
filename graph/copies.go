package graph

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TileOp repeats the rows of a matrix: for a B × n input it returns the
// (copies·B) × n matrix whose rows [c·B, (c+1)·B) are the input, copy-major.
// A network with noisy copies of each example computes the input layer's
// product x·W once per example and tiles it, instead of multiplying copies
// identical rows. Its gradient sums the copies ([SumCopiesOp]).
type TileOp struct {
	id, copies int
	out        *tensor.Dense
}

// NewTileOp returns a tile op; id must be unique among the graph's tile ops.
func NewTileOp(id, copies int) (*TileOp, error) {
	if copies < 1 {
		return nil, fmt.Errorf("tile: copies must be at least 1, got %d", copies)
	}
	return &TileOp{id: id, copies: copies}, nil
}

// SumCopiesOp is the adjoint of [TileOp]: for a (copies·B) × n input it
// returns the B × n sum of its copies.
type SumCopiesOp struct {
	id, copies int
	out        *tensor.Dense
}

// NewSumCopiesOp returns a sum-of-copies op; id must be unique among the
// graph's such ops.
func NewSumCopiesOp(id, copies int) (*SumCopiesOp, error) {
	if copies < 1 {
		return nil, fmt.Errorf("sum of copies: copies must be at least 1, got %d", copies)
	}
	return &SumCopiesOp{id: id, copies: copies}, nil
}

func matrixType() hm.Type {
	a := hm.TypeVariable('a')
	m := G.TensorType{Dims: 2, Of: a}
	return hm.NewFnType(m, m)
}

func oneMatrix(what string, in []G.DimSizer) (tensor.Shape, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("%s: want 1 input, got %d", what, len(in))
	}
	s, ok := in[0].(tensor.Shape)
	if !ok || len(s) != 2 {
		return nil, fmt.Errorf("%s: want a matrix, got shape %v", what, in[0])
	}
	return s, nil
}

func oneDense(what string, vals []G.Value) (*tensor.Dense, error) {
	if len(vals) != 1 {
		return nil, fmt.Errorf("%s: want 1 input, got %d", what, len(vals))
	}
	d, ok := vals[0].(*tensor.Dense)
	if !ok || d.Dims() != 2 {
		return nil, fmt.Errorf("%s: want a matrix, got %T", what, vals[0])
	}
	return d, nil
}

// Arity is 1.
func (op *TileOp) Arity() int { return 1 }

// Type is Matrix a → Matrix a.
func (op *TileOp) Type() hm.Type { return matrixType() }

// InferShape returns (copies·rows, cols).
func (op *TileOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := oneMatrix("tile", in)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{s[0] * op.copies, s[1]}, nil
}

// Do returns the tiled matrix in a buffer the op owns and reuses.
func (op *TileOp) Do(vals ...G.Value) (G.Value, error) {
	in, err := oneDense("tile", vals)
	if err != nil {
		return nil, err
	}
	op.out = reuse(op.out, tensor.Shape{in.Shape()[0] * op.copies, in.Shape()[1]}, in.Dtype())
	switch in.Dtype() {
	case tensor.Float64:
		tile(in.Float64s(), op.out.Float64s(), op.copies)
	case tensor.Float32:
		tile(in.Float32s(), op.out.Float32s(), op.copies)
	default:
		return nil, fmt.Errorf("tile: unsupported dtype %v", in.Dtype())
	}
	return op.out, nil
}

func tile[T float32 | float64](x, out []T, copies int) {
	for c := 0; c < copies; c++ {
		copy(out[c*len(x):(c+1)*len(x)], x)
	}
}

// ReturnsPtr is false.
func (op *TileOp) ReturnsPtr() bool { return false }

// CallsExtern is false.
func (op *TileOp) CallsExtern() bool { return false }

// OverwritesInput is -1.
func (op *TileOp) OverwritesInput() int { return -1 }

// WriteHash writes the op's identity: id and copies.
func (op *TileOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "glr.Tile{id=%d,%d}", op.id, op.copies) }

// Hashcode is the FNV-1a hash of WriteHash.
func (op *TileOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

func (op *TileOp) String() string { return fmt.Sprintf("Tile[%d ×%d]", op.id, op.copies) }

// DiffWRT is true.
func (op *TileOp) DiffWRT(int) []bool { return []bool{true} }

// SymDiff sums the gradient's copies.
func (op *TileOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	sum, err := NewSumCopiesOp(op.id, op.copies)
	if err != nil {
		return nil, err
	}
	d, err := G.ApplyOp(sum, grad)
	if err != nil {
		return nil, fmt.Errorf("tile gradient: %w", err)
	}
	return G.Nodes{d}, nil
}

// Arity is 1.
func (op *SumCopiesOp) Arity() int { return 1 }

// Type is Matrix a → Matrix a.
func (op *SumCopiesOp) Type() hm.Type { return matrixType() }

// InferShape returns (rows/copies, cols); rows must split into copies.
func (op *SumCopiesOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := oneMatrix("sum of copies", in)
	if err != nil {
		return nil, err
	}
	if s[0]%op.copies != 0 {
		return nil, fmt.Errorf("sum of copies: %d rows do not split into %d copies", s[0], op.copies)
	}
	return tensor.Shape{s[0] / op.copies, s[1]}, nil
}

// Do returns the sum of the copies in a buffer the op owns and reuses.
func (op *SumCopiesOp) Do(vals ...G.Value) (G.Value, error) {
	in, err := oneDense("sum of copies", vals)
	if err != nil {
		return nil, err
	}
	rows, cols := in.Shape()[0], in.Shape()[1]
	if rows%op.copies != 0 {
		return nil, fmt.Errorf("sum of copies: %d rows do not split into %d copies", rows, op.copies)
	}
	op.out = reuse(op.out, tensor.Shape{rows / op.copies, cols}, in.Dtype())
	switch in.Dtype() {
	case tensor.Float64:
		sumCopies(in.Float64s(), op.out.Float64s(), op.copies)
	case tensor.Float32:
		sumCopies(in.Float32s(), op.out.Float32s(), op.copies)
	default:
		return nil, fmt.Errorf("sum of copies: unsupported dtype %v", in.Dtype())
	}
	return op.out, nil
}

// sumCopies sets out to the sum of the copies blocks of x.
func sumCopies[T float32 | float64](x, out []T, copies int) {
	copy(out, x[:len(out)])
	for c := 1; c < copies; c++ {
		block := x[c*len(out) : (c+1)*len(out)]
		for i, v := range block {
			out[i] += v
		}
	}
}

// ReturnsPtr is false.
func (op *SumCopiesOp) ReturnsPtr() bool { return false }

// CallsExtern is false.
func (op *SumCopiesOp) CallsExtern() bool { return false }

// OverwritesInput is -1.
func (op *SumCopiesOp) OverwritesInput() int { return -1 }

// WriteHash writes the op's identity: id and copies.
func (op *SumCopiesOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "glr.SumCopies{id=%d,%d}", op.id, op.copies)
}

// Hashcode is the FNV-1a hash of WriteHash.
func (op *SumCopiesOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

func (op *SumCopiesOp) String() string { return fmt.Sprintf("SumCopies[%d ×%d]", op.id, op.copies) }

// DiffWRT is true.
func (op *SumCopiesOp) DiffWRT(int) []bool { return []bool{true} }

// SymDiff tiles the gradient.
func (op *SumCopiesOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	t, err := NewTileOp(op.id, op.copies)
	if err != nil {
		return nil, err
	}
	d, err := G.ApplyOp(t, grad)
	if err != nil {
		return nil, fmt.Errorf("sum of copies gradient: %w", err)
	}
	return G.Nodes{d}, nil
}
