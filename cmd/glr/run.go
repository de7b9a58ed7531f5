package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/glr-project/glr/runner"
	"golang.org/x/term"
)

func runCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "run directory (default runs/NAME, or runs/NAME-2, -3, ... if taken); never overwritten")
	resume := fs.String("resume", "", "continue the interrupted run in this directory")
	var sets setFlags
	fs.Var(&sets, "set", "override a config key, as key=value (repeatable)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: glr run CONFIG [-set key=value]... [-out DIR]")
		fmt.Fprintln(stderr, "       glr run -resume DIR")
		fmt.Fprintln(stderr, "\nTrains every arm of the experiment, evaluates after each epoch, and writes")
		fmt.Fprintln(stderr, "metrics.jsonl, summary.json, resolved.toml, checkpoints/ and curves.png to DIR.")
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	// Ctrl-C stops the run before its next step; completed epochs stay in
	// the checkpoints, and glr run -resume DIR continues from them.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	opts := runner.RunOptions{Log: stderr, Stdout: stdout, Progress: isTerminal(stderr), Context: ctx}
	if *resume != "" {
		if len(pos) != 0 || len(sets) != 0 || *out != "" {
			return fmt.Errorf("%w: -resume DIR takes no CONFIG, -set or -out: the run's resolved.toml decides", errUsage)
		}
		_, err := runner.Resume(*resume, opts)
		return err
	}
	exp, err := loadConfig(fs, pos, sets)
	if err != nil {
		return err
	}
	opts.Out = *out
	if opts.Out == "" {
		opts.Out = freeDir(filepath.Join("runs", exp.Name))
	}
	fmt.Fprintf(stderr, "glr run %s: writing to %s\n", exp.Name, opts.Out)
	_, err = runner.Run(exp, opts)
	return err
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

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
