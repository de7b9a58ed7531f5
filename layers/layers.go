// Package layers is the vocabulary networks are built from: dense layers with
// their bias modes, activations and seeded initialisers. Each layer
// implements graph.Layer and routes its pre-activation through a noise site,
// so both estimators can train it.
package layers

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/glr-project/glr/graph"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Activation is an elementwise nonlinearity applied after a layer's noise.
type Activation int

const (
	// Identity applies nothing: the output layer's logits.
	Identity Activation = iota
	// Sigmoid is the logistic function 1/(1+e^{−z}).
	Sigmoid
	// Threshold is the Heaviside step 1[z > 0]; its derivative is zero, so
	// only the GLR estimator trains the layers below it.
	Threshold
	// ReLU is max(z, 0).
	ReLU
	// Tanh is the hyperbolic tangent.
	Tanh
)

// ParseActivation maps sigmoid, threshold, relu and tanh to their Activation.
func ParseActivation(s string) (Activation, error) {
	switch s {
	case "sigmoid":
		return Sigmoid, nil
	case "threshold":
		return Threshold, nil
	case "relu":
		return ReLU, nil
	case "tanh":
		return Tanh, nil
	}
	return 0, fmt.Errorf("unknown activation %q (want sigmoid | threshold | relu | tanh)", s)
}

func (a Activation) String() string {
	return [...]string{"identity", "sigmoid", "threshold", "relu", "tanh"}[a]
}

// Bias says where a network's biases are.
type Bias int

const (
	// BiasInput appends a constant-1 column to the network's input, so the
	// first weight matrix carries the bias; other layers have none (the seed's
	// layout).
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

// ScaledNormal draws weights N(0,1)·2/√fanIn, the seed code's initialiser
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
	// OnesColumn appends a constant-1 column to the input first, so W has
	// one more row that acts as the bias (the seed's input layer).
	OnesColumn bool
	Init       graph.Initializer
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
	in := x
	if d.OnesColumn {
		rows := x.Shape()[0]
		ones := tensor.New(tensor.WithShape(rows, 1), tensor.Of(s.Dtype()))
		if err := ones.Memset(one(s.Dtype())); err != nil {
			return nil, fmt.Errorf("ones column: %w", err)
		}
		var err error
		if in, err = G.Concat(1, x, s.Constant("ones", ones)); err != nil {
			return nil, fmt.Errorf("append the ones column: %w", err)
		}
	}
	w, err := s.Param("W", in.Shape()[1], d.Units, init)
	if err != nil {
		return nil, err
	}
	pre, err := G.Mul(in, w)
	if err != nil {
		return nil, fmt.Errorf("x·W: %w", err)
	}
	var b *G.Node
	if d.Bias {
		if b, err = s.Param("b", d.Units, 0, init); err != nil {
			return nil, err
		}
		if pre, err = G.BroadcastAdd(pre, b, nil, []byte{0}); err != nil {
			return nil, fmt.Errorf("x·W + b: %w", err)
		}
	}
	v, err := s.Noise(pre, in, w, b)
	if err != nil {
		return nil, err
	}
	return d.activate(s, v)
}

func (d Dense) activate(s *graph.Scope, v *G.Node) (*G.Node, error) {
	var (
		out *G.Node
		err error
	)
	switch d.Activation {
	case Identity:
		return v, nil
	case Sigmoid:
		out, err = G.Sigmoid(v)
	case Threshold:
		out, err = s.Step(v)
	case ReLU:
		out, err = G.Rectify(v)
	case Tanh:
		out, err = G.Tanh(v)
	default:
		return nil, fmt.Errorf("unknown activation %d", int(d.Activation))
	}
	if err != nil {
		return nil, fmt.Errorf("%v: %w", d.Activation, err)
	}
	return out, nil
}

func one(dt tensor.Dtype) any {
	if dt == tensor.Float32 {
		return float32(1)
	}
	return 1.0
}

// MLP returns the layers of a multilayer perceptron: one Dense layer per
// hidden width with the given activation, then a linear output layer of
// classes logits. The bias mode decides where the biases are.
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
		d := Dense{Units: w, Activation: act, Bias: bias == BiasAll, OnesColumn: bias == BiasInput && i == 0, Init: init}
		if i == len(widths)-1 {
			d.Activation = Identity
		}
		ls[i] = d
	}
	return ls, nil
}
