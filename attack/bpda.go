package attack

import (
	"errors"
	"fmt"
)

// BPDA is a GradientModel that pairs the forward pass of one model with the
// input gradient of another: the Backward Pass Differentiable
// Approximation of Athalye, Carlini and Wagner (ICML 2018, "Obfuscated
// gradients give a false sense of security"). A network with threshold
// (step) activations has a zero input gradient almost everywhere, so
// gradient attacks with its exact gradient change nothing; BPDA attacks it
// with the gradient of the same network in which the backward pass of each
// step is replaced by that of a differentiable approximation: the
// identity (straight-through) or a sigmoid.
//
// Dims, Losses and Predict are those of Model, the network under attack;
// InputGradient is that of Surrogate, which must have the same dimensions.
// Run PGD with a BPDA (see PGD): its steps follow the surrogate gradient,
// while KeepBest and Restarts rank the iterates by the real network.
type BPDA struct {
	// Model is the network under attack.
	Model Model
	// Surrogate is the same network, at the same parameters, with the
	// surrogate backward pass. Its forward pass is not used.
	Surrogate GradientModel
}

var (
	_ GradientModel = BPDA{}
	_ Predictor     = BPDA{}
)

// Dims returns the dimensions of b.Model, or zeros if it is nil.
func (b BPDA) Dims() (features, classes int) {
	if b.Model == nil {
		return 0, 0
	}
	return b.Model.Dims()
}

// Losses returns the losses of b.Model.
func (b BPDA) Losses(x []float64, labels []int, dst []float64) error {
	if b.Model == nil {
		return errors.New("attack: BPDA: Model is nil")
	}
	return b.Model.Losses(x, labels, dst)
}

// Predict writes b.Model's predicted classes into dst: its Predict if it
// is a Predictor, else the argmax of its logits or the class of its
// smallest loss (see Correct).
func (b BPDA) Predict(x []float64, dst []int) error {
	if b.Model == nil {
		return errors.New("attack: BPDA: Model is nil")
	}
	if err := classifier(b.Model)(x, dst); err != nil {
		return fmt.Errorf("attack: BPDA: %w", err)
	}
	return nil
}

// InputGradient writes b.Surrogate's input gradient into grad. It returns
// an error if either model is nil or their dimensions differ.
func (b BPDA) InputGradient(x []float64, labels []int, grad []float64) error {
	switch {
	case b.Model == nil:
		return errors.New("attack: BPDA: Model is nil")
	case b.Surrogate == nil:
		return errors.New("attack: BPDA: Surrogate is nil")
	}
	d, c := b.Model.Dims()
	if sd, sc := b.Surrogate.Dims(); sd != d || sc != c {
		return fmt.Errorf("attack: BPDA: Surrogate has %d features and %d classes, Model %d and %d", sd, sc, d, c)
	}
	return b.Surrogate.InputGradient(x, labels, grad)
}
