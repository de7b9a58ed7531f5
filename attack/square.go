package attack

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// Defaults of SquareOptions.
const (
	// DefaultSquareQueries is the query budget per image used when
	// SquareOptions.Queries is 0.
	DefaultSquareQueries = 1000
	// DefaultSquarePInit is the initial fraction of pixels changed per
	// query used when SquareOptions.PInit is 0: the paper's L∞ value for
	// MNIST and CIFAR-10 with undefended models.
	DefaultSquarePInit = 0.05
)

// SquareOptions configures Square. The image geometry and Rng are
// required; the other fields default when zero.
type SquareOptions struct {
	// Height, Width and Channels give the image geometry. A flat input
	// of features = Height·Width·Channels values is stored channels-last:
	// pixel (h, w) of channel c is feature (h·Width + w)·Channels + c.
	// MNIST is 28×28×1.
	Height, Width, Channels int
	// Queries is the budget of model evaluations per image, counting the
	// initial one; 0 means DefaultSquareQueries.
	Queries int
	// PInit is the initial fraction p of pixels a query changes, in
	// (0, 1]; 0 means DefaultSquarePInit.
	PInit float64
	// AcceptEqual also keeps candidates whose loss equals the current
	// one. The paper keeps only improvements, which never moves on a
	// plateau of a piecewise-constant loss (a network of threshold units,
	// whose logits change only when a unit flips); accepting ties makes
	// the search a random walk across plateaus. A smooth loss has no
	// ties, so there the two rules agree.
	AcceptEqual bool
	// Rng draws the initial stripes, the squares and their signs.
	Rng *rand.Rand
}

// SquareResult is the outcome of Square for a batch of n images.
type SquareResult struct {
	// Adv holds the adversarial images, n·features values, each within
	// eps of its clean image in the L∞ norm and inside [0, 1].
	Adv []float64
	// Success reports, per image, whether the model misclassifies Adv.
	Success []bool
	// Queries is the number of model evaluations spent on each image,
	// at most the budget. It is 0 for an image the model misclassifies
	// already, and for every image when eps is 0.
	Queries []int
}

// Square runs the L∞ Square Attack of Andriushchenko, Croce, Flammarion
// and Hein (ECCV 2020), untargeted, on the batch x with labels, with budget
// eps in [0, 1]. It is a score-based black-box attack: it uses the model's
// outputs only and never calls a gradient method, so a model whose input
// gradient is zero or useless (threshold activations) cannot mask it.
//
// The loss minimised is the paper's margin z_y − max_{k≠y} z_k on the
// logits when m is a Scorer, and otherwise the negated cross-entropy −L
// from m.Losses. Each image is attacked as in the paper's code:
//
//   - it starts at vertical stripes, x + δ with δ = ±eps drawn per column
//     and channel (one query);
//   - each further query changes one square window of side
//     s = max(round(sqrt(p·Height·Width)), 1) pixels, at a uniform
//     position, to x ± eps with one random sign per channel (redrawn until
//     the window differs from the current point), and keeps the candidate
//     if it lowers the loss (or leaves it equal, with AcceptEqual) or is
//     misclassified;
//   - p starts at PInit and halves when the iteration, scaled to a budget
//     of 10000, passes 10, 50, 200, 500, 1000, 2000, 4000, 6000 and 8000;
//   - the image stops as soon as the model misclassifies it, or when the
//     budget of Queries evaluations is spent.
//
// Values x ± eps are clipped to [0, 1] exactly (see bounds), so every
// result is within eps of x. Two details differ from the reference numpy
// code: the window may touch the last row and column (numpy's
// randint(0, h − s) excludes them), and s is capped at the image's smaller
// side rather than at h − 1; round is Python's (half to even).
//
// Square first classifies the clean images; one the model already
// misclassifies is returned unchanged, with Success set and no query
// counted, as the paper attacks only correctly classified points. Whether
// an image is misclassified is judged by the argmax of the logits for a
// Scorer, and by m's predictions otherwise (Predict, or the class of the
// smallest loss, see Correct). The images run in lockstep, so every query
// round is one batched model call, but each image draws from its own
// stream seeded from opts.Rng in order, so its attack does not depend on
// when the others stop.
//
// Square returns an error for a batch that does not fit m, inputs outside
// [0, 1], eps outside [0, 1], missing or mismatched geometry, a negative
// Queries, a PInit outside (0, 1], a nil Rng, or a failing model.
func Square(m Model, x []float64, labels []int, eps float64, opts SquareOptions) (*SquareResult, error) {
	res, err := square(m, x, labels, eps, opts)
	if err != nil {
		return nil, fmt.Errorf("attack: Square: %w", err)
	}
	return res, nil
}

func square(m Model, x []float64, labels []int, eps float64, opts SquareOptions) (*SquareResult, error) {
	n, d, err := checkInputs(m, x, labels)
	if err != nil {
		return nil, err
	}
	if err := checkEps(eps); err != nil {
		return nil, err
	}
	if err := checkGeometry(opts.Height, opts.Width, opts.Channels, d); err != nil {
		return nil, err
	}
	queries, pInit := opts.Queries, opts.PInit
	switch {
	case queries < 0:
		return nil, fmt.Errorf("Queries = %d, want >= 0", queries)
	case queries == 0:
		queries = DefaultSquareQueries
	}
	switch {
	case math.IsNaN(pInit) || pInit < 0 || pInit > 1:
		return nil, fmt.Errorf("PInit = %v, want a value in (0, 1]", pInit)
	case pInit == 0:
		pInit = DefaultSquarePInit
	}
	if opts.Rng == nil {
		return nil, errors.New("Rng is nil")
	}

	s := &squareRun{m: m, x: x, labels: labels, n: n, d: d,
		h: opts.Height, w: opts.Width, c: opts.Channels, classify: classifier(m), acceptEqual: opts.AcceptEqual}
	s.res = &SquareResult{Adv: make([]float64, n*d), Success: make([]bool, n), Queries: make([]int, n)}
	copy(s.res.Adv, x)
	rngs := streams(opts.Rng, n)
	if n == 0 {
		return s.res, nil
	}
	if err := s.clean(); err != nil {
		return nil, err
	}
	if eps == 0 {
		return s.res, nil
	}
	s.lo, s.hi = make([]float64, n*d), make([]float64, n*d)
	for j, v := range x {
		s.lo[j], s.hi[j] = bounds(v, eps)
	}
	if err := s.stripes(rngs); err != nil {
		return nil, err
	}
	for it := range queries - 1 {
		p := squareP(pInit, it, queries)
		side := int(math.RoundToEven(math.Sqrt(p * float64(s.h*s.w))))
		side = min(max(side, 1), s.h, s.w)
		more, err := s.step(rngs, side)
		if err != nil {
			return nil, err
		}
		if !more {
			break
		}
	}
	return s.res, nil
}

// checkGeometry checks that an image geometry is given and has d features.
func checkGeometry(h, w, c, d int) error {
	if h < 1 || w < 1 || c < 1 {
		return fmt.Errorf("Height, Width and Channels = %d, %d, %d: the image geometry is required, each >= 1", h, w, c)
	}
	if h*w*c != d {
		return fmt.Errorf("Height·Width·Channels = %d·%d·%d = %d, want the model's %d features", h, w, c, h*w*c, d)
	}
	return nil
}

// squareP returns the fraction p of pixels changed at iteration it of a
// budget of queries, the paper's p_selection: the iteration is rescaled to
// a budget of 10000 and p halves after 10, 50, 200, ... 8000 of them.
func squareP(pInit float64, it, queries int) float64 {
	t := int(float64(it) / float64(queries) * 10000) // < 10000, as it < queries
	p := pInit
	for _, b := range [...]int{10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000} {
		if t > b {
			p /= 2
		}
	}
	return p
}

// squareRun is the state of one Square call.
type squareRun struct {
	m           Model
	x           []float64
	labels      []int
	n, d        int
	h, w, c     int
	classify    func(x []float64, dst []int) error
	acceptEqual bool
	res         *SquareResult
	lo, hi      []float64 // the ends of each feature's interval [x − eps, x + eps] ∩ [0, 1]
	loss        []float64 // the loss of each image's current point

	// Scratch for the images of one query round.
	idx   []int
	rows  []float64
	rowY  []int
	rowL  []float64
	rowOK []bool
	pred  []int
	z     []float64
}

// clean marks the images m misclassifies already as done.
func (s *squareRun) clean() error {
	pred := make([]int, s.n)
	if err := s.classify(s.x, pred); err != nil {
		return fmt.Errorf("clean images: %w", err)
	}
	for i, y := range s.labels {
		s.res.Success[i] = pred[i] != y
	}
	return nil
}

// stripes moves each image still to attack to its initial point and
// evaluates it.
func (s *squareRun) stripes(rngs []*rand.Rand) error {
	s.loss = make([]float64, s.n)
	s.gather()
	for r, i := range s.idx {
		row := s.rows[r*s.d : (r+1)*s.d]
		for ch := range s.c {
			for col := range s.w {
				up := rngs[i].IntN(2) == 1
				for y := range s.h {
					j := (y*s.w+col)*s.c + ch
					row[j] = s.end(i*s.d+j, up)
				}
			}
		}
	}
	if err := s.evaluate(); err != nil {
		return err
	}
	for r, i := range s.idx {
		copy(s.res.Adv[i*s.d:(i+1)*s.d], s.rows[r*s.d:(r+1)*s.d])
		s.loss[i] = s.rowL[r]
		s.res.Success[i] = !s.rowOK[r]
		s.res.Queries[i] = 1
	}
	return nil
}

// step makes one query for each image still to attack, with windows of the
// given side, and reports whether any image was left to attack.
func (s *squareRun) step(rngs []*rand.Rand, side int) (bool, error) {
	s.gather()
	if len(s.idx) == 0 {
		return false, nil
	}
	for r, i := range s.idx {
		s.window(rngs[i], i, s.rows[r*s.d:(r+1)*s.d], side)
	}
	if err := s.evaluate(); err != nil {
		return false, err
	}
	for r, i := range s.idx {
		s.res.Queries[i]++
		l, wrong := s.rowL[r], !s.rowOK[r]
		if l < s.loss[i] || s.acceptEqual && l == s.loss[i] || wrong {
			copy(s.res.Adv[i*s.d:(i+1)*s.d], s.rows[r*s.d:(r+1)*s.d])
			s.loss[i] = l
			s.res.Success[i] = wrong
		}
	}
	return true, nil
}

// window turns row, a copy of image i's current point, into a candidate:
// a square of the given side at a uniform position, set to x ± eps with a
// random sign per channel, redrawn until it changes some value. With
// eps > 0 the two ends of every feature's interval differ, so a draw leaves
// the window unchanged with probability at most 1/2.
func (s *squareRun) window(rng *rand.Rand, i int, row []float64, side int) {
	top, left := rng.IntN(s.h-side+1), rng.IntN(s.w-side+1)
	for changed := false; !changed; {
		for ch := range s.c {
			up := rng.IntN(2) == 1
			for y := top; y < top+side; y++ {
				for col := left; col < left+side; col++ {
					j := (y*s.w+col)*s.c + ch
					row[j] = s.end(i*s.d+j, up)
					changed = changed || row[j] != s.res.Adv[i*s.d+j]
				}
			}
		}
	}
}

// end returns the upper or lower end of feature j's interval.
func (s *squareRun) end(j int, up bool) float64 {
	if up {
		return s.hi[j]
	}
	return s.lo[j]
}

// gather lists the images still to attack and copies their current points
// and labels into the scratch rows.
func (s *squareRun) gather() {
	s.idx = s.idx[:0]
	for i, done := range s.res.Success {
		if !done {
			s.idx = append(s.idx, i)
		}
	}
	k, d := len(s.idx), s.d
	s.rows, s.rowY = resize(s.rows, k*d), resize(s.rowY, k)
	s.rowL, s.rowOK = resize(s.rowL, k), resize(s.rowOK, k)
	for r, i := range s.idx {
		copy(s.rows[r*d:(r+1)*d], s.res.Adv[i*d:(i+1)*d])
		s.rowY[r] = s.labels[i]
	}
}

// evaluate writes the loss of each scratch row into rowL and whether the
// model classifies it correctly into rowOK: the margin and the argmax of
// the logits for a Scorer, else −L and the model's prediction.
func (s *squareRun) evaluate() error {
	k := len(s.idx)
	if sc, ok := s.m.(Scorer); ok {
		_, c := s.m.Dims()
		s.z = resize(s.z, k*c)
		if err := logits(sc, s.rows, s.z); err != nil {
			return err
		}
		for r, y := range s.rowY {
			z := s.z[r*c : (r+1)*c]
			s.rowL[r] = margin(z, y)
			s.rowOK[r] = argmax(z) == y
		}
		return nil
	}
	if err := s.m.Losses(s.rows, s.rowY, s.rowL); err != nil {
		return fmt.Errorf("losses: %w", err)
	}
	if err := checkFinite("loss", s.rowL); err != nil {
		return err
	}
	s.pred = resize(s.pred, k)
	if err := s.classify(s.rows, s.pred); err != nil {
		return err
	}
	for r, y := range s.rowY {
		s.rowL[r] = -s.rowL[r]
		s.rowOK[r] = s.pred[r] == y
	}
	return nil
}
