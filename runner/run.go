// Package runner trains experiments: every arm of an experiment file, side
// by side on one data set, with a run directory that records metrics,
// checkpoints, curves and a summary, and can be resumed to the same numbers.
package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glr-project/glr/assemble"
	"github.com/glr-project/glr/configs"
	"github.com/glr-project/glr/datasets"
	"github.com/glr-project/glr/graph"
	"github.com/glr-project/glr/internal/atomicfile"
	"github.com/glr-project/glr/internal/buildinfo"
)

// RunOptions says where a run writes and how it reports progress.
type RunOptions struct {
	// Out is the run directory. Empty means the first free one of
	// Runs/NAME, Runs/NAME-2, ...; a directory is claimed atomically, so
	// concurrent runs never share one.
	Out  string
	Runs string // parent of the default directories; "" means "runs"
	Base string // base name of the default directory; "" means the experiment's name
	// Log receives progress and warnings, Stdout the final side-by-side
	// table (nil: discard).
	Log, Stdout io.Writer
	// Progress draws a progress bar on Log (a terminal of Columns columns)
	// instead of one line per epoch.
	Progress bool
	Columns  int
	// Context, when cancelled, stops the run before its next step; the
	// checkpoints of completed epochs remain for Resume.
	Context context.Context
	// OnEpoch, if set, is called after each epoch's records are written.
	OnEpoch func(EpochMetrics)
	// Command is the command line, recorded in summary.json.
	Command []string
}

// ErrDiverged is wrapped by the error of a run in which an arm's loss
// stopped being finite. The other arms still run.
var ErrDiverged = errors.New("diverged")

// ErrInterrupted is wrapped by the error of a run whose context was
// cancelled.
var ErrInterrupted = errors.New("interrupted")

// Run trains every arm of exp and records the run in its directory (see
// RunOptions.Out), which it returns with the summary. A directory that
// holds a run is never overwritten (continue it with [Resume]); a run that
// fails before completing an epoch removes what it wrote, so the same
// command can run again.
func Run(exp *configs.Experiment, opts RunOptions) (string, *Summary, error) {
	var c *claim
	var err error
	if opts.Out != "" {
		c, err = claimNew(opts.Out)
	} else {
		runs, base := opts.Runs, opts.Base
		if runs == "" {
			runs = "runs"
		}
		if base == "" {
			base = exp.Name
		}
		c, err = claimFree(filepath.Join(runs, base))
	}
	if err != nil {
		return "", nil, err
	}
	if err := atomicfile.Write(filepath.Join(c.dir, "resolved.toml"), 0o644, exp.Encode); err != nil {
		c.release(true)
		return "", nil, fmt.Errorf("run: %w", err)
	}
	s, completed, err := execute(exp, c.dir, opts, false)
	c.release(err != nil && !completed)
	return c.dir, s, err
}

// Resume continues the run recorded in dir from each arm's last completed
// epoch. It ends with the same numbers an uninterrupted run would have.
func Resume(dir string, opts RunOptions) (*Summary, error) {
	c, err := claimExisting(dir)
	if err != nil {
		return nil, err
	}
	defer c.release(false)
	exp, err := configs.Load(filepath.Join(dir, "resolved.toml"))
	if err != nil {
		return nil, fmt.Errorf("resume: %w", err)
	}
	s, _, err := execute(exp, dir, opts, true)
	return s, err
}

// execute trains the arms; completed reports whether any epoch of any arm
// was recorded. resuming says that dir is kept whatever happens.
func execute(exp *configs.Experiment, dir string, opts RunOptions, resuming bool) (s *Summary, completed bool, err error) {
	started := time.Now()
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.Stdout == nil {
		opts.Stdout = io.Discard
	}
	if opts.Context == nil {
		opts.Context = context.Background()
	}
	train, test, err := assemble.Data(exp)
	if err != nil {
		return nil, false, err
	}
	hash := exp.Hash()
	arms := exp.Resolved()
	results := make([]armResult, len(arms))
	for i := range arms {
		results[i] = armResult{cfg: &arms[i], status: "not started"}
		// Earlier arms' records come from their checkpoints, so the files
		// written after each epoch hold every arm's progress.
		st, err := readArmState(dir, i, &arms[i], hash)
		if err != nil {
			return nil, false, err
		}
		if st != nil {
			results[i].metrics, results[i].seconds, results[i].peak = st.metrics, st.seconds, st.peak
			completed = true
		}
		if msg, ok := readFailure(dir, i, arms[i].Name); ok && strings.HasPrefix(msg, "diverged") {
			results[i].status = msg
		}
	}
	if err := preflight(dir, arms, results, train); err != nil {
		return nil, completed, err
	}
	program := buildinfo.Collect(opts.Command, started)
	record := func() error {
		return writeRecords(dir, exp.Name, results)
	}
	var diverged []string
	for i := range arms {
		if strings.HasPrefix(results[i].status, "diverged") {
			fmt.Fprintf(opts.Log, "%s: skipped: it %s (see %s)\n", arms[i].Name, results[i].status, failurePath(dir, i, arms[i].Name))
			diverged = append(diverged, arms[i].Name)
			continue
		}
		t := &trainer{arm: &arms[i], index: i, train: train, test: test, opts: opts, hash: hash, dir: dir,
			record: func(r armResult) error {
				results[i] = r
				completed = true
				return record()
			}}
		err := t.run()
		var div *divergence
		switch {
		case errors.As(err, &div):
			results[i].status = div.Error()
			if werr := writeFailure(dir, i, arms[i].Name, div.Error()); werr != nil {
				return nil, completed, werr
			}
			fmt.Fprintf(opts.Log, "%s: %v; the other arms go on\n", arms[i].Name, div)
			diverged = append(diverged, arms[i].Name)
		case errors.Is(err, ErrInterrupted) && (completed || resuming):
			return nil, completed, fmt.Errorf("arm %s: %w; the completed epochs are kept: continue with glr run -resume %s", arms[i].Name, err, dir)
		case errors.Is(err, ErrInterrupted):
			return nil, completed, fmt.Errorf("arm %s: %w before any epoch completed, so nothing was kept: run the same command again", arms[i].Name, err)
		case err != nil:
			return nil, completed, fmt.Errorf("arm %s: %w", arms[i].Name, err)
		default:
			results[i].status = "done"
		}
	}
	if err := record(); err != nil {
		return nil, completed, err
	}
	s = summarize(exp, hash, program, results)
	if err := atomicfile.WriteJSON(filepath.Join(dir, "summary.json"), s); err != nil {
		return nil, completed, err
	}
	if err := s.WriteTable(opts.Stdout); err != nil {
		return nil, completed, err
	}
	if len(diverged) > 0 {
		which := "arm " + diverged[0]
		if len(diverged) > 1 {
			which = "arms " + strings.Join(diverged, ", ")
		}
		return s, completed, fmt.Errorf("%s %w (why, and the last good checkpoint, are in the .failed files in %s); the other arms finished, and glr run -resume %s skips the diverged ones",
			which, ErrDiverged, filepath.Join(dir, "checkpoints"), dir)
	}
	return s, completed, nil
}

// preflight checks, before any arm trains, what would otherwise fail only
// when an arm's turn comes: that every arm still to train builds on the
// data, and that the checkpoints can be written.
func preflight(dir string, arms []configs.ArmConfig, results []armResult, train *datasets.Set) error {
	if err := os.MkdirAll(filepath.Join(dir, "checkpoints"), 0o755); err != nil {
		return fmt.Errorf("run directory: %w", err)
	}
	for i := range arms {
		if strings.HasPrefix(results[i].status, "diverged") || len(results[i].metrics) >= arms[i].Train.Epochs {
			continue
		}
		spec, err := assemble.Spec(&arms[i].Experiment, assemble.Image(train), train.Classes)
		if err == nil {
			spec.Batch = 1
			_, err = graph.Build(spec)
		}
		if err != nil {
			return fmt.Errorf("arm %s: network: %w", arms[i].Name, err)
		}
	}
	return nil
}
