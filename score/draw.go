package score

import (
	"errors"
	"fmt"
	"math"

	"github.com/glr-project/glr/internal/parallel"
	"github.com/glr-project/glr/internal/rng"
)

// MinScale and MaxScale bound a noise scale: within them every draw and
// score is finite in float32 and float64 alike.
const (
	MinScale = 1e-30
	MaxScale = 1e30
)

// Noise describes the draws of one perturbed quantity in one pass: Copies
// copies of Rows rows each, copy-major (rows [c·Rows, (c+1)·Rows) hold copy
// c), with Units values per row. The rows of a copy are typically the
// examples of a batch, or its examples' output positions.
type Noise struct {
	Law     Law
	Scale   float64 // σ (Gaussian) or b (Laplace); > 0 and finite
	Sampler Sampler
	// Antithetic pairs the copies: copy 2j+1 draws the negated values of
	// copy 2j, and since ψ is odd for both laws, the negated scores. It
	// needs an even number of copies. Any baseline common to the two rows of
	// a pair cancels in their sum, so a pair's contribution is
	// (L(+r) − L(−r))·ψ(r).
	Antithetic bool
	Copies     int
	Rows       int
	Units      int
}

// Len is the number of values a pass draws: Copies·Rows·Units.
func (n Noise) Len() int { return n.Copies * n.Rows * n.Units }

// Check reports settings that cannot be drawn.
func (n Noise) Check() error {
	switch {
	case n.Law != Gaussian && n.Law != Laplace:
		return fmt.Errorf("score: unknown law %v", n.Law)
	case !(n.Scale >= MinScale && n.Scale <= MaxScale):
		return fmt.Errorf("score: noise scale must be in [%g, %g], got %v", MinScale, MaxScale, n.Scale)
	case n.Sampler != IID && n.Sampler != QMC:
		return fmt.Errorf("score: unknown sampler %v", n.Sampler)
	case n.Copies < 1 || n.Rows < 1 || n.Units < 1:
		return fmt.Errorf("score: %d copies of %d rows of %d units: each must be at least 1", n.Copies, n.Rows, n.Units)
	case n.Antithetic && n.Copies%2 != 0:
		return fmt.Errorf("score: antithetic pairs need an even number of copies, got %d", n.Copies)
	case n.Copies > math.MaxInt/n.Rows/n.Units:
		return errors.New("score: the draws overflow an int")
	}
	return nil
}

// independent is the number of copies that draw their own values.
func (n Noise) independent() int {
	if n.Antithetic {
		return n.Copies / 2
	}
	return n.Copies
}

// A Drawer fills the noise that a Noise describes, pass after pass. The
// values of a pass depend only on the keys (seed, step, stream) given to
// Fill: the same keys give the same values, whatever the number of
// goroutines drawing them, and different keys give independent values. A
// Drawer keeps nothing between passes and allocates nothing; it is not safe
// for concurrent use.
type Drawer[T float32 | float64] struct {
	n Noise
	// arguments of the pass in progress, for the parallel QMC loop
	r, psi             []T
	seed, step, stream uint64
	cells              int // Rows·Units: the values of one copy
	qmc                func(lo, hi int)
}

// NewDrawer returns a Drawer for n.
func NewDrawer[T float32 | float64](n Noise) (*Drawer[T], error) {
	if err := n.Check(); err != nil {
		return nil, err
	}
	d := &Drawer[T]{n: n, cells: n.Rows * n.Units}
	d.qmc = d.qmcCells
	return d, nil
}

// Noise returns what d draws.
func (d *Drawer[T]) Noise() Noise { return d.n }

// Fill writes one pass's draws into r and their scores into psi, both of
// n.Len() values laid out as Noise says. It panics if a slice has another
// length.
func (d *Drawer[T]) Fill(r, psi []T, seed, step, stream uint64) {
	n := d.n
	if len(r) != n.Len() || len(psi) != n.Len() {
		panic(fmt.Sprintf("score: Fill: got %d draws and %d scores, want %d", len(r), len(psi), n.Len()))
	}
	// The independent copies come first, compactly; antithetic pairs are
	// then spread out from them.
	m := n.independent() * d.cells
	switch n.Sampler {
	case QMC:
		d.r, d.psi, d.seed, d.step, d.stream = r, psi, seed, step, stream
		parallel.For(d.cells, rng.BlockSize, d.qmc)
		d.r, d.psi = nil, nil
	default:
		var err error
		if n.Law == Laplace {
			err = rng.FillLaplace(r[:m], psi[:m], n.Scale, seed, step, stream)
		} else {
			err = rng.FillGaussian(r[:m], psi[:m], n.Scale, seed, step, stream)
		}
		if err != nil {
			panic(err) // Check has bounded the scale and the lengths match
		}
	}
	if n.Antithetic {
		spreadPairs(r, d.cells, n.Copies)
		spreadPairs(psi, d.cells, n.Copies)
	}
}

// spreadPairs turns the Copies/2 compact copies at the start of x (each of
// cells values) into pairs: copy 2j gets compact copy j, copy 2j+1 its
// negation. Working from the last pair down never overwrites a compact copy
// that is still to be read.
func spreadPairs[T float32 | float64](x []T, cells, copies int) {
	for j := copies/2 - 1; j >= 0; j-- {
		src := x[j*cells : (j+1)*cells]
		odd := x[(2*j+1)*cells : (2*j+2)*cells]
		for i, v := range src {
			odd[i] = -v
		}
		if j > 0 {
			copy(x[2*j*cells:(2*j+1)*cells], src)
		}
	}
}

// qmcCells draws the randomly shifted lattices of cells [lo, hi): each cell
// (a row and unit of a copy) gets its own shift Δ and multiplier z from the
// stream of its block, and its K values u_k = frac(k·z/K + Δ).
func (d *Drawer[T]) qmcCells(lo, hi int) {
	n := d.n
	k := n.independent()
	for b := lo / rng.BlockSize; b*rng.BlockSize < hi; b++ {
		src := rng.Stream(d.seed, d.step, d.stream, uint64(b))
		from, to := max(lo, b*rng.BlockSize), min(hi, (b+1)*rng.BlockSize)
		// Every cell of the block draws, so that a cell's values do not
		// depend on where the chunk boundaries fall.
		for c := b * rng.BlockSize; c < to; c++ {
			delta := (float64(src.Uint64()>>11) + 0.5) / (1 << 53)
			z := coprime(src.Uint64(), k)
			if c < from {
				continue
			}
			for j := 0; j < k; j++ {
				u := float64((j*z)%k)/float64(k) + delta
				if u >= 1 {
					u--
				}
				// Guard the end points against rounding.
				u = math.Min(math.Max(u, 0x1p-54), 1-0x1p-53)
				v := n.Law.Quantile(u, n.Scale)
				d.r[j*d.cells+c] = T(v)
				d.psi[j*d.cells+c] = T(n.Law.Score(v, n.Scale))
			}
		}
	}
}

// coprime maps the random bits x to an integer in [1, k) coprime with k
// (1 for k ≤ 2), scanning up from a uniform start.
func coprime(x uint64, k int) int {
	if k <= 2 {
		return 1
	}
	z := 1 + int(x%uint64(k-1))
	for gcd(z, k) != 1 {
		z++
		if z == k {
			z = 1
		}
	}
	return z
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
