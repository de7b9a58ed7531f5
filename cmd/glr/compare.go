package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/glr-project/glr/assemble"
	"github.com/glr-project/glr/compare"
	"github.com/glr-project/glr/models"
)

func compareCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	copies := fs.String("copies", "", "comma-separated copies K; each replaces every arm's copies in turn (default: each arm's own)")
	draws := fs.Int("draws", 100, "estimates per arm and K")
	batch := fs.Int("batch", 64, "training examples in the batch")
	refDraws := fs.Int("ref-draws", 2000, "draws averaged into the reference gradient")
	ckpt := fs.String("checkpoint", "", "run directory (or checkpoint file) whose trained weights to compare at, instead of the initial ones")
	asJSON := fs.Bool("json", false, `print {"experiment","batch","draws","weights","references":[{"arms","method","draws","relative_standard_error":[{"layer","se"}]}],"rows":[{"arm","kind","estimator","copies","layer","cosine","relative_error","variance","rows","seconds","variance_rows","estimate_cosine"},...],"fits":[{"arm","layer","c"},...]}`)
	out := fs.String("out", "", "directory for compare.json, compare.md and variance-vs-copies.png (created; never overwritten)")
	var sets setFlags
	fs.Var(&sets, "set", "override a config key, as key=value (repeatable)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: glr compare CONFIG [-copies LIST] [-draws N] [-batch B] [-checkpoint RUN_DIR] [-json] [-out DIR]")
		fmt.Fprintln(stderr, "\nEvery arm of CONFIG is one estimator variant. On one seeded batch it averages N estimates")
		fmt.Fprintln(stderr, "per arm and K and reports per layer the cosine and relative error to the reference gradient,")
		fmt.Fprintln(stderr, "the variance of one estimate, its cost in forward rows and seconds, and variance × rows.")
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	exp, err := loadConfig(fs, pos, sets)
	if err != nil {
		return err
	}
	opts := compare.Options{Draws: *draws, Batch: *batch, RefDraws: *refDraws, Log: stderr}
	if opts.Copies, err = parseList(*copies, strconv.Atoi); err != nil {
		return fmt.Errorf("%w: -copies: want a comma-separated list of integers, got %q", errUsage, *copies)
	}
	if *out != "" {
		if _, err := os.Stat(*out); err == nil {
			return fmt.Errorf("%w: -out %s exists; choose a new directory", errUsage, *out)
		}
	}
	if *ckpt != "" {
		ms, err := models.Load(*ckpt)
		if err != nil {
			return err
		}
		if len(ms) != 1 {
			return fmt.Errorf("%w: -checkpoint %s holds %d trained arms (%s); give one checkpoint file", errUsage, *ckpt, len(ms), models.Names(ms))
		}
		opts.Weights = ms[0]
	}
	if err := compare.Check(exp, opts); err != nil {
		return err
	}
	train, _, err := assemble.Data(exp)
	if err != nil {
		return err
	}
	report, err := compare.Compare(exp, train, opts)
	if err != nil {
		return err
	}
	if *out != "" {
		if err := os.MkdirAll(*out, 0o755); err != nil {
			return err
		}
		if err := report.WriteFiles(*out); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "glr compare: wrote %s\n", *out)
	}
	if *asJSON {
		return report.WriteJSON(stdout)
	}
	return report.WriteText(stdout, false)
}
