package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/glr-project/glr/runner"
)

func summarizeCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("summarize", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: glr summarize RUN_DIR...")
		fmt.Fprintln(stderr, "\nPrints a markdown table of the runs' arms, grouped by experiment and arm name")
		fmt.Fprintln(stderr, "(for example the same config run with -set seed=1, 2, 3): mean ± sample std.")
	}
	dirs, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(dirs) == 0 {
		fs.Usage()
		return fmt.Errorf("%w: want at least one run directory", errUsage)
	}
	aggs, err := runner.AggregateRuns(dirs)
	if err != nil {
		return err
	}
	return runner.WriteMarkdown(stdout, aggs)
}
