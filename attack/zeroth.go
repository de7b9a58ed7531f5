package attack

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/glr-project/glr/score"
)

// Baseline selects the control variate b subtracted from the perturbed
// losses in a ZerothOrder estimate. Any b that does not depend on the
// perturbation r_k keeps the estimate unbiased, because E[r] = 0; a b close
// to the losses lowers its variance.
type Baseline int

const (
	// BaselineClean uses the loss of the unperturbed input, b = L(x). It
	// costs one extra row per example.
	BaselineClean Baseline = iota
	// BaselineMean uses, for sample k, the mean of the other K − 1
	// perturbed losses of the same example (leave-one-out). It costs no
	// extra row and needs Samples >= 2. (The plain mean of all K losses
	// would shrink the estimate by (K − 1)/K; leave-one-out is that
	// estimate rescaled by K/(K − 1) and unbiased.)
	BaselineMean
)

// String returns "clean" or "mean".
func (b Baseline) String() string {
	switch b {
	case BaselineClean:
		return "clean"
	case BaselineMean:
		return "mean"
	}
	return fmt.Sprintf("Baseline(%d)", int(b))
}

// DefaultMaxRows is the number of rows per Model.Losses call used when
// ZerothOrder.MaxRows is 0.
const DefaultMaxRows = 4096

// ZerothOrder is a GradientModel built on any Model. Its input gradient is
// the likelihood-ratio (Gaussian-smoothing) estimate
//
//	ĝ(x) = (1/K) Σ_k (L(x + σ r_k) − b)·r_k/σ,  r_k ~ N(0, I)
//
// made from K = Samples loss evaluations per example. ĝ is an unbiased
// estimate of ∇x E[L(x + σr)], the gradient of the Gaussian-smoothed loss,
// which exists and is informative even where L is piecewise constant (a
// network with threshold activations), and which tends to ∇L(x) as σ → 0
// where L is smooth. Its error shrinks like sqrt(d/K) relative to the
// gradient's norm for d features.
//
// With Antithetic set the K samples come in K/2 pairs ±r_j, and the estimate
// is the central difference (1/K) Σ_j (L(x + σr_j) − L(x − σr_j))·r_j/σ. The
// baseline cancels within each pair and is not used (no clean rows are
// evaluated). Pairs remove the even-order terms of L around x, so for the
// same directions r_j they lower the variance, by half on a threshold
// network in this package's tests. For the same number K of loss
// evaluations they need not: they explore K/2 directions instead of K, and
// against BaselineClean the tests measure a tie on the threshold network and
// twice the variance on a smooth linear model, where the forward difference
// L(x + σr) − L(x) leaves only O(σ) curvature to remove.
//
// The perturbed points x ± σr are not clipped to [0, 1]. Clipping would make
// the perturbation non-Gaussian, so the weight r/σ would no longer be its
// likelihood-ratio score and the estimate would be biased at the bounds,
// where most MNIST pixels lie. The model is evaluated slightly outside its
// input domain instead, which a Model must accept.
//
// All n·K perturbed rows of a batch (plus n clean rows for BaselineClean)
// are stacked and passed to Model.Losses together, at most MaxRows rows per
// call, so a batch costs ceil(rows/MaxRows) calls (a call holds whole
// antithetic pairs, so an odd MaxRows counts as MaxRows − 1 for them). The
// draws, their scores and the baselines come from the likelihood-ratio core
// that the GLR estimator uses too (package score): each unit's noise from a
// counter-based stream keyed by the example and the unit, under a seed
// drawn from Rng once per call, so the estimate does not depend on MaxRows.
//
// Dims and Losses pass through to Model. A ZerothOrder draws from Rng and is
// not safe for concurrent use.
type ZerothOrder struct {
	// Model is the classifier whose losses are evaluated.
	Model Model
	// Samples is the number K >= 1 of perturbed loss evaluations per
	// example; it must be even with Antithetic and at least 2 with
	// BaselineMean.
	Samples int
	// Sigma is the smoothing scale σ > 0, in input units.
	Sigma float64
	// Antithetic pairs the samples as ±r.
	Antithetic bool
	// Baseline is the control variate; the zero value is BaselineClean.
	Baseline Baseline
	// MaxRows caps the rows per Model.Losses call; 0 means DefaultMaxRows.
	// A call always holds at least one antithetic pair, so MaxRows = 1
	// acts as 2 with Antithetic.
	MaxRows int
	// Rng seeds the perturbations r_k: one draw per InputGradient call.
	Rng *rand.Rand
}

var _ GradientModel = (*ZerothOrder)(nil)

// Dims returns the dimensions of z.Model, or zeros if it is nil.
func (z *ZerothOrder) Dims() (features, classes int) {
	if z.Model == nil {
		return 0, 0
	}
	return z.Model.Dims()
}

// Losses returns the losses of z.Model.
func (z *ZerothOrder) Losses(x []float64, labels []int, dst []float64) error {
	if z.Model == nil {
		return errors.New("attack: ZerothOrder: Model is nil")
	}
	return z.Model.Losses(x, labels, dst)
}

// check validates z's settings.
func (z *ZerothOrder) check() error {
	switch {
	case z.Model == nil:
		return errors.New("Model is nil")
	case z.Rng == nil:
		return errors.New("Rng is nil")
	case z.Samples < 1:
		return fmt.Errorf("Samples = %d, want >= 1", z.Samples)
	case !(z.Sigma > 0) || math.IsInf(z.Sigma, 1):
		return fmt.Errorf("Sigma = %v, want a finite value > 0", z.Sigma)
	case z.MaxRows < 0:
		return fmt.Errorf("MaxRows = %d, want >= 0", z.MaxRows)
	case z.Baseline != BaselineClean && z.Baseline != BaselineMean:
		return fmt.Errorf("unknown %v", z.Baseline)
	case z.Antithetic && z.Samples%2 != 0:
		return fmt.Errorf("Samples = %d, want an even number with Antithetic", z.Samples)
	case !z.Antithetic && z.Baseline == BaselineMean && z.Samples < 2:
		return fmt.Errorf("Samples = %d, want >= 2 with BaselineMean", z.Samples)
	}
	return nil
}

// InputGradient writes the estimate ĝ of each example's smoothed-loss
// gradient into grad (n·features). x need not lie in [0, 1]. It returns an
// error if z's settings are invalid (nil Model or Rng, Samples < 1, Sigma
// not finite and positive, ...), the batch does not fit the model, the
// model fails or a loss is not finite.
func (z *ZerothOrder) InputGradient(x []float64, labels []int, grad []float64) error {
	if err := z.check(); err != nil {
		return fmt.Errorf("attack: ZerothOrder: %w", err)
	}
	n, d, err := shape(z.Model, x, labels)
	if err != nil {
		return fmt.Errorf("attack: ZerothOrder: %w", err)
	}
	if len(grad) != n*d {
		return fmt.Errorf("attack: ZerothOrder: len(grad) = %d, want %d", len(grad), n*d)
	}
	for j, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("attack: ZerothOrder: x[%d] = %v", j, v)
		}
	}
	clear(grad)
	if n == 0 {
		return nil
	}
	e := zoEstimate{z: z, x: x, labels: labels, grad: grad, n: n, d: d}
	if err := e.run(); err != nil {
		return fmt.Errorf("attack: ZerothOrder: %w", err)
	}
	return nil
}

// zoEstimate is the state of one ZerothOrder.InputGradient call.
//
// The work is a stream of items: first one clean row per example (only for
// BaselineClean without Antithetic), then for each example its units, a
// unit being one perturbed row or one antithetic pair of rows. Chunks of
// consecutive items, at most MaxRows rows (at least one item), are
// evaluated by one Losses call each. The noise of unit u of example i comes
// from the score-function core's counter-based stream keyed by (seed, u,
// i), with the seed drawn from Rng once per call, so it does not depend on
// the chunking, and it is regenerated, not stored, when the gradient is
// formed from the centred losses.
type zoEstimate struct {
	z      *ZerothOrder
	x      []float64
	labels []int
	grad   []float64
	n, d   int

	seed     uint64
	draw     *score.Drawer[float64]
	noise    []float64 // one unit's draws: rowsPerUnit × d
	psi      []float64 // and their scores
	losses   []float64 // n·K perturbed losses, example-major
	clean    []float64 // L(x) per example, for BaselineClean
	centered []float64 // one example's K centred losses
}

func (e *zoEstimate) run() error {
	z, n, d := e.z, e.n, e.d
	k := z.Samples
	rowsPerUnit, units := 1, k
	if z.Antithetic {
		rowsPerUnit, units = 2, k/2
	}
	noise := score.Noise{Law: score.Gaussian, Scale: z.Sigma, Antithetic: z.Antithetic, Copies: rowsPerUnit, Rows: 1, Units: d}
	var err error
	if e.draw, err = score.NewDrawer[float64](noise); err != nil {
		return err
	}
	e.seed = z.Rng.Uint64()
	e.noise, e.psi = make([]float64, rowsPerUnit*d), make([]float64, rowsPerUnit*d)
	e.losses, e.centered = make([]float64, n*k), make([]float64, k)
	nClean := 0
	baseline := score.None
	if !z.Antithetic {
		switch z.Baseline {
		case BaselineClean:
			nClean, baseline = n, score.Clean
			e.clean = make([]float64, n)
		case BaselineMean:
			baseline = score.LeaveOneOut
		}
	}
	items := nClean + n*units
	maxRows := z.MaxRows
	if maxRows == 0 {
		maxRows = DefaultMaxRows
	}
	chunkItems := max(1, maxRows/rowsPerUnit) // perturbed units per full chunk
	chunkRows := min(max(maxRows, rowsPerUnit), nClean+n*k)

	rows := make([]float64, chunkRows*d)
	rowLabels := make([]int, chunkRows)
	losses := make([]float64, chunkRows)

	for t := 0; t < items; {
		// Fill a chunk with items t, t+1, ... while they fit.
		r, u := 0, 0 // rows and perturbed units in this chunk
		start := t
		for ; t < items; t++ {
			if t < nClean {
				if r+1 > chunkRows {
					break
				}
				copy(rows[r*d:(r+1)*d], e.x[t*d:(t+1)*d])
				rowLabels[r] = e.labels[t]
				r++
				continue
			}
			if r+rowsPerUnit > chunkRows || u == chunkItems {
				break
			}
			i, unit := (t-nClean)/units, (t-nClean)%units
			e.draw.Fill(e.noise, e.psi, e.seed, uint64(unit), uint64(i))
			xi := e.x[i*d : (i+1)*d]
			for j := 0; j < rowsPerUnit; j++ {
				row := rows[r*d : (r+1)*d]
				for c, v := range xi {
					row[c] = v + e.noise[j*d+c]
				}
				rowLabels[r] = e.labels[i]
				r++
			}
			u++
		}
		if err := z.Model.Losses(rows[:r*d], rowLabels[:r], losses[:r]); err != nil {
			return fmt.Errorf("losses of %d rows: %w", r, err)
		}
		if err := checkFinite("loss", losses[:r]); err != nil {
			return err
		}
		r = 0
		for s := start; s < t; s++ {
			if s < nClean {
				e.clean[s] = losses[r]
				r++
				continue
			}
			i, unit := (s-nClean)/units, (s-nClean)%units
			copy(e.losses[i*k+unit*rowsPerUnit:], losses[r:r+rowsPerUnit])
			r += rowsPerUnit
		}
	}

	// ĝ_i = (1/K) Σ_k (L_k − b_k)·ψ(r_k), with ψ(r) = r/σ², the noise of
	// each unit drawn again from its keys.
	for i := 0; i < n; i++ {
		var clean []float64
		if e.clean != nil {
			clean = e.clean[i : i+1]
		}
		// The rows of one example's units are its copies, unit-major: row
		// unit·rowsPerUnit + j is copy j of the unit.
		score.Center(e.centered, e.losses[i*k:(i+1)*k], clean, k, baseline)
		gi := e.grad[i*d : (i+1)*d]
		for unit := 0; unit < units; unit++ {
			e.draw.Fill(e.noise, e.psi, e.seed, uint64(unit), uint64(i))
			for j := 0; j < rowsPerUnit; j++ {
				w := e.centered[unit*rowsPerUnit+j] / float64(k)
				for c, p := range e.psi[j*d : (j+1)*d] {
					gi[c] += w * p
				}
			}
		}
	}
	return nil
}
