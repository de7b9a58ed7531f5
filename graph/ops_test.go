package graph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/glr-project/glr/graph/graphtest"
	"github.com/glr-project/glr/internal/conv"
	"github.com/glr-project/glr/score"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The conformance tests below run every op of the package through
// graphtest.Check in float64: shape inference, forward values against a
// direct loop written here, gorgonia.Grad through the op against central
// finite differences of Do (step 1e-6, relative error ≤ 1e-6: the ops are
// smooth away from the kinks the inputs avoid, so the truncation error
// h²·f''' ≈ 1e-12 and the rounding error ε·|f|/h ≈ 1e-10 are both far below
// the tolerance), and two instances staying two nodes.

// matrix returns a rows × cols matrix of values in ±[0.3, 3.3]: away from 0
// by far more than the finite-difference step, so that the kinks of the
// step and of the ReLU never fall inside a difference interval.
func matrix(rows, cols int, seed uint64) *tensor.Dense {
	rng := rand.New(rand.NewPCG(seed, 1))
	t := tensor.New(tensor.WithShape(rows, cols), tensor.Of(tensor.Float64))
	for i := range t.Float64s() {
		v := 0.1 + rng.Float64()
		if rng.IntN(2) == 0 {
			v = -v
		}
		t.Float64s()[i] = 3 * v
	}
	return t
}

// vector returns n values as matrix does.
func vector(n int, seed uint64) *tensor.Dense {
	return tensor.New(tensor.WithShape(n), tensor.WithBacking(matrix(1, n, seed).Float64s()))
}

// distinct returns a rows × cols matrix whose values are a random
// permutation of a grid 0.05 apart: no two are within a finite-difference
// step of each other, so a max pool never sees a tie.
func distinct(rows, cols int, seed uint64) *tensor.Dense {
	rng := rand.New(rand.NewPCG(seed, 3))
	n := rows * cols
	v := make([]float64, n)
	for i, p := range rng.Perm(n) {
		v[i] = 0.05*float64(p) - 0.025*float64(n)
	}
	return tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(v))
}

func oneHot(rows, classes int, seed uint64) *tensor.Dense {
	rng := rand.New(rand.NewPCG(seed, 2))
	t := tensor.New(tensor.WithShape(rows, classes), tensor.Of(tensor.Float64))
	for m := 0; m < rows; m++ {
		t.Float64s()[m*classes+rng.IntN(classes)] = 1
	}
	return t
}

// like returns a zero tensor of t's shape.
func like(t *tensor.Dense) *tensor.Dense {
	return tensor.New(tensor.WithShape(t.Shape().Clone()...), tensor.Of(tensor.Float64))
}

// must returns the op or fails the test.
func must[T G.Op](t *testing.T) func(T, error) G.Op {
	return func(op T, err error) G.Op {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return op
	}
}

func check(t *testing.T, cases []graphtest.Case) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if err := graphtest.Check(c); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestLinearConforms(t *testing.T) {
	x, w, b := matrix(4, 3, 1), matrix(3, 5, 2), vector(5, 3)
	want := func(bias bool) func(G.Op, []*tensor.Dense) *tensor.Dense {
		return func(_ G.Op, in []*tensor.Dense) *tensor.Dense {
			out := tensor.New(tensor.WithShape(4, 5), tensor.Of(tensor.Float64))
			for m := 0; m < 4; m++ {
				for j := 0; j < 5; j++ {
					var s float64
					if bias {
						s = in[2].Float64s()[j]
					}
					for k := 0; k < 3; k++ {
						s += in[0].Float64s()[m*3+k] * in[1].Float64s()[k*5+j]
					}
					out.Float64s()[m*5+j] = s
				}
			}
			return out
		}
	}
	check(t, []graphtest.Case{
		{Name: "x·W", New: func(i int) G.Op { return NewLinearOp(fmt.Sprint(i), false) },
			Inputs: []*tensor.Dense{x, w}, Want: want(false)},
		{Name: "x·W+b", New: func(i int) G.Op { return NewLinearOp(fmt.Sprint(i), true) },
			Inputs: []*tensor.Dense{x, w, b}, Want: want(true)},
	})
}

// TestLinearGradOpsConform checks the gradient ops of LinearOp on their own
// (they are not differentiated themselves): op(A)·op(B) for each
// transposition, and the column sums.
func TestLinearGradOpsConform(t *testing.T) {
	product := func(ta, tb bool, a, b *tensor.Dense) graphtest.Case {
		return graphtest.Case{
			Name:   fmt.Sprintf("product/%t,%t", ta, tb),
			New:    func(i int) G.Op { return newProductOp(fmt.Sprint(i), ta, tb) },
			Inputs: []*tensor.Dense{a, b},
			Want: func(_ G.Op, in []*tensor.Dense) *tensor.Dense {
				at := func(t *tensor.Dense, tr bool, i, j int) float64 {
					if tr {
						i, j = j, i
					}
					return t.Float64s()[i*t.Shape()[1]+j]
				}
				m, k := a.Shape()[0], a.Shape()[1]
				if ta {
					m, k = k, m
				}
				n := b.Shape()[1]
				if tb {
					n = b.Shape()[0]
				}
				out := tensor.New(tensor.WithShape(m, n), tensor.Of(tensor.Float64))
				for i := 0; i < m; i++ {
					for j := 0; j < n; j++ {
						var s float64
						for l := 0; l < k; l++ {
							s += at(in[0], ta, i, l) * at(in[1], tb, l, j)
						}
						out.Float64s()[i*n+j] = s
					}
				}
				return out
			},
		}
	}
	g := matrix(4, 5, 4)
	check(t, []graphtest.Case{
		product(false, true, g, matrix(3, 5, 5)),  // g·Wᵀ
		product(true, false, matrix(4, 3, 6), g),  // xᵀ·g
		product(false, false, g, matrix(5, 2, 7)), // plain
		product(true, true, matrix(5, 4, 8), matrix(3, 5, 9)),
		{
			Name:   "colsum",
			New:    func(i int) G.Op { return &colSumOp{opBase: opBase{id: fmt.Sprintf("colsum%d", i)}} },
			Inputs: []*tensor.Dense{g},
			Want: func(_ G.Op, in []*tensor.Dense) *tensor.Dense {
				out := tensor.New(tensor.WithShape(5), tensor.Of(tensor.Float64))
				for m := 0; m < 4; m++ {
					for j := 0; j < 5; j++ {
						out.Float64s()[j] += in[0].Float64s()[m*5+j]
					}
				}
				return out
			},
		},
	})
}

func sigmoid(v float64) float64 { return 1 / (1 + math.Exp(-v)) }

// TestActivationsConform checks every activation with every surrogate. The
// step's surrogate derivative is, by design, not the derivative of its
// forward pass, which finite differences would see as zero: for it the
// case states the surrogate's formula and the kit holds gorgonia.Grad
// through SymDiff to it.
func TestActivationsConform(t *testing.T) {
	x := matrix(3, 4, 1)
	f := map[Activation]func(float64) float64{
		Identity: func(v float64) float64 { return v },
		Sigmoid:  sigmoid,
		Threshold: func(v float64) float64 {
			if v > 0 {
				return 1
			}
			return 0
		},
		ReLU: func(v float64) float64 { return math.Max(v, 0) },
		Tanh: math.Tanh,
	}
	surrogate := map[Surrogate]func(float64) float64{
		ZeroDerivative:     func(float64) float64 { return 0 },
		IdentityDerivative: func(float64) float64 { return 1 },
		SigmoidDerivative:  func(v float64) float64 { return sigmoid(v) * (1 - sigmoid(v)) },
	}
	var cases []graphtest.Case
	for _, act := range []Activation{Identity, Sigmoid, Threshold, ReLU, Tanh} {
		for _, s := range []Surrogate{ZeroDerivative, IdentityDerivative, SigmoidDerivative} {
			c := graphtest.Case{
				Name:   fmt.Sprintf("%v/%v", act, s),
				New:    func(i int) G.Op { return must[*ActivationOp](t)(NewActivationOp(fmt.Sprint(i), act, s)) },
				Inputs: []*tensor.Dense{x},
				Want: func(_ G.Op, in []*tensor.Dense) *tensor.Dense {
					out := like(in[0])
					for i, v := range in[0].Float64s() {
						out.Float64s()[i] = f[act](v)
					}
					return out
				},
			}
			if act == Threshold {
				c.WantGrad = func(_ G.Op, in []*tensor.Dense, up *tensor.Dense) []*tensor.Dense {
					d := like(in[0])
					for i, v := range in[0].Float64s() {
						d.Float64s()[i] = up.Float64s()[i] * surrogate[s](v)
					}
					return []*tensor.Dense{d}
				}
			}
			cases = append(cases, c)
		}
	}
	check(t, cases)
}

// TestSurrogateIsNotZero makes sure the surrogate cases above test
// something: the identity and sigmoid surrogates give gradients that the
// zero derivative does not, of the size their formulas say.
func TestSurrogateIsNotZero(t *testing.T) {
	x := matrix(2, 3, 5)
	for _, c := range []struct {
		s        Surrogate
		min, max float64 // bounds of |∂/∂x| for inputs with |x| in [0.3, 3.3]
	}{
		{ZeroDerivative, 0, 0},
		{IdentityDerivative, 1, 1},
		{SigmoidDerivative, sigmoid(3.3) * (1 - sigmoid(3.3)), 0.25},
	} {
		g := G.NewGraph()
		xn := G.NewMatrix(g, tensor.Float64, G.WithShape(2, 3), G.WithName("x"), G.WithValue(x.Clone()))
		y, err := G.ApplyOp(must[*ActivationOp](t)(NewActivationOp("a", Threshold, c.s)), xn)
		if err != nil {
			t.Fatal(err)
		}
		sum, err := G.Sum(y)
		if err != nil {
			t.Fatal(err)
		}
		grads, err := G.Grad(sum, xn)
		if err != nil {
			t.Fatal(err)
		}
		p, err := NewProgram(grads[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Run(); err != nil {
			t.Fatal(err)
		}
		d, err := p.Dense(grads[0])
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range d.Float64s() {
			if a := math.Abs(v); a < c.min-1e-15 || a > c.max+1e-15 {
				t.Errorf("%v: ∂/∂x[%d] = %v, want a magnitude in [%v, %v]", c.s, i, v, c.min, c.max)
			}
		}
	}
}

// TestNoiseConforms checks the noise op, on and off, for both laws and with
// copies. At a fixed step the op draws the same noise on every call, so it
// is a deterministic function of its input and finite differences apply.
// The expected draw comes from score.Drawer directly.
func TestNoiseConforms(t *testing.T) {
	const seed, step = 42, 3
	z := matrix(4, 3, 1)
	var cases []graphtest.Case
	for _, law := range []score.Law{score.Gaussian, score.Laplace} {
		for _, cfg := range []NoiseConfig{
			{Law: law, Scale: 0.7, On: true, Seed: seed},
			{Law: law, Scale: 0.7, On: false, Seed: seed},
			{Law: law, Scale: 1.3, On: true, Seed: seed, Copies: 2, Antithetic: true, Sampler: score.QMC},
			{Law: law, Scale: 0.2, On: true, Seed: seed, Copies: 4},
		} {
			cases = append(cases, graphtest.Case{
				Name: fmt.Sprintf("%v/on=%t/copies=%d/%v/antithetic=%t", law, cfg.On, cfg.Copies, cfg.Sampler, cfg.Antithetic),
				New: func(i int) G.Op {
					op := must[*NoiseOp](t)(NewNoiseOp(i, fmt.Sprintf("site%d", i), cfg)).(*NoiseOp)
					op.SetStep(step)
					return op
				},
				Inputs: []*tensor.Dense{z},
				Want: func(op G.Op, in []*tensor.Dense) *tensor.Dense {
					want := in[0].Clone().(*tensor.Dense)
					if !cfg.On {
						return want
					}
					copies := max(cfg.Copies, 1)
					d, err := score.NewDrawer[float64](score.Noise{Law: cfg.Law, Scale: cfg.Scale, Sampler: cfg.Sampler,
						Antithetic: cfg.Antithetic, Copies: copies, Rows: 4 / copies, Units: 3})
					if err != nil {
						t.Fatal(err)
					}
					r, psi := make([]float64, 12), make([]float64, 12)
					d.Fill(r, psi, seed, step, uint64(op.(*NoiseOp).Site()))
					for i := range r {
						want.Float64s()[i] += r[i]
					}
					return want
				},
			})
		}
	}
	check(t, cases)
}

func TestTileAndSumCopiesConform(t *testing.T) {
	z := matrix(4, 3, 1)
	check(t, []graphtest.Case{
		{
			Name:   "tile",
			New:    func(i int) G.Op { return must[*TileOp](t)(NewTileOp(i, 3)) },
			Inputs: []*tensor.Dense{z},
			Want: func(_ G.Op, in []*tensor.Dense) *tensor.Dense {
				out := tensor.New(tensor.WithShape(12, 3), tensor.Of(tensor.Float64))
				for c := 0; c < 3; c++ {
					for m := 0; m < 4; m++ {
						for j := 0; j < 3; j++ {
							out.Float64s()[(c*4+m)*3+j] = in[0].Float64s()[m*3+j]
						}
					}
				}
				return out
			},
		},
		{
			Name:   "sum-copies",
			New:    func(i int) G.Op { return must[*SumCopiesOp](t)(NewSumCopiesOp(i, 2)) },
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
	})
}

// xent is (Σy)·logsumexp(z) − Σ y·z, the log-sum-exp shifted by the row's
// maximum.
func xent(z, y []float64) float64 {
	mx := math.Inf(-1)
	for _, v := range z {
		mx = math.Max(mx, v)
	}
	var s, sy, syz float64
	for c, v := range z {
		s += math.Exp(v - mx)
		sy += y[c]
		syz += y[c] * v
	}
	return sy*(mx+math.Log(s)) - syz
}

// mapRows applies f to each row of a and b and returns the results as a
// vector.
func mapRows(a, b *tensor.Dense, f func(x, y []float64) float64) *tensor.Dense {
	rows, cols := a.Shape()[0], a.Shape()[1]
	out := tensor.New(tensor.WithShape(rows), tensor.Of(tensor.Float64))
	for m := 0; m < rows; m++ {
		out.Float64s()[m] = f(a.Float64s()[m*cols:(m+1)*cols], b.Float64s()[m*cols:(m+1)*cols])
	}
	return out
}

func TestLossesConform(t *testing.T) {
	z, y := matrix(4, 3, 1), oneHot(4, 3, 2)
	// Soft targets: the cross-entropy's Σy factor matters.
	soft := tensor.New(tensor.WithShape(4, 3), tensor.WithBacking([]float64{0.2, 0.5, 0.3, 1, 0, 0, 0.1, 0.1, 0.1, 0, 2, 0}))
	// Huge logits: a softmax that does not subtract each row's own maximum
	// overflows here (as Gorgonia's does). The losses are O(1000), so the
	// rounding error of a difference quotient is ε·1000/h: a step of 1e-4
	// keeps it near 1e-9, while the truncation error h²·f''' stays below
	// 1e-8 (the softmax is saturated, its derivatives O(1)).
	big := tensor.New(tensor.WithShape(3, 3), tensor.WithBacking([]float64{1000, 0, -5, -800, -900, -1000, 0, 1000, 999}))
	bigY := tensor.New(tensor.WithShape(3, 3), tensor.WithBacking([]float64{0, 1, 0, 1, 0, 0, 0, 0, 1}))
	loss := func(name string, kind LossKind, z, y *tensor.Dense, step float64, want func(x, y []float64) float64) graphtest.Case {
		return graphtest.Case{
			Name:   name,
			New:    func(i int) G.Op { return must[*LossOp](t)(NewLossOp(kind, i)) },
			Inputs: []*tensor.Dense{z, y},
			Want:   func(_ G.Op, in []*tensor.Dense) *tensor.Dense { return mapRows(in[0], in[1], want) },
			Step:   step,
		}
	}
	squared := func(z, y []float64) float64 {
		var s float64
		for c := range z {
			s += (z[c] - y[c]) * (z[c] - y[c])
		}
		return s / 2
	}
	zeroOne := func(z, y []float64) float64 {
		best, label := 0, 0
		for c := range z {
			if z[c] > z[best] {
				best = c
			}
			if y[c] > y[label] {
				label = c
			}
		}
		if best != label {
			return 1
		}
		return 0
	}
	check(t, []graphtest.Case{
		loss("cross-entropy", CrossEntropy, z, y, 0, xent),
		loss("cross-entropy/soft", CrossEntropy, z, soft, 0, xent),
		loss("cross-entropy/huge", CrossEntropy, big, bigY, 1e-4, xent),
		loss("squared", Squared, z, y, 0, squared),
		loss("squared/soft", Squared, z, soft, 0, squared),
		// Differentiable in nothing: the kit requires gorgonia.Grad to fail.
		loss("zero-one", ZeroOne, z, y, 0, zeroOne),
	})
}

// TestLossGradOpConforms checks the losses' gradient op on its own, against
// the closed forms grad·(Σy·softmax(z) − y) and grad·(z − y).
func TestLossGradOpConforms(t *testing.T) {
	z, y := matrix(3, 4, 5), oneHot(3, 4, 6)
	up := tensor.New(tensor.WithShape(3), tensor.WithBacking([]float64{0.5, -1, 2}))
	var cases []graphtest.Case
	for _, kind := range []LossKind{CrossEntropy, Squared} {
		cases = append(cases, graphtest.Case{
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
						o[m*4+c] = in[2].Float64s()[m] * d
					}
				}
				return out
			},
		})
	}
	check(t, cases)
}

// TestStableCrossEntropy: logits far apart in size give the exact losses,
// worked out by hand, where a softmax without a per-row shift gives -Inf or
// NaN.
func TestStableCrossEntropy(t *testing.T) {
	op, _ := NewLossOp(CrossEntropy, 0)
	z := tensor.New(tensor.WithShape(3, 3), tensor.WithBacking([]float64{0, 0, 0, 1000, 0, 0, -800, -900, -1000}))
	y := tensor.New(tensor.WithShape(3, 3), tensor.WithBacking([]float64{1, 0, 0, 0, 1, 0, 0, 0, 1}))
	v, err := op.Do(z, y)
	if err != nil {
		t.Fatal(err)
	}
	// log 3; 1000 + log(1 + 2e^-1000) = 1000; −1000 − (−800) ... = 200 + log(1 + e^-100 + e^-200).
	want := []float64{math.Log(3), 1000, 200}
	for i, l := range v.(*tensor.Dense).Float64s() {
		if math.Abs(l-want[i]) > 1e-12*math.Max(1, want[i]) {
			t.Errorf("row %d: loss %v, want %v", i, l, want[i])
		}
	}
}

func TestMeanConforms(t *testing.T) {
	check(t, []graphtest.Case{{
		Name:   "mean",
		New:    func(i int) G.Op { return NewMeanOp(fmt.Sprint(i)) },
		Inputs: []*tensor.Dense{vector(7, 1)},
		Want: func(_ G.Op, in []*tensor.Dense) *tensor.Dense {
			var s float64
			for _, v := range in[0].Float64s() {
				s += v
			}
			return tensor.New(tensor.FromScalar(s / 7))
		},
	}})
}

// im2colLoop is the patch matrix by its definition: row (b·OH + oy)·OW + ox,
// column (ky·k + kx)·C + c holds input pixel (oy·s − p + ky, ox·s − p + kx)
// channel c of image b, or 0 in the padding.
func im2colLoop(x *tensor.Dense, g conv.Conv) *tensor.Dense {
	in, k, s, p := g.In, g.Kernel, g.Stride, g.Pad
	oh, ow := (in.H+2*p-k)/s+1, (in.W+2*p-k)/s+1
	batch := x.Shape()[0]
	width := k * k * in.C
	out := tensor.New(tensor.WithShape(batch*oh*ow, width), tensor.Of(tensor.Float64))
	for b := 0; b < batch; b++ {
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				row := (b*oh+oy)*ow + ox
				for ky := 0; ky < k; ky++ {
					for kx := 0; kx < k; kx++ {
						iy, ix := oy*s-p+ky, ox*s-p+kx
						if iy < 0 || iy >= in.H || ix < 0 || ix >= in.W {
							continue
						}
						for c := 0; c < in.C; c++ {
							out.Float64s()[row*width+(ky*k+kx)*in.C+c] = x.Float64s()[b*in.Len()+(iy*in.W+ix)*in.C+c]
						}
					}
				}
			}
		}
	}
	return out
}

// TestIm2colConforms checks im2col (and, through its gradient, col2im) for
// geometries with one and three channels, strides 1 and 2, padding 0 and
// 1, non-square images, a 1×1 kernel, and a batch that the parallel loop
// cuts into several chunks.
func TestIm2colConforms(t *testing.T) {
	geoms := []struct {
		batch int
		g     conv.Conv
	}{
		{2, conv.Conv{In: conv.Image{C: 1, H: 5, W: 5}, Filters: 1, Kernel: 3, Stride: 1}},
		{2, conv.Conv{In: conv.Image{C: 3, H: 5, W: 4}, Filters: 1, Kernel: 3, Stride: 2, Pad: 1}},
		{3, conv.Conv{In: conv.Image{C: 2, H: 6, W: 6}, Filters: 1, Kernel: 2, Stride: 2}},
		{2, conv.Conv{In: conv.Image{C: 3, H: 4, W: 4}, Filters: 1, Kernel: 3, Stride: 1, Pad: 1}},
		{1, conv.Conv{In: conv.Image{C: 3, H: 3, W: 3}, Filters: 1, Kernel: 1, Stride: 1}},
		{17, conv.Conv{In: conv.Image{C: 1, H: 4, W: 4}, Filters: 1, Kernel: 3, Stride: 1, Pad: 1}},
	}
	var cases []graphtest.Case
	for gi, c := range geoms {
		cases = append(cases, graphtest.Case{
			Name:   fmt.Sprintf("im2col/%d×%v/k%d,s%d,p%d", c.batch, c.g.In, c.g.Kernel, c.g.Stride, c.g.Pad),
			New:    func(i int) G.Op { return must[*im2colOp](t)(newIm2colOp(fmt.Sprint(i), c.g)) },
			Inputs: []*tensor.Dense{matrix(c.batch, c.g.In.Len(), uint64(gi))},
			Want:   func(_ G.Op, in []*tensor.Dense) *tensor.Dense { return im2colLoop(in[0], c.g) },
		})
	}
	check(t, cases)
}

// poolLoop pools each window of each channel by its definition.
func poolLoop(x *tensor.Dense, g conv.Pool) *tensor.Dense {
	in, s := g.In, g.Size
	oh, ow := in.H/s, in.W/s
	batch := x.Shape()[0]
	out := tensor.New(tensor.WithShape(batch, oh*ow*in.C), tensor.Of(tensor.Float64))
	for b := 0; b < batch; b++ {
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				for c := 0; c < in.C; c++ {
					acc := math.Inf(-1)
					if g.Kind == conv.Avg {
						acc = 0
					}
					for ky := 0; ky < s; ky++ {
						for kx := 0; kx < s; kx++ {
							v := x.Float64s()[b*in.Len()+((oy*s+ky)*in.W+ox*s+kx)*in.C+c]
							if g.Kind == conv.Avg {
								acc += v / float64(s*s)
							} else {
								acc = math.Max(acc, v)
							}
						}
					}
					out.Float64s()[b*oh*ow*in.C+(oy*ow+ox)*in.C+c] = acc
				}
			}
		}
	}
	return out
}

// TestPoolConforms checks max and average pooling, and through their
// gradients the backward passes, on inputs without ties (see distinct),
// including windows that drop trailing rows and columns and a batch the
// parallel loop cuts into several chunks (the recorded maxima of later
// chunks are shifted to whole-batch positions).
func TestPoolConforms(t *testing.T) {
	geoms := []struct {
		batch int
		in    conv.Image
		size  int
	}{
		{3, conv.Image{C: 2, H: 4, W: 4}, 2},
		{2, conv.Image{C: 3, H: 5, W: 5}, 2},
		{2, conv.Image{C: 1, H: 6, W: 7}, 3},
		{17, conv.Image{C: 2, H: 4, W: 4}, 2},
	}
	var cases []graphtest.Case
	for gi, c := range geoms {
		for _, kind := range []conv.PoolKind{conv.Max, conv.Avg} {
			g := conv.Pool{In: c.in, Size: c.size, Kind: kind}
			cases = append(cases, graphtest.Case{
				Name:   fmt.Sprintf("pool/%v/%d×%v/%d", kind, c.batch, c.in, c.size),
				New:    func(i int) G.Op { return must[*poolOp](t)(newPoolOp(fmt.Sprint(i), g)) },
				Inputs: []*tensor.Dense{distinct(c.batch, c.in.Len(), uint64(gi))},
				Want:   func(_ G.Op, in []*tensor.Dense) *tensor.Dense { return poolLoop(in[0], g) },
			})
		}
	}
	check(t, cases)
}

func TestReshapeConforms(t *testing.T) {
	x := matrix(6, 4, 1)
	var cases []graphtest.Case
	for _, cols := range []int{8, 3, 24, 4} {
		cases = append(cases, graphtest.Case{
			Name:   fmt.Sprintf("reshape/%d", cols),
			New:    func(i int) G.Op { return NewReshapeOp(fmt.Sprint(i), cols) },
			Inputs: []*tensor.Dense{x},
			Want: func(_ G.Op, in []*tensor.Dense) *tensor.Dense {
				return tensor.New(tensor.WithShape(24/cols, cols), tensor.WithBacking(append([]float64(nil), in[0].Float64s()...)))
			},
		})
	}
	check(t, cases)
}

// TestOpErrors: bad settings and bad inputs are errors, never panics.
func TestOpErrors(t *testing.T) {
	m23 := tensor.New(tensor.WithShape(2, 3), tensor.Of(tensor.Float64))
	f32 := tensor.New(tensor.WithShape(3, 4), tensor.Of(tensor.Float32))
	ints := tensor.New(tensor.WithShape(2, 3), tensor.Of(tensor.Int))
	noise := func(cfg NoiseConfig) error { _, err := NewNoiseOp(0, "layer1", cfg); return err }
	gauss := NoiseConfig{Law: score.Gaussian, Scale: 1, On: true}
	do := func(op G.Op, vals ...G.Value) func() error {
		return func() error { _, err := op.Do(vals...); return err }
	}
	infer := func(op G.Op, shapes ...G.DimSizer) func() error {
		return func() error { _, err := op.InferShape(shapes...); return err }
	}
	noiseOp := func(cfg NoiseConfig) *NoiseOp {
		op, err := NewNoiseOp(0, "layer1", cfg)
		if err != nil {
			t.Fatal(err)
		}
		return op
	}
	loss, _ := NewLossOp(CrossEntropy, 0)
	img := conv.Image{C: 1, H: 2, W: 2}
	im, err := newIm2colOp("c", conv.Conv{In: img, Filters: 1, Kernel: 2, Stride: 1})
	if err != nil {
		t.Fatal(err)
	}
	pool, err := newPoolOp("p", conv.Pool{In: img, Size: 2})
	if err != nil {
		t.Fatal(err)
	}
	sum, _ := NewSumCopiesOp(0, 2)
	cases := []struct {
		name string
		run  func() error
		want string
	}{
		{"zero scale", func() error { c := gauss; c.Scale = 0; return noise(c) }, "noise site layer1: scale must be positive and finite, got 0"},
		{"negative scale", func() error { c := gauss; c.Scale = -1; return noise(c) }, "noise site layer1: scale must be positive and finite, got -1"},
		{"NaN scale", func() error { c := gauss; c.Scale = math.NaN(); return noise(c) }, "scale must be positive and finite, got NaN"},
		{"infinite scale", func() error { c := gauss; c.Scale = math.Inf(1); return noise(c) }, "scale must be positive and finite, got +Inf"},
		{"unknown law", func() error { c := gauss; c.Law = score.Law(7); return noise(c) }, "noise site layer1: score: unknown law Law(7)"},
		{"odd antithetic copies", func() error { c := gauss; c.Copies, c.Antithetic = 3, true; return noise(c) },
			"noise site layer1: score: antithetic pairs need an even number of copies, got 3"},
		{"noise on a vector", infer(noiseOp(gauss), tensor.Shape{3}), "noise site layer1: input 0: want 2 dimensions, got shape (3)"},
		{"noise rows and copies", infer(noiseOp(NoiseConfig{Law: score.Laplace, Scale: 1, Copies: 2}), tensor.Shape{5, 2}),
			"noise site layer1: 5 rows do not split into 2 copies"},
		{"noise of ints", do(noiseOp(gauss), ints), "noise site layer1: unsupported dtype int"},
		{"noise of a scalar", do(noiseOp(gauss), G.NewF64(1)), "noise site layer1: input 0: want a 2-dimensional tensor, got *gorgonia.F64"},
		{"noise of two inputs", do(noiseOp(gauss), m23, m23), "noise site layer1: want 1 inputs, got 2"},
		{"unknown loss", func() error { _, err := NewLossOp(LossKind(7), 0); return err }, "unknown loss kind LossKind(7)"},
		{"loss shapes differ", infer(loss, tensor.Shape{2, 3}, tensor.Shape{2, 4}),
			"cross-entropy loss: logits (2, 3) and targets (2, 4) differ in shape"},
		{"loss dtypes differ", do(loss, m23, tensor.New(tensor.WithShape(2, 3), tensor.Of(tensor.Float32))),
			"cross-entropy: want two matrices of one shape and dtype"},
		{"loss of ints", do(loss, ints, ints), "cross-entropy loss: unsupported dtype int"},
		{"no tile copies", func() error { _, err := NewTileOp(0, 0); return err }, "tile: copies must be at least 1, got 0"},
		{"no summed copies", func() error { _, err := NewSumCopiesOp(0, -1); return err }, "sum of copies: copies must be at least 1, got -1"},
		{"rows and summed copies", infer(sum, tensor.Shape{5, 2}), "sum of copies: 5 rows do not split into 2 copies"},
		{"linear misfit", infer(NewLinearOp("l", false), tensor.Shape{2, 3}, tensor.Shape{4, 5}),
			"glr.Linear{l}: input (2, 3) does not fit weight (4, 5)"},
		{"linear bias misfit", infer(NewLinearOp("l", true), tensor.Shape{2, 3}, tensor.Shape{3, 5}, tensor.Shape{4}),
			"glr.Linear{l}: bias (4) does not fit weight (3, 5)"},
		{"linear dtypes differ", do(NewLinearOp("l", false), m23, f32), "glr.Linear{l}: input 1 has dtype float32, want float64"},
		{"linear of ints", do(NewLinearOp("l", false), ints, tensor.New(tensor.WithShape(3, 2), tensor.Of(tensor.Int))),
			"glr.Linear{l}: unsupported dtype int"},
		{"unknown activation", func() error { _, err := NewActivationOp("a", Activation(9), ZeroDerivative); return err },
			"activation a: unknown activation 9"},
		{"unknown surrogate", func() error { _, err := NewActivationOp("a", Threshold, Surrogate(5)); return err },
			"activation a: unknown surrogate 5"},
		{"activation of ints", do(must[*ActivationOp](t)(NewActivationOp("a", Tanh, ZeroDerivative)), ints),
			"unsupported dtype int"},
		{"padding as large as the kernel", func() error {
			_, err := newIm2colOp("c", conv.Conv{In: img, Filters: 1, Kernel: 2, Stride: 1, Pad: 2})
			return err
		}, "im2col c: conv: padding 2 is not less than the kernel 2"},
		{"im2col rows of other images", infer(im, tensor.Shape{3, 5}), "rows of 5 values are not 1×2×2 images"},
		{"im2col rows of other images, run", do(im, m23), "rows of 3 values are not 1×2×2 images"},
		{"pool larger than the image", func() error { _, err := newPoolOp("p", conv.Pool{In: img, Size: 3}); return err },
			"pool p: conv: pool size 3 is larger than the 2×2 input"},
		{"pool rows of other images", do(pool, m23), "rows of 3 values are not 1×2×2 images"},
		{"reshape misfit", infer(NewReshapeOp("r", 5), tensor.Shape{2, 3}), "glr.Reshape{r,5}: (2, 3) does not reshape into rows of 5"},
		{"reshape misfit, run", do(NewReshapeOp("r", 4), m23), "glr.Reshape{r,4}: (2, 3) does not reshape into rows of 4"},
		{"mean of a matrix", infer(NewMeanOp("m"), tensor.Shape{2, 2}), "glr.Mean{m}: input 0: want 1 dimensions, got shape (2, 2)"},
		{"mean of ints", do(NewMeanOp("m"), tensor.New(tensor.WithShape(3), tensor.Of(tensor.Int))), "glr.Mean{m}: unsupported dtype int"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("panicked: %v", r)
					}
				}()
				err = c.run()
			}()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

// TestParse: every name parses to the value whose String it is, and an
// unknown name is an error that lists every accepted name.
func TestParse(t *testing.T) {
	type named interface{ String() string }
	cases := []struct {
		what  string
		parse func(string) (named, error)
		names []string
	}{
		{"activation", func(s string) (named, error) { return ParseActivation(s) }, []string{"sigmoid", "threshold", "relu", "tanh"}},
		{"surrogate", func(s string) (named, error) { return ParseSurrogate(s) }, []string{"zero", "identity", "sigmoid"}},
		{"loss", func(s string) (named, error) { return ParseLossKind(s) }, []string{"cross-entropy", "zero-one", "squared"}},
		{"pool kind", func(s string) (named, error) { return ParsePoolKind(s) }, []string{"max", "avg"}},
	}
	for _, c := range cases {
		for _, name := range c.names {
			v, err := c.parse(name)
			if err != nil || v.String() != name {
				t.Errorf("%s %q: got %v, %v", c.what, name, v, err)
			}
		}
		_, err := c.parse("nonsense")
		if want := fmt.Sprintf("unknown %s %q (want %s)", c.what, "nonsense", strings.Join(c.names, " | ")); err == nil || err.Error() != want {
			t.Errorf("%s: err = %v, want %q", c.what, err, want)
		}
	}
	for _, c := range []struct{ got, want string }{
		{Activation(9).String(), "Activation(9)"}, {Identity.String(), "identity"},
		{Surrogate(7).String(), "Surrogate(7)"}, {LossKind(5).String(), "LossKind(5)"},
	} {
		if c.got != c.want {
			t.Errorf("String = %q, want %q", c.got, c.want)
		}
	}
	if CrossEntropy.Differentiable() != true || Squared.Differentiable() != true || ZeroOne.Differentiable() != false {
		t.Error("Differentiable: only the zero-one loss has no derivative")
	}
}

// TestScalar reads every kind of scalar value and refuses the others.
func TestScalar(t *testing.T) {
	f64, f32 := G.F64(1.5), G.F32(-2)
	for _, c := range []struct {
		v    G.Value
		want float64
	}{
		{&f64, 1.5}, {&f32, -2},
		{tensor.New(tensor.FromScalar(3.25)), 3.25},
		{tensor.New(tensor.FromScalar(float32(0.5))), 0.5},
		{tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{7})), 7},
		{tensor.New(tensor.WithShape(1, 1), tensor.WithBacking([]float32{8})), 8},
	} {
		if got, err := Scalar(c.v); err != nil || got != c.want {
			t.Errorf("Scalar(%v) = %v, %v; want %v", c.v, got, err, c.want)
		}
	}
	if _, err := Scalar(tensor.New(tensor.WithShape(2), tensor.Of(tensor.Float64))); err == nil {
		t.Error("a vector of two values read as a scalar")
	}
}
