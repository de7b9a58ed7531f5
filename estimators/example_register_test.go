package estimators_test

import (
	"fmt"
	"math"
	"os"

	"github.com/glr-project/glr/configs"
	"github.com/glr-project/glr/estimators"
	"github.com/glr-project/glr/graph"
	"github.com/glr-project/glr/runner"
	"gorgonia.org/tensor"
)

// ClippedSettings are the TOML keys of a small custom kind: GLR whose
// estimate is clipped elementwise to [−clip, clip], a common guard against
// the rare huge likelihood-ratio weights of a noisy step.
type ClippedSettings struct {
	Copies int     `toml:"copies"`
	Clip   float64 `toml:"clip"`
}

// Target: clipping biases the estimate, so it is a surrogate of the
// smoothed gradient. (A kind whose target is a surrogate implements
// estimators.Referencer for the conformance kit; this example skips it.)
func (s *ClippedSettings) Target() estimators.Target { return estimators.Surrogate }

func (s *ClippedSettings) String() string {
	return fmt.Sprintf("glr-clipped K=%d clip=%g", s.Copies, s.Clip)
}

// Check reports impossible values, naming their keys.
func (s *ClippedSettings) Check(info estimators.Info) []estimators.Problem {
	var ps []estimators.Problem
	if s.Copies < 1 {
		ps = append(ps, estimators.Problem{Key: "copies", Msg: fmt.Sprintf("must be >= 1, got %d", s.Copies)})
	}
	if !(s.Clip > 0) {
		ps = append(ps, estimators.Problem{Key: "clip", Msg: fmt.Sprintf("must be > 0, got %v", s.Clip)})
	}
	return ps
}

// New builds the registered glr estimator and wraps it.
func (s *ClippedSettings) New(base graph.Spec) (estimators.Estimator, error) {
	glr, err := (&estimators.GLRSettings{Copies: s.Copies, Baseline: "leave-one-out", Sampler: "iid"}).New(base)
	if err != nil {
		return nil, err
	}
	return clipped{glr, s.Clip}, nil
}

type clipped struct {
	estimators.Estimator
	clip float64
}

func (c clipped) Estimate(batch graph.Examples, step uint64, grads []*tensor.Dense) (estimators.Stats, error) {
	st, err := c.Estimator.Estimate(batch, step, grads)
	for _, g := range grads {
		for i, v := range g.Float64s() {
			g.Float64s()[i] = math.Max(-c.clip, math.Min(c.clip, v))
		}
	}
	return st, err
}

// ExampleRegister adds an estimator kind in one file and one registration,
// then trains with it from an experiment written in TOML, beside glr.
func ExampleRegister() {
	estimators.MustRegister(estimators.Kind{
		Name:        "glr-clipped",
		Summary:     "GLR clipped elementwise",
		NewSettings: func() estimators.Settings { return &ClippedSettings{Copies: 4, Clip: 1} },
	})
	exp, err := configs.Parse("example.toml", []byte(`
name = "clipped"
[model]
hidden = [16]
activation = "sigmoid"
[estimator]
kind = "glr-clipped"
copies = 8
clip = 0.05
[data]
train_limit = 10000
test_limit = 1000
[optimizer]
kind = "adam"
learning_rate = 0.01
[[arms]]
name = "clipped"
[[arms]]
name = "glr"
[arms.estimator]
kind = "glr"
copies = 8
baseline = "leave-one-out"
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	_, summary, err := runner.Run(exp, runner.RunOptions{Out: dir + "/run"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, a := range summary.Arms {
		fmt.Printf("%s (%s): above 60%%: %t\n", a.Name, a.Estimator, a.FinalTestAccuracy > 0.6)
	}
	// Output:
	// clipped (glr-clipped K=8 clip=0.05): above 60%: true
	// glr (glr K=8 leave-one-out): above 60%: true
}
