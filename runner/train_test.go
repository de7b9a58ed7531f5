package runner

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
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

func readMetrics(t *testing.T, dir string) []EpochMetrics {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ms []EpochMetrics
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m EpochMetrics
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("metrics.jsonl: %v", err)
		}
		ms = append(ms, m)
	}
	return ms
}

// TestRunLearnsAndResumes trains a small MNIST subset end to end: both arms
// learn far above chance, the run writes every file, and a run interrupted
// after its second epoch and resumed ends with exactly the same numbers.
func TestRunLearnsAndResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on MNIST")
	}
	exp := experiment(t, subset)
	whole := filepath.Join(t.TempDir(), "whole")
	var table strings.Builder
	s, err := Run(exp, RunOptions{Out: whole, Stdout: &table})
	if err != nil {
		t.Fatal(err)
	}
	// 2,000 training images, 3 epochs (120 steps): with this seed GLR
	// reaches ≈76 % and BP ≈82 %; 10 classes give 10 % by chance, so 60 %
	// fails only if training is broken.
	for _, a := range s.Arms {
		if a.FinalTestAccuracy < 0.6 {
			t.Errorf("arm %s: final test accuracy %.3f, want ≥ 0.6", a.Name, a.FinalTestAccuracy)
		}
	}
	for _, f := range []string{"metrics.jsonl", "summary.json", "resolved.toml", "curves.png", "checkpoints/glr.ckpt", "checkpoints/bp.ckpt"} {
		if _, err := os.Stat(filepath.Join(whole, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	if !strings.Contains(table.String(), "glr") || !strings.Contains(table.String(), "final acc") {
		t.Errorf("table:\n%s", table.String())
	}
	want := readMetrics(t, whole)
	if len(want) != 6 {
		t.Fatalf("metrics.jsonl has %d lines, want 6", len(want))
	}

	// Interrupt the glr arm after its second epoch, then resume.
	part := filepath.Join(t.TempDir(), "part")
	ctx, cancel := context.WithCancel(context.Background())
	_, err = Run(exp, RunOptions{Out: part, Context: ctx, OnEpoch: func(m EpochMetrics) {
		if m.Arm == "glr" && m.Epoch == 2 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: err = %v, want context.Canceled", err)
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
		w, g := want[i], got[i]
		if g.Arm != w.Arm || g.Epoch != w.Epoch || g.TrainLoss != w.TrainLoss || g.TestLoss != w.TestLoss || g.TestAccuracy != w.TestAccuracy {
			t.Errorf("line %d: resumed %+v\nuninterrupted %+v", i+1, g, w)
		}
	}

	// An existing run is never overwritten.
	if _, err := Run(exp, RunOptions{Out: whole}); !errors.Is(err, ErrRunExists) {
		t.Errorf("second run into %s: err = %v, want ErrRunExists", whole, err)
	}
}

// TestRunStopsOnNaN: a learning rate that blows the weights up stops the
// run with a message naming the last good checkpoint.
func TestRunStopsOnNaN(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on MNIST")
	}
	// Without a baseline the raw losses, already huge, multiply the step.
	exp := experiment(t, subset, "optimizer.learning_rate=1e12", "estimator.baseline=none")
	_, err := Run(exp, RunOptions{Out: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "training cannot go on") || !strings.Contains(err.Error(), "last good checkpoint") {
		t.Fatalf("err = %v, want a non-finite loss stop", err)
	}
}

func TestResumeNotARun(t *testing.T) {
	if _, err := Resume(t.TempDir(), RunOptions{}); err == nil || !strings.Contains(err.Error(), "is not a run directory") {
		t.Fatalf("err = %v", err)
	}
}
