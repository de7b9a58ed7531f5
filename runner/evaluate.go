package runner

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

// Classifier runs a network's current weights on inputs of any count: it
// builds networks of its own row counts that share the parameter tensors it
// was given, so it always sees the latest weights. It is used from one
// goroutine at a time.
type Classifier struct {
	spec   graph.Spec
	noise  bool
	seed   uint64
	passes map[int]*classifierPass // by rows
}

type classifierPass struct {
	net     *graph.Network
	forward G.VM
	// gradient machine and the input's gradient node, built on first use
	gradient G.VM
	inGrad   *G.Node
}

// NewClassifier returns a classifier for networks like spec, whose Params
// must hold the weights to share. With noise on, each pass draws fresh noise
// from streams seeded by seed (noisy prediction); otherwise prediction is
// noise-free.
func NewClassifier(spec graph.Spec, noise bool, seed uint64) (*Classifier, error) {
	if spec.Params == nil {
		return nil, fmt.Errorf("classifier: the spec carries no weights")
	}
	spec.Copies = 1
	return &Classifier{spec: spec, noise: noise, seed: seed, passes: map[int]*classifierPass{}}, nil
}

// Dims returns the numbers of input features and classes.
func (c *Classifier) Dims() (features, classes int) { return c.spec.Inputs, c.spec.Classes }

// Close releases the classifier's machines.
func (c *Classifier) Close() error {
	for _, p := range c.passes {
		p.forward.Close()
		if p.gradient != nil {
			p.gradient.Close()
		}
	}
	return nil
}

func (c *Classifier) pass(rows int) (*classifierPass, error) {
	if p, ok := c.passes[rows]; ok {
		return p, nil
	}
	spec := c.spec
	spec.Rows = rows
	net, err := graph.Build(spec)
	if err != nil {
		return nil, fmt.Errorf("classifier network: %w", err)
	}
	net.Reseed(c.seed ^ uint64(rows)<<20)
	m, err := net.Compile(net.Losses)
	if err != nil {
		return nil, fmt.Errorf("classifier network: %w", err)
	}
	p := &classifierPass{net: net, forward: m}
	c.passes[rows] = p
	return p, nil
}

// chunks calls f on consecutive chunks of at most evalBatch examples.
func (c *Classifier) chunks(x []float64, labels []int, f func(p *classifierPass, lo, hi int) error) error {
	d := c.spec.Inputs
	if len(x) != len(labels)*d {
		return fmt.Errorf("classifier: %d features for %d examples of %d", len(x), len(labels), d)
	}
	for lo := 0; lo < len(labels); lo += evalBatch {
		hi := min(lo+evalBatch, len(labels))
		p, err := c.pass(hi - lo)
		if err != nil {
			return err
		}
		if err := p.net.Feed(x[lo*d:hi*d], labels[lo:hi]); err != nil {
			return fmt.Errorf("classifier: %w", err)
		}
		if c.noise {
			p.net.SetNoise(graph.NoiseFresh)
		} else {
			p.net.SetNoise(graph.NoiseOff)
		}
		if err := f(p, lo, hi); err != nil {
			return err
		}
	}
	return nil
}

// run runs m once, hands the pass to read, and resets m.
func run(m G.VM, read func() error) error {
	defer m.Reset()
	if err := graph.Run(m); err != nil {
		return fmt.Errorf("classifier: %w", err)
	}
	return read()
}

// Losses writes the per-example losses (the spec's loss kind) of the inputs
// into dst.
func (c *Classifier) Losses(x []float64, labels []int, dst []float64) error {
	if len(dst) != len(labels) {
		return fmt.Errorf("classifier: %d loss slots for %d examples", len(dst), len(labels))
	}
	return c.chunks(x, labels, func(p *classifierPass, lo, hi int) error {
		return run(p.forward, func() error { return p.net.ReadLosses(dst[lo:hi]) })
	})
}

// Predict writes the class with the largest logit of each input into dst.
func (c *Classifier) Predict(x []float64, dst []int) error {
	labels := make([]int, len(dst)) // any valid labels: only the logits are read
	return c.chunks(x, labels, func(p *classifierPass, lo, hi int) error {
		return run(p.forward, func() error { return p.net.Predict(dst[lo:hi]) })
	})
}

// InputGradient writes d loss_i / d x_i of each example into grad, by
// backpropagation to the input through the same graph.
func (c *Classifier) InputGradient(x []float64, labels []int, grad []float64) error {
	if len(grad) != len(x) {
		return fmt.Errorf("classifier: %d gradient slots for %d features", len(grad), len(x))
	}
	if !c.spec.Loss.Differentiable() {
		return fmt.Errorf("classifier: the %v loss has no input gradient", c.spec.Loss)
	}
	d := c.spec.Inputs
	return c.chunks(x, labels, func(p *classifierPass, lo, hi int) error {
		if p.gradient == nil {
			gs, err := G.Grad(p.net.Loss, p.net.Input)
			if err != nil {
				return fmt.Errorf("classifier: input gradient: %w", err)
			}
			if p.gradient, err = p.net.Compile(p.net.Loss, gs[0]); err != nil {
				return fmt.Errorf("classifier: input gradient: %w", err)
			}
			p.inGrad = gs[0]
		}
		return run(p.gradient, func() error {
			v, ok := p.inGrad.Value().(*tensor.Dense)
			if !ok {
				return fmt.Errorf("classifier: the input gradient was not computed")
			}
			// The graph differentiates the mean loss; each example's loss
			// depends only on its own input, so scale by the row count.
			scale := float64(hi - lo)
			out := grad[lo*d : hi*d]
			switch g := v.Data().(type) {
			case []float64:
				for i, v := range g {
					out[i] = v * scale
				}
			case []float32:
				for i, v := range g {
					out[i] = float64(v) * scale
				}
			}
			return nil
		})
	})
}

// Evaluate returns the mean per-example loss and the accuracy (the argmax
// of the logits against the label) over the whole set.
func (c *Classifier) Evaluate(set *datasets.Set) (loss, accuracy float64, err error) {
	n := set.Len()
	if n == 0 {
		return 0, 0, fmt.Errorf("evaluate: the set %s is empty", set.Name)
	}
	if set.Features != c.spec.Inputs || set.Classes != c.spec.Classes {
		return 0, 0, fmt.Errorf("evaluate: %s has %d features and %d classes, the network %d and %d", set.Name, set.Features, set.Classes, c.spec.Inputs, c.spec.Classes)
	}
	losses := make([]float64, min(n, evalBatch))
	pred := make([]int, min(n, evalBatch))
	x := make([]float64, min(n, evalBatch)*set.Features)
	labels := make([]int, min(n, evalBatch))
	idx := make([]int, 0, evalBatch)
	var sum float64
	correct := 0
	for lo := 0; lo < n; lo += evalBatch {
		hi := min(lo+evalBatch, n)
		idx = idx[:0]
		for i := lo; i < hi; i++ {
			idx = append(idx, i)
		}
		xb, lb := x[:(hi-lo)*set.Features], labels[:hi-lo]
		if err := set.Gather(idx, xb, lb); err != nil {
			return 0, 0, fmt.Errorf("evaluate: %w", err)
		}
		err := c.chunks(xb, lb, func(p *classifierPass, _, _ int) error {
			return run(p.forward, func() error {
				if err := p.net.ReadLosses(losses[:hi-lo]); err != nil {
					return err
				}
				return p.net.Predict(pred[:hi-lo])
			})
		})
		if err != nil {
			return 0, 0, fmt.Errorf("evaluate: %w", err)
		}
		for i, l := range losses[:hi-lo] {
			sum += l
			if pred[i] == lb[i] {
				correct++
			}
		}
	}
	loss = sum / float64(n)
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return loss, 0, fmt.Errorf("evaluate: the test loss is %v", loss)
	}
	return loss, float64(correct) / float64(n), nil
}
