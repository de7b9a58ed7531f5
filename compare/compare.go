package compare

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/glr-project/glr/assemble"
	"github.com/glr-project/glr/configs"
	"github.com/glr-project/glr/datasets"
	"github.com/glr-project/glr/estimators"
	"github.com/glr-project/glr/graph"
	"github.com/glr-project/glr/internal/atomicfile"
	"github.com/glr-project/glr/models"
	"github.com/glr-project/glr/plots"
)

// Options sets what a comparison measures.
type Options struct {
	// Copies, when set, replaces every arm's copies key by each value in
	// turn: one row per arm, value and layer.
	Copies []int
	Draws  int // estimates per arm and copies (default 100)
	Batch  int // examples in the batch (default 64)
	// RefDraws is the number of draws averaged into the reference (default
	// 2000), RefCopies the copies of each (default 10).
	RefDraws, RefCopies int
	// Weights, when set, is a trained model whose weights replace the
	// initial ones.
	Weights *models.Trained
	Log     io.Writer // progress (nil: discard)
}

// Row is one arm, copies and layer.
type Row struct {
	Arm       string `json:"arm"`
	Kind      string `json:"kind"`
	Estimator string `json:"estimator"`
	Copies    int    `json:"copies"`
	Layer     string `json:"layer"`
	// Cosine and RelativeError compare the mean of the estimates with the
	// reference; nil when the reference is identically zero.
	Cosine        *float64 `json:"cosine"`
	RelativeError *float64 `json:"relative_error"`
	// Variance is the sample variance of one estimate, averaged over the
	// layer's parameters.
	Variance float64 `json:"variance"`
	// Rows is the number of network rows one estimate runs forward, and
	// Seconds its mean wall time.
	Rows    int     `json:"rows"`
	Seconds float64 `json:"seconds"`
	// VarianceRows is Variance × Rows: the variance at a cost of one row.
	VarianceRows float64 `json:"variance_rows"`
	// EstimateCosine is the mean cosine of one estimate to the reference.
	EstimateCosine float64 `json:"estimate_cosine"`
}

// Fit is the fit of cos ≈ 1/√(1 + c/K) of one arm and layer, over the copies
// K compared: c says how many copies the estimator needs (a cosine of 0.9
// takes K ≈ 4.26·c).
type Fit struct {
	Arm   string  `json:"arm"`
	Layer string  `json:"layer"`
	C     float64 `json:"c"`
}

// ReferenceInfo describes a reference gradient.
type ReferenceInfo struct {
	Arms     []string  `json:"arms"`   // the arms compared with it
	Method   string    `json:"method"` // how it was computed
	Draws    int       `json:"draws"`  // estimates averaged
	Relative []LayerSE `json:"relative_standard_error"`
}

// LayerSE is a reference's standard error relative to its norm, per layer.
type LayerSE struct {
	Layer string  `json:"layer"`
	SE    float64 `json:"se"`
}

// Report is a comparison.
type Report struct {
	Experiment string          `json:"experiment"`
	Batch      int             `json:"batch"`
	Draws      int             `json:"draws"`
	Weights    string          `json:"weights"`
	References []ReferenceInfo `json:"references"`
	Rows       []Row           `json:"rows"`
	Fits       []Fit           `json:"fits"`
}

// refStep is where the reference's noise streams start, far from the
// estimates' steps 0, 1, ... so that the two are independent.
const refStep = 1 << 40

// Compare runs the comparison: every arm of exp at each copies value, opts.Draws estimates on one
// seeded batch of opts.Batch training examples at the initial weights (or
// opts.Weights), against the reference of the arm's noise and loss. The
// reference is the mean of backpropagation through the noise where the
// network is differentiable; for a network with a threshold activation or
// the zero-one loss, which backpropagation cannot differentiate, it is the
// mean of GLR estimates with the clean baseline, unbiased for the same
// smoothed objective. Its standard error is reported with it.
func Compare(exp *configs.Experiment, train *datasets.Set, opts Options) (*Report, error) {
	opts.defaults()
	jobs, err := plan(exp, &opts)
	if err != nil {
		return nil, err
	}
	batch, err := seededBatch(train, exp.Seed, opts.Batch)
	if err != nil {
		return nil, fmt.Errorf("compare: %w", err)
	}
	report := &Report{Experiment: exp.Name, Batch: opts.Batch, Draws: opts.Draws, Weights: "initial (seed)"}
	if opts.Weights != nil {
		report.Weights = opts.Weights.Name + fmt.Sprintf(" after epoch %d", opts.Weights.State.Epoch)
	}
	refs := map[string]*reference{}
	for _, j := range jobs {
		spec, err := armSpec(&j.arm.Experiment, train, opts.Weights)
		if err != nil {
			return nil, fmt.Errorf("compare: arm %s: %w", j.arm.Name, err)
		}
		key := noiseKey(&j.arm.Experiment)
		ref, ok := refs[key]
		if !ok {
			fmt.Fprintf(opts.Log, "compare: reference for %s (%d draws)\n", j.arm.Name, opts.RefDraws)
			if ref, err = newReference(&j.arm.Experiment, spec, batch, opts); err != nil {
				return nil, fmt.Errorf("compare: arm %s: %w", j.arm.Name, err)
			}
			ref.index = len(report.References)
			refs[key] = ref
			report.References = append(report.References, ref.info)
		}
		if arms := &report.References[ref.index].Arms; len(*arms) == 0 || (*arms)[len(*arms)-1] != j.arm.Name {
			*arms = append(*arms, j.arm.Name)
		}
		fmt.Fprintf(opts.Log, "compare: %s, %d copies: %d estimates\n", j.arm.Name, j.copies, opts.Draws)
		rows, err := measure(j.arm, j.copies, j.settings, spec, batch, ref, opts)
		if err != nil {
			return nil, fmt.Errorf("compare: arm %s: %w", j.arm.Name, err)
		}
		report.Rows = append(report.Rows, rows...)
	}
	report.Fits = fits(report.Rows)
	return report, nil
}

// Check returns the error Compare would return for exp and opts that needs
// no data: options out of range, an arm whose estimator does not take one
// of opts.Copies, a network with no reference gradient. Commands call it
// before they load the data set.
func Check(exp *configs.Experiment, opts Options) error {
	opts.defaults()
	_, err := plan(exp, &opts)
	return err
}

// defaults fills in the options left zero.
func (o *Options) defaults() {
	if o.Draws == 0 {
		o.Draws = 100
	}
	if o.Batch == 0 {
		o.Batch = 64
	}
	if o.RefDraws == 0 {
		o.RefDraws = 2000
	}
	if o.RefCopies == 0 {
		o.RefCopies = 10
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
}

// job is one arm at one copies value.
type job struct {
	arm      *configs.ArmConfig
	copies   int
	settings estimators.Settings
}

// plan checks opts, and every arm at every copies value with its
// reference, before any work, and returns the jobs to run.
func plan(exp *configs.Experiment, opts *Options) ([]job, error) {
	if opts.Draws < 2 {
		return nil, fmt.Errorf("compare: -draws must be at least 2, got %d", opts.Draws)
	}
	if opts.RefDraws < 2 {
		return nil, fmt.Errorf("compare: -ref-draws must be at least 2, got %d", opts.RefDraws)
	}
	if opts.Batch < 1 {
		return nil, fmt.Errorf("compare: -batch must be at least 1, got %d", opts.Batch)
	}
	if opts.RefCopies < 1 || opts.RefCopies > estimators.MaxCopies {
		return nil, fmt.Errorf("compare: the reference's copies %d are outside [1, %d]", opts.RefCopies, estimators.MaxCopies)
	}
	for _, k := range opts.Copies {
		if k < 1 || k > estimators.MaxCopies {
			return nil, fmt.Errorf("compare: -copies: %d is outside [1, %d]", k, estimators.MaxCopies)
		}
	}
	arms := exp.Resolved()
	var jobs []job
	for i := range arms {
		a := &arms[i]
		if _, _, err := referenceSettings(&a.Experiment, opts.RefCopies); err != nil {
			return nil, fmt.Errorf("compare: arm %s: %w", a.Name, err)
		}
		ks := opts.Copies
		if ks == nil {
			ks = []int{copiesOf(a.Estimator.Settings)}
		}
		for _, k := range ks {
			s := a.Estimator.Settings
			if opts.Copies != nil {
				var err error
				if s, err = withCopies(s, k); err != nil {
					return nil, fmt.Errorf("compare: arm %s (%s): -copies: %w", a.Name, a.Estimator.Kind, err)
				}
			}
			if ps := s.Check(a.Experiment.Info()); len(ps) > 0 {
				return nil, fmt.Errorf("compare: arm %s with %d copies: estimator.%s: %s", a.Name, k, ps[0].Key, ps[0].Msg)
			}
			jobs = append(jobs, job{a, k, s})
		}
	}
	return jobs, nil
}

// noiseKey identifies the smoothed objective of an arm: its noise and loss.
func noiseKey(e *configs.Experiment) string {
	return fmt.Sprintf("%s %v %v %s", e.Noise.Distribution, []float64(e.Noise.Scale), e.Noise.AtEval, e.Loss.Kind)
}

// armSpec is the arm's network spec with the weights to compare at.
func armSpec(e *configs.Experiment, train *datasets.Set, w *models.Trained) (graph.Spec, error) {
	if w != nil {
		spec, err := w.Spec(assemble.Image(train), train.Classes, "")
		if err != nil {
			return graph.Spec{}, err
		}
		base, err := assemble.Spec(e, assemble.Image(train), train.Classes)
		if err != nil {
			return graph.Spec{}, err
		}
		base.Params = spec.Params
		return base, nil
	}
	spec, err := assemble.Spec(e, assemble.Image(train), train.Classes)
	if err != nil {
		return graph.Spec{}, err
	}
	spec.Params, err = graph.NewParams(spec)
	return spec, err
}

// reference is the mean gradient an arm is compared with.
type reference struct {
	flat   []float64
	layers []layer
	info   ReferenceInfo
	index  int // in Report.References
}

// referenceSettings returns the estimator of an arm's reference gradient,
// with copies copies, and a description of it: backpropagation through the
// noise where it differentiates the network, GLR with the clean baseline
// where it cannot.
func referenceSettings(e *configs.Experiment, copies int) (estimators.Settings, string, error) {
	var s estimators.Settings = &estimators.BPSettings{Copies: copies, Noise: true}
	method := fmt.Sprintf("backpropagation through the noise, %d copies", copies)
	if why := notDifferentiable(e); why != "" {
		s = &estimators.GLRSettings{Copies: copies, Baseline: "clean", Sampler: "iid"}
		method = fmt.Sprintf("glr with the clean baseline, %d copies (backpropagation cannot differentiate this network: %s)", copies, why)
	}
	if ps := s.Check(e.Info()); len(ps) > 0 {
		return nil, "", fmt.Errorf("no reference: %s: %s", ps[0].Key, ps[0].Msg)
	}
	return s, method, nil
}

// notDifferentiable says why backpropagation through the noise does not
// give the smoothed gradient of e's network, or "" if it does.
func notDifferentiable(e *configs.Experiment) string {
	info := e.Info()
	switch {
	case info.Threshold:
		return "the threshold activation's derivative is zero"
	case !info.Loss.Differentiable():
		return fmt.Sprintf("the %v loss has no derivative", info.Loss)
	}
	return ""
}

func newReference(e *configs.Experiment, spec graph.Spec, batch *datasets.Batch, opts Options) (*reference, error) {
	s, method, err := referenceSettings(e, opts.RefCopies)
	if err != nil {
		return nil, err
	}
	spec.Batch = len(batch.Index)
	est, err := s.New(spec)
	if err != nil {
		return nil, err
	}
	defer est.Close()
	layers, size, err := specLayers(spec)
	if err != nil {
		return nil, err
	}
	grads, err := estimators.NewGradients(spec)
	if err != nil {
		return nil, err
	}
	m := newMoments(size, len(layers))
	var flat []float64
	for d := 0; d < opts.RefDraws; d++ {
		if _, err := est.Estimate(batch, refStep+uint64(d), grads); err != nil {
			return nil, fmt.Errorf("reference: %w", err)
		}
		flat = flatten(grads, flat)
		m.add(flat)
	}
	r := &reference{flat: m.mean(), layers: layers, info: ReferenceInfo{Method: method, Draws: opts.RefDraws}}
	v := m.variance()
	for _, l := range layers {
		var se float64
		for _, x := range l.values(v) {
			se += x / float64(m.n)
		}
		r.info.Relative = append(r.info.Relative, LayerSE{Layer: l.name, SE: math.Sqrt(se) / norm(l.values(r.flat))})
	}
	return r, nil
}

func specLayers(spec graph.Spec) ([]layer, int, error) {
	probe := spec.Probe()
	net, err := graph.Build(probe)
	if err != nil {
		return nil, 0, err
	}
	ls, n := layersOf(net)
	return ls, n, nil
}

// measure runs one arm at one copies value.
func measure(arm *configs.ArmConfig, copies int, s estimators.Settings, spec graph.Spec, batch *datasets.Batch, ref *reference, opts Options) ([]Row, error) {
	spec.Batch = len(batch.Index)
	est, err := s.New(spec)
	if err != nil {
		return nil, err
	}
	defer est.Close()
	grads, err := estimators.NewGradients(spec)
	if err != nil {
		return nil, err
	}
	m := newMoments(len(ref.flat), len(ref.layers))
	var flat []float64
	rows := 0
	var elapsed time.Duration
	for d := 0; d < opts.Draws; d++ {
		began := time.Now()
		st, err := est.Estimate(batch, uint64(d), grads)
		elapsed += time.Since(began)
		if err != nil {
			return nil, err
		}
		rows = st.Rows
		flat = flatten(grads, flat)
		m.add(flat)
		for i, l := range ref.layers {
			c, _ := compareVectors(l.values(flat), l.values(ref.flat))
			if c != nil {
				m.cosines[i] += *c
			}
		}
	}
	mean, variance := m.mean(), m.variance()
	var out []Row
	for i, l := range ref.layers {
		r := Row{Arm: arm.Name, Kind: arm.Estimator.Kind, Estimator: s.String(), Copies: copies, Layer: l.name,
			Variance: meanOf(l.values(variance)), Rows: rows, Seconds: elapsed.Seconds() / float64(opts.Draws),
			EstimateCosine: m.cosines[i] / float64(opts.Draws)}
		r.Cosine, r.RelativeError = compareVectors(l.values(mean), l.values(ref.flat))
		r.VarianceRows = r.Variance * float64(rows)
		out = append(out, r)
	}
	return out, nil
}

// fits fits c in cos ≈ 1/√(1 + c/K) by least squares on 1/cos² − 1 = c/K
// over the copies of each arm and layer.
func fits(rows []Row) []Fit {
	type key struct{ arm, layer string }
	var order []key
	num, den := map[key]float64{}, map[key]float64{}
	for _, r := range rows {
		if r.EstimateCosine <= 0 {
			continue
		}
		k := key{r.Arm, r.Layer}
		if _, ok := den[k]; !ok {
			order = append(order, k)
		}
		y := 1/(r.EstimateCosine*r.EstimateCosine) - 1
		x := 1 / float64(r.Copies)
		num[k] += x * y
		den[k] += x * x
	}
	var out []Fit
	for _, k := range order {
		out = append(out, Fit{Arm: k.arm, Layer: k.layer, C: num[k] / den[k]})
	}
	return out
}

// WriteJSON writes the report as one JSON object.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText prints the rows as a table (markdown when markdown is set).
func (r *Report) WriteText(w io.Writer, markdown bool) error {
	var b bytes.Buffer
	line := func(cells ...string) {
		if markdown {
			fmt.Fprintln(&b, "| "+strings.Join(cells, " | ")+" |")
			return
		}
		fmt.Fprintln(&b, strings.Join(cells, "\t"))
	}
	fmt.Fprintf(&b, "compare %s: batch %d, %d estimates per arm and copies, weights %s\n", r.Experiment, r.Batch, r.Draws, r.Weights)
	for _, ref := range r.References {
		var ses []string
		for _, l := range ref.Relative {
			ses = append(ses, fmt.Sprintf("%s %.3g", l.Layer, l.SE))
		}
		fmt.Fprintf(&b, "reference for %s: %s, %d draws (relative standard error %s)\n", strings.Join(ref.Arms, ", "), ref.Method, ref.Draws, strings.Join(ses, ", "))
	}
	if markdown {
		fmt.Fprintln(&b)
	}
	line("arm", "estimator", "copies", "layer", "cosine", "relative error", "variance", "rows", "variance × rows", "seconds", "cos of one")
	if markdown {
		line("---", "---", "---:", "---", "---:", "---:", "---:", "---:", "---:", "---:", "---:")
	}
	for _, row := range r.Rows {
		cos, rel := "n/a", "n/a"
		if row.Cosine != nil {
			cos, rel = fmt.Sprintf("%.4f", *row.Cosine), fmt.Sprintf("%.4f", *row.RelativeError)
		}
		line(row.Arm, row.Estimator, fmt.Sprint(row.Copies), row.Layer, cos, rel, fmt.Sprintf("%.4g", row.Variance),
			fmt.Sprint(row.Rows), fmt.Sprintf("%.4g", row.VarianceRows), fmt.Sprintf("%.4g", row.Seconds), fmt.Sprintf("%.4f", row.EstimateCosine))
	}
	if len(r.Fits) > 0 {
		if markdown {
			fmt.Fprintln(&b)
			line("arm", "layer", "c in cos ≈ 1/√(1 + c/K)", "K for cos 0.9")
			line("---", "---", "---:", "---:")
		} else {
			fmt.Fprintln(&b)
			line("arm", "layer", "c", "K for cos 0.9")
		}
		for _, f := range r.Fits {
			line(f.Arm, f.Layer, fmt.Sprintf("%.4g", f.C), fmt.Sprintf("%.3g", f.C/(1/0.81-1)))
		}
	}
	if markdown {
		_, err := w.Write(b.Bytes())
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if _, err := tw.Write(b.Bytes()); err != nil {
		return err
	}
	return tw.Flush()
}

// WriteFiles writes compare.json, compare.md and variance-vs-copies.png
// (variance against copies per layer, one curve per arm, log–log) into dir.
func (r *Report) WriteFiles(dir string) error {
	if err := atomicfile.WriteJSON(filepath.Join(dir, "compare.json"), r); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, "compare.md"), 0o644, func(w io.Writer) error { return r.WriteText(w, true) }); err != nil {
		return err
	}
	byLayer := map[string]map[string]*plots.Series{}
	var layers []string
	for _, row := range r.Rows {
		if row.Variance <= 0 {
			continue
		}
		m, ok := byLayer[row.Layer]
		if !ok {
			m = map[string]*plots.Series{}
			byLayer[row.Layer] = m
			layers = append(layers, row.Layer)
		}
		s, ok := m[row.Arm]
		if !ok {
			s = &plots.Series{Name: row.Arm}
			m[row.Arm] = s
		}
		s.X = append(s.X, float64(row.Copies))
		s.Y = append(s.Y, row.Variance)
	}
	if len(layers) == 0 {
		return nil
	}
	var panels []plots.Panel
	for _, l := range layers {
		p := plots.Panel{Title: l, XLabel: "copies K", YLabel: "variance of one estimate"} // TODO(plots): log axes
		var names []string
		for name := range byLayer[l] {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			p.Series = append(p.Series, *byLayer[l][name])
		}
		panels = append(panels, p)
	}
	return plots.WritePNG(filepath.Join(dir, "variance-vs-copies.png"), 0, 0, panels...)
}
