package runner

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/glr-project/glr/assemble"
	"github.com/glr-project/glr/checkpoint"
	"github.com/glr-project/glr/configs"
	"github.com/glr-project/glr/datasets"
	"github.com/glr-project/glr/estimators"
	"github.com/glr-project/glr/graph"
	"github.com/glr-project/glr/internal/atomicfile"
	"github.com/glr-project/glr/internal/memstat"
	"github.com/glr-project/glr/models"
	"github.com/glr-project/glr/optim"
	"github.com/schollz/progressbar/v3"
	"gorgonia.org/tensor"
)

// trainLossSample is the number of training examples whose noise-free loss
// is evaluated after each epoch (train_loss).
const trainLossSample = 10000

// divergence is an arm whose loss stopped being finite, or whose weights
// grew beyond what a checkpoint keeps. Its message starts with "diverged".
type divergence struct{ msg string }

func (d *divergence) Error() string { return d.msg }

// trainer trains one arm.
type trainer struct {
	arm         *configs.ArmConfig
	index       int
	train, test *datasets.Set
	opts        RunOptions
	hash, dir   string
	record      func(armResult) error
}

// armState is what an arm's checkpoint restores.
type armState struct {
	state   *checkpoint.State
	metrics []EpochMetrics
	seconds float64
	peak    uint64
}

// readArmState reads and verifies the checkpoint of arm i, or returns nil
// if it has none.
func readArmState(dir string, i int, arm *configs.ArmConfig, hash string) (*armState, error) {
	path := checkpoint.Path(dir, i, arm.Name)
	s, err := checkpoint.Read(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	switch {
	case s.Arm != arm.Name:
		return nil, fmt.Errorf("checkpoint %s holds arm %q, not %q", path, s.Arm, arm.Name)
	case s.ConfigHash != hash:
		return nil, fmt.Errorf("checkpoint %s belongs to another config (hash %.12s, this run %.12s)", path, s.ConfigHash, hash)
	case s.Epoch > arm.Train.Epochs:
		return nil, fmt.Errorf("checkpoint %s is after epoch %d, but the run has %d epochs", path, s.Epoch, arm.Train.Epochs)
	}
	ms, err := decodeRecords(s.Records)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if len(ms) != s.Epoch {
		return nil, fmt.Errorf("checkpoint %s is after epoch %d but records %d epochs", path, s.Epoch, len(ms))
	}
	return &armState{state: s, metrics: ms, seconds: s.Seconds, peak: s.PeakMemory}, nil
}

func failurePath(dir string, i int, arm string) string {
	return strings.TrimSuffix(checkpoint.Path(dir, i, arm), ".ckpt") + ".failed"
}

func readFailure(dir string, i int, arm string) (string, bool) {
	b, err := os.ReadFile(failurePath(dir, i, arm))
	if err != nil {
		return "", false
	}
	return strings.TrimSpace(string(b)), true
}

func writeFailure(dir string, i int, arm, msg string) error {
	path := failurePath(dir, i, arm)
	if err := os.MkdirAll(dirOf(path), 0o755); err != nil {
		return err
	}
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		_, err := fmt.Fprintln(w, msg)
		return err
	})
}

func dirOf(path string) string {
	i := strings.LastIndexByte(path, os.PathSeparator)
	if i < 0 {
		return "."
	}
	return path[:i]
}

func (t *trainer) run() error {
	exp := &t.arm.Experiment
	n, b := t.train.Len(), min(exp.Data.BatchSize, t.train.Len())
	if n == 0 {
		return fmt.Errorf("the training set %s is empty", t.train.Name)
	}
	spec, err := assemble.Spec(exp, assemble.Image(t.train), t.train.Classes)
	if err != nil {
		return err
	}
	if spec.Params, err = graph.NewParams(spec); err != nil {
		return fmt.Errorf("network: %w", err)
	}
	probe := spec
	probe.Batch = 1
	net, err := graph.Build(probe)
	if err != nil {
		return fmt.Errorf("network: %w", err)
	}
	params := net.ParamTensors()
	full, err := assemble.Estimator(exp, spec, b)
	if err != nil {
		return err
	}
	defer full.Close()
	last := full
	if r := n % b; r > 0 {
		// The reference code keeps the short last batch; it gets its own
		// estimator on the same weights.
		if last, err = assemble.Estimator(exp, spec, r); err != nil {
			return err
		}
		defer last.Close()
	}
	opt, err := optim.New(optim.Config{Kind: exp.Optimizer.Kind, LearningRate: exp.Optimizer.LearningRate, WeightDecay: exp.Optimizer.WeightDecay})
	if err != nil {
		return fmt.Errorf("optimizer: %w", err)
	}
	grads, err := estimators.NewGradients(spec)
	if err != nil {
		return err
	}
	ev, err := models.NewClassifier(spec, exp.Noise.AtEval)
	if err != nil {
		return err
	}
	defer ev.Close()

	res := armResult{cfg: t.arm, status: "running"}
	start := 0
	st, err := readArmState(t.dir, t.index, t.arm, t.hash)
	if err != nil {
		return err
	}
	ckpt := checkpoint.Path(t.dir, t.index, t.arm.Name)
	if st != nil {
		if err := restore(net, params, st.state); err != nil {
			return fmt.Errorf("checkpoint %s: %w", ckpt, err)
		}
		if err := opt.UnmarshalBinary(st.state.Optimizer); err != nil {
			return fmt.Errorf("checkpoint %s: optimizer: %w", ckpt, err)
		}
		start, res.metrics, res.seconds, res.peak = st.state.Epoch, st.metrics, st.seconds, st.peak
		if start < exp.Train.Epochs {
			fmt.Fprintf(t.opts.Log, "%s: resuming after epoch %d of %d\n", t.arm.Name, start, exp.Train.Epochs)
		}
	}

	steps := (n + b - 1) / b
	batch := &datasets.Batch{Set: t.train}
	sample := t.train.Limit(trainLossSample)
	warned := map[string]bool{}
	for epoch := start + 1; epoch <= exp.Train.Epochs; epoch++ {
		began := time.Now()
		lr := optim.Schedule(exp.Optimizer.LearningRate, exp.Optimizer.DecayFactor, exp.Optimizer.DecayEvery, epoch)
		opt.SetLearningRate(lr)
		// Every random draw of an epoch comes from (seed, epoch): the order
		// of the examples, and through the global step every noise stream.
		// A resumed run therefore repeats the uninterrupted one exactly.
		order := rand.New(rand.NewPCG(exp.Seed, uint64(epoch))).Perm(n)
		bar := t.newBar(steps, epoch)
		var lossSum, trainLoss float64
		var rows int64
		for s := 0; s < steps; s++ {
			if err := t.opts.Context.Err(); err != nil {
				if bar != nil {
					bar.Clear()
				}
				return fmt.Errorf("%w in epoch %d", ErrInterrupted, epoch)
			}
			lo, hi := s*b, min((s+1)*b, n)
			est := full
			if hi-lo < b {
				est = last
			}
			batch.Index = order[lo:hi]
			step := uint64(epoch-1)*uint64(steps) + uint64(s)
			stats, err := est.Estimate(batch, step, grads)
			if err != nil {
				if errors.Is(err, graph.ErrNonFiniteLoss) {
					if bar != nil {
						bar.Clear()
					}
					return &divergence{fmt.Sprintf("diverged in epoch %d, step %d: %v (the last good checkpoint is %s)", epoch, s+1, err, t.lastGood(epoch, ckpt))}
				}
				return fmt.Errorf("epoch %d, step %d: %w", epoch, s+1, err)
			}
			for _, w := range stats.Warnings {
				if !warned[w] {
					warned[w] = true
					if bar != nil {
						bar.Clear()
					}
					fmt.Fprintf(t.opts.Log, "%s: warning: %s\n", t.arm.Name, w)
				}
			}
			if err := opt.Step(params, grads); err != nil {
				return fmt.Errorf("epoch %d, step %d: %w", epoch, s+1, err)
			}
			lossSum += stats.Loss
			rows += int64(stats.Rows)
			if bar != nil {
				bar.Add(1)
			}
		}
		trainSecs := time.Since(began).Seconds()
		if bar != nil {
			bar.Finish()
		}
		if err := checkWeights(net, params); err != nil {
			return &divergence{fmt.Sprintf("diverged in epoch %d: %v (the last good checkpoint is %s)", epoch, err, t.lastGood(epoch, ckpt))}
		}
		evalBegan := time.Now()
		testRes, err := ev.Evaluate(t.test)
		if err == nil {
			var trainRes *models.Result
			if trainRes, err = ev.Evaluate(sample); err == nil {
				trainLoss = trainRes.Loss
			}
		}
		if errors.Is(err, graph.ErrNonFiniteLoss) {
			return &divergence{fmt.Sprintf("diverged in epoch %d: %v (the last good checkpoint is %s)", epoch, err, t.lastGood(epoch, ckpt))}
		}
		if err != nil {
			return fmt.Errorf("epoch %d: %w", epoch, err)
		}
		evalSecs := time.Since(evalBegan).Seconds()
		m := EpochMetrics{
			Arm: t.arm.Name, Epoch: epoch, TrainLoss: trainLoss, EstimatorLoss: lossSum / float64(steps),
			TestLoss: testRes.Loss, TestAccuracy: testRes.Accuracy, Seconds: trainSecs + evalSecs,
			ExamplesPerSecond: float64(n) / trainSecs, TrainSeconds: trainSecs, EvalSeconds: evalSecs, LearningRate: lr, Rows: rows,
		}
		res.metrics = append(res.metrics, m)
		res.seconds += m.Seconds
		res.peak = max(res.peak, memstat.PeakRSS())
		fmt.Fprintf(t.opts.Log, "%s epoch %d/%d: train loss %.4f, test loss %.4f, test accuracy %.4f, %.1f s (%.0f examples/s)\n",
			t.arm.Name, epoch, exp.Train.Epochs, m.TrainLoss, m.TestLoss, m.TestAccuracy, m.Seconds, m.ExamplesPerSecond)
		state, err := opt.MarshalBinary()
		if err != nil {
			return fmt.Errorf("optimizer state: %w", err)
		}
		if err := os.MkdirAll(dirOf(ckpt), 0o755); err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
		dtype := checkpoint.Float64
		if spec.Dtype == tensor.Float32 {
			dtype = checkpoint.Float32
		}
		err = checkpoint.Write(ckpt, &checkpoint.State{Arm: t.arm.Name, ConfigHash: t.hash, Epoch: epoch, Dtype: dtype,
			Params: models.Params(net), Optimizer: state, Records: encodeRecords(res.metrics), Seconds: res.seconds, PeakMemory: res.peak})
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
	res.status = "done"
	return t.record(res)
}

// restore copies a checkpoint's weights into the network's parameters,
// after checking that they fit.
func restore(net *graph.Network, params []*tensor.Dense, s *checkpoint.State) error {
	names := make([]string, len(net.Params))
	shapes := make([][]int, len(net.Params))
	for i, p := range params {
		names[i], shapes[i] = net.Params[i].Name(), p.Shape()
	}
	if err := s.Check(names, shapes); err != nil {
		return err
	}
	for i, p := range params {
		vs := s.Params[i].Values
		if p.Dtype() == tensor.Float32 {
			for j, v := range vs {
				p.Float32s()[j] = float32(v)
			}
			continue
		}
		copy(p.Float64s(), vs)
	}
	return nil
}

// checkWeights refuses weights that a checkpoint cannot keep: not finite,
// or beyond checkpoint.MaxAbsValue in magnitude. Training that got there has
// diverged, even while its loss is still finite.
func checkWeights(net *graph.Network, params []*tensor.Dense) error {
	for i, p := range params {
		var bad float64
		j := -1
		if p.Dtype() == tensor.Float32 {
			for k, v := range p.Float32s() {
				if x := float64(v); math.IsNaN(x) || math.Abs(x) > checkpoint.MaxAbsValue {
					bad, j = x, k
					break
				}
			}
		} else {
			for k, x := range p.Float64s() {
				if math.IsNaN(x) || math.Abs(x) > checkpoint.MaxAbsValue {
					bad, j = x, k
					break
				}
			}
		}
		if j >= 0 {
			return fmt.Errorf("weight %d of %s is %g, beyond the bound of %g that a checkpoint keeps", j, net.Params[i].Name(), bad, checkpoint.MaxAbsValue)
		}
	}
	return nil
}

func (t *trainer) lastGood(epoch int, ckpt string) string {
	if epoch <= 1 {
		return "none: no epoch completed"
	}
	return fmt.Sprintf("%s, after epoch %d", ckpt, epoch-1)
}

// newBar returns a progress bar that fits on one line of the terminal, or
// nil.
func (t *trainer) newBar(steps, epoch int) *progressbar.ProgressBar {
	if !t.opts.Progress {
		return nil
	}
	cols := t.opts.Columns
	if cols <= 0 {
		cols = 80
	}
	l := layoutBar(cols, fmt.Sprintf("%s %d/%d", t.arm.Name, epoch, t.arm.Train.Epochs), steps)
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(&lineWriter{w: t.opts.Log, max: cols - 1}),
		progressbar.OptionSetDescription(l.desc),
		progressbar.OptionSetWidth(l.width),
		progressbar.OptionSetPredictTime(l.eta),
		progressbar.OptionSetItsString("steps"),
		progressbar.OptionThrottle(100 * time.Millisecond),
		progressbar.OptionClearOnFinish(),
	}
	if l.count {
		opts = append(opts, progressbar.OptionShowCount())
	}
	if l.rate {
		opts = append(opts, progressbar.OptionShowIts())
	}
	return progressbar.NewOptions(steps, opts...)
}

// barLayout is what a progress bar shows besides its percentage.
type barLayout struct {
	desc             string
	width            int // of the bar itself
	count, rate, eta bool
}

// Widths of the parts of a progress bar's line, as the progressbar package
// draws them: "DESC  45% |BAR| (COUNT/TOTAL, RATE steps/s) [ELAPSED:ETA]".
const (
	barFixed   = 10 // "%4d%% |" and "| " around the bar, and one trailing space
	barRate    = 14 // "999999 steps/s", or "59 steps/min"
	barTime    = 20 // " [9h59m59s:9h59m59s]"
	barMinimum = 10 // the narrowest bar worth drawing
)

// layoutBar fits a progress bar of steps steps, described by desc, into
// cols columns, keeping the last column free (a character there makes some
// terminals wrap). Narrower terminals lose, in turn, the rate, the count,
// the times, then the end of the description.
func layoutBar(cols int, desc string, steps int) barLayout {
	room := cols - 1
	if r := []rune(desc); len(r) > max(12, room/3) {
		desc = string(r[:max(12, room/3)-1]) + "…"
	}
	digits := len(fmt.Sprint(steps))
	for _, l := range []barLayout{
		{count: true, rate: true, eta: true},
		{count: true, eta: true},
		{eta: true},
		{},
	} {
		used := len([]rune(desc)) + barFixed
		if l.count || l.rate {
			used += 2 // "(" and ")"
		}
		if l.count {
			used += 2*digits + 1
		}
		if l.rate {
			used += barRate
		}
		if l.count && l.rate {
			used += 2 // ", "
		}
		if l.eta {
			used += barTime
		}
		if l.width = room - used; l.width >= barMinimum {
			l.desc = desc
			return l
		}
	}
	// Too narrow for the description and a bar: shorten the description.
	r := []rune(desc)
	keep := max(0, room-barFixed-barMinimum)
	if keep < len(r) {
		r = r[:keep]
	}
	return barLayout{desc: string(r), width: max(1, room-barFixed-len(r))}
}

// lineWriter passes a progress bar's output on, cutting every line (text
// between carriage returns and newlines) to max characters, so that the
// bar never wraps whatever the lengths of its numbers.
type lineWriter struct {
	w   io.Writer
	max int
	col int // characters of the current line written so far
}

func (lw *lineWriter) Write(p []byte) (int, error) {
	out := make([]byte, 0, len(p))
	for i := 0; i < len(p); {
		r, size := utf8.DecodeRune(p[i:])
		switch {
		case r == '\r' || r == '\n':
			lw.col = 0
		case lw.col >= lw.max:
			i += size
			continue
		default:
			lw.col++
		}
		out = append(out, p[i:i+size]...)
		i += size
	}
	if _, err := lw.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}
