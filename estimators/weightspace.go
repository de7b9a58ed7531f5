package estimators

import (
	"fmt"

	"github.com/glr-project/glr/graph"
	"github.com/glr-project/glr/internal/rng"
	"gorgonia.org/tensor"
)

// weightStream is the first stream id of weight-space perturbations; noise
// sites use the ids below it (their site numbers).
const weightStream = 1 << 40

// weightSpace evaluates the noise-free network at perturbed weights θ + c·d
// for the weight-space estimators (es, spsa). It runs its own network, with
// private parameter tensors, so the shared weights are never written.
type weightSpace struct {
	kind   string
	net    *graph.Network
	prog   *graph.Program
	shared []*tensor.Dense // θ, read at the start of every estimate
	own    []*tensor.Dense // the network's parameters: θ + c·d
	theta  []float64       // θ, flattened in parameter order
	dir    []float64       // a direction d
	grad   []float64       // the estimate being accumulated
	losses []float64
	seed   uint64
}

func newWeightSpace(kind string, base graph.Spec) (*weightSpace, error) {
	params, order, err := paramOrder(base)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", kind, err)
	}
	spec := base.OnePass()
	spec.NoiseOff = true
	spec.Params = make(map[string]*tensor.Dense, len(params))
	w := &weightSpace{kind: kind, seed: base.Seed}
	size := 0
	for _, name := range order {
		p := params[name]
		own := tensor.New(tensor.WithShape(p.Shape().Clone()...), tensor.Of(p.Dtype()))
		spec.Params[name] = own
		w.shared = append(w.shared, p)
		w.own = append(w.own, own)
		size += p.Shape().TotalSize()
	}
	if w.net, err = graph.Build(spec); err != nil {
		return nil, fmt.Errorf("%s: network: %w", kind, err)
	}
	if w.prog, err = w.net.Program(w.net.Losses); err != nil {
		return nil, fmt.Errorf("%s: %w", kind, err)
	}
	w.theta, w.dir, w.grad = make([]float64, size), make([]float64, size), make([]float64, size)
	w.losses = make([]float64, w.net.Rows())
	return w, nil
}

// begin feeds the batch and reads θ from the shared weights.
func (w *weightSpace) begin(batch graph.Examples, grads []*tensor.Dense) error {
	if err := checkGrads(w.net, grads); err != nil {
		return fmt.Errorf("%s: %w", w.kind, err)
	}
	if err := w.net.Feed(batch); err != nil {
		return fmt.Errorf("%s: %w", w.kind, err)
	}
	k := 0
	for _, p := range w.shared {
		if p.Dtype() == tensor.Float32 {
			for _, v := range p.Float32s() {
				w.theta[k] = float64(v)
				k++
			}
			continue
		}
		k += copy(w.theta[k:], p.Float64s())
	}
	clear(w.grad)
	return nil
}

// eval returns the mean loss of the batch at θ + c·d.
func (w *weightSpace) eval(c float64) (float64, error) {
	k := 0
	for _, p := range w.own {
		if p.Dtype() == tensor.Float32 {
			d := p.Float32s()
			for i := range d {
				d[i] = float32(w.theta[k] + c*w.dir[k])
				k++
			}
			continue
		}
		d := p.Float64s()
		for i := range d {
			d[i] = w.theta[k] + c*w.dir[k]
			k++
		}
	}
	if err := w.prog.Run(); err != nil {
		return 0, fmt.Errorf("%s: %w", w.kind, err)
	}
	if err := readLosses(w.net, w.prog, w.losses); err != nil {
		return 0, fmt.Errorf("%s: %w", w.kind, err)
	}
	return mean(w.losses), nil
}

// gaussian sets d to the standard normal direction number i of the step.
func (w *weightSpace) gaussian(step uint64, i int) {
	if err := rng.FillGaussian(w.dir, nil, 1, w.seed, step, weightStream+uint64(i)); err != nil {
		panic(err) // a unit scale and no scores cannot fail
	}
}

// rademacher sets d to the ±1 direction number i of the step.
func (w *weightSpace) rademacher(step uint64, i int) {
	for b := 0; b*rng.BlockSize < len(w.dir); b++ {
		src := rng.Stream(w.seed, step, weightStream+uint64(i), uint64(b))
		block := w.dir[b*rng.BlockSize : min(len(w.dir), (b+1)*rng.BlockSize)]
		for j := 0; j < len(block); j += 64 {
			bits := src.Uint64()
			for k := j; k < min(j+64, len(block)); k++ {
				block[k] = float64(int64(bits&1)*2 - 1)
				bits >>= 1
			}
		}
	}
}

// add accumulates a·d into the estimate.
func (w *weightSpace) add(a float64) {
	for k, v := range w.dir {
		w.grad[k] += a * v
	}
}

// store writes the estimate into grads.
func (w *weightSpace) store(grads []*tensor.Dense) {
	k := 0
	for _, g := range grads {
		n := g.Shape().TotalSize()
		copyInto(g, w.grad[k:k+n])
		k += n
	}
}

// rows is the number of rows of one evaluation.
func (w *weightSpace) rows() int { return w.net.Rows() }
