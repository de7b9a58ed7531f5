package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/glr-project/glr/configs"
	"github.com/glr-project/glr/datasets"
	"github.com/glr-project/glr/estimators"
	"github.com/glr-project/glr/graph"
	"github.com/glr-project/glr/optim"
	"github.com/schollz/progressbar/v3"
	"gorgonia.org/tensor"
)

// EpochMetrics is one line of metrics.jsonl: an arm after one epoch.
type EpochMetrics struct {
	Arm               string  `json:"arm"`
	Epoch             int     `json:"epoch"`
	TrainLoss         float64 `json:"train_loss"` // mean over steps of the pass's mean (noisy) loss
	TestLoss          float64 `json:"test_loss"`
	TestAccuracy      float64 `json:"test_accuracy"`
	Seconds           float64 `json:"seconds"`             // the epoch's wall time: training and evaluation
	ExamplesPerSecond float64 `json:"examples_per_second"` // training examples per second of training time
	TrainSeconds      float64 `json:"train_seconds"`
	EvalSeconds       float64 `json:"eval_seconds"`
	LearningRate      float64 `json:"learning_rate"`
}

// RunOptions says where a run writes and how it reports progress.
type RunOptions struct {
	Out      string    // the run directory
	Log      io.Writer // progress and warnings (nil: discard)
	Stdout   io.Writer // the final side-by-side table (nil: discard)
	Progress bool      // draw progress bars on Log (a terminal) instead of plain lines
	// Context, when cancelled, stops the run before its next step; the
	// checkpoints of completed epochs remain for Resume.
	Context context.Context
	// OnEpoch, if set, is called after each epoch's records are written.
	OnEpoch func(EpochMetrics)
}

// ErrRunExists is returned when a run's directory already holds files.
var ErrRunExists = errors.New("run directory already exists")

// Run trains every arm of exp and records the run in opts.Out, which must
// not exist yet or be empty: an existing run is never overwritten (continue
// it with [Resume]).
func Run(exp *configs.Experiment, opts RunOptions) (*Summary, error) {
	if entries, err := os.ReadDir(opts.Out); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("%w: %s holds a run; continue it with -resume %s or choose another -out", ErrRunExists, opts.Out, opts.Out)
	}
	if err := os.MkdirAll(opts.Out, 0o755); err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	if err := writeAtomic(filepath.Join(opts.Out, "resolved.toml"), exp.Encode); err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	return execute(exp, opts)
}

// Resume continues the run recorded in dir from each arm's last completed
// epoch. It ends with the same numbers an uninterrupted run would have.
func Resume(dir string, opts RunOptions) (*Summary, error) {
	path := filepath.Join(dir, "resolved.toml")
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("resume: %s is not a run directory: %w", dir, err)
	}
	exp, err := configs.Load(path)
	if err != nil {
		return nil, fmt.Errorf("resume: %w", err)
	}
	opts.Out = dir
	return execute(exp, opts)
}

func execute(exp *configs.Experiment, opts RunOptions) (*Summary, error) {
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.Stdout == nil {
		opts.Stdout = io.Discard
	}
	if opts.Context == nil {
		opts.Context = context.Background()
	}
	train, test, err := LoadData(exp)
	if err != nil {
		return nil, err
	}
	hash := exp.Hash()
	arms := exp.Resolved()
	results := make([]armResult, len(arms))
	for i := range arms {
		// Earlier arms' records come from their checkpoints, so the files
		// written after each epoch hold every arm's progress.
		c, err := readCheckpoint(checkpointPath(opts.Out, arms[i].Name))
		if err != nil {
			return nil, err
		}
		if c != nil {
			results[i] = armResult{cfg: &arms[i], metrics: c.Metrics, seconds: c.Seconds, peak: c.PeakMemory}
		} else {
			results[i] = armResult{cfg: &arms[i]}
		}
	}
	for i := range arms {
		t := &trainer{arm: &arms[i], train: train, test: test, opts: opts, hash: hash, dir: opts.Out,
			record: func(r armResult) error {
				results[i] = r
				return writeRecords(opts.Out, exp, hash, results)
			}}
		if err := t.run(); err != nil {
			return nil, fmt.Errorf("arm %s: %w", arms[i].Name, err)
		}
	}
	if err := writeRecords(opts.Out, exp, hash, results); err != nil {
		return nil, err
	}
	s := summarize(exp, hash, results)
	if err := writeJSONAtomic(filepath.Join(opts.Out, "summary.json"), s); err != nil {
		return nil, err
	}
	if err := s.WriteTable(opts.Stdout); err != nil {
		return nil, err
	}
	return s, nil
}

// armResult is what an arm has produced so far.
type armResult struct {
	cfg     *configs.ArmConfig
	metrics []EpochMetrics
	seconds float64
	peak    uint64
}

// writeRecords rewrites metrics.jsonl and curves.png from every arm's
// records, atomically.
func writeRecords(dir string, exp *configs.Experiment, hash string, results []armResult) error {
	err := writeAtomic(filepath.Join(dir, "metrics.jsonl"), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		for _, r := range results {
			for _, m := range r.metrics {
				if err := enc.Encode(m); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return writeCurves(filepath.Join(dir, "curves.png"), exp.Name, results)
}

// trainer trains one arm.
type trainer struct {
	arm         *configs.ArmConfig
	train, test *datasets.Set
	opts        RunOptions
	hash, dir   string
	record      func(armResult) error
}

// batchPass is a network of one row count with its estimator: the full
// batch, or the short last batch of an epoch.
type batchPass struct {
	net *graph.Network
	est estimators.Estimator
}

func (t *trainer) run() error {
	exp := &t.arm.Experiment
	copies := max(exp.Estimator.Copies, 1)
	if exp.Estimator.Kind == "bp" && !exp.Estimator.Noise {
		copies = 1
	}
	n, b := t.train.Len(), exp.Data.BatchSize
	if n == 0 {
		return fmt.Errorf("the training set %s is empty", t.train.Name)
	}
	b = min(b, n)
	full, err := t.newPass(b, copies, nil)
	if err != nil {
		return err
	}
	defer full.est.Close()
	var last *batchPass
	if r := n % b; r > 0 {
		// The seed keeps the short last batch; it gets its own graph that
		// shares the parameters and draws its own noise.
		if last, err = t.newPass(r, copies, full.net); err != nil {
			return err
		}
		defer last.est.Close()
	}
	opt, err := optim.New(optim.Config{Kind: exp.Optimizer.Kind, LearningRate: exp.Optimizer.LearningRate, WeightDecay: exp.Optimizer.WeightDecay})
	if err != nil {
		return fmt.Errorf("optimizer: %w", err)
	}
	params := make([]*tensor.Dense, len(full.net.Params))
	for i, p := range full.net.Params {
		params[i] = p.Value().(*tensor.Dense)
	}
	grads := estimators.NewGradients(full.net)
	evSpec := full.net.Spec()
	evSpec.Params = full.net.ParamValues()
	ev, err := NewClassifier(evSpec, exp.Noise.AtEval, exp.Seed^0xe7a1)
	if err != nil {
		return err
	}
	defer ev.Close()

	res := armResult{cfg: t.arm}
	start := 0
	ckpt := checkpointPath(t.dir, t.arm.Name)
	c, err := readCheckpoint(ckpt)
	if err != nil {
		return err
	}
	if c != nil {
		if c.ConfigHash != t.hash {
			return fmt.Errorf("checkpoint %s belongs to another config (hash %.12s, this run %.12s)", ckpt, c.ConfigHash, t.hash)
		}
		if err := restoreParams(full.net, c.Params); err != nil {
			return fmt.Errorf("checkpoint %s: %w", ckpt, err)
		}
		if err := opt.UnmarshalBinary(c.Optimizer); err != nil {
			return fmt.Errorf("checkpoint %s: optimizer: %w", ckpt, err)
		}
		start, res.metrics, res.seconds, res.peak = c.Epoch, c.Metrics, c.Seconds, c.PeakMemory
		if start < exp.Train.Epochs {
			fmt.Fprintf(t.opts.Log, "%s: resuming after epoch %d of %d\n", t.arm.Name, start, exp.Train.Epochs)
		}
	}

	x := make([]float64, b*t.train.Features)
	labels := make([]int, b)
	steps := (n + b - 1) / b
	warned := map[string]bool{}
	for epoch := start + 1; epoch <= exp.Train.Epochs; epoch++ {
		began := time.Now()
		lr := optim.Schedule(exp.Optimizer.LearningRate, exp.Optimizer.DecayFactor, exp.Optimizer.DecayEvery, epoch)
		opt.SetLearningRate(lr)
		// Every random draw of an epoch comes from (seed, epoch): the order
		// of the examples and each noise site's stream. A resumed run
		// therefore repeats the uninterrupted one exactly.
		order := rand.New(rand.NewPCG(exp.Seed, uint64(epoch))).Perm(n)
		full.net.Reseed(mix(exp.Seed, uint64(epoch)))
		if last != nil {
			last.net.Reseed(mix(exp.Seed^0x5eed1a57, uint64(epoch)))
		}
		bar := t.newBar(steps, epoch)
		var lossSum float64
		for s := 0; s < steps; s++ {
			if err := t.opts.Context.Err(); err != nil {
				return fmt.Errorf("stopped in epoch %d: %w (resume from %s)", epoch, err, t.lastGood(epoch))
			}
			lo, hi := s*b, min((s+1)*b, n)
			p := full
			if hi-lo < b {
				p = last
			}
			xb, lb := x[:(hi-lo)*t.train.Features], labels[:hi-lo]
			if err := t.train.Gather(order[lo:hi], xb, lb); err != nil {
				return err
			}
			st, err := p.est.Estimate(xb, lb, grads)
			if err != nil {
				return fmt.Errorf("epoch %d, step %d: %w (the last good checkpoint is %s)", epoch, s+1, err, t.lastGood(epoch))
			}
			for _, w := range st.Warnings {
				if !warned[w] {
					warned[w] = true
					fmt.Fprintf(t.opts.Log, "%s: warning: %s\n", t.arm.Name, w)
				}
			}
			if err := opt.Step(params, grads); err != nil {
				return fmt.Errorf("epoch %d, step %d: %w", epoch, s+1, err)
			}
			lossSum += st.Loss
			if bar != nil {
				bar.Add(1)
			}
		}
		trainSecs := time.Since(began).Seconds()
		evalBegan := time.Now()
		testLoss, acc, err := ev.Evaluate(t.test)
		if err != nil {
			return fmt.Errorf("epoch %d: %w (the last good checkpoint is %s)", epoch, err, t.lastGood(epoch))
		}
		evalSecs := time.Since(evalBegan).Seconds()
		if bar != nil {
			bar.Finish()
		}
		m := EpochMetrics{
			Arm: t.arm.Name, Epoch: epoch, TrainLoss: lossSum / float64(steps),
			TestLoss: testLoss, TestAccuracy: acc, Seconds: trainSecs + evalSecs,
			ExamplesPerSecond: float64(n) / trainSecs, TrainSeconds: trainSecs, EvalSeconds: evalSecs, LearningRate: lr,
		}
		res.metrics = append(res.metrics, m)
		res.seconds += m.Seconds
		res.peak = max(res.peak, peakMemory())
		fmt.Fprintf(t.opts.Log, "%s epoch %d/%d: train loss %.4f, test loss %.4f, test accuracy %.4f, %.1f s (%.0f examples/s)\n",
			t.arm.Name, epoch, exp.Train.Epochs, m.TrainLoss, m.TestLoss, m.TestAccuracy, m.Seconds, m.ExamplesPerSecond)
		state, err := opt.MarshalBinary()
		if err != nil {
			return fmt.Errorf("optimizer state: %w", err)
		}
		err = writeCheckpoint(ckpt, &Checkpoint{Version: checkpointVersion, Arm: t.arm.Name, ConfigHash: t.hash, Epoch: epoch,
			Params: saveParams(full.net), Optimizer: state, Metrics: res.metrics, Seconds: res.seconds, PeakMemory: res.peak})
		if err != nil {
			return err
		}
		if err := t.record(res); err != nil {
			return err
		}
		if t.opts.OnEpoch != nil {
			t.opts.OnEpoch(m)
		}
	}
	return t.record(res)
}

func (t *trainer) lastGood(epoch int) string {
	if epoch <= 1 {
		return "none: no epoch completed"
	}
	return fmt.Sprintf("%s, after epoch %d", checkpointPath(t.dir, t.arm.Name), epoch-1)
}

func (t *trainer) newBar(steps, epoch int) *progressbar.ProgressBar {
	if !t.opts.Progress {
		return nil
	}
	return progressbar.NewOptions(steps,
		progressbar.OptionSetWriter(t.opts.Log),
		progressbar.OptionSetDescription(fmt.Sprintf("%s epoch %d/%d", t.arm.Name, epoch, t.arm.Train.Epochs)),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("steps"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
}

// newPass builds a network for batch examples of copies copies each, and
// its estimator. With share set, the network uses share's parameter tensors.
// The noise streams are reseeded every epoch.
func (t *trainer) newPass(batch, copies int, share *graph.Network) (*batchPass, error) {
	exp := &t.arm.Experiment
	spec, err := NetworkSpec(exp, t.train.Features, t.train.Classes, batch, copies)
	if err != nil {
		return nil, err
	}
	if share != nil {
		spec.Params = share.ParamValues()
	}
	net, err := graph.Build(spec)
	if err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}
	est, err := estimators.New(net, EstimatorOptions(exp))
	if err != nil {
		return nil, fmt.Errorf("estimator: %w", err)
	}
	return &batchPass{net: net, est: est}, nil
}

// mix derives a stream seed from a seed and an index (SplitMix64 finaliser).
func mix(seed, i uint64) uint64 {
	z := seed + 0x9e3779b97f4a7c15*(i+1)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func saveParams(net *graph.Network) []ParamState {
	ps := make([]ParamState, len(net.Params))
	for i, p := range net.Params {
		v := p.Value().(*tensor.Dense)
		s := ParamState{Name: p.Name(), Shape: append([]int(nil), v.Shape()...)}
		switch d := v.Data().(type) {
		case []float64:
			s.Values = append([]float64(nil), d...)
		case []float32:
			s.Values = make([]float64, len(d))
			for j, x := range d {
				s.Values[j] = float64(x)
			}
		}
		ps[i] = s
	}
	return ps
}

func restoreParams(net *graph.Network, ps []ParamState) error {
	if len(ps) != len(net.Params) {
		return fmt.Errorf("holds %d parameters, the network has %d", len(ps), len(net.Params))
	}
	for i, p := range net.Params {
		v := p.Value().(*tensor.Dense)
		if ps[i].Name != p.Name() || len(ps[i].Values) != v.Shape().TotalSize() {
			return fmt.Errorf("parameter %d is %s with %d values, the network's is %s %v", i, ps[i].Name, len(ps[i].Values), p.Name(), v.Shape())
		}
		switch d := v.Data().(type) {
		case []float64:
			copy(d, ps[i].Values)
		case []float32:
			for j, x := range ps[i].Values {
				d[j] = float32(x)
			}
		}
	}
	return nil
}
