package estimators

import (
	"fmt"

	"github.com/glr-project/glr/graph"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Baseline is what the GLR estimator subtracts from each row's loss before
// weighting the score. A baseline independent of the row's own noise keeps the
// estimator unbiased and can cut its variance many times.
type Baseline int

const (
	// NoBaseline uses the raw losses (the seed code's estimator).
	NoBaseline Baseline = iota
	// BatchMean subtracts the mean loss of the pass. It includes the row's own
	// loss, so it shrinks the estimate by the factor 1 − 1/M.
	BatchMean
	// LeaveOneOut subtracts the mean loss of the other copies of the same
	// example (with one copy: of the other rows of the pass). Unbiased.
	LeaveOneOut
	// Clean subtracts the row's loss with the noise off, which costs a second
	// forward pass. Unbiased.
	Clean
)

// ParseBaseline maps none, batch-mean, leave-one-out and clean to their
// Baseline.
func ParseBaseline(s string) (Baseline, error) {
	switch s {
	case "none", "":
		return NoBaseline, nil
	case "batch-mean":
		return BatchMean, nil
	case "leave-one-out":
		return LeaveOneOut, nil
	case "clean":
		return Clean, nil
	}
	return 0, fmt.Errorf("unknown baseline %q (want none | batch-mean | leave-one-out | clean)", s)
}

func (b Baseline) String() string {
	return [...]string{"none", "batch-mean", "leave-one-out", "clean"}[b]
}

// GLROptions configures the GLR estimator.
type GLROptions struct {
	Copies     int // noisy copies of each example per pass
	Baseline   Baseline
	Antithetic bool // copies come in pairs with negated noise; needs even Copies
}

// GLR is the generalized likelihood-ratio (push-out) estimator: one forward
// pass with noise on gives every layer's gradient,
//
//	G = Xᵀ · (diag(L − baseline) · ψ(R)) / M
//
// for each noise site with input X (M × in) and score ψ(R) (M × out), and the
// column sums of the same product for a bias.
type GLR struct {
	net     *graph.Network
	opts    GLROptions
	machine G.VM
	sites   []glrSite
	losses  []float64 // per row, noisy
	clean   []float64 // per row, noise off (Clean baseline)
	weights []float64 // per row: (L − baseline)/M
}

type glrSite struct {
	*graph.Site
	weight, bias  int // parameter indices; bias −1 when none
	rows, in, out int // noisy rows, input width, output width
	inRows        int // rows of the input: rows/Site.Tiled
	// scratch: Xᵀ (in × inRows), S (rows × out), and for a tiled site the
	// sum of S over copies (inRows × out)
	xt, s, ssum *tensor.Dense
}

// NewGLR returns a GLR estimator on net. It sets the network's copies and
// compiles a forward-only machine for the part of the graph the losses need.
func NewGLR(net *graph.Network, opts GLROptions) (*GLR, error) {
	if opts.Copies == 0 {
		opts.Copies = 1
	}
	if opts.Baseline < NoBaseline || opts.Baseline > Clean {
		return nil, fmt.Errorf("glr: unknown baseline %d", int(opts.Baseline))
	}
	if err := net.SetCopies(opts.Copies, opts.Antithetic); err != nil {
		return nil, fmt.Errorf("glr: %w", err)
	}
	if opts.Baseline == LeaveOneOut && net.Rows() < 2 {
		return nil, fmt.Errorf("glr: a leave-one-out baseline needs at least 2 rows per pass")
	}
	index := map[*G.Node]int{}
	for i, p := range net.Params {
		index[p] = i
	}
	e := &GLR{net: net, opts: opts}
	dt := net.Spec().Dtype
	for _, s := range net.Sites {
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
		inRows, in, out := s.Input.Shape()[0], s.Weight.Shape()[0], s.Weight.Shape()[1]
		rows := inRows * s.Tiled
		site := glrSite{
			Site: s, weight: wi, bias: bi, rows: rows, in: in, out: out, inRows: inRows,
			xt: tensor.New(tensor.WithShape(in, inRows), tensor.Of(dt)),
			s:  tensor.New(tensor.WithShape(rows, out), tensor.Of(dt)),
		}
		if s.Tiled > 1 {
			site.ssum = tensor.New(tensor.WithShape(inRows, out), tensor.Of(dt))
		}
		e.sites = append(e.sites, site)
	}
	m, err := net.Compile(net.Losses)
	if err != nil {
		return nil, fmt.Errorf("glr: %w", err)
	}
	e.machine = m
	e.losses = make([]float64, net.Rows())
	e.weights = make([]float64, net.Rows())
	if opts.Baseline == Clean {
		e.clean = make([]float64, net.Rows())
	}
	return e, nil
}

// Close releases the machine.
func (e *GLR) Close() error { return e.machine.Close() }

// Estimate implements Estimator.
func (e *GLR) Estimate(x []float64, labels []int, grads []*tensor.Dense) (Stats, error) {
	if err := checkGrads(e.net, grads); err != nil {
		return Stats{}, fmt.Errorf("glr: %w", err)
	}
	// Another estimator may share the network: restore this one's copies.
	if err := e.net.SetCopies(e.opts.Copies, e.opts.Antithetic); err != nil {
		return Stats{}, fmt.Errorf("glr: %w", err)
	}
	if err := e.net.Feed(x, labels); err != nil {
		return Stats{}, fmt.Errorf("glr: %w", err)
	}
	var err error
	if e.opts.Baseline == Clean {
		e.net.SetNoise(graph.NoiseOff)
		if err = run(e.machine); err != nil {
			return Stats{}, fmt.Errorf("glr: clean pass: %w", err)
		}
		if e.clean, err = finiteLosses(e.net, e.clean); err != nil {
			return Stats{}, fmt.Errorf("glr: clean pass: %w", err)
		}
	}
	e.net.SetNoise(graph.NoiseFresh)
	defer e.machine.Reset()
	if err = graph.Run(e.machine); err != nil {
		return Stats{}, fmt.Errorf("glr: noisy %w", err)
	}
	if e.losses, err = finiteLosses(e.net, e.losses); err != nil {
		return Stats{}, fmt.Errorf("glr: %w", err)
	}
	e.rowWeights()
	for i := range e.sites {
		if err := e.sites[i].gradient(e.weights, grads); err != nil {
			return Stats{}, fmt.Errorf("glr: site %s: %w", e.sites[i].Name, err)
		}
	}
	return Stats{Loss: mean(e.losses)}, nil
}

// rowWeights sets weights[m] = (L_m − baseline_m)/M.
func (e *GLR) rowWeights() {
	L, w := e.losses, e.weights
	M := float64(len(L))
	switch e.opts.Baseline {
	case NoBaseline:
		for m, l := range L {
			w[m] = l / M
		}
	case BatchMean:
		b := mean(L)
		for m, l := range L {
			w[m] = (l - b) / M
		}
	case Clean:
		for m, l := range L {
			w[m] = (l - e.clean[m]) / M
		}
	case LeaveOneOut:
		k := e.net.Copies()
		if k == 1 {
			total := mean(L) * M
			for m, l := range L {
				w[m] = (l - (total-l)/(M-1)) / M
			}
			return
		}
		b := len(L) / k
		for i := 0; i < b; i++ {
			var total float64
			for c := 0; c < k; c++ {
				total += L[c*b+i]
			}
			for c := 0; c < k; c++ {
				l := L[c*b+i]
				w[c*b+i] = (l - (total-l)/float64(k-1)) / M
			}
		}
	}
}

// gradient writes this site's weight (and bias) gradient into grads:
// S = diag(w)·ψ(R), gW = Xᵀ·S, gb = 1ᵀ·S.
func (s *glrSite) gradient(w []float64, grads []*tensor.Dense) error {
	xv, ok := s.Input.Value().(*tensor.Dense)
	if !ok || xv.Shape()[0] != s.inRows || xv.Shape()[1] != s.in {
		return fmt.Errorf("the layer input was not computed")
	}
	score := s.Op.Score()
	var gb *tensor.Dense
	if s.bias >= 0 {
		gb = grads[s.bias]
	}
	switch x := xv.Data().(type) {
	case []float64:
		siteGradient(x, score.Float64s(), w, s.xt.Float64s(), s.s.Float64s(), float64s(s.ssum), grads[s.weight].Float64s(), float64s(gb), s.rows, s.inRows, s.in, s.out)
	case []float32:
		siteGradient(x, score.Float32s(), w, s.xt.Float32s(), s.s.Float32s(), float32s(s.ssum), grads[s.weight].Float32s(), float32s(gb), s.rows, s.inRows, s.in, s.out)
	default:
		return fmt.Errorf("unsupported dtype %v", xv.Dtype())
	}
	return nil
}

func float64s(t *tensor.Dense) []float64 {
	if t == nil {
		return nil
	}
	return t.Float64s()
}

func float32s(t *tensor.Dense) []float32 {
	if t == nil {
		return nil
	}
	return t.Float32s()
}

// siteGradient computes S = diag(w)·ψ(R) over the rows noisy rows, and
// from it gW = Xᵀ·S and gb = 1ᵀ·S. When the input X has fewer rows than S
// (inRows = rows/copies, a tiled site), row m of X feeds rows m, m+inRows,
// ... of S, so Xᵀ·S = Xᵀ·(sum of S's copies): one GEMM over inRows rows.
func siteGradient[T float32 | float64](x, psi []T, w []float64, xt, s, ssum, gw, gb []T, rows, inRows, in, out int) {
	for m := 0; m < rows; m++ {
		wm := T(w[m])
		pr, sr := psi[m*out:(m+1)*out], s[m*out:(m+1)*out]
		for j, p := range pr {
			sr[j] = wm * p
		}
	}
	if inRows < rows {
		copy(ssum, s[:inRows*out])
		for c := 1; c < rows/inRows; c++ {
			for i, v := range s[c*inRows*out : (c+1)*inRows*out] {
				ssum[i] += v
			}
		}
		s = ssum
	}
	// Pure-Go BLAS runs a transposed left operand far slower than a plain
	// one, so transpose X first (O(inRows·in)) and multiply Xᵀ·S untransposed.
	transpose(x, xt, inRows, in)
	gemm(in, out, inRows, xt, s, gw)
	if gb != nil {
		clear(gb)
		for m := 0; m < inRows; m++ {
			for j, v := range s[m*out : (m+1)*out] {
				gb[j] += v
			}
		}
	}
}

// transpose writes the cols × rows transpose of the rows × cols matrix a into
// t, in cache-sized tiles.
func transpose[T float32 | float64](a, t []T, rows, cols int) {
	const tile = 32
	for i0 := 0; i0 < rows; i0 += tile {
		i1 := min(i0+tile, rows)
		for j0 := 0; j0 < cols; j0 += tile {
			j1 := min(j0+tile, cols)
			for i := i0; i < i1; i++ {
				row := a[i*cols : (i+1)*cols]
				for j := j0; j < j1; j++ {
					t[j*rows+i] = row[j]
				}
			}
		}
	}
}

// gemm sets c (m × n) = a (m × k) · b (k × n), all row-major.
func gemm[T float32 | float64](m, n, k int, a, b, c []T) {
	switch a := any(a).(type) {
	case []float64:
		blas64.Implementation().Dgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, any(b).([]float64), n, 0, any(c).([]float64), n)
	case []float32:
		blas32.Implementation().Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, any(b).([]float32), n, 0, any(c).([]float32), n)
	}
}
