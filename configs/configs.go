package configs

import (
	"fmt"
	"os"
	"slices"

	"github.com/glr-project/glr/estimators"
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

// Model describes the network: optional convolution layers, then fully
// connected hidden layers, then the output layer with one unit per class.
type Model struct {
	Conv       []ConvLayer `toml:"conv"`       // convolution layers, input side first; nil for none
	Hidden     []int       `toml:"hidden"`     // hidden layer widths, input side first; empty for none
	Activation string      `toml:"activation"` // sigmoid | threshold | relu | tanh
	Bias       string      `toml:"bias"`       // input | all | none
	Init       string      `toml:"init"`       // scaled-normal | glorot
	Dtype      string      `toml:"dtype"`      // float64 | float32
}

// ConvLayer is one convolution layer of a [Model]: Filters square kernels
// of Kernel×Kernel pixels over all the input's channels, moved by Stride
// pixels over the input zero-padded by Padding pixels on every side, then
// the activation, then non-overlapping Pool×Pool pooling windows. In a
// file, a layer's table must give filters and kernel; the other keys
// default to the values [NewConvLayer] gives.
type ConvLayer struct {
	Filters  int    `toml:"filters"`   // output channels, >= 1
	Kernel   int    `toml:"kernel"`    // side of the square kernel, >= 1
	Stride   int    `toml:"stride"`    // step of the kernel, >= 1
	Padding  int    `toml:"padding"`   // zeros added on each side, in [0, Kernel)
	Pool     int    `toml:"pool"`      // side and stride of the pooling window; 1 for none
	PoolKind string `toml:"pool_kind"` // max | avg
	// NoiseAfter says where the layer's noise site is: "conv", one noise
	// value per output position and filter of the convolution, before the
	// activation and the pooling; or "pool", one per pooled position and
	// filter, with the pooling moved before the activation (which, for max
	// pooling, leaves the noise-free network the same function).
	NoiseAfter string `toml:"noise_after"` // conv | pool
}

// NewConvLayer returns a layer of filters kernels of side kernel with the
// defaults of the other keys: stride 1, no padding, no pooling (pool 1),
// max pooling, and the noise after the convolution.
func NewConvLayer(filters, kernel int) ConvLayer {
	return ConvLayer{Filters: filters, Kernel: kernel, Stride: 1, Pool: 1, PoolKind: "max", NoiseAfter: "conv"}
}

// Noise describes the noise added to the network's pre-activations.
type Noise struct {
	Distribution string `toml:"distribution"` // gaussian | laplace
	Scale        Scales `toml:"scale"`        // standard deviation (gaussian) or b (laplace)
	AtEval       bool   `toml:"at_eval"`      // also add noise when evaluating
}

// Scales holds the noise scale of each noise site, input side first, or a
// single scale for every site. In a file it is a number (scale = 0.5) or an
// array with one number per site (scale = [0.5, 1.0]).
type Scales []float64

// Estimator selects how gradients are estimated: a registered estimator
// kind (see package estimators) and that kind's settings. In a file it is
// the [estimator] table: the key kind, then the keys of the kind's
// settings.
type Estimator struct {
	Kind string `toml:"kind"` // a name from estimators.Names()
	// Settings are the kind's settings, as the kind's NewSettings returns
	// them with the file's keys applied.
	Settings estimators.Settings `toml:"-"`
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
	Sin        bool   `toml:"sin"`         // tiny-imagenet: apply x ← sin(x) to the pixels (GLR_ADV's input transform)
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

// EstimatorOverride holds an arm's overrides of [Estimator]. The arm's
// kind is Kind if set, else the experiment's. An arm whose kind differs
// from the experiment's starts from that kind's default settings (the
// experiment's keys belong to another kind); otherwise it starts from the
// experiment's settings. Settings then overrides them key by key.
type EstimatorOverride struct {
	Kind *string `toml:"kind"` // nil keeps the experiment's kind
	// Settings maps each settings key the arm sets to its value, of the
	// settings field's Go type (string, bool, int, float64 or []float64).
	// It is nil when the arm sets none.
	Settings map[string]any `toml:"-"`
}

// LossOverride holds an arm's overrides of [Loss]; nil fields keep the
// experiment's value.
type LossOverride struct {
	Kind *string `toml:"kind"`
}

// NoiseOverride holds an arm's overrides of [Noise]; nil fields keep the
// experiment's value.
type NoiseOverride struct {
	Distribution *string `toml:"distribution"`
	Scale        *Scales `toml:"scale"`
	AtEval       *bool   `toml:"at_eval"`
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

// defaultKind is the estimator kind of an experiment that names none.
const defaultKind = "glr"

// Default returns an experiment with every key at its default value and an
// empty name. Its estimator is the default kind with its default settings.
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
		Noise:     Noise{Distribution: "laplace", Scale: Scales{1}},
		Estimator: Estimator{Kind: defaultKind, Settings: defaultSettings(defaultKind)},
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
// be written without quotes (estimator.kind=es). The keys of the [estimator]
// table, the file's and the overrides', are decoded for the kind in force
// once every override is applied.
//
// On failure the error lists every problem found in the first stage that
// failed (syntax, override keys, keys and types, values), one *Error per
// line.
func Parse(path string, data []byte, sets ...string) (*Experiment, error) {
	d, err := decode(path, data, sets)
	if err != nil {
		return nil, err
	}
	e := d.exp
	if errs := d.locate(e.problems()); len(errs) > 0 {
		return nil, joinErrors(errs)
	}
	return &e, nil
}

// Resolved returns one configuration per arm, in order: the experiment with
// that arm's overrides applied, its estimator settings complete. An
// experiment without arms yields a single configuration named after the
// experiment. The configurations share no memory with e or with each
// other. They are valid if e is.
func (e *Experiment) Resolved() []ArmConfig {
	if len(e.Arms) == 0 {
		return []ArmConfig{{Name: e.Name, Experiment: e.base()}}
	}
	out := make([]ArmConfig, len(e.Arms))
	for i, a := range e.Arms {
		r, _ := e.resolve(&a)
		out[i] = ArmConfig{Name: a.Name, Experiment: r}
	}
	return out
}

// base returns a deep copy of e without its arms.
func (e *Experiment) base() Experiment {
	b := *e
	b.Arms = nil
	b.Model.Hidden = slices.Clone(e.Model.Hidden)
	b.Model.Conv = slices.Clone(e.Model.Conv)
	b.Noise.Scale = slices.Clone(e.Noise.Scale)
	b.Estimator.Settings = cloneSettings(e.Estimator.Settings)
	return b
}

// resolve returns a deep copy of e, without arms, with a's overrides
// applied, and the problems of a's estimator overrides (see armEstimator),
// which it leaves out.
func (e *Experiment) resolve(a *Arm) (Experiment, problems) {
	r := e.base()
	var ps problems
	r.Estimator, ps = e.armEstimator(a)
	a.Loss.apply(&r.Loss)
	a.Noise.apply(&r.Noise)
	a.Optimizer.apply(&r.Optimizer)
	return r, ps
}

func (o LossOverride) apply(l *Loss) {
	set(&l.Kind, o.Kind)
}

func (o NoiseOverride) apply(n *Noise) {
	set(&n.Distribution, o.Distribution)
	if o.Scale != nil {
		n.Scale = slices.Clone(*o.Scale)
	}
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
