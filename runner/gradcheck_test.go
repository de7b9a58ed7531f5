package runner

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/glr-project/glr/configs"
	"github.com/glr-project/glr/datasets"
)

// smallSet is a seeded 3-class data set of 200 examples with 6 features in
// [0,1], whose class decides the mean of the features.
func smallSet() *datasets.Set {
	rng := rand.New(rand.NewPCG(1, 1))
	s := &datasets.Set{Name: "small", Height: 2, Width: 3, Features: 6, Classes: 3}
	for i := 0; i < 200; i++ {
		c := rng.IntN(3)
		s.Labels = append(s.Labels, c)
		for j := 0; j < 6; j++ {
			s.X = append(s.X, min(1, max(0, 0.3*float64(c)+0.2*rng.NormFloat64()+0.2)))
		}
	}
	return s
}

func experiment(t *testing.T, toml string, sets ...string) *configs.Experiment {
	t.Helper()
	exp, err := configs.Parse("test.toml", []byte(toml), sets...)
	if err != nil {
		t.Fatal(err)
	}
	return exp
}

const smooth = `
name = "smooth"
seed = 3
[model]
hidden = [5]
activation = "sigmoid"
bias = "all"
[noise]
distribution = "gaussian"
scale = 0.5
[estimator]
kind = "glr"
copies = 50
baseline = "clean"
`

// TestGradCheckAgrees: on a smooth network with enough draws, the GLR mean
// and the BP-through-noise mean agree in every layer. With this seed the
// measured cosines are above 0.99 (4,000 draws × 50 copies per example);
// 0.95 leaves room for the sampling error and still fails for a biased or
// mis-scaled estimator.
func TestGradCheckAgrees(t *testing.T) {
	r, err := GradCheck(experiment(t, smooth), smallSet(), GradCheckOptions{Draws: 4000, Batch: 8})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Layers) != 2 {
		t.Fatalf("got %d layers, want 2", len(r.Layers))
	}
	for _, l := range r.Layers {
		t.Logf("%s: cosine %.4f, relative error %.4f, variance %.3g", l.Name, *l.Cosine, *l.RelativeError, l.Variance)
		if *l.Cosine < 0.95 || l.Variance <= 0 {
			t.Errorf("%s: cosine %.4f, variance %g; want cosine ≥ 0.95 and a positive variance", l.Name, *l.Cosine, l.Variance)
		}
	}
}

func TestGradCheckJSON(t *testing.T) {
	r, err := GradCheck(experiment(t, smooth), smallSet(), GradCheckOptions{Draws: 10, Batch: 4})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Layers []struct {
			Name          string   `json:"name"`
			Cosine        *float64 `json:"cosine"`
			RelativeError *float64 `json:"relative_error"`
			Variance      *float64 `json:"variance"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Layers) != 2 || got.Layers[0].Name != "layer1" || got.Layers[1].Name != "layer2" {
		t.Fatalf("layers = %+v", got.Layers)
	}
	for _, l := range got.Layers {
		if l.Cosine == nil || l.RelativeError == nil || l.Variance == nil {
			t.Fatalf("layer %s lacks a field: %s", l.Name, buf.String())
		}
	}
}

// TestGradCheckThreshold: below a threshold activation the BP gradient is
// zero; the check reports the layer without a cosine and warns.
func TestGradCheckThreshold(t *testing.T) {
	exp := experiment(t, smooth, `model.activation="threshold"`)
	r, err := GradCheck(exp, smallSet(), GradCheckOptions{Draws: 5, Batch: 4})
	if err != nil {
		t.Fatal(err)
	}
	if r.Layers[0].Cosine != nil || r.Layers[1].Cosine == nil {
		t.Fatalf("cosines %v %v: want none for layer1 and one for layer2", r.Layers[0].Cosine, r.Layers[1].Cosine)
	}
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "layer1/W") {
		t.Fatalf("warnings %q", r.Warnings)
	}
	var buf bytes.Buffer
	if err := r.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "n/a") || !strings.Contains(buf.String(), "warning:") {
		t.Fatalf("text report:\n%s", buf.String())
	}
}

func TestGradCheckBadInput(t *testing.T) {
	cases := []struct {
		name string
		sets []string
		opts GradCheckOptions
		want string
	}{
		{"one draw", nil, GradCheckOptions{Draws: 1, Batch: 4}, "-draws must be at least 2"},
		{"batch too big", nil, GradCheckOptions{Draws: 5, Batch: 201}, "-batch must be in [1, 200], got 201"},
		{"zero-one loss", []string{`loss.kind="zero-one"`}, GradCheckOptions{Draws: 5, Batch: 4}, "cannot differentiate the zero-one loss"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := GradCheck(experiment(t, smooth, c.sets...), smallSet(), c.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
}
