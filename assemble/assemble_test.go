package assemble

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/glr-project/glr/configs"
	"github.com/glr-project/glr/graph"
	"gorgonia.org/tensor"
)

func valid(t *testing.T) *configs.Experiment {
	t.Helper()
	exp, err := configs.Parse("t.toml", []byte(`name = "t"
seed = 9
[model]
hidden = [6, 4]
activation = "relu"
bias = "all"
dtype = "float32"
[noise]
distribution = "gaussian"
scale = [0.5, 1, 2]
[loss]
kind = "squared"
[data]
train_limit = 50
test_limit = 20
`))
	if err != nil {
		t.Fatal(err)
	}
	return exp
}

func TestSpec(t *testing.T) {
	spec, err := Spec(valid(t), graph.Image{C: 1, H: 4, W: 5}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if spec.Inputs != 20 || spec.Classes != 3 || spec.InputBias || spec.Dtype != tensor.Float32 || len(spec.Layers) != 3 ||
		len(spec.Scales) != 3 || spec.Scales[2] != 2 || spec.Seed != 9 || spec.Loss.String() != "squared" || spec.Params != nil {
		t.Fatalf("spec %+v", spec)
	}
	spec.Batch = 2
	if spec.Params, err = graph.NewParams(spec); err != nil {
		t.Fatal(err)
	}
	net, err := graph.Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(net.Sites) != 3 {
		t.Errorf("%d noise sites, want 3", len(net.Sites))
	}
}

// TestSpecErrors: every error names the config key at fault.
func TestSpecErrors(t *testing.T) {
	cases := []struct {
		name   string
		change func(e *configs.Experiment)
		image  graph.Image
		want   string
	}{
		{"activation", func(e *configs.Experiment) { e.Model.Activation = "sigmod" }, graph.Image{C: 1, H: 4, W: 4}, "model.activation: "},
		{"bias", func(e *configs.Experiment) { e.Model.Bias = "some" }, graph.Image{C: 1, H: 4, W: 4}, "model.bias: "},
		{"init", func(e *configs.Experiment) { e.Model.Init = "zeros" }, graph.Image{C: 1, H: 4, W: 4}, "model.init: "},
		{"dtype", func(e *configs.Experiment) { e.Model.Dtype = "float16" }, graph.Image{C: 1, H: 4, W: 4}, `model.dtype: unknown dtype "float16" (want float64 | float32)`},
		{"noise", func(e *configs.Experiment) { e.Noise.Distribution = "cauchy" }, graph.Image{C: 1, H: 4, W: 4}, "noise.distribution: "},
		{"loss", func(e *configs.Experiment) { e.Loss.Kind = "hinge" }, graph.Image{C: 1, H: 4, W: 4}, "loss.kind: "},
		{"pool kind", func(e *configs.Experiment) {
			c := configs.NewConvLayer(2, 3)
			c.PoolKind = "median"
			e.Model.Conv = []configs.ConvLayer{c}
		}, graph.Image{C: 1, H: 8, W: 8}, "model.conv[0].pool_kind: "},
		{"kernel larger than the image", func(e *configs.Experiment) {
			e.Model.Conv = []configs.ConvLayer{configs.NewConvLayer(2, 5)}
		}, graph.Image{C: 1, H: 3, W: 3}, "model.conv: "},
		{"no width", func(e *configs.Experiment) { e.Model.Hidden = []int{0} }, graph.Image{C: 1, H: 4, W: 4}, "model.hidden: "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			exp := valid(t)
			exp.Model.Bias = "all"
			c.change(exp)
			_, err := Spec(exp, c.image, 3)
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to start with %q", err, c.want)
			}
		})
	}
}

func TestEstimator(t *testing.T) {
	exp := valid(t)
	spec, err := Spec(exp, graph.Image{C: 1, H: 4, W: 5}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if spec.Params, err = graph.NewParams(spec); err != nil {
		t.Fatal(err)
	}
	e, err := Estimator(exp, spec, 4)
	if err != nil {
		t.Fatal(err)
	}
	e.Close()
	exp.Estimator.Settings = nil
	if _, err := Estimator(exp, spec, 4); err == nil || !strings.Contains(err.Error(), `estimator: no settings for kind "glr"`) {
		t.Errorf("no settings: err = %v", err)
	}
}

func TestData(t *testing.T) {
	train, test, err := Data(valid(t))
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 50 || test.Len() != 20 || train.Name != "mnist/train" || test.Name != "mnist/test" {
		t.Errorf("sets %s of %d and %s of %d; want mnist's, 50 and 20", train.Name, train.Len(), test.Name, test.Len())
	}
	if img := Image(train); img != (graph.Image{C: 1, H: 28, W: 28}) {
		t.Errorf("Image = %+v", img)
	}
	missing := filepath.Join(t.TempDir(), "missing")
	cases := []struct {
		name    string
		dataset string
		path    string
		want    string
	}{
		{"unknown", "cifar", "", `data.dataset: unknown dataset "cifar" (want mnist | fashion-mnist | tiny-imagenet)`},
		{"missing mnist", "mnist", missing, "data: datasets: " + missing},
		{"missing fashion-mnist", "fashion-mnist", missing, "data: datasets: " + missing},
		{"missing tiny-imagenet", "tiny-imagenet", missing, "data: "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			exp := valid(t)
			exp.Data.Dataset, exp.Data.Path = c.dataset, c.path
			if c.dataset == "tiny-imagenet" {
				exp.Data.Classes, exp.Data.ImageSize = 2, 16
			}
			if _, _, err := Data(exp); err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to start with %q", err, c.want)
			}
		})
	}
}
