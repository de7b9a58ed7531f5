package configs

import (
	"fmt"
	"os"
	"slices"
)

// Experiment is one decoded experiment file. The zero value is not useful;
// start from [Default].
type Experiment struct {
	Name      string    `toml:"name"`      // required, non-empty
	Seed      uint64    `toml:"seed"`      // random seed; at most math.MaxInt64
	Model     Model     `toml:"model"`     // the network
	Noise     Noise     `toml:"noise"`     // noise injected into the network
	Estimator Estimator `toml:"estimator"` // gradient estimator
	Loss      Loss      `toml:"loss"`      // training loss
	Data      Data      `toml:"data"`      // data set and batching
	Optimizer Optimizer `toml:"optimizer"` // parameter updates
	Train     Train     `toml:"train"`     // training length
	Arms      []Arm     `toml:"arms"`      // variants run side by side; may be empty

	// Source is the file the experiment was read from, used in error
	// messages; it is empty for an experiment built in code and is not
	// encoded.
	Source string `toml:"-"`
}

// Model describes a fully connected network.
type Model struct {
	Hidden     []int  `toml:"hidden"`     // hidden layer widths, input side first; empty for none
	Activation string `toml:"activation"` // sigmoid | threshold | relu | tanh
	Bias       string `toml:"bias"`       // input | all | none
	Init       string `toml:"init"`       // scaled-normal | glorot
	Dtype      string `toml:"dtype"`      // float64 | float32
}

// Noise describes the noise added to the network's pre-activations.
type Noise struct {
	Distribution string  `toml:"distribution"` // gaussian | laplace
	Scale        float64 `toml:"scale"`        // standard deviation (gaussian) or b (laplace)
	AtEval       bool    `toml:"at_eval"`      // also add noise when evaluating
}

// Estimator selects how gradients are estimated.
type Estimator struct {
	Kind       string `toml:"kind"`       // glr | bp
	Copies     int    `toml:"copies"`     // noisy copies of the network per example
	Baseline   string `toml:"baseline"`   // none | batch-mean | leave-one-out | clean
	Antithetic bool   `toml:"antithetic"` // pair copies with negated noise; needs even Copies
	Noise      bool   `toml:"noise"`      // bp only: differentiate through the noisy network
}

// Loss selects the training loss.
type Loss struct {
	Kind string `toml:"kind"` // cross-entropy | zero-one | squared
}

// Data selects the data set and how it is batched.
type Data struct {
	Dataset    string `toml:"dataset"`     // mnist | fashion-mnist | tiny-imagenet
	Path       string `toml:"path"`        // "" selects the embedded copy (mnist only)
	BatchSize  int    `toml:"batch_size"`  // examples per step
	TrainLimit int    `toml:"train_limit"` // use at most this many training examples; 0 for all
	TestLimit  int    `toml:"test_limit"`  // use at most this many test examples; 0 for all
	Classes    int    `toml:"classes"`     // tiny-imagenet: the first N classes of wnids.txt
	ImageSize  int    `toml:"image_size"`  // tiny-imagenet: side of the square grayscale image
	Sin        bool   `toml:"sin"`         // tiny-imagenet: apply x ← sin(x) to the pixels (the seed's quirk)
}

// Optimizer selects the parameter update rule and its learning-rate schedule.
type Optimizer struct {
	Kind         string  `toml:"kind"`          // sgd | momentum | adagrad | adam
	LearningRate float64 `toml:"learning_rate"` // initial step size
	WeightDecay  float64 `toml:"weight_decay"`  // L2 penalty; 0 for none
	DecayFactor  float64 `toml:"decay_factor"`  // learning-rate multiplier, in (0, 1]
	DecayEvery   int     `toml:"decay_every"`   // epochs between decays; 0 for never
}

// Train sets how long to train.
type Train struct {
	Epochs int `toml:"epochs"` // passes over the training data
}

// Arm is one variant of an experiment: a name and the keys it overrides. A
// nil field in an override keeps the experiment's value.
type Arm struct {
	Name      string            `toml:"name"` // required, unique among arms
	Estimator EstimatorOverride `toml:"estimator"`
	Loss      LossOverride      `toml:"loss"`
	Noise     NoiseOverride     `toml:"noise"`
	Optimizer OptimizerOverride `toml:"optimizer"`
}

// EstimatorOverride holds an arm's overrides of [Estimator]; nil fields keep
// the experiment's value.
type EstimatorOverride struct {
	Kind       *string `toml:"kind"`
	Copies     *int    `toml:"copies"`
	Baseline   *string `toml:"baseline"`
	Antithetic *bool   `toml:"antithetic"`
	Noise      *bool   `toml:"noise"`
}

// LossOverride holds an arm's overrides of [Loss]; nil fields keep the
// experiment's value.
type LossOverride struct {
	Kind *string `toml:"kind"`
}

// NoiseOverride holds an arm's overrides of [Noise]; nil fields keep the
// experiment's value.
type NoiseOverride struct {
	Distribution *string  `toml:"distribution"`
	Scale        *float64 `toml:"scale"`
	AtEval       *bool    `toml:"at_eval"`
}

// OptimizerOverride holds an arm's overrides of [Optimizer]; nil fields keep
// the experiment's value.
type OptimizerOverride struct {
	Kind         *string  `toml:"kind"`
	LearningRate *float64 `toml:"learning_rate"`
	WeightDecay  *float64 `toml:"weight_decay"`
	DecayFactor  *float64 `toml:"decay_factor"`
	DecayEvery   *int     `toml:"decay_every"`
}

// ArmConfig is the complete configuration of one arm: the experiment with
// the arm's overrides applied and no arms of its own. Name is the arm's
// name; the embedded Experiment keeps the experiment's name.
type ArmConfig struct {
	Name string
	Experiment
}

// Default returns an experiment with every key at its default value and an
// empty name.
func Default() Experiment {
	return Experiment{
		Seed: 1,
		Model: Model{
			Hidden:     []int{50},
			Activation: "sigmoid",
			Bias:       "input",
			Init:       "scaled-normal",
			Dtype:      "float64",
		},
		Noise:     Noise{Distribution: "laplace", Scale: 1},
		Estimator: Estimator{Kind: "glr", Copies: 1, Baseline: "none"},
		Loss:      Loss{Kind: "cross-entropy"},
		Data:      Data{Dataset: "mnist", BatchSize: 32, Classes: 10, ImageSize: 32},
		Optimizer: Optimizer{Kind: "sgd", LearningRate: 0.01, DecayFactor: 1},
		Train:     Train{Epochs: 1},
	}
}

// Load reads the experiment file at path and returns what [Parse] returns
// for its contents.
func Load(path string, sets ...string) (*Experiment, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("loading experiment: %w", err)
	}
	return Parse(path, data, sets...)
}

// Parse decodes the TOML experiment in data, applies the overrides in sets,
// then validates the result. Keys missing from data take their default
// values (see [Default]). path names the source in error messages and is
// stored in Experiment.Source.
//
// Each override has the form KEY=VALUE, where KEY is a dotted key such as
// noise.scale, or arms[N].KEY to change the arm with index N (counting from
// 0), and VALUE is a TOML value such as 0.5, [100, 50] or "bp". A string may
// be written without quotes (estimator.kind=bp).
//
// On failure the error lists every problem found in the first stage that
// failed (syntax, keys and types, overrides, values), one *Error per line.
func Parse(path string, data []byte, sets ...string) (*Experiment, error) {
	d, err := decode(path, data)
	if err != nil {
		return nil, err
	}
	e := d.exp
	if errs := d.applySets(&e, sets); len(errs) > 0 {
		return nil, joinErrors(errs)
	}
	if errs := d.locate(e.problems()); len(errs) > 0 {
		return nil, joinErrors(errs)
	}
	return &e, nil
}

// Resolved returns one configuration per arm, in order: the experiment with
// that arm's overrides applied. An experiment without arms yields a single
// configuration named after the experiment. The configurations share no
// memory with e. They are valid if e is.
func (e *Experiment) Resolved() []ArmConfig {
	if len(e.Arms) == 0 {
		return []ArmConfig{{Name: e.Name, Experiment: e.base()}}
	}
	out := make([]ArmConfig, len(e.Arms))
	for i, a := range e.Arms {
		out[i] = ArmConfig{Name: a.Name, Experiment: e.resolve(a)}
	}
	return out
}

// base returns a deep copy of e without its arms.
func (e *Experiment) base() Experiment {
	b := *e
	b.Arms = nil
	b.Model.Hidden = slices.Clone(e.Model.Hidden)
	return b
}

// resolve returns a deep copy of e, without arms, with a's overrides applied.
func (e *Experiment) resolve(a Arm) Experiment {
	r := e.base()
	a.Estimator.apply(&r.Estimator)
	a.Loss.apply(&r.Loss)
	a.Noise.apply(&r.Noise)
	a.Optimizer.apply(&r.Optimizer)
	return r
}

func (o EstimatorOverride) apply(e *Estimator) {
	set(&e.Kind, o.Kind)
	set(&e.Copies, o.Copies)
	set(&e.Baseline, o.Baseline)
	set(&e.Antithetic, o.Antithetic)
	set(&e.Noise, o.Noise)
}

func (o LossOverride) apply(l *Loss) {
	set(&l.Kind, o.Kind)
}

func (o NoiseOverride) apply(n *Noise) {
	set(&n.Distribution, o.Distribution)
	set(&n.Scale, o.Scale)
	set(&n.AtEval, o.AtEval)
}

func (o OptimizerOverride) apply(p *Optimizer) {
	set(&p.Kind, o.Kind)
	set(&p.LearningRate, o.LearningRate)
	set(&p.WeightDecay, o.WeightDecay)
	set(&p.DecayFactor, o.DecayFactor)
	set(&p.DecayEvery, o.DecayEvery)
}

// set stores *v in dst if v is not nil.
func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}
