package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/glr-project/glr/assemble"
	"github.com/glr-project/glr/configs"
	"github.com/glr-project/glr/models"
	"github.com/glr-project/glr/robust"
	"github.com/glr-project/glr/runner"
)

func robustCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("robust", flag.ContinueOnError)
	fs.SetOutput(stderr)
	substitute := fs.String("substitute", "", "run directory or checkpoint of the substitute for the transfer attacks")
	protocol := fs.String("protocol", "", `"seed": the seed's robustness experiment (its sets; trains the substitute from configs/substitute-mnist.toml into OUT/substitute unless -substitute is given)`)
	sets := fs.String("sets", "", "comma-separated sets (default: the seed protocol's: "+strings.Join(robust.SeedProtocolSets, ",")+"); all: "+strings.Join(robust.AllSets(), ","))
	epsList := fs.String("eps", "", "comma-separated L∞ budgets of the ε-bounded attacks (default 0.05,0.1,0.13,0.2,0.3)")
	sevList := fs.String("severities", "", "comma-separated corruption severities (default 1,2,3,4,5)")
	limit := fs.Int("n", 0, "evaluate on the first N test images (0: all)")
	seed := fs.Uint64("seed", 1, "seed of the corruptions, PGD starts, zeroth-order draws and the substitute's training")
	zoSamples := fs.Int("zo-samples", 50, "zeroth-order attacks: loss evaluations per example and step")
	zoSigma := fs.Float64("zo-sigma", 0.05, "zeroth-order attacks: Gaussian smoothing scale of the input")
	pgdSteps := fs.Int("pgd-steps", 10, "PGD steps")
	out := fs.String("out", "", "directory for robust.json, robust.md, robust.csv and accuracy-vs-eps.png (default runs/robust, -2, ...)")
	asJSON := fs.Bool("json", false, `print the rows as JSON: [{"model","set","param","accuracy"}, ...]`)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: glr robust MODEL... [-substitute DIR] [-sets LIST] [-eps LIST] [-n N] [-out DIR] [-json]")
		fmt.Fprintln(stderr, "       glr robust -protocol seed MODEL...")
		fmt.Fprintln(stderr, "\nMODEL is a run directory (every trained arm) or a checkpoint file (one arm).")
		fmt.Fprintln(stderr, "Evaluates the models on adversarial and corrupted copies of the test set of the")
		fmt.Fprintln(stderr, "first model's data set.")
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	paths, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		fs.Usage()
		return fmt.Errorf("%w: want at least one MODEL", errUsage)
	}
	opts := robust.RobustOptions{Limit: *limit, Seed: *seed, ZOSamples: *zoSamples, ZOSigma: *zoSigma, PGDSteps: *pgdSteps, Log: stderr}
	if opts.Eps, err = parseFloats(*epsList); err != nil {
		return fmt.Errorf("%w: -eps: %v", errUsage, err)
	}
	sevs, err := parseFloats(*sevList)
	if err != nil {
		return fmt.Errorf("%w: -severities: %v", errUsage, err)
	}
	for _, s := range sevs {
		opts.Severities = append(opts.Severities, int(s))
	}
	if *sets != "" {
		opts.Sets = strings.Split(*sets, ",")
	}
	switch *protocol {
	case "":
	case "seed":
		if *sets != "" {
			return fmt.Errorf("%w: -protocol seed fixes the sets; drop -sets", errUsage)
		}
		opts.Sets = robust.SeedProtocolSets
	default:
		return fmt.Errorf("%w: unknown -protocol %q (want seed)", errUsage, *protocol)
	}
	var trained []*models.Trained
	for _, p := range paths {
		ms, err := models.Load(p)
		if err != nil {
			return err
		}
		trained = append(trained, ms...)
	}
	if *out == "" {
		*out = freeDir(filepath.Join("runs", "robust"))
	}
	exp := trained[0].Config.Experiment
	_, test, err := assemble.Data(&exp)
	if err != nil {
		return err
	}
	switch {
	case *substitute != "":
		ms, err := models.Load(*substitute)
		if err != nil {
			return fmt.Errorf("substitute: %w", err)
		}
		if len(ms) != 1 {
			return fmt.Errorf("substitute: %s holds %d models (%s); name one checkpoint", *substitute, len(ms), models.Names(ms))
		}
		opts.Substitute = ms[0]
	case *protocol == "seed":
		sub, err := configs.LoadShipped("substitute-mnist", "seed="+strconv.FormatUint(*seed, 10), "data.dataset="+exp.Data.Dataset, "data.path="+strconv.Quote(exp.Data.Path))
		if err != nil {
			return err
		}
		dir := filepath.Join(*out, "substitute")
		fmt.Fprintf(stderr, "glr robust: training the substitute into %s\n", dir)
		if _, _, err := runner.Run(sub, runner.RunOptions{Out: dir, Log: stderr}); err != nil {
			return fmt.Errorf("substitute: %w", err)
		}
		ms, err := models.Load(dir)
		if err != nil {
			return fmt.Errorf("substitute: %w", err)
		}
		opts.Substitute = ms[0]
	}
	rows, err := robust.Robust(trained, test, opts)
	if err != nil {
		return err
	}
	if err := robust.WriteRobustFiles(*out, rows); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "glr robust: wrote %s\n", *out)
	if *asJSON {
		return robust.WriteRobustJSON(stdout, rows)
	}
	return robust.WriteRobustTable(stdout, rows, false)
}

func parseFloats(s string) ([]float64, error) {
	if s == "" {
		return nil, nil
	}
	var out []float64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", f)
		}
		out = append(out, v)
	}
	return out, nil
}

// freeDir returns base if it does not exist, else the first of base-2,
// base-3, ... that does not.
func freeDir(base string) string {
	dir := base
	for i := 2; ; i++ {
		if _, err := os.Stat(dir); os.IsNotExist(err) {
			return dir
		}
		dir = fmt.Sprintf("%s-%d", base, i)
	}
}
