package configs

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
	"github.com/glr-project/glr/corrupt"
)

// Robustness describes one robustness evaluation (glr robust): the trained
// models, the attack and corruption sets, their budgets and every attack
// setting. In a file it is a TOML document with the keys below, every one
// optional but models; see docs/robustness.md for what each set does.
//
//	models = ["runs/mnist-bp", "runs/mnist-lrt"]
//	sets = ["clean", "square", "hopskipjump", "bpda-pgd", "zo-pgd", "worst"]
//	eps = [0.05, 0.1, 0.2, 0.3]
//	n = 1000
//
//	[substitute]
//	train = "substitute-mnist"
//
//	[attack]
//	queries = 1000
//	eot = 10
//
// The keys of [attack] are the flags of glr robust with "_" for "-".
type Robustness struct {
	// Models are run directories (every trained arm) or checkpoint files
	// (one arm); at least one.
	Models []string `toml:"models" json:"models"`
	// Protocol "glr-adv" is the robustness protocol of the reference code
	// (GLR_ADV): its sets (GLRAdvSets), and its shipped substitute trained
	// when Substitute names none. "" is none.
	Protocol string `toml:"protocol" json:"protocol"`
	// Sets are the attack and corruption sets (RobustSets); the default is
	// GLRAdvSets.
	Sets []string `toml:"sets" json:"sets"`
	// Eps are the L∞ budgets of the ε-bounded attacks, each in [0, 1].
	Eps []float64 `toml:"eps" json:"eps"`
	// Severities are the corruption severities, each in [1, 5].
	Severities []int `toml:"severities" json:"severities"`
	// N evaluates on the first N test images; 0 means all of them.
	N int `toml:"n" json:"n"`
	// Seed seeds every random choice of the evaluation: the corruptions,
	// the attacks' draws and the noise of noisy models. At most
	// math.MaxInt64.
	Seed uint64 `toml:"seed" json:"seed"`
	// Out is the output directory; "" means the first free one of
	// runs/robust, runs/robust-2, ...
	Out string `toml:"out" json:"out"`
	// Substitute is the model the transfer attacks are crafted on.
	Substitute Substitute `toml:"substitute" json:"substitute"`
	// Attack holds the attacks' settings.
	Attack AttackSettings `toml:"attack" json:"attack"`

	// Source is the file the settings were read from, for error messages;
	// it is not encoded.
	Source string `toml:"-" json:"-"`
}

// Substitute names the substitute model of the transfer attacks: a trained
// one (Run) or a shipped experiment to train (Train), not both.
type Substitute struct {
	// Run is a run directory holding one trained arm, or a checkpoint file.
	Run string `toml:"run" json:"run"`
	// Train is a shipped experiment (ShippedNames), trained with the
	// evaluation's seed on the models' data set into OUT/substitute.
	Train string `toml:"train" json:"train"`
}

// AttackSettings are the attacks' settings. Each key is the glr robust
// flag of the same name, with "_" for "-".
type AttackSettings struct {
	Queries    int     `toml:"queries" json:"queries"`         // square: queries per image
	PInit      float64 `toml:"p_init" json:"p_init"`           // square: initial fraction of pixels changed, in (0, 1]
	HSJQueries int     `toml:"hsj_queries" json:"hsj_queries"` // hopskipjump: queries per image
	PGDSteps   int     `toml:"pgd_steps" json:"pgd_steps"`     // steps of pgd, bpda-pgd and zo-pgd
	Restarts   int     `toml:"restarts" json:"restarts"`       // their runs; more than 1 start at random points
	ZOSamples  int     `toml:"zo_samples" json:"zo_samples"`   // zo-fgsm, zo-pgd: loss evaluations per image and step, even
	ZOSigma    float64 `toml:"zo_sigma" json:"zo_sigma"`       // zo-fgsm, zo-pgd: smoothing scale of the input
	BPDA       string  `toml:"bpda" json:"bpda"`               // bpda-pgd: identity | sigmoid
	EOT        int     `toml:"eot" json:"eot"`                 // noisy models: draws averaged per gradient and per accuracy
}

// The robustness sets that are not corruptions, in the order RobustSets
// lists them.
var attackSets = []string{"clean", "fgsm-transfer", "lbfgs-transfer", "fgsm", "pgd", "bpda-pgd", "zo-fgsm", "zo-pgd", "square", "hopskipjump", "worst"}

// transferSets are the sets crafted on the substitute.
var transferSets = []string{"fgsm-transfer", "lbfgs-transfer"}

// glrAdvSets are the sets of the reference code's robustness table.
var glrAdvSets = []string{"clean", "fgsm-transfer", "lbfgs-transfer", "gaussian", "impulse", "glass-blur-glr-adv", "contrast"}

// protocolGLRAdv names the reference code's protocol, and glrAdvSubstitute
// the shipped experiment of its substitute.
const (
	protocolGLRAdv   = "glr-adv"
	glrAdvSubstitute = "substitute-mnist"
)

// surrogates are the backward passes bpda-pgd may use.
var surrogates = []string{"identity", "sigmoid"}

// RobustSets returns the name of every robustness set: the attacks, then
// the corruptions of package corrupt. The caller owns the slice.
func RobustSets() []string {
	return append(slices.Clone(attackSets), corrupt.Names()...)
}

// GLRAdvSets returns the sets of the reference code's robustness table:
// clean, the two transfer attacks and its four corruptions. The caller owns
// the slice.
func GLRAdvSets() []string { return slices.Clone(glrAdvSets) }

// DefaultRobustness returns the settings of a robustness evaluation with
// every key at its default and no models.
func DefaultRobustness() Robustness {
	return Robustness{
		Sets:       GLRAdvSets(),
		Eps:        []float64{0.05, 0.1, 0.13, 0.2, 0.3},
		Severities: []int{1, 2, 3, 4, 5},
		Seed:       1,
		Attack: AttackSettings{
			Queries: 1000, PInit: 0.8, HSJQueries: 5000,
			PGDSteps: 10, Restarts: 1,
			ZOSamples: 50, ZOSigma: 0.05,
			BPDA: "identity", EOT: 10,
		},
	}
}

// TransferSets returns the sets of r crafted on the substitute model.
func (r *Robustness) TransferSets() []string {
	var out []string
	for _, s := range r.Sets {
		if slices.Contains(transferSets, s) {
			out = append(out, s)
		}
	}
	return out
}

// SubstituteToTrain returns the shipped experiment to train as the
// substitute: Substitute.Train, or for the glr-adv protocol without a
// substitute, the reference code's ("substitute-mnist"); "" if none.
func (r *Robustness) SubstituteToTrain() string {
	if r.Substitute.Train == "" && r.Substitute.Run == "" && r.Protocol == protocolGLRAdv {
		return glrAdvSubstitute
	}
	return r.Substitute.Train
}

// Override replaces the value of one key of a robustness file, as a
// command-line flag does. Problems with the value are reported against the
// flag rather than the file.
type Override struct {
	// Key is the dotted key, such as "n" or "attack.queries".
	Key string
	// Flag names where the value came from in error messages, as written
	// on the command line ("-n", or "MODEL" for positional arguments).
	Flag string
	// Value has the Go type of the key's field in Robustness: string,
	// int, uint64, float64, []string, []int or []float64.
	Value any
}

// LoadRobustness reads the robustness file at path and returns what
// [ParseRobustness] returns for its contents.
func LoadRobustness(path string, overrides ...Override) (*Robustness, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("loading robustness file: %w", err)
	}
	return ParseRobustness(path, data, overrides...)
}

// ParseRobustness decodes the robustness file in data as strictly as
// [Parse] decodes an experiment, applies the overrides, then validates the
// result. Keys missing from data take their defaults (see
// [DefaultRobustness]); data may be empty, for settings given by overrides
// alone. path names the source in error messages and is stored in
// Robustness.Source.
//
// On failure the error lists every problem of the first stage that failed
// (syntax, then keys and types, then the overrides, then values), one
// [*Error] per line: FILE:LINE: KEY: message for the file's keys, and
// FLAG: message for an override's.
func ParseRobustness(path string, data []byte, overrides ...Override) (*Robustness, error) {
	d := &decoded{path: path, lines: indexLines(data), sets: map[string]bool{}}
	var raw map[string]any
	if _, err := toml.Decode(string(data), &raw); err != nil {
		return nil, d.tomlError(data, err)
	}
	r := DefaultRobustness()
	d.decodeTable("", raw, reflect.ValueOf(&r).Elem())
	if len(d.errs) > 0 {
		slices.SortStableFunc(d.errs, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
		return nil, joinErrors(d.errs)
	}
	flags := map[string]string{}
	var errs []*Error
	for _, o := range overrides {
		if err := override(&r, o); err != nil {
			errs = append(errs, &Error{Key: o.Key, Flag: o.Flag, Msg: err.Error()})
			continue
		}
		flags[o.Key] = o.Flag
	}
	if len(errs) > 0 {
		return nil, joinErrors(errs)
	}
	r.Source = path
	for _, p := range r.problems() {
		if flag, ok := flags[p.key]; ok {
			errs = append(errs, &Error{Key: p.key, Flag: flag, Msg: p.msg})
			continue
		}
		errs = append(errs, d.at(p.key, p.msg))
	}
	return &r, joinErrors(errs)
}

// Field returns a pointer to the field of r that holds key, a dotted key
// such as "n" or "attack.queries" (a *string, *int, *uint64, *float64,
// *[]string, *[]int or *[]float64), or nil if there is no such key.
func (r *Robustness) Field(key string) any {
	v := reflect.ValueOf(r).Elem()
	for seg := range strings.SplitSeq(key, ".") {
		if v.Kind() != reflect.Struct || seg == "" {
			return nil
		}
		f, ok := fieldByName(v.Type(), seg)
		if !ok {
			return nil
		}
		v = v.FieldByIndex(f.Index)
	}
	if v.Kind() == reflect.Struct {
		return nil
	}
	return v.Addr().Interface()
}

// override sets the field of key in r to o.Value.
func override(r *Robustness, o Override) error {
	p := r.Field(o.Key)
	if p == nil {
		return fmt.Errorf("no robustness key %q", o.Key)
	}
	v := reflect.ValueOf(p).Elem()
	x := reflect.ValueOf(o.Value)
	if !x.IsValid() || x.Type() != v.Type() {
		return fmt.Errorf("key %q holds a %v, not a %T", o.Key, v.Type(), o.Value)
	}
	v.Set(x)
	return nil
}

// Validate reports every impossible value of r, as [*Error] values naming
// r.Source and the key, without lines (see [ParseRobustness] for errors
// with lines).
func (r *Robustness) Validate() error {
	var errs []*Error
	for _, p := range r.problems() {
		errs = append(errs, &Error{File: r.Source, Key: p.key, Msg: p.msg})
	}
	return joinErrors(errs)
}

func (r *Robustness) problems() []problem {
	var ps problems
	if len(r.Models) == 0 {
		ps.add("models", "required: at least one run directory or checkpoint file")
	}
	checkNames(&ps, "models", "model", r.Models, func(m string) string {
		if strings.TrimSpace(m) == "" {
			return "empty path"
		}
		return ""
	})
	switch r.Protocol {
	case "", protocolGLRAdv:
	case "seed":
		ps.add("protocol", `unknown protocol "seed" (want %q, its new name)`, protocolGLRAdv)
	default:
		ps.add("protocol", "unknown protocol %q (want %q)", r.Protocol, protocolGLRAdv)
	}
	all := RobustSets()
	if len(r.Sets) == 0 {
		ps.add("sets", "empty: name at least one set (%s)", strings.Join(all, " | "))
	}
	checkNames(&ps, "sets", "set", r.Sets, func(s string) string {
		switch {
		case s == "eot":
			return `"eot" is not a set: attack.eot (-eot) draws are averaged by every gradient attack on a model that predicts with noise`
		case s == "glass-blur-seed":
			return `unknown set "glass-blur-seed" (it is called "glass-blur-glr-adv" now)`
		case !slices.Contains(all, s):
			return fmt.Sprintf("unknown set %q (want %s)", s, strings.Join(all, " | "))
		}
		return ""
	})
	if r.Protocol == protocolGLRAdv && !slices.Equal(r.Sets, glrAdvSets) {
		ps.add("sets", "protocol %q fixes the sets (%s); leave them out", protocolGLRAdv, strings.Join(glrAdvSets, ", "))
	}
	budgeted, corrupted := false, false
	for _, s := range r.Sets {
		budgeted = budgeted || slices.Contains(attackSets, s) && s != "clean" && s != "lbfgs-transfer"
		corrupted = corrupted || slices.Contains(corrupt.Names(), s)
	}
	if len(r.Eps) == 0 && budgeted {
		ps.add("eps", "empty, but the ε-bounded attacks among the sets need at least one budget")
	}
	checkNames(&ps, "eps", "budget", r.Eps, func(e float64) string {
		if !(e >= 0 && e <= 1) {
			return fmt.Sprintf("%s is outside [0, 1]", formatFloat(e))
		}
		return ""
	})
	if len(r.Severities) == 0 && corrupted {
		ps.add("severities", "empty, but the corruptions among the sets need at least one severity")
	}
	checkNames(&ps, "severities", "severity", r.Severities, func(s int) string {
		if s < corrupt.MinSeverity || s > corrupt.MaxSeverity {
			return fmt.Sprintf("%d is outside [%d, %d]", s, corrupt.MinSeverity, corrupt.MaxSeverity)
		}
		return ""
	})
	if r.N < 0 {
		ps.add("n", "must be >= 0 (0 for every test image), got %d", r.N)
	}
	if r.Seed > math.MaxInt64 {
		ps.add("seed", "must be at most %d, got %d", int64(math.MaxInt64), r.Seed)
	}
	if !utf8.ValidString(r.Out) {
		ps.add("out", "must be valid UTF-8")
	}
	r.Substitute.check(&ps, r.TransferSets(), r.Protocol)
	r.Attack.check(&ps)
	return ps.list
}

// checkNames adds the problem bad finds with each element of list, and a
// problem for each element listed twice.
func checkNames[T comparable](ps *problems, key, what string, list []T, bad func(T) string) {
	seen := map[T]bool{}
	for _, v := range list {
		if msg := bad(v); msg != "" {
			ps.add(key, "%s", msg)
		} else if seen[v] {
			if str, ok := any(v).(string); ok {
				ps.add(key, "%s %q is listed twice", what, str)
			} else {
				ps.add(key, "%s %v is listed twice", what, v)
			}
		}
		seen[v] = true
	}
}

func (s Substitute) check(ps *problems, transfer []string, protocol string) {
	for _, k := range []struct{ key, v string }{{"substitute.run", s.Run}, {"substitute.train", s.Train}} {
		if !utf8.ValidString(k.v) {
			ps.add(k.key, "must be valid UTF-8")
		}
	}
	switch {
	case s.Run != "" && s.Train != "":
		ps.add("substitute.train", "give substitute.run (a trained substitute) or substitute.train (one to train), not both")
	case s.Train != "" && !slices.Contains(ShippedNames(), s.Train):
		ps.add("substitute.train", "no shipped experiment %q (have %s)", s.Train, strings.Join(ShippedNames(), ", "))
	case s.Run == "" && s.Train == "" && protocol == "" && len(transfer) > 0:
		what, them := "the set "+transfer[0]+" is", "it"
		if len(transfer) > 1 {
			what, them = "the sets "+strings.Join(transfer, " and ")+" are", "them"
		}
		ps.add("substitute", "%s crafted on a substitute model, and none is given: set substitute.run (a run directory or checkpoint), substitute.train (a shipped experiment to train, e.g. %q) or protocol = %q, or leave %s out of the sets",
			what, glrAdvSubstitute, protocolGLRAdv, them)
	}
}

func (a AttackSettings) check(ps *problems) {
	for _, k := range []struct {
		key string
		v   int
	}{
		{"attack.queries", a.Queries}, {"attack.hsj_queries", a.HSJQueries},
		{"attack.pgd_steps", a.PGDSteps}, {"attack.restarts", a.Restarts}, {"attack.eot", a.EOT},
	} {
		if k.v < 1 {
			ps.add(k.key, "must be >= 1, got %d", k.v)
		}
	}
	if !(a.PInit > 0 && a.PInit <= 1) {
		ps.add("attack.p_init", "must be in (0, 1], got %s", formatFloat(a.PInit))
	}
	if a.ZOSamples < 2 || a.ZOSamples%2 != 0 {
		ps.add("attack.zo_samples", "must be even and >= 2 (the samples come in antithetic pairs), got %d", a.ZOSamples)
	}
	checkPositive(ps, "attack.zo_sigma", a.ZOSigma)
	if !slices.Contains(surrogates, a.BPDA) {
		ps.add("attack.bpda", "unknown surrogate %q (want %s)", a.BPDA, strings.Join(surrogates, " | "))
	}
}

// Encode writes r as TOML with every key explicit, so that
// [ParseRobustness] of the output gives back r (less Source).
func (r *Robustness) Encode(w io.Writer) error {
	var enc encoder
	enc.table("", reflect.ValueOf(r).Elem())
	if _, err := w.Write(enc.b.Bytes()); err != nil {
		return fmt.Errorf("encoding robustness settings: %w", err)
	}
	return nil
}
