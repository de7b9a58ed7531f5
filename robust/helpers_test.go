package robust

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/glr-project/glr/assemble"
	"github.com/glr-project/glr/configs"
	"github.com/glr-project/glr/datasets"
	"github.com/glr-project/glr/models"
	"github.com/glr-project/glr/runner"
)

// The small models the tests evaluate, trained once per test binary on
// MNIST subsets (the embedded copy): a backpropagation-trained sigmoid MLP,
// a GLR-trained threshold MLP, and a sigmoid MLP that predicts with
// Gaussian noise (noise.at_eval). Each trains in about a second.
const (
	tinyBP = `
name = "tiny-bp"
seed = 2
[model]
hidden = [32]
activation = "sigmoid"
[estimator]
kind = "bp"
[data]
train_limit = 2000
test_limit = 500
batch_size = 50
[optimizer]
kind = "adam"
learning_rate = 0.01
[train]
epochs = 3
`
	tinyThreshold = `
name = "tiny-lrt"
seed = 2
[model]
hidden = [32]
activation = "threshold"
[noise]
scale = 0.5
[estimator]
kind = "glr"
copies = 20
baseline = "leave-one-out"
[data]
train_limit = 2000
test_limit = 500
batch_size = 32
[optimizer]
kind = "adam"
learning_rate = 0.003
[train]
epochs = 5
`
	tinyNoisy = `
name = "tiny-noisy"
seed = 2
[model]
hidden = [32]
activation = "sigmoid"
[noise]
distribution = "gaussian"
scale = 0.5
at_eval = true
[estimator]
kind = "bp"
noise = true
[data]
train_limit = 2000
test_limit = 500
batch_size = 50
[optimizer]
kind = "adam"
learning_rate = 0.01
[train]
epochs = 3
`
)

var (
	trainOnce sync.Once
	trainDir  string
	trainErr  error
)

// TestMain removes the models the tests trained.
func TestMain(m *testing.M) {
	code := m.Run()
	if trainDir != "" {
		os.RemoveAll(trainDir)
	}
	os.Exit(code)
}

// trainedModels trains the three small models (once) and returns their run
// directories by name.
func trainedModels(t *testing.T) map[string]string {
	t.Helper()
	trainOnce.Do(func() {
		if trainDir, trainErr = os.MkdirTemp("", "robust-test-"); trainErr != nil {
			return
		}
		for _, src := range []string{tinyBP, tinyThreshold, tinyNoisy} {
			exp, err := configs.Parse("tiny.toml", []byte(src))
			if err != nil {
				trainErr = err
				return
			}
			if _, _, err := runner.Run(exp, runner.RunOptions{Out: filepath.Join(trainDir, exp.Name)}); err != nil {
				trainErr = fmt.Errorf("training %s: %w", exp.Name, err)
				return
			}
		}
	})
	if trainErr != nil {
		t.Fatal(trainErr)
	}
	return map[string]string{
		"tiny-bp":    filepath.Join(trainDir, "tiny-bp"),
		"tiny-lrt":   filepath.Join(trainDir, "tiny-lrt"),
		"tiny-noisy": filepath.Join(trainDir, "tiny-noisy"),
	}
}

// load loads the named small models and their test set.
func load(t *testing.T, names ...string) ([]*models.Trained, *datasets.Set) {
	t.Helper()
	dirs := trainedModels(t)
	var out []*models.Trained
	for _, n := range names {
		ms, err := models.Load(dirs[n])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ms...)
	}
	_, test, err := assemble.Data(&out[0].Config.Experiment)
	if err != nil {
		t.Fatal(err)
	}
	return out, test
}

// settings returns small settings for the tests: few images, budgets and
// queries.
func settings(sets ...string) configs.Robustness {
	s := configs.DefaultRobustness()
	s.Sets = sets
	s.Eps = []float64{0.1, 0.2}
	s.Severities = []int{2, 5}
	s.N = 60
	s.Seed = 3
	s.Attack.Queries = 200
	s.Attack.HSJQueries = 300
	s.Attack.PGDSteps = 5
	s.Attack.ZOSamples = 10
	s.Attack.EOT = 3
	return s
}

// accuracies maps "model set@param" to the rows' accuracies.
func accuracies(rows []Row) map[string]float64 {
	acc := map[string]float64{}
	for _, r := range rows {
		acc[fmt.Sprintf("%s %s@%g", r.Model, r.Set, r.Param)] = r.Accuracy
	}
	return acc
}
