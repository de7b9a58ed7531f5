// Package graphtest is the conformance kit for graph ops: every op in package
// graph passes it, and a new op should too before a network uses it.
//
// [Check] builds small Gorgonia graphs around the op and verifies four things:
//
//  1. shape inference: InferShape agrees with the shape Do returns;
//  2. forward values: the op, run inside a compiled graph, gives the
//     expected values;
//  3. symbolic gradient: for every input the op declares differentiable,
//     gorgonia.Grad through the op matches central finite differences of
//     Do (or the gradient the case states, for an op whose backward pass is
//     by design not the derivative of Do); an op differentiable in no input
//     must make gorgonia.Grad fail;
//  4. identity: two instances applied to the same inputs stay two nodes
//     (Gorgonia merges nodes whose hashes are equal, so an op's WriteHash
//     must carry everything that makes an instance distinct).
//
// An op may return a tensor or a scalar (*gorgonia.F64), such as a mean that
// serves as a cost.
package graphtest

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Case describes one op to check. Inputs are float64 tensors, and so are the
// op's results.
type Case struct {
	Name string
	// New returns a new instance of the op. Instances with different
	// numbers are distinct, as a graph builder would create them (another
	// site or id); they must not merge.
	New func(instance int) G.Op
	// Inputs are the op's arguments.
	Inputs []*tensor.Dense
	// Want returns the expected result of op on the inputs (for a scalar
	// result, a tensor of scalar shape: tensor.New(tensor.FromScalar(v))).
	// It runs after the op has run on the inputs, so a stochastic op can
	// report its draw. Nil skips the forward-value check.
	Want func(op G.Op, inputs []*tensor.Dense) *tensor.Dense
	// WantGrad, if set, replaces the finite differences of the gradient
	// check: it returns the gradient that gorgonia.Grad through op must give
	// of the cost Σ upstream ⊙ op(inputs), one tensor per input (nil for an
	// input the op is not differentiable in). It serves ops whose backward
	// pass is by design not the derivative of Do, such as a step with a
	// straight-through surrogate derivative. upstream has the shape of the
	// op's result.
	WantGrad func(op G.Op, inputs []*tensor.Dense, upstream *tensor.Dense) []*tensor.Dense
	// Prepare, if set, readies a new instance before it is used, for
	// example by drawing noise once and then holding the draw so that the
	// op is a deterministic function for finite differences.
	Prepare func(op G.Op) error
	// Step is the finite-difference step (default 1e-6) and Tol the largest
	// relative error allowed between the symbolic and numeric gradients
	// (default 1e-6). Keep inputs away from an op's kinks by more than Step.
	Step, Tol float64
}

// Check runs the four checks and returns every failure, joined, or nil.
func Check(c Case) error {
	if c.New == nil || len(c.Inputs) == 0 {
		return fmt.Errorf("%s: a case needs New and Inputs", c.Name)
	}
	if c.Step == 0 {
		c.Step = 1e-6
	}
	if c.Tol == 0 {
		c.Tol = 1e-6
	}
	var errs []error
	for _, check := range []struct {
		name string
		run  func(Case) error
	}{
		{"shape inference", checkShape},
		{"forward values", checkForward},
		{"symbolic gradient", checkGradient},
		{"distinct instances", checkDistinct},
	} {
		if err := safely(check.run, c); err != nil {
			errs = append(errs, fmt.Errorf("%s: %s: %w", c.Name, check.name, err))
		}
	}
	return errors.Join(errs...)
}

// safely runs a check, turning a panic inside Gorgonia or the op into an error.
func safely(f func(Case) error, c Case) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return f(c)
}

func newOp(c Case, i int) (G.Op, error) {
	op := c.New(i)
	if c.Prepare != nil {
		if err := c.Prepare(op); err != nil {
			return nil, fmt.Errorf("prepare: %w", err)
		}
	}
	return op, nil
}

func checkShape(c Case) error {
	op, err := newOp(c, 0)
	if err != nil {
		return err
	}
	ds := make([]G.DimSizer, len(c.Inputs))
	vals := make([]G.Value, len(c.Inputs))
	for i, in := range c.Inputs {
		ds[i], vals[i] = in.Shape().Clone(), in.Clone().(*tensor.Dense)
	}
	s, err := op.InferShape(ds...)
	if err != nil {
		return fmt.Errorf("InferShape: %w", err)
	}
	v, err := op.Do(vals...)
	if err != nil {
		return fmt.Errorf("Do: %w", err)
	}
	if !v.Shape().Eq(s) {
		return fmt.Errorf("InferShape says %v, Do returns %v", s, v.Shape())
	}
	return nil
}

// inputNodes adds the inputs to g as value-bound nodes.
func inputNodes(g *G.ExprGraph, inputs []*tensor.Dense) G.Nodes {
	ns := make(G.Nodes, len(inputs))
	for i, in := range inputs {
		ns[i] = G.NewTensor(g, in.Dtype(), in.Dims(), G.WithShape(in.Shape().Clone()...),
			G.WithName(fmt.Sprintf("in%d", i)), G.WithValue(in.Clone()))
	}
	return ns
}

func run(g *G.ExprGraph) error {
	m := G.NewTapeMachine(g)
	defer m.Close()
	return m.RunAll()
}

func checkForward(c Case) error {
	if c.Want == nil {
		return nil
	}
	op, err := newOp(c, 0)
	if err != nil {
		return err
	}
	g := G.NewGraph()
	out, err := G.ApplyOp(op, inputNodes(g, c.Inputs)...)
	if err != nil {
		return fmt.Errorf("ApplyOp: %w", err)
	}
	if err := run(g); err != nil {
		return fmt.Errorf("run: %w", err)
	}
	want := c.Want(op, c.Inputs)
	gv, err := values(out.Value())
	if err != nil {
		return err
	}
	if !out.Value().Shape().Eq(want.Shape()) {
		return fmt.Errorf("got shape %v, want %v", out.Value().Shape(), want.Shape())
	}
	wv, err := values(want)
	if err != nil {
		return fmt.Errorf("want: %w", err)
	}
	for i := range wv {
		if d := math.Abs(gv[i] - wv[i]); d > 1e-12*math.Max(1, math.Abs(wv[i])) {
			return fmt.Errorf("element %d is %v, want %v", i, gv[i], wv[i])
		}
	}
	return nil
}

func checkGradient(c Case) error {
	op, err := newOp(c, 0)
	if err != nil {
		return err
	}
	sd, ok := op.(G.SDOp)
	if !ok {
		return nil // not symbolically differentiable: nothing to compare
	}
	wrt := sd.DiffWRT(len(c.Inputs))
	g := G.NewGraph()
	ins := inputNodes(g, c.Inputs)
	out, err := G.ApplyOp(op, ins...)
	if err != nil {
		return fmt.Errorf("ApplyOp: %w", err)
	}
	// Reduce the output to a scalar with fixed random weights, so every
	// output element contributes to the checked gradient.
	weights, cost, err := weightedSum(g, out)
	if err != nil {
		return err
	}
	var diffNodes G.Nodes
	var diffIdx []int
	for i, d := range wrt {
		if d {
			diffNodes = append(diffNodes, ins[i])
			diffIdx = append(diffIdx, i)
		}
	}
	if len(diffNodes) == 0 {
		if _, err := G.Grad(cost, ins...); err == nil {
			return errors.New("the op is differentiable in no input, yet gorgonia.Grad succeeded")
		}
		return nil
	}
	grads, err := G.Grad(cost, diffNodes...)
	if err != nil {
		return fmt.Errorf("gorgonia.Grad: %w", err)
	}
	if err := run(g); err != nil {
		return fmt.Errorf("run: %w", err)
	}
	// Copy the symbolic gradients before Do runs again: an op's gradient
	// may read buffers of the op's own forward pass.
	sym := make([][]float64, len(grads))
	for k, gr := range grads {
		v, err := values(gr.Value())
		if err != nil {
			return fmt.Errorf("gradient of input %d: %w", diffIdx[k], err)
		}
		sym[k] = append([]float64(nil), v...)
	}
	if c.WantGrad != nil {
		want := c.WantGrad(op, c.Inputs, weights)
		for k, i := range diffIdx {
			if i >= len(want) || want[i] == nil {
				return fmt.Errorf("input %d: WantGrad gives no gradient for a differentiable input", i)
			}
			wv, err := values(want[i])
			if err != nil {
				return fmt.Errorf("WantGrad: input %d: %w", i, err)
			}
			if e := relErr(sym[k], wv); e > c.Tol {
				return fmt.Errorf("input %d: relative error %.3g between gorgonia.Grad and the stated gradient exceeds %g\nsymbolic %v\nstated   %v", i, e, c.Tol, sym[k], wv)
			}
		}
		return nil
	}
	// Finite differences of Σ weights ⊙ op(inputs), through Do.
	value := func(vals []*tensor.Dense) (float64, error) {
		args := make([]G.Value, len(vals))
		for i, v := range vals {
			args[i] = v
		}
		res, err := op.Do(args...)
		if err != nil {
			return 0, err
		}
		rv, err := values(res)
		if err != nil {
			return 0, err
		}
		w, _ := values(weights)
		var s float64
		for i, v := range rv {
			s += v * w[i]
		}
		return s, nil
	}
	for k, i := range diffIdx {
		vals := make([]*tensor.Dense, len(c.Inputs))
		for j, in := range c.Inputs {
			vals[j] = in.Clone().(*tensor.Dense)
		}
		x := vals[i].Float64s()
		num := make([]float64, len(x))
		for j := range x {
			orig := x[j]
			x[j] = orig + c.Step
			up, err := value(vals)
			if err != nil {
				return fmt.Errorf("Do: %w", err)
			}
			x[j] = orig - c.Step
			down, err := value(vals)
			if err != nil {
				return fmt.Errorf("Do: %w", err)
			}
			x[j] = orig
			num[j] = (up - down) / (2 * c.Step)
		}
		if e := relErr(sym[k], num); e > c.Tol {
			return fmt.Errorf("input %d: relative error %.3g between gorgonia.Grad and finite differences exceeds %g\nsymbolic %v\nnumeric  %v", i, e, c.Tol, sym[k], num)
		}
	}
	return nil
}

func checkDistinct(c Case) error {
	a, err := newOp(c, 0)
	if err != nil {
		return err
	}
	b, err := newOp(c, 1)
	if err != nil {
		return err
	}
	g := G.NewGraph()
	ins := inputNodes(g, c.Inputs)
	na, err := G.ApplyOp(a, ins...)
	if err != nil {
		return fmt.Errorf("ApplyOp: %w", err)
	}
	nb, err := G.ApplyOp(b, ins...)
	if err != nil {
		return fmt.Errorf("ApplyOp: %w", err)
	}
	if na == nb {
		return fmt.Errorf("instances 0 and 1 merged into one node (%v): their hashes are equal", na)
	}
	return nil
}

// weightedSum adds to g the cost Σ weights ⊙ out, with weights fixed
// standard normal values of out's shape (a scalar for a scalar out).
func weightedSum(g *G.ExprGraph, out *G.Node) (*tensor.Dense, *G.Node, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	if out.IsScalar() {
		w := tensor.New(tensor.FromScalar(rng.NormFloat64()))
		wn := G.NewScalar(g, tensor.Float64, G.WithName("weights"), G.WithValue(w.ScalarValue()))
		cost, err := G.Mul(out, wn)
		if err != nil {
			return nil, nil, fmt.Errorf("weight the output: %w", err)
		}
		return w, cost, nil
	}
	w := tensor.New(tensor.WithShape(out.Shape().Clone()...), tensor.Of(tensor.Float64))
	for i := range w.Float64s() {
		w.Float64s()[i] = rng.NormFloat64()
	}
	wn := G.NewTensor(g, tensor.Float64, out.Dims(), G.WithShape(out.Shape().Clone()...), G.WithName("weights"), G.WithValue(w))
	prod, err := G.HadamardProd(out, wn)
	if err != nil {
		return nil, nil, fmt.Errorf("weight the output: %w", err)
	}
	cost, err := G.Sum(prod)
	if err != nil {
		return nil, nil, fmt.Errorf("sum the output: %w", err)
	}
	return w, cost, nil
}

// values returns the float64 elements of a tensor or scalar value.
func values(v G.Value) ([]float64, error) {
	switch t := v.(type) {
	case *G.F64:
		return []float64{float64(*t)}, nil
	case *tensor.Dense:
		switch d := t.Data().(type) {
		case []float64:
			return d, nil
		case float64:
			return []float64{d}, nil
		}
	}
	return nil, fmt.Errorf("want a float64 tensor or scalar, got %T", v)
}

func relErr(got, want []float64) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	var d, w float64
	for i := range got {
		d += (got[i] - want[i]) * (got[i] - want[i])
		w += want[i] * want[i]
	}
	if w == 0 {
		return math.Sqrt(d)
	}
	return math.Sqrt(d / w)
}
