package configs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/glr-project/glr/estimators"
	"github.com/glr-project/glr/graph"
)

// kindDefaults returns the default settings of the registered kind name.
func kindDefaults(name string) estimators.Settings {
	k, ok := estimators.Lookup(name)
	if !ok {
		panic("no estimator kind " + name)
	}
	return k.NewSettings()
}

// writeFile writes src to a file in a fresh temporary directory and returns
// its path.
func writeFile(t *testing.T, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "exp.toml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// full is an experiment that sets every key.
const full = `# A full experiment.
name = "mnist-lrt"
seed = 7

[model]
hidden = [100, 50]
activation = "threshold"
bias = "all"
init = "glorot"
dtype = "float32"

[noise]
distribution = "gaussian"
scale = 0.5
at_eval = true

[estimator]
kind = "glr"
copies = 10
baseline = "clean"
antithetic = false
sampler = "qmc"
layerwise = true

[loss]
kind = "zero-one"

[data]
dataset = "fashion-mnist"
path = "/data/fashion"
batch_size = 64
train_limit = 1000
test_limit = 500

[optimizer]
kind = "adam"
learning_rate = 1e-3
weight_decay = 1e-4
decay_factor = 0.8
decay_every = 20

[train]
epochs = 10

[[arms]]
name = "glr"

[[arms]]
name = "bp"
[arms.estimator]
kind = "bp"
noise = true
[arms.loss]
kind = "cross-entropy"
[arms.noise]
scale = 2
[arms.optimizer]
learning_rate = 0.1
decay_every = 0
`

func TestLoadErrors(t *testing.T) {
	tests := []loadErrorTest{
		{
			name: "malformed TOML",
			src:  "name = \"x\"\n[model]\nhidden = [50\nactivation = \"relu\"\n",
			want: `FILE:4: model.hidden: invalid TOML: expected a comma (',') or array terminator (']'), but got 'a'`,
		},
		{
			name: "malformed TOML after a byte-order mark",
			src:  "\xef\xbb\xbfname = \"x\"\n[model]\nhidden = [50\nactivation = \"relu\"\n",
			want: `FILE:4: model.hidden: invalid TOML: expected a comma (',') or array terminator (']'), but got 'a'`,
		},
		{
			name: "truncated TOML",
			src:  "name = \"x\"\n[model]\nhidden = [50\n",
			want: `FILE:3: model.hidden: invalid TOML: expected a comma (',') or array terminator (']'), but got end of file`,
		},
		{
			name: "malformed header",
			src:  "name = \"x\"\n[model\nhidden = [50]\n",
			want: `FILE:2: invalid TOML: unclosed table header [model (want [model])`,
		},
		{
			name: "duplicate key",
			src:  "name = \"x\"\nname = \"y\"\n",
			want: `FILE:2: name: invalid TOML: Key 'name' has already been defined.`,
		},
		{
			name: "unknown top-level key",
			src:  "name = \"x\"\nsead = 2\n",
			want: `FILE:2: sead: unknown key (did you mean "seed"?)`,
		},
		{
			name: "unknown table",
			src:  "name = \"x\"\n[modle]\nhidden = [1]\n",
			want: `FILE:2: modle: unknown key (did you mean "model"?)`,
		},
		{
			name: "unknown nested key",
			src:  "name = \"x\"\n[model]\nactivaton = \"relu\"\n",
			want: `FILE:3: model.activaton: unknown key (did you mean "activation"?)`,
		},
		{
			name: "key in the wrong case",
			src:  "name = \"x\"\n[model]\nHidden = [1]\n",
			want: `FILE:3: model.Hidden: unknown key (did you mean "hidden"?)`,
		},
		{
			name: "unknown arm key",
			src:  "name = \"x\"\n[[arms]]\nname = \"a\"\n[arms.estimator]\ncopy = 2\n",
			want: `FILE:5: arms[0].estimator.copy: not a key of estimator kind "glr" (its keys: copies, baseline, antithetic, sampler, layerwise); did you mean "copies"?`,
		},
		{
			name: "arm overrides a table it may not",
			src:  "name = \"x\"\n[[arms]]\nname = \"a\"\n[[arms]]\nname = \"b\"\n[arms.model]\nhidden = [10]\n",
			want: `FILE:6: arms[1].model: cannot be set per arm (an arm may override only estimator, loss, noise and optimizer keys)`,
		},
		{
			name: "every unknown key",
			src:  "name = \"x\"\nfoo = 1\n[model]\nbar = 2\n[[arms]]\nname = \"a\"\n\"odd key\" = 3\n",
			want: "FILE:2: foo: unknown key\n" +
				"FILE:4: model.bar: unknown key\n" +
				`FILE:7: arms[0]."odd key": unknown key`,
		},
		{
			name: "wrong type",
			src:  "name = \"x\"\n[model]\nhidden = \"50\"\n",
			want: `FILE:3: model.hidden: want array of integers, got string "50"`,
		},
		{
			name: "wrong element type",
			src:  "name = \"x\"\n[model]\nhidden = [50, 2.5]\n",
			want: `FILE:3: model.hidden: want array of integers, got float 2.5 at index 1`,
		},
		{
			name: "float for integer",
			src:  "name = \"x\"\n[train]\nepochs = 1.5\n",
			want: `FILE:3: train.epochs: want integer, got float 1.5`,
		},
		{
			name: "string for bool",
			src:  "name = \"x\"\n[noise]\nat_eval = \"yes\"\n",
			want: `FILE:3: noise.at_eval: want boolean, got string "yes"`,
		},
		{
			name: "value for table",
			src:  "name = \"x\"\nmodel = 5\n",
			want: `FILE:2: model: want table, got integer 5`,
		},
		{
			name: "table for array of tables",
			src:  "name = \"x\"\n[arms]\nname = \"a\"\n",
			want: `FILE:2: arms: want array of tables ([[arms]]), got table`,
		},
		{
			name: "wrong type in an inline table",
			src:  "name = \"x\"\nnoise = { distribution = \"gaussian\",\n  scale = \"big\" }\n",
			want: `FILE:3: noise.scale: want float or array of floats, got string "big"`,
		},
		{
			name: "non-table in an inline array of arms",
			src:  "name = \"x\"\narms = [{ name = \"a\" }, 5]\n",
			want: `FILE:2: arms[1]: want table, got integer 5`,
		},
		{
			name: "datetime for integer",
			src:  "name = \"x\"\nseed = 1979-05-27\n",
			want: `FILE:2: seed: want integer, got datetime`,
		},
		{
			name: "integer too large for a float",
			src:  "name = \"x\"\n[noise]\nscale = 9007199254740993\n",
			want: `FILE:3: noise.scale: integer 9007199254740993 is too large to be exact as a float; write it as a float`,
		},
		{
			name: "negative seed",
			src:  "name = \"x\"\nseed = -1\n",
			want: `FILE:2: seed: must be >= 0, got -1`,
		},
		{
			name: "missing name",
			src:  "seed = 2\n",
			want: `FILE: name: required, must be a non-empty string`,
		},
		{
			name: "empty name",
			src:  "name = \"  \"\n",
			want: `FILE:1: name: required, must be a non-empty string`,
		},
		{
			name: "bad activation",
			src:  "name = \"x\"\n[model]\nactivation = \"sigmod\"\n",
			want: `FILE:3: model.activation: unknown activation "sigmod" (want sigmoid | threshold | relu | tanh)`,
		},
		{
			name: "bad bias",
			src:  "name = \"x\"\n[model]\nbias = \"hidden\"\n",
			want: `FILE:3: model.bias: unknown bias "hidden" (want input | all | none)`,
		},
		{
			name: "bad init",
			src:  "name = \"x\"\n[model]\ninit = \"he\"\n",
			want: `FILE:3: model.init: unknown init "he" (want scaled-normal | glorot)`,
		},
		{
			name: "bad dtype",
			src:  "name = \"x\"\n[model]\ndtype = \"float16\"\n",
			want: `FILE:3: model.dtype: unknown dtype "float16" (want float64 | float32)`,
		},
		{
			name: "bad distribution",
			src:  "name = \"x\"\n[noise]\ndistribution = \"cauchy\"\n",
			want: `FILE:3: noise.distribution: unknown distribution "cauchy" (want gaussian | laplace)`,
		},
		{
			name: "bad estimator",
			src:  "name = \"x\"\n[estimator]\nkind = \"foo\"\n",
			want: `FILE:3: estimator.kind: unknown estimator "foo" (want bp | es | glr | spsa | ste)`,
		},
		{
			name: "bad baseline",
			src:  "name = \"x\"\n[estimator]\nbaseline = \"mean\"\n",
			want: `FILE:3: estimator.baseline: unknown baseline "mean" (want none | batch-mean | leave-one-out | clean | site-clean)`,
		},
		{
			name: "bad loss",
			src:  "name = \"x\"\n[loss]\nkind = \"hinge\"\n",
			want: `FILE:3: loss.kind: unknown loss "hinge" (want cross-entropy | zero-one | squared)`,
		},
		{
			name: "bad dataset",
			src:  "name = \"x\"\n[data]\ndataset = \"cifar10\"\n",
			want: `FILE:3: data.dataset: unknown dataset "cifar10" (want mnist | fashion-mnist | tiny-imagenet)`,
		},
		{
			name: "bad optimizer",
			src:  "name = \"x\"\n[optimizer]\nkind = \"rmsprop\"\n",
			want: `FILE:3: optimizer.kind: unknown optimizer "rmsprop" (want sgd | momentum | adagrad | adam)`,
		},
		{
			name: "zero scale",
			src:  "name = \"x\"\n[noise]\nscale = 0.0\n",
			want: `FILE:3: noise.scale: must be > 0 and finite, got 0`,
		},
		{
			name: "negative scale",
			src:  "name = \"x\"\n[noise]\nscale = -1\n",
			want: `FILE:3: noise.scale: must be > 0 and finite, got -1`,
		},
		{
			name: "NaN scale",
			src:  "name = \"x\"\n[noise]\nscale = nan\n",
			want: `FILE:3: noise.scale: must be > 0 and finite, got nan`,
		},
		{
			name: "infinite learning rate",
			src:  "name = \"x\"\n[optimizer]\nlearning_rate = inf\n",
			want: `FILE:3: optimizer.learning_rate: must be > 0 and finite, got inf`,
		},
		{
			name: "zero learning rate",
			src:  "name = \"x\"\n[optimizer]\nlearning_rate = 0\n",
			want: `FILE:3: optimizer.learning_rate: must be > 0 and finite, got 0`,
		},
		{
			name: "negative weight decay",
			src:  "name = \"x\"\n[optimizer]\nweight_decay = -1e-4\n",
			want: `FILE:3: optimizer.weight_decay: must be >= 0 and finite, got -0.0001`,
		},
		{
			name: "decay factor above one",
			src:  "name = \"x\"\n[optimizer]\ndecay_factor = 1.5\n",
			want: `FILE:3: optimizer.decay_factor: must be in (0, 1], got 1.5`,
		},
		{
			name: "negative decay_every",
			src:  "name = \"x\"\n[optimizer]\ndecay_every = -1\n",
			want: `FILE:3: optimizer.decay_every: must be >= 0, got -1`,
		},
		{
			name: "zero copies",
			src:  "name = \"x\"\n[estimator]\ncopies = 0\n",
			want: `FILE:3: estimator.copies: must be in [1, 65536], got 0`,
		},
		{
			name: "odd copies with antithetic",
			src:  "name = \"x\"\n[estimator]\ncopies = 3\nantithetic = true\n",
			want: `FILE:3: estimator.copies: antithetic pairs need an even number of copies, got 3`,
		},
		{
			name: "antithetic with default copies",
			src:  "name = \"x\"\n[estimator]\nantithetic = true\n",
			want: `FILE: estimator.copies: antithetic pairs need an even number of copies, got 1`,
		},
		{
			name: "site-clean with layerwise",
			src:  "name = \"x\"\n[estimator]\ncopies = 4\nlayerwise = true\nbaseline = \"site-clean\"\n",
			want: `FILE:5: estimator.baseline: with layerwise = true each pass has noise at one site alone, so its site-clean baseline is the clean one; use baseline = "clean"`,
		},
		{
			name: "bp with zero-one",
			src:  "name = \"x\"\n[estimator]\nkind = \"bp\"\n[loss]\nkind = \"zero-one\"\n",
			want: `FILE:5: loss.kind: bp (backpropagation) cannot differentiate the zero-one loss; use a likelihood-ratio or weight-space estimator such as glr`,
		},
		{
			name: "bp with zero-one in an arm",
			src: "name = \"x\"\n[loss]\nkind = \"zero-one\"\n" +
				"[[arms]]\nname = \"glr\"\n[[arms]]\nname = \"bp\"\n[arms.estimator]\nkind = \"bp\"\n",
			want: `FILE:9: arms[1].estimator.kind: bp (backpropagation) cannot differentiate the zero-one loss; use a likelihood-ratio or weight-space estimator such as glr`,
		},
		{
			name: "zero-one loss in a bp arm",
			src: "name = \"x\"\n[estimator]\nkind = \"bp\"\n" +
				"[[arms]]\nname = \"a\"\n[[arms]]\nname = \"b\"\nloss.kind = \"zero-one\"\n",
			want: `FILE:8: arms[1].loss.kind: bp (backpropagation) cannot differentiate the zero-one loss; use a likelihood-ratio or weight-space estimator such as glr`,
		},
		{
			name: "bp with antithetic",
			src:  "name = \"x\"\n[estimator]\nkind = \"bp\"\ncopies = 2\nnoise = true\nantithetic = true\n",
			want: `FILE:6: estimator.antithetic: not a key of estimator kind "bp" (its keys: copies, noise); antithetic is a key of es and glr`,
		},
		{
			name: "bp copies without noise in an arm",
			src: "name = \"x\"\n[estimator]\ncopies = 10\n" +
				"[[arms]]\nname = \"glr\"\n[[arms]]\nname = \"bp\"\nestimator.kind = \"bp\"\nestimator.copies = 10\n",
			want: `FILE:9: arms[1].estimator.copies: backpropagation without noise computes the same gradient for each of the 10 copies; set copies = 1 or noise = true`,
		},
		{
			name: "bad arm override",
			src:  "name = \"x\"\n[[arms]]\nname = \"a\"\nnoise = { scale = -2.0 }\n",
			want: `FILE:4: arms[0].noise.scale: must be > 0 and finite, got -2`,
		},
		{
			name: "odd copies in an arm",
			src:  "name = \"x\"\n[estimator]\nantithetic = true\ncopies = 2\n[[arms]]\nname = \"a\"\n[arms.estimator]\ncopies = 5\n",
			want: `FILE:8: arms[0].estimator.copies: antithetic pairs need an even number of copies, got 5`,
		},
		{
			name: "zero batch size",
			src:  "name = \"x\"\n[data]\nbatch_size = 0\n",
			want: `FILE:3: data.batch_size: must be >= 1, got 0`,
		},
		{
			name: "negative train limit",
			src:  "name = \"x\"\n[data]\ntrain_limit = -5\n",
			want: `FILE:3: data.train_limit: must be >= 0, got -5`,
		},
		{
			name: "negative test limit",
			src:  "name = \"x\"\n[data]\ntest_limit = -5\n",
			want: `FILE:3: data.test_limit: must be >= 0, got -5`,
		},
		{
			name: "zero classes",
			src:  "name = \"x\"\n[data]\nclasses = 0\n",
			want: `FILE:3: data.classes: must be in [1, 200], got 0`,
		},
		{
			name: "huge image size",
			src:  "name = \"x\"\n[data]\nimage_size = 1000\n",
			want: `FILE:3: data.image_size: must be in [1, 512], got 1000`,
		},
		{
			name: "zero epochs",
			src:  "name = \"x\"\n[train]\nepochs = 0\n",
			want: `FILE:3: train.epochs: must be >= 1, got 0`,
		},
		{
			name: "hidden width zero",
			src:  "name = \"x\"\n[model]\nhidden = [\n  100,\n  0,\n]\n",
			want: `FILE:3: model.hidden[1]: width must be >= 1, got 0`,
		},
		{
			name: "dataset path missing",
			src:  "name = \"x\"\n[data]\ndataset = \"tiny-imagenet\"\n",
			want: `FILE: data.path: required for dataset "tiny-imagenet" (only mnist is embedded)`,
		},
		{
			name: "dataset path empty",
			src:  "name = \"x\"\n[data]\ndataset = \"fashion-mnist\"\npath = \"\"\n",
			want: `FILE:4: data.path: required for dataset "fashion-mnist" (only mnist is embedded)`,
		},
		{
			name: "duplicate arm names",
			src:  "name = \"x\"\n[[arms]]\nname = \"a\"\n[[arms]]\nname = \"b\"\n[[arms]]\nname = \"a\"\n",
			want: `FILE:7: arms[2].name: duplicate arm name "a" (also arms[0])`,
		},
		{
			name: "missing arm name",
			src:  "name = \"x\"\n[[arms]]\nname = \"a\"\n[[arms]]\n[arms.loss]\nkind = \"squared\"\n",
			want: `FILE: arms[1].name: required, must be a non-empty string`,
		},
		{
			name: "several problems",
			src:  "name = \"x\"\n[noise]\nscale = -1\n[data]\nbatch_size = 0\n",
			want: "FILE:3: noise.scale: must be > 0 and finite, got -1\n" +
				"FILE:5: data.batch_size: must be >= 1, got 0",
		},
		{
			name: "bad -set key",
			src:  "name = \"x\"\n",
			sets: []string{"model.hiden=[10]"},
			want: `-set model.hiden: unknown key (did you mean "hidden"?)`,
		},
		{
			name: "bad -set value",
			src:  "name = \"x\"\n",
			sets: []string{"estimator.copies=ten"},
			want: `-set estimator.copies: want integer, got "ten"`,
		},
		{
			name: "-set value of the wrong type",
			src:  "name = \"x\"\n",
			sets: []string{"model.hidden=100"},
			want: `-set model.hidden: want array of integers, got integer 100`,
		},
		{
			name: "-set without a value",
			src:  "name = \"x\"\n",
			sets: []string{"noise.scale"},
			want: `-set noise.scale: want KEY=VALUE`,
		},
		{
			name: "-set without a key",
			src:  "name = \"x\"\n",
			sets: []string{"=3"},
			want: `-set: missing key in "=3" (want KEY=VALUE)`,
		},
		{
			name: "malformed -set key",
			src:  "name = \"x\"\n[[arms]]\nname = \"a\"\n",
			sets: []string{"arms[x].name=b"},
			want: `-set arms[x].name: malformed key (want dotted.key or arms[N].dotted.key)`,
		},
		{
			name: "-set below a value",
			src:  "name = \"x\"\n",
			sets: []string{"seed.low=1"},
			want: `-set seed.low: seed is not a table`,
		},
		{
			name: "-set of invalid UTF-8",
			src:  "name = \"x\"\n",
			sets: []string{"name=\xff"},
			want: `-set name: value is not valid UTF-8`,
		},
		{
			name: "-set of a table",
			src:  "name = \"x\"\n",
			sets: []string{"model=3"},
			want: `-set model: is a table; set one of its keys`,
		},
		{
			name: "-set of an arm without its index",
			src:  "name = \"x\"\n[[arms]]\nname = \"a\"\n",
			sets: []string{"arms.loss.kind=squared"},
			want: `-set arms.loss.kind: select one entry, as in arms[0].loss.kind`,
		},
		{
			name: "-set of a missing arm",
			src:  "name = \"x\"\n[[arms]]\nname = \"a\"\n",
			sets: []string{"arms[1].loss.kind=squared"},
			want: `-set arms[1].loss.kind: no [[arms]] entry 1 (the experiment has 1; indices count from 0)`,
		},
		{
			name: "-set of a key arms cannot override",
			src:  "name = \"x\"\n[[arms]]\nname = \"a\"\n",
			sets: []string{"arms[0].model.hidden=[3]"},
			want: `-set arms[0].model.hidden: cannot be set per arm (an arm may override only estimator, loss, noise and optimizer keys)`,
		},
		{
			name: "-set of an element",
			src:  "name = \"x\"\n",
			sets: []string{"model.hidden[0]=3"},
			want: `-set model.hidden[0]: cannot index model.hidden; set the whole value`,
		},
		{
			name: "-set of a negative seed",
			src:  "name = \"x\"\n",
			sets: []string{"seed=-3"},
			want: `-set seed: must be >= 0, got -3`,
		},
		{
			name: "-set of an impossible value",
			src:  "name = \"x\"\n[noise]\nscale = 1.0\n",
			sets: []string{"noise.scale=-0.5"},
			want: `-set noise.scale: must be > 0 and finite, got -0.5`,
		},
		{
			name: "-set of an impossible combination",
			src:  "name = \"x\"\n[loss]\nkind = \"zero-one\"\n[[arms]]\nname = \"a\"\n",
			sets: []string{"arms[0].estimator.kind=bp"},
			want: `-set arms[0].estimator.kind: bp (backpropagation) cannot differentiate the zero-one loss; use a likelihood-ratio or weight-space estimator such as glr`,
		},
		{
			name: "every bad -set",
			src:  "name = \"x\"\n",
			sets: []string{"a=1", "noise.scale=0.5", "b=2"},
			want: "-set a: unknown key\n-set b: unknown key",
		},
	}
	runLoadErrors(t, tests)
}

// loadErrorTest is a file, overrides and the exact error Load returns.
type loadErrorTest struct {
	name string
	src  string
	sets []string
	want string // with FILE for the file's path
}

func runLoadErrors(t *testing.T, tests []loadErrorTest) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.src)
			e, err := Load(path, tt.sets...)
			if err == nil {
				t.Fatalf("Load succeeded with %+v, want error %q", e, tt.want)
			}
			if e != nil {
				t.Errorf("Load returned an experiment with its error")
			}
			if got := strings.ReplaceAll(err.Error(), path, "FILE"); got != tt.want {
				t.Errorf("Load error:\n got %s\nwant %s", got, tt.want)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Errorf("Load error %T is not an *Error", err)
			}
		})
	}
}

// TestShippedNames decodes every shipped experiment as programs load it.
func TestShippedNames(t *testing.T) {
	names := ShippedNames()
	if len(names) == 0 {
		t.Fatal("no shipped experiments")
	}
	for _, name := range names {
		e, err := LoadShipped(name)
		if err != nil {
			t.Errorf("LoadShipped(%q): %v", name, err)
			continue
		}
		if e.Name != name {
			t.Errorf("shipped experiment %q is named %q", name, e.Name)
		}
		for _, a := range e.Resolved() {
			if err := a.Validate(); err != nil {
				t.Errorf("shipped experiment %q, arm %s: %v", name, a.Name, err)
			}
		}
	}
	if _, err := LoadShipped("no-such"); err == nil {
		t.Error("LoadShipped of a missing name succeeded")
	}
}

// TestShippedConfigs loads every experiment file kept next to the package.
func TestShippedConfigs(t *testing.T) {
	paths, err := filepath.Glob("*.toml")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Skip("no experiment files in the package directory")
	}
	for _, path := range paths {
		if _, err := Load(path); err != nil {
			t.Errorf("Load(%q): %v", path, err)
		}
	}
}

// docExample returns the TOML of the example under the heading of
// docs/config.md.
func docExample(t *testing.T, heading string) string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "docs", "config.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, example, ok := strings.Cut(string(doc), "\n"+heading+"\n")
	if !ok {
		t.Fatalf("docs/config.md has no %q", heading)
	}
	_, example, _ = strings.Cut(example, "```toml\n")
	example, _, _ = strings.Cut(example, "```")
	return example
}

// TestDocExample parses the full example of docs/config.md, with the
// overrides the page applies to it.
func TestDocExample(t *testing.T) {
	example := docExample(t, "## A full example")
	e, err := Parse("config.md", []byte(example))
	if err != nil {
		t.Fatal(err)
	}
	// The bp arm starts from bp's defaults, then sets its keys.
	if bp := e.Resolved()[2]; bp.Name != "bp" || !reflect.DeepEqual(bp.Estimator, Estimator{"bp", &estimators.BPSettings{Copies: 10, Noise: true}}) {
		t.Errorf("bp arm = %+v", bp.Estimator)
	}
	e, err = Parse("config.md", []byte(example), "arms[2].estimator.copies=1", "arms[2].estimator.noise=false")
	if err != nil {
		t.Fatal(err)
	}
	arms := e.Resolved()
	if len(arms) != 4 {
		t.Fatalf("the example has %d arms, want 4", len(arms))
	}
	bp := arms[2]
	if want := (Estimator{"bp", &estimators.BPSettings{Copies: 1}}); bp.Name != "bp" || !reflect.DeepEqual(bp.Estimator, want) {
		t.Errorf("bp arm = %+v, want %+v", bp.Estimator, want)
	}
	if es := arms[3]; !reflect.DeepEqual(es.Estimator, Estimator{"es", &estimators.ESSettings{Copies: 10, Sigma: 0.05, Antithetic: true, Fitness: "raw"}}) {
		t.Errorf("es arm = %+v", es.Estimator)
	}
}

// TestDocConvExample parses the convolutional example of docs/config.md
// and checks the shapes its comment states.
func TestDocConvExample(t *testing.T) {
	e, err := Parse("config.md", []byte(docExample(t, "## A convolutional example")))
	if err != nil {
		t.Fatal(err)
	}
	shapes, err := e.Model.ConvShapes(e.Data)
	if err != nil {
		t.Fatal(err)
	}
	want := []ConvShape{
		{In: Shape{1, 28, 28}, Conv: Shape{6, 28, 28}, Out: Shape{6, 14, 14}},
		{In: Shape{6, 14, 14}, Conv: Shape{16, 10, 10}, Out: Shape{16, 5, 5}},
	}
	if !reflect.DeepEqual(shapes, want) {
		t.Errorf("shapes = %v, want %v", shapes, want)
	}
}

// TestDocKinds checks that docs/config.md has a table for every registered
// kind listing its keys, in declaration order, with their types and
// defaults.
func TestDocKinds(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "config.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range estimators.Kinds() {
		_, section, ok := strings.Cut(string(doc), "\n### `"+k.Name+"`\n")
		if !ok {
			t.Errorf("docs/config.md has no section for kind %s", k.Name)
			continue
		}
		section, _, _ = strings.Cut(section, "\n#")
		var rows [][]string
		for _, line := range strings.Split(section, "\n") {
			cells := strings.Split(line, "|")
			if len(cells) < 5 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
				continue
			}
			rows = append(rows, []string{strings.Trim(strings.TrimSpace(cells[1]), "`"),
				strings.TrimSpace(cells[2]), strings.Trim(strings.TrimSpace(cells[3]), "`")})
		}
		v, _ := settingsStruct(k.NewSettings())
		var want [][]string
		for _, f := range reflect.VisibleFields(v.Type()) {
			var b bytes.Buffer
			encodeValue(&b, v.FieldByIndex(f.Index))
			want = append(want, []string{tagName(f), typeName(f.Type), b.String()})
		}
		if !reflect.DeepEqual(rows, want) {
			t.Errorf("docs/config.md documents kind %s as\n%q\nwant (key, type, default)\n%q", k.Name, rows, want)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.toml")
	_, err := Load(path)
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Load(%q) = %v, want an error wrapping os.ErrNotExist", path, err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("Load error %q does not name the file", err)
	}
}

func TestDefaults(t *testing.T) {
	e, err := Parse("min.toml", []byte(`name = "min"`))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Name = "min"
	want.Source = "min.toml"
	if !reflect.DeepEqual(*e, want) {
		t.Errorf("Parse of a bare name:\n got %+v\nwant %+v", *e, want)
	}
	d := Default()
	checks := []struct {
		key       string
		got, want any
	}{
		{"seed", d.Seed, uint64(1)},
		{"model.hidden", d.Model.Hidden, []int{50}},
		{"model.activation", d.Model.Activation, "sigmoid"},
		{"model.bias", d.Model.Bias, "input"},
		{"model.init", d.Model.Init, "scaled-normal"},
		{"model.dtype", d.Model.Dtype, "float64"},
		{"noise.distribution", d.Noise.Distribution, "laplace"},
		{"noise.scale", d.Noise.Scale, Scales{1}},
		{"model.conv", d.Model.Conv, []ConvLayer(nil)},
		{"noise.at_eval", d.Noise.AtEval, false},
		{"estimator.kind", d.Estimator.Kind, "glr"},
		{"estimator settings", d.Estimator.Settings, kindDefaults("glr")},
		{"loss.kind", d.Loss.Kind, "cross-entropy"},
		{"data.dataset", d.Data.Dataset, "mnist"},
		{"data.path", d.Data.Path, ""},
		{"data.batch_size", d.Data.BatchSize, 32},
		{"data.train_limit", d.Data.TrainLimit, 0},
		{"data.test_limit", d.Data.TestLimit, 0},
		{"optimizer.kind", d.Optimizer.Kind, "sgd"},
		{"optimizer.learning_rate", d.Optimizer.LearningRate, 0.01},
		{"optimizer.weight_decay", d.Optimizer.WeightDecay, 0.0},
		{"optimizer.decay_factor", d.Optimizer.DecayFactor, 1.0},
		{"optimizer.decay_every", d.Optimizer.DecayEvery, 0},
		{"train.epochs", d.Train.Epochs, 1},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("default %s = %v, want %v", c.key, c.got, c.want)
		}
	}
	if d.Name != "" || d.Arms != nil {
		t.Errorf("Default() has name %q and arms %v, want none", d.Name, d.Arms)
	}
	// Each call returns fresh memory.
	d.Model.Hidden[0] = 3
	d.Noise.Scale[0] = 3
	d.Estimator.Settings.(*estimators.GLRSettings).Copies = 3
	again := Default()
	if again.Model.Hidden[0] != 50 || again.Noise.Scale[0] != 1 || again.Estimator.Settings.(*estimators.GLRSettings).Copies != 1 {
		t.Error("Default shares memory between calls")
	}
}

func TestParseFull(t *testing.T) {
	e, err := Parse("full.toml", []byte(full))
	if err != nil {
		t.Fatal(err)
	}
	s, f, n := "bp", Scales{2}, 0
	ce := "cross-entropy"
	lr := 0.1
	want := Experiment{
		Name: "mnist-lrt",
		Seed: 7,
		Model: Model{Hidden: []int{100, 50}, Activation: "threshold", Bias: "all",
			Init: "glorot", Dtype: "float32"},
		Noise: Noise{Distribution: "gaussian", Scale: Scales{0.5}, AtEval: true},
		Estimator: Estimator{Kind: "glr", Settings: &estimators.GLRSettings{
			Copies: 10, Baseline: "clean", Sampler: "qmc", Layerwise: true}},
		Loss: Loss{Kind: "zero-one"},
		Data: Data{Dataset: "fashion-mnist", Path: "/data/fashion", BatchSize: 64,
			TrainLimit: 1000, TestLimit: 500, Classes: 10, ImageSize: 32},
		Optimizer: Optimizer{Kind: "adam", LearningRate: 1e-3, WeightDecay: 1e-4,
			DecayFactor: 0.8, DecayEvery: 20},
		Train: Train{Epochs: 10},
		Arms: []Arm{
			{Name: "glr"},
			{
				Name:      "bp",
				Estimator: EstimatorOverride{Kind: &s, Settings: map[string]any{"noise": true}},
				Loss:      LossOverride{Kind: &ce},
				Noise:     NoiseOverride{Scale: &f},
				Optimizer: OptimizerOverride{LearningRate: &lr, DecayEvery: &n},
			},
		},
		Source: "full.toml",
	}
	if !reflect.DeepEqual(*e, want) {
		t.Errorf("Parse(full):\n got %+v\nwant %+v", *e, want)
	}
}

func TestOverrides(t *testing.T) {
	const src = "name = \"x\"\n[model]\nbias = \"all\"\n[noise]\nscale = 1.0\n[[arms]]\nname = \"a\"\n[[arms]]\nname = \"b\"\n"
	tests := []struct {
		set  string
		get  func(*Experiment) any
		want any
	}{
		{"model.hidden=[100,50]", func(e *Experiment) any { return e.Model.Hidden }, []int{100, 50}},
		{"model.hidden = []", func(e *Experiment) any { return e.Model.Hidden }, []int{}},
		{"noise.scale=0.5", func(e *Experiment) any { return e.Noise.Scale }, Scales{0.5}},
		{"noise.scale=2", func(e *Experiment) any { return e.Noise.Scale }, Scales{2}},
		{"noise.scale=[0.5, 1]", func(e *Experiment) any { return e.Noise.Scale }, Scales{0.5, 1}},
		{"estimator.kind=\"bp\"", func(e *Experiment) any { return e.Estimator.Kind }, "bp"},
		{"estimator.kind=bp", func(e *Experiment) any { return e.Estimator.Settings }, kindDefaults("bp")},
		{"estimator.baseline=clean", func(e *Experiment) any { return e.Estimator.Settings.(*estimators.GLRSettings).Baseline }, "clean"},
		{"estimator.copies=4", func(e *Experiment) any { return e.Estimator.Settings.(*estimators.GLRSettings).Copies }, 4},
		{"model.conv=[{filters = 4, kernel = 3, pool = 2}]", func(e *Experiment) any { return e.Model.Conv },
			[]ConvLayer{{Filters: 4, Kernel: 3, Stride: 1, Pool: 2, PoolKind: "max", NoiseAfter: "conv"}}},
		{"model.conv=[]", func(e *Experiment) any { return e.Model.Conv }, []ConvLayer(nil)},
		{"seed=42", func(e *Experiment) any { return e.Seed }, uint64(42)},
		{"name=2024", func(e *Experiment) any { return e.Name }, "2024"},
		{"data.path=/tmp/my data", func(e *Experiment) any { return e.Data.Path }, "/tmp/my data"},
		{"data.path='C:\\data'", func(e *Experiment) any { return e.Data.Path }, `C:\data`},
		{"data.path=a=b", func(e *Experiment) any { return e.Data.Path }, "a=b"},
		{"arms[1].loss.kind=squared", func(e *Experiment) any { return *e.Arms[1].Loss.Kind }, "squared"},
		{"arms[0].noise.scale=3", func(e *Experiment) any { return *e.Arms[0].Noise.Scale }, Scales{3}},
		{"arms[0].estimator.copies=6", func(e *Experiment) any { return e.Arms[0].Estimator.Settings }, map[string]any{"copies": 6}},
		{"arms[1].estimator.kind=es", func(e *Experiment) any { return *e.Arms[1].Estimator.Kind }, "es"},
		{"arms[1].name=c", func(e *Experiment) any { return e.Arms[1].Name }, "c"},
	}
	for _, tt := range tests {
		t.Run(tt.set, func(t *testing.T) {
			e, err := Parse("x.toml", []byte(src), tt.set)
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.get(e); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("after -set %s: got %#v, want %#v", tt.set, got, tt.want)
			}
		})
	}

	// Later overrides win.
	e, err := Parse("x.toml", []byte(src), "noise.scale=2", "noise.scale=3")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(e.Noise.Scale, Scales{3}) {
		t.Errorf("after two overrides noise.scale = %v, want 3", e.Noise.Scale)
	}
}

func TestResolved(t *testing.T) {
	const src = `name = "cmp"
[model]
hidden = [20]
[estimator]
copies = 4
baseline = "leave-one-out"
[[arms]]
name = "glr"
[[arms]]
name = "glr-clean"
[arms.estimator]
kind = "glr"
baseline = "clean"
[[arms]]
name = "bp"
[arms.estimator]
kind = "bp"
noise = true
[arms.noise]
scale = 0.25
[arms.optimizer]
kind = "adam"
[[arms]]
name = "es"
[arms.estimator]
kind = "es"
sigma = 0.1
`
	e, err := Parse("cmp.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	arms := e.Resolved()
	// An arm of the experiment's kind starts from the experiment's
	// settings (copies 4 is inherited); an arm of another kind starts from
	// that kind's defaults (bp copies 1, es copies 10).
	want := []struct {
		name, opt string
		est       Estimator
		scale     Scales
	}{
		{"glr", "sgd", Estimator{"glr", &estimators.GLRSettings{Copies: 4, Baseline: "leave-one-out", Sampler: "iid"}}, Scales{1}},
		{"glr-clean", "sgd", Estimator{"glr", &estimators.GLRSettings{Copies: 4, Baseline: "clean", Sampler: "iid"}}, Scales{1}},
		{"bp", "adam", Estimator{"bp", &estimators.BPSettings{Copies: 1, Noise: true}}, Scales{0.25}},
		{"es", "sgd", Estimator{"es", &estimators.ESSettings{Copies: 10, Sigma: 0.1, Antithetic: true, Fitness: "raw"}}, Scales{1}},
	}
	if len(arms) != len(want) {
		t.Fatalf("Resolved gave %d arms, want %d", len(arms), len(want))
	}
	for i, w := range want {
		a := arms[i]
		if a.Name != w.name || a.Optimizer.Kind != w.opt || !reflect.DeepEqual(a.Estimator, w.est) ||
			!reflect.DeepEqual(a.Noise.Scale, w.scale) {
			t.Errorf("arm %d = %s %s %s %+v %v, want %+v", i, a.Name, a.Optimizer.Kind,
				a.Estimator.Kind, a.Estimator.Settings, a.Noise.Scale, w)
		}
		if a.Experiment.Name != "cmp" || a.Arms != nil || a.Source != "cmp.toml" {
			t.Errorf("arm %d: experiment name %q, arms %v, source %q", i, a.Experiment.Name, a.Arms, a.Source)
		}
		if err := a.Validate(); err != nil {
			t.Errorf("arm %d does not validate: %v", i, err)
		}
	}

	// The arms share no memory with each other or the experiment.
	arms[0].Model.Hidden[0] = 99
	arms[0].Noise.Scale[0] = 99
	arms[0].Estimator.Settings.(*estimators.GLRSettings).Copies = 99
	if arms[1].Model.Hidden[0] != 20 || e.Model.Hidden[0] != 20 {
		t.Error("resolved arms share hidden widths")
	}
	if arms[1].Noise.Scale[0] != 1 || e.Noise.Scale[0] != 1 {
		t.Error("resolved arms share noise scales")
	}
	if arms[1].Estimator.Settings.(*estimators.GLRSettings).Copies != 4 || e.Estimator.Settings.(*estimators.GLRSettings).Copies != 4 {
		t.Error("resolved arms share estimator settings")
	}
	if again := e.Resolved(); !reflect.DeepEqual(again[0].Estimator, want[0].est) {
		t.Error("Resolved changed the experiment")
	}

	// Without arms, one arm named after the experiment.
	one, err := Parse("one.toml", []byte(`name = "solo"`))
	if err != nil {
		t.Fatal(err)
	}
	got := one.Resolved()
	if len(got) != 1 || got[0].Name != "solo" || !reflect.DeepEqual(got[0].Experiment, *one) {
		t.Errorf("Resolved without arms = %+v, want one arm equal to the experiment", got)
	}
	if got[0].Estimator.Settings == one.Estimator.Settings {
		t.Error("Resolved without arms shares the settings")
	}
}

// TestResolvedSliceSettings checks that settings of slice type are deep
// copies in every arm, with a kind registered for the test.
func TestResolvedSliceSettings(t *testing.T) {
	e := Default()
	e.Name = "s"
	e.Estimator = Estimator{Kind: testKind, Settings: &testSettings{Weights: []float64{1, 2}}}
	e.Arms = []Arm{{Name: "a"}, {Name: "b", Estimator: EstimatorOverride{Settings: map[string]any{"weights": []float64{3}}}}}
	arms := e.Resolved()
	arms[0].Estimator.Settings.(*testSettings).Weights[0] = 99
	if w := e.Estimator.Settings.(*testSettings).Weights; w[0] != 1 {
		t.Errorf("the experiment's weights became %v", w)
	}
	b := arms[1].Estimator.Settings.(*testSettings)
	b.Weights[0] = 98
	if w := e.Arms[1].Estimator.Settings["weights"].([]float64); w[0] != 3 {
		t.Errorf("the arm's override became %v", w)
	}
}

func TestRoundTrip(t *testing.T) {
	srcs := map[string]string{
		"full":    full,
		"minimal": `name = "m"`,
		"conv": `name = "c"
[model]
bias = "none"
hidden = []
[[model.conv]]
filters = 3
kernel = 3
padding = 1
pool_kind = "avg"
pool = 2
[[model.conv]]
filters = 5
kernel = 2
stride = 2
[noise]
scale = [0.25, 0.5, 1e-3]
[estimator]
kind = "es"
sigma = 0.1
[[arms]]
name = "spsa"
estimator = { kind = "spsa", copies = 3 }
noise = { scale = [1, 2, 3] }
[[arms]]
name = "es"
estimator = { fitness = "centered-rank", antithetic = false }
`,
		"odd": `name = "quote \" back\\slash tab\t newline\n é \b\f\r\u0001\u007f"
seed = 9223372036854775807
[model]
hidden = []
[noise]
scale = 1e-300
[optimizer]
learning_rate = 0.1
weight_decay = 1e22
[[arms]]
name = "a"
[[arms]]
name = "b"
[arms.optimizer]
decay_factor = 0.3333333333333333
`,
	}
	for name, src := range srcs {
		t.Run(name, func(t *testing.T) {
			e, _, enc := roundTrip(t, src)
			var b bytes.Buffer
			if err := e.Encode(&b); err != nil {
				t.Fatal(err)
			}
			if b.String() != enc {
				t.Errorf("encoding is not stable:\n%s\nthen\n%s", enc, b.String())
			}
		})
	}
}

// roundTrip parses src, encodes it and parses the encoding, and fails the
// test unless the two experiments and their hashes are equal. It returns
// both experiments and the encoding of the second.
func roundTrip(t *testing.T, src string) (e, again *Experiment, enc string) {
	t.Helper()
	e, err := Parse("rt.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := e.Encode(&b); err != nil {
		t.Fatal(err)
	}
	again, err = Parse("rt.toml", b.Bytes())
	if err != nil {
		t.Fatalf("Parse of the encoding: %v\n%s", err, b.String())
	}
	if !reflect.DeepEqual(e, again) {
		t.Errorf("round trip changed the experiment:\n got %+v\nwant %+v\nencoding:\n%s", again, e, b.String())
	}
	if e.Hash() != again.Hash() {
		t.Errorf("round trip changed the hash")
	}
	b.Reset()
	if err := again.Encode(&b); err != nil {
		t.Fatal(err)
	}
	return e, again, b.String()
}

// TestEncode pins the canonical encoding: a change to it changes the hash
// of every recorded run.
func TestEncode(t *testing.T) {
	e := Default()
	e.Name = "pin"
	e.Model.Conv = []ConvLayer{{Filters: 6, Kernel: 5, Stride: 1, Padding: 2, Pool: 2, PoolKind: "avg", NoiseAfter: "pool"}, NewConvLayer(16, 5)}
	e.Model.Bias = "all"
	e.Noise.Scale = Scales{0.5, 1, 1, 2}
	kind := "bp"
	e.Arms = []Arm{
		{Name: "a", Estimator: EstimatorOverride{Settings: map[string]any{"layerwise": true, "copies": 4}}},
		{Name: "b", Estimator: EstimatorOverride{Kind: &kind, Settings: map[string]any{"noise": true, "copies": 2}},
			Noise: NoiseOverride{Scale: &Scales{3}}},
	}
	const want = `name = "pin"
seed = 1

[model]
conv = [{filters = 6, kernel = 5, stride = 1, padding = 2, pool = 2, pool_kind = "avg", noise_after = "pool"}, {filters = 16, kernel = 5, stride = 1, padding = 0, pool = 1, pool_kind = "max", noise_after = "conv"}]
hidden = [50]
activation = "sigmoid"
bias = "all"
init = "scaled-normal"
dtype = "float64"

[noise]
distribution = "laplace"
scale = [0.5, 1.0, 1.0, 2.0]
at_eval = false

[estimator]
kind = "glr"
copies = 1
baseline = "none"
antithetic = false
sampler = "iid"
layerwise = false

[loss]
kind = "cross-entropy"

[data]
dataset = "mnist"
path = ""
batch_size = 32
train_limit = 0
test_limit = 0
classes = 10
image_size = 32
sin = false

[optimizer]
kind = "sgd"
learning_rate = 0.01
weight_decay = 0.0
decay_factor = 1.0
decay_every = 0

[train]
epochs = 1

[[arms]]
name = "a"

[arms.estimator]
copies = 4
layerwise = true

[[arms]]
name = "b"

[arms.estimator]
kind = "bp"
copies = 2
noise = true

[arms.noise]
scale = 3.0
`
	var b bytes.Buffer
	if err := e.Encode(&b); err != nil {
		t.Fatal(err)
	}
	if b.String() != want {
		t.Errorf("Encode:\n%s\nwant\n%s", b.String(), want)
	}
	sum := sha256.Sum256([]byte(want))
	if got := e.Hash(); got != hex.EncodeToString(sum[:]) {
		t.Errorf("Hash = %s, want the SHA-256 of the encoding", got)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestEncodeWriteError(t *testing.T) {
	e := Default()
	e.Name = "x"
	err := e.Encode(failWriter{})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Encode to a failing writer = %v, want the write error", err)
	}
}

func TestHash(t *testing.T) {
	parse := func(src string, sets ...string) string {
		t.Helper()
		e, err := Parse("h.toml", []byte(src), sets...)
		if err != nil {
			t.Fatal(err)
		}
		return e.Hash()
	}
	base := parse(`name = "h"`)
	if len(base) != 64 {
		t.Errorf("Hash = %q, want 64 hex digits", base)
	}
	same := []string{
		"name = \"h\"\n# a comment\n[model]\nhidden = [50]\n",
		"name = 'h'\nseed = 1\n[noise]\nscale = 1\n[data]\nbatch_size = 32\n",
	}
	for _, src := range same {
		if got := parse(src); got != base {
			t.Errorf("Hash of %q differs from that of the same experiment written otherwise", src)
		}
	}
	if got := parse(`name = "h"`, "noise.scale=0.9"); got == base {
		t.Error("Hash did not change with a value")
	}
	if got := parse(`name = "h2"`); got == base {
		t.Error("Hash did not change with the name")
	}
	e := Default()
	e.Name = "h"
	e.Source = "elsewhere.toml"
	if e.Hash() != base {
		t.Error("Hash depends on Source")
	}
}

func TestValidate(t *testing.T) {
	e := Default()
	if err := e.Validate(); err == nil || err.Error() != "name: required, must be a non-empty string" {
		t.Errorf("Validate of Default() = %v", err)
	}
	e.Name = "v"
	if err := e.Validate(); err != nil {
		t.Errorf("Validate of a named Default() = %v", err)
	}
	e.Source = "v.toml"
	e.Noise.Scale = Scales{math.NaN()}
	e.Seed = math.MaxUint64
	want := "v.toml: seed: must be at most 9223372036854775807, got 18446744073709551615\n" +
		"v.toml: noise.scale: must be > 0 and finite, got nan"
	if err := e.Validate(); err == nil || err.Error() != want {
		t.Errorf("Validate = %v, want %s", err, want)
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		err  Error
		want string
	}{
		{Error{File: "a.toml", Line: 3, Key: "model.bias", Msg: "bad"}, "a.toml:3: model.bias: bad"},
		{Error{File: "a.toml", Key: "data.path", Msg: "bad"}, "a.toml: data.path: bad"},
		{Error{File: "a.toml", Line: 2, Msg: "bad"}, "a.toml:2: bad"},
		{Error{File: "a.toml", Line: 2, Key: "seed", Set: true, Msg: "bad"}, "-set seed: bad"},
		{Error{Set: true, Msg: "bad"}, "-set: bad"},
		{Error{Key: "name", Msg: "bad"}, "name: bad"},
		{Error{Line: 4, Key: "name", Msg: "bad"}, "line 4: name: bad"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("%+v.Error() = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestErrorsAs(t *testing.T) {
	_, err := Parse("e.toml", []byte("name = \"x\"\n[noise]\nscale = -1\n[train]\nepochs = 0\n"))
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v holds no *Error", err)
	}
	want := Error{File: "e.toml", Line: 3, Key: "noise.scale", Msg: "must be > 0 and finite, got -1"}
	if *ce != want {
		t.Errorf("first *Error = %+v, want %+v", *ce, want)
	}
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok || len(joined.Unwrap()) != 2 {
		t.Errorf("error %v does not hold both problems", err)
	}
}

func TestLineIndex(t *testing.T) {
	const src = "\xef\xbb\xbf" + `# comment = 1
name = "x" # trailing = comment
text = """
fake = 1
"""
lit = '''a = ''b'''''
[ model ]
hidden = [
  1, # fake = 2
  2,
]
"quoted key" = 1
'lit.key'.sub = 2
a.b . c = 3
[[arms]]
name = "a"
[[ arms ]]
name = "b"
[arms.loss]
kind = "x"
[[arms]]
noise = { scale = 1, nested = { deep = "}" } }
list = [ { x = 1 }, { x = 2,
  y = 3 } ]
[ "odd table" . t ]
k = 1
`
	idx := indexLines([]byte(src))
	tests := []struct {
		key  string
		line int
	}{
		{"name", 2},
		{"text", 3},
		{"fake", 0},
		{"lit", 6},
		{"model", 7},
		{"model.hidden", 8},
		{`model."quoted key"`, 12},
		{`model."lit.key".sub`, 13},
		{"model.a.b.c", 14},
		{"arms", 15},
		{"arms[0]", 15},
		{"arms[0].name", 16},
		{"arms[1]", 17},
		{"arms[1].name", 18},
		{"arms[1].loss", 19},
		{"arms[1].loss.kind", 20},
		{"arms[2].noise", 22},
		{"arms[2].noise.scale", 22},
		{"arms[2].noise.nested.deep", 22},
		{"arms[2].list[1].x", 23},
		{"arms[2].list[1].y", 24},
		{`"odd table".t.k`, 26},
		{"comment", 0},
	}
	for _, tt := range tests {
		if got := idx.line(tt.key); got != tt.line {
			t.Errorf("line(%s) = %d, want %d", tt.key, got, tt.line)
		}
	}
	if got := idx.lineOrParent("arms[1].loss.missing"); got != 19 {
		t.Errorf("lineOrParent fell back to line %d, want 19", got)
	}
	spans := []struct {
		off  int
		want string
	}{
		{strings.Index(src, `"x" # trailing`), "name"},
		{strings.Index(src, "fake = 1"), "text"},
		{strings.Index(src, "2,\n]"), "model.hidden"},
		{strings.Index(src, `"}"`), "arms[2].noise.nested.deep"},
		{strings.Index(src, "y = 3"), "arms[2].list[1].y"},
		{strings.Index(src, "[arms.loss]"), ""},
		{strings.Index(src, "# comment = 1"), ""},
	}
	for _, tt := range spans {
		if got := idx.keyAt(tt.off); got != tt.want {
			t.Errorf("keyAt(%d: %.10q) = %q, want %q", tt.off, src[tt.off:], got, tt.want)
		}
	}
}

func TestLineIndexNeverFails(t *testing.T) {
	for _, src := range []string{"", "[", "[[a", "a", "a =", "a = [1,", `a = "x`, "a = '''", "{", "a = {b", "= 1", "a.\"b", "a = [\n"} {
		indexLines([]byte(src)) // must not panic
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(full), "noise.scale=0.5")
	f.Add([]byte("name = \"x\"\n[[arms]]\nname = \"a\"\n"), "arms[0].loss.kind=squared")
	f.Add([]byte("name = 'x'\nnoise = { scale = 2.0 }\n"), "model.hidden=[]")
	f.Add([]byte("name = 'x'\n[model]\nbias = 'all'\nconv = [{filters = 2, kernel = 3, pool = 2}]\n"), "noise.scale=[1,2,3]")
	f.Add([]byte("name = 'x'\n[estimator]\nkind = 'es'\nsigma = 0.5\n[[arms]]\nname = 'a'\nestimator.kind = 'glr'\n"), "estimator.kind=spsa")
	f.Fuzz(func(t *testing.T, data []byte, set string) {
		e, err := Parse("fuzz.toml", data, set)
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := e.Encode(&b); err != nil {
			t.Fatal(err)
		}
		again, err := Parse("fuzz.toml", b.Bytes())
		if err != nil {
			t.Fatalf("Parse of the encoding of a valid experiment: %v\n%s", err, b.String())
		}
		if e.Hash() != again.Hash() {
			t.Fatalf("round trip changed the hash:\n%s", b.String())
		}
	})
}

// testSettings are settings of a kind that is not registered (registering
// one would change the list of kinds every message shows), with a slice
// key.
type testSettings struct {
	Weights []float64 `toml:"weights"`
}

const testKind = "test-kind"

func (s *testSettings) Target() estimators.Target                    { return estimators.NoiseFree }
func (s *testSettings) Check(estimators.Info) []estimators.Problem   { return nil }
func (s *testSettings) New(graph.Spec) (estimators.Estimator, error) { return nil, errors.New("test") }
func (s *testSettings) String() string                               { return "test" }
