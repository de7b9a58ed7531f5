package attack

import (
	"fmt"
	"math"
)

// classifier returns a function that writes m's predicted class of each row
// of x into dst, using the best interface m has: Predict when m is a
// Predictor; else the first largest logit when m is a Scorer; else the
// class of the smallest cross-entropy loss, which is the class of the
// largest softmax probability and so of the largest logit, found by
// evaluating each row against every class (classes rows of Losses per
// input, at most DefaultMaxRows rows per call). The function checks that
// len(x) is len(dst)·features and that the classes it returns are in range.
func classifier(m Model) func(x []float64, dst []int) error {
	d, c := m.Dims()
	fits := func(x []float64, dst []int) error {
		if len(x) != len(dst)*d {
			return fmt.Errorf("len(x) = %d, want %d (%d examples × %d features)", len(x), len(dst)*d, len(dst), d)
		}
		return nil
	}
	switch p := m.(type) {
	case Predictor:
		return func(x []float64, dst []int) error {
			if err := fits(x, dst); err != nil {
				return err
			}
			if err := p.Predict(x, dst); err != nil {
				return fmt.Errorf("predict: %w", err)
			}
			for i, k := range dst {
				if k < 0 || k >= c {
					return fmt.Errorf("model predicted class %d for example %d, want one in [0, %d)", k, i, c)
				}
			}
			return nil
		}
	case Scorer:
		var z []float64
		return func(x []float64, dst []int) error {
			if err := fits(x, dst); err != nil {
				return err
			}
			z = resize(z, len(dst)*c)
			if err := logits(p, x, z); err != nil {
				return err
			}
			for i := range dst {
				dst[i] = argmax(z[i*c : (i+1)*c])
			}
			return nil
		}
	}
	var rows, loss []float64
	var labels []int
	return func(x []float64, dst []int) error {
		if err := fits(x, dst); err != nil {
			return err
		}
		per := max(1, DefaultMaxRows/c) // inputs per Losses call
		for lo := 0; lo < len(dst); lo += per {
			hi := min(lo+per, len(dst))
			r := (hi - lo) * c
			rows, loss = resize(rows, r*d), resize(loss, r)
			labels = resize(labels, r)
			for i := lo; i < hi; i++ {
				for k := range c {
					row := (i-lo)*c + k
					copy(rows[row*d:(row+1)*d], x[i*d:(i+1)*d])
					labels[row] = k
				}
			}
			if err := m.Losses(rows, labels, loss); err != nil {
				return fmt.Errorf("losses of %d rows: %w", r, err)
			}
			if err := checkFinite("loss", loss); err != nil {
				return err
			}
			for i := lo; i < hi; i++ {
				dst[i] = argmin(loss[(i-lo)*c : (i-lo+1)*c])
			}
		}
		return nil
	}
}

// logits evaluates s on x into z (len n·classes) and checks that the
// scores are finite.
func logits(s Scorer, x, z []float64) error {
	if err := s.Logits(x, z); err != nil {
		return fmt.Errorf("logits: %w", err)
	}
	return checkFinite("logit", z)
}

// Correct reports for each example of the batch x whether m classifies it
// as its label. It uses m's predictions as HopSkipJump does: Predict if m
// is a Predictor, else the argmax of Logits if m is a Scorer, else the
// class of the smallest loss under Losses (one row per class and input).
// Correct returns an error if the batch does not fit m or the model fails.
func Correct(m Model, x []float64, labels []int) ([]bool, error) {
	n, _, err := shape(m, x, labels)
	if err != nil {
		return nil, fmt.Errorf("attack: Correct: %w", err)
	}
	pred := make([]int, n)
	if err := classifier(m)(x, pred); err != nil {
		return nil, fmt.Errorf("attack: Correct: %w", err)
	}
	ok := make([]bool, n)
	for i, y := range labels {
		ok[i] = pred[i] == y
	}
	return ok, nil
}

// Accuracy returns the fraction of true values of correct, or NaN if it is
// empty.
func Accuracy(correct []bool) float64 {
	k := 0
	for _, c := range correct {
		if c {
			k++
		}
	}
	return float64(k) / float64(len(correct))
}

// argmax returns the index of the first largest value of v.
func argmax(v []float64) int {
	best := 0
	for k, x := range v {
		if x > v[best] {
			best = k
		}
	}
	return best
}

// argmin returns the index of the first smallest value of v.
func argmin(v []float64) int {
	best := 0
	for k, x := range v {
		if x < v[best] {
			best = k
		}
	}
	return best
}

// margin returns z[y] − max_{k≠y} z[k], the margin loss of the Square
// Attack: negative when some other class scores higher than y.
func margin(z []float64, y int) float64 {
	other := math.Inf(-1)
	for k, v := range z {
		if k != y {
			other = math.Max(other, v)
		}
	}
	return z[y] - other
}
