package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/glr-project/glr/configs"
	"github.com/glr-project/glr/robust"
)

// robustFlags are glr robust's settings flags: each sets the key of a
// robustness file of the same name ("-" for "_", under [attack] for the
// attack settings), replacing the -config file's value.
var robustFlags = []struct {
	name, key, usage string
}{
	{"protocol", "protocol", "`NAME` glr-adv: the robustness protocol of the reference code (GLR_ADV): its sets, and its substitute (configs/substitute-mnist.toml) trained into OUT/substitute unless -substitute is given"},
	{"sets", "sets", "comma-separated `LIST` of sets (default: the glr-adv protocol's); all: " + strings.Join(robust.AllSets(), ",")},
	{"eps", "eps", "comma-separated `LIST` of the L∞ budgets of the ε-bounded attacks"},
	{"severities", "severities", "comma-separated `LIST` of corruption severities, integers in [1, 5]"},
	{"n", "n", "evaluate on the first `N` test images (0: all)"},
	{"seed", "seed", "`SEED` of every random choice: corruptions, attack draws, noise of noisy models, the substitute's training"},
	{"substitute", "substitute.run", "run directory or checkpoint `PATH` of the substitute for the transfer attacks"},
	{"train-substitute", "substitute.train", "shipped experiment `NAME` to train as the substitute into OUT/substitute (e.g. substitute-mnist)"},
	{"out", "out", "output `DIR`, never overwritten (default runs/robust, -2, ...)"},
	{"queries", "attack.queries", "square: `N` queries per image"},
	{"p-init", "attack.p_init", "square: initial `FRACTION` of the pixels a query changes"},
	{"hsj-queries", "attack.hsj_queries", "hopskipjump: `N` queries per image"},
	{"pgd-steps", "attack.pgd_steps", "`N` steps of pgd, bpda-pgd and zo-pgd"},
	{"restarts", "attack.restarts", "`N` runs of pgd, bpda-pgd and zo-pgd; more than 1 start at random points"},
	{"zo-samples", "attack.zo_samples", "zo-fgsm, zo-pgd: `N` loss evaluations per image and step (even)"},
	{"zo-sigma", "attack.zo_sigma", "zo-fgsm, zo-pgd: Gaussian smoothing scale `SIGMA` of the input"},
	{"bpda", "attack.bpda", "bpda-pgd: backward pass of each threshold, `identity|sigmoid`"},
	{"eot", "attack.eot", "models that predict with noise (noise.at_eval): `N` draws averaged per gradient and per accuracy"},
}

func robustCmd(args []string, stdout, stderr io.Writer) error {
	err := robustMain(args, stdout, stderr)
	if err != nil && !errors.Is(err, errUsage) && !errors.Is(err, flag.ErrHelp) {
		// main prefixes "glr robust: "; the package's own prefix would
		// repeat it.
		err = trimmed{err, "robust: "}
	}
	return err
}

// trimmed is an error whose message loses a leading prefix.
type trimmed struct {
	err    error
	prefix string
}

func (t trimmed) Error() string { return strings.TrimPrefix(t.err.Error(), t.prefix) }
func (t trimmed) Unwrap() error { return t.err }

func robustMain(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("robust", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "", "robustness `FILE` (TOML; see docs/robustness.md); flags given as well replace its values")
	asJSON := fs.Bool("json", false, `print the rows as JSON: [{"model","set","param","accuracy","draws"}, ...]`)
	def := configs.DefaultRobustness()
	values := map[string]flag.Value{}
	for _, f := range robustFlags {
		v := newSettingValue(&def, f.key)
		values[f.name] = v
		fs.Var(v, f.name, f.usage)
	}
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: glr robust MODEL... [-sets LIST] [-eps LIST] [-n N] [-substitute DIR] [-out DIR] [-json] [attack flags]")
		fmt.Fprintln(stderr, "       glr robust -protocol glr-adv MODEL...")
		fmt.Fprintln(stderr, "       glr robust -config FILE [flags]")
		fmt.Fprintln(stderr, "\nMODEL is a run directory (every trained arm) or a checkpoint file (one arm).")
		fmt.Fprintln(stderr, "Evaluates the models on adversarial and corrupted copies of the test set of the")
		fmt.Fprintln(stderr, "first model's data set, and writes robust.json, robust.toml, robust.md, robust.csv")
		fmt.Fprintln(stderr, "and the figures to OUT. A flag or MODEL given with -config replaces the file's value;")
		fmt.Fprintln(stderr, "robust.json and robust.toml record the settings used.")
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	paths, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if len(paths) == 0 && *config == "" {
		fs.Usage()
		return fmt.Errorf("%w: want at least one MODEL, or -config FILE", errUsage)
	}
	var overrides []configs.Override
	if len(paths) > 0 {
		overrides = append(overrides, configs.Override{Key: "models", Flag: "MODEL", Value: paths})
	}
	for _, f := range robustFlags {
		if given[f.name] {
			overrides = append(overrides, configs.Override{Key: f.key, Flag: "-" + f.name, Value: values[f.name].(*settingValue).get()})
		}
	}
	if *config == "" && !given["substitute"] && !given["train-substitute"] && !given["protocol"] {
		if err := needSubstitute(def, given["sets"]); err != nil {
			return err
		}
	}
	var settings *configs.Robustness
	if *config != "" {
		settings, err = configs.LoadRobustness(*config, overrides...)
	} else {
		settings, err = configs.ParseRobustness("", nil, overrides...)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	rep, dir, err := robust.Run(settings, robust.RunOptions{Log: stderr, Command: append([]string{"glr", "robust"}, args...)})
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "glr robust: wrote %s\n", dir)
	if *asJSON {
		return robust.WriteJSON(stdout, rep.Rows)
	}
	return robust.WriteTable(stdout, rep.Rows, false)
}

// needSubstitute explains what to do when the sets of an evaluation given
// by flags alone hold transfer attacks and no substitute is named.
func needSubstitute(s configs.Robustness, setsGiven bool) error {
	transfer := s.TransferSets()
	if len(transfer) == 0 {
		return nil
	}
	attacks := strings.Join(transfer, " and ")
	if setsGiven {
		return fmt.Errorf("%w: -sets: %s %s crafted on a substitute model, and none is given: name one with -substitute RUN_DIR, train one with -train-substitute NAME (e.g. substitute-mnist), or leave %s out",
			errUsage, attacks, pluralVerb(len(transfer)), attacks)
	}
	return fmt.Errorf("%w: the default sets, the glr-adv protocol's (%s), include %s, which are crafted on a substitute model, and none is given: add -protocol glr-adv to train the shipped substitute (configs/substitute-mnist.toml) into OUT/substitute, name one with -substitute RUN_DIR, or choose -sets without transfer attacks, e.g. -sets %s",
		errUsage, strings.Join(s.Sets, ", "), attacks, strings.Join(append([]string{robust.SetClean}, robust.WorstEnsemble(false)...), ",")+","+robust.SetWorst)
}

func pluralVerb(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

// settingValue is a flag that parses its text as the Go type of one key of
// a robustness file, into that key's field of a Robustness.
type settingValue struct {
	field any // a pointer to the field
}

func newSettingValue(r *configs.Robustness, key string) *settingValue {
	field := r.Field(key)
	if field == nil {
		panic("glr robust: no robustness key " + key) // a programming error, caught by the tests
	}
	return &settingValue{field}
}

// get returns the field's value.
func (v *settingValue) get() any {
	switch p := v.field.(type) {
	case *string:
		return *p
	case *int:
		return *p
	case *uint64:
		return *p
	case *float64:
		return *p
	case *[]string:
		return *p
	case *[]int:
		return *p
	case *[]float64:
		return *p
	}
	return nil
}

func (v *settingValue) String() string {
	if v == nil || v.field == nil {
		return ""
	}
	switch p := v.field.(type) {
	case *[]string:
		return strings.Join(*p, ",")
	case *[]int:
		return joinFormatted(*p, strconv.Itoa)
	case *[]float64:
		return joinFormatted(*p, func(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) })
	}
	return fmt.Sprint(v.get())
}

func joinFormatted[T any](list []T, format func(T) string) string {
	s := make([]string, len(list))
	for i, x := range list {
		s[i] = format(x)
	}
	return strings.Join(s, ",")
}

func (v *settingValue) Set(text string) error {
	var err error
	switch p := v.field.(type) {
	case *string:
		*p = text
	case *int:
		*p, err = parseInt(text)
	case *uint64:
		*p, err = strconv.ParseUint(strings.TrimSpace(text), 10, 64)
		if err != nil {
			err = fmt.Errorf("%q is not a non-negative integer", text)
		}
	case *float64:
		*p, err = parseFloat(text)
	case *[]string:
		*p, err = parseList(text, func(s string) (string, error) { return s, nil })
	case *[]int:
		*p, err = parseList(text, parseInt)
	case *[]float64:
		*p, err = parseList(text, parseFloat)
	}
	return err
}

func parseInt(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		if _, ferr := strconv.ParseFloat(strings.TrimSpace(s), 64); ferr == nil {
			return 0, fmt.Errorf("%s is not an integer", s)
		}
		return 0, fmt.Errorf("%q is not an integer", s)
	}
	return n, nil
}

func parseFloat(s string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return f, nil
}
