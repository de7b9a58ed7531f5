// Package layers is the vocabulary networks are built from: dense and 2-D
// convolution layers with their bias modes, pooling, activations and seeded
// initialisers, and the MLP and CNN stacks of them. Each layer implements
// graph.Layer and routes its pre-activation through a noise site, so every
// estimator can train it.
package layers

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/glr-project/glr/graph"
	G "gorgonia.org/gorgonia"
)

// Activation is the nonlinearity of a layer; see [graph.Activation].
type Activation = graph.Activation

// The activations a layer can apply.
const (
	Identity  = graph.Identity
	Sigmoid   = graph.Sigmoid
	Threshold = graph.Threshold
	ReLU      = graph.ReLU
	Tanh      = graph.Tanh
)

// ParseActivation maps sigmoid, threshold, relu and tanh to their Activation.
func ParseActivation(s string) (Activation, error) { return graph.ParseActivation(s) }

// Bias says where a network's biases are.
type Bias int

const (
	// BiasInput gives the network's input a constant-1 last column
	// ([graph.Spec.InputBias]), so the first weight matrix carries the bias;
	// other layers have none (the reference code's layout).
	BiasInput Bias = iota
	// BiasAll gives every layer a bias vector.
	BiasAll
	// BiasNone gives no layer a bias.
	BiasNone
)

// ParseBias maps input, all and none to their Bias.
func ParseBias(s string) (Bias, error) {
	switch s {
	case "input":
		return BiasInput, nil
	case "all":
		return BiasAll, nil
	case "none":
		return BiasNone, nil
	}
	return 0, fmt.Errorf("unknown bias mode %q (want input | all | none)", s)
}

func (b Bias) String() string { return [...]string{"input", "all", "none"}[b] }

// InputColumn reports whether the bias mode needs the network's input to
// carry a constant-1 column.
func (b Bias) InputColumn() bool { return b == BiasInput }

// ParseInit maps scaled-normal and glorot to their initialiser.
func ParseInit(s string) (graph.Initializer, error) {
	switch s {
	case "scaled-normal":
		return ScaledNormal, nil
	case "glorot":
		return Glorot, nil
	}
	return nil, fmt.Errorf("unknown initialiser %q (want scaled-normal | glorot)", s)
}

// ScaledNormal draws weights N(0,1)·2/√fanIn, the reference code's initialiser
// (fanIn counts a bias column).
func ScaledNormal(rng *rand.Rand, fanIn, fanOut int, dst []float64) {
	s := 2 / math.Sqrt(float64(fanIn))
	for i := range dst {
		dst[i] = rng.NormFloat64() * s
	}
}

// Glorot draws weights uniform in ±√(6/(fanIn+fanOut)).
func Glorot(rng *rand.Rand, fanIn, fanOut int, dst []float64) {
	a := math.Sqrt(6 / float64(fanIn+fanOut))
	for i := range dst {
		dst[i] = (2*rng.Float64() - 1) * a
	}
}

// Dense is a fully connected layer: v = x·W (+ b) + r, output act(v).
type Dense struct {
	Units      int
	Activation Activation
	// Bias: a vector b added to the pre-activation.
	Bias bool
	Init graph.Initializer
}

// Build implements graph.Layer.
func (d Dense) Build(s *graph.Scope, x *G.Node) (*G.Node, error) {
	if d.Units < 1 {
		return nil, fmt.Errorf("dense layer needs at least 1 unit, got %d", d.Units)
	}
	if x.Dims() != 2 {
		return nil, fmt.Errorf("dense layer needs a rows × features input, got shape %v", x.Shape())
	}
	init := d.Init
	if init == nil {
		init = ScaledNormal
	}
	pre, w, b, err := s.Linear(x, d.Units, d.Bias, init)
	if err != nil {
		return nil, err
	}
	v, err := s.Noise(pre, x, w, b)
	if err != nil {
		return nil, err
	}
	return s.Activate(v, d.Activation)
}

// MLP returns the layers of a multilayer perceptron: one Dense layer per
// hidden width with the given activation, then a linear output layer of
// classes logits. The bias mode decides where the biases are; with
// BiasInput the network's spec must also set InputBias.
func MLP(hidden []int, act Activation, bias Bias, init graph.Initializer, classes int) ([]graph.Layer, error) {
	if classes < 1 {
		return nil, fmt.Errorf("mlp: need at least 1 class, got %d", classes)
	}
	widths := append(append([]int(nil), hidden...), classes)
	ls := make([]graph.Layer, len(widths))
	for i, w := range widths {
		if w < 1 {
			return nil, fmt.Errorf("mlp: hidden layer %d has width %d, want at least 1", i+1, w)
		}
		d := Dense{Units: w, Activation: act, Bias: bias == BiasAll, Init: init}
		if i == len(widths)-1 {
			d.Activation = Identity
		}
		ls[i] = d
	}
	return ls, nil
}

// Conv is a convolution layer on channels-last images: v = patches·K (+ b) +
// r with one noise value per output position and filter, output act(v),
// then pooling over Pool × Pool windows (1: none). With NoiseAfterPool and
// a Pool of at least 2 the pooling comes first and the noise is added to
// the pooled pre-activation, one value per pooled position and filter:
// act(pool(patches·K (+ b)) + r) ([graph.Scope.PooledNoise]). For max
// pooling and a non-decreasing activation (all of them) the network
// without noise is the same function either way.
type Conv struct {
	In                           graph.Image // the input image; set by CNN
	Filters, Kernel, Stride, Pad int
	Pool                         int
	PoolKind                     graph.PoolKind
	NoiseAfterPool               bool
	Activation                   Activation
	Bias                         bool // a bias per filter
	Init                         graph.Initializer
}

// Out returns the layer's output image, after pooling (a Pool of 0 counts
// as 1, as in Build).
func (c Conv) Out() (graph.Image, error) {
	o, err := graph.ConvOut(c.In, c.Filters, c.Kernel, c.Stride, c.Pad)
	if err != nil {
		return graph.Image{}, err
	}
	return graph.PoolOut(o, max(c.Pool, 1))
}

// Build implements graph.Layer: the input has one image per row.
func (c Conv) Build(s *graph.Scope, x *G.Node) (*G.Node, error) {
	if x.Dims() != 2 || x.Shape()[1] != c.In.Len() {
		return nil, fmt.Errorf("conv layer needs rows of %v images (%d values), got shape %v", c.In, c.In.Len(), x.Shape())
	}
	o, err := graph.ConvOut(c.In, c.Filters, c.Kernel, c.Stride, c.Pad)
	if err != nil {
		return nil, err
	}
	init := c.Init
	if init == nil {
		init = ScaledNormal
	}
	pre, patches, k, b, err := s.Conv(x, c.In, c.Filters, c.Kernel, c.Stride, c.Pad, c.Bias, init)
	if err != nil {
		return nil, err
	}
	if c.NoiseAfterPool && c.Pool > 1 {
		v, err := s.PooledNoise(pre, patches, k, b, o, c.Pool, c.PoolKind)
		if err != nil {
			return nil, err
		}
		y, err := s.Activate(v, c.Activation)
		if err != nil {
			return nil, err
		}
		p, err := c.Out()
		if err != nil {
			return nil, err
		}
		return s.Images(y, p.H*p.W)
	}
	v, err := s.Noise(pre, patches, k, b)
	if err != nil {
		return nil, err
	}
	y, err := s.Activate(v, c.Activation)
	if err != nil {
		return nil, err
	}
	img, err := s.Images(y, o.H*o.W)
	if err != nil {
		return nil, err
	}
	return s.Pool(img, o, max(c.Pool, 1), c.PoolKind)
}

// CNN returns the layers of a convolutional network on images of geometry
// in: the conv layers in order (their In set from the previous layer's
// output, and their activation and bias from act and bias), then dense
// hidden layers and a linear output layer as in MLP. BiasInput is refused:
// that bias lives in a constant-1 input column of a dense first layer.
func CNN(in graph.Image, convs []Conv, hidden []int, act Activation, bias Bias, init graph.Initializer, classes int) ([]graph.Layer, error) {
	if len(convs) == 0 {
		return MLP(hidden, act, bias, init, classes)
	}
	if bias == BiasInput {
		return nil, fmt.Errorf("cnn: the input bias mode puts the bias in a constant-1 input column of a dense first layer; use all or none")
	}
	var ls []graph.Layer
	img := in
	for i, c := range convs {
		c.In, c.Activation, c.Bias, c.Init = img, act, bias == BiasAll, init
		if c.Stride == 0 {
			c.Stride = 1
		}
		if c.Pool == 0 {
			c.Pool = 1
		}
		o, err := c.Out()
		if err != nil {
			return nil, fmt.Errorf("cnn: conv layer %d: %w", i+1, err)
		}
		ls = append(ls, c)
		img = o
	}
	dense, err := MLP(hidden, act, bias, init, classes)
	if err != nil {
		return nil, err
	}
	return append(ls, dense...), nil
}
