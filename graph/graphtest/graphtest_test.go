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

// sumOp computes the scalar Σx, with deliberate defects as cubeOp has.
type sumOp struct {
	id          int
	wrongGrad   bool // SymDiff returns 2g instead of g
	wrongValues bool // Do returns Σx + 1
}

func (op sumOp) Arity() int { return 1 }
func (op sumOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(G.TensorType{Dims: 2, Of: a}, a)
}
func (op sumOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) { return tensor.ScalarShape(), nil }
func (op sumOp) Do(vals ...G.Value) (G.Value, error) {
	var s float64
	for _, v := range vals[0].(*tensor.Dense).Float64s() {
		s += v
	}
	if op.wrongValues {
		s++
	}
	f := G.F64(s)
	return &f, nil
}
func (op sumOp) ReturnsPtr() bool      { return false }
func (op sumOp) CallsExtern() bool     { return false }
func (op sumOp) OverwritesInput() int  { return -1 }
func (op sumOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "sum{id=%d}", op.id) }
func (op sumOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
func (op sumOp) String() string     { return fmt.Sprintf("sum[%d]", op.id) }
func (op sumOp) DiffWRT(int) []bool { return []bool{true} }
func (op sumOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	k := 1.0
	if op.wrongGrad {
		k = 2
	}
	ones := tensor.New(tensor.WithShape(in[0].Shape().Clone()...), tensor.Of(tensor.Float64))
	for i := range ones.Float64s() {
		ones.Float64s()[i] = k
	}
	d, err := G.Mul(G.NewConstant(ones), grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{d}, nil
}

// TestCheckCatchesDefects feeds the kit a correct op and broken ones, one
// defect each, for an op with a tensor result (the cube) and one with a
// scalar result (the sum): it accepts the first and names each defect.
func TestCheckCatchesDefects(t *testing.T) {
	x := tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float64{-1.5, 0.5, 2, 0.75}))
	cube := func(op cubeOp) func(int) G.Op { return func(i int) G.Op { op.id = i; return op } }
	sum := func(op sumOp) func(int) G.Op { return func(i int) G.Op { op.id = i; return op } }
	cubed := func(_ G.Op, in []*tensor.Dense) *tensor.Dense {
		out := in[0].Clone().(*tensor.Dense)
		for i, v := range out.Float64s() {
			out.Float64s()[i] = v * v * v
		}
		return out
	}
	summed := func(_ G.Op, in []*tensor.Dense) *tensor.Dense {
		var s float64
		for _, v := range in[0].Float64s() {
			s += v
		}
		return tensor.New(tensor.FromScalar(s))
	}
	cases := []struct {
		name  string
		op    func(int) G.Op
		value func(G.Op, []*tensor.Dense) *tensor.Dense
		want  string // "" = conforms
	}{
		{"cube/correct", cube(cubeOp{}), cubed, ""},
		{"cube/wrong gradient", cube(cubeOp{wrongGrad: true}), cubed, "symbolic gradient: input 0: relative error"},
		{"cube/merging instances", cube(cubeOp{noIdentity: true}), cubed, "distinct instances: instances 0 and 1 merged"},
		{"cube/wrong shape", cube(cubeOp{wrongShape: true}), cubed, "shape inference: InferShape says"},
		{"cube/wrong values", cube(cubeOp{wrongValues: true}), cubed, "forward values: element 0 is"},
		{"sum/correct", sum(sumOp{}), summed, ""},
		{"sum/wrong gradient", sum(sumOp{wrongGrad: true}), summed, "symbolic gradient: input 0: relative error"},
		{"sum/wrong values", sum(sumOp{wrongValues: true}), summed, "forward values: element 0 is"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Check(Case{Name: c.name, New: c.op, Inputs: []*tensor.Dense{x}, Want: c.value})
			expect(t, err, c.want)
		})
	}
}

// expect fails t unless err is nil (want "") or contains want.
func expect(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("correct op failed: %v", err)
	case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
		t.Fatalf("err = %v, want it to contain %q", err, want)
	}
}

// TestCheckStatedGradient: with WantGrad, the symbolic gradient is held to
// the stated one instead of finite differences, and a mismatch either way
// is caught.
func TestCheckStatedGradient(t *testing.T) {
	x := tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float64{-1.5, 0.5, 2, 0.75}))
	// scaled states the gradient k·x²·upstream of the cube.
	scaled := func(k float64) func(G.Op, []*tensor.Dense, *tensor.Dense) []*tensor.Dense {
		return func(_ G.Op, in []*tensor.Dense, up *tensor.Dense) []*tensor.Dense {
			d := in[0].Clone().(*tensor.Dense)
			for i, v := range d.Float64s() {
				d.Float64s()[i] = k * v * v * up.Float64s()[i]
			}
			return []*tensor.Dense{d}
		}
	}
	cases := []struct {
		name  string
		op    cubeOp
		grad  func(G.Op, []*tensor.Dense, *tensor.Dense) []*tensor.Dense
		wantE string
	}{
		{"true gradient stated", cubeOp{}, scaled(3), ""},
		{"surrogate stated and built", cubeOp{wrongGrad: true}, scaled(2), ""},
		{"op differs from the statement", cubeOp{wrongGrad: true}, scaled(3), "symbolic gradient: input 0: relative error"},
		{"statement differs from the op", cubeOp{}, scaled(2), "between gorgonia.Grad and the stated gradient"},
		{"no statement for an input", cubeOp{}, func(G.Op, []*tensor.Dense, *tensor.Dense) []*tensor.Dense { return nil }, "WantGrad gives no gradient"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Check(Case{
				Name:     "cube",
				New:      func(i int) G.Op { op := c.op; op.id = i; return op },
				Inputs:   []*tensor.Dense{x},
				WantGrad: c.grad,
			})
			expect(t, err, c.wantE)
		})
	}
}
