package graph

import (
	"fmt"
	"hash"
	"hash/fnv"
	"math"

	"github.com/chewxy/hm"
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
}

// NewLossOp returns the loss op of the given kind; id must be unique among the
// graph's loss ops.
func NewLossOp(kind LossKind, id int) (*LossOp, error) {
	if kind != CrossEntropy && kind != ZeroOne && kind != Squared {
		return nil, fmt.Errorf("unknown loss kind %v", kind)
	}
	return &LossOp{kind: kind, id: id}, nil
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
	switch zd := z.Data().(type) {
	case []float64:
		rowLosses(op.kind, zd, y.Float64s(), op.out.Float64s(), classes)
	case []float32:
		rowLosses(op.kind, zd, y.Float32s(), op.out.Float32s(), classes)
	default:
		return nil, fmt.Errorf("%v loss: unsupported dtype %v", op.kind, z.Dtype())
	}
	return op.out, nil
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
	z, y, err := twoDense(op.kind.String()+" loss gradient", vals[:2])
	if err != nil {
		return nil, err
	}
	g, ok := vals[2].(*tensor.Dense)
	if !ok || g.Shape().TotalSize() != z.Shape()[0] {
		return nil, fmt.Errorf("%v loss gradient: want %d upstream gradients, got %v", op.kind, z.Shape()[0], vals[2].Shape())
	}
	out := tensor.New(tensor.WithShape(z.Shape().Clone()...), tensor.Of(z.Dtype()))
	classes := z.Shape()[1]
	switch zd := z.Data().(type) {
	case []float64:
		rowLossGrads(op.kind, zd, y.Float64s(), g.Float64s(), out.Float64s(), classes)
	case []float32:
		rowLossGrads(op.kind, zd, y.Float32s(), g.Float32s(), out.Float32s(), classes)
	default:
		return nil, fmt.Errorf("%v loss gradient: unsupported dtype %v", op.kind, z.Dtype())
	}
	return out, nil
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
