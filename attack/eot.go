package attack

import (
	"errors"
	"fmt"
)

// EOT is a GradientModel for a randomized model, one that draws noise each
// time it is evaluated (noise injected at prediction time): the
// Expectation over Transformation of Athalye, Engstrom, Ilyas and Kwok
// (ICML 2018), which Athalye, Carlini and Wagner use against randomized
// defenses. Its losses and input gradient are the means of Draws calls of
// Model's, estimates of the expected loss and of its gradient, so that a
// gradient attack such as PGD follows the expectation rather than one
// draw of the noise.
//
// The contract is that Model draws fresh noise on every call of Losses and
// InputGradient (from its own random source, which makes EOT's results as
// reproducible as Model's): EOT cannot redraw the noise itself, and a
// model that reuses its noise makes the mean one draw's value. With a
// deterministic Model, EOT returns exactly Model's values: the mean is
// kept as a running mean, m ← m + (v − m)/k, which is exact for equal
// values.
type EOT struct {
	// Model is the randomized model.
	Model GradientModel
	// Draws is the number K >= 1 of calls averaged.
	Draws int
}

var _ GradientModel = EOT{}

// Dims returns the dimensions of e.Model, or zeros if it is nil.
func (e EOT) Dims() (features, classes int) {
	if e.Model == nil {
		return 0, 0
	}
	return e.Model.Dims()
}

func (e EOT) check() error {
	switch {
	case e.Model == nil:
		return errors.New("Model is nil")
	case e.Draws < 1:
		return fmt.Errorf("Draws = %d, want >= 1", e.Draws)
	}
	return nil
}

// Losses writes the mean of e.Draws calls of e.Model.Losses into dst.
func (e EOT) Losses(x []float64, labels []int, dst []float64) error {
	if err := e.check(); err != nil {
		return fmt.Errorf("attack: EOT: %w", err)
	}
	if err := meanOf(e.Draws, dst, func(v []float64) error { return e.Model.Losses(x, labels, v) }); err != nil {
		return fmt.Errorf("attack: EOT: losses: %w", err)
	}
	return nil
}

// InputGradient writes the mean of e.Draws calls of e.Model.InputGradient
// into grad.
func (e EOT) InputGradient(x []float64, labels []int, grad []float64) error {
	if err := e.check(); err != nil {
		return fmt.Errorf("attack: EOT: %w", err)
	}
	if err := meanOf(e.Draws, grad, func(v []float64) error { return e.Model.InputGradient(x, labels, v) }); err != nil {
		return fmt.Errorf("attack: EOT: input gradient: %w", err)
	}
	return nil
}

// meanOf writes into dst the running mean of k results of f, each written
// into a scratch slice of dst's length.
func meanOf(k int, dst []float64, f func(v []float64) error) error {
	v := make([]float64, len(dst))
	clear(dst)
	for t := 1; t <= k; t++ {
		if err := f(v); err != nil {
			return err
		}
		for j, x := range v {
			dst[j] += (x - dst[j]) / float64(t)
		}
	}
	return nil
}

// EOTAccuracy returns the accuracy of a randomized model on the batch x
// with labels as the mean over draws predictions of each example: the
// fraction of correct predictions among the n·draws made. Each draw is one
// prediction of the whole batch (Predict if m is a Predictor, else the
// argmax of Logits or the class of the smallest loss, see Correct), and m
// must draw fresh noise on each, as for EOT. EOTAccuracy returns an error
// if draws < 1, the batch is empty or does not fit m, or the model fails.
func EOTAccuracy(m Model, x []float64, labels []int, draws int) (float64, error) {
	if draws < 1 {
		return 0, fmt.Errorf("attack: EOTAccuracy: draws = %d, want >= 1", draws)
	}
	n, _, err := shape(m, x, labels)
	if err != nil {
		return 0, fmt.Errorf("attack: EOTAccuracy: %w", err)
	}
	if n == 0 {
		return 0, errors.New("attack: EOTAccuracy: no examples")
	}
	classify := classifier(m)
	pred := make([]int, n)
	correct := 0
	for range draws {
		if err := classify(x, pred); err != nil {
			return 0, fmt.Errorf("attack: EOTAccuracy: %w", err)
		}
		for i, y := range labels {
			if pred[i] == y {
				correct++
			}
		}
	}
	return float64(correct) / float64(n*draws), nil
}
