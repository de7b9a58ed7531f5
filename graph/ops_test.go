package graph

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/glr-project/glr/graph/graphtest"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func matrix(rows, cols int, seed uint64) *tensor.Dense {
	rng := rand.New(rand.NewPCG(seed, 1))
	t := tensor.New(tensor.WithShape(rows, cols), tensor.Of(tensor.Float64))
	for i := range t.Float64s() {
		// Keep values away from 0 so the step's kink is never inside a
		// finite-difference interval.
		v := 0.1 + rng.Float64()
		if rng.IntN(2) == 0 {
			v = -v
		}
		t.Float64s()[i] = 3 * v
	}
	return t
}

func oneHot(rows, classes int, seed uint64) *tensor.Dense {
	rng := rand.New(rand.NewPCG(seed, 2))
	t := tensor.New(tensor.WithShape(rows, classes), tensor.Of(tensor.Float64))
	for m := 0; m < rows; m++ {
		t.Float64s()[m*classes+rng.IntN(classes)] = 1
	}
	return t
}

// mapRows applies f to each row of a and returns the results as a vector.
func mapRows(a, b *tensor.Dense, f func(x, y []float64) float64) *tensor.Dense {
	rows, cols := a.Shape()[0], a.Shape()[1]
	out := tensor.New(tensor.WithShape(rows), tensor.Of(tensor.Float64))
	for m := 0; m < rows; m++ {
		out.Float64s()[m] = f(a.Float64s()[m*cols:(m+1)*cols], b.Float64s()[m*cols:(m+1)*cols])
	}
	return out
}

func TestOpsConform(t *testing.T) {
	z, y := matrix(4, 3, 1), oneHot(4, 3, 2)
	// Huge logits: the naive softmax of the seed code overflows here.
	big := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{1000, 0, -5, -800, -900, -1000}))
	bigY := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{0, 1, 0, 1, 0, 0}))
	noise := func(dist Distribution) graphtest.Case {
		return graphtest.Case{
			Name: "noise/" + dist.String(),
			New: func(i int) G.Op {
				op, err := NewNoiseOp(i, "site", dist, 0.7, 42)
				if err != nil {
					t.Fatal(err)
				}
				return op
			},
			Inputs: []*tensor.Dense{z},
			Prepare: func(op G.Op) error {
				if _, err := op.Do(z.Clone().(*tensor.Dense)); err != nil {
					return err
				}
				op.(*NoiseOp).SetMode(NoiseHold)
				return nil
			},
			Want: func(op G.Op, in []*tensor.Dense) *tensor.Dense {
				want := in[0].Clone().(*tensor.Dense)
				for i, r := range op.(*NoiseOp).Noise().Float64s() {
					want.Float64s()[i] += r
				}
				return want
			},
		}
	}
	loss := func(kind LossKind, z, y *tensor.Dense, want func(x, y []float64) float64) graphtest.Case {
		return graphtest.Case{
			Name: "loss/" + kind.String(),
			New: func(i int) G.Op {
				op, err := NewLossOp(kind, i)
				if err != nil {
					t.Fatal(err)
				}
				return op
			},
			Inputs: []*tensor.Dense{z, y},
			Want: func(_ G.Op, in []*tensor.Dense) *tensor.Dense {
				return mapRows(in[0], in[1], want)
			},
		}
	}
	xent := func(z, y []float64) float64 {
		// log Σ exp(z) − z_label, summed carefully by hand.
		mx := math.Max(z[0], math.Max(z[1], z[2]))
		lse := mx + math.Log(math.Exp(z[0]-mx)+math.Exp(z[1]-mx)+math.Exp(z[2]-mx))
		return lse - (y[0]*z[0] + y[1]*z[1] + y[2]*z[2])
	}
	cases := []graphtest.Case{
		noise(Gaussian),
		noise(Laplace),
		{
			Name:   "step",
			New:    func(i int) G.Op { return NewStepOp(i) },
			Inputs: []*tensor.Dense{z},
			Want: func(_ G.Op, in []*tensor.Dense) *tensor.Dense {
				want := in[0].Clone().(*tensor.Dense)
				for i, v := range want.Float64s() {
					want.Float64s()[i] = map[bool]float64{true: 1, false: 0}[v > 0]
				}
				return want
			},
		},
		{
			Name:   "tile",
			New:    func(i int) G.Op { op, _ := NewTileOp(i, 3); return op },
			Inputs: []*tensor.Dense{z},
			Want: func(_ G.Op, in []*tensor.Dense) *tensor.Dense {
				x := in[0].Float64s()
				return tensor.New(tensor.WithShape(12, 3), tensor.WithBacking(append(append(append([]float64(nil), x...), x...), x...)))
			},
		},
		{
			Name:   "sum-copies",
			New:    func(i int) G.Op { op, _ := NewSumCopiesOp(i, 2); return op },
			Inputs: []*tensor.Dense{z},
			Want: func(_ G.Op, in []*tensor.Dense) *tensor.Dense {
				x := in[0].Float64s()
				out := make([]float64, 6)
				for i := range out {
					out[i] = x[i] + x[i+6]
				}
				return tensor.New(tensor.WithShape(2, 3), tensor.WithBacking(out))
			},
		},
		loss(CrossEntropy, z, y, xent),
		loss(CrossEntropy, big, bigY, xent),
		loss(Squared, z, y, func(z, y []float64) float64 {
			var s float64
			for c := range z {
				s += (z[c] - y[c]) * (z[c] - y[c])
			}
			return s / 2
		}),
		loss(ZeroOne, z, y, func(z, y []float64) float64 {
			if argmax(z) != argmax(y) {
				return 1
			}
			return 0
		}),
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if err := graphtest.Check(c); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestLossGradOpConforms checks the internal gradient op of the losses for
// shape, values and identity (it is not itself differentiated).
func TestLossGradOpConforms(t *testing.T) {
	z, y := matrix(3, 4, 5), oneHot(3, 4, 6)
	up := tensor.New(tensor.WithShape(3), tensor.WithBacking([]float64{0.5, -1, 2}))
	for _, kind := range []LossKind{CrossEntropy, Squared} {
		c := graphtest.Case{
			Name:   "lossgrad/" + kind.String(),
			New:    func(i int) G.Op { return &lossGradOp{kind: kind, id: i} },
			Inputs: []*tensor.Dense{z, y, up},
			Want: func(_ G.Op, in []*tensor.Dense) *tensor.Dense {
				out := tensor.New(tensor.WithShape(3, 4), tensor.Of(tensor.Float64))
				zs, ys, o := in[0].Float64s(), in[1].Float64s(), out.Float64s()
				for m := 0; m < 3; m++ {
					var s float64
					for c := 0; c < 4; c++ {
						s += math.Exp(zs[m*4+c])
					}
					for c := 0; c < 4; c++ {
						d := zs[m*4+c] - ys[m*4+c]
						if kind == CrossEntropy {
							d = math.Exp(zs[m*4+c])/s - ys[m*4+c]
						}
						o[m*4+c] = up.Float64s()[m] * d
					}
				}
				return out
			},
		}
		if err := graphtest.Check(c); err != nil {
			t.Error(err)
		}
	}
}

// TestStableCrossEntropy: logits far apart in size give finite losses, where
// Gorgonia's (Log)SoftMax gives -Inf or NaN.
func TestStableCrossEntropy(t *testing.T) {
	op, _ := NewLossOp(CrossEntropy, 0)
	z := tensor.New(tensor.WithShape(3, 3), tensor.WithBacking([]float64{0, 0, 0, 1000, 0, 0, -800, -900, -1000}))
	y := tensor.New(tensor.WithShape(3, 3), tensor.WithBacking([]float64{1, 0, 0, 0, 1, 0, 0, 0, 1}))
	v, err := op.Do(z, y)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{math.Log(3), 1000, 200}
	for i, l := range v.(*tensor.Dense).Float64s() {
		if math.Abs(l-want[i]) > 1e-9 {
			t.Errorf("row %d: loss %v, want %v", i, l, want[i])
		}
	}
}

// TestSamplersFinite draws many values from each sampler: none is ±Inf or
// NaN, and the moments match the distribution (a broken score or scale
// would not).
func TestSamplersFinite(t *testing.T) {
	const n = 2_000_000
	for _, c := range []struct {
		dist  Distribution
		scale float64
	}{{Gaussian, 0.5}, {Laplace, 1}, {Laplace, 1e-3}, {Gaussian, 1e3}} {
		rng := rand.New(rand.NewPCG(1, 2))
		var sum, sumAbs, sumSq, sumRPsi float64
		for i := 0; i < n; i++ {
			r, psi := c.dist.Sample(rng, c.scale)
			if math.IsNaN(r) || math.IsInf(r, 0) || math.IsNaN(psi) || math.IsInf(psi, 0) {
				t.Fatalf("%v(%g): draw %d is r=%v ψ=%v", c.dist, c.scale, i, r, psi)
			}
			sum += r
			sumAbs += math.Abs(r)
			sumSq += r * r
			sumRPsi += r * psi
		}
		// E[r ψ(r)] = 1 for any density vanishing at ±∞ (integration by
		// parts); with 2e6 draws its standard error is below 0.002.
		if m := sumRPsi / n; math.Abs(m-1) > 0.01 {
			t.Errorf("%v(%g): E[r ψ(r)] = %.4f, want 1", c.dist, c.scale, m)
		}
		wantVar := c.scale * c.scale
		if c.dist == Laplace {
			wantVar *= 2
		}
		// The sample variance of 2e6 draws is within 0.5 % of the truth
		// (relative standard error √(κ−1)/√n ≤ 0.0017 for Laplace, κ = 6).
		if v := sumSq/n - (sum/n)*(sum/n); math.Abs(v/wantVar-1) > 0.01 {
			t.Errorf("%v(%g): variance %.5g, want %.5g", c.dist, c.scale, v, wantVar)
		}
	}
}

// TestNoiseSitesStayDistinct: two sites of equal scale on the same input
// are two nodes, with two independent draws.
func TestNoiseSitesStayDistinct(t *testing.T) {
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float64, G.WithShape(3, 2), G.WithName("x"), G.WithValue(matrix(3, 2, 1)))
	a, _ := NewNoiseOp(0, "a", Laplace, 1, 7)
	b, _ := NewNoiseOp(1, "b", Laplace, 1, 7)
	na, err := G.ApplyOp(a, x)
	if err != nil {
		t.Fatal(err)
	}
	nb, err := G.ApplyOp(b, x)
	if err != nil {
		t.Fatal(err)
	}
	if na == nb {
		t.Fatal("two noise sites on one input merged into one node")
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	ra, rb := a.Noise().Float64s(), b.Noise().Float64s()
	for i := range ra {
		if ra[i] == rb[i] {
			t.Fatalf("sites drew the same value %v at %d", ra[i], i)
		}
	}
}

func TestAntitheticPairs(t *testing.T) {
	op, _ := NewNoiseOp(0, "s", Gaussian, 1, 3)
	if err := op.SetCopies(4, true); err != nil {
		t.Fatal(err)
	}
	z := tensor.New(tensor.WithShape(8, 2), tensor.Of(tensor.Float64))
	if _, err := op.Do(z); err != nil {
		t.Fatal(err)
	}
	r := op.Noise().Float64s()
	block := 4 // 2 rows × 2 units per copy
	for c := 0; c < 4; c += 2 {
		for i := 0; i < block; i++ {
			if r[(c+1)*block+i] != -r[c*block+i] {
				t.Fatalf("copy %d element %d: %v is not the negation of %v", c+1, i, r[(c+1)*block+i], r[c*block+i])
			}
		}
	}
	if r[0] == -r[2*block] {
		t.Error("copies 0 and 2 are antithetic too; only pairs should be")
	}
}

func TestBadOpInput(t *testing.T) {
	cases := []struct {
		name string
		run  func() error
		want string
	}{
		{"zero scale", func() error { _, err := NewNoiseOp(0, "layer1", Gaussian, 0, 1); return err }, "noise site layer1: scale must be positive and finite, got 0"},
		{"negative scale", func() error { _, err := NewNoiseOp(0, "layer1", Laplace, -1, 1); return err }, "scale must be positive"},
		{"infinite scale", func() error { _, err := NewNoiseOp(0, "layer1", Laplace, math.Inf(1), 1); return err }, "scale must be positive"},
		{"unknown distribution", func() error { _, err := ParseDistribution("cauchy"); return err }, `unknown noise distribution "cauchy" (want gaussian | laplace)`},
		{"unknown loss", func() error { _, err := ParseLossKind("hinge"); return err }, `unknown loss "hinge" (want cross-entropy | zero-one | squared)`},
		{"hold without a draw", func() error {
			op, _ := NewNoiseOp(0, "layer1", Laplace, 1, 1)
			op.SetMode(NoiseHold)
			_, err := op.Do(matrix(2, 2, 1))
			return err
		}, "hold mode needs a previous draw"},
		{"loss shapes differ", func() error {
			op, _ := NewLossOp(CrossEntropy, 0)
			_, err := op.InferShape(tensor.Shape{2, 3}, tensor.Shape{2, 4})
			return err
		}, "logits (2, 3) and targets (2, 4) differ in shape"},
		{"noise on a vector", func() error {
			op, _ := NewNoiseOp(0, "layer1", Laplace, 1, 1)
			_, err := op.InferShape(tensor.Shape{3})
			return err
		}, "want a rows × units matrix"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.run()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
}
