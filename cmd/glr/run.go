package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"syscall"

	"github.com/glr-project/glr/configs"
	"github.com/glr-project/glr/report"
	"github.com/glr-project/glr/runner"
	"golang.org/x/term"
)

func runCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "run directory (default runs/NAME, or runs/NAME-2, -3, ... if taken); never overwritten; with -seeds, the parent of one directory per seed")
	resume := fs.String("resume", "", "continue the interrupted run in this directory")
	seeds := fs.String("seeds", "", "comma-separated seeds: run one directory per seed, then print the summarize table")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof reads it)")
	var sets setFlags
	fs.Var(&sets, "set", "override a config key, as key=value (repeatable)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: glr run CONFIG|NAME [-set key=value]... [-out DIR] [-seeds LIST]")
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
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := runner.RunOptions{Log: stderr, Stdout: stdout, Context: ctx, Command: append([]string{"glr", "run"}, args...)}
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		opts.Progress = true
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil {
			opts.Columns = cols
		}
	}
	// Ctrl-C or SIGTERM stops the run before its next step; completed
	// epochs stay in the checkpoints, and glr run -resume DIR continues.
	// The first signal is acknowledged at once, on a line of its own; a
	// second one ends the process at once (the signals go back to their
	// default action).
	progress := opts.Progress
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)
	go func() {
		select {
		case <-signals:
			signal.Stop(signals)
			start := "\n"
			if progress {
				start = "\r\033[K" // over the progress bar and the echoed ^C
			}
			fmt.Fprintln(stderr, start+"glr run: interrupted: stopping before the next step (interrupt again to quit at once)")
			cancel()
		case <-ctx.Done():
		}
	}()
	if *resume != "" {
		if len(pos) != 0 || len(sets) != 0 || *out != "" || *seeds != "" {
			return fmt.Errorf("%w: -resume DIR takes no CONFIG, -set, -out or -seeds: the run's resolved.toml decides", errUsage)
		}
		_, err := runner.Resume(*resume, opts)
		return err
	}
	if *seeds == "" {
		exp, err := loadConfig(fs, pos, sets)
		if err != nil {
			return err
		}
		opts.Out = *out
		if opts.Out != "" {
			fmt.Fprintf(stderr, "glr run %s: writing to %s\n", exp.Name, opts.Out)
		}
		dir, _, err := runner.Run(exp, opts)
		if opts.Out == "" && (err == nil || errors.Is(err, runner.ErrDiverged)) {
			fmt.Fprintf(stderr, "glr run %s: wrote %s\n", exp.Name, dir)
		}
		return err
	}
	list, err := parseList(*seeds, func(s string) (uint64, error) { return strconv.ParseUint(s, 10, 64) })
	if err != nil || len(list) == 0 {
		return fmt.Errorf("%w: -seeds: want a comma-separated list of seeds, got %q", errUsage, *seeds)
	}
	seen := map[uint64]bool{}
	for _, seed := range list {
		if seen[seed] {
			return fmt.Errorf("%w: -seeds: seed %d is given twice", errUsage, seed)
		}
		seen[seed] = true
	}
	// Check every seed's config before any run starts.
	exps := make([]*configs.Experiment, len(list))
	for i, seed := range list {
		if exps[i], err = loadConfig(fs, pos, append(append(setFlags(nil), sets...), "seed="+strconv.FormatUint(seed, 10))); err != nil {
			return err
		}
	}
	var dirs []string
	for i, exp := range exps {
		o := opts
		base := fmt.Sprintf("seed-%d", list[i])
		if *out != "" {
			o.Out = filepath.Join(*out, base)
		} else {
			o.Runs, o.Base = filepath.Join("runs", exp.Name), base
		}
		o.Stdout = io.Discard
		dir, _, err := runner.Run(exp, o)
		if err != nil {
			return fmt.Errorf("seed %d: %w", list[i], err)
		}
		fmt.Fprintf(stderr, "glr run %s: seed %d in %s\n", exp.Name, list[i], dir)
		dirs = append(dirs, dir)
	}
	aggs, err := report.AggregateRuns(dirs)
	if err != nil {
		return err
	}
	return report.WriteMarkdown(stdout, aggs)
}
