package runner

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"text/tabwriter"

	"github.com/glr-project/glr/configs"
	"github.com/glr-project/glr/datasets"
	"github.com/glr-project/glr/estimators"
	"github.com/glr-project/glr/graph"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// GradCheckOptions sets the size of a gradient check.
type GradCheckOptions struct {
	Draws int // estimates averaged per estimator
	Batch int // examples in the batch
}

// GradCheckReport compares the GLR estimate with backpropagation through the
// noise, layer by layer, on one batch at the initial weights.
type GradCheckReport struct {
	Experiment string       `json:"experiment"`
	Batch      int          `json:"batch"`
	Draws      int          `json:"draws"`
	Copies     int          `json:"copies"`
	Baseline   string       `json:"baseline"`
	Antithetic bool         `json:"antithetic"`
	Layers     []LayerCheck `json:"layers"`
	Warnings   []string     `json:"warnings,omitempty"`
}

// LayerCheck is one layer's comparison. Cosine and RelativeError are nil
// (JSON null) when the BP gradient of the layer is identically zero, as it
// is below a threshold activation.
type LayerCheck struct {
	Name string `json:"name"`
	// Cosine between the mean GLR estimate and the mean BP-through-noise
	// gradient over the layer's weights and bias.
	Cosine *float64 `json:"cosine"`
	// RelativeError is ‖mean GLR − mean BP‖ / ‖mean BP‖.
	RelativeError *float64 `json:"relative_error"`
	// Variance is the GLR estimator's variance: the sample variance of one
	// draw's estimate, averaged over the layer's parameters.
	Variance float64 `json:"variance"`
	// GLRNorm and BPNorm are the norms of the two mean gradients.
	GLRNorm float64 `json:"glr_norm"`
	BPNorm  float64 `json:"bp_norm"`
}

// GradCheck runs the check: on a seeded batch of opts.Batch training
// examples and the network's initial weights, it averages opts.Draws GLR
// estimates (with the experiment's copies, baseline and antithetic setting)
// and as many backpropagation-through-noise gradients, one network and one
// graph for both, and compares them per layer.
func GradCheck(exp *configs.Experiment, train *datasets.Set, opts GradCheckOptions) (*GradCheckReport, error) {
	if opts.Draws < 2 {
		return nil, fmt.Errorf("gradcheck: -draws must be at least 2, got %d", opts.Draws)
	}
	if opts.Batch < 1 || opts.Batch > train.Len() {
		return nil, fmt.Errorf("gradcheck: -batch must be in [1, %d], got %d", train.Len(), opts.Batch)
	}
	if exp.Loss.Kind == "zero-one" {
		return nil, fmt.Errorf("gradcheck: loss.kind: backpropagation cannot differentiate the zero-one loss, so there is no BP gradient to compare with; check a cross-entropy or squared loss")
	}
	copies := max(exp.Estimator.Copies, 1)
	net, err := BuildNetwork(exp, train.Features, train.Classes, opts.Batch, copies)
	if err != nil {
		return nil, fmt.Errorf("gradcheck: %w", err)
	}
	glrOpts := EstimatorOptions(exp)
	glrOpts.Kind = "glr"
	glr, err := estimators.New(net, glrOpts)
	if err != nil {
		return nil, fmt.Errorf("gradcheck: estimator: %w", err)
	}
	defer glr.Close()
	bp, err := estimators.New(net, estimators.Options{Kind: "bp", Copies: copies, Noise: true})
	if err != nil {
		return nil, fmt.Errorf("gradcheck: %w", err)
	}
	defer bp.Close()

	// A seeded batch: the same seed checks the same examples.
	rng := rand.New(rand.NewPCG(exp.Seed, 0x6772616463686b))
	idx := rng.Perm(train.Len())[:opts.Batch]
	x := make([]float64, opts.Batch*train.Features)
	labels := make([]int, opts.Batch)
	if err := train.Gather(idx, x, labels); err != nil {
		return nil, fmt.Errorf("gradcheck: %w", err)
	}

	grads := estimators.NewGradients(net)
	nParams := 0
	for _, g := range grads {
		nParams += g.Shape().TotalSize()
	}
	glrSum, glrSq, bpSum := make([]float64, nParams), make([]float64, nParams), make([]float64, nParams)
	warned := map[string]bool{}
	report := &GradCheckReport{Experiment: exp.Name, Batch: opts.Batch, Draws: opts.Draws, Copies: copies,
		Baseline: glrOpts.Baseline, Antithetic: glrOpts.Antithetic}
	for d := 0; d < opts.Draws; d++ {
		if _, err := glr.Estimate(x, labels, grads); err != nil {
			return nil, fmt.Errorf("gradcheck: draw %d: %w", d+1, err)
		}
		accumulate(grads, glrSum, glrSq)
		st, err := bp.Estimate(x, labels, grads)
		if err != nil {
			return nil, fmt.Errorf("gradcheck: draw %d: %w", d+1, err)
		}
		accumulate(grads, bpSum, nil)
		for _, w := range st.Warnings {
			if !warned[w] {
				warned[w] = true
				report.Warnings = append(report.Warnings, w)
			}
		}
	}
	n := float64(opts.Draws)
	offsets := paramOffsets(net)
	for _, site := range net.Sites {
		var g, b, v []float64
		for _, p := range []int{paramIndex(net, site.Weight), paramIndex(net, site.Bias)} {
			if p < 0 {
				continue
			}
			for j := offsets[p]; j < offsets[p+1]; j++ {
				m := glrSum[j] / n
				g = append(g, m)
				b = append(b, bpSum[j]/n)
				v = append(v, (glrSq[j]/n-m*m)*n/(n-1))
			}
		}
		report.Layers = append(report.Layers, compare(site, g, b, v))
	}
	return report, nil
}

func compare(site *graph.Site, g, b, v []float64) LayerCheck {
	var gb, gg, bb, dd, vs float64
	for i := range g {
		gb += g[i] * b[i]
		gg += g[i] * g[i]
		bb += b[i] * b[i]
		dd += (g[i] - b[i]) * (g[i] - b[i])
		vs += v[i]
	}
	lc := LayerCheck{Name: site.Name, Variance: vs / float64(len(v)), GLRNorm: math.Sqrt(gg), BPNorm: math.Sqrt(bb)}
	if bb > 0 && gg > 0 {
		c, r := gb/math.Sqrt(gg*bb), math.Sqrt(dd/bb)
		lc.Cosine, lc.RelativeError = &c, &r
	}
	return lc
}

func accumulate(grads []*tensor.Dense, sum, sq []float64) {
	k := 0
	for _, g := range grads {
		switch d := g.Data().(type) {
		case []float64:
			for _, v := range d {
				sum[k] += v
				if sq != nil {
					sq[k] += v * v
				}
				k++
			}
		case []float32:
			for _, v := range d {
				sum[k] += float64(v)
				if sq != nil {
					sq[k] += float64(v) * float64(v)
				}
				k++
			}
		}
	}
}

// paramIndex is the position of n among the network's parameters, or -1.
func paramIndex(net *graph.Network, n *G.Node) int {
	for i, p := range net.Params {
		if p == n {
			return i
		}
	}
	return -1
}

// paramOffsets returns where each parameter starts in the flattened
// gradient, with a final entry for the end.
func paramOffsets(net *graph.Network) []int {
	off := make([]int, len(net.Params)+1)
	for i, p := range net.Params {
		off[i+1] = off[i] + p.Shape().TotalSize()
	}
	return off
}

// WriteText prints the report as a table.
func (r *GradCheckReport) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "gradcheck %s: batch %d, %d draws each of GLR (copies %d, baseline %s, antithetic %v) and of BP through the noise\n",
		r.Experiment, r.Batch, r.Draws, r.Copies, r.Baseline, r.Antithetic)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "layer\tcosine\trelative error\tGLR variance\t|GLR|\t|BP|")
	for _, l := range r.Layers {
		cos, rel := "n/a", "n/a"
		if l.Cosine != nil {
			cos, rel = fmt.Sprintf("%.4f", *l.Cosine), fmt.Sprintf("%.4f", *l.RelativeError)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.4g\t%.4g\t%.4g\n", l.Name, cos, rel, l.Variance, l.GLRNorm, l.BPNorm)
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
