package estimators

import (
	"fmt"
	"strings"

	"github.com/glr-project/glr/graph"
	"github.com/glr-project/glr/internal/linalg"
	"github.com/glr-project/glr/internal/parallel"
	"github.com/glr-project/glr/score"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// MaxCopies is the largest number of copies (or perturbations, or
// directions) per step any built-in kind accepts.
const MaxCopies = 1 << 16

func init() {
	MustRegister(Kind{
		Name:        "glr",
		Summary:     "generalized likelihood ratio: one noisy forward pass, one matrix product per noise site, no backward pass",
		NewSettings: func() Settings { return &GLRSettings{Copies: 1, Baseline: "none", Sampler: "iid"} },
		Variants: []Variant{
			{Name: "copies", TOML: "copies = 4"},
			{Name: "batch-mean", TOML: `copies = 4
baseline = "batch-mean"`, Shrink: score.BatchMean.Shrink},
			{Name: "leave-one-out", TOML: `copies = 4
baseline = "leave-one-out"`},
			{Name: "clean", TOML: `copies = 2
baseline = "clean"`},
			{Name: "antithetic", TOML: `copies = 4
antithetic = true`},
			{Name: "qmc", TOML: `copies = 4
sampler = "qmc"
baseline = "clean"`},
			{Name: "layerwise", TOML: `copies = 4
layerwise = true
baseline = "leave-one-out"`},
			{Name: "site-clean", TOML: `copies = 2
baseline = "site-clean"`},
			{Name: "site-clean-qmc", TOML: `copies = 4
sampler = "qmc"
baseline = "site-clean"`},
		},
	})
}

// GLRSettings are the keys of a glr [estimator] table.
type GLRSettings struct {
	// Copies is the number K of noisy copies of each example per pass.
	Copies int `toml:"copies"`
	// Baseline is subtracted from each row's loss: none, batch-mean,
	// leave-one-out, clean or site-clean (see score.Baseline).
	Baseline string `toml:"baseline"`
	// Antithetic pairs the copies with negated noise; needs an even Copies
	// and no baseline (a baseline cancels within a pair).
	Antithetic bool `toml:"antithetic"`
	// Sampler is iid or qmc (see score.QMC).
	Sampler string `toml:"sampler"`
	// Layerwise adds noise at one site per pass, one pass per site, each
	// giving that site's gradient (ULR, Jiang et al., ICLR 2024).
	Layerwise bool `toml:"layerwise"`
}

// Target is Smoothed: GLR is unbiased for the gradient of the noisy
// network's expected loss. With Layerwise it is SiteSmoothed: the pass that
// gives a site's gradient has noise at that site alone.
func (s *GLRSettings) Target() Target {
	if s.Layerwise {
		return SiteSmoothed
	}
	return Smoothed
}

// String describes the settings: "glr K=10 leave-one-out".
func (s *GLRSettings) String() string {
	parts := []string{fmt.Sprintf("glr K=%d", s.Copies)}
	if s.Baseline != "none" {
		parts = append(parts, s.Baseline)
	}
	if s.Antithetic {
		parts = append(parts, "antithetic")
	}
	if s.Sampler != "iid" {
		parts = append(parts, s.Sampler)
	}
	if s.Layerwise {
		parts = append(parts, "layerwise")
	}
	return strings.Join(parts, " ")
}

// Check implements Settings.
func (s *GLRSettings) Check(info Info) []Problem {
	var ps []Problem
	add := func(key, format string, args ...any) { ps = append(ps, Problem{key, fmt.Sprintf(format, args...)}) }
	if s.Copies < 1 || s.Copies > MaxCopies {
		add("copies", "must be in [1, %d], got %d", MaxCopies, s.Copies)
	}
	b, err := score.ParseBaseline(s.Baseline)
	if err != nil {
		add("baseline", "%v", err)
	}
	sampler, err := score.ParseSampler(s.Sampler)
	if err != nil {
		add("sampler", "%v", err)
	}
	if s.Antithetic && s.Copies%2 != 0 {
		add("copies", "antithetic pairs need an even number of copies, got %d", s.Copies)
	}
	if s.Antithetic && b != score.None {
		add("baseline", "a baseline cancels within antithetic pairs, adding only its cost (and a leave-one-out baseline that holds the pair's other copy biases the estimate); set baseline = \"none\" with antithetic = true")
	}
	if sampler == score.QMC && b.UsesOtherCopies() {
		add("baseline", "the %s baseline is built from the other copies' losses, which QMC couples to the row's own noise, so the estimate would be biased; use baseline = \"none\", \"clean\" or \"site-clean\" with sampler = \"qmc\"", b)
	}
	if sampler == score.QMC && s.Copies < 2 {
		add("copies", "a QMC point set needs at least 2 copies, got %d", s.Copies)
	}
	if b == score.LeaveOneOut && s.Copies == 1 && info.Batch < 2 {
		add("baseline", "a leave-one-out baseline needs at least 2 rows per pass")
	}
	ps = append(ps, checkRows(info, s.Copies)...)
	if s.Layerwise && info.Sites < 1 {
		add("layerwise", "the network has no noise site")
	}
	if s.Layerwise && b == score.SiteClean {
		add("baseline", "with layerwise = true each pass has noise at one site alone, so its site-clean baseline is the clean one; use baseline = \"clean\"")
	}
	return ps
}

// New implements Settings.
func (s *GLRSettings) New(base graph.Spec) (Estimator, error) {
	if ps := s.Check(Info{Sites: 1, Batch: base.Batch}); len(ps) > 0 {
		return nil, fmt.Errorf("glr: %s: %s", ps[0].Key, ps[0].Msg)
	}
	baseline, _ := score.ParseBaseline(s.Baseline)
	sampler, _ := score.ParseSampler(s.Sampler)
	return newGLR(base, s.Copies, baseline, sampler, s.Antithetic, s.Layerwise)
}

// glrEstimator is the GLR estimator. For each noise site with input X
// (rows × in) and scores ψ(R) (rows × out) of a pass of M rows it forms
//
//	G = Xᵀ · (diag(L − b)·ψ(R)) / M
//
// with one matrix product, and the column sums of the same product for a
// bias. At the site where the copies are made, X holds each example once, so
// Xᵀ·S = Xᵀ·(the sum of S over copies).
type glrEstimator struct {
	baseline score.Baseline
	passes   []*glrPass
	clean    *glrPass   // the noise-free pass of the clean baseline
	quiet    []*glrPass // per site, the pass with that site quiet, of the site-clean baseline
	params   int
}

// glrPass is one noisy network: all sites at once, or one site (layerwise).
type glrPass struct {
	net      *graph.Network
	prog     *graph.Program
	losses   []float64
	centered []float64
	sites    []*glrSite // the sites whose gradients the pass gives
}

type glrSite struct {
	site          *graph.Site
	weight, bias  int // parameter indices; bias −1 when none
	rows, in, out int // noisy rows, input width, output width
	inRows        int // rows of S, one per noisy row before the copies: rows/Tiled
	xRows         int // rows of the layer input X: inRows, or more for a pooled site
	group         int // site rows per logit row
	s             *tensor.Dense
	// images views S as one row per image, for a pooled site's Unpool
	images *tensor.Dense
	p64    linalg.Product[float64]
	p32    linalg.Product[float32]
	// the pass in progress, for the parallel loop
	w     []float64
	score *tensor.Dense
	body  func(lo, hi int)
}

func newGLR(base graph.Spec, copies int, baseline score.Baseline, sampler score.Sampler, antithetic, layerwise bool) (*glrEstimator, error) {
	e := &glrEstimator{baseline: baseline}
	spec := base.OnePass()
	spec.Copies, spec.NoiseOff, spec.Sampler, spec.Antithetic, spec.Surrogate = copies, false, sampler, antithetic, graph.ZeroDerivative
	if spec.Params == nil {
		return nil, fmt.Errorf("glr: the spec carries no weights (make them with graph.NewParams)")
	}
	first, err := e.addPass(spec, -1)
	if err != nil {
		return nil, err
	}
	if layerwise {
		// One pass per site, each with noise at its site alone.
		sites := len(first.net.Sites)
		e.passes = e.passes[:0]
		for l := 1; l <= sites; l++ {
			ls := spec
			ls.OnlySite = l
			if _, err := e.addPass(ls, l-1); err != nil {
				return nil, err
			}
		}
	}
	if baseline == score.Clean {
		cs := base.OnePass()
		cs.NoiseOff = true
		p, err := newLossPass(cs)
		if err != nil {
			return nil, fmt.Errorf("glr: clean network: %w", err)
		}
		e.clean = p
	}
	if baseline == score.SiteClean {
		// One pass per site with that site's noise off and every other
		// site's noise drawn as in the main pass.
		for l := 1; l <= len(first.net.Sites); l++ {
			qs := spec
			qs.QuietSite = l
			p, err := newLossPass(qs)
			if err != nil {
				return nil, fmt.Errorf("glr: site-clean network for site %d: %w", l, err)
			}
			e.quiet = append(e.quiet, p)
		}
	}
	// Every parameter must be the weight or bias of a site some pass covers.
	covered := make([]bool, e.params)
	for _, p := range e.passes {
		for _, s := range p.sites {
			covered[s.weight] = true
			if s.bias >= 0 {
				covered[s.bias] = true
			}
		}
	}
	for i, c := range covered {
		if !c {
			return nil, fmt.Errorf("glr: parameter %s is not the weight or bias of a noise site, so no likelihood ratio reaches it", first.net.Params[i].Name())
		}
	}
	return e, nil
}

// newLossPass builds a network for spec whose losses alone are read: a
// baseline's pass.
func newLossPass(spec graph.Spec) (*glrPass, error) {
	net, err := graph.Build(spec)
	if err != nil {
		return nil, err
	}
	prog, err := net.Program(net.Losses)
	if err != nil {
		return nil, err
	}
	return &glrPass{net: net, prog: prog, losses: make([]float64, net.Rows())}, nil
}

// run feeds the batch to the pass's network, runs it at step and reads its
// per-row losses.
func (p *glrPass) run(batch graph.Examples, step uint64) error {
	if err := p.net.Feed(batch); err != nil {
		return err
	}
	p.net.SetStep(step)
	if err := p.prog.Run(); err != nil {
		return err
	}
	return readLosses(p.net, p.prog, p.losses)
}

// addPass builds a network for spec and the gradients of its sites (of
// site only, when site ≥ 0).
func (e *glrEstimator) addPass(spec graph.Spec, site int) (*glrPass, error) {
	net, err := graph.Build(spec)
	if err != nil {
		return nil, fmt.Errorf("glr: network: %w", err)
	}
	prog, err := net.Program(net.Losses)
	if err != nil {
		return nil, fmt.Errorf("glr: %w", err)
	}
	e.params = len(net.Params)
	index := map[*G.Node]int{}
	for i, p := range net.Params {
		index[p] = i
	}
	pass := &glrPass{net: net, prog: prog, losses: make([]float64, net.Rows()), centered: make([]float64, net.Rows())}
	for _, s := range net.Sites {
		if site >= 0 && s.Index != site {
			continue
		}
		wi, ok := index[s.Weight]
		if !ok {
			return nil, fmt.Errorf("glr: site %s: its weight %s is not a parameter", s.Name, s.Weight.Name())
		}
		bi := -1
		if s.Bias != nil {
			if bi, ok = index[s.Bias]; !ok {
				return nil, fmt.Errorf("glr: site %s: its bias %s is not a parameter", s.Name, s.Bias.Name())
			}
		}
		in, out := s.Weight.Shape()[0], s.Weight.Shape()[1]
		gs := &glrSite{site: s, weight: wi, bias: bi, rows: s.Rows, in: in, out: out,
			inRows: s.Rows / s.Tiled, xRows: s.Input.Shape()[0], group: s.Group,
			s: tensor.New(tensor.WithShape(s.Rows/s.Tiled, out), tensor.Of(net.Spec().Dtype))}
		gs.body = gs.scoreRows
		if s.Pooled() {
			// S's rows are pooled positions, s.Group of them per image.
			images := gs.inRows / s.Group
			gs.images = tensor.New(tensor.WithShape(images, s.Group*out), tensor.WithBacking(gs.s.Data()))
		}
		pass.sites = append(pass.sites, gs)
	}
	e.passes = append(e.passes, pass)
	return pass, nil
}

// Close implements Estimator.
func (e *glrEstimator) Close() error { return nil }

// Estimate implements Estimator.
func (e *glrEstimator) Estimate(batch graph.Examples, step uint64, grads []*tensor.Dense) (Stats, error) {
	if err := checkGrads(e.passes[0].net, grads); err != nil {
		return Stats{}, fmt.Errorf("glr: %w", err)
	}
	var st Stats
	var clean []float64
	if e.clean != nil {
		if err := e.clean.run(batch, step); err != nil {
			return Stats{}, fmt.Errorf("glr: clean pass: %w", err)
		}
		clean = e.clean.losses
		st.Rows += e.clean.net.Rows()
	}
	for i, q := range e.quiet {
		if err := q.run(batch, step); err != nil {
			return Stats{}, fmt.Errorf("glr: site-clean pass of site %d: %w", i+1, err)
		}
		st.Rows += q.net.Rows()
	}
	for i, p := range e.passes {
		if err := p.run(batch, step); err != nil {
			return Stats{}, fmt.Errorf("glr: noisy pass: %w", err)
		}
		if i == 0 {
			st.Loss = mean(p.losses)
		}
		st.Rows += p.net.Rows()
		if e.quiet == nil {
			e.center(p, clean)
		}
		for _, s := range p.sites {
			if e.quiet != nil {
				e.center(p, e.quiet[s.site.Index].losses)
			}
			if err := s.gradient(p.prog, p.centered, grads); err != nil {
				return Stats{}, fmt.Errorf("glr: site %s: %w", s.site.Name, err)
			}
		}
	}
	return st, nil
}

// center sets the pass's row weights to (L − b)/M, with the baseline's
// losses base (the clean losses, a quiet site's losses, or nil).
func (e *glrEstimator) center(p *glrPass, base []float64) {
	score.Center(p.centered, p.losses, base, p.net.Copies(), e.baseline)
	m := float64(len(p.centered))
	for j := range p.centered {
		p.centered[j] /= m
	}
}

// gradient writes the site's weight (and bias) gradient into grads:
// S = Σ_copies diag(w)·ψ(R), gW = Xᵀ·S, gb = 1ᵀ·S; at a pooled site S is
// first carried back through the pooling (graph.Site.Unpool).
func (s *glrSite) gradient(prog *graph.Program, w []float64, grads []*tensor.Dense) error {
	x, err := prog.Dense(s.site.Input)
	if err != nil {
		return err
	}
	if x.Shape()[0] != s.xRows || x.Shape()[1] != s.in {
		return fmt.Errorf("the layer input is %v, want %d × %d", x.Shape(), s.xRows, s.in)
	}
	s.w, s.score = w, s.site.Op.Score()
	parallel.For(s.inRows, max(1, 1<<14/s.out), s.body)
	s.w, s.score = nil, nil
	sd := s.s
	if s.images != nil {
		// A pooled site: carry S back to the positions of X.
		u, err := s.site.Unpool(s.images)
		if err != nil {
			return err
		}
		if u.Shape().TotalSize() != s.xRows*s.out {
			return fmt.Errorf("the unpooled scores hold %d values, want %d × %d", u.Shape().TotalSize(), s.xRows, s.out)
		}
		sd = u
	}
	var gb *tensor.Dense
	if s.bias >= 0 {
		gb = grads[s.bias]
	}
	if x.Dtype() == tensor.Float32 {
		sv := sd.Float32s()
		s.p32.Gemm(true, false, s.in, s.out, s.xRows, 1, x.Float32s(), s.in, sv, s.out, 0, grads[s.weight].Float32s(), s.out)
		if gb != nil {
			colSums(sv, gb.Float32s(), s.xRows, s.out)
		}
		return nil
	}
	sv := sd.Float64s()
	s.p64.Gemm(true, false, s.in, s.out, s.xRows, 1, x.Float64s(), s.in, sv, s.out, 0, grads[s.weight].Float64s(), s.out)
	if gb != nil {
		colSums(sv, gb.Float64s(), s.xRows, s.out)
	}
	return nil
}

// scoreRows computes rows [lo, hi) of S: S[q] = Σ_c w[(c·Q+q)/group]·ψ[c·Q+q]
// over the Tiled copies, with Q = inRows.
func (s *glrSite) scoreRows(lo, hi int) {
	if s.score.Dtype() == tensor.Float32 {
		weightScores(s.w, s.score.Float32s(), s.s.Float32s(), lo, hi, s.inRows, s.rows/s.inRows, s.group, s.out)
		return
	}
	weightScores(s.w, s.score.Float64s(), s.s.Float64s(), lo, hi, s.inRows, s.rows/s.inRows, s.group, s.out)
}

func weightScores[T float32 | float64](w []float64, psi, out []T, lo, hi, q, copies, group, units int) {
	for r := lo; r < hi; r++ {
		dst := out[r*units : (r+1)*units]
		wr := T(w[r/group])
		for j, p := range psi[r*units : (r+1)*units] {
			dst[j] = wr * p
		}
		for c := 1; c < copies; c++ {
			row := c*q + r
			wc := T(w[row/group])
			for j, p := range psi[row*units : (row+1)*units] {
				dst[j] += wc * p
			}
		}
	}
}

// colSums sets out to the column sums of the rows × cols matrix g.
func colSums[T float32 | float64](g, out []T, rows, cols int) {
	clear(out)
	for m := 0; m < rows; m++ {
		for j, v := range g[m*cols : (m+1)*cols] {
			out[j] += v
		}
	}
}
