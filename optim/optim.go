// Package optim holds the optimizers that update a network's parameters in
// place from their gradients, with the exact update rules of the reference
// code (GLR_ADV, github.com/LX-doctorAI1/GLR_ADV).
//
// Parameters and gradients are *tensor.Dense of dtype float64 or float32, one
// gradient per parameter, of the same shape and dtype. A float32 parameter is
// updated in float32 arithmetic. Every rule first adds the weight decay to
// the gradient, g = grad + weight_decay·W, then applies, per element:
//
//	sgd       W ← W − lr·g
//	momentum  updates 1 to 99: W ← W − lr·g;
//	          from update 100 on: v ← 0.9·v − lr·g; W ← W + v (v is 0 before update 100)
//	adagrad   r ← r + g⊙g; W ← W − lr·g/(1e−8 + sqrt(r)) (r starts at 0)
//	adam      m ← 0.9·m + (1−0.9)·g; v ← 0.999·v + (1−0.999)·g²;
//	          m̂ = m/(1−0.9^t); v̂ = v/(1−0.999^t); W ← W − lr·m̂/(sqrt(v̂) + 1e−8)
//
// where t counts updates from 1. Each formula is evaluated left to right
// with every intermediate rounded to the parameter's dtype (no fused
// multiply-add), so results are the same on every platform.
//
// The learning rate follows a step schedule (see [Schedule]): after epoch e
// completes, if every > 0 and e is a multiple of every, lr ← lr·factor.
//
// An optimizer's state (kind, learning rate, update count and moment
// tensors) can be saved with MarshalBinary and restored with UnmarshalBinary;
// a restored optimizer continues bit for bit as if it had never stopped.
package optim

import (
	"encoding"
	"fmt"
	"math"

	"github.com/glr-project/glr/internal/parallel"
	"gorgonia.org/tensor"
)

// Optimizer updates parameters in place from their gradients.
//
// Step(params, grads) applies one update: params[i] is updated from
// grads[i], which must have the same shape and dtype (float64 or float32).
// The first successful Step creates the per-parameter state (moments), which
// binds the optimizer to that list of parameters: later calls must pass as
// many parameters, of the same shapes and dtypes. Step returns an error, and
// changes nothing, on mismatched counts, shapes or dtypes, on nil,
// non-contiguous (transposed, strided) or masked tensors, on an empty list,
// or when the learning rate is negative or not finite. After the first call
// a successful Step does not allocate. Step reads the gradients and does not
// modify them.
//
// LearningRate reports the rate the next Step will use; SetLearningRate
// changes it (typically once per epoch, from [Schedule]). Updates reports the
// number of successful Step calls so far.
//
// MarshalBinary encodes the full state (kind, learning rate, weight decay,
// update count and every moment tensor) deterministically: the same state
// always gives the same bytes. UnmarshalBinary restores such a state; it
// returns an error, and changes nothing, if the data is truncated or corrupt,
// comes from an optimizer of another kind or weight decay, or, once this
// optimizer has stepped, holds parameters of other shapes or dtypes.
//
// An Optimizer is not safe for concurrent use.
type Optimizer interface {
	Step(params, grads []*tensor.Dense) error
	LearningRate() float64
	SetLearningRate(lr float64)
	Updates() int
	encoding.BinaryMarshaler
	encoding.BinaryUnmarshaler
}

var _ Optimizer = (*optimizer)(nil)

// Config selects an optimizer.
type Config struct {
	// Kind is the update rule: "sgd", "momentum", "adagrad" or "adam".
	Kind string
	// LearningRate is the initial step size; it must be > 0 and finite.
	LearningRate float64
	// WeightDecay is the L2 penalty added to every gradient as
	// WeightDecay·W; it must be >= 0 and finite, 0 for none.
	WeightDecay float64
}

// New returns a fresh optimizer of the kind, learning rate and weight decay
// given by c. It has no state until its first Step.
func New(c Config) (Optimizer, error) {
	k, err := parseKind(c.Kind)
	if err != nil {
		return nil, err
	}
	if !(c.LearningRate > 0) || math.IsInf(c.LearningRate, 0) {
		return nil, fmt.Errorf("%v: learning rate must be > 0 and finite, got %v", k, c.LearningRate)
	}
	if !(c.WeightDecay >= 0) || math.IsInf(c.WeightDecay, 0) {
		return nil, fmt.Errorf("%v: weight decay must be >= 0 and finite, got %v", k, c.WeightDecay)
	}
	wd := c.WeightDecay
	if wd == 0 {
		wd = 0 // not −0, so that states compare by their bits
	}
	return &optimizer{kind: k, lr: c.LearningRate, wd: wd}, nil
}

// maxExactDecays bounds the number of multiplications [Schedule] performs
// one by one; further decays are applied with a single power.
const maxExactDecays = 1 << 16

// Schedule returns the learning rate in force during epoch (1-based) of a
// run that starts at initial and multiplies the rate by factor after every
// every-th epoch: initial·factor^⌊(epoch−1)/every⌋. An every <= 0 means a
// constant rate, and an epoch < 1 is treated as epoch 1.
//
// The power is computed by repeated multiplication, as a training loop that
// applies lr ← lr·factor after each decaying epoch does, so the two agree
// bit for bit (for up to 65536 decays).
func Schedule(initial, factor float64, every, epoch int) float64 {
	if every <= 0 || epoch <= 1 {
		return initial
	}
	n := (epoch - 1) / every
	lr := initial
	for i := 0; i < n && i < maxExactDecays; i++ {
		lr *= factor
	}
	if n > maxExactDecays {
		lr *= math.Pow(factor, float64(n-maxExactDecays))
	}
	return lr
}

// kind is an update rule.
type kind uint8

const (
	kindSGD kind = iota + 1
	kindMomentum
	kindAdagrad
	kindAdam
)

var kindNames = [...]string{
	kindSGD:      "sgd",
	kindMomentum: "momentum",
	kindAdagrad:  "adagrad",
	kindAdam:     "adam",
}

func parseKind(s string) (kind, error) {
	for k, name := range kindNames {
		if name != "" && name == s {
			return kind(k), nil
		}
	}
	return 0, fmt.Errorf("unknown optimizer %q (want sgd | momentum | adagrad | adam)", s)
}

func (k kind) valid() bool { return k >= kindSGD && k <= kindAdam }

// String returns the rule's configuration name.
func (k kind) String() string {
	if !k.valid() {
		return fmt.Sprintf("kind(%d)", uint8(k))
	}
	return kindNames[k]
}

// moments returns how many state tensors the rule keeps per parameter.
func (k kind) moments() int {
	switch k {
	case kindMomentum, kindAdagrad:
		return 1
	case kindAdam:
		return 2
	}
	return 0
}

// The rules' constants.
const (
	momentumStart = 100 // the first update that uses the velocity
	momentumCoef  = 0.9
	adagradEps    = 1e-8
	adamBeta1     = 0.9
	adamBeta2     = 0.999
	adamEps       = 1e-8
)

// slot is the state of one parameter.
type slot struct {
	dtype tensor.Dtype // tensor.Float64 or tensor.Float32
	shape tensor.Shape // owned copy
	f64   [][]float64  // kind.moments() buffers when dtype is Float64
	f32   [][]float32  // kind.moments() buffers when dtype is Float32
}

// size returns the number of elements of the slot's parameter.
func (s *slot) size() int { return elems(s.shape) }

// elems returns the number of values a tensor of shape s holds.
func elems(s tensor.Shape) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// optimizer implements Optimizer for every kind.
type optimizer struct {
	kind    kind
	lr, wd  float64
	updates int
	slots   []slot // nil until the first Step

	// Rule constants in each dtype, refreshed by Step.
	h64 hyper[float64]
	h32 hyper[float32]

	// The parameter being updated, for the parallel loop, whose body is
	// built once so that a Step allocates nothing.
	w, g *tensor.Dense
	s    *slot
	body func(lo, hi int)
}

// updateGrain is the number of values a parallel chunk of an update covers.
// Every rule is elementwise, so the chunks change nothing in the result.
const updateGrain = 1 << 13

// chunk updates values [lo, hi) of the current parameter.
func (o *optimizer) chunk(lo, hi int) {
	if o.s.dtype == tensor.Float64 {
		update(o.kind, &o.h64, o.w.Float64s()[lo:hi], o.g.Float64s()[lo:hi], sub(o.s.f64, lo, hi))
		return
	}
	update(o.kind, &o.h32, o.w.Float32s()[lo:hi], o.g.Float32s()[lo:hi], sub(o.s.f32, lo, hi))
}

// sub returns the state slices m[i][lo:hi] in a fixed array (at most two:
// Adam's moments), so that it does not allocate.
func sub[T float](m [][]T, lo, hi int) [][]T {
	var a [2][]T
	for i := range m {
		a[i] = m[i][lo:hi]
	}
	return a[:len(m)]
}

// LearningRate implements Optimizer.
func (o *optimizer) LearningRate() float64 { return o.lr }

// SetLearningRate implements Optimizer.
func (o *optimizer) SetLearningRate(lr float64) { o.lr = lr }

// Updates implements Optimizer.
func (o *optimizer) Updates() int { return o.updates }

// Step implements Optimizer.
func (o *optimizer) Step(params, grads []*tensor.Dense) error {
	if err := o.check(params, grads); err != nil {
		return fmt.Errorf("%v: step %d: %w", o.kind, o.updates+1, err)
	}
	if o.slots == nil {
		o.slots = newSlots(o.kind, params)
	}
	t := o.updates + 1
	o.h64.set(o, t)
	o.h32.set(o, t)
	if o.body == nil {
		o.body = o.chunk
	}
	for i, p := range params {
		o.w, o.g, o.s = p, grads[i], &o.slots[i]
		parallel.For(p.Shape().TotalSize(), updateGrain, o.body)
	}
	o.w, o.g, o.s = nil, nil, nil
	o.updates = t
	return nil
}

// check validates a Step's arguments against each other and the state.
func (o *optimizer) check(params, grads []*tensor.Dense) error {
	if !(o.lr >= 0) || math.IsInf(o.lr, 0) {
		return fmt.Errorf("learning rate must be >= 0 and finite, got %v", o.lr)
	}
	if len(params) == 0 {
		return fmt.Errorf("no parameters")
	}
	if len(grads) != len(params) {
		return fmt.Errorf("got %d gradients for %d parameters", len(grads), len(params))
	}
	if o.slots != nil && len(params) != len(o.slots) {
		return fmt.Errorf("got %d parameters, the state holds %d", len(params), len(o.slots))
	}
	for i, p := range params {
		if err := checkTensor(p); err != nil {
			return fmt.Errorf("parameter %d: %w", i, err)
		}
		g := grads[i]
		if err := checkTensor(g); err != nil {
			return fmt.Errorf("gradient %d: %w", i, err)
		}
		if g.Dtype() != p.Dtype() || !sameShape(g.Shape(), p.Shape()) {
			return fmt.Errorf("gradient %d is %v %v, parameter %d is %v %v", i, g.Shape(), g.Dtype(), i, p.Shape(), p.Dtype())
		}
		if o.slots != nil {
			s := &o.slots[i]
			if p.Dtype() != s.dtype || !sameShape(p.Shape(), s.shape) {
				return fmt.Errorf("parameter %d is %v %v, the state holds %v %v", i, p.Shape(), p.Dtype(), s.shape, s.dtype)
			}
		}
	}
	return nil
}

// checkTensor reports whether t can be updated as a flat slice.
func checkTensor(t *tensor.Dense) error {
	if t == nil {
		return fmt.Errorf("nil tensor")
	}
	dt := t.Dtype()
	var n int
	switch {
	case dt == tensor.Float64:
		n = len(t.Float64s())
	case dt == tensor.Float32:
		n = len(t.Float32s())
	case dt.Type == nil:
		return fmt.Errorf("tensor has no dtype")
	default:
		return fmt.Errorf("dtype %v is not supported (want float64 or float32)", dt)
	}
	if n > 0 && t.RequiresIterator() {
		return fmt.Errorf("%v tensor is not contiguous (transposed, strided or masked)", t.Shape())
	}
	if want := elems(t.Shape()); n != want {
		return fmt.Errorf("%v tensor holds %d values, want %d", t.Shape(), n, want)
	}
	return nil
}

// sameShape reports whether a and b have exactly the same dimensions
// (unlike tensor.Shape.Eq, a (1, n) row is not an (n) vector).
func sameShape(a, b tensor.Shape) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// newSlots allocates zero state for params, which check has validated.
func newSlots(k kind, params []*tensor.Dense) []slot {
	slots := make([]slot, len(params))
	for i, p := range params {
		s := &slots[i]
		s.dtype = p.Dtype()
		s.shape = p.Shape().Clone()
		n, m := s.size(), k.moments()
		if s.dtype == tensor.Float64 {
			s.f64 = make([][]float64, m)
			for j := range s.f64 {
				s.f64[j] = make([]float64, n)
			}
		} else {
			s.f32 = make([][]float32, m)
			for j := range s.f32 {
				s.f32[j] = make([]float32, n)
			}
		}
	}
	return slots
}
