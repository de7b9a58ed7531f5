package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/glr-project/glr/report"
)

func summarizeCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("summarize", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: glr summarize RUN_DIR...")
		fmt.Fprintln(stderr, "\nPrints a markdown table of the runs' arms, grouped by experiment and arm name, mean ± sample std.")
		fmt.Fprintln(stderr, "The runs of an experiment must differ in their seed only (glr run -seeds 1,2,3 CONFIG makes such runs).")
	}
	dirs, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(dirs) == 0 {
		fs.Usage()
		return fmt.Errorf("%w: want at least one run directory", errUsage)
	}
	aggs, err := report.AggregateRuns(dirs)
	if err != nil {
		return err
	}
	return report.WriteMarkdown(stdout, aggs)
}
