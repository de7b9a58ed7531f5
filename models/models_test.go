package models_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glr-project/glr/assemble"
	"github.com/glr-project/glr/checkpoint"
	"github.com/glr-project/glr/configs"
	"github.com/glr-project/glr/datasets"
	"github.com/glr-project/glr/graph"
	"github.com/glr-project/glr/models"
	"github.com/glr-project/glr/runner"
	"gorgonia.org/tensor"
)

// handSpec is a 2×2-pixel, 3-class network without hidden layers, bias
// "input": the logits are x·W for x = (p0, p1, p2, p3, 1), and W passes
// pixels 0, 1 and 2 to classes 0, 1 and 2, giving class 2 a bias of −0.5.
func handSpec(t *testing.T, dtype string) graph.Spec {
	t.Helper()
	exp, err := configs.Parse("hand.toml", []byte("name = \"hand\"\n[model]\nhidden = []\ndtype = \""+dtype+"\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	spec, err := assemble.Spec(exp, graph.Image{C: 1, H: 2, W: 2}, 3)
	if err != nil {
		t.Fatal(err)
	}
	spec.Params = models.Tensors([]checkpoint.Param{{Name: "layer1/W", Shape: []int{5, 3}, Values: handW}}, spec.Dtype)
	return spec
}

var handW = []float64{
	1, 0, 0, // pixel 0
	0, 1, 0, // pixel 1
	0, 0, 1, // pixel 2
	0, 0, 0, // pixel 3
	0, 0, -0.5, // the constant 1
}

// handLogits computes the logits of handSpec's network by hand.
func handLogits(x []float64) []float64 {
	return []float64{x[0], x[1], x[2] - 0.5}
}

func crossEntropy(z []float64, y int) float64 {
	m := math.Max(z[0], math.Max(z[1], z[2]))
	var s float64
	for _, v := range z {
		s += math.Exp(v - m)
	}
	return m + math.Log(s) - z[y]
}

// handSet is five 2×2 images: the predictions are 0, 1, 1, 0, 1 for labels
// 0, 1, 2, 0, 0, three of five right.
func handSet(t *testing.T) *datasets.Set {
	t.Helper()
	s, err := datasets.NewSet("hand", 2, 2, 3, []byte{
		255, 0, 0, 0,
		0, 255, 0, 0,
		0, 200, 255, 0,
		0, 0, 0, 255,
		10, 20, 30, 0,
	}, []int{0, 1, 2, 0, 0})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func pixels(t *testing.T, s *datasets.Set) []float64 {
	t.Helper()
	x := make([]float64, s.Len()*s.Features)
	idx := make([]int, s.Len())
	for i := range idx {
		idx[i] = i
	}
	if err := s.Gather(idx, x, make([]int, s.Len())); err != nil {
		t.Fatal(err)
	}
	return x
}

// TestClassifierByHand checks every output of a classifier against the
// network computed by hand, in float64 and float32.
func TestClassifierByHand(t *testing.T) {
	for _, dtype := range []string{"float64", "float32"} {
		t.Run(dtype, func(t *testing.T) {
			tol := 1e-12
			if dtype == "float32" {
				tol = 1e-6
			}
			c, err := models.NewClassifier(handSpec(t, dtype), false)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			set := handSet(t)
			x := pixels(t, set)
			var wantLoss float64
			wantLogits := make([]float64, 0, 15)
			for i, y := range set.Labels {
				z := handLogits(x[4*i : 4*i+4])
				wantLogits = append(wantLogits, z...)
				wantLoss += crossEntropy(z, y)
			}
			wantLoss /= 5

			r, err := c.Evaluate(set)
			if err != nil {
				t.Fatal(err)
			}
			wantConfusion := [][]int{{2, 1, 0}, {0, 1, 0}, {0, 1, 0}}
			if r.Accuracy != 0.6 || math.Abs(r.Loss-wantLoss) > tol || !equalInts(r.Confusion, wantConfusion) {
				t.Errorf("Evaluate: accuracy %v, loss %v, confusion %v; want 0.6, %v, %v", r.Accuracy, r.Loss, r.Confusion, wantLoss, wantConfusion)
			}
			pred := make([]int, 5)
			if err := c.Predict(x, pred); err != nil || !equalInts([][]int{pred}, [][]int{{0, 1, 1, 0, 1}}) {
				t.Errorf("Predict: %v, %v", pred, err)
			}
			logits := make([]float64, 15)
			if err := c.Logits(x, logits); err != nil {
				t.Fatal(err)
			}
			for i := range logits {
				if math.Abs(logits[i]-wantLogits[i]) > tol {
					t.Errorf("logit %d: %v, want %v", i, logits[i], wantLogits[i])
				}
			}
			losses := make([]float64, 5)
			if err := c.Losses(x, set.Labels, losses); err != nil {
				t.Fatal(err)
			}
			for i, y := range set.Labels {
				if want := crossEntropy(wantLogits[3*i:3*i+3], y); math.Abs(losses[i]-want) > tol {
					t.Errorf("loss %d: %v, want %v", i, losses[i], want)
				}
			}
		})
	}
}

// TestInputGradient compares the classifier's input gradient with central
// differences of its per-example losses (float64: the differences are
// accurate to about 1e-9 with h = 1e-5).
func TestInputGradient(t *testing.T) {
	c, err := models.NewClassifier(handSpec(t, "float64"), false)
	if err != nil {
		t.Fatal(err)
	}
	set := handSet(t)
	x := pixels(t, set)
	grad := make([]float64, len(x))
	if err := c.InputGradient(x, set.Labels, grad); err != nil {
		t.Fatal(err)
	}
	const h = 1e-5
	lp, lm := make([]float64, 5), make([]float64, 5)
	for j := range x {
		xp, xm := append([]float64(nil), x...), append([]float64(nil), x...)
		xp[j] += h
		xm[j] -= h
		if err := c.Losses(xp, set.Labels, lp); err != nil {
			t.Fatal(err)
		}
		if err := c.Losses(xm, set.Labels, lm); err != nil {
			t.Fatal(err)
		}
		i := j / 4
		if fd := (lp[i] - lm[i]) / (2 * h); math.Abs(fd-grad[j]) > 1e-7 {
			t.Errorf("d loss_%d / d x_%d = %v, central difference %v", i, j, grad[j], fd)
		}
	}
}

func TestClassifierErrors(t *testing.T) {
	spec := handSpec(t, "float64")
	c, err := models.NewClassifier(spec, false)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := datasets.NewSet("wide", 3, 3, 3, make([]byte, 9), []int{0})
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"features", c.Predict(make([]float64, 7), make([]int, 2)), "7 features for 2 examples of 4"},
		{"loss slots", c.Losses(make([]float64, 8), []int{0, 1}, make([]float64, 1)), "1 loss slots for 2 examples"},
		{"logit slots", c.Logits(make([]float64, 8), make([]float64, 5)), "5 logit slots for 2 examples of 3 classes"},
		{"gradient slots", c.InputGradient(make([]float64, 8), []int{0, 1}, make([]float64, 3)), "3 gradient slots for 8 features"},
		{"another geometry", evalErr(c, other), "wide has 9 features and 3 classes, the network 4 and 3"},
	}
	for _, tc := range cases {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, tc.err, tc.want)
		}
	}
	spec.Params = nil
	if _, err := models.NewClassifier(spec, false); err == nil {
		t.Error("a classifier without weights")
	}
}

func evalErr(c *models.Classifier, s *datasets.Set) error {
	_, err := c.Evaluate(s)
	return err
}

func equalInts(a, b [][]int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				return false
			}
		}
	}
	return true
}

func TestTensorsParamsRoundTrip(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		spec := handSpec(t, dt.String())
		net, err := graph.Build(func() graph.Spec { s := spec; s.Batch = 1; return s }())
		if err != nil {
			t.Fatal(err)
		}
		ps := models.Params(net)
		if len(ps) != 1 || ps[0].Name != "layer1/W" || len(ps[0].Shape) != 2 || ps[0].Shape[0] != 5 || ps[0].Shape[1] != 3 {
			t.Fatalf("%v: params %+v", dt, ps)
		}
		for i, v := range ps[0].Values {
			if v != handW[i] {
				t.Errorf("%v: value %d is %v, want %v", dt, i, v, handW[i])
			}
		}
	}
}

const tiny = `
name = "tiny"
seed = 2
[model]
hidden = [8]
activation = "sigmoid"
[estimator]
kind = "glr"
copies = 2
[data]
train_limit = 300
test_limit = 100
[train]
epochs = 1
`

// TestLoad loads trained arms from run directories and checkpoint files,
// and refuses what is not one.
func TestLoad(t *testing.T) {
	parent := t.TempDir()
	train := func(name, toml string) string {
		exp, err := configs.Parse("t.toml", []byte(toml))
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(parent, name)
		if _, _, err := runner.Run(exp, runner.RunOptions{Out: dir}); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	one := train("tiny", tiny)
	two := train("two", tiny+"[[arms]]\nname = \"a\"\n[[arms]]\nname = \"b\"\n[arms.optimizer]\nlearning_rate = 0.5\n")

	ms, err := models.Load(one)
	if err != nil || len(ms) != 1 || ms[0].Name != "tiny" || ms[0].Index != 0 || ms[0].State.Epoch != 1 {
		t.Fatalf("Load(%s): %v, %+v", one, err, ms)
	}
	ms, err = models.Load(two)
	if err != nil || len(ms) != 2 || models.Names(ms) != "two/a, two/b" || ms[1].Config.Optimizer.LearningRate != 0.5 {
		t.Fatalf("Load(%s): %v, %s", two, err, models.Names(ms))
	}
	ms, err = models.Load(checkpoint.Path(two, 1, "b"))
	if err != nil || len(ms) != 1 || ms[0].Name != "two/b" || ms[0].Index != 1 {
		t.Fatalf("Load of b's checkpoint: %v, %+v", err, ms)
	}

	// The loaded model evaluates as the run did.
	m, err := models.Load(one)
	if err != nil {
		t.Fatal(err)
	}
	_, test, err := assemble.Data(&m[0].Config.Experiment)
	if err != nil {
		t.Fatal(err)
	}
	c, err := m[0].Classifier(assemble.Image(test), test.Classes, "", false)
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Evaluate(test)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(one, "metrics.jsonl"))
	if !strings.Contains(string(b), `"test_loss":`+formatJSON(r.Loss)) {
		t.Errorf("test loss %v is not the run's: %s", r.Loss, b)
	}
	if _, err := m[0].Classifier(graph.Image{C: 1, H: 14, W: 14}, 10, "", false); err == nil || !strings.Contains(err.Error(), "does not fit") {
		t.Errorf("14×14 images: err = %v", err)
	}

	noCkpt := filepath.Join(parent, "nockpt")
	os.MkdirAll(noCkpt, 0o755)
	os.WriteFile(filepath.Join(noCkpt, "resolved.toml"), []byte(tiny), 0o644)
	stray := filepath.Join(parent, "stray.ckpt")
	b, _ = os.ReadFile(checkpoint.Path(one, 0, "tiny"))
	os.WriteFile(stray, b, 0o644)
	cases := []struct {
		path, want string
	}{
		{filepath.Join(parent, "missing"), "load model: stat "},
		{parent, "is not a run directory"},
		{noCkpt, "holds no trained arm (no checkpoints)"},
		{stray, "is not a run directory"},
	}
	for _, c := range cases {
		if _, err := models.Load(c.path); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Load(%s): err = %v, want %q", c.path, err, c.want)
		}
	}
	// A run's checkpoint put in place of another arm's is refused.
	if err := os.WriteFile(checkpoint.Path(two, 0, "a"), mustRead(t, checkpoint.Path(two, 1, "b")), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := models.Load(two); err == nil || !strings.Contains(err.Error(), `holds arm "b", the run's arm 0 is "a"`) {
		t.Errorf("swapped checkpoint: err = %v", err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func formatJSON(v float64) string {
	b, _ := json.Marshal(v)
	return string(b)
}
