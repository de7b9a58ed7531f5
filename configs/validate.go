package configs

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/glr-project/glr/graph"
)

// Allowed values of the enumerated keys, in the order the messages list them.
var (
	activations   = []string{"sigmoid", "threshold", "relu", "tanh"}
	biases        = []string{"input", "all", "none"}
	inits         = []string{"scaled-normal", "glorot"}
	dtypes        = []string{"float64", "float32"}
	distributions = []string{"gaussian", "laplace"}
	datasets      = []string{"mnist", "fashion-mnist", "tiny-imagenet"}
	optimizers    = []string{"sgd", "momentum", "adagrad", "adam"}
)

// embedded lists the data sets that need no data.path.
var embedded = []string{"mnist"}

// Validate reports every impossible value in e, the size limits it breaks,
// and every problem its estimator kind finds in each arm once the arm's
// overrides are applied. Problems are reported as [*Error] values naming
// e.Source and the key; since e no longer knows where its keys were in the
// file, the line is left out. [Load] and [Parse] validate with lines.
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

// problems is a list of problems without repeats.
type problems struct {
	list []problem
	seen map[problem]bool
}

func (ps *problems) add(key, format string, args ...any) {
	p := problem{key, fmt.Sprintf(format, args...)}
	if ps.seen == nil {
		ps.seen = make(map[problem]bool)
	}
	if !ps.seen[p] {
		ps.seen[p] = true
		ps.list = append(ps.list, p)
	}
}

func (e *Experiment) problems() []problem {
	var ps problems
	checkName(&ps, "name", e.Name)
	if e.Seed > math.MaxInt64 {
		ps.add("seed", "must be at most %d, got %d", int64(math.MaxInt64), e.Seed)
	}
	shapeOK := checkModel(&ps, e.Model, e.Data)
	// The number of noise sites is known if the hidden layers are within
	// their limit.
	sites := -1
	if len(e.Model.Hidden) <= MaxHiddenLayers && len(e.Model.Conv) <= MaxConvLayers {
		sites = e.Model.Sites()
	}
	for _, p := range checkOverridable(e, sites).list {
		ps.add(p.key, "%s", p.msg)
	}
	batchOK := checkData(&ps, e.Data)
	switch t := e.Train.Epochs; {
	case t < 1:
		ps.add("train.epochs", "must be >= 1, got %d", t)
	case t > MaxEpochs:
		ps.add("train.epochs", "%d epochs exceed the limit of %d", t, MaxEpochs)
	}
	estimatorOK := checkSettings(&ps, "estimator", e.Estimator)

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
		r, _ := e.resolve(&a)
		for _, p := range checkOverridable(&r, sites).list {
			if a.overrides(p.key) {
				ps.add(prefix+p.key, "%s", p.msg)
			}
		}
	}

	// The estimator kind checks the settings of each arm, after its
	// overrides (or the experiment's, if it has no arms), for the network
	// and loss; each problem is blamed on its key, in the arm if the arm
	// sets it, or else on the arm's kind if the arm sets that.
	if !estimatorOK {
		return ps.list
	}
	arms := e.Arms
	if len(arms) == 0 {
		arms = []Arm{{}}
	}
	for i, a := range arms {
		r, bad := e.resolve(&a)
		for _, p := range bad.list {
			ps.add(fmt.Sprintf("arms[%d].%s", i, p.key), "%s", p.msg)
		}
		if len(bad.list) > 0 {
			continue
		}
		info := r.Info()
		if !shapeOK || !batchOK {
			info.Widest = 0 // unknown: the kinds skip the checks that need it
		}
		for _, p := range r.Estimator.Settings.Check(info) {
			key := p.Key
			if !strings.Contains(key, ".") {
				key = "estimator." + key
			}
			for _, k := range []string{key, "estimator.kind"} {
				if a.overrides(k) {
					key = fmt.Sprintf("arms[%d].%s", i, k)
					break
				}
			}
			ps.add(key, "%s", p.Msg)
		}
	}
	return ps.list
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

// checkOverridable checks the keys of the tables that an arm may override,
// other than the estimator's, one key at a time, for a network of the
// given number of noise sites (negative if unknown).
func checkOverridable(e *Experiment, sites int) problems {
	var ps problems
	checkEnum(&ps, "noise.distribution", "distribution", e.Noise.Distribution, distributions)
	switch s := e.Noise.Scale; {
	case len(s) == 1:
		checkPositive(&ps, "noise.scale", s[0])
	case sites >= 0 && len(s) != sites:
		ps.add("noise.scale", "%d values for a network of %d noise sites (want 1 value, or one per site)", len(s), sites)
	case sites >= 0:
		for i, v := range s {
			checkPositive(&ps, indexKey("noise.scale", i), v)
		}
	}

	if _, err := graph.ParseLossKind(e.Loss.Kind); err != nil {
		ps.add("loss.kind", "%v", err)
	}

	o := e.Optimizer
	checkEnum(&ps, "optimizer.kind", "optimizer", o.Kind, optimizers)
	checkPositive(&ps, "optimizer.learning_rate", o.LearningRate)
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

func checkPositive(ps *problems, key string, v float64) {
	if !(v > 0) || math.IsInf(v, 0) {
		ps.add(key, "must be > 0 and finite, got %s", formatFloat(v))
	}
}

// checkData adds the problems of d to ps and reports whether the batch
// size is valid.
func checkData(ps *problems, d Data) bool {
	checkImage(ps, d)
	if slices.Contains(datasets, d.Dataset) && !slices.Contains(embedded, d.Dataset) && d.Path == "" {
		ps.add("data.path", "required for dataset %q (only %s is embedded)", d.Dataset, strings.Join(embedded, ", "))
	}
	if !utf8.ValidString(d.Path) {
		ps.add("data.path", "must be valid UTF-8")
	}
	batchOK := d.BatchSize >= 1 && d.BatchSize <= MaxBatch
	switch b := d.BatchSize; {
	case b < 1:
		ps.add("data.batch_size", "must be >= 1, got %d", b)
	case b > MaxBatch:
		ps.add("data.batch_size", "%d examples exceed the limit of %d", b, MaxBatch)
	}
	if d.TrainLimit < 0 {
		ps.add("data.train_limit", "must be >= 0, got %d", d.TrainLimit)
	}
	if d.TestLimit < 0 {
		ps.add("data.test_limit", "must be >= 0, got %d", d.TestLimit)
	}
	if d.Classes < 1 || d.Classes > MaxClasses {
		ps.add("data.classes", "must be in [1, %d], got %d", MaxClasses, d.Classes)
	}
	return batchOK
}

// checkImage checks the keys of d that give its image: the data set and
// the image size.
func checkImage(ps *problems, d Data) {
	checkEnum(ps, "data.dataset", "dataset", d.Dataset, datasets)
	if d.ImageSize < 1 || d.ImageSize > MaxImageSize {
		ps.add("data.image_size", "must be in [1, %d], got %d", MaxImageSize, d.ImageSize)
	}
}

// overrides reports whether a sets key, a dotted key such as "loss.kind"
// or "noise.scale[1]" (an element counts as its array).
func (a *Arm) overrides(key string) bool {
	key = stripIndices(key)
	if rest, ok := strings.CutPrefix(key, "estimator."); ok {
		return a.Estimator.overrides(rest)
	}
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
