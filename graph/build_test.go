package graph_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/glr-project/glr/graph"
	"github.com/glr-project/glr/layers"
	"github.com/glr-project/glr/score"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func paramList(net *graph.Network) string {
	var s []string
	for _, p := range net.Params {
		s = append(s, fmt.Sprintf("%s%v", p.Name(), p.Shape()))
	}
	return strings.Join(s, " ")
}

// lenet is a LeNet-like network on 1×28×28 images: conv 6@5 with 2×2
// pooling, conv 16@5 with 2×2 pooling (16×4×4 = 256 values), then dense
// 120, 84 and 10 logits.
func lenet(t testing.TB, batch int) graph.Spec {
	t.Helper()
	img := graph.Image{C: 1, H: 28, W: 28}
	ls, err := layers.CNN(img, []layers.Conv{{Filters: 6, Kernel: 5, Pool: 2}, {Filters: 16, Kernel: 5, Pool: 2}},
		[]int{120, 84}, graph.ReLU, layers.BiasAll, layers.Glorot, 10)
	if err != nil {
		t.Fatal(err)
	}
	return graph.Spec{Inputs: img.Len(), Classes: 10, Batch: batch, Layers: ls, Scales: []float64{1}, Seed: 1}
}

func TestBuildParams(t *testing.T) {
	cases := []struct {
		name string
		spec graph.Spec
		want string
	}{
		{"mlp/input bias", mlpSpec(t, graph.Sigmoid, layers.BiasInput), "layer1/W(6, 4) layer2/W(4, 3) layer3/W(3, 3)"},
		{"mlp/all", mlpSpec(t, graph.Sigmoid, layers.BiasAll),
			"layer1/W(5, 4) layer1/b(4) layer2/W(4, 3) layer2/b(3) layer3/W(3, 3) layer3/b(3)"},
		{"mlp/none", mlpSpec(t, graph.Tanh, layers.BiasNone), "layer1/W(5, 4) layer2/W(4, 3) layer3/W(3, 3)"},
		{"lenet", lenet(t, 2), "layer1/K(25, 6) layer1/b(6) layer2/K(150, 16) layer2/b(16) " +
			"layer3/W(256, 120) layer3/b(120) layer4/W(120, 84) layer4/b(84) layer5/W(84, 10) layer5/b(10)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			net := build(t, c.spec)
			if got := paramList(net); got != c.want {
				t.Errorf("params %s\nwant   %s", got, c.want)
			}
			if len(net.Sites) != len(c.spec.Layers) {
				t.Errorf("%d noise sites for %d layers", len(net.Sites), len(c.spec.Layers))
			}
			for i, s := range net.Sites {
				if s.Name != fmt.Sprintf("layer%d", i+1) || s.Index != i || s.Op.Site() != i || s.Op.Name() != s.Name {
					t.Errorf("site %d is %q (index %d, op site %d %q)", i, s.Name, s.Index, s.Op.Site(), s.Op.Name())
				}
			}
		})
	}
}

// TestLeNetSites checks each site's rows, group and declared input on the
// LeNet-like network: a convolution has one noisy row per output position
// (24·24, then 8·8), grouped per image; a dense layer one per image.
func TestLeNetSites(t *testing.T) {
	const batch = 2
	net := build(t, lenet(t, batch))
	want := []struct {
		rows, group int
		input       string // the shape of X, which feeds the pre-activation linearly
	}{
		{batch * 24 * 24, 24 * 24, "(1152, 25)"},
		{batch * 8 * 8, 8 * 8, "(128, 150)"},
		{batch, 1, "(2, 256)"},
		{batch, 1, "(2, 120)"},
		{batch, 1, "(2, 84)"},
	}
	for i, s := range net.Sites {
		if s.Rows != want[i].rows || s.Group != want[i].group || s.Tiled != 1 || fmt.Sprint(s.Input.Shape()) != want[i].input {
			t.Errorf("site %s: rows %d group %d tiled %d input %v, want %d, %d, 1, %s",
				s.Name, s.Rows, s.Group, s.Tiled, s.Input.Shape(), want[i].rows, want[i].group, want[i].input)
		}
	}
	if fmt.Sprint(net.Logits.Shape()) != "(2, 10)" {
		t.Errorf("logits %v, want (2, 10)", net.Logits.Shape())
	}
	feed(t, net, 1)
	p := program(t, net, net.Losses)
	run(t, p)
	losses := make([]float64, batch)
	if err := net.ReadLosses(p, losses); err != nil {
		t.Fatal(err)
	}
	for i, l := range losses {
		if !(l > 0) || math.IsInf(l, 0) {
			t.Errorf("loss %d is %v", i, l)
		}
	}
}

// TestInputBias: the constant-1 column is written when the network is built,
// and feeding batches writes the features only, never that column.
func TestInputBias(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		t.Run(dt.String(), func(t *testing.T) {
			s := mlpSpec(t, graph.ReLU, layers.BiasInput)
			s.Dtype = dt
			net := build(t, s)
			const width = mlpInputs + 1
			if sh := net.Input.Shape(); sh[0] != 4 || sh[1] != width {
				t.Fatalf("input shape %v, want (4, %d)", sh, width)
			}
			check := func(when string, ex *graph.Rows) {
				x := floats(t, net.Input.Value())
				for i := 0; i < 4; i++ {
					if x[i*width+mlpInputs] != 1 {
						t.Errorf("%s: the bias column of row %d is %v", when, i, x[i*width+mlpInputs])
					}
					for j := 0; ex != nil && j < mlpInputs; j++ {
						if want := float64(float32(ex.X[i*mlpInputs+j])); dt == tensor.Float32 && x[i*width+j] != want ||
							dt == tensor.Float64 && x[i*width+j] != ex.X[i*mlpInputs+j] {
							t.Errorf("%s: feature %d of row %d is %v, want %v", when, j, i, x[i*width+j], ex.X[i*mlpInputs+j])
						}
					}
				}
			}
			check("built", nil)
			for seed := uint64(1); seed <= 3; seed++ {
				ex := feed(t, net, seed)
				check(fmt.Sprintf("fed batch %d", seed), &ex)
			}
		})
	}
}

// TestCopies: the copies are made at the first site by tiling its
// pre-activation, and every later site and the logits have Batch·Copies
// rows; each copy gets the batch's targets.
func TestCopies(t *testing.T) {
	const copies = 3
	cases := []struct {
		name   string
		spec   graph.Spec
		groups []int
	}{
		{"mlp", mlpSpec(t, graph.Tanh, layers.BiasInput), []int{1, 1, 1}},
		// 2×6×6 images: 6×6 positions at the first conv, 2×2 at the second.
		{"cnn", cnnSpec(t, graph.ReLU, graph.AvgPool, layers.BiasAll), []int{36, 4, 1, 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.spec.Copies = copies
			net := build(t, c.spec)
			b := net.Batch()
			if net.Rows() != b*copies || net.Copies() != copies || net.Logits.Shape()[0] != b*copies {
				t.Fatalf("rows %d, copies %d, logits %v; want %d rows", net.Rows(), net.Copies(), net.Logits.Shape(), b*copies)
			}
			for i, s := range net.Sites {
				tiled, inRows := 1, b*copies*c.groups[i]
				if i == 0 {
					tiled, inRows = copies, b*c.groups[i]
				}
				if s.Tiled != tiled || s.Group != c.groups[i] || s.Rows != b*copies*c.groups[i] ||
					s.Input.Shape()[0] != inRows || s.Op.Config().Copies != copies {
					t.Errorf("site %s: tiled %d group %d rows %d input rows %d copies %d; want %d, %d, %d, %d, %d", s.Name,
						s.Tiled, s.Group, s.Rows, s.Input.Shape()[0], s.Op.Config().Copies, tiled, c.groups[i], b*copies*c.groups[i], inRows, copies)
				}
			}
			ex := feed(t, net, 5)
			net.SetStep(1)
			p := program(t, net, net.Losses)
			run(t, p)
			// The first site's pre-activation v − r is the same in every copy.
			s := net.Sites[0]
			v, r := value(t, p, s.Output), floats(t, s.Op.Noise())
			per := len(v) / copies
			for i := 0; i < per; i++ {
				for k := 1; k < copies; k++ {
					if a, b := v[i]-r[i], v[k*per+i]-r[k*per+i]; math.Abs(a-b) > 1e-12*math.Max(1, math.Abs(a)) {
						t.Fatalf("copy %d of pre-activation value %d is %v, copy 0 is %v", k, i, b, a)
					}
				}
			}
			y := floats(t, net.Targets.Value())
			for row := 0; row < b*copies; row++ {
				for cl := 0; cl < classes; cl++ {
					want := 0.0
					if ex.Labels[row%b] == cl {
						want = 1
					}
					if y[row*classes+cl] != want {
						t.Fatalf("target %d of row %d is %v, want %v", cl, row, y[row*classes+cl], want)
					}
				}
			}
		})
	}
}

// TestOnlySite: with noise at one site alone, the copies are made there,
// the sites below it run once per example without noise, and the sites
// above it carry the copies without noise.
func TestOnlySite(t *testing.T) {
	for _, copies := range []int{1, 2} {
		t.Run(fmt.Sprint("copies=", copies), func(t *testing.T) {
			s := mlpSpec(t, graph.Sigmoid, layers.BiasAll)
			s.Copies, s.OnlySite = copies, 2
			net := build(t, s)
			want := []struct {
				rows, tiled, copies int
				on                  bool
			}{{4, 1, 1, false}, {4 * copies, copies, copies, true}, {4 * copies, 1, copies, false}}
			for i, st := range net.Sites {
				cfg := st.Op.Config()
				if st.Rows != want[i].rows || st.Tiled != want[i].tiled || cfg.Copies != want[i].copies || cfg.On != want[i].on {
					t.Errorf("site %s: rows %d tiled %d copies %d on %t, want %+v", st.Name, st.Rows, st.Tiled, cfg.Copies, cfg.On, want[i])
				}
			}
			feed(t, net, 2)
			net.SetStep(4)
			run(t, program(t, net, net.Losses))
			for i, st := range net.Sites {
				for j, r := range floats(t, st.Op.Noise()) {
					if (r != 0) != want[i].on {
						t.Fatalf("site %s: noise value %d is %v", st.Name, j, r)
					}
				}
			}
		})
	}
}

// TestQuietSite: with one site quiet, that site records no noise and every
// other site draws exactly the noise of the network with noise everywhere,
// row for row, whatever the sampler, so that the two passes' losses differ
// by the quiet site's noise alone (the site-clean baseline).
func TestQuietSite(t *testing.T) {
	for _, mode := range []struct {
		name       string
		sampler    score.Sampler
		antithetic bool
	}{{"iid", score.IID, false}, {"qmc", score.QMC, false}, {"antithetic", score.IID, true}} {
		for quiet := 1; quiet <= 3; quiet++ {
			t.Run(fmt.Sprintf("%s/site %d", mode.name, quiet), func(t *testing.T) {
				s := mlpSpec(t, graph.Sigmoid, layers.BiasAll)
				s.Copies, s.Sampler, s.Antithetic = 4, mode.sampler, mode.antithetic
				full := build(t, s)
				s.QuietSite = quiet
				q := build(t, s)
				for _, net := range []*graph.Network{full, q} {
					feed(t, net, 2)
					net.SetStep(7)
					run(t, program(t, net, net.Losses))
				}
				for i, st := range q.Sites {
					got, want := floats(t, st.Op.Noise()), floats(t, full.Sites[i].Op.Noise())
					if len(got) != len(want) {
						t.Fatalf("site %s: %d noise values, want %d", st.Name, len(got), len(want))
					}
					nonzero := 0
					for j := range got {
						if want[j] != 0 {
							nonzero++
						}
						if i+1 == quiet && got[j] != 0 {
							t.Fatalf("quiet site %s: noise value %d is %v", st.Name, j, got[j])
						}
						if i+1 != quiet && got[j] != want[j] {
							t.Fatalf("site %s: noise value %d is %v, the all-site network drew %v", st.Name, j, got[j], want[j])
						}
					}
					if nonzero == 0 {
						t.Fatalf("site %s of the all-site network drew no noise", st.Name)
					}
				}
			})
		}
	}
}

// mlpForward computes the logits of a dense network by its definition:
// h ← act(h·W (+ b) + r) layer by layer, identity at the output, with r the
// noise each site recorded (all zero with the noise off). It reads the
// parameters in the order Build creates them.
func mlpForward(net *graph.Network, x []float64, noise [][]float64, act func(float64) float64) []float64 {
	spec := net.Spec()
	rows := net.Batch()
	h, width := x, net.Input.Shape()[1]
	p := 0
	for l, s := range net.Sites {
		w := net.Params[p].Value().Data().([]float64)
		p++
		var b []float64
		if s.Bias != nil {
			b = net.Params[p].Value().Data().([]float64)
			p++
		}
		units := s.Weight.Shape()[1]
		// The copies are made at the first site: its input rows repeat.
		out := make([]float64, s.Rows*units)
		for m := 0; m < s.Rows; m++ {
			for j := 0; j < units; j++ {
				v := 0.0
				if b != nil {
					v = b[j]
				}
				for k := 0; k < width; k++ {
					v += h[(m%rows)*width+k] * w[k*units+j]
				}
				v += noise[l][m*units+j]
				if l < len(net.Sites)-1 {
					v = act(v)
				}
				out[m*units+j] = v
			}
		}
		h, width, rows = out, units, s.Rows
	}
	_ = spec
	return h
}

// TestForwardMatchesDirectLoop: the logits of an MLP are those of the
// layer-by-layer formula, with the noise off and with the noise each site
// recorded, for every activation and bias mode and with copies.
func TestForwardMatchesDirectLoop(t *testing.T) {
	acts := map[graph.Activation]func(float64) float64{
		graph.Sigmoid: func(v float64) float64 { return 1 / (1 + math.Exp(-v)) },
		graph.Tanh:    math.Tanh,
		graph.ReLU:    func(v float64) float64 { return math.Max(v, 0) },
		graph.Threshold: func(v float64) float64 {
			if v > 0 {
				return 1
			}
			return 0
		},
	}
	for act, f := range acts {
		for _, bias := range []layers.Bias{layers.BiasInput, layers.BiasAll, layers.BiasNone} {
			for _, mode := range []struct {
				off    bool
				copies int
			}{{true, 1}, {false, 1}, {false, 2}} {
				name := fmt.Sprintf("%v/%v/off=%t/copies=%d", act, bias, mode.off, mode.copies)
				s := mlpSpec(t, act, bias)
				s.NoiseOff, s.Copies = mode.off, mode.copies
				net := build(t, s)
				feed(t, net, 7)
				net.SetStep(2)
				p := program(t, net, net.Logits)
				run(t, p)
				noise := make([][]float64, len(net.Sites))
				for i, st := range net.Sites {
					noise[i] = floats(t, st.Op.Noise())
				}
				want := mlpForward(net, floats(t, net.Input.Value()), noise, f)
				// The program sums the products in another order than the
				// loop: a few roundings of values of size ~1.
				if e := relErr(value(t, p, net.Logits), want); e > 1e-14 {
					t.Errorf("%s: logits differ from the direct loop by %.3g", name, e)
				}
			}
		}
	}
}

// TestNoiseOff: every site's op is off and records zero noise and scores.
func TestNoiseOff(t *testing.T) {
	s := cnnSpec(t, graph.ReLU, graph.MaxPool, layers.BiasAll)
	s.NoiseOff = true
	net := build(t, s)
	feed(t, net, 1)
	run(t, program(t, net, net.Losses))
	for _, st := range net.Sites {
		if st.Op.Config().On {
			t.Errorf("site %s is on", st.Name)
		}
		for _, v := range append(floats(t, st.Op.Noise()), floats(t, st.Op.Score())...) {
			if v != 0 {
				t.Fatalf("site %s recorded %v", st.Name, v)
			}
		}
	}
}

// TestScales: each site's noise op gets its own scale, or the one scale
// given for all; the draws show it, since the Gaussian score is r/σ².
func TestScales(t *testing.T) {
	for _, scales := range [][]float64{{0.1, 0.2, 0.3}, {0.7}} {
		s := mlpSpec(t, graph.Tanh, layers.BiasAll)
		s.Scales = scales
		net := build(t, s)
		feed(t, net, 1)
		net.SetStep(1)
		run(t, program(t, net, net.Losses))
		for i, st := range net.Sites {
			want := scales[min(i, len(scales)-1)]
			if got := st.Op.Config().Scale; got != want {
				t.Errorf("scales %v: site %d has scale %v, want %v", scales, i, got, want)
			}
			r, psi := floats(t, st.Op.Noise()), floats(t, st.Op.Score())
			for j := range r {
				// ψ = z/σ and r = σz: ψ·σ² = r up to two roundings.
				if math.Abs(psi[j]*want*want-r[j]) > 1e-15*math.Abs(r[j]) {
					t.Fatalf("scales %v: site %d: r = %v, ψ = %v: not r/σ² for σ = %v", scales, i, r[j], psi[j], want)
				}
			}
		}
	}
}

// dense is a minimal layer for the error cases: v = x·W + r, no activation.
type dense struct{ units int }

func (l dense) Build(s *graph.Scope, x *G.Node) (*G.Node, error) {
	pre, w, _, err := s.Linear(x, l.units, false, layers.ScaledNormal)
	if err != nil {
		return nil, err
	}
	return s.Noise(pre, x, w, nil)
}

// layerFunc adapts a function to graph.Layer.
type layerFunc func(*graph.Scope, *G.Node) (*G.Node, error)

func (f layerFunc) Build(s *graph.Scope, x *G.Node) (*G.Node, error) { return f(s, x) }

func TestBuildErrors(t *testing.T) {
	none := func(*rand.Rand, int, int, []float64) {}
	twice := layerFunc(func(s *graph.Scope, x *G.Node) (*G.Node, error) {
		if _, err := s.Param("W", 2, 2, none); err != nil {
			return nil, err
		}
		return s.Param("W", 2, 2, none)
	})
	noSite := layerFunc(func(s *graph.Scope, x *G.Node) (*G.Node, error) { return x, nil })
	panics := layerFunc(func(s *graph.Scope, x *G.Node) (*G.Node, error) { panic("layer bug") })
	cases := []struct {
		name   string
		modify func(*graph.Spec)
		want   string
	}{
		{"no inputs", func(s *graph.Spec) { s.Inputs = 0 }, "build: inputs must be at least 1, got 0"},
		{"no classes", func(s *graph.Spec) { s.Classes = -1 }, "build: classes must be at least 1, got -1"},
		{"no batch", func(s *graph.Spec) { s.Batch = 0 }, "build: batch must be at least 1, got 0"},
		{"negative copies", func(s *graph.Spec) { s.Copies = -2 }, "build: copies must be at least 1, got -2"},
		{"noise-free copies", func(s *graph.Spec) { s.Copies, s.NoiseOff = 4, true }, "build: 4 noise-free copies of each example would all be the same"},
		{"bad dtype", func(s *graph.Spec) { s.Dtype = tensor.Int }, "build: dtype must be float64 or float32, got int"},
		{"no layers", func(s *graph.Spec) { s.Layers = nil }, "build: no layers"},
		{"no scale", func(s *graph.Spec) { s.Scales = nil }, "build: no noise scale"},
		{"negative only-site", func(s *graph.Spec) { s.OnlySite = -1 }, "build: noise site -1 does not exist"},
		{"zero scale", func(s *graph.Spec) { s.Scales = []float64{1, 0} }, "build: noise scale 2 must be positive and finite, got 0"},
		{"NaN scale", func(s *graph.Spec) { s.Scales = []float64{math.NaN()} }, "build: noise scale 1 must be positive and finite, got NaN"},
		{"infinite scale", func(s *graph.Spec) { s.Scales = []float64{math.Inf(1)} }, "build: noise scale 1 must be positive and finite, got +Inf"},
		{"scale beyond the draws", func(s *graph.Spec) { s.Scales = []float64{1e31} }, "build layer1: noise site layer1: score: noise scale must be in [1e-30, 1e+30], got 1e+31"},
		{"too large", func(s *graph.Spec) { s.Batch, s.Copies = 1<<20, 1<<10 }, "build: 1048576 examples × 1024 copies × 4 values exceed the limit of 2147483648 values per tensor"},
		{"bad loss", func(s *graph.Spec) { s.Loss = graph.LossKind(9) }, "build: unknown loss kind LossKind(9)"},
		{"bad law", func(s *graph.Spec) { s.Noise = score.Law(5) }, "build layer1: noise site layer1: score: unknown law Law(5)"},
		{"odd antithetic copies", func(s *graph.Spec) { s.Copies, s.Antithetic = 3, true }, "build layer1: noise site layer1: score: antithetic pairs need an even number of copies, got 3"},
		{"scales for other sites", func(s *graph.Spec) { s.Scales = []float64{1, 2, 3} }, "build: 3 noise scales for 2 noise sites (give one, or one per site)"},
		{"only-site beyond the sites", func(s *graph.Spec) { s.OnlySite = 3 }, "build: noise at site 3 alone, but the network has 2 sites"},
		{"quiet site beyond the sites", func(s *graph.Spec) { s.QuietSite = 3 }, "build: no noise at site 3, but the network has 2 sites"},
		{"negative quiet site", func(s *graph.Spec) { s.QuietSite = -1 }, "build: noise site -1 does not exist"},
		{"quiet and only site", func(s *graph.Spec) { s.QuietSite, s.OnlySite = 1, 2 }, "build: QuietSite turns one site off in the network with noise everywhere; it does not combine with OnlySite or NoiseOff"},
		{"wrong output width", func(s *graph.Spec) { s.Layers = []graph.Layer{dense{5}} }, "build: the last layer gives shape (4, 5), want logits 4 × 2"},
		{"duplicate parameter", func(s *graph.Spec) { s.Layers = []graph.Layer{twice} }, "build layer1: parameter layer1/W is defined twice"},
		{"no noise site", func(s *graph.Spec) { s.Layers = []graph.Layer{noSite} }, "build: the network has no noise site; every layer's pre-activation needs one"},
		{"panicking layer", func(s *graph.Spec) { s.Layers = []graph.Layer{panics} }, "build: layer bug"},
		{"missing shared value", func(s *graph.Spec) { s.Params = map[string]*tensor.Dense{} }, "build layer1: parameter layer1/W: missing from the shared parameters"},
		{"shared value of another shape", func(s *graph.Spec) {
			s.Params = map[string]*tensor.Dense{"layer1/W": tensor.New(tensor.WithShape(2, 3), tensor.Of(tensor.Float64))}
		}, "build layer1: parameter layer1/W: shared value is (2, 3) float64, want (3, 3) float64"},
		{"shared value of another dtype", func(s *graph.Spec) {
			s.Params = map[string]*tensor.Dense{"layer1/W": tensor.New(tensor.WithShape(3, 3), tensor.Of(tensor.Float32))}
		}, "build layer1: parameter layer1/W: shared value is (3, 3) float32, want (3, 3) float64"},
		{"conv on rows that are no images", func(s *graph.Spec) {
			s.Layers = []graph.Layer{layers.Conv{In: graph.Image{C: 1, H: 2, W: 2}, Filters: 1, Kernel: 1, Stride: 1, Pool: 1}}
		}, "build layer1: conv layer needs rows of 1×2×2 images (4 values), got shape (4, 3)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := graph.Spec{Inputs: 3, Classes: 2, Batch: 4, Layers: []graph.Layer{dense{3}, dense{2}},
				Scales: []float64{1}, Seed: 1}
			c.modify(&s)
			net, err := graph.Build(s)
			if err == nil || err.Error() != c.want {
				t.Fatalf("err = %v\nwant   %s", err, c.want)
			}
			if net != nil {
				t.Error("a network came with the error")
			}
		})
	}
}

func TestFeedErrors(t *testing.T) {
	net := build(t, mlpSpec(t, graph.ReLU, layers.BiasInput))
	cases := []struct {
		name string
		ex   graph.Examples
		want string
	}{
		{"short batch", examples(3, mlpInputs, 1), "feed: got 3 examples, want a batch of 4"},
		{"long batch", examples(5, mlpInputs, 1), "feed: got 5 examples, want a batch of 4"},
		{"wrong features", examples(4, mlpInputs+1, 1), "feed: got examples of 6 features, want 5"},
		{"label too large", graph.Rows{X: make([]float64, 4*mlpInputs), Labels: []int{0, 3, 1, 2}, Dim: mlpInputs}, "feed: label 3 of example 1 is outside [0, 3)"},
		{"negative label", graph.Rows{X: make([]float64, 4*mlpInputs), Labels: []int{0, 1, 2, -1}, Dim: mlpInputs}, "feed: label -1 of example 3 is outside [0, 3)"},
		{"features missing", graph.Rows{X: make([]float64, 4*mlpInputs-1), Labels: []int{0, 1, 2, 0}, Dim: mlpInputs}, "feed: rows: 19 features for 4 examples of 5"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := net.Feed(c.ex); err == nil || err.Error() != c.want {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}

// TestFeedTargets: a new batch replaces the one-hot targets of the last one
// in every copy, and feeding allocates nothing.
func TestFeedTargets(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		s := mlpSpec(t, graph.ReLU, layers.BiasAll)
		s.Copies, s.Dtype = 2, dt
		net := build(t, s)
		for seed := uint64(1); seed <= 4; seed++ {
			ex := feed(t, net, seed)
			y := floats(t, net.Targets.Value())
			for row := 0; row < net.Rows(); row++ {
				for c := 0; c < classes; c++ {
					if want := b2f(ex.Labels[row%4] == c); y[row*classes+c] != want {
						t.Fatalf("%v batch %d: target %d of row %d is %v, want %v", dt, seed, c, row, y[row*classes+c], want)
					}
				}
			}
		}
		var ex graph.Examples = examples(4, mlpInputs, 9)
		if a := testing.AllocsPerRun(20, func() { _ = net.Feed(ex) }); a != 0 {
			t.Errorf("%v: Feed made %v allocations, want 0", dt, a)
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// TestSharedParams: a network built with another's parameter values, or
// with NewParams, uses the same tensors and sees every update.
func TestSharedParams(t *testing.T) {
	s := mlpSpec(t, graph.Sigmoid, layers.BiasAll)
	a := build(t, s)
	s2 := s
	s2.Batch, s2.Copies, s2.Params = 7, 2, a.ParamValues()
	b := build(t, s2)
	for i, p := range a.Params {
		if b.Params[i].Value() != p.Value() {
			t.Errorf("parameter %s is not shared", p.Name())
		}
	}
	a.ParamTensors()[0].Float64s()[0] = 42
	if got := b.ParamTensors()[0].Float64s()[0]; got != 42 {
		t.Fatalf("shared weight = %v, want 42", got)
	}
	// NewParams gives the values Build initialises.
	ps, err := graph.NewParams(s)
	if err != nil {
		t.Fatal(err)
	}
	fresh := build(t, s)
	for _, p := range fresh.Params {
		if i := equal(floats(t, ps[p.Name()]), floats(t, p.Value())); i >= 0 {
			t.Errorf("NewParams: %s differs at %d from the built network's", p.Name(), i)
		}
	}
}

func TestGradientsRefuseZeroOne(t *testing.T) {
	s := mlpSpec(t, graph.Sigmoid, layers.BiasAll)
	s.Loss = graph.ZeroOne
	net := build(t, s)
	_, err := net.Gradients()
	if want := "backpropagation cannot differentiate the zero-one loss; use the glr estimator"; err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
}

// TestReadOutputs: the losses and predictions read after a pass match the
// logits, and bad reads are errors.
func TestReadOutputs(t *testing.T) {
	s := mlpSpec(t, graph.Tanh, layers.BiasAll)
	s.Copies = 2
	net := build(t, s)
	ex := feed(t, net, 3)
	net.SetStep(5)
	fwd := program(t, net, net.Losses)
	if err := net.ReadLosses(fwd, make([]float64, 8)); err == nil {
		t.Error("read losses before any pass: no error")
	}
	run(t, fwd)
	losses, pred := make([]float64, 8), make([]int, 8)
	if err := net.ReadLosses(fwd, losses); err != nil {
		t.Fatal(err)
	}
	if err := net.Predict(fwd, pred); err != nil {
		t.Fatal(err)
	}
	z := value(t, fwd, net.Logits)
	for r := 0; r < 8; r++ {
		row := z[r*classes : (r+1)*classes]
		best := 0
		for c := range row {
			if row[c] > row[best] {
				best = c
			}
		}
		lse := 0.0
		for _, v := range row {
			lse += math.Exp(v)
		}
		if want := math.Log(lse) - row[ex.Labels[r%4]]; pred[r] != best || math.Abs(losses[r]-want) > 1e-14*math.Max(1, want) {
			t.Errorf("row %d: prediction %d (want %d), loss %v (want %v)", r, pred[r], best, losses[r], want)
		}
	}
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"short losses", net.ReadLosses(fwd, make([]float64, 7)), "7 loss slots for 8 rows"},
		{"short predictions", net.Predict(fwd, make([]int, 3)), "3 prediction slots for 8 rows"},
		{"program without logits", net.Predict(program(t, net, net.Input), pred), "was not computed"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to contain %q", c.name, c.err, c.want)
		}
	}
}

func TestHasStep(t *testing.T) {
	for act, want := range map[graph.Activation]bool{graph.Threshold: true, graph.Sigmoid: false, graph.ReLU: false} {
		if got := build(t, mlpSpec(t, act, layers.BiasAll)).HasStep(); got != want {
			t.Errorf("%v: HasStep = %t, want %t", act, got, want)
		}
	}
}

// TestOnePassAndProbe: OnePass resets every field that shapes an
// estimator's passes and keeps the rest; Probe is OnePass with one example
// and the noise off.
func TestOnePassAndProbe(t *testing.T) {
	s := graph.Spec{Inputs: 4, Classes: 2, Batch: 7, Copies: 5, OnlySite: 2, QuietSite: 1, Sampler: score.QMC, Antithetic: true, NoiseOff: false, Seed: 9}
	o := s.OnePass()
	if o.Copies != 1 || o.OnlySite != 0 || o.QuietSite != 0 || o.Sampler != score.IID || o.Antithetic {
		t.Errorf("OnePass left %+v", o)
	}
	if o.Batch != 7 || o.Seed != 9 || o.Inputs != 4 || o.NoiseOff {
		t.Errorf("OnePass changed a field it should keep: %+v", o)
	}
	p := s.Probe()
	if p.Batch != 1 || !p.NoiseOff || p.Copies != 1 || p.OnlySite != 0 || p.QuietSite != 0 || p.Seed != 9 {
		t.Errorf("Probe gave %+v", p)
	}
}
