package layers

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/glr-project/glr/graph"
	"github.com/glr-project/glr/score"
	"gorgonia.org/tensor"
)

func TestParse(t *testing.T) {
	cases := []struct {
		name  string
		parse func(string) error
		ok    []string
		bad   string
		want  string
	}{
		{"activation", func(s string) error { _, err := ParseActivation(s); return err },
			[]string{"sigmoid", "threshold", "relu", "tanh"}, "sigmod", `unknown activation "sigmod" (want sigmoid | threshold | relu | tanh)`},
		{"bias", func(s string) error { _, err := ParseBias(s); return err },
			[]string{"input", "all", "none"}, "every", `unknown bias mode "every" (want input | all | none)`},
		{"init", func(s string) error { _, err := ParseInit(s); return err },
			[]string{"scaled-normal", "glorot"}, "he", `unknown initialiser "he" (want scaled-normal | glorot)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, s := range c.ok {
				if err := c.parse(s); err != nil {
					t.Errorf("%q: %v", s, err)
				}
			}
			if err := c.parse(c.bad); err == nil || err.Error() != c.want {
				t.Errorf("%q: err = %v, want %q", c.bad, err, c.want)
			}
		})
	}
	for _, b := range []Bias{BiasInput, BiasAll, BiasNone} {
		if got, err := ParseBias(b.String()); err != nil || got != b {
			t.Errorf("ParseBias(%q) = %v, %v", b.String(), got, err)
		}
		if b.InputColumn() != (b == BiasInput) {
			t.Errorf("%v: InputColumn = %t", b, b.InputColumn())
		}
	}
}

// TestInitializers checks each initialiser over 78,500 weights: the sample
// standard deviation is within 1 % of the truth (its relative standard
// error is about 1/√(2n) ≈ 0.25 % for the normal and 0.16 % for the
// uniform), the mean within 4 standard errors of 0 (σ/√n ≈ 0.0036σ), and
// Glorot's values stay inside its bound; the same generator state gives
// the same weights and another seed others.
func TestInitializers(t *testing.T) {
	const fanIn, fanOut = 785, 100
	cases := []struct {
		name  string
		init  graph.Initializer
		std   float64
		bound float64 // largest |w|, 0 for none
	}{
		{"scaled-normal", ScaledNormal, 2 / math.Sqrt(fanIn), 0},
		{"glorot", Glorot, math.Sqrt(6.0/(fanIn+fanOut)) / math.Sqrt(3), math.Sqrt(6.0 / (fanIn + fanOut))},
	}
	draw := func(init graph.Initializer, seed uint64) []float64 {
		w := make([]float64, fanIn*fanOut)
		init(rand.New(rand.NewPCG(seed, 2)), fanIn, fanOut, w)
		return w
	}
	for _, c := range cases {
		w := draw(c.init, 1)
		var s, s2 float64
		for _, v := range w {
			s += v
			s2 += v * v
			if c.bound > 0 && math.Abs(v) > c.bound {
				t.Fatalf("%s: weight %v outside ±%v", c.name, v, c.bound)
			}
		}
		n := float64(len(w))
		mean := s / n
		std := math.Sqrt(s2/n - mean*mean)
		t.Logf("%s: std %.5f (want %.5f), mean %.2g", c.name, std, c.std, mean)
		if math.Abs(std/c.std-1) > 0.01 {
			t.Errorf("%s: std %.5f, want %.5f", c.name, std, c.std)
		}
		if math.Abs(mean) > 4*c.std/math.Sqrt(n) {
			t.Errorf("%s: mean %.3g, want 0 ± %.3g", c.name, mean, 4*c.std/math.Sqrt(n))
		}
		if !reflect.DeepEqual(w, draw(c.init, 1)) {
			t.Errorf("%s: the same seed gave other weights", c.name)
		}
		other := draw(c.init, 2)
		for i := range w {
			if w[i] == other[i] {
				t.Fatalf("%s: seeds 1 and 2 gave the same weight %d", c.name, i)
			}
		}
	}
}

// TestMLP checks the layers MLP returns: one Dense per hidden width with
// the activation and the bias mode's vector biases, then a linear output
// layer.
func TestMLP(t *testing.T) {
	for _, bias := range []Bias{BiasInput, BiasAll, BiasNone} {
		ls, err := MLP([]int{7, 5}, Tanh, bias, Glorot, 3)
		if err != nil {
			t.Fatal(err)
		}
		want := []Dense{
			{Units: 7, Activation: Tanh, Bias: bias == BiasAll},
			{Units: 5, Activation: Tanh, Bias: bias == BiasAll},
			{Units: 3, Activation: Identity, Bias: bias == BiasAll},
		}
		if len(ls) != len(want) {
			t.Fatalf("%v: %d layers, want %d", bias, len(ls), len(want))
		}
		for i, l := range ls {
			d, ok := l.(Dense)
			if !ok {
				t.Fatalf("%v: layer %d is %T", bias, i, l)
			}
			if d.Units != want[i].Units || d.Activation != want[i].Activation || d.Bias != want[i].Bias || d.Init == nil {
				t.Errorf("%v: layer %d is %+v, want %+v with an initialiser", bias, i, d, want[i])
			}
		}
	}
	if ls, err := MLP(nil, ReLU, BiasAll, nil, 4); err != nil || len(ls) != 1 || ls[0].(Dense).Units != 4 {
		t.Errorf("no hidden layers: %v, %v; want one output layer of 4", ls, err)
	}
}

func TestLayerErrors(t *testing.T) {
	img := graph.Image{C: 1, H: 8, W: 8}
	cases := []struct {
		name string
		err  func() error
		want string
	}{
		{"zero width", func() error { _, err := MLP([]int{5, 0}, Sigmoid, BiasAll, ScaledNormal, 10); return err },
			"mlp: hidden layer 2 has width 0, want at least 1"},
		{"negative width", func() error { _, err := MLP([]int{-3}, Sigmoid, BiasAll, ScaledNormal, 10); return err },
			"mlp: hidden layer 1 has width -3, want at least 1"},
		{"zero classes", func() error { _, err := MLP(nil, Sigmoid, BiasAll, ScaledNormal, 0); return err },
			"mlp: need at least 1 class, got 0"},
		{"cnn with an input bias", func() error {
			_, err := CNN(img, []Conv{{Filters: 2, Kernel: 3}}, nil, ReLU, BiasInput, Glorot, 10)
			return err
		}, "cnn: the input bias mode puts the bias in a constant-1 input column of a dense first layer; use all or none"},
		{"kernel larger than the image", func() error {
			_, err := CNN(img, []Conv{{Filters: 2, Kernel: 5, Pool: 2}, {Filters: 2, Kernel: 3}}, nil, ReLU, BiasAll, Glorot, 10)
			return err
		}, "cnn: conv layer 2: conv: kernel 3 is larger than the 2×2 input (padding 0)"},
		{"pool larger than the image", func() error {
			_, err := CNN(img, []Conv{{Filters: 2, Kernel: 5, Pool: 5}}, nil, ReLU, BiasAll, Glorot, 10)
			return err
		}, "cnn: conv layer 1: conv: pool size 5 is larger than the 4×4 input"},
		{"no filters", func() error {
			_, err := CNN(img, []Conv{{Filters: 0, Kernel: 3}}, nil, ReLU, BiasAll, Glorot, 10)
			return err
		}, "cnn: conv layer 1: conv: Filters is 0, want at least 1"},
		{"cnn with a zero-width dense layer", func() error {
			_, err := CNN(img, []Conv{{Filters: 2, Kernel: 3}}, []int{0}, ReLU, BiasAll, Glorot, 10)
			return err
		}, "mlp: hidden layer 1 has width 0, want at least 1"},
		{"dense of no units", func() error { return buildErr(Dense{Units: 0}) }, "build layer1: dense layer needs at least 1 unit, got 0"},
		{"conv on rows that are no images", func() error {
			return buildErr(Conv{In: graph.Image{C: 1, H: 3, W: 3}, Filters: 1, Kernel: 2, Stride: 1, Pool: 1})
		}, "build layer1: conv layer needs rows of 1×3×3 images (9 values), got shape (2, 4)"},
		{"conv of bad geometry", func() error {
			return buildErr(Conv{In: graph.Image{C: 1, H: 2, W: 2}, Filters: 1, Kernel: 2, Stride: 0, Pool: 1})
		}, "build layer1: conv: Stride is 0, want at least 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.err(); err == nil || err.Error() != c.want {
				t.Fatalf("err = %v\nwant   %s", err, c.want)
			}
		})
	}
}

// buildErr builds a network of 4 inputs and batch 2 with l as its only
// layer and returns the error.
func buildErr(l graph.Layer) error {
	_, err := graph.Build(graph.Spec{Inputs: 4, Classes: 2, Batch: 2, Layers: []graph.Layer{l}, Scales: []float64{1}})
	return err
}

// TestCNN: CNN chains the conv layers' geometry, fills in their defaults
// (stride 1, no pooling) and the network-wide activation, bias and
// initialiser, and appends the dense layers.
func TestCNN(t *testing.T) {
	in := graph.Image{C: 1, H: 28, W: 28}
	ls, err := CNN(in, []Conv{{Filters: 6, Kernel: 5, Pool: 2, PoolKind: graph.AvgPool}, {Filters: 16, Kernel: 5, Stride: 1, Pool: 2}},
		[]int{120, 84}, ReLU, BiasAll, Glorot, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != 5 {
		t.Fatalf("%d layers, want 2 conv and 3 dense", len(ls))
	}
	wantIn := []graph.Image{in, {C: 6, H: 12, W: 12}}
	wantOut := []graph.Image{{C: 6, H: 12, W: 12}, {C: 16, H: 4, W: 4}}
	for i := 0; i < 2; i++ {
		c, ok := ls[i].(Conv)
		if !ok {
			t.Fatalf("layer %d is %T", i+1, ls[i])
		}
		out, err := c.Out()
		if err != nil {
			t.Fatal(err)
		}
		if c.In != wantIn[i] || out != wantOut[i] || c.Stride != 1 || c.Pool != 2 || c.Activation != ReLU || !c.Bias || c.Init == nil {
			t.Errorf("conv layer %d: %+v with output %v, want input %v and output %v", i+1, c, out, wantIn[i], wantOut[i])
		}
	}
	if ls[0].(Conv).PoolKind != graph.AvgPool || ls[1].(Conv).PoolKind != graph.MaxPool {
		t.Error("the pool kinds were not kept")
	}
	for i, units := range []int{120, 84, 10} {
		if d, ok := ls[2+i].(Dense); !ok || d.Units != units {
			t.Errorf("layer %d is %+v, want a dense layer of %d units", 3+i, ls[2+i], units)
		}
	}
	// Without conv layers, CNN is MLP.
	mlp, err := CNN(in, nil, []int{5}, Tanh, BiasInput, Glorot, 3)
	want, _ := MLP([]int{5}, Tanh, BiasInput, Glorot, 3)
	if err != nil || len(mlp) != len(want) || mlp[0].(Dense).Units != 5 {
		t.Errorf("CNN without convs: %v, %v; want %v", mlp, err, want)
	}
}

// TestConvOut checks the output geometry of conv layers with pooling, by
// the floor formulas OH = (H + 2p − k)/s + 1 and then OH/pool.
func TestConvOut(t *testing.T) {
	cases := []struct {
		c    Conv
		want graph.Image
		err  string
	}{
		{Conv{In: graph.Image{C: 1, H: 28, W: 28}, Filters: 6, Kernel: 5, Stride: 1, Pool: 2}, graph.Image{C: 6, H: 12, W: 12}, ""},
		{Conv{In: graph.Image{C: 3, H: 32, W: 32}, Filters: 8, Kernel: 3, Stride: 1, Pad: 1, Pool: 1}, graph.Image{C: 8, H: 32, W: 32}, ""},
		{Conv{In: graph.Image{C: 3, H: 7, W: 9}, Filters: 4, Kernel: 3, Stride: 2, Pad: 1, Pool: 1}, graph.Image{C: 4, H: 4, W: 5}, ""},
		{Conv{In: graph.Image{C: 2, H: 9, W: 9}, Filters: 5, Kernel: 2, Stride: 1, Pool: 3}, graph.Image{C: 5, H: 2, W: 2}, ""},
		{Conv{In: graph.Image{C: 1, H: 4, W: 4}, Filters: 1, Kernel: 5, Stride: 1, Pool: 1}, graph.Image{}, "kernel 5 is larger than the 4×4 input"},
		// A Pool of 0 is no pooling, as in Build.
		{Conv{In: graph.Image{C: 1, H: 4, W: 4}, Filters: 1, Kernel: 3, Stride: 1, Pool: 0}, graph.Image{C: 1, H: 2, W: 2}, ""},
		{Conv{In: graph.Image{C: 1, H: 4, W: 4}, Filters: 1, Kernel: 3, Stride: 1, Pool: 3}, graph.Image{}, "pool"},
		{Conv{In: graph.Image{C: 1, H: 4, W: 4}, Filters: 1, Kernel: 2, Stride: 1, Pad: 2, Pool: 1}, graph.Image{}, "padding 2 is not less than the kernel 2"},
	}
	for _, c := range cases {
		got, err := c.c.Out()
		switch {
		case c.err == "" && (err != nil || got != c.want):
			t.Errorf("%+v: Out = %v, %v; want %v", c.c, got, err, c.want)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%+v: err = %v, want it to contain %q", c.c, err, c.err)
		}
	}
}

func build(t *testing.T, ls []graph.Layer, spec graph.Spec) *graph.Network {
	t.Helper()
	spec.Layers = ls
	if spec.Scales == nil {
		spec.Scales = []float64{1}
	}
	net, err := graph.Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	return net
}

func mlp(t *testing.T, hidden []int, act Activation, bias Bias) []graph.Layer {
	t.Helper()
	ls, err := MLP(hidden, act, bias, ScaledNormal, 3)
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

// TestBiasModes checks the parameters each bias mode creates in a network.
func TestBiasModes(t *testing.T) {
	cases := []struct {
		bias Bias
		want string
	}{
		{BiasInput, "layer1/W(5, 6) layer2/W(6, 3)"},
		{BiasAll, "layer1/W(4, 6) layer1/b(6) layer2/W(6, 3) layer2/b(3)"},
		{BiasNone, "layer1/W(4, 6) layer2/W(6, 3)"},
	}
	for _, c := range cases {
		net := build(t, mlp(t, []int{6}, Sigmoid, c.bias), graph.Spec{Inputs: 4, Classes: 3, Batch: 2, InputBias: c.bias.InputColumn()})
		var got []string
		for _, p := range net.Params {
			got = append(got, fmt.Sprintf("%s%v", p.Name(), p.Shape()))
		}
		if s := strings.Join(got, " "); s != c.want {
			t.Errorf("%v: params %s, want %s", c.bias, s, c.want)
		}
		if len(net.Sites) != 2 {
			t.Errorf("%v: %d noise sites, want 2 (hidden and logits)", c.bias, len(net.Sites))
		}
	}
}

// TestInitialWeights: a network's weights come from its seed, scaled by
// the initialiser (the default is ScaledNormal: the first weight's spread
// is 2/√fanIn, here over 40·60 values, so within 10 %), and its biases
// start at zero.
func TestInitialWeights(t *testing.T) {
	w := func(seed uint64) (w, b []float64) {
		net := build(t, []graph.Layer{Dense{Units: 60, Bias: true}, Dense{Units: 3}}, graph.Spec{Inputs: 40, Classes: 3, Batch: 1, Seed: seed})
		return net.Params[0].Value().Data().([]float64), net.Params[1].Value().Data().([]float64)
	}
	a, bias := w(7)
	b, _ := w(7)
	c, _ := w(8)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("seed 7 twice gave other weights")
	}
	if reflect.DeepEqual(a, c) {
		t.Fatal("seeds 7 and 8 gave the same weights")
	}
	for _, v := range bias {
		if v != 0 {
			t.Fatalf("bias %v, want 0", v)
		}
	}
	var s2 float64
	for _, v := range a {
		s2 += v * v
	}
	// The relative standard error of the spread of 2,400 normal draws is
	// 1/√4800 ≈ 1.4 %.
	if std, want := math.Sqrt(s2/float64(len(a))), 2/math.Sqrt(40); math.Abs(std/want-1) > 0.1 {
		t.Errorf("initial spread %.4f, want %.4f", std, want)
	}
}

// TestActivationsForward runs each activation on known inputs with the
// noise off and compares the hidden layer with the formula.
func TestActivationsForward(t *testing.T) {
	x := []float64{0.1, 0.9, -0.3, 0.5, 0.7, -0.2, 0.4, 0.6}
	for _, act := range []Activation{Sigmoid, Threshold, ReLU, Tanh} {
		net := build(t, mlp(t, []int{6}, act, BiasNone), graph.Spec{Inputs: 4, Classes: 3, Batch: 2, NoiseOff: true, Seed: 1})
		if err := net.Feed(graph.Rows{X: x, Labels: []int{0, 2}, Dim: 4}); err != nil {
			t.Fatal(err)
		}
		h := net.Sites[1].Input
		p, err := net.Program(h)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Run(); err != nil {
			t.Fatal(err)
		}
		hv, err := p.Dense(h)
		if err != nil {
			t.Fatal(err)
		}
		w := net.Params[0].Value().Data().([]float64)
		for m := 0; m < 2; m++ {
			for j := 0; j < 6; j++ {
				var v float64
				for i := 0; i < 4; i++ {
					v += x[m*4+i] * w[i*6+j]
				}
				var want float64
				switch act {
				case Sigmoid:
					want = 1 / (1 + math.Exp(-v))
				case Threshold:
					if v > 0 {
						want = 1
					}
				case ReLU:
					want = math.Max(v, 0)
				case Tanh:
					want = math.Tanh(v)
				}
				// Four products summed in another order: a few roundings.
				if got := hv.Float64s()[m*6+j]; math.Abs(got-want) > 1e-15 {
					t.Fatalf("%v: h[%d,%d] = %v, want %v", act, m, j, got, want)
				}
			}
		}
	}
}

// TestConvForward: a conv layer's output is the convolution by its
// definition, y[b, oy, ox, f] = act(Σ K[(ky,kx,c), f]·x[b, oy·s−p+ky, ox·s−p+kx, c] + bias[f]),
// then pooled; with one filter bank, stride 2 and padding 1 on 3 channels.
func TestConvForward(t *testing.T) {
	in := graph.Image{C: 3, H: 5, W: 5}
	c := Conv{In: in, Filters: 2, Kernel: 3, Stride: 2, Pad: 1, Pool: 1, Activation: Tanh, Bias: true, Init: Glorot}
	o, err := c.Out()
	if err != nil {
		t.Fatal(err)
	}
	net := build(t, []graph.Layer{c, Dense{Units: 2}}, graph.Spec{Inputs: in.Len(), Classes: 2, Batch: 2, NoiseOff: true, Seed: 3})
	rng := rand.New(rand.NewPCG(1, 1))
	x := make([]float64, 2*in.Len())
	for i := range x {
		x[i] = 2*rng.Float64() - 1
	}
	bias := net.Params[1].Value().Data().([]float64)
	bias[0], bias[1] = 0.25, -0.5 // nonzero, to see it added
	if err := net.Feed(graph.Rows{X: x, Labels: []int{0, 1}, Dim: in.Len()}); err != nil {
		t.Fatal(err)
	}
	y := net.Sites[1].Input
	p, err := net.Program(y)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(); err != nil {
		t.Fatal(err)
	}
	yv, err := p.Dense(y)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(yv.Shape()) != fmt.Sprintf("(2, %d)", o.Len()) {
		t.Fatalf("output shape %v, want (2, %d)", yv.Shape(), o.Len())
	}
	k := net.Params[0].Value().Data().([]float64)
	for b := 0; b < 2; b++ {
		for oy := 0; oy < o.H; oy++ {
			for ox := 0; ox < o.W; ox++ {
				for f := 0; f < 2; f++ {
					v := bias[f]
					for ky := 0; ky < 3; ky++ {
						for kx := 0; kx < 3; kx++ {
							iy, ix := oy*2-1+ky, ox*2-1+kx
							if iy < 0 || iy >= in.H || ix < 0 || ix >= in.W {
								continue
							}
							for ch := 0; ch < 3; ch++ {
								v += k[((ky*3+kx)*3+ch)*2+f] * x[b*in.Len()+(iy*in.W+ix)*3+ch]
							}
						}
					}
					// 27 products summed in another order.
					if got, want := yv.Float64s()[b*o.Len()+(oy*o.W+ox)*2+f], math.Tanh(v); math.Abs(got-want) > 1e-14 {
						t.Fatalf("y[%d,%d,%d,%d] = %v, want %v", b, oy, ox, f, got, want)
					}
				}
			}
		}
	}
}

// TestLayersTrainable: every layer's parameters get a BP gradient, through
// dense and conv layers, pooling and every activation.
func TestLayersTrainable(t *testing.T) {
	in := graph.Image{C: 1, H: 6, W: 6}
	for _, act := range []Activation{Sigmoid, ReLU, Tanh} {
		ls, err := CNN(in, []Conv{{Filters: 2, Kernel: 3, Pool: 2}}, []int{4}, act, BiasAll, Glorot, 3)
		if err != nil {
			t.Fatal(err)
		}
		net := build(t, ls, graph.Spec{Inputs: in.Len(), Classes: 3, Batch: 2, Noise: score.Laplace, Seed: 5})
		x := make([]float64, 2*in.Len())
		for i := range x {
			x[i] = math.Sin(float64(i))
		}
		if err := net.Feed(graph.Rows{X: x, Labels: []int{1, 2}, Dim: in.Len()}); err != nil {
			t.Fatal(err)
		}
		grads, err := net.Gradients()
		if err != nil {
			t.Fatal(err)
		}
		p, err := net.Program(grads...)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Run(); err != nil {
			t.Fatal(err)
		}
		for i, g := range grads {
			v := p.Value(g).(*tensor.Dense)
			var s float64
			for _, x := range v.Float64s() {
				s += x * x
			}
			if !(s > 0) || math.IsInf(s, 0) || !v.Shape().Eq(net.Params[i].Shape()) {
				t.Errorf("%v: gradient of %s has shape %v and norm² %v", act, net.Params[i].Name(), v.Shape(), s)
			}
		}
	}
}

// TestNoiseAfterPool: with the noise off, a max-pooled conv layer whose noise
// follows the pooling computes the same logits as one whose noise precedes
// it, for every activation (each is non-decreasing, so pooling and the
// activation commute), while its noise site has a quarter of the rows;
// with average pooling the two networks differ.
func TestNoiseAfterPool(t *testing.T) {
	in := graph.Image{C: 1, H: 8, W: 8}
	rng := rand.New(rand.NewPCG(4, 4))
	x := make([]float64, 2*in.Len())
	for i := range x {
		x[i] = 2*rng.Float64() - 1
	}
	logits := func(act Activation, kind graph.PoolKind, after bool, params map[string]*tensor.Dense) ([]float64, *graph.Network) {
		convs := []Conv{{Filters: 3, Kernel: 3, Pool: 2, PoolKind: kind, NoiseAfterPool: after}}
		ls, err := CNN(in, convs, []int{4}, act, BiasAll, Glorot, 2)
		if err != nil {
			t.Fatal(err)
		}
		net := build(t, ls, graph.Spec{Inputs: in.Len(), Classes: 2, Batch: 2, NoiseOff: true, Seed: 3, Params: params})
		if err := net.Feed(graph.Rows{X: x, Labels: []int{0, 1}, Dim: in.Len()}); err != nil {
			t.Fatal(err)
		}
		p, err := net.Program(net.Logits)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Run(); err != nil {
			t.Fatal(err)
		}
		v, err := p.Dense(net.Logits)
		if err != nil {
			t.Fatal(err)
		}
		return append([]float64(nil), v.Float64s()...), net
	}
	for _, act := range []Activation{Sigmoid, Threshold, ReLU, Tanh} {
		for _, kind := range []graph.PoolKind{graph.MaxPool, graph.AvgPool} {
			before, net := logits(act, kind, false, nil)
			after, pooled := logits(act, kind, true, net.ParamValues())
			if !pooled.Sites[0].Pooled() || net.Sites[0].Pooled() {
				t.Fatalf("%v/%v: Pooled is %v after and %v before the pooling", act, kind, pooled.Sites[0].Pooled(), net.Sites[0].Pooled())
			}
			if _, err := net.Sites[0].Unpool(tensor.New(tensor.WithShape(2, 27), tensor.Of(tensor.Float64))); err == nil {
				t.Errorf("%v/%v: Unpool of a site before its pooling gives no error", act, kind)
			}
			if r, want := pooled.Sites[0].Rows, net.Sites[0].Rows/4; r != want {
				t.Errorf("%v/%v: the pooled site has %d rows, want %d", act, kind, r, want)
			}
			diff := 0.0
			for i := range before {
				diff = math.Max(diff, math.Abs(after[i]-before[i]))
			}
			switch {
			case kind == graph.MaxPool && diff > 1e-15:
				t.Errorf("%v/max: logits differ by %.3g", act, diff)
			case kind == graph.AvgPool && act != ReLU && diff < 1e-6:
				// ReLU averages of mixed signs differ too, but a window may
				// hold one sign only; the others bend everywhere.
				t.Errorf("%v/avg: logits agree to %.3g; the pooling did not move", act, diff)
			}
		}
	}
}
