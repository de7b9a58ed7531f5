package attack

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Defaults of HSJOptions.
const (
	// DefaultHSJQueries is the query budget per image used when
	// HSJOptions.Queries is 0.
	DefaultHSJQueries = 5000
	// DefaultHSJInitTries is the number of uniform noise images tried per
	// image for a misclassified starting point when HSJOptions.InitTries
	// is 0.
	DefaultHSJInitTries = 100
	// DefaultHSJInitEvals is the paper's number of queries of the first
	// gradient-direction estimate, used when HSJOptions.InitEvals is 0.
	DefaultHSJInitEvals = 100
	// DefaultHSJMaxEvals is the paper's cap on the queries of one
	// estimate, used when HSJOptions.MaxEvals is 0.
	DefaultHSJMaxEvals = 10000
	// DefaultHSJBatch is the number of images attacked together when
	// HSJOptions.Batch is 0.
	DefaultHSJBatch = 32
)

// hsjChunk caps the rows of one estimate sent to the model at a time. The
// noise is drawn in the same order whatever the chunking, so it changes
// memory, not results.
const hsjChunk = 256

// HSJOptions configures HopSkipJump. Rng is required; the other fields
// default when zero.
type HSJOptions struct {
	// Queries is the budget of model evaluations per image, counting
	// every evaluation of the attack (the search for a starting point
	// included); 0 means DefaultHSJQueries.
	Queries int
	// InitTries caps the uniform noise images tried for a starting point;
	// 0 means DefaultHSJInitTries.
	InitTries int
	// InitEvals is the number of queries of the first gradient-direction
	// estimate; iteration t uses InitEvals·sqrt(t). 0 means
	// DefaultHSJInitEvals.
	InitEvals int
	// MaxEvals caps the queries of one estimate; 0 means
	// DefaultHSJMaxEvals.
	MaxEvals int
	// Gamma sets the binary-search threshold θ = Gamma/d² of the L∞
	// attack on d features; 0 means the paper's 1.
	Gamma float64
	// BatchStarts lets an image for which no noise image among InitTries
	// is misclassified start from the image of the batch nearest to it in
	// the L∞ norm (the first on ties) that the model assigns to a class
	// other than its label, as known from the clean predictions (no query
	// is spent on it). On a model that puts all noise into one class this
	// starts the images of that class, which the noise start leaves
	// unattacked.
	BatchStarts bool
	// Batch is the number of images attacked at a time; their queries are
	// gathered into one model call per round. 0 means DefaultHSJBatch.
	Batch int
	// Rng draws the noise images and the estimates' random directions.
	Rng *rand.Rand
}

// HSJResult is the outcome of HopSkipJump for a batch of n images.
type HSJResult struct {
	// Adv holds, per image, the adversarial point closest to the clean
	// image in the L∞ norm among those found, inside [0, 1]; the clean
	// image itself if the model misclassifies it, or if no adversarial
	// point was found.
	Adv []float64
	// Dist is the L∞ distance max_j |Adv_j − x_j| of each image, computed
	// in floating point: 0 for an image misclassified already and +Inf
	// for one the attack could not start on (no misclassified noise image
	// among InitTries and no BatchStarts, or no budget left), which
	// counts as robust.
	Dist []float64
	// Queries is the number of model evaluations spent on each image, at
	// most the budget.
	Queries []int

	clean []float64
}

// AtEps returns, for each budget eps[k] in [0, 1], the images an attacker
// limited to eps[k] gets from the result: image i is Adv's if
// Dist[i] <= eps[k] and the clean image otherwise. Every returned image is
// within eps[k] of its clean image and inside [0, 1]. AtEps returns an
// error for a budget outside [0, 1].
func (r *HSJResult) AtEps(eps []float64) ([][]float64, error) {
	n := len(r.Dist)
	out := make([][]float64, len(eps))
	for k, e := range eps {
		if err := checkEps(e); err != nil {
			return nil, fmt.Errorf("attack: HSJResult.AtEps: eps[%d]: %w", k, err)
		}
		out[k] = make([]float64, len(r.clean))
		copy(out[k], r.clean)
		if n == 0 {
			continue
		}
		d := len(r.clean) / n
		for i, dist := range r.Dist {
			if dist <= e {
				copy(out[k][i*d:(i+1)*d], r.Adv[i*d:(i+1)*d])
			}
		}
	}
	return out, nil
}

// HopSkipJump runs the L∞ HopSkipJumpAttack of Chen, Jordan and Wainwright
// (IEEE S&P 2020), untargeted, on the batch x with labels. It is a
// decision-based black-box attack: it sees only the model's predicted
// classes (Predict if m is a Predictor, else the argmax of Logits if m is a
// Scorer, else the class of the smallest loss from Losses, one row per
// class; see Correct) and never calls a gradient method.
//
// The attack looks for the adversarial point nearest to each image rather
// than one within a given budget, and reports its L∞ distance; AtEps turns
// the result into images for any list of budgets. Each image is attacked
// as in the paper's code, with θ = Gamma/d² for d features:
//
//   - start: uniform noise images in [0, 1]^d are tried until the model
//     misclassifies one (at most InitTries); a binary search on the blend
//     (1 − α)x + α·noise, to α-precision 0.001, moves it toward x;
//   - boundary: a binary search on the radius α of the L∞ ball around x,
//     projecting the point into the ball, stops when the bracket is below
//     θ times the point's distance, and keeps the adversarial end;
//   - each iteration t = 1, 2, ... estimates the sign of the gradient of
//     the decision at the boundary point from n_t = min(InitEvals·sqrt(t),
//     MaxEvals) sign queries at random directions of L2 norm δ (δ = 0.1 at
//     t = 1, then d·θ times the previous step's distance), with the mean
//     decision as baseline; then steps along that sign by ξ, starting at
//     the current distance over sqrt(t) and halving until the point is
//     adversarial; then returns to the boundary by the binary search.
//
// Every queried point is clipped to [0, 1]. The iterations run until the
// budget of Queries evaluations per image would be exceeded; an iteration
// is begun only if the estimate can have at least one query with enough
// left for the step and the binary search, and a binary search cut short
// by the budget keeps its adversarial end. Unlike the reference code, which
// returns its last iterate, HopSkipJump returns the closest adversarial
// point of all iterations.
//
// HopSkipJump first classifies the clean images (one model evaluation per
// image, not counted in Queries): an image already misclassified gets
// Dist 0. An image for which no misclassified noise image is found stays
// unattacked, with Dist +Inf, unless BatchStarts gives it another start. Images are attacked Batch at a time, each in
// its own goroutine with its own random stream seeded from opts.Rng in
// order, and their queries are gathered into one model call per round
// (one request of every running image) from the calling goroutine, in
// image order; for a model that is
// deterministic row by row the result does not depend on Batch or
// GOMAXPROCS.
//
// HopSkipJump returns an error for a batch that does not fit m, inputs
// outside [0, 1], negative settings, a Gamma that is not finite and
// positive, a nil Rng, or a failing model.
func HopSkipJump(m Model, x []float64, labels []int, opts HSJOptions) (*HSJResult, error) {
	res, err := hopSkipJump(m, x, labels, opts)
	if err != nil {
		return nil, fmt.Errorf("attack: HopSkipJump: %w", err)
	}
	return res, nil
}

func hopSkipJump(m Model, x []float64, labels []int, opts HSJOptions) (*HSJResult, error) {
	n, d, err := checkInputs(m, x, labels)
	if err != nil {
		return nil, err
	}
	for _, s := range []struct {
		name string
		v    *int
		def  int
	}{
		{"Queries", &opts.Queries, DefaultHSJQueries},
		{"InitTries", &opts.InitTries, DefaultHSJInitTries},
		{"InitEvals", &opts.InitEvals, DefaultHSJInitEvals},
		{"MaxEvals", &opts.MaxEvals, DefaultHSJMaxEvals},
		{"Batch", &opts.Batch, DefaultHSJBatch},
	} {
		switch {
		case *s.v < 0:
			return nil, fmt.Errorf("%s = %d, want >= 0", s.name, *s.v)
		case *s.v == 0:
			*s.v = s.def
		}
	}
	switch {
	case opts.Gamma == 0:
		opts.Gamma = 1
	case !(opts.Gamma > 0) || math.IsInf(opts.Gamma, 1):
		return nil, fmt.Errorf("Gamma = %v, want a finite value > 0", opts.Gamma)
	}
	if opts.Rng == nil {
		return nil, errors.New("Rng is nil")
	}

	res := &HSJResult{Adv: make([]float64, n*d), Dist: make([]float64, n), Queries: make([]int, n),
		clean: make([]float64, n*d)}
	copy(res.Adv, x)
	copy(res.clean, x)
	rngs := streams(opts.Rng, n)
	if n == 0 {
		return res, nil
	}
	classify := classifier(m)
	pred := make([]int, n)
	if err := classify(x, pred); err != nil {
		return nil, fmt.Errorf("clean images: %w", err)
	}
	var todo []int
	for i, y := range labels {
		if pred[i] == y {
			todo = append(todo, i)
		}
	}
	theta := opts.Gamma / (float64(d) * float64(d))
	images := make([]*hsjImage, n)
	for _, i := range todo {
		xi := x[i*d : (i+1)*d]
		images[i] = &hsjImage{
			x: xi, d: d, rng: rngs[i], opts: &opts, theta: theta,
			best: res.Adv[i*d : (i+1)*d], bestDist: math.Inf(1),
		}
		if !opts.BatchStarts {
			continue
		}
		near := math.Inf(1)
		for j, p := range pred {
			if xj := x[j*d : (j+1)*d]; p != labels[i] && linf(xi, xj) < near {
				near, images[i].fallback = linf(xi, xj), xj
			}
		}
	}
	b := &hsjBatch{classify: classify, labels: labels, d: d, images: images, todo: todo, size: opts.Batch}
	if err := b.serve(); err != nil {
		return nil, err
	}
	for _, i := range todo {
		res.Dist[i] = images[i].bestDist
		res.Queries[i] = images[i].queries
	}
	return res, nil
}

// errBudget stops an image's attack when its query budget is spent.
var errBudget = errors.New("query budget spent")

// errAborted ends the goroutine of an image when its batch stops early.
var errAborted = errors.New("batch aborted")

// hsjImage is the attack on one image, run in its own goroutine.
type hsjImage struct {
	x        []float64 // the clean image
	fallback []float64 // a batch image of another class, or nil (BatchStarts)
	d        int
	rng      *rand.Rand
	opts     *HSJOptions
	theta    float64
	best     []float64 // the closest adversarial point found so far (in the result)
	bestDist float64
	queries  int

	// ask evaluates rows and reports which are adversarial; it is set by
	// the batch that runs the image.
	ask func(rows []float64) ([]bool, error)
}

// decide reports which rows are adversarial, spending one query each, or
// returns errBudget if the budget cannot pay for all of them.
func (h *hsjImage) decide(rows []float64) ([]bool, error) {
	k := len(rows) / h.d
	if h.queries+k > h.opts.Queries {
		return nil, errBudget
	}
	h.queries += k
	return h.ask(rows)
}

// adversarial is decide for one row.
func (h *hsjImage) adversarial(row []float64) (bool, error) {
	adv, err := h.decide(row)
	if err != nil {
		return false, err
	}
	return adv[0], nil
}

// run attacks the image; a spent budget ends it without an error.
func (h *hsjImage) run() error {
	err := h.attack()
	if errors.Is(err, errBudget) {
		return nil
	}
	return err
}

func (h *hsjImage) attack() error {
	start, err := h.start()
	if err != nil || start == nil {
		return err
	}
	// The binary search takes ceil(log2(1/θ)) queries: the bracket starts
	// at the distance r <= 1 and stops below θ·r.
	search := max(0, int(math.Ceil(math.Log2(1/h.theta))))
	p, distPost, err := h.boundary(start)
	if err != nil {
		return err
	}
	g := make([]float64, h.d)
	cand := make([]float64, h.d)
	for t := 1; ; t++ {
		evals := min(int(float64(h.opts.InitEvals)*math.Sqrt(float64(t))), h.opts.MaxEvals)
		evals = min(evals, h.opts.Queries-h.queries-search-1)
		if evals < 1 {
			return nil
		}
		delta := 0.1
		if t > 1 {
			delta = float64(h.d) * h.theta * distPost
		}
		if err := h.estimate(p, delta, evals, g); err != nil {
			return err
		}
		// Geometric search for the step size along sign(g).
		xi := linf(p, h.x) / math.Sqrt(float64(t))
		for {
			for j, v := range p {
				cand[j] = clamp01(v + xi*sign(g[j]))
			}
			adv, err := h.adversarial(cand)
			if err != nil {
				return err
			}
			if adv {
				break
			}
			xi /= 2
		}
		if p, distPost, err = h.boundary(cand); err != nil {
			return err
		}
	}
}

// start returns a misclassified point found by blending a misclassified
// uniform noise image (or else the fallback) toward x, or nil if there is
// none.
func (h *hsjImage) start() ([]float64, error) {
	noise := make([]float64, h.d)
	found := false
	for range h.opts.InitTries {
		for j := range noise {
			noise[j] = h.rng.Float64()
		}
		adv, err := h.adversarial(noise)
		if err != nil {
			return nil, err
		}
		if found = adv; found {
			break
		}
	}
	if !found {
		if h.fallback == nil {
			return nil, nil
		}
		copy(noise, h.fallback)
	}
	blend := func(dst []float64, a float64) {
		for j, v := range h.x {
			dst[j] = clamp01((1-a)*v + a*noise[j])
		}
	}
	p := make([]float64, h.d)
	low, high := 0.0, 1.0
	for high-low > 0.001 {
		mid := (high + low) / 2
		blend(p, mid)
		adv, err := h.adversarial(p)
		if errors.Is(err, errBudget) {
			break // high is adversarial: start there
		}
		if err != nil {
			return nil, err
		}
		if adv {
			high = mid
		} else {
			low = mid
		}
	}
	if high == 1 {
		copy(p, noise)
	} else {
		blend(p, high)
	}
	h.keep(p)
	return p, nil
}

// boundary moves the adversarial point p toward x by a binary search on the
// radius of the L∞ ball around x into which p is projected, and returns the
// adversarial end of the final bracket (a new slice) and the distance of p
// from x before the search. A search cut short by the budget returns its
// adversarial end with errBudget.
func (h *hsjImage) boundary(p []float64) ([]float64, float64, error) {
	dist := linf(p, h.x)
	low, high := 0.0, dist
	thr := math.Min(dist*h.theta, h.theta)
	mid := make([]float64, h.d)
	var err error
	for (high-low)/thr > 1 { // false when dist = 0 (NaN)
		a := (high + low) / 2
		h.shrink(mid, p, a)
		var adv bool
		if adv, err = h.adversarial(mid); err != nil {
			break
		}
		if adv {
			high = a
		} else {
			low = a
		}
	}
	out := make([]float64, h.d)
	if high == dist {
		copy(out, p) // p itself, not its projection, which rounding may move
	} else {
		h.shrink(out, p, high)
	}
	h.keep(out)
	return out, dist, err
}

// shrink writes p projected into [0, 1] ∩ [x − a, x + a] into dst.
func (h *hsjImage) shrink(dst, p []float64, a float64) {
	for j, v := range p {
		dst[j] = project(v, h.x[j], a)
	}
}

// keep records the adversarial point p if it is the closest so far.
func (h *hsjImage) keep(p []float64) {
	if dist := linf(p, h.x); dist < h.bestDist {
		h.bestDist = dist
		copy(h.best, p)
	}
}

// estimate writes into g a vector with the sign of the paper's estimate of
// the gradient of the decision at the boundary point p, from evals queries
// at p + δu, u uniform in [−1, 1]^d scaled to unit L2 norm, clipped to
// [0, 1] (u is then taken as the clipped step over δ). With decisions
// φ_k = ±1 (+1 adversarial) and their mean φ̄ as baseline, the estimate is
// Σ_k (φ_k − φ̄)·u_k, or ±Σ_k u_k when every φ_k is +1 or every one −1.
func (h *hsjImage) estimate(p []float64, delta float64, evals int, g []float64) error {
	sumR := make([]float64, h.d)
	clear(g) // Σ_k φ_k u_k
	rows := make([]float64, min(evals, hsjChunk)*h.d)
	pos := 0
	for done := 0; done < evals; {
		k := min(evals-done, hsjChunk)
		for r := range k {
			row := rows[r*h.d : (r+1)*h.d]
			var norm float64
			for j := range row {
				row[j] = 2*h.rng.Float64() - 1
				norm += row[j] * row[j]
			}
			norm = math.Sqrt(norm)
			for j, v := range p {
				row[j] = clamp01(v + delta*row[j]/norm)
			}
		}
		adv, err := h.decide(rows[:k*h.d])
		if err != nil {
			return err
		}
		for r, a := range adv {
			f := -1.0
			if a {
				f, pos = 1, pos+1
			}
			for j, v := range rows[r*h.d : (r+1)*h.d] {
				u := (v - p[j]) / delta
				g[j] += f * u
				sumR[j] += u
			}
		}
		done += k
	}
	switch pos {
	case evals:
		copy(g, sumR)
	case 0:
		for j, v := range sumR {
			g[j] = -v
		}
	default:
		mean := float64(2*pos-evals) / float64(evals)
		for j, v := range sumR {
			g[j] -= mean * v
		}
	}
	return nil
}

// hsjRequest is an image's request for decisions on rows, or (done) the
// notice that its goroutine has finished.
type hsjRequest struct {
	img   int
	rows  []float64
	done  bool
	reply chan hsjReply
}

type hsjReply struct {
	adv []bool
	err error
}

// hsjBatch runs the attacks of images todo, at most size at a time, each
// in a goroutine, and evaluates their requests from the calling goroutine.
type hsjBatch struct {
	classify func(x []float64, dst []int) error
	labels   []int
	d        int
	images   []*hsjImage
	todo     []int
	size     int
}

// serve runs the batch and returns the first error of an image, in image
// order.
func (b *hsjBatch) serve() error {
	reqs := make(chan hsjRequest)
	quit := make(chan struct{})
	defer close(quit) // unblocks the goroutines if a model call panics
	errs := make([]error, len(b.images))
	next, live := 0, 0
	failed := false
	launch := func() {
		i := b.todo[next]
		next++
		live++
		h := b.images[i]
		reply := make(chan hsjReply, 1)
		h.ask = func(rows []float64) ([]bool, error) {
			select {
			case reqs <- hsjRequest{img: i, rows: rows, reply: reply}:
			case <-quit:
				return nil, errAborted
			}
			select {
			case r := <-reply:
				return r.adv, r.err
			case <-quit:
				return nil, errAborted
			}
		}
		go func() {
			errs[i] = h.run()
			select {
			case reqs <- hsjRequest{img: i, done: true}:
			case <-quit:
			}
		}()
	}
	for live < b.size && next < len(b.todo) {
		launch()
	}
	pending := make([]hsjRequest, 0, b.size)
	var rows []float64
	var pred []int
	for live > 0 {
		// A round holds one request from every running image.
		pending = pending[:0]
		for len(pending) < live {
			r := <-reqs
			if !r.done {
				pending = append(pending, r)
				continue
			}
			live--
			if next < len(b.todo) && !failed {
				launch()
			}
		}
		if len(pending) == 0 {
			continue
		}
		slices.SortFunc(pending, func(a, b hsjRequest) int { return cmp.Compare(a.img, b.img) })
		rows = rows[:0]
		for _, r := range pending {
			rows = append(rows, r.rows...)
		}
		pred = resize(pred, len(rows)/b.d)
		err := b.classify(rows, pred)
		failed = failed || err != nil // start no more images
		k := 0
		for _, r := range pending {
			adv := make([]bool, len(r.rows)/b.d)
			for j := range adv {
				adv[j] = pred[k] != b.labels[r.img]
				k++
			}
			r.reply <- hsjReply{adv: adv, err: err}
		}
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// linf returns max_j |a_j − b_j|.
func linf(a, b []float64) float64 {
	var m float64
	for j, v := range a {
		m = math.Max(m, math.Abs(v-b[j]))
	}
	return m
}

// clamp01 returns v clipped to [0, 1].
func clamp01(v float64) float64 {
	return math.Min(1, math.Max(0, v))
}
