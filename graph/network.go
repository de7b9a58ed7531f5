package graph

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Layer adds one layer to a network under construction.
//
// Build receives the layer's input node (rows × features) and the scope that
// names the layer's parameters, and returns the layer's output node. A layer
// that wants its weights trained by the GLR estimator routes its
// pre-activation through [Scope.Noise], declaring which input and parameters
// feed it linearly. Build must return an error, never panic, on a bad input
// shape.
type Layer interface {
	Build(s *Scope, x *G.Node) (*G.Node, error)
}

// Initializer fills dst, the fanIn × fanOut values of a weight matrix, from
// rng. Initial weights come only from the network's seed; bias vectors start
// at zero.
type Initializer func(rng *rand.Rand, fanIn, fanOut int, dst []float64)

// Spec describes a network to build.
type Spec struct {
	Inputs  int          // features per example, without any bias column
	Classes int          // outputs per example: the logits
	Rows    int          // rows per forward pass: batch size × copies
	Dtype   tensor.Dtype // tensor.Float64 (the default) or tensor.Float32
	Layers  []Layer      // applied in order; the last produces the logits
	Loss    LossKind
	Noise   Distribution
	Scale   float64 // noise scale at every site: σ (gaussian) or b (laplace)
	Seed    uint64  // seeds initial weights and every noise site
	// Copies, when above 1, builds the network for that many noisy copies
	// of each example: the input node holds Rows/Copies examples, and the
	// first noise site tiles its pre-activation x·W (+ b) Copies times, so
	// the input layer's product is computed once per example instead of
	// once per copy. The estimators then use exactly Copies copies.
	Copies int

	// Params, when not nil, supplies the parameter values by name instead of
	// the initialisers: a network built with the same layers shares these
	// tensors, so an evaluation network of another row count sees every
	// update of the training network.
	Params map[string]*tensor.Dense
}

// Site is one noise site: the pre-activation v = X·W (+ b) + r of a layer.
// The GLR estimator reads Input after a pass, and the op's draw and score.
type Site struct {
	Name   string
	Input  *G.Node // X: rows × in, the layer's input on the noisy path
	Weight *G.Node // W: in × out
	Bias   *G.Node // b: out, or nil
	Op     *NoiseOp
	Output *G.Node // v, the noisy pre-activation
	// Tiled is how many noisy rows share each input row: Spec.Copies at a
	// site whose input holds one row per example, 1 elsewhere.
	Tiled int
}

// Network is a built forward graph with a fixed number of rows.
type Network struct {
	Graph   *G.ExprGraph
	Input   *G.Node // rows × Inputs
	Targets *G.Node // rows × Classes, one-hot for classification
	Logits  *G.Node // rows × Classes, noisy when the noise is on
	Losses  *G.Node // rows: the per-example losses
	Loss    *G.Node // scalar: the mean of Losses
	Params  G.Nodes // trainable parameters, in build order
	Sites   []*Site // noise sites, in build order

	spec   Spec
	copies int
	steps  int
	losses int
	grads  G.Nodes
}

// Scope names and creates the parameters of one layer while a network is
// built.
type Scope struct {
	net    *Network
	prefix string
	names  map[string]bool
}

// Build builds the network spec describes. A layer or Gorgonia panicking
// on a malformed network is reported as an error.
func Build(spec Spec) (net *Network, err error) {
	defer func() {
		if r := recover(); r != nil {
			net, err = nil, fmt.Errorf("build: %v", r)
		}
	}()
	if spec.Dtype == (tensor.Dtype{}) {
		spec.Dtype = tensor.Float64
	}
	if spec.Copies == 0 {
		spec.Copies = 1
	}
	if err := spec.check(); err != nil {
		return nil, err
	}
	g := G.NewGraph()
	net = &Network{Graph: g, spec: spec, copies: spec.Copies}
	inRows := spec.Rows / spec.Copies
	net.Input = G.NewMatrix(g, spec.Dtype, G.WithShape(inRows, spec.Inputs), G.WithName("input"),
		G.WithValue(tensor.New(tensor.WithShape(inRows, spec.Inputs), tensor.Of(spec.Dtype))))
	net.Targets = G.NewMatrix(g, spec.Dtype, G.WithShape(spec.Rows, spec.Classes), G.WithName("targets"),
		G.WithValue(tensor.New(tensor.WithShape(spec.Rows, spec.Classes), tensor.Of(spec.Dtype))))

	names := map[string]bool{}
	x := net.Input
	for i, l := range spec.Layers {
		s := &Scope{net: net, prefix: fmt.Sprintf("layer%d", i+1), names: names}
		out, err := l.Build(s, x)
		if err != nil {
			return nil, fmt.Errorf("build layer%d: %w", i+1, err)
		}
		x = out
	}
	if len(net.Sites) == 0 {
		return nil, errors.New("build: the network has no noise site; every layer's pre-activation needs one")
	}
	if x.Dims() != 2 || x.Shape()[0] != spec.Rows || x.Shape()[1] != spec.Classes {
		return nil, fmt.Errorf("build: the last layer gives shape %v, want logits %d × %d", x.Shape(), spec.Rows, spec.Classes)
	}
	net.Logits = x
	lossOp, err := NewLossOp(spec.Loss, net.losses)
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	net.losses++
	if net.Losses, err = G.ApplyOp(lossOp, net.Logits, net.Targets); err != nil {
		return nil, fmt.Errorf("build: loss: %w", err)
	}
	if net.Loss, err = G.Mean(net.Losses); err != nil {
		return nil, fmt.Errorf("build: mean loss: %w", err)
	}
	return net, nil
}

func (s Spec) check() error {
	switch {
	case s.Inputs < 1:
		return fmt.Errorf("build: inputs must be at least 1, got %d", s.Inputs)
	case s.Classes < 1:
		return fmt.Errorf("build: classes must be at least 1, got %d", s.Classes)
	case s.Rows < 1:
		return fmt.Errorf("build: rows must be at least 1, got %d", s.Rows)
	case s.Dtype != tensor.Float64 && s.Dtype != tensor.Float32:
		return fmt.Errorf("build: dtype must be float64 or float32, got %v", s.Dtype)
	case len(s.Layers) == 0:
		return errors.New("build: no layers")
	case !(s.Scale > 0) || math.IsInf(s.Scale, 0):
		return fmt.Errorf("build: noise scale must be positive and finite, got %v", s.Scale)
	case s.Copies < 1 || s.Rows%s.Copies != 0:
		return fmt.Errorf("build: %d rows do not split into %d copies", s.Rows, s.Copies)
	}
	if _, err := NewLossOp(s.Loss, 0); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	return nil
}

// Spec returns the spec the network was built from.
func (n *Network) Spec() Spec { return n.spec }

// Rows is the number of rows per pass.
func (n *Network) Rows() int { return n.spec.Rows }

// Copies is the number of copies of a batch the rows hold (see SetCopies).
func (n *Network) Copies() int { return n.copies }

// BatchSize is Rows / Copies: the examples per pass.
func (n *Network) BatchSize() int { return n.spec.Rows / n.copies }

// SetCopies declares that the rows hold copies of one batch of Rows/copies
// examples, each copy with independent noise, or antithetic pairs of copies.
func (n *Network) SetCopies(copies int, antithetic bool) error {
	if copies < 1 || n.spec.Rows%copies != 0 {
		return fmt.Errorf("network: %d rows do not split into %d copies", n.spec.Rows, copies)
	}
	if n.spec.Copies > 1 && copies != n.spec.Copies {
		return fmt.Errorf("network: built for %d copies of each example, asked for %d", n.spec.Copies, copies)
	}
	for _, s := range n.Sites {
		if err := s.Op.SetCopies(copies, antithetic); err != nil {
			return err
		}
	}
	n.copies = copies
	return nil
}

// SetNoise sets the mode of every noise site.
func (n *Network) SetNoise(m NoiseMode) {
	for _, s := range n.Sites {
		s.Op.SetMode(m)
	}
}

// Reseed restarts every noise site's generator from seed.
func (n *Network) Reseed(seed uint64) {
	for _, s := range n.Sites {
		s.Op.Reseed(seed)
	}
}

// HasStep reports whether the network holds a threshold (step) activation.
func (n *Network) HasStep() bool { return n.steps > 0 }

// ParamValues returns every parameter's value tensor by name; passing it as
// [Spec.Params] builds a network that shares them.
func (n *Network) ParamValues() map[string]*tensor.Dense {
	m := make(map[string]*tensor.Dense, len(n.Params))
	for _, p := range n.Params {
		m[p.Name()] = p.Value().(*tensor.Dense)
	}
	return m
}

// Feed writes a batch into the input and target nodes: x holds
// BatchSize()·Inputs features row by row and labels BatchSize() class
// indices; each copy of the rows receives the whole batch. It allocates
// nothing.
func (n *Network) Feed(x []float64, labels []int) error {
	b, in, classes := n.BatchSize(), n.spec.Inputs, n.spec.Classes
	if len(labels) != b {
		return fmt.Errorf("feed: got %d labels, want a batch of %d", len(labels), b)
	}
	if len(x) != b*in {
		return fmt.Errorf("feed: got %d features, want %d examples × %d = %d", len(x), b, in, b*in)
	}
	for i, l := range labels {
		if l < 0 || l >= classes {
			return fmt.Errorf("feed: label %d of example %d is outside [0, %d)", l, i, classes)
		}
	}
	// A network built with copies holds each example once in its input.
	xCopies := n.copies / n.spec.Copies
	switch xs := n.Input.Value().Data().(type) {
	case []float64:
		feed(xs, n.Targets.Value().Data().([]float64), x, labels, xCopies, n.copies, classes)
	case []float32:
		feed(xs, n.Targets.Value().Data().([]float32), x, labels, xCopies, n.copies, classes)
	}
	return nil
}

func feed[T float32 | float64](xs, ys []T, x []float64, labels []int, xCopies, copies, classes int) {
	block := len(x)
	for c := 0; c < xCopies; c++ {
		dst := xs[c*block : (c+1)*block]
		for i, v := range x {
			dst[i] = T(v)
		}
	}
	clear(ys)
	b := len(labels)
	for c := 0; c < copies; c++ {
		for i, l := range labels {
			ys[(c*b+i)*classes+l] = 1
		}
	}
}

// Graph is the graph under construction.
func (s *Scope) Graph() *G.ExprGraph { return s.net.Graph }

// Dtype is the network's element type.
func (s *Scope) Dtype() tensor.Dtype { return s.net.spec.Dtype }

// Name returns the scoped name of a parameter or node: "layer2/W".
func (s *Scope) Name(local string) string { return s.prefix + "/" + local }

// Param creates the parameter local (scoped: "layer1/W") of the given shape:
// a rows × cols matrix, or a vector when cols is 0. A matrix's values come
// from init with a generator seeded by the network's seed and the scoped name,
// a vector starts at zero, and [Spec.Params], when set, overrides both. Names
// must be unique.
func (s *Scope) Param(local string, rows, cols int, init Initializer) (*G.Node, error) {
	name := s.Name(local)
	if s.names[name] {
		return nil, fmt.Errorf("parameter %s is defined twice", name)
	}
	s.names[name] = true
	shape := tensor.Shape{rows, cols}
	if cols == 0 {
		shape = tensor.Shape{rows}
	}
	if rows < 1 || cols < 0 {
		return nil, fmt.Errorf("parameter %s: impossible shape %v", name, shape)
	}
	var val *tensor.Dense
	if shared := s.net.spec.Params; shared != nil {
		v, ok := shared[name]
		if !ok {
			return nil, fmt.Errorf("parameter %s: missing from the shared parameters", name)
		}
		if !v.Shape().Eq(shape) || v.Dtype() != s.Dtype() {
			return nil, fmt.Errorf("parameter %s: shared value is %v %v, want %v %v", name, v.Shape(), v.Dtype(), shape, s.Dtype())
		}
		val = v
	} else {
		h := fnv.New64a()
		h.Write([]byte(name))
		rng := rand.New(rand.NewPCG(s.net.spec.Seed, h.Sum64()))
		init64 := make([]float64, shape.TotalSize())
		if cols > 0 {
			init(rng, rows, cols, init64)
		}
		val = tensor.New(tensor.WithShape(shape...), tensor.Of(s.Dtype()))
		switch d := val.Data().(type) {
		case []float64:
			copy(d, init64)
		case []float32:
			for i, v := range init64 {
				d[i] = float32(v)
			}
		}
	}
	var n *G.Node
	if cols == 0 {
		n = G.NewVector(s.net.Graph, s.Dtype(), G.WithShape(rows), G.WithName(name), G.WithValue(val))
	} else {
		n = G.NewMatrix(s.net.Graph, s.Dtype(), G.WithShape(rows, cols), G.WithName(name), G.WithValue(val))
	}
	s.net.Params = append(s.net.Params, n)
	return n, nil
}

// Constant returns a constant node of the given value, named uniquely in the
// scope (Gorgonia merges constants of equal name).
func (s *Scope) Constant(local string, v *tensor.Dense) *G.Node {
	return G.NewConstant(v, G.WithName(s.Name(local)))
}

// Noise routes the pre-activation pre = input·weight (+ bias) through a new
// noise site and returns the noisy pre-activation. In a network built with
// copies, a pre-activation with one row per example is tiled to every copy
// first. The declared input and
// parameters are what the GLR estimator differentiates: pre must depend on
// them linearly, exactly as written.
func (s *Scope) Noise(pre, input, weight, bias *G.Node) (*G.Node, error) {
	spec := s.net.spec
	if input == nil || weight == nil {
		return nil, fmt.Errorf("noise site %s: input and weight are required", s.prefix)
	}
	if input.Dims() != 2 || weight.Dims() != 2 || input.Shape()[1] != weight.Shape()[0] {
		return nil, fmt.Errorf("noise site %s: input %v does not fit weight %v", s.prefix, input.Shape(), weight.Shape())
	}
	if pre.Dims() != 2 || pre.Shape()[0] != input.Shape()[0] || pre.Shape()[1] != weight.Shape()[1] {
		return nil, fmt.Errorf("noise site %s: pre-activation %v does not match input %v · weight %v", s.prefix, pre.Shape(), input.Shape(), weight.Shape())
	}
	tiled := 1
	if rows := pre.Shape()[0]; rows != spec.Rows {
		if rows*spec.Copies != spec.Rows {
			return nil, fmt.Errorf("noise site %s: pre-activation has %d rows, want %d (or %d examples × %d copies)", s.prefix, rows, spec.Rows, spec.Rows/spec.Copies, spec.Copies)
		}
		t, err := NewTileOp(len(s.net.Sites), spec.Copies)
		if err != nil {
			return nil, err
		}
		if pre, err = G.ApplyOp(t, pre); err != nil {
			return nil, fmt.Errorf("noise site %s: tile copies: %w", s.prefix, err)
		}
		tiled = spec.Copies
	}
	if bias != nil && (bias.Dims() != 1 || bias.Shape()[0] != weight.Shape()[1]) {
		return nil, fmt.Errorf("noise site %s: bias %v does not match weight %v", s.prefix, bias.Shape(), weight.Shape())
	}
	op, err := NewNoiseOp(len(s.net.Sites), s.prefix, spec.Noise, spec.Scale, spec.Seed)
	if err != nil {
		return nil, err
	}
	v, err := G.ApplyOp(op, pre)
	if err != nil {
		return nil, fmt.Errorf("noise site %s: %w", s.prefix, err)
	}
	s.net.Sites = append(s.net.Sites, &Site{Name: s.prefix, Input: input, Weight: weight, Bias: bias, Op: op, Output: v, Tiled: tiled})
	return v, nil
}

// Step applies a Heaviside step op to x.
func (s *Scope) Step(x *G.Node) (*G.Node, error) {
	op := NewStepOp(s.net.steps)
	s.net.steps++
	y, err := G.ApplyOp(op, x)
	if err != nil {
		return nil, fmt.Errorf("step in %s: %w", s.prefix, err)
	}
	return y, nil
}

// Gradients returns the symbolic gradient of the mean loss with respect to
// every parameter, in the order of Params. It differentiates the graph once,
// on first use, and returns the same nodes afterwards. It fails for a loss
// without a derivative.
func (n *Network) Gradients() (G.Nodes, error) {
	if n.grads != nil {
		return n.grads, nil
	}
	if !n.spec.Loss.Differentiable() {
		return nil, fmt.Errorf("backpropagation cannot differentiate the %v loss; use the glr estimator", n.spec.Loss)
	}
	grads, err := G.Grad(n.Loss, n.Params...)
	if err != nil {
		return nil, fmt.Errorf("differentiate the mean loss: %w", err)
	}
	n.grads = grads
	return grads, nil
}
