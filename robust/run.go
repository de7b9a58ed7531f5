package robust

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/glr-project/glr/assemble"
	"github.com/glr-project/glr/configs"
	"github.com/glr-project/glr/internal/buildinfo"
	"github.com/glr-project/glr/models"
	"github.com/glr-project/glr/runner"
)

// DefaultOut is the first directory Run tries when the settings name
// none; then DefaultOut-2, DefaultOut-3, ...
const DefaultOut = "runs/robust"

// RunOptions configures Run.
type RunOptions struct {
	// Log receives progress lines, and the substitute's training log
	// (nil: discard).
	Log io.Writer
	// Command is the command line, recorded in robust.json.
	Command []string
}

// Run runs the evaluation the settings describe, as glr robust does, and
// returns its report and the directory it wrote (see Report.WriteFiles).
// In order, before any evaluation starts, it:
//
//   - validates the settings;
//   - claims the output directory: settings.Out, created if needed, or the
//     first of DefaultOut, DefaultOut-2, ... that does not exist. An Out
//     that is a file, or a directory that already holds a robust.json,
//     is an error;
//   - loads every model, checks that they share a data set, and hashes
//     their checkpoints;
//   - loads the substitute, or trains the shipped experiment the settings
//     name (settings.SubstituteToTrain) with the settings' seed on the
//     models' data set into OUT/substitute. A substitute found there with
//     the same config and every epoch trained is used again.
//
// The report records the resolved settings: the directory, and the
// substitute trained for the protocol.
func Run(settings *configs.Robustness, opts RunOptions) (rep *Report, dir string, err error) {
	started := time.Now()
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if err := settings.Validate(); err != nil {
		return nil, "", fmt.Errorf("robust: %w", err)
	}
	dir, created, err := claimOut(settings.Out)
	if err != nil {
		return nil, "", err
	}
	defer func() {
		if err != nil && created {
			os.Remove(dir) // only if it stayed empty
		}
	}()
	var trained []*models.Trained
	var infos []ModelInfo
	for _, path := range settings.Models {
		ms, err := models.Load(path)
		if err != nil {
			return nil, dir, fmt.Errorf("robust: %w", err)
		}
		for _, m := range ms {
			info, err := Describe(m)
			if err != nil {
				return nil, dir, err
			}
			trained = append(trained, m)
			infos = append(infos, info)
		}
	}
	data := trained[0].Config.Data
	for _, m := range trained[1:] {
		if d := m.Config.Data; d.Dataset != data.Dataset || d.Path != data.Path {
			return nil, dir, fmt.Errorf("robust: model %s was trained on %s (%q), model %s on %s (%q): evaluate them separately",
				trained[0].Name, data.Dataset, data.Path, m.Name, d.Dataset, d.Path)
		}
	}
	exp := trained[0].Config.Experiment
	_, test, err := assemble.Data(&exp)
	if err != nil {
		return nil, dir, fmt.Errorf("robust: %w", err)
	}
	resolved := *settings
	resolved.Out = dir
	resolved.Substitute.Train = settings.SubstituteToTrain()
	sub, err := substitute(&resolved, dir, exp, opts.Log)
	if err != nil {
		return nil, dir, err
	}
	rep = &Report{Format: ReportFormat, Settings: resolved, Models: infos, Dataset: exp.Data.Dataset}
	if sub != nil {
		info, err := Describe(sub)
		if err != nil {
			return nil, dir, fmt.Errorf("robust: substitute: %w", err)
		}
		rep.Substitute = &info
	}
	res, err := Evaluate(trained, test, Options{Settings: resolved, Substitute: sub, Log: opts.Log})
	if err != nil {
		return nil, dir, err
	}
	rep.Result = *res
	rep.Seconds = time.Since(started).Seconds()
	rep.Program = buildinfo.Collect(opts.Command, started)
	if err := rep.WriteFiles(dir); err != nil {
		return nil, dir, err
	}
	return rep, dir, nil
}

// claimOut returns the output directory, creating it if needed, and
// whether it created it.
func claimOut(out string) (string, bool, error) {
	if out == "" {
		if err := os.MkdirAll(filepath.Dir(DefaultOut), 0o755); err != nil {
			return "", false, fmt.Errorf("robust: output directory: %w", err)
		}
		for i := 1; i <= 100000; i++ {
			dir := DefaultOut
			if i > 1 {
				dir = fmt.Sprintf("%s-%d", DefaultOut, i)
			}
			err := os.Mkdir(dir, 0o755)
			if err == nil {
				return dir, true, nil
			}
			if !errors.Is(err, fs.ErrExist) {
				return "", false, fmt.Errorf("robust: output directory: %w", err)
			}
		}
		return "", false, fmt.Errorf("robust: output directory: %s and 100000 numbered siblings exist", DefaultOut)
	}
	info, err := os.Stat(out)
	switch {
	case err == nil && !info.IsDir():
		return "", false, fmt.Errorf("robust: output directory %s is a file", out)
	case err == nil:
		if _, err := os.Stat(filepath.Join(out, ReportFile)); err == nil {
			return "", false, fmt.Errorf("robust: output directory %s %w (%s), which is never overwritten: choose another", out, ErrReportExists, ReportFile)
		}
		return out, false, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", false, fmt.Errorf("robust: output directory: %w", err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", false, fmt.Errorf("robust: output directory: %w", err)
	}
	return out, true, nil
}

// substitute loads the settings' substitute, or trains the shipped
// experiment they name into dir/substitute; it returns nil if they name
// none.
func substitute(s *configs.Robustness, dir string, models0 configs.Experiment, log io.Writer) (*models.Trained, error) {
	if s.Substitute.Run != "" {
		return loadSubstitute(s.Substitute.Run)
	}
	if s.Substitute.Train == "" {
		return nil, nil
	}
	exp, err := configs.LoadShipped(s.Substitute.Train, "seed="+strconv.FormatUint(s.Seed, 10),
		"data.dataset="+models0.Data.Dataset, "data.path="+strconv.Quote(models0.Data.Path))
	if err != nil {
		return nil, fmt.Errorf("robust: substitute: %w", err)
	}
	sdir := filepath.Join(dir, substituteDir)
	if _, err := os.Stat(sdir); err == nil {
		m, err := loadSubstitute(sdir)
		if err != nil {
			return nil, err
		}
		if m.State.ConfigHash != exp.Hash() || m.State.Epoch != exp.Train.Epochs {
			return nil, fmt.Errorf("robust: substitute: %s holds another run than %s with seed %d, or an unfinished one; remove it, or name it as the substitute run",
				sdir, s.Substitute.Train, s.Seed)
		}
		fmt.Fprintf(log, "robust: using the substitute trained in %s\n", sdir)
		return m, nil
	}
	fmt.Fprintf(log, "robust: training the substitute %s into %s\n", s.Substitute.Train, sdir)
	if _, _, err := runner.Run(exp, runner.RunOptions{Out: sdir, Log: log}); err != nil {
		return nil, fmt.Errorf("robust: substitute: %w", err)
	}
	return loadSubstitute(sdir)
}

func loadSubstitute(path string) (*models.Trained, error) {
	ms, err := models.Load(path)
	if err != nil {
		return nil, fmt.Errorf("robust: substitute: %w", err)
	}
	if len(ms) != 1 {
		return nil, fmt.Errorf("robust: substitute: %s holds %d models (%s); name one checkpoint", path, len(ms), models.Names(ms))
	}
	return ms[0], nil
}
