package graphtest_test

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	"github.com/glr-project/glr/graph/graphtest"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// softsignOp is a new activation, x / (1 + |x|), written as a Gorgonia op.
// An op needs an identity (id) in its hash so that two instances never merge.
type softsignOp struct{ id int }

func (op softsignOp) Arity() int { return 1 }

func (op softsignOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a)
}

func (op softsignOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("softsign: input has no shape")
	}
	return s.Clone(), nil
}

func (op softsignOp) Do(vals ...G.Value) (G.Value, error) {
	in, ok := vals[0].(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("softsign: want a tensor, got %T", vals[0])
	}
	x, ok := in.Data().([]float64)
	if !ok {
		return nil, fmt.Errorf("softsign: want float64, got %v", in.Dtype())
	}
	out := make([]float64, len(x))
	for i, v := range x {
		if v < 0 {
			out[i] = v / (1 - v)
		} else {
			out[i] = v / (1 + v)
		}
	}
	return tensor.New(tensor.WithShape(in.Shape().Clone()...), tensor.WithBacking(out)), nil
}

func (op softsignOp) ReturnsPtr() bool      { return false }
func (op softsignOp) CallsExtern() bool     { return false }
func (op softsignOp) OverwritesInput() int  { return -1 }
func (op softsignOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "softsign{id=%d}", op.id) }
func (op softsignOp) String() string        { return fmt.Sprintf("Softsign[%d]", op.id) }

func (op softsignOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

// DiffWRT and SymDiff make the op differentiable by gorgonia.Grad:
// d softsign(x)/dx = 1 / (1 + |x|)², built from Gorgonia's own ops.
func (op softsignOp) DiffWRT(int) []bool { return []bool{true} }

func (op softsignOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	abs, err := G.Abs(in[0])
	if err != nil {
		return nil, err
	}
	onePlus, err := G.Add(abs, G.NewConstant(1.0))
	if err != nil {
		return nil, err
	}
	sq, err := G.Square(onePlus)
	if err != nil {
		return nil, err
	}
	d, err := G.HadamardDiv(grad, sq)
	if err != nil {
		return nil, err
	}
	return G.Nodes{d}, nil
}

// A new op is checked by the conformance kit before a network uses it.
func Example() {
	x := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{-2, -0.5, 0.25, 1, 3, -4}))
	err := graphtest.Check(graphtest.Case{
		Name:   "softsign",
		New:    func(i int) G.Op { return softsignOp{id: i} },
		Inputs: []*tensor.Dense{x},
		Want: func(_ G.Op, in []*tensor.Dense) *tensor.Dense {
			return tensor.New(tensor.WithShape(2, 3),
				tensor.WithBacking([]float64{-2.0 / 3, -1.0 / 3, 0.2, 0.5, 0.75, -0.8}))
		},
	})
	fmt.Println("softsign conforms:", err == nil)
	if err != nil {
		fmt.Println(err)
	}
	// Output: softsign conforms: true
}
