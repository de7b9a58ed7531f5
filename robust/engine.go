package robust

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/glr-project/glr/assemble"
	"github.com/glr-project/glr/attack"
	"github.com/glr-project/glr/configs"
	"github.com/glr-project/glr/corrupt"
	"github.com/glr-project/glr/datasets"
	"github.com/glr-project/glr/graph"
	"github.com/glr-project/glr/models"
)

// classifier is what an evaluation needs of a model: losses, logits,
// predictions and input gradients. *models.Classifier is one.
type classifier interface {
	attack.GradientModel
	attack.Scorer
	attack.Predictor
}

// target is one model under evaluation.
type target struct {
	name      string
	threshold bool // threshold activations: the backpropagated input gradient is zero
	noisy     bool // predicts with noise
	// model returns the classifier to use under the stream key: the one
	// noise-free classifier, or for a noisy model a new classifier whose
	// noise is seeded by key.
	model func(key uint64) (classifier, error)
	// surrogate returns the model's classifier whose input gradient
	// passes each threshold as s would (BPDA), with noise seeded by key.
	surrogate func(key uint64, s graph.Surrogate) (attack.GradientModel, error)

	// correct[k] holds the per-image correctness of every ε-bounded attack
	// run on the model at budget k, the clean predictions first: the
	// material of the worst case.
	correct [][][]float64
}

// newTarget returns the target of a trained model for examples of the
// given geometry and classes.
func newTarget(t *models.Trained, image graph.Image, classes int) (*target, error) {
	noisy := t.Config.Noise.AtEval
	base, err := t.Classifier(image, classes, "cross-entropy", noisy)
	if err != nil {
		return nil, err
	}
	// Build one pass now, so that a model that cannot run fails before
	// the evaluation starts.
	probe := make([]int, 1)
	if err := base.Predict(make([]float64, image.C*image.H*image.W), probe); err != nil {
		return nil, fmt.Errorf("model %s: %w", t.Name, err)
	}
	fresh := func(key uint64) (*models.Classifier, error) {
		if !noisy {
			return base, nil
		}
		spec := base.Spec()
		spec.Seed = key
		return models.NewClassifier(spec, true)
	}
	return &target{
		name:      t.Name,
		threshold: t.Config.Model.Activation == "threshold",
		noisy:     noisy,
		model: func(key uint64) (classifier, error) {
			c, err := fresh(key)
			if err != nil {
				return nil, err
			}
			return bucketed{c}, nil
		},
		surrogate: func(key uint64, s graph.Surrogate) (attack.GradientModel, error) {
			c, err := fresh(key)
			if err != nil {
				return nil, err
			}
			return bucketed{c.WithSurrogate(s)}, nil
		},
	}, nil
}

// evaluation is the state of one Evaluate call.
type evaluation struct {
	s        configs.Robustness
	sets     []string
	x        []float64 // the clean images
	labels   []int
	n        int
	h, w     int // image geometry (one channel)
	targets  []*target
	sub      *target // the substitute, or nil
	surr     graph.Surrogate
	log      io.Writer
	onImages func(model, set string, eps float64, clean, adv []float64)

	rows    []Row
	skipped []Skip
}

func newEvaluation(trained []*models.Trained, test *datasets.Set, opts Options) (*evaluation, error) {
	if len(trained) == 0 {
		return nil, fmt.Errorf("robust: no models")
	}
	seen := map[string]string{}
	for _, t := range trained {
		if run, dup := seen[t.Name]; dup {
			return nil, fmt.Errorf("robust: two models are named %s (from %s and %s)", t.Name, run, t.Run)
		}
		seen[t.Name] = t.Run
	}
	if err := checkSettings(opts, trained); err != nil {
		return nil, err
	}
	s := opts.Settings
	surr, err := graph.ParseSurrogate(s.Attack.BPDA)
	if err != nil {
		return nil, fmt.Errorf("robust: attack.bpda: %w", err)
	}
	test = test.Limit(s.N)
	n, d := test.Len(), test.Features
	if n == 0 {
		return nil, fmt.Errorf("robust: the test set %s is empty", test.Name)
	}
	e := &evaluation{s: s, x: make([]float64, n*d), labels: make([]int, n), n: n, h: test.Height, w: test.Width,
		surr: surr, log: opts.Log, onImages: opts.onImages}
	if e.log == nil {
		e.log = io.Discard
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	if err := test.Gather(idx, e.x, e.labels); err != nil {
		return nil, fmt.Errorf("robust: %w", err)
	}
	image := assemble.Image(test)
	for _, t := range trained {
		tg, err := newTarget(t, image, test.Classes)
		if err != nil {
			return nil, fmt.Errorf("robust: %w", err)
		}
		e.targets = append(e.targets, tg)
	}
	if opts.Substitute != nil {
		if e.sub, err = newTarget(opts.Substitute, image, test.Classes); err != nil {
			return nil, fmt.Errorf("robust: substitute: %w", err)
		}
	}
	e.sets = plan(s.Sets, e.sub != nil)
	return e, nil
}

func (e *evaluation) logf(format string, args ...any) {
	fmt.Fprintf(e.log, "robust: "+format+"\n", args...)
}

// run evaluates every set.
func (e *evaluation) run() (*Result, error) {
	for _, tg := range e.targets {
		tg.correct = make([][][]float64, len(e.s.Eps))
	}
	for _, set := range e.sets {
		began := time.Now()
		if err := e.runSet(set); err != nil {
			return nil, err
		}
		e.logf("%s done in %.1f s", set, time.Since(began).Seconds())
	}
	return &Result{Rows: e.rows, Skipped: e.skipped, Sets: e.sets, Images: e.n}, nil
}

func (e *evaluation) runSet(set string) error {
	switch set {
	case SetClean:
		for _, tg := range e.targets {
			c, err := e.count(tg, set, 0, e.x)
			if err != nil {
				return fmt.Errorf("robust: %s on %s: %w", set, tg.name, err)
			}
			for k := range e.s.Eps {
				tg.correct[k] = append(tg.correct[k], c)
			}
		}
		return nil
	case SetFGSMTransfer:
		g, err := e.gradient(e.sub, set, 0)
		if err != nil {
			return fmt.Errorf("robust: substitute: %w", err)
		}
		for k, eps := range e.s.Eps {
			adv, err := attack.FGSM(g, e.x, e.labels, eps)
			if err != nil {
				return fmt.Errorf("robust: %s ε=%g: %w", set, eps, err)
			}
			for _, tg := range e.targets {
				if err := e.attacked(tg, set, k, adv); err != nil {
					return fmt.Errorf("robust: %s on %s ε=%g: %w", set, tg.name, eps, err)
				}
			}
		}
		return nil
	case SetLBFGSTransfer:
		g, err := e.gradient(e.sub, set, 0)
		if err != nil {
			return fmt.Errorf("robust: substitute: %w", err)
		}
		adv, err := attack.LBFGS(g, e.x, e.labels, attack.LBFGSOptions{})
		if err != nil {
			return fmt.Errorf("robust: %s: %w", set, err)
		}
		for _, tg := range e.targets {
			if _, err := e.count(tg, set, 0, adv); err != nil {
				return fmt.Errorf("robust: %s on %s: %w", set, tg.name, err)
			}
		}
		return nil
	case SetWorst:
		for _, tg := range e.targets {
			e.worst(tg)
		}
		return nil
	}
	if _, err := corrupt.Lookup(set); err == nil {
		return e.corruption(set)
	}
	for _, tg := range e.targets {
		if err := e.attackModel(tg, set); err != nil {
			return err
		}
	}
	return nil
}

// attackModel runs the ε-bounded white-box or black-box attack set on one
// model at every budget.
func (e *evaluation) attackModel(tg *target, set string) error {
	if (set == SetFGSM || set == SetPGD) && tg.threshold {
		e.skip(tg, set, "a threshold network's backpropagated input gradient is zero; bpda-pgd, zo-fgsm, zo-pgd, square and hopskipjump attack it")
		return nil
	}
	if set == SetHopSkipJump {
		if err := e.hopSkipJump(tg); err != nil {
			return fmt.Errorf("robust: %s on %s: %w", set, tg.name, err)
		}
		return nil
	}
	for k, eps := range e.s.Eps {
		if err := e.attackAt(tg, set, k); err != nil {
			return fmt.Errorf("robust: %s on %s ε=%g: %w", set, tg.name, eps, err)
		}
	}
	return nil
}

// attackAt runs the attack set on the target at budget k.
func (e *evaluation) attackAt(tg *target, set string, k int) error {
	eps := e.s.Eps[k]
	if set == SetSquare {
		return e.square(tg, k)
	}
	g, err := e.gradient(tg, set, eps)
	if err != nil {
		return err
	}
	var adv []float64
	if set == SetFGSM || set == SetZOFGSM {
		adv, err = attack.FGSM(g, e.x, e.labels, eps)
	} else { // pgd, bpda-pgd, zo-pgd
		adv, err = attack.PGD(g, e.x, e.labels, eps, e.pgdOptions(tg, eps))
	}
	if err != nil {
		return err
	}
	return e.attacked(tg, set, k, adv)
}

// hopSkipJump runs HopSkipJump on the target once and counts the images it
// gives at every budget.
func (e *evaluation) hopSkipJump(tg *target) error {
	m, err := tg.model(e.key(SetHopSkipJump, 0, "model"))
	if err != nil {
		return err
	}
	res, err := attack.HopSkipJump(m, e.x, e.labels, attack.HSJOptions{
		Queries: e.s.Attack.HSJQueries, BatchStarts: true, Rng: e.rng(SetHopSkipJump, 0, "draws")})
	if err != nil {
		return err
	}
	advs, err := res.AtEps(e.s.Eps)
	if err != nil {
		return err
	}
	for k := range e.s.Eps {
		if err := e.attacked(tg, SetHopSkipJump, k, advs[k]); err != nil {
			return err
		}
	}
	return nil
}

// gradient returns the gradient model a gradient attack set uses on the
// target at budget eps: the model's own, its BPDA surrogate (for bpda-pgd,
// and for the transfer attacks on a threshold substitute, whose own
// gradient is zero) or the zeroth-order estimate, averaged over attack.eot
// draws for a noisy model.
func (e *evaluation) gradient(tg *target, set string, eps float64) (attack.GradientModel, error) {
	m, err := tg.model(e.key(set, eps, "model"))
	if err != nil {
		return nil, err
	}
	var g attack.GradientModel = m
	transfer := set == SetFGSMTransfer || set == SetLBFGSTransfer
	switch {
	case set == SetBPDAPGD || transfer && tg.threshold:
		sur, err := tg.surrogate(e.key(set, eps, "surrogate"), e.surr)
		if err != nil {
			return nil, err
		}
		g = attack.BPDA{Model: m, Surrogate: sur}
	case set == SetZOFGSM || set == SetZOPGD:
		g = &attack.ZerothOrder{Model: m, Samples: e.s.Attack.ZOSamples, Sigma: e.s.Attack.ZOSigma, Antithetic: true,
			Rng: e.rng(set, eps, "zeroth-order"), MaxRows: 1000}
	}
	if tg.noisy {
		g = attack.EOT{Model: g, Draws: e.s.Attack.EOT}
	}
	return g, nil
}

// pgdOptions returns the options of every PGD set at budget eps. The
// random starts come from one stream for all of them, so that bpda-pgd is
// pgd exactly on a model without thresholds. The best iterate is kept,
// judged by the model itself, except on a noisy model, whose judgement
// would pick the luckiest draw.
func (e *evaluation) pgdOptions(tg *target, eps float64) attack.PGDOptions {
	return attack.PGDOptions{
		Steps: e.s.Attack.PGDSteps, Restarts: e.s.Attack.Restarts, KeepBest: !tg.noisy,
		Rng: e.rng(SetPGD, eps, "starts"),
	}
}

// square runs the Square Attack on the target at budget k: the paper's
// rule, and on a threshold network also AcceptEqual, keeping per image the
// result the model gets wrong more often.
func (e *evaluation) square(tg *target, k int) error {
	eps := e.s.Eps[k]
	rules := []bool{false}
	if tg.threshold {
		rules = append(rules, true)
	}
	var best []float64
	for _, acceptEqual := range rules {
		role := "paper"
		if acceptEqual {
			role = "accept-equal"
		}
		m, err := tg.model(e.key(SetSquare, eps, role+" model"))
		if err != nil {
			return err
		}
		res, err := attack.Square(m, e.x, e.labels, eps, attack.SquareOptions{
			Height: e.h, Width: e.w, Channels: 1, Queries: e.s.Attack.Queries, PInit: e.s.Attack.PInit,
			AcceptEqual: acceptEqual, Rng: e.rng(SetSquare, eps, role)})
		if err != nil {
			return err
		}
		if err := e.check(tg, SetSquare, eps, res.Adv); err != nil {
			return err
		}
		c, err := e.correctness(tg, SetSquare, eps, res.Adv, role)
		if err != nil {
			return err
		}
		if best == nil {
			best = c
			continue
		}
		for i, v := range c {
			best[i] = math.Min(best[i], v)
		}
	}
	e.record(tg, SetSquare, eps, best)
	tg.correct[k] = append(tg.correct[k], best)
	return nil
}

// attacked counts the attacked images adv of set at budget k on the target
// and keeps their correctness for the worst case.
func (e *evaluation) attacked(tg *target, set string, k int, adv []float64) error {
	eps := e.s.Eps[k]
	if err := e.check(tg, set, eps, adv); err != nil {
		return err
	}
	c, err := e.count(tg, set, eps, adv)
	if err != nil {
		return err
	}
	tg.correct[k] = append(tg.correct[k], c)
	return nil
}

// check verifies that the attacked images lie in [0, 1] and within eps of
// the clean ones.
func (e *evaluation) check(tg *target, set string, eps float64, adv []float64) error {
	if e.onImages != nil {
		e.onImages(tg.name, set, eps, e.x, adv)
	}
	if len(adv) != len(e.x) {
		return fmt.Errorf("%d attacked values for %d", len(adv), len(e.x))
	}
	for j, v := range adv {
		if !(v >= 0 && v <= 1) || math.Abs(v-e.x[j]) > eps {
			return fmt.Errorf("attacked value %d is %v, outside [0, 1] ∩ [%v − ε, %v + ε]", j, v, e.x[j], e.x[j])
		}
	}
	return nil
}

// count evaluates the target on xs for set at param and records the row.
func (e *evaluation) count(tg *target, set string, param float64, xs []float64) ([]float64, error) {
	c, err := e.correctness(tg, set, param, xs, "")
	if err != nil {
		return nil, err
	}
	e.record(tg, set, param, c)
	return c, nil
}

// correctness returns, per image of xs, the fraction of the target's
// predictions that are right: one prediction for a noise-free model,
// attack.eot for a noisy one, with noise keyed by the set, param and role.
func (e *evaluation) correctness(tg *target, set string, param float64, xs []float64, role string) ([]float64, error) {
	m, err := tg.model(e.key(set, param, "evaluation "+role))
	if err != nil {
		return nil, err
	}
	draws := e.draws(tg)
	frac := make([]float64, e.n)
	for range draws {
		ok, err := attack.Correct(m, xs, e.labels)
		if err != nil {
			return nil, err
		}
		for i, c := range ok {
			if c {
				frac[i]++
			}
		}
	}
	for i := range frac {
		frac[i] /= float64(draws)
	}
	return frac, nil
}

func (e *evaluation) draws(tg *target) int {
	if tg.noisy {
		return e.s.Attack.EOT
	}
	return 1
}

// record appends the row of per-image correctness c.
func (e *evaluation) record(tg *target, set string, param float64, c []float64) {
	acc := mean(c)
	e.rows = append(e.rows, Row{Model: tg.name, Set: set, Param: param, Accuracy: acc, Draws: e.draws(tg)})
	if set != SetClean && !slices.Contains(corrupt.Names(), set) {
		e.logf("%s on %s at %g: accuracy %.4f", set, tg.name, param, acc)
	}
}

func (e *evaluation) skip(tg *target, set, reason string) {
	e.skipped = append(e.skipped, Skip{Model: tg.name, Set: set, Reason: reason})
	e.logf("%s: skipping %s: %s", tg.name, set, reason)
}

// worst records the target's worst case at every budget.
func (e *evaluation) worst(tg *target) {
	for k, eps := range e.s.Eps {
		if len(tg.correct[k]) < 2 { // the clean predictions alone
			e.skip(tg, SetWorst, "no ε-bounded attack ran on the model")
			return
		}
		e.record(tg, SetWorst, eps, worstOf(tg.correct[k]))
	}
}

// worstOf returns per image the least correctness of any of the results:
// an image counts only as much as it survives the attack that does best on
// it. For noise-free models the values are 0 or 1 and this is the
// AutoAttack rule of attack.WorstCorrect.
func worstOf(results [][]float64) []float64 {
	out := slices.Clone(results[0])
	for _, r := range results[1:] {
		for i, v := range r {
			out[i] = math.Min(out[i], v)
		}
	}
	return out
}

// corruption evaluates every target on the corruption set at every
// severity.
func (e *evaluation) corruption(set string) error {
	c, err := corrupt.Lookup(set)
	if err != nil {
		return fmt.Errorf("robust: %w", err)
	}
	out := make([]float64, len(e.x))
	for _, sev := range e.s.Severities {
		if err := corrupt.ApplySet(c, out, e.x, e.n, e.h, e.w, sev, e.s.Seed^uint64(sev)<<32); err != nil {
			return fmt.Errorf("robust: %w", err)
		}
		for _, tg := range e.targets {
			if _, err := e.count(tg, set, float64(sev), out); err != nil {
				return fmt.Errorf("robust: %s on %s at severity %d: %w", set, tg.name, sev, err)
			}
		}
	}
	return nil
}

// key returns the key of the random stream of one role (an attack's draws,
// a model's noise) in the evaluation of set at param.
func (e *evaluation) key(set string, param float64, role string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(set))
	h.Write([]byte{0})
	binary.Write(h, binary.LittleEndian, math.Float64bits(param))
	h.Write([]byte(role))
	return rand.New(rand.NewPCG(e.s.Seed, h.Sum64())).Uint64()
}

// rng returns the random stream of one role in the evaluation of set at
// param.
func (e *evaluation) rng(set string, param float64, role string) *rand.Rand {
	return rand.New(rand.NewPCG(e.s.Seed, e.key(set, param, role)))
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}
