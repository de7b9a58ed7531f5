package score

import "fmt"

// Baseline is what a score-function estimate subtracts from each row's loss
// before weighting the row's scores. A baseline that does not depend on the
// row's own noise keeps the estimate unbiased, because E[ψ(r)] = 0, and one
// close to the loss cuts its variance.
type Baseline int

const (
	// None uses the raw losses (the reference code's estimator).
	None Baseline = iota
	// BatchMean subtracts the mean loss of all M rows of the pass. It
	// includes the row's own loss, so it shrinks the mean estimate by the
	// factor 1 − 1/M (see [Baseline.Shrink]) when the rows' noises are
	// independent.
	BatchMean
	// LeaveOneOut subtracts the mean loss of the other copies of the same
	// example (with one copy, of the other rows of the pass). Unbiased when
	// the copies' noises are independent.
	LeaveOneOut
	// Clean subtracts the row's loss with the noise off, which costs a
	// noise-free pass of the batch. Unbiased.
	Clean
	// SiteClean gives each noise site its own baseline: the loss of the
	// same row with that site's noise off and every other site's noise
	// unchanged, which costs one more pass of all rows per site. It depends
	// only on the other sites' noise, which is independent of the site's
	// own, so it is unbiased; and it removes from the site's estimate the
	// part of the loss's variation that the other sites' noise causes.
	SiteClean
)

// ParseBaseline maps none, batch-mean, leave-one-out, clean and site-clean
// to their Baseline.
func ParseBaseline(s string) (Baseline, error) {
	switch s {
	case "none":
		return None, nil
	case "batch-mean":
		return BatchMean, nil
	case "leave-one-out":
		return LeaveOneOut, nil
	case "clean":
		return Clean, nil
	case "site-clean":
		return SiteClean, nil
	}
	return 0, fmt.Errorf("unknown baseline %q (want none | batch-mean | leave-one-out | clean | site-clean)", s)
}

// String returns the baseline's name as ParseBaseline reads it.
func (b Baseline) String() string {
	switch b {
	case None:
		return "none"
	case BatchMean:
		return "batch-mean"
	case LeaveOneOut:
		return "leave-one-out"
	case Clean:
		return "clean"
	case SiteClean:
		return "site-clean"
	}
	return fmt.Sprintf("Baseline(%d)", int(b))
}

// Shrink is the factor by which b scales the mean of an estimate made from a
// pass of rows rows with independent noises: 1 − 1/rows for BatchMean, 1 for
// the others.
func (b Baseline) Shrink(rows int) float64 {
	if b == BatchMean {
		return 1 - 1/float64(rows)
	}
	return 1
}

// UsesOtherCopies reports whether the baseline of a row is built from the
// losses of other rows, which must then carry noise independent of the
// row's own (no antithetic pairs, no QMC).
func (b Baseline) UsesOtherCopies() bool { return b == BatchMean || b == LeaveOneOut }

// Center writes d[m] = L[m] − b_m, the centred loss of each row of a pass of
// copies copies of a batch (copy-major: row c·B + i is copy c of example i,
// with B = len(L)/copies). clean holds the B noise-free losses of the batch
// for Clean, the len(L) losses of the pass with one site quiet for
// SiteClean, and is ignored otherwise. It panics if the lengths do not fit.
func Center(d, L, clean []float64, copies int, b Baseline) {
	rows := len(L)
	if len(d) != rows || copies < 1 || rows%copies != 0 {
		panic(fmt.Sprintf("score: Center: %d centred slots for %d losses in %d copies", len(d), rows, copies))
	}
	batch := rows / copies
	switch b {
	case None:
		copy(d, L)
	case BatchMean:
		var s float64
		for _, l := range L {
			s += l
		}
		mean := s / float64(rows)
		for m, l := range L {
			d[m] = l - mean
		}
	case Clean:
		if len(clean) != batch {
			panic(fmt.Sprintf("score: Center: %d clean losses for a batch of %d", len(clean), batch))
		}
		for m, l := range L {
			d[m] = l - clean[m%batch]
		}
	case SiteClean:
		if len(clean) != rows {
			panic(fmt.Sprintf("score: Center: %d site-clean losses for %d rows", len(clean), rows))
		}
		for m, l := range L {
			d[m] = l - clean[m]
		}
	case LeaveOneOut:
		if rows < 2 {
			panic("score: Center: a leave-one-out baseline needs at least 2 rows")
		}
		if copies == 1 {
			var s float64
			for _, l := range L {
				s += l
			}
			for m, l := range L {
				d[m] = l - (s-l)/float64(rows-1)
			}
			return
		}
		k := float64(copies - 1)
		for i := 0; i < batch; i++ {
			var s float64
			for c := 0; c < copies; c++ {
				s += L[c*batch+i]
			}
			for c := 0; c < copies; c++ {
				l := L[c*batch+i]
				d[c*batch+i] = l - (s-l)/k
			}
		}
	default:
		panic(fmt.Sprintf("score: Center: unknown baseline %d", int(b)))
	}
}
