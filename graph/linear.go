package graph

import (
	"fmt"

	"github.com/chewxy/hm"
	"github.com/glr-project/glr/internal/linalg"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// grain is the number of elements a parallel elementwise loop hands to one
// goroutine at a time.
const grain = 1 << 14

// LinearOp computes x·W, or x·W + b with a bias: for x of shape rows × in,
// W in × out and b of out values, a rows × out matrix. Its symbolic gradient
// is made of this package's ops too: ∂/∂x = g·Wᵀ, ∂/∂W = xᵀ·g, ∂/∂b = 1ᵀ·g.
type LinearOp struct {
	opBase
	bias bool
	out  *tensor.Dense
	p64  linalg.Product[float64]
	p32  linalg.Product[float32]
}

// NewLinearOp returns a linear op; id must be unique among the graph's
// linear ops.
func NewLinearOp(id string, bias bool) *LinearOp {
	return &LinearOp{opBase: opBase{id: "glr.Linear{" + id + "}"}, bias: bias}
}

// Arity is 3 with a bias (x, W, b) and 2 without.
func (op *LinearOp) Arity() int {
	if op.bias {
		return 3
	}
	return 2
}

// Type is Matrix a → Matrix a (→ Vector a) → Matrix a.
func (op *LinearOp) Type() hm.Type {
	if op.bias {
		return hm.NewFnType(typeMatrix, typeMatrix, typeVector, typeMatrix)
	}
	return hm.NewFnType(typeMatrix, typeMatrix, typeMatrix)
}

// InferShape returns rows × out and checks that the inputs fit.
func (op *LinearOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	dims := []int{2, 2}
	if op.bias {
		dims = append(dims, 1)
	}
	s, err := shapes(op.id, in, dims...)
	if err != nil {
		return nil, err
	}
	if s[0][1] != s[1][0] {
		return nil, fmt.Errorf("%s: input %v does not fit weight %v", op.id, s[0], s[1])
	}
	if op.bias && s[2][0] != s[1][1] {
		return nil, fmt.Errorf("%s: bias %v does not fit weight %v", op.id, s[2], s[1])
	}
	return tensor.Shape{s[0][0], s[1][1]}, nil
}

// Do computes x·W (+ b) into the op's buffer.
func (op *LinearOp) Do(vals ...G.Value) (G.Value, error) {
	if err := arity(op.id, vals, op.Arity()); err != nil {
		return nil, err
	}
	x, err := asDense(op.id, 0, vals[0], 2, tensor.Dtype{})
	if err != nil {
		return nil, err
	}
	w, err := asDense(op.id, 1, vals[1], 2, x.Dtype())
	if err != nil {
		return nil, err
	}
	rows, in, out := x.Shape()[0], x.Shape()[1], w.Shape()[1]
	if w.Shape()[0] != in {
		return nil, fmt.Errorf("%s: input %v does not fit weight %v", op.id, x.Shape(), w.Shape())
	}
	var b *tensor.Dense
	if op.bias {
		if b, err = asDense(op.id, 2, vals[2], 1, x.Dtype()); err != nil {
			return nil, err
		}
		if b.Shape()[0] != out {
			return nil, fmt.Errorf("%s: bias %v does not fit weight %v", op.id, b.Shape(), w.Shape())
		}
	}
	op.out = reuse(op.out, tensor.Shape{rows, out}, x.Dtype())
	switch x.Dtype() {
	case tensor.Float64:
		var bs []float64
		if b != nil {
			bs = b.Float64s()
		}
		linear(&op.p64, x.Float64s(), w.Float64s(), bs, op.out.Float64s(), rows, in, out)
	case tensor.Float32:
		var bs []float32
		if b != nil {
			bs = b.Float32s()
		}
		linear(&op.p32, x.Float32s(), w.Float32s(), bs, op.out.Float32s(), rows, in, out)
	default:
		return nil, fmt.Errorf("%s: unsupported dtype %v", op.id, x.Dtype())
	}
	return op.out, nil
}

func linear[T float32 | float64](p *linalg.Product[T], x, w, b, y []T, rows, in, out int) {
	if b == nil {
		p.Gemm(false, false, rows, out, in, 1, x, in, w, out, 0, y, out)
		return
	}
	for m := 0; m < rows; m++ {
		copy(y[m*out:(m+1)*out], b)
	}
	p.Gemm(false, false, rows, out, in, 1, x, in, w, out, 1, y, out)
}

// DiffWRT is true for every input.
func (op *LinearOp) DiffWRT(inputs int) []bool {
	d := make([]bool, inputs)
	for i := range d {
		d[i] = true
	}
	return d
}

// SymDiff returns g·Wᵀ, xᵀ·g and, with a bias, the column sums of g.
func (op *LinearOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != op.Arity() {
		return nil, fmt.Errorf("%s: want %d inputs, got %d", op.id, op.Arity(), len(inputs))
	}
	x, w := inputs[0], inputs[1]
	dx, err := G.ApplyOp(newProductOp(op.id+"/dx", false, true), grad, w)
	if err != nil {
		return nil, fmt.Errorf("%s: gradient of the input: %w", op.id, err)
	}
	dw, err := G.ApplyOp(newProductOp(op.id+"/dW", true, false), x, grad)
	if err != nil {
		return nil, fmt.Errorf("%s: gradient of the weight: %w", op.id, err)
	}
	if !op.bias {
		return G.Nodes{dx, dw}, nil
	}
	db, err := G.ApplyOp(&colSumOp{opBase: opBase{id: "glr.ColSum{" + op.id + "/db}"}}, grad)
	if err != nil {
		return nil, fmt.Errorf("%s: gradient of the bias: %w", op.id, err)
	}
	return G.Nodes{dx, dw, db}, nil
}

// productOp computes op(A)·op(B) for matrices, with A or B transposed. It
// serves the gradients of LinearOp.
type productOp struct {
	opBase
	ta, tb bool
	out    *tensor.Dense
	p64    linalg.Product[float64]
	p32    linalg.Product[float32]
}

func newProductOp(id string, ta, tb bool) *productOp {
	return &productOp{opBase: opBase{id: fmt.Sprintf("glr.Product{%s,%t,%t}", id, ta, tb)}, ta: ta, tb: tb}
}

func (op *productOp) Arity() int    { return 2 }
func (op *productOp) Type() hm.Type { return hm.NewFnType(typeMatrix, typeMatrix, typeMatrix) }

// dims returns m, n, k of op(A)·op(B) for A and B of the given shapes.
func (op *productOp) dims(a, b tensor.Shape) (m, n, k int, err error) {
	m, k = a[0], a[1]
	if op.ta {
		m, k = k, m
	}
	kb, n := b[0], b[1]
	if op.tb {
		kb, n = n, kb
	}
	if k != kb {
		return 0, 0, 0, fmt.Errorf("%s: %v and %v do not multiply", op.id, a, b)
	}
	return m, n, k, nil
}

func (op *productOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapes(op.id, in, 2, 2)
	if err != nil {
		return nil, err
	}
	m, n, _, err := op.dims(s[0], s[1])
	if err != nil {
		return nil, err
	}
	return tensor.Shape{m, n}, nil
}

func (op *productOp) Do(vals ...G.Value) (G.Value, error) {
	if err := arity(op.id, vals, 2); err != nil {
		return nil, err
	}
	a, err := asDense(op.id, 0, vals[0], 2, tensor.Dtype{})
	if err != nil {
		return nil, err
	}
	b, err := asDense(op.id, 1, vals[1], 2, a.Dtype())
	if err != nil {
		return nil, err
	}
	m, n, k, err := op.dims(a.Shape(), b.Shape())
	if err != nil {
		return nil, err
	}
	op.out = reuse(op.out, tensor.Shape{m, n}, a.Dtype())
	lda, ldb := a.Shape()[1], b.Shape()[1]
	switch a.Dtype() {
	case tensor.Float64:
		op.p64.Gemm(op.ta, op.tb, m, n, k, 1, a.Float64s(), lda, b.Float64s(), ldb, 0, op.out.Float64s(), n)
	case tensor.Float32:
		op.p32.Gemm(op.ta, op.tb, m, n, k, 1, a.Float32s(), lda, b.Float32s(), ldb, 0, op.out.Float32s(), n)
	default:
		return nil, fmt.Errorf("%s: unsupported dtype %v", op.id, a.Dtype())
	}
	return op.out, nil
}

// colSumOp sums the rows of a matrix: the gradient of a bias.
type colSumOp struct {
	opBase
	out *tensor.Dense
}

func (op *colSumOp) Arity() int    { return 1 }
func (op *colSumOp) Type() hm.Type { return hm.NewFnType(typeMatrix, typeVector) }

func (op *colSumOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapes(op.id, in, 2)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{s[0][1]}, nil
}

func (op *colSumOp) Do(vals ...G.Value) (G.Value, error) {
	if err := arity(op.id, vals, 1); err != nil {
		return nil, err
	}
	g, err := asDense(op.id, 0, vals[0], 2, tensor.Dtype{})
	if err != nil {
		return nil, err
	}
	rows, cols := g.Shape()[0], g.Shape()[1]
	op.out = reuse(op.out, tensor.Shape{cols}, g.Dtype())
	switch g.Dtype() {
	case tensor.Float64:
		colSums(g.Float64s(), op.out.Float64s(), rows, cols)
	case tensor.Float32:
		colSums(g.Float32s(), op.out.Float32s(), rows, cols)
	default:
		return nil, fmt.Errorf("%s: unsupported dtype %v", op.id, g.Dtype())
	}
	return op.out, nil
}

// colSums sets out to the column sums of the rows × cols matrix g, summing
// rows in order.
func colSums[T float32 | float64](g, out []T, rows, cols int) {
	clear(out)
	for m := 0; m < rows; m++ {
		for j, v := range g[m*cols : (m+1)*cols] {
			out[j] += v
		}
	}
}
