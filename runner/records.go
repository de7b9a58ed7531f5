package runner

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"

	"github.com/glr-project/glr/configs"
	"github.com/glr-project/glr/internal/atomicfile"
	"github.com/glr-project/glr/internal/buildinfo"
	"github.com/glr-project/glr/plots"
)

// EpochMetrics is one line of metrics.jsonl: an arm after one epoch.
type EpochMetrics struct {
	Arm   string `json:"arm"`
	Epoch int    `json:"epoch"`
	// TrainLoss is the mean loss of the noise-free network (as evaluated,
	// with noise.at_eval) on a fixed sample of the training set after the
	// epoch: the same quantity for every estimator, comparable across arms.
	TrainLoss float64 `json:"train_loss"`
	// EstimatorLoss is the mean over the epoch's steps of the loss the
	// estimator saw (its Stats.Loss): the noisy K-copy loss for glr, the
	// noise-free loss for bp, the perturbed loss for es and spsa. It is not
	// comparable across kinds.
	EstimatorLoss     float64 `json:"estimator_loss"`
	TestLoss          float64 `json:"test_loss"`
	TestAccuracy      float64 `json:"test_accuracy"`
	Seconds           float64 `json:"seconds"`             // the epoch's wall time: training and evaluation
	ExamplesPerSecond float64 `json:"examples_per_second"` // training examples per second of training time
	TrainSeconds      float64 `json:"train_seconds"`
	EvalSeconds       float64 `json:"eval_seconds"`
	LearningRate      float64 `json:"learning_rate"`
	Rows              int64   `json:"rows"` // network rows the epoch's estimates ran forward
}

// Summary is summary.json: how each arm ended, and what produced the run.
type Summary struct {
	Experiment string         `json:"experiment"`
	ConfigHash string         `json:"config_hash"`
	Program    buildinfo.Info `json:"program"`
	Arms       []ArmSummary   `json:"arms"`
}

// ArmSummary is one arm's outcome.
type ArmSummary struct {
	Name              string  `json:"name"`
	Estimator         string  `json:"estimator"`
	Loss              string  `json:"loss"`
	Status            string  `json:"status"` // "done", "not started", or "diverged in epoch N..." and why
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

// armResult is what an arm has produced so far.
type armResult struct {
	cfg     *configs.ArmConfig
	metrics []EpochMetrics
	seconds float64
	peak    uint64
	status  string
}

func summarize(exp *configs.Experiment, hash string, program buildinfo.Info, results []armResult) *Summary {
	s := &Summary{Experiment: exp.Name, ConfigHash: hash, Program: program}
	for _, r := range results {
		a := ArmSummary{Name: r.cfg.Name, Estimator: r.cfg.Estimator.Settings.String(), Loss: r.cfg.Loss.Kind,
			Status: r.status, Epochs: len(r.metrics), Seconds: r.seconds, PeakMemoryBytes: r.peak}
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

// WriteTable prints the arms side by side.
func (s *Summary) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\n", s.Experiment)
	fmt.Fprintln(tw, "arm\testimator\tloss\tepochs\tfinal acc\tbest acc (epoch)\ts/epoch\texamples/s\tpeak MiB\tstatus")
	for _, a := range s.Arms {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%.2f%%\t%.2f%% (%d)\t%.1f\t%.0f\t%.0f\t%s\n", a.Name, a.Estimator, a.Loss, a.Epochs,
			100*a.FinalTestAccuracy, 100*a.BestTestAccuracy, a.BestEpoch, a.SecondsPerEpoch, a.ExamplesPerSecond,
			float64(a.PeakMemoryBytes)/(1<<20), a.Status)
	}
	return tw.Flush()
}

// encodeRecords returns metrics as JSON lines.
func encodeRecords(ms []EpochMetrics) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, m := range ms {
		enc.Encode(m) // EpochMetrics always encodes
	}
	return b.Bytes()
}

// decodeRecords reads JSON lines of metrics.
func decodeRecords(b []byte) ([]EpochMetrics, error) {
	var ms []EpochMetrics
	dec := json.NewDecoder(bytes.NewReader(b))
	for dec.More() {
		var m EpochMetrics
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("records: %w", err)
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// writeRecords rewrites metrics.jsonl and curves.png from every arm's
// records, atomically.
func writeRecords(dir, title string, results []armResult) error {
	err := atomicfile.Write(filepath.Join(dir, "metrics.jsonl"), 0o644, func(w io.Writer) error {
		for _, r := range results {
			if _, err := w.Write(encodeRecords(r.metrics)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
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
	if err := plots.Curves(filepath.Join(dir, "curves.png"), arms); err != nil {
		return fmt.Errorf("curves for %s: %w", title, err)
	}
	return nil
}
