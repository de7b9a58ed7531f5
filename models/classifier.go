// Package models runs trained networks: it loads an arm's weights from a
// run directory or a checkpoint file, and gives a Classifier that predicts,
// scores and differentiates inputs with them, for evaluation and for the
// attacks.
package models

import (
	"fmt"
	"math"

	"github.com/glr-project/glr/datasets"
	"github.com/glr-project/glr/graph"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// evalBatch is the largest number of examples a pass of a Classifier takes.
const evalBatch = 1000

// Classifier runs a network's weights on inputs of any count: it builds
// networks of its own row counts that share the parameter tensors it was
// given, so it always sees their current values. With noise at prediction
// time every pass draws fresh noise, from streams seeded by the spec's seed
// and the classifier's pass count. It is used from one goroutine at a time.
type Classifier struct {
	spec   graph.Spec
	noise  bool
	step   uint64 // passes so far, the noise streams' position
	passes map[passKey]*pass
}

type passKey struct {
	rows     int
	gradient bool
}

type pass struct {
	net    *graph.Network
	prog   *graph.Program
	inGrad *G.Node // gradient passes: the input's gradient
	losses []float64
	pred   []int
}

// NewClassifier returns a classifier for networks like spec, whose Params
// must hold the weights to share. With noise on, each pass draws fresh
// noise (noisy prediction); otherwise prediction is noise-free.
func NewClassifier(spec graph.Spec, noise bool) (*Classifier, error) {
	if spec.Params == nil {
		return nil, fmt.Errorf("classifier: the spec carries no weights")
	}
	spec = spec.OnePass()
	spec.NoiseOff = !noise
	return &Classifier{spec: spec, noise: noise, passes: map[passKey]*pass{}}, nil
}

// WithSurrogate returns a classifier on the same weights whose input
// gradient passes each threshold activation as the surrogate would (the
// backward pass of BPDA, Athalye, Carlini and Wagner 2018); its predictions
// and losses are the same as c's.
func (c *Classifier) WithSurrogate(s graph.Surrogate) *Classifier {
	spec := c.spec
	spec.Surrogate = s
	return &Classifier{spec: spec, noise: c.noise, passes: map[passKey]*pass{}}
}

// Dims returns the numbers of input features and classes.
func (c *Classifier) Dims() (features, classes int) { return c.spec.Inputs, c.spec.Classes }

// Noisy reports whether the classifier predicts with noise.
func (c *Classifier) Noisy() bool { return c.noise }

// Spec returns the spec of the classifier's networks.
func (c *Classifier) Spec() graph.Spec { return c.spec }

// Close releases the classifier's networks.
func (c *Classifier) Close() error {
	clear(c.passes)
	return nil
}

func (c *Classifier) pass(rows int, gradient bool) (*pass, error) {
	key := passKey{rows, gradient}
	if p, ok := c.passes[key]; ok {
		return p, nil
	}
	spec := c.spec
	spec.Batch = rows
	net, err := graph.Build(spec)
	if err != nil {
		return nil, fmt.Errorf("classifier network: %w", err)
	}
	p := &pass{net: net, losses: make([]float64, rows), pred: make([]int, rows)}
	roots := G.Nodes{net.Losses, net.Logits}
	if gradient {
		if !spec.Loss.Differentiable() {
			return nil, fmt.Errorf("classifier: the %v loss has no input gradient", spec.Loss)
		}
		gs, err := gradInput(net)
		if err != nil {
			return nil, err
		}
		p.inGrad = gs
		roots = append(roots, net.Loss, gs)
	}
	if p.prog, err = net.Program(roots...); err != nil {
		return nil, fmt.Errorf("classifier: %w", err)
	}
	c.passes[key] = p
	return p, nil
}

// gradInput differentiates the mean loss with respect to the input.
func gradInput(net *graph.Network) (g *G.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("classifier: input gradient: %v", r)
		}
	}()
	gs, err := G.Grad(net.Loss, net.Input)
	if err != nil {
		return nil, fmt.Errorf("classifier: input gradient: %w", err)
	}
	return gs[0], nil
}

// run feeds rows [lo, hi) of ex to a pass and runs it.
func (c *Classifier) run(ex graph.Examples, gradient bool, read func(p *pass) error) error {
	p, err := c.pass(ex.Len(), gradient)
	if err != nil {
		return err
	}
	if err := p.net.Feed(ex); err != nil {
		return fmt.Errorf("classifier: %w", err)
	}
	p.net.SetStep(c.step)
	c.step++
	if err := p.prog.Run(); err != nil {
		return fmt.Errorf("classifier: %w", err)
	}
	return read(p)
}

// chunks calls f on consecutive chunks of at most evalBatch examples of x.
func (c *Classifier) chunks(x []float64, labels []int, f func(ex graph.Rows, lo, hi int) error) error {
	d := c.spec.Inputs
	if len(x) != len(labels)*d {
		return fmt.Errorf("classifier: %d features for %d examples of %d", len(x), len(labels), d)
	}
	for lo := 0; lo < len(labels); lo += evalBatch {
		hi := min(lo+evalBatch, len(labels))
		if err := f(graph.Rows{X: x[lo*d : hi*d], Labels: labels[lo:hi], Dim: d}, lo, hi); err != nil {
			return err
		}
	}
	return nil
}

// Losses writes the per-example losses (the spec's loss kind) of the inputs
// into dst.
func (c *Classifier) Losses(x []float64, labels []int, dst []float64) error {
	if len(dst) != len(labels) {
		return fmt.Errorf("classifier: %d loss slots for %d examples", len(dst), len(labels))
	}
	return c.chunks(x, labels, func(ex graph.Rows, lo, hi int) error {
		return c.run(ex, false, func(p *pass) error { return p.net.ReadLosses(p.prog, dst[lo:hi]) })
	})
}

// Predict writes the class with the largest logit of each input into dst.
func (c *Classifier) Predict(x []float64, dst []int) error {
	labels := make([]int, len(dst)) // any valid labels: only the logits are read
	return c.chunks(x, labels, func(ex graph.Rows, lo, hi int) error {
		return c.run(ex, false, func(p *pass) error { return p.net.Predict(p.prog, dst[lo:hi]) })
	})
}

// Logits writes the logits of each input into dst (n·classes, row-major).
func (c *Classifier) Logits(x []float64, dst []float64) error {
	k := c.spec.Classes
	labels := make([]int, len(x)/max(c.spec.Inputs, 1))
	if len(dst) != len(labels)*k {
		return fmt.Errorf("classifier: %d logit slots for %d examples of %d classes", len(dst), len(labels), k)
	}
	return c.chunks(x, labels, func(ex graph.Rows, lo, hi int) error {
		return c.run(ex, false, func(p *pass) error {
			z, err := p.prog.Dense(p.net.Logits)
			if err != nil {
				return err
			}
			out := dst[lo*k : hi*k]
			if z.Dtype() == tensor.Float32 {
				for i, v := range z.Float32s() {
					out[i] = float64(v)
				}
				return nil
			}
			copy(out, z.Float64s())
			return nil
		})
	})
}

// InputGradient writes d loss_i / d x_i of each example into grad, by
// backpropagation to the input through the same graph (with the
// classifier's surrogate derivative for threshold activations, see
// WithSurrogate).
func (c *Classifier) InputGradient(x []float64, labels []int, grad []float64) error {
	if len(grad) != len(x) {
		return fmt.Errorf("classifier: %d gradient slots for %d features", len(grad), len(x))
	}
	d := c.spec.Inputs
	stride := d
	if c.spec.InputBias {
		stride++
	}
	return c.chunks(x, labels, func(ex graph.Rows, lo, hi int) error {
		return c.run(ex, true, func(p *pass) error {
			v, err := p.prog.Dense(p.inGrad)
			if err != nil {
				return fmt.Errorf("classifier: the input gradient was not computed")
			}
			// The graph differentiates the mean loss; each example's loss
			// depends only on its own input, so scale by the row count.
			scale := float64(hi - lo)
			out := grad[lo*d : hi*d]
			for i := 0; i < hi-lo; i++ {
				for j := 0; j < d; j++ {
					if v.Dtype() == tensor.Float32 {
						out[i*d+j] = float64(v.Float32s()[i*stride+j]) * scale
					} else {
						out[i*d+j] = v.Float64s()[i*stride+j] * scale
					}
				}
			}
			return nil
		})
	})
}

// Result is an evaluation of a classifier on a data set.
type Result struct {
	Loss     float64 // mean per-example loss
	Accuracy float64 // fraction of examples whose largest logit is the label
	// Confusion[i][j] counts examples of class i predicted as j.
	Confusion [][]int
}

// Evaluate returns the mean loss, the accuracy and the confusion matrix of
// the classifier over the whole set. It reads the set's examples in place,
// in batches of at most 1,000.
func (c *Classifier) Evaluate(set *datasets.Set) (*Result, error) {
	n := set.Len()
	if n == 0 {
		return nil, fmt.Errorf("evaluate: the set %s is empty", set.Name)
	}
	if set.Features != c.spec.Inputs || set.Classes != c.spec.Classes {
		return nil, fmt.Errorf("evaluate: %s has %d features and %d classes, the network %d and %d", set.Name, set.Features, set.Classes, c.spec.Inputs, c.spec.Classes)
	}
	r := &Result{Confusion: make([][]int, c.spec.Classes)}
	for i := range r.Confusion {
		r.Confusion[i] = make([]int, c.spec.Classes)
	}
	idx := make([]int, 0, evalBatch)
	batch := &datasets.Batch{Set: set}
	var sum float64
	correct := 0
	for lo := 0; lo < n; lo += evalBatch {
		hi := min(lo+evalBatch, n)
		idx = idx[:0]
		for i := lo; i < hi; i++ {
			idx = append(idx, i)
		}
		batch.Index = idx
		err := c.run(batch, false, func(p *pass) error {
			if err := p.net.ReadLosses(p.prog, p.losses); err != nil {
				return err
			}
			if err := p.net.Predict(p.prog, p.pred); err != nil {
				return err
			}
			for i, l := range p.losses {
				sum += l
				y := set.Labels[lo+i]
				r.Confusion[y][p.pred[i]]++
				if p.pred[i] == y {
					correct++
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("evaluate: %w", err)
		}
	}
	r.Loss = sum / float64(n)
	if math.IsNaN(r.Loss) || math.IsInf(r.Loss, 0) {
		return nil, fmt.Errorf("evaluate: %w: the mean loss over %s is %v", graph.ErrNonFiniteLoss, set.Name, r.Loss)
	}
	r.Accuracy = float64(correct) / float64(n)
	return r, nil
}
