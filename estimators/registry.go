package estimators

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/glr-project/glr/graph"
)

// Target says what the mean of a kind's estimates is.
type Target int

const (
	// Smoothed is the gradient of the expected loss of the noisy network,
	// with noise at every site: the objective the GLR estimator is unbiased
	// for.
	Smoothed Target = iota
	// NoiseFree is the gradient of the noise-free network's loss (for
	// weight-space estimators, up to a bias that vanishes with their
	// perturbation scale).
	NoiseFree
	// Surrogate is the gradient of a surrogate: backpropagation with a
	// threshold's derivative replaced, or a rescaled direction such as
	// centred-rank evolution strategies give.
	Surrogate
	// SiteSmoothed gives each noise site's parameters the gradient of the
	// expected loss with noise at that site alone: what layer-wise noise
	// injection estimates. It differs from Smoothed wherever one layer's
	// noise changes the gradient of another layer's weights.
	SiteSmoothed
	// Pathwise is the mean of the pathwise (backpropagated) gradient
	// through the noise: the smoothed gradient wherever the network is
	// differentiable, and zero below a threshold, whose derivative is.
	Pathwise
)

// String returns "smoothed", "noise-free" or "surrogate".
func (t Target) String() string {
	switch t {
	case Smoothed:
		return "smoothed"
	case NoiseFree:
		return "noise-free"
	case Surrogate:
		return "surrogate"
	case SiteSmoothed:
		return "site-smoothed"
	case Pathwise:
		return "pathwise"
	}
	return fmt.Sprintf("Target(%d)", int(t))
}

// Settings are one kind's settings: a pointer to a struct whose exported
// fields, each tagged `toml:"key"`, are the keys of the [estimator] table
// besides kind. Fields may be string, bool, int, float64 or []float64.
// Package configs decodes them strictly; the kind then checks them.
type Settings interface {
	// Target says what the mean of the estimates is for these settings.
	Target() Target
	// Check returns every problem of the settings for a network that info
	// describes. A Problem's Key is a key of the [estimator] table
	// ("copies") or, when a dot is in it, a key elsewhere ("loss.kind").
	Check(info Info) []Problem
	// New returns an estimator with these settings for networks like base,
	// whose Batch is the number of examples per Estimate and whose Params
	// hold the shared weights the estimator reads. The estimator decides
	// base's Copies, NoiseOff, OnlySite, QuietSite, Sampler, Antithetic and
	// Surrogate for the networks it builds. New is called only with settings that
	// passed Check.
	New(base graph.Spec) (Estimator, error)
	// String describes the settings in a few words, for tables:
	// "glr K=10 leave-one-out".
	String() string
}

// Info describes the network and loss that settings are checked against.
type Info struct {
	Sites     int            // noise sites of the network
	Threshold bool           // the network has a threshold activation
	Loss      graph.LossKind // the training loss
	Batch     int            // examples per step
	// Widest is the largest number of values one example occupies at any
	// layer (a dense layer's width, a convolution's channels × positions),
	// so that a kind can refuse passes too large to hold.
	Widest int
}

// checkRows reports a pass of batch × copies rows whose widest layer would
// exceed graph.MaxElements values, on the key copies.
func checkRows(info Info, copies int) []Problem {
	if info.Widest > 0 && int64(info.Batch)*int64(copies)*int64(info.Widest) > graph.MaxElements {
		return []Problem{{"copies", fmt.Sprintf("a pass of %d examples × %d copies × %d values at the widest layer exceeds the limit of %d values per tensor; lower copies or data.batch_size",
			info.Batch, copies, info.Widest, int64(graph.MaxElements))}}
	}
	return nil
}

// Problem is one thing wrong with settings.
type Problem struct {
	Key string // see Settings.Check
	Msg string
}

// Variant is a setting of a kind that the conformance kit checks besides
// the defaults.
type Variant struct {
	Name string
	// TOML holds keys of the [estimator] table to set, as TOML:
	// `baseline = "clean"`.
	TOML string
	// Shrink, if set, gives the factor by which the variant's mean estimate
	// is the target, for passes of the given rows (a batch-mean baseline
	// shrinks it by 1 − 1/rows); nil means the variant is unbiased.
	Shrink func(rows int) float64
}

// Kind describes one estimator kind to the framework.
type Kind struct {
	Name    string // the value of [estimator] kind; lower case, letters, digits and '-'
	Summary string // one line for docs and help
	// NewSettings returns the kind's settings at their defaults.
	NewSettings func() Settings
	// Variants are the settings the conformance kit checks besides the
	// defaults.
	Variants []Variant
}

var registry = struct {
	sync.RWMutex
	kinds map[string]Kind
}{kinds: map[string]Kind{}}

// Register adds a kind. It fails for an empty or taken name, a nil
// NewSettings, or settings that are not a pointer to a struct of toml-tagged
// fields of the supported types.
func Register(k Kind) error {
	if k.Name == "" || strings.Trim(k.Name, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
		return fmt.Errorf("estimators: kind name %q must be lower-case letters, digits and '-'", k.Name)
	}
	if k.NewSettings == nil {
		return fmt.Errorf("estimators: kind %s has no NewSettings", k.Name)
	}
	if err := checkSettingsType(k.NewSettings()); err != nil {
		return fmt.Errorf("estimators: kind %s: %w", k.Name, err)
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.kinds[k.Name]; dup {
		return fmt.Errorf("estimators: kind %s is registered twice", k.Name)
	}
	registry.kinds[k.Name] = k
	return nil
}

// MustRegister is Register that panics on error, for init functions.
func MustRegister(k Kind) {
	if err := Register(k); err != nil {
		panic(err)
	}
}

// Lookup returns the kind registered under name.
func Lookup(name string) (Kind, bool) {
	registry.RLock()
	defer registry.RUnlock()
	k, ok := registry.kinds[name]
	return k, ok
}

// Kinds returns every registered kind, sorted by name.
func Kinds() []Kind {
	registry.RLock()
	defer registry.RUnlock()
	ks := make([]Kind, 0, len(registry.kinds))
	for _, k := range registry.kinds {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i].Name < ks[j].Name })
	return ks
}

// Names returns the registered kinds' names, sorted.
func Names() []string {
	var names []string
	for _, k := range Kinds() {
		names = append(names, k.Name)
	}
	return names
}

// SettingsKeys returns the keys of a kind's settings, in declaration order.
func SettingsKeys(s Settings) []string {
	var keys []string
	t := reflect.TypeOf(s).Elem()
	for _, f := range reflect.VisibleFields(t) {
		if name := tagName(f); f.IsExported() && name != "" {
			keys = append(keys, name)
		}
	}
	return keys
}

func tagName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	if name == "-" {
		return ""
	}
	return name
}

var settingKinds = []reflect.Kind{reflect.String, reflect.Bool, reflect.Int, reflect.Float64}

func checkSettingsType(s Settings) error {
	if s == nil {
		return fmt.Errorf("NewSettings returned nil")
	}
	t := reflect.TypeOf(s)
	if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("settings must be a pointer to a struct, got %v", t)
	}
	seen := map[string]bool{}
	for _, f := range reflect.VisibleFields(t.Elem()) {
		if !f.IsExported() {
			continue
		}
		name := tagName(f)
		if name == "" {
			return fmt.Errorf("settings field %s has no toml tag", f.Name)
		}
		if name == "kind" || seen[name] {
			return fmt.Errorf("settings key %q is reserved or repeated", name)
		}
		seen[name] = true
		ok := slices.Contains(settingKinds, f.Type.Kind()) ||
			f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Float64
		if !ok {
			return fmt.Errorf("settings key %q has unsupported type %v", name, f.Type)
		}
	}
	return nil
}

// References are gradients that the conformance kit computes independently
// of the graph for one network, flattened in parameter order.
type References struct {
	NoiseFree []float64 // of the noise-free loss
	Smoothed  []float64 // of the noisy network's expected loss
	// SiteSmoothed holds each site's parameters' gradient of the expected
	// loss with noise at that site alone.
	SiteSmoothed []float64
	// Pathwise is the mean pathwise gradient through the noise.
	Pathwise []float64
	// Surrogate holds, per surrogate derivative, the gradient of the
	// noise-free network with its thresholds differentiated that way.
	Surrogate map[graph.Surrogate][]float64
}

// Referencer is implemented by settings whose Target is Surrogate: Reference
// returns what the mean estimate should be, given the kit's references.
type Referencer interface {
	Reference(r References) ([]float64, error)
}
