package runner

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/glr-project/glr/checkpoint"
)

// subset is a small MNIST experiment with a GLR arm and a BP arm.
const subset = `
name = "subset"
seed = 4
[model]
hidden = [20]
activation = "sigmoid"
[noise]
distribution = "gaussian"
scale = 0.5
[estimator]
kind = "glr"
copies = 16
baseline = "leave-one-out"
[data]
train_limit = 2000
test_limit = 500
batch_size = 50
[optimizer]
kind = "sgd"
learning_rate = 0.5
[train]
epochs = 3
[[arms]]
name = "glr"
[[arms]]
name = "bp"
[arms.estimator]
kind = "bp"
copies = 1
`

// TestRunLearnsAndResumes trains a small MNIST subset end to end: both arms
// learn far above chance, the run writes every file, and a run interrupted
// after the glr arm's second epoch and resumed ends with exactly the same
// numbers as the uninterrupted run.
func TestRunLearnsAndResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on 2,000 MNIST images")
	}
	exp := experiment(t, subset)
	whole := filepath.Join(t.TempDir(), "whole")
	var table strings.Builder
	_, s, err := Run(exp, RunOptions{Out: whole, Stdout: &table})
	if err != nil {
		t.Fatal(err)
	}
	// 2,000 training images, 3 epochs (120 steps): with this seed GLR
	// reaches about 80 % and BP about 85 %; 10 classes give 10 % by chance,
	// so 60 % fails only if training is broken.
	for _, a := range s.Arms {
		if a.FinalTestAccuracy < 0.6 || a.Status != "done" || a.Epochs != 3 {
			t.Errorf("arm %s: final test accuracy %.3f, status %q after %d epochs; want ≥ 0.6, done, 3", a.Name, a.FinalTestAccuracy, a.Status, a.Epochs)
		}
	}
	for _, f := range []string{"metrics.jsonl", "summary.json", "resolved.toml", "curves.png", "checkpoints/00-glr.ckpt", "checkpoints/01-bp.ckpt"} {
		if !fileExists(filepath.Join(whole, f)) {
			t.Errorf("missing %s", f)
		}
	}
	if !strings.Contains(table.String(), "glr") || !strings.Contains(table.String(), "final acc") {
		t.Errorf("table:\n%s", table.String())
	}
	want := readMetrics(t, whole)
	if len(want) != 6 {
		t.Fatalf("metrics.jsonl has %d lines, want 6", len(want))
	}

	part := filepath.Join(t.TempDir(), "part")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, _, err = Run(exp, RunOptions{Out: part, Context: ctx, OnEpoch: func(m EpochMetrics) {
		if m.Arm == "glr" && m.Epoch == 2 {
			cancel()
		}
	}})
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("interrupted run: err = %v, want ErrInterrupted", err)
	}
	if n := len(readMetrics(t, part)); n != 2 {
		t.Fatalf("interrupted run recorded %d epochs, want 2", n)
	}
	if _, err := Resume(part, RunOptions{}); err != nil {
		t.Fatal(err)
	}
	got := readMetrics(t, part)
	if len(got) != len(want) {
		t.Fatalf("resumed run has %d lines, want %d", len(got), len(want))
	}
	for i := range want {
		if !sameNumbers(got[i], want[i]) {
			t.Errorf("line %d: resumed %+v\nuninterrupted %+v", i+1, got[i], want[i])
		}
	}

	if _, _, err := Run(exp, RunOptions{Out: whole}); !errors.Is(err, ErrRunExists) || !strings.Contains(err.Error(), "glr run -resume "+whole) {
		t.Errorf("second run into %s: err = %v, want ErrRunExists naming glr run -resume", whole, err)
	}
}

// TestArmsWithCollidingNames: arms whose names reduce to the same file name
// ("a/b" and "a_b"; two non-ASCII names of equal length) each train with
// their own learning rate into their own checkpoint, and a resumed run reads
// each arm's own state back. When they shared one file, the second arm
// overwrote the first's checkpoint and resuming mixed them up.
func TestArmsWithCollidingNames(t *testing.T) {
	exp := experiment(t, tiny+`
[[arms]]
name = "a/b"
[[arms]]
name = "a_b"
[arms.optimizer]
learning_rate = 0.01
[[arms]]
name = "αβ"
[arms.optimizer]
learning_rate = 1
[[arms]]
name = "γδ"
[arms.optimizer]
learning_rate = 0.3
`)
	dir := filepath.Join(t.TempDir(), "run")
	_, s, err := Run(exp, RunOptions{Out: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Arms) != 4 {
		t.Fatalf("%d arms in the summary, want 4", len(s.Arms))
	}
	finals := map[float64]string{}
	for i, a := range s.Arms {
		path := checkpoint.Path(dir, i, a.Name)
		st, err := checkpoint.Read(path)
		if err != nil {
			t.Fatal(err)
		}
		ms, err := decodeRecords(st.Records)
		if err != nil {
			t.Fatal(err)
		}
		if st.Arm != a.Name || st.Epoch != 2 || ms[1].TestLoss != a.FinalTestLoss || ms[1].LearningRate != exp.Resolved()[i].Optimizer.LearningRate {
			t.Errorf("%s holds arm %q after epoch %d, final test loss %v at learning rate %v; want arm %q after 2, %v at %v",
				path, st.Arm, st.Epoch, ms[1].TestLoss, ms[1].LearningRate, a.Name, a.FinalTestLoss, exp.Resolved()[i].Optimizer.LearningRate)
		}
		if other, dup := finals[a.FinalTestLoss]; dup {
			t.Errorf("arms %s and %s end with the same test loss %v: they did not train apart", other, a.Name, a.FinalTestLoss)
		}
		finals[a.FinalTestLoss] = a.Name
	}
	want := readMetrics(t, dir)
	if _, err := Resume(dir, RunOptions{}); err != nil {
		t.Fatalf("resume of the finished run: %v", err)
	}
	got := readMetrics(t, dir)
	for i := range want {
		if !sameNumbers(got[i], want[i]) {
			t.Errorf("line %d after resume: %+v, want %+v", i+1, got[i], want[i])
		}
	}
}

// TestFailedStartCleansUp: a run that fails before its first epoch (here a
// data path that does not exist) leaves nothing behind, so that the same
// command, fixed, runs in the same directory: with -out, in a directory it
// created or one that held only a failed start's resolved.toml, and with
// the default directory, which is not numbered -2.
func TestFailedStartCleansUp(t *testing.T) {
	broken := []string{`data.dataset="fashion-mnist"`, `data.path="` + filepath.Join(t.TempDir(), "missing") + `"`}
	t.Run("new -out", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "run")
		if _, _, err := Run(experiment(t, tiny, broken...), RunOptions{Out: dir}); err == nil || !strings.Contains(err.Error(), "missing") {
			t.Fatalf("err = %v, want the missing path", err)
		}
		if fileExists(dir) {
			t.Fatalf("the failed start left %s", dir)
		}
		if _, _, err := Run(experiment(t, tiny), RunOptions{Out: dir}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("leftover -out", func(t *testing.T) {
		dir := t.TempDir()
		// What a failed start of an older glr left: resolved.toml alone.
		if err := os.WriteFile(filepath.Join(dir, "resolved.toml"), []byte("name = \"old\"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, _, err := Run(experiment(t, tiny, broken...), RunOptions{Out: dir}); err == nil {
			t.Fatal("the broken run succeeded")
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Fatalf("the failed start left %v in %s", entries, dir)
		}
		if _, _, err := Run(experiment(t, tiny), RunOptions{Out: dir}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("default directory", func(t *testing.T) {
		runs := t.TempDir()
		if _, _, err := Run(experiment(t, tiny, broken...), RunOptions{Runs: runs}); err == nil {
			t.Fatal("the broken run succeeded")
		}
		if entries, _ := os.ReadDir(runs); len(entries) != 0 {
			t.Fatalf("the failed start left %v in %s", entries, runs)
		}
		// A leftover of an older glr is reused too.
		if err := os.Mkdir(filepath.Join(runs, "tiny"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(runs, "tiny", "resolved.toml"), []byte("name = \"old\"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		dir, _, err := Run(experiment(t, tiny), RunOptions{Runs: runs})
		if err != nil || dir != filepath.Join(runs, "tiny") {
			t.Fatalf("retry: directory %s, err %v; want %s", dir, err, filepath.Join(runs, "tiny"))
		}
		if dir, _, err := Run(experiment(t, tiny), RunOptions{Runs: runs}); err != nil || dir != filepath.Join(runs, "tiny-2") {
			t.Fatalf("a second run: directory %s, err %v; want %s", dir, err, filepath.Join(runs, "tiny-2"))
		}
	})
}

// TestDivergingArm: an arm whose learning rate blows its weights up is
// recorded as diverged while the next arm trains; the run fails naming the
// arm, and a resume skips it instead of diverging again.
func TestDivergingArm(t *testing.T) {
	exp := experiment(t, tiny+`
[[arms]]
name = "wild"
[arms.optimizer]
learning_rate = 1e6
[[arms]]
name = "calm"
`)
	dir := filepath.Join(t.TempDir(), "run")
	var log strings.Builder
	_, s, err := Run(exp, RunOptions{Out: dir, Log: &log})
	if !errors.Is(err, ErrDiverged) || !strings.Contains(err.Error(), "arm wild diverged") || !strings.Contains(err.Error(), "glr run -resume "+dir) {
		t.Fatalf("err = %v, want ErrDiverged naming arm wild and the resume command", err)
	}
	if s == nil || len(s.Arms) != 2 {
		t.Fatalf("summary %+v, want both arms", s)
	}
	if wild, calm := s.Arms[0], s.Arms[1]; !strings.HasPrefix(wild.Status, "diverged in epoch 1") || calm.Status != "done" || calm.Epochs != 2 {
		t.Fatalf("statuses %q and %q (calm %d epochs); want wild diverged in epoch 1 and calm done after 2", wild.Status, calm.Status, calm.Epochs)
	}
	failed, err := os.ReadFile(filepath.Join(dir, "checkpoints", "00-wild.failed"))
	if err != nil || !strings.Contains(string(failed), "diverged in epoch 1") {
		t.Fatalf("00-wild.failed: %q, %v", failed, err)
	}
	want := readMetrics(t, dir)
	log.Reset()
	_, err = Resume(dir, RunOptions{Log: &log})
	if !errors.Is(err, ErrDiverged) {
		t.Fatalf("resume: err = %v, want ErrDiverged again", err)
	}
	if !strings.Contains(log.String(), "wild: skipped: it diverged in epoch 1") || strings.Contains(log.String(), "epoch 1/2") {
		t.Fatalf("resume log:\n%s\nwant wild skipped and nothing trained", log.String())
	}
	got := readMetrics(t, dir)
	if len(got) != len(want) {
		t.Fatalf("resume changed the records: %d lines, want %d", len(got), len(want))
	}
}

// TestErrorsBeforeTraining: problems that used to surface only after an
// epoch of training are errors before the first step, and leave no
// directory behind.
func TestErrorsBeforeTraining(t *testing.T) {
	cases := []struct {
		name        string
		train, test [3]int // images, height, width
		want        string
	}{
		{"image sizes differ", [3]int{60, 28, 28}, [3]int{20, 14, 14}, "holds 1x14x14 images"},
		{"empty test set", [3]int{60, 28, 28}, [3]int{0, 28, 28}, "is empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := t.TempDir()
			writeIDX(t, data, "train", c.train[0], c.train[1], c.train[2])
			writeIDX(t, data, "t10k", c.test[0], c.test[1], c.test[2])
			dir := filepath.Join(t.TempDir(), "run")
			var log strings.Builder
			_, _, err := Run(experiment(t, tiny, `data.path="`+data+`"`), RunOptions{Out: dir, Log: &log})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			if strings.Contains(log.String(), "epoch") || fileExists(dir) {
				t.Fatalf("trained or left %s:\n%s", dir, log.String())
			}
		})
	}
}

// TestLongArmName: an arm name far longer than a file name may be, with
// characters no file name should hold, trains and writes its checkpoint.
func TestLongArmName(t *testing.T) {
	name := strings.Repeat("lr=0.1/", 60) + "∂"
	exp := experiment(t, tiny+"[[arms]]\nname = \""+name+"\"\n")
	dir := filepath.Join(t.TempDir(), "run")
	if _, _, err := Run(exp, RunOptions{Out: dir}); err != nil {
		t.Fatal(err)
	}
	st, err := checkpoint.Read(checkpoint.Path(dir, 0, name))
	if err != nil || st.Arm != name {
		t.Fatalf("checkpoint: %v (arm %q)", err, st.Arm)
	}
}

// TestInterrupt: a cancelled run says what became of its work, on a line
// of its own: after a completed epoch, the glr run -resume command that
// continues it; before any, that nothing was kept.
func TestInterrupt(t *testing.T) {
	t.Run("after an epoch", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "run")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		_, _, err := Run(experiment(t, tiny), RunOptions{Out: dir, Context: ctx, OnEpoch: func(EpochMetrics) { cancel() }})
		want := "arm tiny: interrupted in epoch 2; the completed epochs are kept: continue with glr run -resume " + dir
		if !errors.Is(err, ErrInterrupted) || err.Error() != want {
			t.Fatalf("err = %v\nwant %s", err, want)
		}
		if !fileExists(checkpoint.Path(dir, 0, "tiny")) {
			t.Fatal("the completed epoch's checkpoint is gone")
		}
	})
	t.Run("before any epoch", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "run")
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, _, err := Run(experiment(t, tiny), RunOptions{Out: dir, Context: ctx})
		want := "arm tiny: interrupted in epoch 1 before any epoch completed, so nothing was kept: run the same command again"
		if !errors.Is(err, ErrInterrupted) || err.Error() != want {
			t.Fatalf("err = %v\nwant %s", err, want)
		}
		if fileExists(dir) {
			t.Fatalf("%s is left", dir)
		}
	})
}

// TestRecords checks the fields of metrics.jsonl and summary.json: both
// losses of each epoch, and the provenance of the run.
func TestRecords(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	before := time.Now()
	command := []string{"glr", "run", "tiny.toml", "-out", dir}
	if _, _, err := Run(experiment(t, tiny), RunOptions{Out: dir, Command: command}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	var line map[string]any
	if err := json.Unmarshal([]byte(first), &line); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"arm", "epoch", "train_loss", "estimator_loss", "test_loss", "test_accuracy", "seconds", "examples_per_second", "learning_rate", "rows"} {
		if _, ok := line[k]; !ok {
			t.Errorf("metrics.jsonl lacks %q: %s", k, first)
		}
	}
	// train_loss is noise-free, estimator_loss the mean of 2 noisy copies:
	// for a GLR arm they are different numbers.
	if tl, el := line["train_loss"].(float64), line["estimator_loss"].(float64); tl == el || math.IsNaN(tl) || tl <= 0 || el <= 0 {
		t.Errorf("train_loss %v, estimator_loss %v: want two different positive losses", tl, el)
	}

	b, err = os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	p := s.Program
	if p.Module != "github.com/glr-project/glr" || p.Version == "" || p.GoVersion != runtime.Version() || p.CPU == "" || p.Cores != runtime.NumCPU() {
		t.Errorf("provenance %+v: want the module, its version, %s, a CPU model and %d cores", p, runtime.Version(), runtime.NumCPU())
	}
	if strings.Join(p.Command, " ") != strings.Join(command, " ") {
		t.Errorf("command %q, want %q", p.Command, command)
	}
	if p.Started.Before(before.Add(-time.Second)) || p.Started.After(time.Now()) {
		t.Errorf("started %v, not during the test (%v)", p.Started, before)
	}
	// go test does not stamp the VCS revision; summary.json then has git's.
	if out, err := exec.Command("git", "rev-parse", "HEAD").Output(); err == nil {
		if want := strings.TrimSpace(string(out)); p.Revision != want {
			t.Errorf("revision %q, want git's %q", p.Revision, want)
		}
	} else {
		t.Logf("no git here (%v): the revision is not checked", err)
	}
	if s.ConfigHash != experiment(t, tiny).Hash() || s.Experiment != "tiny" {
		t.Errorf("summary of %q, hash %s", s.Experiment, s.ConfigHash)
	}
}

// TestWarningOnce: a bp arm on a threshold network warns once that the
// hidden layer cannot learn, naming the arm once and the warning once
// (not "bp: warning: bp: ...").
func TestWarningOnce(t *testing.T) {
	exp := experiment(t, tiny, `model.activation="threshold"`, `estimator.kind="bp"`, "estimator.copies=1")
	var log strings.Builder
	if _, _, err := Run(exp, RunOptions{Out: filepath.Join(t.TempDir(), "run"), Log: &log}); err != nil {
		t.Fatal(err)
	}
	want := "tiny: warning: the gradient of layer1/W is exactly zero: the threshold activation has zero derivative, so backpropagation cannot train the layers below it; use the glr or ste estimator\n"
	if strings.Count(log.String(), "warning") != 1 || !strings.Contains(log.String(), want) {
		t.Fatalf("log:\n%s\nwant the warning once:\n%s", log.String(), want)
	}
}

// parallelWork is wide enough that the noise draws, the score products and
// the GEMMs split into several parallel chunks, in float32 as the shipped
// configs train.
const parallelWork = `
name = "procs"
seed = 6
[model]
hidden = [128]
activation = "sigmoid"
dtype = "float32"
[noise]
distribution = "laplace"
scale = [0.5, 1.0]
[estimator]
kind = "glr"
copies = 8
baseline = "leave-one-out"
[data]
train_limit = 640
test_limit = 200
batch_size = 64
[optimizer]
kind = "adam"
learning_rate = 0.003
[train]
epochs = 1
[[arms]]
name = "glr"
[[arms]]
name = "glr-site-clean"
[arms.estimator]
baseline = "site-clean"
sampler = "qmc"
[[arms]]
name = "bp"
[arms.estimator]
kind = "bp"
copies = 1
[[arms]]
name = "es"
[arms.estimator]
kind = "es"
copies = 8
`

// TestGOMAXPROCSRun: a training run gives the same numbers and the same
// weights, bit for bit, with one goroutine and with two.
func TestGOMAXPROCSRun(t *testing.T) {
	exp := experiment(t, parallelWork)
	run := func(procs int) string {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		dir := filepath.Join(t.TempDir(), "run")
		if _, _, err := Run(exp, RunOptions{Out: dir}); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	one, two := run(1), run(2)
	a, b := readMetrics(t, one), readMetrics(t, two)
	if len(a) != 4 || len(b) != 4 {
		t.Fatalf("%d and %d metrics lines, want 4", len(a), len(b))
	}
	for i := range a {
		if !sameNumbers(a[i], b[i]) {
			t.Errorf("arm %s: GOMAXPROCS 1 gave %+v\nGOMAXPROCS 2 gave %+v", a[i].Arm, a[i], b[i])
		}
	}
	for _, arm := range []string{"00-glr", "01-glr-site-clean", "02-bp", "03-es"} {
		w1, w2 := weights(t, filepath.Join(one, "checkpoints", arm+".ckpt")), weights(t, filepath.Join(two, "checkpoints", arm+".ckpt"))
		if len(w1) == 0 || len(w1) != len(w2) {
			t.Fatalf("%s: %d and %d weights", arm, len(w1), len(w2))
		}
		for i := range w1 {
			if math.Float64bits(w1[i]) != math.Float64bits(w2[i]) {
				t.Fatalf("%s: weight %d is %v with GOMAXPROCS 1, %v with 2", arm, i, w1[i], w2[i])
			}
		}
	}
}

// weights returns every parameter value of the checkpoint at path, in order.
func weights(t *testing.T, path string) []float64 {
	t.Helper()
	s, err := checkpoint.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	var w []float64
	for _, p := range s.Params {
		w = append(w, p.Values...)
	}
	return w
}
