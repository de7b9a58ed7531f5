package runner

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glr-project/glr/datasets"
)

const tinyBP = `
name = "tiny"
seed = 2
[model]
hidden = [16]
activation = "sigmoid"
[estimator]
kind = "bp"
[data]
train_limit = 1000
test_limit = 200
batch_size = 50
[optimizer]
kind = "adam"
learning_rate = 0.01
[train]
epochs = 2
`

// trainedTiny trains a small BP model on an MNIST subset and returns its
// run directory and test set.
func trainedTiny(t *testing.T) (string, *datasets.Set) {
	t.Helper()
	exp := experiment(t, tinyBP)
	dir := filepath.Join(t.TempDir(), "tiny")
	if _, err := Run(exp, RunOptions{Out: dir}); err != nil {
		t.Fatal(err)
	}
	_, test, err := LoadData(exp)
	if err != nil {
		t.Fatal(err)
	}
	return dir, test
}

func TestRobustEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on MNIST")
	}
	dir, test := trainedTiny(t)
	models, err := LoadModels(dir)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := Robust(models, test, RobustOptions{
		Sets: []string{SetClean, SetFGSM, SetPGD, SetZOFGSM, "gaussian", "rotate"}, Eps: []float64{0, 0.2},
		Severities: []int{1, 5}, Limit: 100, ZOSamples: 20, Seed: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	acc := map[string]float64{}
	for _, r := range rows {
		acc[fmt.Sprintf("%s@%g", r.Set, r.Param)] = r.Accuracy
	}
	clean := acc["clean@0"]
	if clean < 0.6 {
		t.Fatalf("clean accuracy %.2f: the tiny model did not learn", clean)
	}
	// ε = 0 changes nothing; ε = 0.2 white-box attacks hurt a BP model.
	for _, set := range []string{SetFGSM, SetPGD, SetZOFGSM} {
		if a := acc[set+"@0"]; a != clean {
			t.Errorf("%s at ε=0: accuracy %.2f, clean %.2f", set, a, clean)
		}
		if a := acc[set+"@0.2"]; a >= clean-0.2 {
			t.Errorf("%s at ε=0.2: accuracy %.2f, clean %.2f: the attack does not bite", set, a, clean)
		}
	}
	if len(rows) != 1+2*3+2*2 {
		t.Errorf("%d rows, want 11", len(rows))
	}
	out := filepath.Join(t.TempDir(), "robust")
	if err := WriteRobustFiles(out, rows); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"robust.json", "robust.md", "robust.csv", "accuracy-vs-eps.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}

	// Bad input: a model whose input size does not fit the data, an unknown
	// set, a transfer set without a substitute.
	small := &datasets.Set{Name: "small", Height: 14, Width: 14, Features: 196, Classes: 10, X: make([]float64, 196), Labels: []int{0}}
	if _, err := Robust(models, small, RobustOptions{Sets: []string{SetClean}}); err == nil || !strings.Contains(err.Error(), "takes inputs of shape [785 16]") {
		t.Errorf("input mismatch: err = %v", err)
	}
	if _, err := Robust(models, test, RobustOptions{Sets: []string{"snow"}}); err == nil || !strings.Contains(err.Error(), `unknown set "snow"`) {
		t.Errorf("unknown set: err = %v", err)
	}
	if _, err := Robust(models, test, RobustOptions{Sets: []string{SetFGSMTransfer}}); err == nil || !strings.Contains(err.Error(), "needs a substitute model") {
		t.Errorf("no substitute: err = %v", err)
	}
}

func TestLoadModelsErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	if _, err := LoadModels(missing); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing dir: err = %v", err)
	}
	empty := t.TempDir()
	if _, err := LoadModels(empty); err == nil || !strings.Contains(err.Error(), "is not a run directory") {
		t.Errorf("not a run: err = %v", err)
	}
}
