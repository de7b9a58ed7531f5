package graph

import (
	"fmt"
	"hash"
	"hash/fnv"
	"io"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// opBase supplies the Op methods that every op of this package shares. Its
// id is the op's identity: Gorgonia merges nodes whose ops hash equal and
// whose inputs are the same, so the id carries everything that makes an
// instance distinct (its kind, its network-unique number, its settings).
type opBase struct{ id string }

// ReturnsPtr is false: results live in buffers the op owns.
func (o opBase) ReturnsPtr() bool { return false }

// CallsExtern is false.
func (o opBase) CallsExtern() bool { return false }

// OverwritesInput is -1: an op never writes its inputs.
func (o opBase) OverwritesInput() int { return -1 }

// WriteHash writes the op's identity.
func (o opBase) WriteHash(h hash.Hash) { io.WriteString(h, o.id) }

// Hashcode is the FNV-1a hash of the identity.
func (o opBase) Hashcode() uint32 {
	h := fnv.New32a()
	io.WriteString(h, o.id)
	return h.Sum32()
}

// String returns the identity.
func (o opBase) String() string { return o.id }

// Types used by the ops' Type methods.
var (
	typeA      = hm.TypeVariable('a')
	typeMatrix = G.TensorType{Dims: 2, Of: typeA}
	typeVector = G.TensorType{Dims: 1, Of: typeA}
)

// reuse returns buf if it has the given shape and dtype, else a new tensor.
// Ops keep their results in buffers they own and write them again on every
// pass, which is what makes a pass allocation-free after the first one.
func reuse(buf *tensor.Dense, shape tensor.Shape, dt tensor.Dtype) *tensor.Dense {
	if buf != nil && buf.Shape().Eq(shape) && buf.Dtype() == dt {
		return buf
	}
	return tensor.New(tensor.WithShape(shape.Clone()...), tensor.Of(dt))
}

// shapes checks the count of an op's input shapes and that each is a
// tensor.Shape of the given number of dimensions (-1: any).
func shapes(what string, in []G.DimSizer, dims ...int) ([]tensor.Shape, error) {
	if len(in) != len(dims) {
		return nil, fmt.Errorf("%s: want %d inputs, got %d", what, len(dims), len(in))
	}
	out := make([]tensor.Shape, len(in))
	for i, d := range in {
		s, ok := d.(tensor.Shape)
		if !ok || (dims[i] >= 0 && len(s) != dims[i]) {
			return nil, fmt.Errorf("%s: input %d: want %d dimensions, got shape %v", what, i, dims[i], d)
		}
		out[i] = s
	}
	return out, nil
}

// asDense returns input i of an op as a *tensor.Dense with the given number
// of dimensions (-1: any) and, unless dt is the zero Dtype, the given dtype.
// It allocates only when it fails.
func asDense(what string, i int, v G.Value, dims int, dt tensor.Dtype) (*tensor.Dense, error) {
	d, ok := v.(*tensor.Dense)
	if !ok || (dims >= 0 && d.Dims() != dims) {
		return nil, fmt.Errorf("%s: input %d: want a %d-dimensional tensor, got %T", what, i, dims, v)
	}
	if dt != (tensor.Dtype{}) && d.Dtype() != dt {
		return nil, fmt.Errorf("%s: input %d has dtype %v, want %v", what, i, d.Dtype(), dt)
	}
	return d, nil
}

// arity checks the number of an op's input values.
func arity(what string, vals []G.Value, n int) error {
	if len(vals) != n {
		return fmt.Errorf("%s: want %d inputs, got %d", what, n, len(vals))
	}
	return nil
}
