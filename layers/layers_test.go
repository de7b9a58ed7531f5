package layers

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/glr-project/glr/graph"
	G "gorgonia.org/gorgonia"
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
}

// TestInitializers checks the spread of each initialiser over many weights:
// the sample standard deviation of 78,500 draws is within 1 % of the truth
// (relative standard error 1/√(2n) ≈ 0.25 %).
func TestInitializers(t *testing.T) {
	const fanIn, fanOut = 785, 100
	cases := []struct {
		name string
		init graph.Initializer
		std  float64
	}{
		{"scaled-normal", ScaledNormal, 2 / math.Sqrt(fanIn)},
		{"glorot", Glorot, math.Sqrt(6.0/(fanIn+fanOut)) / math.Sqrt(3)},
	}
	for _, c := range cases {
		w := make([]float64, fanIn*fanOut)
		c.init(rand.New(rand.NewPCG(1, 2)), fanIn, fanOut, w)
		var s, s2 float64
		for _, v := range w {
			s += v
			s2 += v * v
		}
		n := float64(len(w))
		std := math.Sqrt(s2/n - (s/n)*(s/n))
		if math.Abs(std/c.std-1) > 0.01 {
			t.Errorf("%s: std %.5f, want %.5f", c.name, std, c.std)
		}
	}
}

func build(t *testing.T, hidden []int, act Activation, bias Bias, seed uint64) *graph.Network {
	t.Helper()
	ls, err := MLP(hidden, act, bias, ScaledNormal, 3)
	if err != nil {
		t.Fatal(err)
	}
	net, err := graph.Build(graph.Spec{Inputs: 4, Classes: 3, Rows: 2, Layers: ls, Loss: graph.CrossEntropy,
		Noise: graph.Laplace, Scale: 1, Seed: seed, Dtype: tensor.Float64})
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// TestBiasModes checks the parameters each bias mode creates.
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
		net := build(t, []int{6}, Sigmoid, c.bias, 1)
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

// TestInitialWeightsFromSeed: the same seed gives the same weights, another
// seed other weights.
func TestInitialWeightsFromSeed(t *testing.T) {
	w := func(seed uint64) []float64 {
		return build(t, []int{6}, Tanh, BiasInput, seed).Params[0].Value().Data().([]float64)
	}
	a, b, c := w(7), w(7), w(8)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("seed 7 twice: weight %d differs", i)
		}
	}
	if a[0] == c[0] && a[1] == c[1] {
		t.Fatal("seeds 7 and 8 gave the same weights")
	}
}

// TestActivationsForward runs each activation on known pre-activations.
func TestActivationsForward(t *testing.T) {
	for _, act := range []Activation{Sigmoid, Threshold, ReLU, Tanh} {
		net := build(t, []int{6}, act, BiasNone, 1)
		net.SetNoise(graph.NoiseOff)
		x := []float64{0.1, 0.9, 0.3, 0.5, 0.7, 0.2, 0.4, 0.6}
		if err := net.Feed(x, []int{0, 2}); err != nil {
			t.Fatal(err)
		}
		m := G.NewTapeMachine(net.Graph.SubgraphRoots(net.Losses))
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		w := net.Params[0].Value().Data().([]float64)
		h := net.Sites[1].Input.Value().Data().([]float64)
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
					want = map[bool]float64{true: 1, false: 0}[v > 0]
				case ReLU:
					want = math.Max(v, 0)
				case Tanh:
					want = math.Tanh(v)
				}
				if got := h[m*6+j]; math.Abs(got-want) > 1e-12 {
					t.Fatalf("%v: h[%d,%d] = %v, want %v", act, m, j, got, want)
				}
			}
		}
		m.Close()
	}
}

func TestMLPErrors(t *testing.T) {
	if _, err := MLP([]int{5, 0}, Sigmoid, BiasAll, ScaledNormal, 10); err == nil || !strings.Contains(err.Error(), "hidden layer 2 has width 0") {
		t.Errorf("zero width: %v", err)
	}
	if _, err := MLP(nil, Sigmoid, BiasAll, ScaledNormal, 0); err == nil || !strings.Contains(err.Error(), "at least 1 class") {
		t.Errorf("zero classes: %v", err)
	}
}
