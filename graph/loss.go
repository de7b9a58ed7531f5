package graph

import (
	"fmt"
	"hash"
	"hash/fnv"
	"math"

	"github.com/chewxy/hm"
	"github.com/glr-project/glr/internal/parallel"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// LossKind names a per-example loss of logits z against targets y (one row per
// example, one-hot targets for classification).
type LossKind int

const (
	// CrossEntropy is softmax cross-entropy, (Σ_c y_c)·logsumexp(z) − Σ_c y_c z_c,
	// which is −log softmax(z)_label for one-hot y. The log-sum-exp subtracts
	// each row's own maximum, so it is finite for any finite logits.
	CrossEntropy LossKind = iota
	// ZeroOne is 1[argmax z ≠ argmax y] (the first maximum wins ties). It has
	// no derivative: only the GLR estimator can train it.
	ZeroOne
	// Squared is ½ Σ_c (z_c − y_c)², the squared error of the raw outputs.
	Squared
)

// ParseLossKind maps "cross-entropy", "zero-one" and "squared" to their kind.
func ParseLossKind(s string) (LossKind, error) {
	switch s {
	case "cross-entropy":
		return CrossEntropy, nil
	case "zero-one":
		return ZeroOne, nil
	case "squared":
		return Squared, nil
	}
	return 0, fmt.Errorf("unknown loss %q (want cross-entropy | zero-one | squared)", s)
}

func (k LossKind) String() string {
	switch k {
	case CrossEntropy:
		return "cross-entropy"
	case ZeroOne:
		return "zero-one"
	case Squared:
		return "squared"
	}
	return fmt.Sprintf("LossKind(%d)", int(k))
}

// Differentiable reports whether backpropagation can train the loss.
func (k LossKind) Differentiable() bool { return k != ZeroOne }

// LossOp computes a per-example loss: for logits and targets of shape
// rows × classes it returns a vector of rows losses. It never writes its
// inputs, so the logits stay readable after a pass.
type LossOp struct {
	kind LossKind
	id   int
	out  *tensor.Dense

	// the pass in progress, for the parallel loop
	z, y    *tensor.Dense
	classes int
	body    func(lo, hi int)
}

// NewLossOp returns the loss op of the given kind; id must be unique among the
// graph's loss ops.
func NewLossOp(kind LossKind, id int) (*LossOp, error) {
	if kind != CrossEntropy && kind != ZeroOne && kind != Squared {
		return nil, fmt.Errorf("unknown loss kind %v", kind)
	}
	op := &LossOp{kind: kind, id: id}
	op.body = op.rows
	return op, nil
}

// Kind is the loss the op computes.
func (op *LossOp) Kind() LossKind { return op.kind }

// Arity is 2: logits and targets.
func (op *LossOp) Arity() int { return 2 }

// Type is Matrix a → Matrix a → Vector a.
func (op *LossOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	m := G.TensorType{Dims: 2, Of: a}
	return hm.NewFnType(m, m, G.TensorType{Dims: 1, Of: a})
}

// InferShape checks that logits and targets agree and returns (rows).
func (op *LossOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	z, y, err := twoMatrices(op.kind.String(), in)
	if err != nil {
		return nil, err
	}
	if !z.Eq(y) {
		return nil, fmt.Errorf("%v loss: logits %v and targets %v differ in shape", op.kind, z, y)
	}
	return tensor.Shape{z[0]}, nil
}

func twoMatrices(what string, in []G.DimSizer) (a, b tensor.Shape, err error) {
	if len(in) != 2 {
		return nil, nil, fmt.Errorf("%s: want 2 inputs, got %d", what, len(in))
	}
	a, ok1 := in[0].(tensor.Shape)
	b, ok2 := in[1].(tensor.Shape)
	if !ok1 || !ok2 || len(a) != 2 || len(b) != 2 {
		return nil, nil, fmt.Errorf("%s: want two matrices, got shapes %v and %v", what, in[0], in[1])
	}
	return a, b, nil
}

// Do returns the per-example losses in a buffer the op owns and reuses.
func (op *LossOp) Do(vals ...G.Value) (G.Value, error) {
	z, y, err := twoDense(op.kind.String(), vals)
	if err != nil {
		return nil, err
	}
	rows, classes := z.Shape()[0], z.Shape()[1]
	op.out = reuse(op.out, tensor.Shape{rows}, z.Dtype())
	if z.Dtype() != tensor.Float64 && z.Dtype() != tensor.Float32 {
		return nil, fmt.Errorf("%v loss: unsupported dtype %v", op.kind, z.Dtype())
	}
	op.z, op.y, op.classes = z, y, classes
	parallel.For(rows, lossGrain, op.body)
	op.z, op.y = nil, nil
	return op.out, nil
}

// lossGrain is the number of rows a parallel loss loop hands to one
// goroutine at a time.
const lossGrain = 256

// rows computes the losses of rows [lo, hi) of the pass in progress.
func (op *LossOp) rows(lo, hi int) {
	c := op.classes
	if op.z.Dtype() == tensor.Float64 {
		rowLosses(op.kind, op.z.Float64s()[lo*c:hi*c], op.y.Float64s()[lo*c:hi*c], op.out.Float64s()[lo:hi], c)
		return
	}
	rowLosses(op.kind, op.z.Float32s()[lo*c:hi*c], op.y.Float32s()[lo*c:hi*c], op.out.Float32s()[lo:hi], c)
}

func twoDense(what string, vals []G.Value) (a, b *tensor.Dense, err error) {
	if len(vals) != 2 {
		return nil, nil, fmt.Errorf("%s: want 2 inputs, got %d", what, len(vals))
	}
	a, ok1 := vals[0].(*tensor.Dense)
	b, ok2 := vals[1].(*tensor.Dense)
	if !ok1 || !ok2 || a.Dims() != 2 || !a.Shape().Eq(b.Shape()) || a.Dtype() != b.Dtype() {
		return nil, nil, fmt.Errorf("%s: want two matrices of one shape and dtype, got %v and %v", what, vals[0].Shape(), vals[1].Shape())
	}
	return a, b, nil
}

func rowLosses[T float32 | float64](kind LossKind, z, y, out []T, classes int) {
	for m := range out {
		zr, yr := z[m*classes:(m+1)*classes], y[m*classes:(m+1)*classes]
		switch kind {
		case CrossEntropy:
			lse, _ := logSumExp(zr)
			var sy, syz float64
			for c, v := range yr {
				sy += float64(v)
				syz += float64(v) * float64(zr[c])
			}
			out[m] = T(sy*lse - syz)
		case ZeroOne:
			if argmax(zr) != argmax(yr) {
				out[m] = 1
			} else {
				out[m] = 0
			}
		case Squared:
			var s float64
			for c, v := range zr {
				d := float64(v) - float64(yr[c])
				s += d * d
			}
			out[m] = T(s / 2)
		}
	}
}

// logSumExp returns log Σ exp(z) and the row maximum it subtracted.
func logSumExp[T float32 | float64](z []T) (lse, max float64) {
	max = math.Inf(-1)
	for _, v := range z {
		if float64(v) > max {
			max = float64(v)
		}
	}
	var s float64
	if z32, ok := any(z).([]float32); ok {
		// float32 logits: float32 exponentials (exp32, within an ulp of
		// float32's), summed in float64.
		m := float32(max)
		for _, v := range z32 {
			s += float64(exp32(v - m))
		}
		return max + math.Log(s), max
	}
	for _, v := range z {
		s += math.Exp(float64(v) - max)
	}
	return max + math.Log(s), max
}

func argmax[T float32 | float64](z []T) int {
	best := 0
	for i, v := range z {
		if v > z[best] {
			best = i
		}
	}
	return best
}

// ReturnsPtr is false.
func (op *LossOp) ReturnsPtr() bool { return false }

// CallsExtern is false.
func (op *LossOp) CallsExtern() bool { return false }

// OverwritesInput is -1.
func (op *LossOp) OverwritesInput() int { return -1 }

// WriteHash writes the op's identity: kind and id.
func (op *LossOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "glr.Loss{%v,id=%d}", op.kind, op.id) }

// Hashcode is the FNV-1a hash of WriteHash.
func (op *LossOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

func (op *LossOp) String() string { return fmt.Sprintf("Loss[%v %d]", op.kind, op.id) }

// DiffWRT is (true, false) for differentiable losses: the logits, not the
// targets. The zero-one loss is differentiable in nothing.
func (op *LossOp) DiffWRT(inputs int) []bool {
	return []bool{op.kind.Differentiable(), false}
}

// SymDiff returns the gradient with respect to the logits: grad ⊙ (Σy·softmax(z) − y)
// for cross-entropy and grad ⊙ (z − y) for the squared error. The zero-one
// loss has none and says so.
func (op *LossOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if !op.kind.Differentiable() {
		return nil, fmt.Errorf("the %v loss has no derivative; train it with the glr estimator", op.kind)
	}
	if len(inputs) != 2 {
		return nil, fmt.Errorf("%v loss: want 2 inputs, got %d", op.kind, len(inputs))
	}
	d, err := G.ApplyOp(&lossGradOp{kind: op.kind, id: op.id}, inputs[0], inputs[1], grad)
	if err != nil {
		return nil, fmt.Errorf("%v loss gradient: %w", op.kind, err)
	}
	return G.Nodes{d, nil}, nil
}

// lossGradOp computes the gradient of a LossOp with respect to its logits,
// given the upstream gradient of the per-example loss vector.
type lossGradOp struct {
	kind LossKind
	id   int
	out  *tensor.Dense
}

func (op *lossGradOp) Arity() int { return 3 }

func (op *lossGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	m := G.TensorType{Dims: 2, Of: a}
	return hm.NewFnType(m, m, G.TensorType{Dims: 1, Of: a}, m)
}

func (op *lossGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if len(in) != 3 {
		return nil, fmt.Errorf("%v loss gradient: want 3 inputs, got %d", op.kind, len(in))
	}
	z, ok := in[0].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("%v loss gradient: logits have no shape", op.kind)
	}
	return z.Clone(), nil
}

func (op *lossGradOp) Do(vals ...G.Value) (G.Value, error) {
	if len(vals) != 3 {
		return nil, fmt.Errorf("%v loss gradient: want 3 inputs, got %d", op.kind, len(vals))
	}
	z, y, err := twoDense(op.kind.String(), vals[:2])
	if err != nil {
		return nil, err
	}
	g, ok := vals[2].(*tensor.Dense)
	if !ok || g.Shape().TotalSize() != z.Shape()[0] || g.Dtype() != z.Dtype() {
		return nil, fmt.Errorf("%v loss gradient: want %d upstream gradients, got %v", op.kind, z.Shape()[0], vals[2].Shape())
	}
	op.out = reuse(op.out, z.Shape(), z.Dtype())
	classes := z.Shape()[1]
	switch z.Dtype() {
	case tensor.Float64:
		rowLossGrads(op.kind, z.Float64s(), y.Float64s(), g.Float64s(), op.out.Float64s(), classes)
	case tensor.Float32:
		rowLossGrads(op.kind, z.Float32s(), y.Float32s(), g.Float32s(), op.out.Float32s(), classes)
	default:
		return nil, fmt.Errorf("%v loss gradient: unsupported dtype %v", op.kind, z.Dtype())
	}
	return op.out, nil
}

func rowLossGrads[T float32 | float64](kind LossKind, z, y, g, out []T, classes int) {
	for m, gm := range g {
		zr, yr, or := z[m*classes:(m+1)*classes], y[m*classes:(m+1)*classes], out[m*classes:(m+1)*classes]
		switch kind {
		case CrossEntropy:
			lse, _ := logSumExp(zr)
			var sy float64
			for _, v := range yr {
				sy += float64(v)
			}
			for c, v := range zr {
				or[c] = gm * T(sy*math.Exp(float64(v)-lse)-float64(yr[c]))
			}
		case Squared:
			for c, v := range zr {
				or[c] = gm * (v - yr[c])
			}
		}
	}
}

func (op *lossGradOp) ReturnsPtr() bool     { return false }
func (op *lossGradOp) CallsExtern() bool    { return false }
func (op *lossGradOp) OverwritesInput() int { return -1 }
func (op *lossGradOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "glr.LossGrad{%v,id=%d}", op.kind, op.id)
}
func (op *lossGradOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
func (op *lossGradOp) String() string { return fmt.Sprintf("LossGrad[%v %d]", op.kind, op.id) }

// MeanOp is the mean of a vector: the scalar cost that gorgonia.Grad
// differentiates. Its gradient spreads the upstream scalar evenly over the
// vector.
type MeanOp struct {
	opBase
	f64 G.F64
	f32 G.F32
}

// NewMeanOp returns a mean op; id must be unique among the graph's mean ops.
func NewMeanOp(id string) *MeanOp { return &MeanOp{opBase: opBase{id: "glr.Mean{" + id + "}"}} }

// Arity is 1.
func (op *MeanOp) Arity() int { return 1 }

// Type is Vector a → a.
func (op *MeanOp) Type() hm.Type { return hm.NewFnType(typeVector, typeA) }

// InferShape returns the scalar shape.
func (op *MeanOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if _, err := shapes(op.id, in, 1); err != nil {
		return nil, err
	}
	return tensor.ScalarShape(), nil
}

// Do returns the mean, summed in order, as a scalar value the op owns.
func (op *MeanOp) Do(vals ...G.Value) (G.Value, error) {
	if err := arity(op.id, vals, 1); err != nil {
		return nil, err
	}
	x, err := asDense(op.id, 0, vals[0], 1, tensor.Dtype{})
	if err != nil {
		return nil, err
	}
	n := x.Shape()[0]
	switch x.Dtype() {
	case tensor.Float64:
		op.f64 = G.F64(sum(x.Float64s()) / float64(n))
		return &op.f64, nil
	case tensor.Float32:
		op.f32 = G.F32(sum(x.Float32s()) / float64(n))
		return &op.f32, nil
	}
	return nil, fmt.Errorf("%s: unsupported dtype %v", op.id, x.Dtype())
}

func sum[T float32 | float64](x []T) float64 {
	var s float64
	for _, v := range x {
		s += float64(v)
	}
	return s
}

// DiffWRT is true.
func (op *MeanOp) DiffWRT(inputs int) []bool { return []bool{true} }

// SymDiff returns the vector g/n.
func (op *MeanOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 1 {
		return nil, fmt.Errorf("%s: want 1 input, got %d", op.id, len(inputs))
	}
	d, err := G.ApplyOp(&meanGradOp{opBase: opBase{id: op.id + "/d"}}, grad, inputs[0])
	if err != nil {
		return nil, fmt.Errorf("%s: gradient: %w", op.id, err)
	}
	return G.Nodes{d}, nil
}

// meanGradOp spreads a scalar gradient g over a vector of n values: g/n each.
type meanGradOp struct {
	opBase
	out *tensor.Dense
}

func (op *meanGradOp) Arity() int    { return 2 }
func (op *meanGradOp) Type() hm.Type { return hm.NewFnType(typeA, typeVector, typeVector) }

func (op *meanGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if len(in) != 2 {
		return nil, fmt.Errorf("%s: want 2 inputs, got %d", op.id, len(in))
	}
	s, ok := in[1].(tensor.Shape)
	if !ok || len(s) != 1 {
		return nil, fmt.Errorf("%s: want a vector, got %v", op.id, in[1])
	}
	return s.Clone(), nil
}

func (op *meanGradOp) Do(vals ...G.Value) (G.Value, error) {
	if err := arity(op.id, vals, 2); err != nil {
		return nil, err
	}
	g, err := Scalar(vals[0])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op.id, err)
	}
	x, err := asDense(op.id, 1, vals[1], 1, tensor.Dtype{})
	if err != nil {
		return nil, err
	}
	op.out = reuse(op.out, x.Shape(), x.Dtype())
	v := g / float64(x.Shape()[0])
	switch x.Dtype() {
	case tensor.Float64:
		fill(op.out.Float64s(), v)
	case tensor.Float32:
		fill(op.out.Float32s(), float32(v))
	default:
		return nil, fmt.Errorf("%s: unsupported dtype %v", op.id, x.Dtype())
	}
	return op.out, nil
}

func fill[T float32 | float64](x []T, v T) {
	for i := range x {
		x[i] = v
	}
}

// Scalar returns the value of a scalar: a Gorgonia F64 or F32, or a tensor
// of one element.
func Scalar(v G.Value) (float64, error) {
	switch s := v.(type) {
	case *G.F64:
		return float64(*s), nil
	case *G.F32:
		return float64(*s), nil
	case *tensor.Dense:
		if s.Shape().TotalSize() == 1 {
			switch s.Dtype() {
			case tensor.Float64:
				if s.IsScalar() {
					return s.ScalarValue().(float64), nil
				}
				return s.Float64s()[0], nil
			case tensor.Float32:
				if s.IsScalar() {
					return float64(s.ScalarValue().(float32)), nil
				}
				return float64(s.Float32s()[0]), nil
			}
		}
	}
	return 0, fmt.Errorf("want a scalar, got %T", v)
}
