package graph_test

import (
	"errors"
	"fmt"
	"hash"
	"hash/fnv"
	"math"
	"strings"
	"testing"

	"github.com/chewxy/hm"
	"github.com/glr-project/glr/graph"
	"github.com/glr-project/glr/layers"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func leaf(g *G.ExprGraph, name string, rows, cols int, vals ...float64) *G.Node {
	return G.NewMatrix(g, tensor.Float64, G.WithShape(rows, cols), G.WithName(name),
		G.WithValue(tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(vals))))
}

func apply(t *testing.T, op G.Op, args ...*G.Node) *G.Node {
	t.Helper()
	n, err := G.ApplyOp(op, args...)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func activation(t *testing.T, id string, act graph.Activation) G.Op {
	t.Helper()
	op, err := graph.NewActivationOp(id, act, graph.ZeroDerivative)
	if err != nil {
		t.Fatal(err)
	}
	return op
}

// TestProgramDependencyOrder runs a graph whose nodes share
// subexpressions: a = tanh(x) feeds both b = a·W and c = σ(a); the loss
// compares b with c, and the same node b also enters an op twice. Each node
// runs once, after its inputs, whatever the order of the roots.
func TestProgramDependencyOrder(t *testing.T) {
	g := G.NewGraph()
	x := leaf(g, "x", 2, 2, 0.5, -1, 2, 0.25)
	w := leaf(g, "W", 2, 2, 1, -2, 0.5, 3)
	a := apply(t, activation(t, "a", graph.Tanh), x)
	b := apply(t, graph.NewLinearOp("b", false), a, w)
	c := apply(t, activation(t, "c", graph.Sigmoid), a)
	sq, _ := graph.NewLossOp(graph.Squared, 0)
	l := apply(t, sq, b, c)
	self, _ := graph.NewLossOp(graph.Squared, 1)
	zero := apply(t, self, b, b)
	m := apply(t, graph.NewMeanOp("m"), l)

	// The same values by hand.
	xv, wv := []float64{0.5, -1, 2, 0.25}, []float64{1, -2, 0.5, 3}
	av := make([]float64, 4)
	cv := make([]float64, 4)
	for i, v := range xv {
		av[i] = math.Tanh(v)
		cv[i] = 1 / (1 + math.Exp(-av[i]))
	}
	bv := []float64{av[0]*wv[0] + av[1]*wv[2], av[0]*wv[1] + av[1]*wv[3], av[2]*wv[0] + av[3]*wv[2], av[2]*wv[1] + av[3]*wv[3]}
	var lv [2]float64
	for r := 0; r < 2; r++ {
		for j := 0; j < 2; j++ {
			d := bv[2*r+j] - cv[2*r+j]
			lv[r] += d * d / 2
		}
	}
	want := map[*G.Node][]float64{a: av, b: bv, c: cv, l: lv[:], zero: {0, 0}, m: {(lv[0] + lv[1]) / 2}}

	for _, roots := range []G.Nodes{{m, zero}, {zero, m}, {a, zero, m, c}} {
		p, err := graph.NewProgram(roots...)
		if err != nil {
			t.Fatal(err)
		}
		// x, W, a, b, c, l, zero, m: each once.
		if p.Len() != 8 {
			t.Errorf("roots %v: %d steps, want 8", roots, p.Len())
		}
		if err := p.Run(); err != nil {
			t.Fatal(err)
		}
		for n, wv := range want {
			got := value(t, p, n)
			// The ops round as the formulas above do, but the matrix
			// product may sum in another order: 1e-15 relative.
			if e := relErr(got, wv); e > 1e-15 {
				t.Errorf("roots %v: %v = %v, want %v", roots, n, got, wv)
			}
		}
	}
}

// TestProgramDeepChain: a chain of thousands of ops compiles (the search is
// iterative, not recursive) and runs in order.
func TestProgramDeepChain(t *testing.T) {
	const depth = 5000
	g := G.NewGraph()
	x := leaf(g, "x", 1, 2, 1, -1)
	n := x
	for i := range depth {
		n = apply(t, activation(t, fmt.Sprint(i), graph.Sigmoid), n)
	}
	p, err := graph.NewProgram(n)
	if err != nil {
		t.Fatal(err)
	}
	if p.Len() != depth+1 {
		t.Fatalf("%d steps, want %d", p.Len(), depth+1)
	}
	run(t, p)
	v := []float64{1, -1}
	for range depth {
		for i := range v {
			v[i] = 1 / (1 + math.Exp(-v[i]))
		}
	}
	if got := value(t, p, n); equal(got, v) >= 0 {
		t.Fatalf("got %v, want %v", got, v)
	}
}

// TestProgramMatchesTapeMachine runs the forward pass and the BP gradients
// of a small MLP and a small CNN with a Program and with Gorgonia's tape
// machine on the same graph: every node the program computes must take
// the same value, bit for bit (both call the same ops on the same inputs;
// only the executor differs).
func TestProgramMatchesTapeMachine(t *testing.T) {
	for _, c := range []struct {
		name string
		spec graph.Spec
	}{
		{"mlp", mlpSpec(t, graph.Tanh, layers.BiasAll)},
		{"cnn", cnnSpec(t, graph.ReLU, graph.MaxPool, layers.BiasAll)},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.spec.Copies = 2
			net := build(t, c.spec)
			feed(t, net, 3)
			net.SetStep(11)
			grads := gradients(t, net)
			p := program(t, net, append(G.Nodes{net.Loss}, grads...)...)
			run(t, p)
			got := map[*G.Node][]float64{}
			for _, n := range net.Graph.AllNodes() {
				if p.Has(n) {
					got[n] = value(t, p, n)
				}
			}
			if len(got) != p.Len() {
				t.Fatalf("%d nodes in the graph's program, %d steps", len(got), p.Len())
			}
			m := G.NewTapeMachine(net.Graph)
			defer m.Close()
			if err := m.RunAll(); err != nil {
				t.Fatal(err)
			}
			for n, v := range got {
				if n.Value() == nil {
					t.Fatalf("the tape machine left %v without a value", n)
				}
				if i := equal(floats(t, n.Value()), v); i >= 0 {
					t.Errorf("%v: element %d differs: the program gives %v, the tape machine %v", n, i, v, floats(t, n.Value()))
				}
			}
			for i, gr := range grads {
				if !p.Has(gr) {
					t.Errorf("the gradient of %v is not in the program", net.Params[i])
				}
			}
		})
	}
}

// TestProgramAllocs: once the buffers exist, a run of the forward pass or
// of the backward pass allocates nothing, also when each run draws the
// noise of a new step and the batch is fed anew.
func TestProgramAllocs(t *testing.T) {
	for _, c := range []struct {
		name string
		spec graph.Spec
	}{
		{"mlp", mlpSpec(t, graph.Sigmoid, layers.BiasInput)},
		{"mlp/copies", with(mlpSpec(t, graph.ReLU, layers.BiasAll), func(s *graph.Spec) { s.Copies, s.Antithetic = 4, true })},
		{"cnn/max", cnnSpec(t, graph.ReLU, graph.MaxPool, layers.BiasAll)},
		{"cnn/avg", with(cnnSpec(t, graph.Tanh, graph.AvgPool, layers.BiasNone), func(s *graph.Spec) { s.Copies = 3 })},
	} {
		t.Run(c.name, func(t *testing.T) {
			net := build(t, c.spec)
			var ex graph.Examples = examples(net.Batch(), net.Spec().Inputs, 1)
			fwd := program(t, net, net.Losses, net.Loss, net.Logits)
			bwd := program(t, net, gradients(t, net)...)
			for _, p := range []struct {
				name string
				p    *graph.Program
			}{{"forward", fwd}, {"backward", bwd}} {
				step := uint64(0)
				var err error
				runOnce := func() {
					step++
					net.SetStep(step)
					if e := net.Feed(ex); e != nil {
						err = e
					}
					if e := p.p.Run(); e != nil {
						err = e
					}
				}
				runOnce()
				if a := testing.AllocsPerRun(20, runOnce); a != 0 {
					t.Errorf("%s: %v allocations per run, want 0", p.name, a)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// testOp is an op that fails: with an error, or by panicking.
type testOp struct{ panics bool }

func (op testOp) Arity() int { return 1 }
func (op testOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a)
}
func (op testOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}
func (op testOp) Do(...G.Value) (G.Value, error) {
	if op.panics {
		panic("boom")
	}
	return nil, errors.New("broken")
}
func (op testOp) ReturnsPtr() bool      { return false }
func (op testOp) CallsExtern() bool     { return false }
func (op testOp) OverwritesInput() int  { return -1 }
func (op testOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "test%t", op.panics) }
func (op testOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
func (op testOp) String() string { return fmt.Sprintf("testOp{panics=%t}", op.panics) }

func TestProgramErrors(t *testing.T) {
	g := G.NewGraph()
	x := leaf(g, "x", 2, 2, 1, 2, 3, 4)
	unbound := G.NewMatrix(g, tensor.Float64, G.WithShape(2, 2), G.WithName("unbound"))
	cases := []struct {
		name string
		root *G.Node
		want string
	}{
		{"leaf without value", apply(t, activation(t, "a", graph.Tanh), unbound), "has no value"},
		{"op error", apply(t, testOp{}, x), "pass: testOp{panics=false}: broken"},
		{"op panic", apply(t, testOp{panics: true}, x), "panicked: boom"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := graph.NewProgram(c.root)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Run(); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
	for _, c := range []struct {
		name  string
		roots G.Nodes
		want  string
	}{
		{"no roots", nil, "program: no roots"},
		{"nil root", G.Nodes{x, nil}, "program: a root is nil"},
	} {
		if _, err := graph.NewProgram(c.roots...); err == nil || err.Error() != c.want {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
	// A node outside the program has no value.
	p, err := graph.NewProgram(x)
	if err != nil {
		t.Fatal(err)
	}
	run(t, p)
	if p.Has(unbound) || p.Value(unbound) != nil {
		t.Error("a node outside the program has a value")
	}
	if _, err := p.Dense(unbound); err == nil || !strings.Contains(err.Error(), "was not computed") {
		t.Errorf("Dense of a node outside the program: err = %v", err)
	}
}
