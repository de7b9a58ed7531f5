package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/glr-project/glr/runner"
)

// checkScript and mnistDir are scripts/check_export.py and the embedded
// MNIST files, relative to this package.
var (
	checkScript = filepath.Join("..", "..", "scripts", "check_export.py")
	mnistDir    = filepath.Join("..", "..", "datasets", "mnistdata")
)

// numpyPython returns a Python 3 that imports numpy ($PYTHON, python3 on
// the PATH, or Debian's /usr/bin/python3, which apt-get install
// python3-numpy equips), or skips the test.
func numpyPython(t *testing.T) string {
	t.Helper()
	python.once.Do(func() {
		for _, c := range []string{os.Getenv("PYTHON"), "python3", "/usr/bin/python3"} {
			if c == "" {
				continue
			}
			if p, err := exec.LookPath(c); err == nil && exec.Command(p, "-c", "import numpy").Run() == nil {
				python.path = p
				return
			}
		}
	})
	if python.path == "" {
		t.Skip("no Python with numpy (apt-get install python3-numpy, or set $PYTHON)")
	}
	return python.path
}

var python struct {
	once sync.Once
	path string
}

func readSummary(t *testing.T, dir string) *runner.Summary {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s runner.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

// TestEvalAndExport trains small models on 2,000 MNIST images, evaluated on
// the whole test set, then checks that glr eval gives the run's final test
// accuracy and a confusion matrix that adds up to it, and that the NumPy
// export, run by scripts/check_export.py with NumPy alone, reproduces that
// accuracy exactly: the script prints it to 4 decimals, which over 10,000
// images is the exact count of correct predictions.
func TestEvalAndExport(t *testing.T) {
	if testing.Short() {
		t.Skip("trains and evaluates on the whole MNIST test set")
	}
	py := numpyPython(t)
	if b, err := os.ReadFile(checkScript); err != nil || len(b) == 0 {
		t.Fatalf("read %s: %v", checkScript, err) // also makes the script an input of go test's cache
	}
	cases := []struct {
		name string
		sets []string
	}{
		{"bp, sigmoid, input bias", []string{"estimator.kind=bp", "estimator.copies=1"}},
		{"bp, relu, biases everywhere, two layers", []string{"estimator.kind=bp", "estimator.copies=1", `model.activation="relu"`, `model.bias="all"`, "model.hidden=[16,12]", "optimizer.learning_rate=0.1"}},
		{"glr, threshold", []string{`model.activation="threshold"`, `noise.distribution="gaussian"`, "noise.scale=0.5", `estimator.baseline="leave-one-out"`, "estimator.copies=8", "optimizer.learning_rate=0.2"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			args := []string{"run", writeConfig(t, tiny), "-out", dir, "-set", "data.train_limit=2000", "-set", "data.batch_size=20", "-set", "train.epochs=2",
				"-set", "data.test_limit=0", "-set", "model.hidden=[16]", "-set", "optimizer.learning_rate=0.5"}
			for _, s := range c.sets {
				args = append(args, "-set", s)
			}
			if code, _, stderr := glr(t, args...); code != 0 {
				t.Fatalf("run: exit %d: %s", code, stderr)
			}
			final := readSummary(t, dir).Arms[0].FinalTestAccuracy
			// Far from chance, so that a wrongly laid-out export shows.
			if final < 0.5 {
				t.Fatalf("final test accuracy %.4f: the model did not learn enough to test its export", final)
			}

			code, stdout, stderr := glr(t, "eval", dir, "-json")
			if code != 0 {
				t.Fatalf("eval: exit %d: %s", code, stderr)
			}
			var evals []evalResult
			if err := json.Unmarshal([]byte(stdout), &evals); err != nil || len(evals) != 1 {
				t.Fatalf("eval -json: %v: %s", err, stdout)
			}
			e := evals[0]
			total, correct := 0, 0
			for i, row := range e.Confusion {
				for j, n := range row {
					total += n
					if i == j {
						correct += n
					}
				}
			}
			if e.Accuracy != final || total != 10000 || float64(correct)/10000 != final || e.Data != "mnist/test" {
				t.Fatalf("eval: accuracy %v on %s, confusion of %d with %d right; the run's final test accuracy is %v over 10,000", e.Accuracy, e.Data, total, correct, final)
			}
			code, stdout, _ = glr(t, "eval", dir)
			if code != 0 || !strings.Contains(stdout, fmt.Sprintf("accuracy %.2f%%", 100*final)) || !strings.Contains(stdout, "true\\pred") {
				t.Fatalf("eval: exit %d:\n%s", code, stdout)
			}

			npz := filepath.Join(t.TempDir(), "model.npz")
			if code, _, stderr := glr(t, "export", dir, "-out", npz); code != 0 {
				t.Fatalf("export: exit %d: %s", code, stderr)
			}
			js := filepath.Join(filepath.Dir(npz), "model.json")
			out, err := exec.Command(py, checkScript, npz, js, mnistDir).CombinedOutput()
			if err != nil {
				t.Fatalf("check_export.py: %v\n%s", err, out)
			}
			if want := fmt.Sprintf("accuracy %.4f\n", final); string(out) != want {
				t.Fatalf("check_export.py printed %q; the run's final test accuracy is %q", out, want)
			}
			if code, _, stderr := glr(t, "export", dir, "-out", npz); code != 1 || !strings.Contains(stderr, "exists; export never overwrites") {
				t.Fatalf("second export: exit %d: %s", code, stderr)
			}
		})
	}
}
