package compare

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/glr-project/glr/assemble"
	"github.com/glr-project/glr/configs"
	"github.com/glr-project/glr/datasets"
	"github.com/glr-project/glr/estimators"
	"github.com/glr-project/glr/graph"
)

// GradCheckOptions sets the size of a gradient check.
type GradCheckOptions struct {
	Draws int // estimates averaged per estimator
	Batch int // examples in the batch
}

// GradCheckReport compares an experiment's estimator with backpropagation
// through the noise, layer by layer, on one batch at the initial weights.
type GradCheckReport struct {
	Experiment string       `json:"experiment"`
	Estimator  string       `json:"estimator"`
	Batch      int          `json:"batch"`
	Draws      int          `json:"draws"`
	Layers     []LayerCheck `json:"layers"`
	Warnings   []string     `json:"warnings,omitempty"`
}

// LayerCheck is one layer's comparison. Cosine and RelativeError are nil
// (JSON null) when the BP gradient of the layer is identically zero.
type LayerCheck struct {
	Name string `json:"name"`
	// Cosine between the mean estimate and the mean BP-through-noise
	// gradient over the layer's weights and bias.
	Cosine *float64 `json:"cosine"`
	// RelativeError is ‖mean estimate − mean BP‖ / ‖mean BP‖.
	RelativeError *float64 `json:"relative_error"`
	// Variance is the estimator's variance: the sample variance of one
	// estimate, averaged over the layer's parameters.
	Variance float64 `json:"variance"`
	// EstimateNorm and BPNorm are the norms of the two mean gradients.
	EstimateNorm float64 `json:"estimate_norm"`
	BPNorm       float64 `json:"bp_norm"`
}

// GradCheck runs the check: on a seeded batch of opts.Batch training
// examples and the network's initial weights, it averages opts.Draws
// estimates of the experiment's estimator and as many gradients of
// backpropagation through the noise (with the same copies, at the same
// steps, so both see the same noise), and compares them per layer. The
// network must be differentiable: backpropagation through a threshold or
// the zero-one loss estimates nothing (glr compare documents its reference
// for those).
func GradCheck(exp *configs.Experiment, train *datasets.Set, opts GradCheckOptions) (*GradCheckReport, error) {
	if err := CheckGradCheck(exp, opts); err != nil {
		return nil, err
	}
	batch, err := seededBatch(train, exp.Seed, opts.Batch)
	if err != nil {
		return nil, fmt.Errorf("gradcheck: %w", err)
	}
	spec, err := assemble.Spec(exp, assemble.Image(train), train.Classes)
	if err != nil {
		return nil, fmt.Errorf("gradcheck: %w", err)
	}
	if spec.Params, err = graph.NewParams(spec); err != nil {
		return nil, fmt.Errorf("gradcheck: %w", err)
	}
	ref := &estimators.BPSettings{Copies: copiesOf(exp.Estimator.Settings), Noise: true}
	est, err := assemble.Estimator(exp, spec, opts.Batch)
	if err != nil {
		return nil, fmt.Errorf("gradcheck: %w", err)
	}
	defer est.Close()
	spec.Batch = opts.Batch
	bp, err := ref.New(spec)
	if err != nil {
		return nil, fmt.Errorf("gradcheck: %w", err)
	}
	defer bp.Close()
	probe := spec
	probe.Batch = 1
	net, err := graph.Build(probe)
	if err != nil {
		return nil, fmt.Errorf("gradcheck: %w", err)
	}
	layers, size := layersOf(net)
	grads, err := estimators.NewGradients(spec)
	if err != nil {
		return nil, fmt.Errorf("gradcheck: %w", err)
	}
	gm, bm := newMoments(size, len(layers)), newMoments(size, len(layers))
	report := &GradCheckReport{Experiment: exp.Name, Estimator: exp.Estimator.Settings.String(), Batch: opts.Batch, Draws: opts.Draws}
	warned := map[string]bool{}
	var flat []float64
	for d := 0; d < opts.Draws; d++ {
		if _, err := est.Estimate(batch, uint64(d), grads); err != nil {
			return nil, fmt.Errorf("gradcheck: draw %d: %w", d+1, err)
		}
		flat = flatten(grads, flat)
		gm.add(flat)
		st, err := bp.Estimate(batch, uint64(d), grads)
		if err != nil {
			return nil, fmt.Errorf("gradcheck: draw %d: %w", d+1, err)
		}
		flat = flatten(grads, flat)
		bm.add(flat)
		for _, w := range st.Warnings {
			if !warned[w] {
				warned[w] = true
				report.Warnings = append(report.Warnings, w)
			}
		}
	}
	gMean, bMean, gVar := gm.mean(), bm.mean(), gm.variance()
	for _, l := range layers {
		g, b := l.values(gMean), l.values(bMean)
		lc := LayerCheck{Name: l.name, Variance: meanOf(l.values(gVar)), EstimateNorm: norm(g), BPNorm: norm(b)}
		lc.Cosine, lc.RelativeError = compareVectors(g, b)
		report.Layers = append(report.Layers, lc)
	}
	return report, nil
}

// CheckGradCheck returns the error GradCheck would return for exp and opts
// that needs no data: too few draws, a batch below 1, a network that
// backpropagation through the noise cannot differentiate. Commands call it
// before they load the data set.
func CheckGradCheck(exp *configs.Experiment, opts GradCheckOptions) error {
	if opts.Draws < 2 {
		return fmt.Errorf("gradcheck: -draws must be at least 2, got %d", opts.Draws)
	}
	if opts.Batch < 1 {
		return fmt.Errorf("gradcheck: -batch must be at least 1, got %d", opts.Batch)
	}
	if why := notDifferentiable(exp); why != "" {
		return fmt.Errorf("gradcheck: backpropagation through the noise is no reference here (%s); glr compare documents the reference it uses for such networks", why)
	}
	ref := &estimators.BPSettings{Copies: copiesOf(exp.Estimator.Settings), Noise: true}
	if ps := ref.Check(exp.Info()); len(ps) > 0 {
		return fmt.Errorf("gradcheck: backpropagation through the noise cannot be the reference here: %s: %s", ps[0].Key, ps[0].Msg)
	}
	return nil
}

// WriteText prints the report as a table.
func (r *GradCheckReport) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "gradcheck %s: batch %d, %d draws each of %s and of BP through the noise\n",
		r.Experiment, r.Batch, r.Draws, r.Estimator)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "layer\tcosine\trelative error\tvariance\t|estimate|\t|BP|")
	for _, l := range r.Layers {
		cos, rel := "n/a", "n/a"
		if l.Cosine != nil {
			cos, rel = fmt.Sprintf("%.4f", *l.Cosine), fmt.Sprintf("%.4f", *l.RelativeError)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.4g\t%.4g\t%.4g\n", l.Name, cos, rel, l.Variance, l.EstimateNorm, l.BPNorm)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, warn := range r.Warnings {
		fmt.Fprintln(w, "warning:", warn)
	}
	return nil
}

// WriteJSON writes the report as one JSON object.
func (r *GradCheckReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
