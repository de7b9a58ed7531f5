// Package datasets loads labelled image datasets stored in the IDX format
// used by MNIST and Fashion-MNIST into memory.
//
// The IDX readers accept plain files and gzip-compressed files; compression
// is detected from the file's leading bytes, not from its name. Every error
// names the file it concerns, and malformed input is reported as an error
// wrapping [ErrFormat] rather than a panic or an unbounded allocation.
package datasets

import (
	"errors"
	"fmt"
)

// Set is an in-memory labelled image dataset. Images are stored row-major,
// one after another, with pixels scaled to [0,1].
//
// A Set must satisfy len(X) == Len()*Features and Features == Height*Width;
// the loaders in this package always return Sets that do.
type Set struct {
	Name          string    // e.g. "mnist/train"
	Height, Width int       // image size in pixels (28x28 for MNIST)
	Features      int       // values per example: Height*Width
	Classes       int       // number of classes; every label is in [0, Classes)
	X             []float64 // Len()*Features pixel values in [0,1] (raw byte / 255)
	Labels        []int     // Len() labels in [0, Classes)
}

// Len returns the number of examples in s. It returns 0 for a nil Set.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.Labels)
}

// rows reports how many complete examples s holds, tolerating a Set whose X
// and Labels disagree in length.
func (s *Set) rows() int {
	n := len(s.Labels)
	if s.Features > 0 && len(s.X)/s.Features < n {
		n = len(s.X) / s.Features
	}
	return n
}

// Limit returns a Set holding the first n examples of s. If n <= 0 or
// n >= s.Len(), the result holds the whole of s. The result is a new Set
// value with the same Name and geometry whose X and Labels share memory with
// s; their capacity is clipped so that appending to them never overwrites s.
// Limit returns nil for a nil Set.
func (s *Set) Limit(n int) *Set {
	if s == nil {
		return nil
	}
	rows := s.rows()
	if n <= 0 || n > rows {
		n = rows
	}
	t := *s
	t.X = s.X[: n*s.Features : n*s.Features]
	t.Labels = s.Labels[:n:n]
	return &t
}

// Gather copies the examples whose indices are listed in idx into x and
// labels: example idx[i] is written to x[i*Features:(i+1)*Features] and
// labels[i]. It does not allocate, so it can fill a reused minibatch buffer.
//
// labels may be nil to copy only the pixels. Gather returns an error, and
// writes nothing, if an index is out of range [0, Len()) or if x (or a non-nil
// labels) is too short; elements beyond len(idx) examples are left unchanged.
func (s *Set) Gather(idx []int, x []float64, labels []int) error {
	if s == nil {
		return errors.New("datasets: Gather on a nil Set")
	}
	if len(s.X) != len(s.Labels)*s.Features {
		return fmt.Errorf("datasets: Gather: set %q is inconsistent: len(X) = %d, want Len()*Features = %d*%d",
			s.Name, len(s.X), len(s.Labels), s.Features)
	}
	if need := len(idx) * s.Features; len(x) < need {
		return fmt.Errorf("datasets: Gather: len(x) = %d, want at least %d for %d examples of %d features",
			len(x), need, len(idx), s.Features)
	}
	if labels != nil && len(labels) < len(idx) {
		return fmt.Errorf("datasets: Gather: len(labels) = %d, want at least %d", len(labels), len(idx))
	}
	n := s.Len()
	for i, j := range idx {
		if j < 0 || j >= n {
			return fmt.Errorf("datasets: Gather: idx[%d] = %d out of range [0, %d) for set %q", i, j, n, s.Name)
		}
	}
	f := s.Features
	for i, j := range idx {
		copy(x[i*f:(i+1)*f], s.X[j*f:(j+1)*f])
	}
	if labels != nil {
		for i, j := range idx {
			labels[i] = s.Labels[j]
		}
	}
	return nil
}
