package graphtest

import (
	"fmt"
	"hash"
	"hash/fnv"
	"strings"
	"testing"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// cubeOp computes x³ with deliberate defects switched on by its fields, to
// show that each check of the kit can fail.
type cubeOp struct {
	id          int
	wrongGrad   bool // SymDiff returns 2x² instead of 3x²
	noIdentity  bool // WriteHash omits the id
	wrongShape  bool // InferShape adds a dimension
	wrongValues bool // Do returns x² instead of x³
}

func (op cubeOp) Arity() int { return 1 }
func (op cubeOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a)
}
func (op cubeOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s := in[0].(tensor.Shape).Clone()
	if op.wrongShape {
		s = append(s, 1)
	}
	return s, nil
}
func (op cubeOp) Do(vals ...G.Value) (G.Value, error) {
	in := vals[0].(*tensor.Dense)
	x := in.Float64s()
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = v * v * v
		if op.wrongValues {
			out[i] = v * v
		}
	}
	return tensor.New(tensor.WithShape(in.Shape().Clone()...), tensor.WithBacking(out)), nil
}
func (op cubeOp) ReturnsPtr() bool     { return false }
func (op cubeOp) CallsExtern() bool    { return false }
func (op cubeOp) OverwritesInput() int { return -1 }
func (op cubeOp) WriteHash(h hash.Hash) {
	if op.noIdentity {
		fmt.Fprint(h, "cube")
		return
	}
	fmt.Fprintf(h, "cube{id=%d}", op.id)
}
func (op cubeOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
func (op cubeOp) String() string     { return fmt.Sprintf("cube[%d]", op.id) }
func (op cubeOp) DiffWRT(int) []bool { return []bool{true} }
func (op cubeOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	sq, err := G.Square(in[0])
	if err != nil {
		return nil, err
	}
	k := 3.0
	if op.wrongGrad {
		k = 2
	}
	d, err := G.HadamardProd(grad, sq)
	if err != nil {
		return nil, err
	}
	d, err = G.Mul(d, G.NewConstant(k))
	if err != nil {
		return nil, err
	}
	return G.Nodes{d}, nil
}

func TestCheckCatchesDefects(t *testing.T) {
	x := tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float64{-1.5, 0.5, 2, 0.75}))
	cube := func(_ G.Op, in []*tensor.Dense) *tensor.Dense {
		out := in[0].Clone().(*tensor.Dense)
		for i, v := range out.Float64s() {
			out.Float64s()[i] = v * v * v
		}
		return out
	}
	cases := []struct {
		name string
		op   cubeOp
		want string // "" = conforms
	}{
		{"correct", cubeOp{}, ""},
		{"wrong gradient", cubeOp{wrongGrad: true}, "symbolic gradient: input 0: relative error"},
		{"merging instances", cubeOp{noIdentity: true}, "distinct instances: instances 0 and 1 merged"},
		{"wrong shape", cubeOp{wrongShape: true}, "shape inference: InferShape says"},
		{"wrong values", cubeOp{wrongValues: true}, "forward values: element 0 is"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Check(Case{
				Name:   "cube",
				New:    func(i int) G.Op { op := c.op; op.id = i; return op },
				Inputs: []*tensor.Dense{x},
				Want:   cube,
			})
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("correct op failed: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
}
