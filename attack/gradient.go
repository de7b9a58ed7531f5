package attack

import (
	"errors"
	"fmt"
	"math/rand/v2"
)

// FGSM returns the fast gradient sign method's adversarial examples for the
// batch x with labels:
//
//	x_adv = clip(x + eps·sign(∇x L), 0, 1)
//
// where L is m's per-example loss. The gradient may be exact or an estimate
// (see ZerothOrder). The result is a new slice; every value lies in [0, 1]
// and within eps of x. Coordinates with a zero gradient do not move, and
// eps = 0 returns a copy of x without consulting the gradient. FGSM returns
// an error if the batch does not fit m, an input lies outside [0, 1], eps is
// negative or not finite, or the model fails or returns a non-finite
// gradient.
func FGSM(m GradientModel, x []float64, labels []int, eps float64) ([]float64, error) {
	n, d, err := checkInputs(m, x, labels)
	if err != nil {
		return nil, fmt.Errorf("attack: FGSM: %w", err)
	}
	if err := checkNonNeg("eps", eps); err != nil {
		return nil, fmt.Errorf("attack: FGSM: %w", err)
	}
	adv := make([]float64, n*d)
	if eps == 0 || n == 0 {
		copy(adv, x)
		return adv, nil
	}
	if err := m.InputGradient(x, labels, adv); err != nil {
		return nil, fmt.Errorf("attack: FGSM: input gradient: %w", err)
	}
	if err := checkFinite("gradient", adv); err != nil {
		return nil, fmt.Errorf("attack: FGSM: %w", err)
	}
	for j, g := range adv {
		adv[j] = project(x[j]+eps*sign(g), x[j], eps)
	}
	return adv, nil
}

// DefaultPGDSteps is the number of PGD steps used when PGDOptions.Steps is 0.
const DefaultPGDSteps = 10

// PGDOptions configures PGD. The zero value asks for DefaultPGDSteps steps
// of size 2.5·eps/DefaultPGDSteps from the clean input, returning the last
// iterate.
type PGDOptions struct {
	// Steps is the number k of gradient steps; 0 means DefaultPGDSteps.
	Steps int
	// StepSize is the step size α; 0 means 2.5·eps/Steps, the choice of
	// Madry et al. that lets the iterate cross the ball from any start.
	StepSize float64
	// RandomStart starts from x plus noise drawn uniformly from the eps-ball
	// (then moved into [0, 1]) instead of from x.
	RandomStart bool
	// Rng draws the random starts. It is required when RandomStart is set
	// or Restarts > 1.
	Rng *rand.Rand
	// Restarts is the number of runs, each from its own random start drawn
	// from Rng in turn, whatever RandomStart says; PGD returns per example
	// the best of the runs' results, ranked as for KeepBest. 0 and 1 mean
	// one run.
	Restarts int
	// KeepBest returns per example the best of all iterates of all runs,
	// the starting points included, instead of the last one. An iterate
	// the model misclassifies beats one it classifies correctly, and among
	// those a higher loss beats a lower one, judged by m's own Losses and
	// predictions (see Correct); the earlier iterate wins ties. It costs
	// one Losses call and one prediction per iterate.
	KeepBest bool
}

// PGD returns the adversarial examples of projected gradient ascent on m's
// loss in the L∞ ball of radius eps around x:
//
//	x ← Proj(x + α·sign(∇x L))
//
// repeated opts.Steps times, where Proj moves each coordinate into
// [0, 1] ∩ [x_j − eps, x_j + eps]. The result, the last iterate (or the
// best of several, see Restarts and KeepBest), is a new slice within eps
// of x and inside [0, 1]. PGD returns an error for the inputs FGSM rejects
// and for bad options: negative Steps or Restarts, a negative or
// non-finite StepSize, or random starts without Rng.
//
// With m a BPDA, PGD is the BPDA attack of Athalye, Carlini and Wagner on
// a network whose exact input gradient is zero: the steps follow the
// surrogate's gradient, and KeepBest and Restarts rank iterates by the
// real network's losses and predictions.
func PGD(m GradientModel, x []float64, labels []int, eps float64, opts PGDOptions) ([]float64, error) {
	n, d, err := checkInputs(m, x, labels)
	if err != nil {
		return nil, fmt.Errorf("attack: PGD: %w", err)
	}
	if err := checkNonNeg("eps", eps); err != nil {
		return nil, fmt.Errorf("attack: PGD: %w", err)
	}
	steps := opts.Steps
	switch {
	case steps < 0:
		return nil, fmt.Errorf("attack: PGD: Steps = %d, want >= 0", steps)
	case steps == 0:
		steps = DefaultPGDSteps
	}
	alpha := opts.StepSize
	if err := checkNonNeg("StepSize", alpha); err != nil {
		return nil, fmt.Errorf("attack: PGD: %w", err)
	}
	if alpha == 0 {
		alpha = 2.5 * eps / float64(steps)
	}
	if opts.Restarts < 0 {
		return nil, fmt.Errorf("attack: PGD: Restarts = %d, want >= 0", opts.Restarts)
	}
	runs := max(opts.Restarts, 1)
	random := opts.RandomStart || runs > 1
	switch {
	case opts.RandomStart && opts.Rng == nil:
		return nil, errors.New("attack: PGD: RandomStart needs an Rng")
	case random && opts.Rng == nil:
		return nil, fmt.Errorf("attack: PGD: Restarts = %d needs an Rng", opts.Restarts)
	}

	adv := make([]float64, n*d)
	copy(adv, x)
	if eps == 0 || n == 0 {
		return adv, nil
	}
	p := pgdRun{m: m, x: x, labels: labels, eps: eps, alpha: alpha, steps: steps, grad: make([]float64, n*d)}
	if runs == 1 && !opts.KeepBest {
		if random {
			randomStart(adv, x, eps, opts.Rng)
		}
		if err := p.run(adv, nil); err != nil {
			return nil, fmt.Errorf("attack: PGD: %w", err)
		}
		return adv, nil
	}
	best := newRanking(m, labels, d)
	var offer func([]float64) error
	if opts.KeepBest {
		offer = best.offer
	}
	for range runs {
		copy(adv, x)
		if random {
			randomStart(adv, x, eps, opts.Rng)
		}
		if err := p.run(adv, offer); err != nil {
			return nil, fmt.Errorf("attack: PGD: %w", err)
		}
		if !opts.KeepBest {
			if err := best.offer(adv); err != nil {
				return nil, fmt.Errorf("attack: PGD: %w", err)
			}
		}
	}
	return best.best, nil
}

// randomStart sets adv to x plus noise uniform in the eps-ball, moved into
// [0, 1].
func randomStart(adv, x []float64, eps float64, rng *rand.Rand) {
	for j := range adv {
		adv[j] = project(x[j]+eps*(2*rng.Float64()-1), x[j], eps)
	}
}

// pgdRun holds the settings of PGD's runs.
type pgdRun struct {
	m          GradientModel
	x          []float64
	labels     []int
	eps, alpha float64
	steps      int
	grad       []float64
}

// run takes the steps from adv, in place, passing the start and every
// iterate to offer if it is not nil.
func (p *pgdRun) run(adv []float64, offer func([]float64) error) error {
	if offer != nil {
		if err := offer(adv); err != nil {
			return err
		}
	}
	for range p.steps {
		if err := p.m.InputGradient(adv, p.labels, p.grad); err != nil {
			return fmt.Errorf("input gradient: %w", err)
		}
		if err := checkFinite("gradient", p.grad); err != nil {
			return err
		}
		for j, g := range p.grad {
			adv[j] = project(adv[j]+p.alpha*sign(g), p.x[j], p.eps)
		}
		if offer != nil {
			if err := offer(adv); err != nil {
				return err
			}
		}
	}
	return nil
}

// ranking keeps, per example, the best of the points offered: a
// misclassified point beats a correctly classified one, then a higher loss
// beats a lower one, and the earlier point wins ties.
type ranking struct {
	m        Model
	labels   []int
	d        int
	classify func(x []float64, dst []int) error
	best     []float64 // nil until the first offer
	wrong    []bool
	loss     []float64
	curLoss  []float64
	pred     []int
}

func newRanking(m Model, labels []int, d int) *ranking {
	n := len(labels)
	return &ranking{m: m, labels: labels, d: d, classify: classifier(m),
		wrong: make([]bool, n), loss: make([]float64, n), curLoss: make([]float64, n), pred: make([]int, n)}
}

// offer ranks the points cand (n·d) against the best so far.
func (r *ranking) offer(cand []float64) error {
	if err := r.m.Losses(cand, r.labels, r.curLoss); err != nil {
		return fmt.Errorf("losses: %w", err)
	}
	if err := checkFinite("loss", r.curLoss); err != nil {
		return err
	}
	if err := r.classify(cand, r.pred); err != nil {
		return err
	}
	first := r.best == nil
	if first {
		r.best = make([]float64, len(cand))
	}
	d := r.d
	for i, y := range r.labels {
		w, l := r.pred[i] != y, r.curLoss[i]
		if first || w && !r.wrong[i] || w == r.wrong[i] && l > r.loss[i] {
			copy(r.best[i*d:(i+1)*d], cand[i*d:(i+1)*d])
			r.wrong[i], r.loss[i] = w, l
		}
	}
	return nil
}
