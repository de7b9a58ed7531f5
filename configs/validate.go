package configs

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"
)

// Allowed values of the enumerated keys, in the order the messages list them.
var (
	activations   = []string{"sigmoid", "threshold", "relu", "tanh"}
	biases        = []string{"input", "all", "none"}
	inits         = []string{"scaled-normal", "glorot"}
	dtypes        = []string{"float64", "float32"}
	distributions = []string{"gaussian", "laplace"}
	estimators    = []string{"glr", "bp"}
	baselines     = []string{"none", "batch-mean", "leave-one-out", "clean"}
	losses        = []string{"cross-entropy", "zero-one", "squared"}
	datasets      = []string{"mnist", "fashion-mnist", "tiny-imagenet"}
	optimizers    = []string{"sgd", "momentum", "adagrad", "adam"}
)

// embedded lists the data sets that need no data.path.
var embedded = []string{"mnist"}

// Validate reports every impossible value in e, and every impossible
// combination in each arm once its overrides are applied. Problems are
// reported as [*Error] values naming e.Source and the key; since e no longer
// knows where its keys were in the file, the line is left out. [Load] and
// [Parse] validate with lines.
func (e *Experiment) Validate() error {
	var errs []*Error
	for _, p := range e.problems() {
		errs = append(errs, &Error{File: e.Source, Key: p.key, Msg: p.msg})
	}
	return joinErrors(errs)
}

// problem is one validation failure of the key, not yet placed in a file.
type problem struct {
	key, msg string
}

type problems []problem

func (ps *problems) add(key, format string, args ...any) {
	p := problem{key, fmt.Sprintf(format, args...)}
	if !slices.Contains(*ps, p) {
		*ps = append(*ps, p)
	}
}

// with adds the problems in q, with prefix put before their keys.
func (ps *problems) with(prefix string, q problems) {
	for _, p := range q {
		ps.add(prefix+p.key, "%s", p.msg)
	}
}

func (e *Experiment) problems() []problem {
	var ps problems
	checkName(&ps, "name", e.Name)
	if e.Seed > math.MaxInt64 {
		ps.add("seed", "must be at most %d, got %d", int64(math.MaxInt64), e.Seed)
	}
	ps.with("model.", checkModel(e.Model))
	ps.with("", checkOverridable(e))
	ps.with("data.", checkData(e.Data))
	if e.Train.Epochs < 1 {
		ps.add("train.epochs", "must be >= 1, got %d", e.Train.Epochs)
	}

	seen := make(map[string]int)
	for i, a := range e.Arms {
		prefix := fmt.Sprintf("arms[%d].", i)
		checkName(&ps, prefix+"name", a.Name)
		if j, dup := seen[a.Name]; dup && a.Name != "" {
			ps.add(prefix+"name", "duplicate arm name %q (also arms[%d])", a.Name, j)
		} else {
			seen[a.Name] = i
		}
		// Problems of the resolved arm in keys that the arm sets.
		r := e.resolve(a)
		for _, p := range checkOverridable(&r) {
			if a.overrides(p.key) {
				ps.add(prefix+p.key, "%s", p.msg)
			}
		}
	}

	// Combinations are checked per arm, after its overrides, and blamed on
	// the first of their keys that the arm sets, or else on the first key.
	arms := e.Arms
	if len(arms) == 0 {
		arms = []Arm{{}}
	}
	for i, a := range arms {
		r := e.resolve(a)
		for _, c := range checkCombinations(&r) {
			key := c.keys[0]
			if j := slices.IndexFunc(c.keys, a.overrides); j >= 0 {
				key = fmt.Sprintf("arms[%d].%s", i, c.keys[j])
			}
			ps.add(key, "%s", c.msg)
		}
	}
	return ps
}

func checkName(ps *problems, key, name string) {
	switch {
	case strings.TrimSpace(name) == "":
		ps.add(key, "required, must be a non-empty string")
	case !utf8.ValidString(name):
		ps.add(key, "must be valid UTF-8")
	}
}

func checkEnum(ps *problems, key, what, v string, allowed []string) {
	if !slices.Contains(allowed, v) {
		ps.add(key, "unknown %s %q (want %s)", what, v, strings.Join(allowed, " | "))
	}
}

func checkModel(m Model) problems {
	var ps problems
	for i, w := range m.Hidden {
		if w < 1 {
			ps.add(indexKey("hidden", i), "width must be >= 1, got %d", w)
		}
	}
	checkEnum(&ps, "activation", "activation", m.Activation, activations)
	checkEnum(&ps, "bias", "bias", m.Bias, biases)
	checkEnum(&ps, "init", "init", m.Init, inits)
	checkEnum(&ps, "dtype", "dtype", m.Dtype, dtypes)
	return ps
}

// checkOverridable checks the tables that an arm may override, one key at
// a time.
func checkOverridable(e *Experiment) problems {
	var ps problems
	checkEnum(&ps, "noise.distribution", "distribution", e.Noise.Distribution, distributions)
	if s := e.Noise.Scale; !(s > 0) || math.IsInf(s, 0) {
		ps.add("noise.scale", "must be > 0 and finite, got %s", formatFloat(s))
	}

	checkEnum(&ps, "estimator.kind", "estimator", e.Estimator.Kind, estimators)
	if e.Estimator.Copies < 1 {
		ps.add("estimator.copies", "must be >= 1, got %d", e.Estimator.Copies)
	}
	checkEnum(&ps, "estimator.baseline", "baseline", e.Estimator.Baseline, baselines)

	checkEnum(&ps, "loss.kind", "loss", e.Loss.Kind, losses)

	o := e.Optimizer
	checkEnum(&ps, "optimizer.kind", "optimizer", o.Kind, optimizers)
	if r := o.LearningRate; !(r > 0) || math.IsInf(r, 0) {
		ps.add("optimizer.learning_rate", "must be > 0 and finite, got %s", formatFloat(r))
	}
	if w := o.WeightDecay; !(w >= 0) || math.IsInf(w, 0) {
		ps.add("optimizer.weight_decay", "must be >= 0 and finite, got %s", formatFloat(w))
	}
	if f := o.DecayFactor; !(f > 0 && f <= 1) {
		ps.add("optimizer.decay_factor", "must be in (0, 1], got %s", formatFloat(f))
	}
	if o.DecayEvery < 0 {
		ps.add("optimizer.decay_every", "must be >= 0, got %d", o.DecayEvery)
	}
	return ps
}

func checkData(d Data) problems {
	var ps problems
	checkEnum(&ps, "dataset", "dataset", d.Dataset, datasets)
	if slices.Contains(datasets, d.Dataset) && !slices.Contains(embedded, d.Dataset) && d.Path == "" {
		ps.add("path", "required for dataset %q (only %s is embedded)", d.Dataset, strings.Join(embedded, ", "))
	}
	if !utf8.ValidString(d.Path) {
		ps.add("path", "must be valid UTF-8")
	}
	if d.BatchSize < 1 {
		ps.add("batch_size", "must be >= 1, got %d", d.BatchSize)
	}
	if d.TrainLimit < 0 {
		ps.add("train_limit", "must be >= 0, got %d", d.TrainLimit)
	}
	if d.TestLimit < 0 {
		ps.add("test_limit", "must be >= 0, got %d", d.TestLimit)
	}
	if d.Classes < 1 || d.Classes > 200 {
		ps.add("classes", "must be in [1, 200], got %d", d.Classes)
	}
	if d.ImageSize < 1 || d.ImageSize > 512 {
		ps.add("image_size", "must be in [1, 512], got %d", d.ImageSize)
	}
	return ps
}

// combination is an impossible combination of the values of keys, reported
// on the first of them unless an arm sets another.
type combination struct {
	keys []string
	msg  string
}

func checkCombinations(e *Experiment) []combination {
	var cs []combination
	est := e.Estimator
	if est.Kind == "bp" && e.Loss.Kind == "zero-one" {
		cs = append(cs, combination{[]string{"loss.kind", "estimator.kind"},
			`backpropagation (estimator.kind = "bp") cannot differentiate the zero-one loss; use estimator.kind = "glr"`})
	}
	if est.Antithetic && est.Copies >= 1 && est.Copies%2 != 0 {
		cs = append(cs, combination{[]string{"estimator.copies", "estimator.antithetic"},
			fmt.Sprintf("antithetic sampling pairs copies, so estimator.copies must be even, got %d", est.Copies)})
	}
	if est.Kind == "bp" && est.Antithetic {
		cs = append(cs, combination{[]string{"estimator.antithetic", "estimator.kind"},
			`antithetic sampling is a glr option; set estimator.antithetic = false with estimator.kind = "bp"`})
	}
	if est.Kind == "bp" && !est.Noise && est.Copies > 1 {
		cs = append(cs, combination{[]string{"estimator.copies", "estimator.noise", "estimator.kind"},
			fmt.Sprintf("backpropagation without noise (estimator.noise = false) computes the same gradient for each of the %d copies; set estimator.copies = 1 or estimator.noise = true", est.Copies)})
	}
	return cs
}

// overrides reports whether a sets key, a dotted key such as "loss.kind".
func (a *Arm) overrides(key string) bool {
	v := reflect.ValueOf(a).Elem()
	for seg := range strings.SplitSeq(key, ".") {
		if v.Kind() != reflect.Struct {
			return false
		}
		f, ok := fieldByName(v.Type(), seg)
		if !ok {
			return false
		}
		v = v.FieldByIndex(f.Index)
	}
	return v.Kind() == reflect.Pointer && !v.IsNil()
}
