// Package compare measures gradient estimators against a reference on one
// batch: for every arm of an experiment (one estimator variant each) and
// every layer, the cosine and relative error of the mean estimate, the
// variance of one estimate, its cost in forward rows and seconds, and the
// cost-normalised variance × rows (glr compare); and the gradient check of
// GLR against backpropagation through the noise (glr gradcheck).
package compare

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/glr-project/glr/datasets"
	"github.com/glr-project/glr/graph"
	"gorgonia.org/tensor"
)

// layer is one noise site's parameters in the flattened gradient.
type layer struct {
	name   string
	ranges [][2]int // [start, end) of the site's weight and bias
}

// layersOf returns the network's layers (one per noise site, input side
// first) and the flattened gradient's size.
func layersOf(net *graph.Network) ([]layer, int) {
	offset := map[string][2]int{}
	n := 0
	for _, p := range net.Params {
		size := p.Value().(*tensor.Dense).Shape().TotalSize()
		offset[p.Name()] = [2]int{n, n + size}
		n += size
	}
	var ls []layer
	for _, s := range net.Sites {
		l := layer{name: s.Name}
		for _, p := range []*graph.Site{s} {
			l.ranges = append(l.ranges, offset[p.Weight.Name()])
			if p.Bias != nil {
				l.ranges = append(l.ranges, offset[p.Bias.Name()])
			}
		}
		ls = append(ls, l)
	}
	return ls, n
}

// values returns the layer's part of a flattened gradient.
func (l layer) values(flat []float64) []float64 {
	var out []float64
	for _, r := range l.ranges {
		out = append(out, flat[r[0]:r[1]]...)
	}
	return out
}

// flatten appends the gradients' values to dst[:0].
func flatten(grads []*tensor.Dense, dst []float64) []float64 {
	dst = dst[:0]
	for _, g := range grads {
		if g.Dtype() == tensor.Float32 {
			for _, v := range g.Float32s() {
				dst = append(dst, float64(v))
			}
			continue
		}
		dst = append(dst, g.Float64s()...)
	}
	return dst
}

// moments accumulates the mean and per-coordinate variance of estimates.
type moments struct {
	n        int
	sum, sq  []float64
	cosines  []float64 // per layer: the sum of single-estimate cosines to a reference
	refNorms []float64
}

func newMoments(size, layers int) *moments {
	return &moments{sum: make([]float64, size), sq: make([]float64, size), cosines: make([]float64, layers)}
}

func (m *moments) add(flat []float64) {
	m.n++
	for i, v := range flat {
		m.sum[i] += v
		m.sq[i] += v * v
	}
}

func (m *moments) mean() []float64 {
	out := make([]float64, len(m.sum))
	for i, s := range m.sum {
		out[i] = s / float64(m.n)
	}
	return out
}

// variance is the sample variance of one estimate, per coordinate.
func (m *moments) variance() []float64 {
	out := make([]float64, len(m.sum))
	if m.n < 2 {
		return out
	}
	for i := range m.sum {
		mu := m.sum[i] / float64(m.n)
		out[i] = math.Max(0, (m.sq[i]/float64(m.n)-mu*mu)*float64(m.n)/float64(m.n-1))
	}
	return out
}

// compareVectors returns the cosine and relative error of g to ref, or nils
// when ref is identically zero.
func compareVectors(g, ref []float64) (cos, rel *float64) {
	var gb, gg, bb, dd float64
	for i := range g {
		gb += g[i] * ref[i]
		gg += g[i] * g[i]
		bb += ref[i] * ref[i]
		dd += (g[i] - ref[i]) * (g[i] - ref[i])
	}
	if bb == 0 {
		return nil, nil
	}
	r := math.Sqrt(dd / bb)
	c := 0.0
	if gg > 0 {
		c = gb / math.Sqrt(gg*bb)
	}
	return &c, &r
}

func norm(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v * v
	}
	return math.Sqrt(s)
}

func meanOf(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

// seededBatch returns a batch of size examples of train chosen by seed: the
// same seed checks the same examples.
func seededBatch(train *datasets.Set, seed uint64, size int) (*datasets.Batch, error) {
	if size < 1 || size > train.Len() {
		return nil, fmt.Errorf("-batch must be in [1, %d], got %d", train.Len(), size)
	}
	rng := rand.New(rand.NewPCG(seed, 0x6772616463686b))
	return &datasets.Batch{Set: train, Index: rng.Perm(train.Len())[:size]}, nil
}
