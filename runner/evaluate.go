package runner

import (
	"fmt"
	"math"

	"github.com/glr-project/glr/datasets"
	"github.com/glr-project/glr/graph"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// evalBatch is the number of examples an evaluation pass takes at once.
const evalBatch = 1000

// Evaluator computes the loss and accuracy of a network's current weights on
// a data set, with networks of its own row counts that share the trained
// network's parameter tensors, so it always sees the latest weights.
type Evaluator struct {
	spec   graph.Spec
	noise  bool
	seed   uint64
	passes map[int]*evalPass // by rows
	x      []float64
	labels []int
}

type evalPass struct {
	net     *graph.Network
	machine G.VM
}

// NewEvaluator returns an evaluator for networks like trained. With noise
// on, each evaluation draws fresh noise from a stream seeded by seed (the
// noisy prediction of the CASE-2020 paper); otherwise prediction is
// noise-free, as the seed code evaluates.
func NewEvaluator(trained *graph.Network, noise bool, seed uint64) *Evaluator {
	spec := trained.Spec()
	spec.Params = trained.ParamValues()
	return &Evaluator{spec: spec, noise: noise, seed: seed, passes: map[int]*evalPass{}}
}

// Close releases the evaluator's machines.
func (ev *Evaluator) Close() error {
	for _, p := range ev.passes {
		p.machine.Close()
	}
	return nil
}

func (ev *Evaluator) pass(rows int) (*evalPass, error) {
	if p, ok := ev.passes[rows]; ok {
		return p, nil
	}
	spec := ev.spec
	spec.Rows, spec.Copies = rows, 1
	net, err := graph.Build(spec)
	if err != nil {
		return nil, fmt.Errorf("evaluation network: %w", err)
	}
	net.Reseed(ev.seed ^ uint64(rows)<<20)
	m, err := net.Compile(net.Losses)
	if err != nil {
		return nil, fmt.Errorf("evaluation network: %w", err)
	}
	p := &evalPass{net: net, machine: m}
	ev.passes[rows] = p
	return p, nil
}

// Evaluate returns the mean per-example loss and the accuracy (the argmax
// of the logits against the label) over the whole set.
func (ev *Evaluator) Evaluate(set *datasets.Set) (loss, accuracy float64, err error) {
	n := set.Len()
	if n == 0 {
		return 0, 0, fmt.Errorf("evaluate: the set %s is empty", set.Name)
	}
	if set.Features != ev.spec.Inputs || set.Classes != ev.spec.Classes {
		return 0, 0, fmt.Errorf("evaluate: %s has %d features and %d classes, the network %d and %d", set.Name, set.Features, set.Classes, ev.spec.Inputs, ev.spec.Classes)
	}
	if cap(ev.x) < evalBatch*set.Features {
		ev.x, ev.labels = make([]float64, evalBatch*set.Features), make([]int, evalBatch)
	}
	idx := make([]int, 0, evalBatch)
	var sumLoss float64
	correct := 0
	for start := 0; start < n; start += evalBatch {
		rows := min(evalBatch, n-start)
		p, err := ev.pass(rows)
		if err != nil {
			return 0, 0, err
		}
		idx = idx[:0]
		for i := start; i < start+rows; i++ {
			idx = append(idx, i)
		}
		x, labels := ev.x[:rows*set.Features], ev.labels[:rows]
		if err := set.Gather(idx, x, labels); err != nil {
			return 0, 0, fmt.Errorf("evaluate: %w", err)
		}
		if err := p.net.Feed(x, labels); err != nil {
			return 0, 0, fmt.Errorf("evaluate: %w", err)
		}
		if ev.noise {
			p.net.SetNoise(graph.NoiseFresh)
		} else {
			p.net.SetNoise(graph.NoiseOff)
		}
		if err := graph.Run(p.machine); err != nil {
			p.machine.Reset()
			return 0, 0, fmt.Errorf("evaluate: %w", err)
		}
		l, c, err := readPass(p.net, labels)
		p.machine.Reset()
		if err != nil {
			return 0, 0, fmt.Errorf("evaluate: %w", err)
		}
		sumLoss += l
		correct += c
	}
	loss = sumLoss / float64(n)
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return loss, 0, fmt.Errorf("evaluate: the test loss is %v", loss)
	}
	return loss, float64(correct) / float64(n), nil
}

// readPass sums the per-example losses of the last pass and counts the rows
// whose largest logit is the label.
func readPass(net *graph.Network, labels []int) (sumLoss float64, correct int, err error) {
	lv, ok := net.Losses.Value().(*tensor.Dense)
	if !ok {
		return 0, 0, fmt.Errorf("the losses were not computed")
	}
	zv, ok := net.Logits.Value().(*tensor.Dense)
	if !ok {
		return 0, 0, fmt.Errorf("the logits were not computed")
	}
	classes := zv.Shape()[1]
	switch z := zv.Data().(type) {
	case []float64:
		for _, l := range lv.Float64s() {
			sumLoss += l
		}
		correct = countCorrect(z, labels, classes)
	case []float32:
		for _, l := range lv.Float32s() {
			sumLoss += float64(l)
		}
		correct = countCorrect(z, labels, classes)
	}
	return sumLoss, correct, nil
}

func countCorrect[T float32 | float64](z []T, labels []int, classes int) int {
	n := 0
	for m, y := range labels {
		row := z[m*classes : (m+1)*classes]
		best := 0
		for c, v := range row {
			if v > row[best] {
				best = c
			}
		}
		if best == y {
			n++
		}
	}
	return n
}
