package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/glr-project/glr/assemble"
	"github.com/glr-project/glr/compare"
)

func gradcheckCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gradcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	draws := fs.Int("draws", 1000, "estimates (and as many BP-through-noise gradients) to average")
	batch := fs.Int("batch", 64, "training examples in the checked batch")
	asJSON := fs.Bool("json", false, `print one JSON object {"layers":[{"name","cosine","relative_error","variance"},...]}`)
	var sets setFlags
	fs.Var(&sets, "set", "override a config key, as key=value (repeatable)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: glr gradcheck CONFIG [-draws N] [-batch B] [-json] [-set key=value]...")
		fmt.Fprintln(stderr, "\nCompares per layer the mean estimate of the config's estimator with the mean gradient of")
		fmt.Fprintln(stderr, "backpropagation through the noise, at the initial weights, on a seeded batch of training data.")
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
	opts := compare.GradCheckOptions{Draws: *draws, Batch: *batch}
	if err := compare.CheckGradCheck(exp, opts); err != nil {
		return err
	}
	train, _, err := assemble.Data(exp)
	if err != nil {
		return err
	}
	report, err := compare.GradCheck(exp, train, opts)
	if err != nil {
		return err
	}
	if *asJSON {
		return report.WriteJSON(stdout)
	}
	return report.WriteText(stdout)
}
