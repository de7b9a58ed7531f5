package graph

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// linear is a minimal layer for these tests: v = x·W + r, no activation.
type linear struct{ units int }

func (l linear) Build(s *Scope, x *G.Node) (*G.Node, error) {
	w, err := s.Param("W", x.Shape()[1], l.units, func(rng *rand.Rand, _, _ int, dst []float64) {
		for i := range dst {
			dst[i] = rng.NormFloat64()
		}
	})
	if err != nil {
		return nil, err
	}
	pre, err := G.Mul(x, w)
	if err != nil {
		return nil, err
	}
	return s.Noise(pre, x, w, nil)
}

// twice defines the same parameter twice.
type twice struct{}

func (twice) Build(s *Scope, x *G.Node) (*G.Node, error) {
	init := func(*rand.Rand, int, int, []float64) {}
	if _, err := s.Param("W", 2, 2, init); err != nil {
		return nil, err
	}
	return s.Param("W", 2, 2, init)
}

// noSite builds a layer without a noise site.
type noSite struct{}

func (noSite) Build(s *Scope, x *G.Node) (*G.Node, error) { return x, nil }

func spec(layers ...Layer) Spec {
	return Spec{Inputs: 3, Classes: 2, Rows: 4, Layers: layers, Loss: CrossEntropy, Noise: Gaussian, Scale: 1, Seed: 1}
}

func TestBuildErrors(t *testing.T) {
	cases := []struct {
		name   string
		modify func(*Spec)
		want   string
	}{
		{"no inputs", func(s *Spec) { s.Inputs = 0 }, "inputs must be at least 1, got 0"},
		{"no classes", func(s *Spec) { s.Classes = -1 }, "classes must be at least 1, got -1"},
		{"no rows", func(s *Spec) { s.Rows = 0 }, "rows must be at least 1, got 0"},
		{"zero scale", func(s *Spec) { s.Scale = 0 }, "noise scale must be positive and finite, got 0"},
		{"no layers", func(s *Spec) { s.Layers = nil }, "no layers"},
		{"bad dtype", func(s *Spec) { s.Dtype = tensor.Int }, "dtype must be float64 or float32"},
		{"bad loss", func(s *Spec) { s.Loss = LossKind(9) }, "unknown loss kind"},
		{"wrong output width", func(s *Spec) { s.Layers = []Layer{linear{5}} }, "the last layer gives shape (4, 5), want logits 4 × 2"},
		{"duplicate parameter", func(s *Spec) { s.Layers = []Layer{twice{}} }, "parameter layer1/W is defined twice"},
		{"no noise site", func(s *Spec) { s.Layers = []Layer{noSite{}} }, "the network has no noise site"},
		{"missing shared value", func(s *Spec) { s.Params = map[string]*tensor.Dense{} }, "layer1/W: missing from the shared parameters"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := spec(linear{2})
			c.modify(&s)
			_, err := Build(s)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

// TestSharedParams: a network built with another's parameter values sees
// its updates, as an evaluation network of another row count must.
func TestSharedParams(t *testing.T) {
	a, err := Build(spec(linear{4}, linear{2}))
	if err != nil {
		t.Fatal(err)
	}
	s := spec(linear{4}, linear{2})
	s.Rows, s.Params = 7, a.ParamValues()
	b, err := Build(s)
	if err != nil {
		t.Fatal(err)
	}
	a.Params[0].Value().Data().([]float64)[0] = 42
	if got := b.Params[0].Value().Data().([]float64)[0]; got != 42 {
		t.Fatalf("shared weight = %v, want 42", got)
	}
}

func TestFeedTilesCopies(t *testing.T) {
	net, err := Build(spec(linear{2}))
	if err != nil {
		t.Fatal(err)
	}
	if err := net.SetCopies(2, true); err != nil {
		t.Fatal(err)
	}
	x := []float64{1, 2, 3, 4, 5, 6}
	if err := net.Feed(x, []int{1, 0}); err != nil {
		t.Fatal(err)
	}
	gotX := net.Input.Value().Data().([]float64)
	gotY := net.Targets.Value().Data().([]float64)
	if fmt.Sprint(gotX) != "[1 2 3 4 5 6 1 2 3 4 5 6]" || fmt.Sprint(gotY) != "[0 1 1 0 0 1 1 0]" {
		t.Fatalf("input %v targets %v", gotX, gotY)
	}
	if err := net.SetCopies(3, false); err == nil {
		t.Fatal("3 copies of 4 rows accepted")
	}
}

func TestGradientsRefuseZeroOne(t *testing.T) {
	s := spec(linear{2})
	s.Loss = ZeroOne
	net, err := Build(s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := net.Gradients(); err == nil || !strings.Contains(err.Error(), "cannot differentiate the zero-one loss") {
		t.Fatalf("err = %v", err)
	}

}

// TestReadOutputs: the losses and predictions read after a pass match the
// logits, and bad reads are errors.
func TestReadOutputs(t *testing.T) {
	net, err := Build(spec(linear{2}))
	if err != nil {
		t.Fatal(err)
	}
	if err := net.ReadLosses(make([]float64, 4)); err == nil {
		t.Fatal("read losses before any pass: no error")
	}
	net.SetNoise(NoiseOff)
	if err := net.Feed([]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 0, 1}, []int{0, 1, 0, 1}); err != nil {
		t.Fatal(err)
	}
	m, err := net.Compile(net.Losses)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := Run(m); err != nil {
		t.Fatal(err)
	}
	losses, pred := make([]float64, 4), make([]int, 4)
	if err := net.ReadLosses(losses); err != nil {
		t.Fatal(err)
	}
	if err := net.Predict(pred); err != nil {
		t.Fatal(err)
	}
	z := net.Logits.Value().Data().([]float64)
	for r := 0; r < 4; r++ {
		want := 0
		if z[2*r+1] > z[2*r] {
			want = 1
		}
		if pred[r] != want || losses[r] <= 0 {
			t.Errorf("row %d: prediction %d (want %d), loss %v", r, pred[r], want, losses[r])
		}
	}
	if err := net.Predict(make([]int, 3)); err == nil || !strings.Contains(err.Error(), "3 prediction slots for 4 rows") {
		t.Errorf("short dst: err = %v", err)
	}
}
