package graph

import (
	"fmt"

	"gorgonia.org/tensor"
)

// Examples is a batch of labelled examples that writes itself into a
// network's input. The data sets' minibatches implement it, and [Rows] wraps
// examples held as float64 rows.
//
// Write64 and Write32 write the features of example i into
// dst[i·stride : i·stride+Features()] and its class into labels[i], for every
// example, and leave the other elements of dst alone (the network's input
// rows may carry a constant-1 bias column after the features). They return
// an error, never panic, when the slices are too short.
type Examples interface {
	Len() int
	Features() int
	Write64(dst []float64, stride int, labels []int) error
	Write32(dst []float32, stride int, labels []int) error
}

// Rows is an Examples of float64 features held row by row: example i is
// X[i·Dim : (i+1)·Dim] with class Labels[i].
type Rows struct {
	X      []float64
	Labels []int
	Dim    int
}

// Len is len(r.Labels).
func (r Rows) Len() int { return len(r.Labels) }

// Features is r.Dim.
func (r Rows) Features() int { return r.Dim }

// Write64 implements Examples.
func (r Rows) Write64(dst []float64, stride int, labels []int) error {
	return writeRows(r, dst, stride, labels)
}

// Write32 implements Examples.
func (r Rows) Write32(dst []float32, stride int, labels []int) error {
	return writeRows(r, dst, stride, labels)
}

func writeRows[T float32 | float64](r Rows, dst []T, stride int, labels []int) error {
	n, d := len(r.Labels), r.Dim
	switch {
	case d < 1 || len(r.X) != n*d:
		return fmt.Errorf("rows: %d features for %d examples of %d", len(r.X), n, d)
	case stride < d || (n > 0 && len(dst) < (n-1)*stride+d) || len(labels) < n:
		return fmt.Errorf("rows: %d examples of %d features do not fit %d values of stride %d and %d labels", n, d, len(dst), stride, len(labels))
	}
	for i := 0; i < n; i++ {
		row := dst[i*stride : i*stride+d]
		for j, v := range r.X[i*d : (i+1)*d] {
			row[j] = T(v)
		}
	}
	copy(labels, r.Labels)
	return nil
}

// Feed writes a batch into the input and target nodes: ex must hold Batch()
// examples of Inputs features each; every copy of the rows gets its labels.
// It allocates nothing.
func (n *Network) Feed(ex Examples) error {
	b, in, classes := n.spec.Batch, n.spec.Inputs, n.spec.Classes
	if ex.Len() != b {
		return fmt.Errorf("feed: got %d examples, want a batch of %d", ex.Len(), b)
	}
	if ex.Features() != in {
		return fmt.Errorf("feed: got examples of %d features, want %d", ex.Features(), in)
	}
	stride := in
	if n.spec.InputBias {
		stride++
	}
	x := n.Input.Value().(*tensor.Dense)
	y := n.Targets.Value().(*tensor.Dense)
	prev := n.labels
	var err error
	if n.spec.Dtype == tensor.Float32 {
		err = feedTargets(ex.Write32(x.Float32s(), stride, n.labels), y.Float32s(), prev, n.labels, n.spec.Copies, classes)
	} else {
		err = feedTargets(ex.Write64(x.Float64s(), stride, n.labels), y.Float64s(), prev, n.labels, n.spec.Copies, classes)
	}
	if err != nil {
		return fmt.Errorf("feed: %w", err)
	}
	return nil
}

// feedTargets checks the labels just written and sets the one-hot targets of
// every copy. The targets were last set from the same labels slice, so the
// old ones are cleared by clearing the whole matrix, which is small.
func feedTargets[T float32 | float64](werr error, y []T, _, labels []int, copies, classes int) error {
	if werr != nil {
		return werr
	}
	for i, l := range labels {
		if l < 0 || l >= classes {
			return fmt.Errorf("label %d of example %d is outside [0, %d)", l, i, classes)
		}
	}
	clear(y)
	b := len(labels)
	for c := 0; c < copies; c++ {
		for i, l := range labels {
			y[(c*b+i)*classes+l] = 1
		}
	}
	return nil
}
