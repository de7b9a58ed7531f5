package attack

import (
	"errors"
	"fmt"
	"math"
)

// Model is what an attack needs from a classifier.
//
// A batch of n examples is a row-major slice x of n·features values and a
// slice labels of n class indices in [0, classes). Implementations must not
// retain or modify x or labels, must accept inputs outside [0, 1] (L-BFGS
// and ZerothOrder evaluate such points), and must return an error rather
// than panic on a batch they cannot evaluate. The attacks in this package
// call a Model from one goroutine at a time.
type Model interface {
	// Dims returns the number of input features and of classes.
	Dims() (features, classes int)
	// Losses writes the per-example cross-entropy losses of the n inputs
	// x against labels into dst (len n).
	Losses(x []float64, labels []int, dst []float64) error
}

// GradientModel is a Model that can also give input gradients, exact ones
// (backpropagation) or estimates (ZerothOrder).
type GradientModel interface {
	Model
	// InputGradient writes d loss_i / d x_i for each example into grad
	// (n·features, row-major like x).
	InputGradient(x []float64, labels []int, grad []float64) error
}

// Scorer is an optional interface of a Model that can give its logits, the
// unnormalised class scores whose softmax gives the probabilities behind
// Losses. Square uses them for the margin loss of its paper.
type Scorer interface {
	// Logits writes the logits of the n inputs x (n·features, row-major,
	// as for Losses) into dst, n·classes values, row-major: dst[i·classes+k]
	// is the score of class k for example i. The same rules as for Losses
	// apply: x is not retained or modified, values outside [0, 1] are
	// accepted, and a batch that cannot be evaluated is an error.
	Logits(x []float64, dst []float64) error
}

// Predictor is an optional interface of a Model that can give its predicted
// classes directly. The decision-based HopSkipJump uses nothing else when
// it is available.
type Predictor interface {
	// Predict writes the predicted class, in [0, classes), of each of the
	// n inputs x (n·features, row-major) into dst (len n): the class of the
	// largest logit, the first one on ties. The rules of Losses apply.
	Predict(x []float64, dst []int) error
}

// shape checks that m has usable dimensions and that x and labels form a
// batch for it. It returns the number of examples n and of features d.
func shape(m Model, x []float64, labels []int) (n, d int, err error) {
	if m == nil {
		return 0, 0, errors.New("model is nil")
	}
	d, c := m.Dims()
	if d < 1 || c < 1 {
		return 0, 0, fmt.Errorf("model has %d features and %d classes, want at least 1 of each", d, c)
	}
	n = len(labels)
	if len(x) != n*d {
		return 0, 0, fmt.Errorf("len(x) = %d, want %d (%d examples × %d features)", len(x), n*d, n, d)
	}
	for i, y := range labels {
		if y < 0 || y >= c {
			return 0, 0, fmt.Errorf("labels[%d] = %d out of range [0, %d)", i, y, c)
		}
	}
	return n, d, nil
}

// checkInputs is shape plus the attack's own requirement that every input
// lies in [0, 1].
func checkInputs(m Model, x []float64, labels []int) (n, d int, err error) {
	n, d, err = shape(m, x, labels)
	if err != nil {
		return 0, 0, err
	}
	for j, v := range x {
		if !(v >= 0 && v <= 1) { // also rejects NaN
			return 0, 0, fmt.Errorf("x[%d] = %v outside [0, 1]", j, v)
		}
	}
	return n, d, nil
}

// checkNonNeg rejects a setting (a budget, a step size) that is negative,
// infinite or NaN.
func checkNonNeg(name string, v float64) error {
	if !(v >= 0) || math.IsInf(v, 1) {
		return fmt.Errorf("%s = %v, want a finite value >= 0", name, v)
	}
	return nil
}

// bounds returns the interval [lo, hi] of values v in [0, 1] with
// |v − x| ≤ eps when the difference is computed in floating point. x must be
// in [0, 1] and eps finite and non-negative. Floating-point subtraction is
// monotone, so every v in [lo, hi] then satisfies the budget too.
func bounds(x, eps float64) (lo, hi float64) {
	lo = x - eps
	for x-lo > eps {
		lo = math.Nextafter(lo, math.Inf(1))
	}
	hi = x + eps
	for hi-x > eps {
		hi = math.Nextafter(hi, math.Inf(-1))
	}
	return math.Max(lo, 0), math.Min(hi, 1)
}

// project returns v moved into [0, 1] ∩ [x − eps, x + eps] (see bounds).
// A NaN v becomes x.
func project(v, x, eps float64) float64 {
	lo, hi := bounds(x, eps)
	switch {
	case math.IsNaN(v):
		return x
	case v < lo:
		return lo
	case v > hi:
		return hi
	}
	return v
}

// sign returns −1, 0 or +1.
func sign(v float64) float64 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// checkFinite returns an error naming the first non-finite value of v.
func checkFinite(what string, v []float64) error {
	for j, g := range v {
		if math.IsNaN(g) || math.IsInf(g, 0) {
			return fmt.Errorf("model returned %s[%d] = %v", what, j, g)
		}
	}
	return nil
}
