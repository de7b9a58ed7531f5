package graph

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"

	"github.com/glr-project/glr/score"
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

// MaxElements is the largest number of values one tensor of a network may
// hold (2³¹). Larger sizes are refused before anything is allocated.
const MaxElements = 1 << 31

// Spec describes a network to build.
type Spec struct {
	Inputs  int // features per example, without any bias column
	Classes int // outputs per example: the logits
	Batch   int // examples per pass
	// Copies is the number of noisy copies of each example a pass holds (0
	// means 1). The logits then have Batch·Copies rows, copy-major: row
	// c·Batch + i is copy c of example i. The pre-activation of the first
	// noisy site is computed once per example and tiled into the copies, so
	// the layers below it cost one row per example, not one per copy.
	Copies int
	// InputBias gives the input a constant-1 last column, written once when
	// the network is built: the first layer's weight then has Inputs+1 rows
	// and its last row acts as the bias (the reference code's layout).
	InputBias bool
	Dtype     tensor.Dtype // tensor.Float64 (the default) or tensor.Float32
	Layers    []Layer      // applied in order; the last produces the logits
	Loss      LossKind
	Noise     score.Law
	// Scales holds the noise scale of each site, input side first, or one
	// scale for every site: σ (Gaussian) or b (Laplace).
	Scales []float64
	// Sampler and Antithetic say how the copies draw their noise.
	Sampler    score.Sampler
	Antithetic bool
	// NoiseOff builds every site with its noise off: the deterministic
	// network.
	NoiseOff bool
	// OnlySite, when positive, adds noise at site number OnlySite alone
	// (counting from 1, input side first); the copies are then made at that
	// site, and the sites below it run once per example, noise-free.
	OnlySite int
	// QuietSite, when positive, turns off the noise of site number
	// QuietSite alone (counting from 1, input side first) and leaves every
	// other site as in the network with noise everywhere: the copies are
	// made at the first site, and each other site draws exactly the noise
	// it draws there, row for row. Its losses are the site-clean baseline
	// of GLR (score.SiteClean).
	QuietSite int
	// Surrogate is the derivative backpropagation uses for threshold
	// activations.
	Surrogate Surrogate
	Seed      uint64 // seeds initial weights and every noise site
	// Params, when not nil, supplies the parameter values by name instead of
	// the initialisers: networks built with the same layers then share these
	// tensors, so every network sees every update of the weights.
	Params map[string]*tensor.Dense
}

// Rows is the number of rows of a pass: Batch·Copies.
func (s Spec) Rows() int { return s.Batch * max(s.Copies, 1) }

// tileAt is the index of the site at which the copies are made.
func (s Spec) tileAt() int { return max(s.OnlySite-1, 0) }

// Site is one noise site: the pre-activation v = X·W (+ b) + r of a layer.
// The GLR estimator reads X and the op's score after a pass.
type Site struct {
	Name   string
	Index  int     // 0-based, input side first
	Input  *G.Node // X: the rows that feed the pre-activation linearly
	Weight *G.Node // W: in × out
	Bias   *G.Node // b: out, or nil
	Op     *NoiseOp
	Output *G.Node // v, the noisy pre-activation
	// Tiled is how many noisy rows share each row of Input: the copies at
	// the site where they are made, 1 elsewhere.
	Tiled int
	// Rows is the number of rows of the noisy pre-activation, and Group the
	// number of them that belong to one row of the logits (1 for a dense
	// layer; the output positions of a convolution), so that site row r
	// belongs to logit row r/Group.
	Rows, Group int
	// pool, for a site whose noise follows a pooling of Input·Weight, is the
	// pooling's backward pass (see [Site.Unpool]).
	pool *poolGradOp
}

// Pooled reports whether the site's noise follows a pooling of
// Input·Weight (+ Bias) ([Scope.PooledNoise]): its rows are then pooled
// positions, and scores reach the rows of Input through [Site.Unpool].
func (s *Site) Pooled() bool { return s.pool != nil }

// Unpool carries scores from the site's pooled positions to the positions
// of Input: scores holds one row per image of the layer's pre-activation
// before the copies are made (Rows/Tiled rows of the site, grouped per
// image), each row the image's pooled positions × units, channels-last.
// Unpool returns the transpose of the pooling's Jacobian applied to it: per
// image, the positions × units of Input's rows, with each pooled score at
// the position that was the maximum (max pooling) or spread evenly over its
// window (average pooling). The maxima are those of the network's last
// pass. The result is a buffer of the site's, valid until the next call.
// For a site that is not pooled, Unpool returns an error.
func (s *Site) Unpool(scores *tensor.Dense) (*tensor.Dense, error) {
	if s.pool == nil {
		return nil, fmt.Errorf("site %s: its noise follows no pooling", s.Name)
	}
	out, err := s.pool.Do(scores)
	if err != nil {
		return nil, fmt.Errorf("site %s: %w", s.Name, err)
	}
	return out.(*tensor.Dense), nil
}

// Network is a built forward graph with a fixed number of rows per pass.
// Estimators own the networks they build: nothing but SetStep and Feed
// changes a network after it is built.
type Network struct {
	Graph   *G.ExprGraph
	Input   *G.Node // Batch × (Inputs [+1])
	Targets *G.Node // Rows × Classes, one-hot
	Logits  *G.Node // Rows × Classes
	Losses  *G.Node // Rows: the per-example losses
	Loss    *G.Node // scalar: the mean of Losses
	Params  G.Nodes // trainable parameters, in build order
	Sites   []*Site // noise sites, in build order

	spec   Spec
	ids    map[string]int
	acts   []*ActivationOp
	labels []int // the batch fed last, to clear its targets
	grads  G.Nodes
}

// Scope names and creates the parameters and ops of one layer while a
// network is built.
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
	net = &Network{Graph: g, spec: spec, ids: map[string]int{}, labels: make([]int, spec.Batch)}
	width := spec.Inputs
	if spec.InputBias {
		width++
	}
	in := tensor.New(tensor.WithShape(spec.Batch, width), tensor.Of(spec.Dtype))
	if spec.InputBias {
		for i := 0; i < spec.Batch; i++ {
			setAt(in, i*width+spec.Inputs, 1)
		}
	}
	net.Input = G.NewMatrix(g, spec.Dtype, G.WithShape(spec.Batch, width), G.WithName("input"), G.WithValue(in))
	rows := spec.Rows()
	net.Targets = G.NewMatrix(g, spec.Dtype, G.WithShape(rows, spec.Classes), G.WithName("targets"),
		G.WithValue(tensor.New(tensor.WithShape(rows, spec.Classes), tensor.Of(spec.Dtype))))

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
	if n := len(spec.Scales); n != 1 && n != len(net.Sites) {
		return nil, fmt.Errorf("build: %d noise scales for %d noise sites (give one, or one per site)", n, len(net.Sites))
	}
	if spec.OnlySite > len(net.Sites) {
		return nil, fmt.Errorf("build: noise at site %d alone, but the network has %d sites", spec.OnlySite, len(net.Sites))
	}
	if spec.QuietSite > len(net.Sites) {
		return nil, fmt.Errorf("build: no noise at site %d, but the network has %d sites", spec.QuietSite, len(net.Sites))
	}
	if x.Dims() != 2 || x.Shape()[0] != rows || x.Shape()[1] != spec.Classes {
		return nil, fmt.Errorf("build: the last layer gives shape %v, want logits %d × %d", x.Shape(), rows, spec.Classes)
	}
	for _, s := range net.Sites {
		perCopy := spec.Batch
		if s.Op.Config().Copies > 1 || s.Index > spec.tileAt() {
			perCopy = rows
		}
		if s.Rows%perCopy != 0 {
			return nil, fmt.Errorf("build: site %s has %d rows, which do not split over %d logit rows", s.Name, s.Rows, perCopy)
		}
		s.Group = s.Rows / perCopy
	}
	net.Logits = x
	lossOp, err := NewLossOp(spec.Loss, 0)
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	if net.Losses, err = G.ApplyOp(lossOp, net.Logits, net.Targets); err != nil {
		return nil, fmt.Errorf("build: loss: %w", err)
	}
	if net.Loss, err = G.ApplyOp(NewMeanOp("loss"), net.Losses); err != nil {
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
	case s.Batch < 1:
		return fmt.Errorf("build: batch must be at least 1, got %d", s.Batch)
	case s.Copies < 1:
		return fmt.Errorf("build: copies must be at least 1, got %d", s.Copies)
	case s.Copies > 1 && s.NoiseOff:
		return fmt.Errorf("build: %d noise-free copies of each example would all be the same", s.Copies)
	case s.Dtype != tensor.Float64 && s.Dtype != tensor.Float32:
		return fmt.Errorf("build: dtype must be float64 or float32, got %v", s.Dtype)
	case len(s.Layers) == 0:
		return errors.New("build: no layers")
	case len(s.Scales) == 0:
		return errors.New("build: no noise scale")
	case s.OnlySite < 0:
		return fmt.Errorf("build: noise site %d does not exist", s.OnlySite)
	case s.QuietSite < 0:
		return fmt.Errorf("build: noise site %d does not exist", s.QuietSite)
	case s.QuietSite > 0 && (s.OnlySite > 0 || s.NoiseOff):
		return errors.New("build: QuietSite turns one site off in the network with noise everywhere; it does not combine with OnlySite or NoiseOff")
	}
	for i, sc := range s.Scales {
		if !(sc > 0) || math.IsInf(sc, 0) {
			return fmt.Errorf("build: noise scale %d must be positive and finite, got %v", i+1, sc)
		}
	}
	if total := int64(s.Batch) * int64(s.Copies) * int64(max(s.Inputs+1, s.Classes)); total > MaxElements {
		return fmt.Errorf("build: %d examples × %d copies × %d values exceed the limit of %d values per tensor", s.Batch, s.Copies, max(s.Inputs+1, s.Classes), int64(MaxElements))
	}
	if _, err := NewLossOp(s.Loss, 0); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	return nil
}

func setAt(t *tensor.Dense, i int, v float64) {
	if t.Dtype() == tensor.Float32 {
		t.Float32s()[i] = float32(v)
		return
	}
	t.Float64s()[i] = v
}

// OnePass returns s with every field that shapes an estimator's passes
// reset: one copy, no site singled out (OnlySite, QuietSite), iid noise
// without antithetic pairs. Builders start from it and set what they need,
// so that a field added to shape passes is reset here alone.
func (s Spec) OnePass() Spec {
	s.Copies, s.OnlySite, s.QuietSite, s.Sampler, s.Antithetic = 1, 0, 0, score.IID, false
	return s
}

// Probe returns the spec of a noise-free network of one example and one
// copy, built only to learn the sites and parameters of s.
func (s Spec) Probe() Spec {
	s = s.OnePass()
	s.Batch, s.NoiseOff = 1, true
	return s
}

// NewParams returns freshly initialised parameter values for networks like
// spec, by name, to pass as [Spec.Params] to every network that should share
// them.
func NewParams(spec Spec) (map[string]*tensor.Dense, error) {
	spec = spec.Probe()
	spec.Params = nil
	net, err := Build(spec)
	if err != nil {
		return nil, err
	}
	return net.ParamValues(), nil
}

// Spec returns the spec the network was built from.
func (n *Network) Spec() Spec { return n.spec }

// Rows is the number of rows per pass: Batch·Copies.
func (n *Network) Rows() int { return n.spec.Rows() }

// Batch is the number of examples per pass.
func (n *Network) Batch() int { return n.spec.Batch }

// Copies is the number of noisy copies of each example per pass.
func (n *Network) Copies() int { return n.spec.Copies }

// SetStep sets the position in the noise streams of the next passes: a pass
// at a given step draws the same noise whenever it is run.
func (n *Network) SetStep(step uint64) {
	for _, s := range n.Sites {
		s.Op.SetStep(step)
	}
}

// HasStep reports whether the network holds a threshold (step) activation.
func (n *Network) HasStep() bool {
	for _, a := range n.acts {
		if a.Activation() == Threshold {
			return true
		}
	}
	return false
}

// ParamValues returns every parameter's value tensor by name; passing it as
// [Spec.Params] builds a network that shares them.
func (n *Network) ParamValues() map[string]*tensor.Dense {
	m := make(map[string]*tensor.Dense, len(n.Params))
	for _, p := range n.Params {
		m[p.Name()] = p.Value().(*tensor.Dense)
	}
	return m
}

// ParamTensors returns the parameters' value tensors in the order of Params.
func (n *Network) ParamTensors() []*tensor.Dense {
	ts := make([]*tensor.Dense, len(n.Params))
	for i, p := range n.Params {
		ts[i] = p.Value().(*tensor.Dense)
	}
	return ts
}

// Program compiles the part of the network's graph that roots depend on.
func (n *Network) Program(roots ...*G.Node) (*Program, error) {
	p, err := NewProgram(roots...)
	if err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}
	return p, nil
}

// Gradients returns the symbolic gradient of the mean loss with respect to
// every parameter, in the order of Params, built by gorgonia.Grad. It
// differentiates the graph once, on first use, and returns the same nodes
// afterwards. It fails for a loss without a derivative.
func (n *Network) Gradients() (grads G.Nodes, err error) {
	if n.grads != nil {
		return n.grads, nil
	}
	if !n.spec.Loss.Differentiable() {
		return nil, fmt.Errorf("backpropagation cannot differentiate the %v loss; use the glr estimator", n.spec.Loss)
	}
	defer func() {
		if r := recover(); r != nil {
			grads, err = nil, fmt.Errorf("differentiate the mean loss: %v", r)
		}
	}()
	if grads, err = G.Grad(n.Loss, n.Params...); err != nil {
		return nil, fmt.Errorf("differentiate the mean loss: %w", err)
	}
	n.grads = grads
	return grads, nil
}

// nextID returns a network-unique id for an op of the given kind in scope.
func (s *Scope) nextID(kind string) string {
	key := s.prefix + "/" + kind
	i := s.net.ids[key]
	s.net.ids[key] = i + 1
	if i == 0 {
		return key
	}
	return fmt.Sprintf("%s%d", key, i+1)
}

// Graph is the graph under construction.
func (s *Scope) Graph() *G.ExprGraph { return s.net.Graph }

// Dtype is the network's element type.
func (s *Scope) Dtype() tensor.Dtype { return s.net.spec.Dtype }

// Name returns the scoped name of a parameter or node: "layer2/W".
func (s *Scope) Name(local string) string { return s.prefix + "/" + local }

// Spec is the spec of the network under construction.
func (s *Scope) Spec() Spec { return s.net.spec }

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
	if int64(rows)*int64(max(cols, 1)) > MaxElements {
		return nil, fmt.Errorf("parameter %s: %d × %d values exceed the limit of %d", name, rows, cols, int64(MaxElements))
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
		if s.Dtype() == tensor.Float64 {
			copy(val.Float64s(), init64)
		} else {
			for i, v := range init64 {
				val.Float32s()[i] = float32(v)
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

// Linear returns x·W (+ b) for a new weight W of x's width × units (and a
// bias b of units values when bias is set), with the parameters W and b.
func (s *Scope) Linear(x *G.Node, units int, bias bool, init Initializer) (pre, w, b *G.Node, err error) {
	if x.Dims() != 2 {
		return nil, nil, nil, fmt.Errorf("a linear map needs a rows × features input, got shape %v", x.Shape())
	}
	if w, err = s.Param("W", x.Shape()[1], units, init); err != nil {
		return nil, nil, nil, err
	}
	args := G.Nodes{x, w}
	if bias {
		if b, err = s.Param("b", units, 0, init); err != nil {
			return nil, nil, nil, err
		}
		args = append(args, b)
	}
	if pre, err = G.ApplyOp(NewLinearOp(s.nextID("linear"), bias), args...); err != nil {
		return nil, nil, nil, fmt.Errorf("x·W: %w", err)
	}
	return pre, w, b, nil
}

// Noise routes the pre-activation pre = input·weight (+ bias) through a new
// noise site and returns the noisy pre-activation. The declared input and
// parameters are what the GLR estimator differentiates: pre must depend on
// them linearly, exactly as written. At the site where the network's copies
// are made, pre is tiled into the copies first.
func (s *Scope) Noise(pre, input, weight, bias *G.Node) (*G.Node, error) {
	if err := s.checkSite(input, weight, bias); err != nil {
		return nil, err
	}
	if pre.Dims() != 2 || pre.Shape()[0] != input.Shape()[0] || pre.Shape()[1] != weight.Shape()[1] {
		return nil, fmt.Errorf("noise site %s: pre-activation %v does not match input %v · weight %v", s.prefix, pre.Shape(), input.Shape(), weight.Shape())
	}
	return s.addSite(pre, input, weight, bias, nil)
}

// checkSite checks the declared input and parameters of a noise site.
func (s *Scope) checkSite(input, weight, bias *G.Node) error {
	if input == nil || weight == nil {
		return fmt.Errorf("noise site %s: input and weight are required", s.prefix)
	}
	if input.Dims() != 2 || weight.Dims() != 2 || input.Shape()[1] != weight.Shape()[0] {
		return fmt.Errorf("noise site %s: input %v does not fit weight %v", s.prefix, input.Shape(), weight.Shape())
	}
	if bias != nil && (bias.Dims() != 1 || bias.Shape()[0] != weight.Shape()[1]) {
		return fmt.Errorf("noise site %s: bias %v does not match weight %v", s.prefix, bias.Shape(), weight.Shape())
	}
	return nil
}

// addSite adds the noise site of a checked pre-activation; pool, when not
// nil, is the pooling between input·weight and pre.
func (s *Scope) addSite(pre, input, weight, bias *G.Node, pool *poolOp) (*G.Node, error) {
	spec := s.net.spec
	index := len(s.net.Sites)
	tileAt := spec.tileAt()
	copies, tiled := 1, 1
	switch {
	case index == tileAt && spec.Copies > 1:
		t, err := NewTileOp(index, spec.Copies)
		if err != nil {
			return nil, err
		}
		if pre, err = G.ApplyOp(t, pre); err != nil {
			return nil, fmt.Errorf("noise site %s: tile copies: %w", s.prefix, err)
		}
		copies, tiled = spec.Copies, spec.Copies
	case index > tileAt:
		copies = spec.Copies
	}
	scale := spec.Scales[0]
	if index < len(spec.Scales) {
		scale = spec.Scales[index]
	}
	on := !spec.NoiseOff && (spec.OnlySite == 0 || spec.OnlySite == index+1) && spec.QuietSite != index+1
	cfg := NoiseConfig{Law: spec.Noise, Scale: scale, Sampler: spec.Sampler, Antithetic: spec.Antithetic && on,
		Copies: copies, On: on, Seed: spec.Seed}
	op, err := NewNoiseOp(index, s.prefix, cfg)
	if err != nil {
		return nil, err
	}
	v, err := G.ApplyOp(op, pre)
	if err != nil {
		return nil, fmt.Errorf("noise site %s: %w", s.prefix, err)
	}
	site := &Site{Name: s.prefix, Index: index, Input: input, Weight: weight, Bias: bias,
		Op: op, Output: v, Tiled: tiled, Rows: pre.Shape()[0]}
	if pool != nil {
		site.pool = &poolGradOp{opBase: opBase{id: pool.id + "/unpool"}, fwd: pool}
	}
	s.net.Sites = append(s.net.Sites, site)
	return v, nil
}

// Activate applies an activation to x (nothing for Identity). Threshold
// activations take the network's surrogate derivative.
func (s *Scope) Activate(x *G.Node, act Activation) (*G.Node, error) {
	if act == Identity {
		return x, nil
	}
	op, err := NewActivationOp(s.nextID(act.String()), act, s.net.spec.Surrogate)
	if err != nil {
		return nil, err
	}
	y, err := G.ApplyOp(op, x)
	if err != nil {
		return nil, fmt.Errorf("%v in %s: %w", act, s.prefix, err)
	}
	s.net.acts = append(s.net.acts, op)
	return y, nil
}
