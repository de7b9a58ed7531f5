package attack

import (
	"fmt"
	"math"
)

// Defaults of LBFGSOptions, those of the reference code's attack.
const (
	DefaultLBFGSIterations   = 20   // torch max_iter
	DefaultLBFGSHistory      = 100  // torch history_size
	DefaultLBFGSLearningRate = 0.05 // torch lr
)

// Tolerances of torch.optim.LBFGS, which the reference code left at their
// defaults.
const (
	lbfgsTolGrad   = 1e-7 // stop when max |gradient| <= this
	lbfgsTolChange = 1e-9 // stop on smaller directional derivatives, steps or loss changes
	lbfgsMinCurv   = 1e-10
)

// LBFGSOptions configures LBFGS and LBFGSBounded. The zero value gives the
// reference code's settings.
type LBFGSOptions struct {
	// MaxIterations caps the L-BFGS iterations per example;
	// 0 means DefaultLBFGSIterations.
	MaxIterations int
	// History is the number of correction pairs kept;
	// 0 means DefaultLBFGSHistory.
	History int
	// LearningRate is the fixed step length t applied to the quasi-Newton
	// direction; 0 means DefaultLBFGSLearningRate.
	LearningRate float64
}

// LBFGS returns the reference code's "L-BFGS" adversarial examples, not
// Szegedy et al.'s box-constrained, distance-penalised attack. For each
// example on its own, the input v is a free variable started at x; L-BFGS
// minimises −L(v), the negated cross-entropy against the true label, with no
// box constraint and no distance penalty, and the final iterate is clipped
// to [0, 1]. The attack has no budget: the result may be far from x in every
// norm (see LBFGSBounded).
//
// The optimiser is torch.optim.LBFGS as the reference code ran it (lr 0.05,
// max_iter 20, history_size 100, no line search), reimplemented step for
// step: each iteration moves v by a fixed step t times the two-loop L-BFGS
// direction, with t = min(1, 1/‖g‖₁)·lr on the first iteration and lr
// afterwards; a correction pair (s, y) enters the history only if yᵀs >
// 1e−10, so on a concave −L (a linear classifier) the method reduces to
// gradient ascent on L with step lr; the run stops early under torch's
// default tolerances (max |g| ≤ 1e−7, or a directional derivative, step or
// loss change below 1e−9) or after max_iter·5/4 loss evaluations. Unlike the
// reference code it computes in float64, and it does not use gonum's
// optimize.LBFGS: gonum's L-BFGS requires a Wolfe line search, which on a −L
// that is unbounded below keeps extending the step far outside [0, 1], and
// its package cannot be built with the module's current requirements.
//
// The examples of the batch run in lockstep, so each iteration calls
// m.Losses and m.InputGradient once on the examples still running. The
// result is deterministic when the model is. LBFGS returns an error for the
// inputs FGSM rejects, negative or non-finite options, a model error, or a
// non-finite loss or gradient.
func LBFGS(m GradientModel, x []float64, labels []int, opts LBFGSOptions) ([]float64, error) {
	adv, err := lbfgs(m, x, labels, opts)
	if err != nil {
		return nil, fmt.Errorf("attack: LBFGS: %w", err)
	}
	for j, v := range adv {
		// The unit ball around a point of [0, 1] holds all of [0, 1], so
		// this is the clip to [0, 1].
		adv[j] = project(v, x[j], 1)
	}
	return adv, nil
}

// LBFGSBounded is LBFGS with an L∞ budget: it runs the same unconstrained
// optimisation and then projects the final iterate into the eps-ball around
// x intersected with [0, 1], so that the result is within eps of x. The
// budget plays no part during the optimisation (the reference code had
// none), so the projected point need not be the best point of the ball; PGD
// searches the ball itself. It returns an error for the inputs LBFGS rejects
// and for an eps that is negative or not finite.
func LBFGSBounded(m GradientModel, x []float64, labels []int, eps float64, opts LBFGSOptions) ([]float64, error) {
	if err := checkNonNeg("eps", eps); err != nil {
		return nil, fmt.Errorf("attack: LBFGSBounded: %w", err)
	}
	adv, err := lbfgs(m, x, labels, opts)
	if err != nil {
		return nil, fmt.Errorf("attack: LBFGSBounded: %w", err)
	}
	for j, v := range adv {
		adv[j] = project(v, x[j], eps)
	}
	return adv, nil
}

// lbfgsRun is the state of one example's optimisation, the variables of
// torch's LBFGS.step.
type lbfgsRun struct {
	v        []float64   // the iterate
	f, prevF float64     // −L at v and at the previous iterate
	g, prevG []float64   // −∇L at v and at the previous iterate
	dir      []float64   // the search direction d
	t        float64     // the step length of the last move
	s, y     [][]float64 // correction pairs, oldest first
	ro       []float64   // 1/yᵀs of each pair
	sBuf     []float64   // scratch for the next s
	yBuf     []float64   // scratch for the next y
	hDiag    float64     // scale of the initial inverse Hessian
	evals    int         // loss evaluations so far
	done     bool
}

// lbfgs runs the examples' optimisations and returns their final,
// unclipped iterates.
func lbfgs(m GradientModel, x []float64, labels []int, opts LBFGSOptions) ([]float64, error) {
	n, d, err := checkInputs(m, x, labels)
	if err != nil {
		return nil, err
	}
	iters, hist, lr := opts.MaxIterations, opts.History, opts.LearningRate
	switch {
	case iters < 0:
		return nil, fmt.Errorf("MaxIterations = %d, want >= 0", iters)
	case hist < 0:
		return nil, fmt.Errorf("History = %d, want >= 0", hist)
	}
	if err := checkNonNeg("LearningRate", lr); err != nil {
		return nil, err
	}
	if iters == 0 {
		iters = DefaultLBFGSIterations
	}
	if hist == 0 {
		hist = DefaultLBFGSHistory
	}
	if lr == 0 {
		lr = DefaultLBFGSLearningRate
	}
	maxEvals := iters * 5 / 4
	if n == 0 {
		return []float64{}, nil
	}

	runs := make([]lbfgsRun, n)
	for i := range runs {
		r := &runs[i]
		r.v = append([]float64(nil), x[i*d:(i+1)*d]...)
		r.g = make([]float64, d)
		r.prevG = make([]float64, d)
		r.dir = make([]float64, d)
		r.hDiag = 1
	}
	ev := newLbfgsEval(m, labels, n, d)
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	if err := ev.eval(runs, all); err != nil {
		return nil, fmt.Errorf("at the input: %w", err)
	}
	for i := range runs {
		r := &runs[i]
		r.evals = 1
		r.done = maxAbs(r.g) <= lbfgsTolGrad
	}

	al := make([]float64, hist)
	moved := make([]int, 0, n)
	for it := 1; it <= iters; it++ {
		moved = moved[:0]
		for i := range runs {
			r := &runs[i]
			if r.done {
				continue
			}
			if !r.move(it, hist, lr, al) {
				r.done = true
				continue
			}
			if it == iters {
				// torch does not evaluate after the last move.
				r.done = true
				continue
			}
			moved = append(moved, i)
		}
		if len(moved) == 0 {
			break
		}
		if err := ev.eval(runs, moved); err != nil {
			return nil, fmt.Errorf("iteration %d: %w", it, err)
		}
		for _, i := range moved {
			r := &runs[i]
			r.evals++
			r.done = r.evals >= maxEvals ||
				maxAbs(r.g) <= lbfgsTolGrad ||
				r.t*maxAbs(r.dir) <= lbfgsTolChange ||
				math.Abs(r.f-r.prevF) < lbfgsTolChange
		}
	}

	adv := make([]float64, n*d)
	for i := range runs {
		copy(adv[i*d:(i+1)*d], runs[i].v)
	}
	return adv, nil
}

// move does the part of iteration it before the evaluation: update the
// history, compute the direction and the step, and move the iterate. It
// reports false if the direction is not a descent direction (torch's first
// break), leaving the iterate where it was.
func (r *lbfgsRun) move(it, hist int, lr float64, al []float64) bool {
	if it == 1 {
		for j, g := range r.g {
			r.dir[j] = -g
		}
	} else {
		// y = g − prevG, s = t·dir, in scratch storage that becomes the
		// newest pair if yᵀs is positive enough.
		if r.sBuf == nil {
			r.sBuf, r.yBuf = make([]float64, len(r.g)), make([]float64, len(r.g))
		}
		s, y := r.sBuf, r.yBuf
		for j := range y {
			y[j] = r.g[j] - r.prevG[j]
			s[j] = r.t * r.dir[j]
		}
		if ys := dot(y, s); ys > lbfgsMinCurv {
			if len(r.s) == hist { // drop the oldest pair, reuse its storage
				r.sBuf, r.yBuf = r.s[0], r.y[0]
				copy(r.s, r.s[1:])
				copy(r.y, r.y[1:])
				copy(r.ro, r.ro[1:])
				r.s[hist-1], r.y[hist-1], r.ro[hist-1] = s, y, 1/ys
			} else {
				r.sBuf, r.yBuf = nil, nil
				r.s, r.y, r.ro = append(r.s, s), append(r.y, y), append(r.ro, 1/ys)
			}
			r.hDiag = ys / dot(y, y)
		}
		// Two-loop recursion: dir = −H·g.
		q := r.dir
		for j, g := range r.g {
			q[j] = -g
		}
		for k := len(r.s) - 1; k >= 0; k-- {
			al[k] = dot(r.s[k], q) * r.ro[k]
			axpy(-al[k], r.y[k], q)
		}
		for j := range q {
			q[j] *= r.hDiag
		}
		for k := range r.s {
			be := dot(r.y[k], q) * r.ro[k]
			axpy(al[k]-be, r.s[k], q)
		}
	}
	copy(r.prevG, r.g)
	r.prevF = r.f
	r.t = lr
	if it == 1 {
		r.t = math.Min(1, 1/sumAbs(r.g)) * lr
	}
	if dot(r.g, r.dir) > -lbfgsTolChange {
		return false
	}
	axpy(r.t, r.dir, r.v)
	return true
}

// lbfgsEval evaluates −L and −∇L for a subset of the runs in one Losses and
// one InputGradient call.
type lbfgsEval struct {
	m       GradientModel
	labels  []int
	d       int
	rows    []float64
	rowLabs []int
	losses  []float64
	grads   []float64
}

func newLbfgsEval(m GradientModel, labels []int, n, d int) *lbfgsEval {
	return &lbfgsEval{
		m: m, labels: labels, d: d,
		rows:    make([]float64, n*d),
		rowLabs: make([]int, n),
		losses:  make([]float64, n),
		grads:   make([]float64, n*d),
	}
}

func (e *lbfgsEval) eval(runs []lbfgsRun, which []int) error {
	d, k := e.d, len(which)
	for r, i := range which {
		copy(e.rows[r*d:(r+1)*d], runs[i].v)
		e.rowLabs[r] = e.labels[i]
	}
	rows, labs, losses, grads := e.rows[:k*d], e.rowLabs[:k], e.losses[:k], e.grads[:k*d]
	if err := e.m.Losses(rows, labs, losses); err != nil {
		return fmt.Errorf("losses: %w", err)
	}
	if err := checkFinite("loss", losses); err != nil {
		return err
	}
	if err := e.m.InputGradient(rows, labs, grads); err != nil {
		return fmt.Errorf("input gradient: %w", err)
	}
	if err := checkFinite("gradient", grads); err != nil {
		return err
	}
	for r, i := range which {
		run := &runs[i]
		run.f = -losses[r]
		for j, g := range grads[r*d : (r+1)*d] {
			run.g[j] = -g
		}
	}
	return nil
}

func dot(a, b []float64) float64 {
	var s float64
	for j, v := range a {
		s += v * b[j]
	}
	return s
}

// axpy sets y += a·x.
func axpy(a float64, x, y []float64) {
	for j, v := range x {
		y[j] += a * v
	}
}

func maxAbs(a []float64) float64 {
	var m float64
	for _, v := range a {
		m = math.Max(m, math.Abs(v))
	}
	return m
}

func sumAbs(a []float64) float64 {
	var s float64
	for _, v := range a {
		s += math.Abs(v)
	}
	return s
}
