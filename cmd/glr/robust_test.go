package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/glr-project/glr/configs"
	"github.com/glr-project/glr/robust"
	"github.com/glr-project/glr/runner"
)

// tinyRun is a small backpropagation model, trained once per test binary on
// an MNIST subset (about a second).
const tinyRun = `
name = "tiny"
seed = 2
[model]
hidden = [16]
activation = "sigmoid"
[estimator]
kind = "bp"
[data]
train_limit = 1000
test_limit = 100
batch_size = 50
[optimizer]
kind = "adam"
learning_rate = 0.01
[train]
epochs = 2
`

var (
	tinyOnce sync.Once
	tinyDir  string
	tinyErr  error
)

func trainedTiny(t *testing.T) string {
	t.Helper()
	tinyOnce.Do(func() {
		exp, err := configs.Parse("tiny.toml", []byte(tinyRun))
		if err != nil {
			tinyErr = err
			return
		}
		if tinyDir, tinyErr = os.MkdirTemp("", "glr-robust-cmd-"); tinyErr != nil {
			return
		}
		tinyDir = filepath.Join(tinyDir, "tiny")
		_, _, tinyErr = runner.Run(exp, runner.RunOptions{Out: tinyDir})
	})
	if tinyErr != nil {
		t.Fatal(tinyErr)
	}
	return tinyDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if tinyDir != "" {
		os.RemoveAll(filepath.Dir(tinyDir))
	}
	os.Exit(code)
}

// robustRun runs glr robust with args and returns its exit code, standard
// output and standard error.
func robustRun(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"robust"}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestRobustBadInput checks that bad flags, settings, files and output
// directories are errors before any evaluation starts (nothing is written
// in the working directory), with their exact messages and no repeated
// prefixes.
func TestRobustBadInput(t *testing.T) {
	model := trainedTiny(t)
	tmp := t.TempDir()
	t.Chdir(tmp)
	if err := os.WriteFile("file", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir("done", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("done", robust.ReportFile), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("bad.toml", []byte("models = [\"a\"]\n[attack]\nquerys = 5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("nosub.toml", []byte("models = [\"a\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	setup := []string{"bad.toml", "done", "file", "nosub.toml"}
	all := strings.Join(robust.AllSets(), " | ")
	tests := []struct {
		name string
		args []string
		code int
		want string // the last line of standard error
	}{
		{"no model", nil, 2, "glr robust: want at least one MODEL, or -config FILE"},
		{"default sets without substitute", []string{model}, 2,
			"glr robust: the default sets, the glr-adv protocol's (clean, fgsm-transfer, lbfgs-transfer, gaussian, impulse, glass-blur-glr-adv, contrast), include fgsm-transfer and lbfgs-transfer, which are crafted on a substitute model, and none is given: add -protocol glr-adv to train the shipped substitute (configs/substitute-mnist.toml) into OUT/substitute, name one with -substitute RUN_DIR, or choose -sets without transfer attacks, e.g. -sets clean,square,hopskipjump,bpda-pgd,zo-pgd,worst"},
		{"transfer set without substitute", []string{"-sets", "clean,fgsm-transfer", model}, 2,
			"glr robust: -sets: fgsm-transfer is crafted on a substitute model, and none is given: name one with -substitute RUN_DIR, train one with -train-substitute NAME (e.g. substitute-mnist), or leave fgsm-transfer out"},
		{"fractional severity", []string{"-severities", "2.5", model}, 2, `glr robust: invalid value "2.5" for flag -severities: 2.5 is not an integer`},
		{"negative n", []string{"-n", "-1", "-sets", "clean", model}, 2, "glr robust: -n: must be >= 0 (0 for every test image), got -1"},
		{"unknown attack flag", []string{"-querys", "5", model}, 2, "glr robust: flag provided but not defined: -querys"},
		{"unknown attack key", []string{"-config", "bad.toml"}, 2, `glr robust: bad.toml:3: attack.querys: unknown key (did you mean "queries"?)`},
		{"file without substitute", []string{"-config", "nosub.toml"}, 2,
			`glr robust: nosub.toml: substitute: the sets fgsm-transfer and lbfgs-transfer are crafted on a substitute model, and none is given: set substitute.run (a run directory or checkpoint), substitute.train (a shipped experiment to train, e.g. "substitute-mnist") or protocol = "glr-adv", or leave them out of the sets`},
		{"missing file", []string{"-config", "missing.toml"}, 2, "glr robust: loading robustness file: open missing.toml: no such file or directory"},
		{"unknown set", []string{"-sets", "clean,snow", model}, 2, `glr robust: -sets: unknown set "snow" (want ` + all + `)`},
		{"eot is no set", []string{"-sets", "eot", model}, 2, `glr robust: -sets: "eot" is not a set: attack.eot (-eot) draws are averaged by every gradient attack on a model that predicts with noise`},
		{"old protocol", []string{"-protocol", "seed", model}, 2, `glr robust: -protocol: unknown protocol "seed" (want "glr-adv", its new name)`},
		{"protocol and sets", []string{"-protocol", "glr-adv", "-sets", "clean", model}, 2,
			`glr robust: -sets: protocol "glr-adv" fixes the sets (clean, fgsm-transfer, lbfgs-transfer, gaussian, impulse, glass-blur-glr-adv, contrast); leave them out`},
		{"eps", []string{"-eps", "0.1,x", model}, 2, `glr robust: invalid value "0.1,x" for flag -eps: "x" is not a number`},
		{"eps out of range", []string{"-eps", "0.1,1.5", "-sets", "square", model}, 2, "glr robust: -eps: 1.5 is outside [0, 1]"},
		{"eot draws", []string{"-eot", "0", "-sets", "clean", model}, 2, "glr robust: -eot: must be >= 1, got 0"},
		{"surrogate", []string{"-bpda", "zero", "-sets", "clean", model}, 2, `glr robust: -bpda: unknown surrogate "zero" (want identity | sigmoid)`},
		{"negative seed", []string{"-seed", "-1", model}, 2, `glr robust: invalid value "-1" for flag -seed: "-1" is not a non-negative integer`},
		{"out is a file", []string{"-out", "file", "-sets", "clean", model}, 1, "glr robust: output directory file is a file"},
		{"out holds a report", []string{"-out", "done", "-sets", "clean", model}, 1,
			"glr robust: output directory done already holds a robustness report (robust.json), which is never overwritten: choose another"},
		{"missing model", []string{"-out", "o", "-sets", "clean", "nope"}, 1, "glr robust: load model: stat nope: no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := robustRun(tt.args...)
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if code != tt.code || lines[len(lines)-1] != tt.want {
				t.Errorf("exit %d, stderr ends\n%s\nwant exit %d and\n%s", code, lines[len(lines)-1], tt.code, tt.want)
			}
			if stdout != "" {
				t.Errorf("stdout %q", stdout)
			}
			if strings.Contains(stderr, "robust: robust:") {
				t.Errorf("repeated prefix in %q", stderr)
			}
			entries, _ := os.ReadDir(".")
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			if !slices.Equal(names, setup) {
				t.Errorf("the working directory holds %v, want %v", names, setup)
			}
			if _, err := os.Stat(filepath.Join("done", robust.TableFile)); err == nil {
				t.Error("a refused run wrote into done")
			}
		})
	}
}

// TestRobustRerun runs a small evaluation, then runs it again from the
// robust.toml it recorded into another directory: the rows are the same.
// Flags given with -config replace the file's values.
func TestRobustRerun(t *testing.T) {
	model := trainedTiny(t)
	t.Chdir(t.TempDir())
	args := []string{model, "-sets", "clean,square,hopskipjump,worst,fog", "-eps", "0.1,0.2", "-severities", "3",
		"-n", "20", "-queries", "40", "-hsj-queries", "100", "-seed", "5", "-json"}
	code, first, stderr := robustRun(args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "glr robust: wrote "+filepath.Join("runs", "robust")+"\n") {
		t.Errorf("stderr does not name the default directory:\n%s", stderr)
	}
	var rows []robust.Row
	if err := json.Unmarshal([]byte(first), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+2+2+2+1 {
		t.Errorf("%d rows, want 8: %v", len(rows), rows)
	}
	code, again, stderr := robustRun("-config", filepath.Join("runs", "robust", robust.SettingsFile), "-out", "again", "-json")
	if code != 0 {
		t.Fatalf("rerun: exit %d: %s", code, stderr)
	}
	if again != first {
		t.Errorf("the rerun gives\n%s\nthe run gave\n%s", again, first)
	}
	rep, err := robust.ReadReport(filepath.Join("again", robust.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Settings.Out != "again" || rep.Settings.N != 20 || rep.Settings.Attack.Queries != 40 {
		t.Errorf("recorded settings %+v", rep.Settings)
	}
	// A flag replaces the file's value.
	code, out, stderr := robustRun("-config", filepath.Join("runs", "robust", robust.SettingsFile), "-out", "third", "-n", "10", "-sets", "clean", "-json")
	if code != 0 {
		t.Fatalf("override: exit %d: %s", code, stderr)
	}
	if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != 1 {
		t.Errorf("override rows %s, %v", out, err)
	}
}
