package robust

import (
	"fmt"

	"github.com/glr-project/glr/models"
)

// maxRows is the largest number of rows a classifier pass takes; larger
// batches are split into passes of maxRows.
const maxRows = 1000

// bucketed runs a classifier on batches whose row count it rounds up, by
// repeating the batch's first row, to a power of two below maxRows (or to
// maxRows): a classifier builds and keeps a network for every row count it
// sees, and the black-box attacks, whose batches shrink as images are
// fooled and vary with each round of queries, would otherwise make it
// build hundreds. The padding rows are evaluated and dropped; each
// example's outputs depend on its own row only, so the results are those of
// the classifier itself up to the rounding of its products.
type bucketed struct {
	c *models.Classifier
}

// bucket returns the row count a batch of rows rows is padded to.
func bucket(rows int) int {
	if rows >= maxRows {
		return maxRows
	}
	b := 1
	for b < rows {
		b *= 2
	}
	return min(b, maxRows)
}

func (b bucketed) Dims() (features, classes int) { return b.c.Dims() }

// chunks calls f on consecutive chunks of the n examples of x, each padded
// to its bucket: px holds the padded rows, lo and hi the chunk's examples.
func (b bucketed) chunks(x []float64, labels []int, f func(px []float64, py []int, lo, hi int) error) error {
	d, _ := b.c.Dims()
	n := len(x) / max(d, 1)
	if len(x) != n*d || labels != nil && len(labels) != n {
		return fmt.Errorf("classifier: %d features for %d examples of %d", len(x), len(labels), d)
	}
	var px []float64
	var py []int
	for lo := 0; lo < n; lo += maxRows {
		hi := min(lo+maxRows, n)
		rows := bucket(hi - lo)
		px, py = resize(px, rows*d), resize(py, rows)
		copy(px, x[lo*d:hi*d])
		for r := hi - lo; r < rows; r++ {
			copy(px[r*d:(r+1)*d], x[lo*d:(lo+1)*d])
		}
		if labels != nil {
			copy(py, labels[lo:hi])
			for r := hi - lo; r < rows; r++ {
				py[r] = labels[lo]
			}
		}
		if err := f(px, py, lo, hi); err != nil {
			return err
		}
	}
	return nil
}

func (b bucketed) Losses(x []float64, labels []int, dst []float64) error {
	if len(dst) != len(labels) {
		return fmt.Errorf("classifier: %d loss slots for %d examples", len(dst), len(labels))
	}
	var out []float64
	return b.chunks(x, labels, func(px []float64, py []int, lo, hi int) error {
		out = resize(out, len(py))
		if err := b.c.Losses(px, py, out); err != nil {
			return err
		}
		copy(dst[lo:hi], out)
		return nil
	})
}

func (b bucketed) Predict(x []float64, dst []int) error {
	if d, _ := b.c.Dims(); len(x) != len(dst)*d {
		return fmt.Errorf("classifier: %d features for %d examples of %d", len(x), len(dst), d)
	}
	var out []int
	return b.chunks(x, nil, func(px []float64, py []int, lo, hi int) error {
		out = resize(out, len(py))
		if err := b.c.Predict(px, out); err != nil {
			return err
		}
		copy(dst[lo:hi], out)
		return nil
	})
}

func (b bucketed) Logits(x []float64, dst []float64) error {
	d, k := b.c.Dims()
	if len(x)*k != len(dst)*d {
		return fmt.Errorf("classifier: %d logit slots for %d features", len(dst), len(x))
	}
	var out []float64
	return b.chunks(x, nil, func(px []float64, py []int, lo, hi int) error {
		out = resize(out, len(py)*k)
		if err := b.c.Logits(px, out); err != nil {
			return err
		}
		copy(dst[lo*k:hi*k], out)
		return nil
	})
}

func (b bucketed) InputGradient(x []float64, labels []int, grad []float64) error {
	d, _ := b.c.Dims()
	if len(grad) != len(x) {
		return fmt.Errorf("classifier: %d gradient slots for %d features", len(grad), len(x))
	}
	var out []float64
	return b.chunks(x, labels, func(px []float64, py []int, lo, hi int) error {
		out = resize(out, len(px))
		if err := b.c.InputGradient(px, py, out); err != nil {
			return err
		}
		copy(grad[lo*d:hi*d], out)
		return nil
	})
}

// resize returns s with length n, reusing its array when it is large
// enough.
func resize[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}
