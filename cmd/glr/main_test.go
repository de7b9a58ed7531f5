package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/glr-project/glr/runner"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "exp.toml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// tiny trains in a fraction of a second: 300 images of the embedded MNIST,
// a 785-8-10 sigmoid network, one epoch.
const tiny = `name = "tiny"
seed = 2
[model]
hidden = [8]
activation = "sigmoid"
[estimator]
kind = "glr"
copies = 2
[data]
train_limit = 300
test_limit = 100
[train]
epochs = 1
`

// glr runs the command line args in this process and returns its exit
// code, standard output and standard error.
func glr(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// checkPrefix fails the test for a line of stderr whose prefixes name one
// thing twice, as "glr compare: compare: ..." or "bp: warning: bp: ..." do.
func checkPrefix(t *testing.T, stderr string) {
	t.Helper()
	for _, line := range strings.Split(stderr, "\n") {
		parts := strings.Split(line, ": ")
		seen := map[string]bool{}
		for _, p := range parts[:len(parts)-1] {
			words := strings.Fields(p)
			if len(words) == 0 || len(words) > 3 {
				break // the message itself
			}
			last := words[len(words)-1]
			if seen[last] {
				t.Errorf("%q is named twice in %q", last, line)
			}
			seen[last] = true
		}
	}
}

func TestCommandErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.toml")
	cfg := writeConfig(t, tiny)
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no command", nil, 2, "Usage:"},
		{"unknown command", []string{"train"}, 2, `unknown command "train"`},
		{"no config", []string{"gradcheck"}, 2, "want one CONFIG file or shipped NAME, got 0 arguments"},
		{"two configs", []string{"gradcheck", "a.toml", "b.toml"}, 2, "got 2 arguments"},
		{"bad flag", []string{"gradcheck", "a.toml", "-draws", "many"}, 2, "invalid value"},
		{"bad -set", []string{"gradcheck", "a.toml", "-set", "noequals"}, 2, "want key=value"},
		{"missing file", []string{"gradcheck", missing}, 1, "nope.toml"},
		{"unknown key", []string{"gradcheck", writeConfig(t, "name = \"x\"\n[model]\nwidth = 3\n")}, 1, "exp.toml:3: model.width"},
		{"bad scale", []string{"gradcheck", cfg, "-set", "noise.scale=0"}, 1, "noise.scale"},
		{"gradcheck one draw", []string{"gradcheck", cfg, "-draws", "1"}, 1, "glr gradcheck: -draws must be at least 2, got 1"},
		{"compare one draw", []string{"compare", cfg, "-draws", "1"}, 1, "glr compare: -draws must be at least 2, got 1"},
		{"compare one reference draw", []string{"compare", cfg, "-ref-draws", "1"}, 1, "glr compare: -ref-draws must be at least 2, got 1"},
		{"compare bad copies", []string{"compare", cfg, "-copies", "2,x"}, 2, "-copies: want a comma-separated list of integers"},
		{"run without config", []string{"run"}, 2, "want one CONFIG file or shipped NAME"},
		{"run unknown name", []string{"run", "mnist-lrx"}, 1, `no shipped experiment "mnist-lrx"`},
		{"run resume with config", []string{"run", "-resume", "x", "a.toml"}, 2, "-resume DIR takes no CONFIG"},
		{"resume a non-run", []string{"run", "-resume", t.TempDir()}, 1, "is not a run directory"},
		{"run unknown key", []string{"run", writeConfig(t, "name = \"x\"\n[train]\nepoch = 3\n")}, 1, "exp.toml:3: train.epoch"},
		{"run bad seeds", []string{"run", cfg, "-seeds", "1,x"}, 2, "-seeds: want a comma-separated list of seeds"},
		{"run seed twice", []string{"run", cfg, "-seeds", "1,2,1"}, 2, "-seeds: seed 1 is given twice"},
		{"summarize nothing", []string{"summarize"}, 2, "want at least one run directory"},
		{"summarize a non-run", []string{"summarize", t.TempDir()}, 1, "is not a finished run"},
		{"eval nothing", []string{"eval"}, 2, "want one RUN_DIR or CHECKPOINT, got 0 arguments"},
		{"eval a non-run", []string{"eval", t.TempDir()}, 1, "is not a run directory"},
		{"eval bad data", []string{"eval", "x", "-data", "val"}, 2, `-data: want test or train, got "val"`},
		{"export without -out", []string{"export", "x"}, 2, "want one RUN_DIR or CHECKPOINT and -out FILE.npz"},
		{"export to zip", []string{"export", "x", "-out", "m.zip"}, 2, "want a file name ending in .npz"},
		{"version argument", []string{"version", "extra"}, 2, "version takes no arguments"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := glr(t, c.args...)
			if code != c.code || !strings.Contains(stderr, c.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, stderr, c.code, c.want)
			}
			checkPrefix(t, stderr)
		})
	}
}

// TestHugeConfigs: sizes that crashed, exhausted memory or hung the
// program are clear errors naming the key, found before any data is read
// (the data path here does not exist, and is not what the error is about).
func TestHugeConfigs(t *testing.T) {
	layers := func(n, width int) string {
		ws := make([]string, n)
		for i := range ws {
			ws[i] = "1"
			if width > 1 {
				ws[i] = "5"
			}
		}
		return "name = \"huge\"\n[model]\nhidden = [" + strings.Join(ws, ",") + "]\n[data]\npath = \"" + filepath.Join(t.TempDir(), "no-data") + "\"\n"
	}
	noData := "-set=data.path=" + filepath.Join(t.TempDir(), "no-data")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"a hidden layer of 10^8 units", []string{"run", writeConfig(t, "name = \"huge\"\n[model]\nhidden = [100000000]\n"), noData}, "exp.toml:3: model.hidden[0]: width 100000000 exceeds the limit of 65536"},
		{"10^9 copies", []string{"run", writeConfig(t, "name = \"huge\"\n[estimator]\nkind = \"glr\"\ncopies = 1000000000\n"), noData}, "exp.toml:4: estimator.copies"},
		{"-set of 10^8 units", []string{"run", writeConfig(t, tiny), noData, "-set", "model.hidden=[100000000]"}, "-set model.hidden[0]: width 100000000 exceeds the limit"},
		{"2,000,000 hidden layers", []string{"run", writeConfig(t, layers(2000000, 1))}, "exp.toml:3: model.hidden: 2000000 hidden layers exceed the limit of 64"},
		{"10,400 hidden layers", []string{"run", writeConfig(t, layers(10400, 5))}, "exp.toml:3: model.hidden: 10400 hidden layers exceed the limit of 64"},
		{"gradcheck of 10^8 units", []string{"gradcheck", writeConfig(t, tiny), noData, "-set", "model.hidden=[100000000]"}, "model.hidden[0]"},
		{"compare of 10^9 copies", []string{"compare", writeConfig(t, tiny), noData, "-copies", "1000000000"}, "-copies: 1000000000 is outside [1, "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			type result struct {
				code   int
				stderr string
			}
			done := make(chan result, 1)
			go func() {
				code, _, stderr := glr(t, c.args...)
				done <- result{code, stderr}
			}()
			select {
			case r := <-done:
				if r.code != 1 || !strings.Contains(r.stderr, c.want) || strings.Contains(r.stderr, "no-data") {
					t.Fatalf("exit %d, stderr %.500q; want exit 1 and %q, before the data are read", r.code, r.stderr, c.want)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("no answer after 30 s")
			}
		})
	}
}

// TestRunCommand trains a tiny experiment through the command line, then
// refuses to overwrite its directory.
func TestRunCommand(t *testing.T) {
	cfg := writeConfig(t, tiny)
	out := filepath.Join(t.TempDir(), "run")
	code, stdout, stderr := glr(t, "run", cfg, "-out", out, "-set", "data.train_limit=200")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, f := range []string{"metrics.jsonl", "summary.json", "resolved.toml", "curves.png", "checkpoints/00-tiny.ckpt"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	if !strings.Contains(stdout, "final acc") {
		t.Errorf("no table on stdout: %q", stdout)
	}
	code, _, stderr = glr(t, "run", cfg, "-out", out)
	if code != 1 || !strings.Contains(stderr, out+" holds a run; continue it with glr run -resume "+out) {
		t.Fatalf("second run into %s: exit %d, %s", out, code, stderr)
	}
	checkPrefix(t, stderr)
}

// TestRunShippedName runs a shipped experiment by its name, made tiny with
// -set, from a directory that holds no configs.
func TestRunShippedName(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	code, _, stderr := glr(t, "run", "mnist-lrs", "-out", out, "-set", "data.train_limit=200", "-set", "data.test_limit=100", "-set", "train.epochs=1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s runner.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if s.Experiment != "mnist-lrs" || len(s.Arms) != 1 || s.Arms[0].Epochs != 1 || s.Arms[0].Estimator != "glr K=10" {
		t.Fatalf("summary %+v, want one epoch of mnist-lrs's glr K=10 arm", s)
	}
}

// TestRunSeeds runs one directory per seed and prints the summarize table
// over them.
func TestRunSeeds(t *testing.T) {
	out := filepath.Join(t.TempDir(), "seeds")
	code, stdout, stderr := glr(t, "run", writeConfig(t, tiny), "-seeds", "1,2,3", "-out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, seed := range []string{"1", "2", "3"} {
		if !strings.Contains(stderr, "glr run tiny: seed "+seed+" in "+filepath.Join(out, "seed-"+seed)) {
			t.Errorf("stderr does not name seed %s's directory:\n%s", seed, stderr)
		}
		if _, err := os.Stat(filepath.Join(out, "seed-"+seed, "summary.json")); err != nil {
			t.Error(err)
		}
	}
	if !regexp.MustCompile(`\| tiny \| tiny \| glr K=2 \| cross-entropy \| 3 \(1, 2, 3\) \| \d+\.\d\d ± \d+\.\d\d \|`).MatchString(stdout) {
		t.Errorf("no summarize row for the three seeds:\n%s", stdout)
	}

	one, two := filepath.Join(out, "seed-1"), filepath.Join(out, "seed-2")
	code, sum, stderr := glr(t, "summarize", one, two)
	if code != 0 || !strings.Contains(sum, "| 2 (1, 2) |") {
		t.Errorf("summarize of two seeds: exit %d, %s%s", code, sum, stderr)
	}
	code, _, stderr = glr(t, "summarize", one, two, one)
	if want := "glr summarize: the run " + one + " is given twice (also as " + one + ")\n"; code != 1 || stderr != want {
		t.Errorf("summarize of a run twice: exit %d, %q; want 1, %q", code, stderr, want)
	}
	other := filepath.Join(t.TempDir(), "lr")
	if code, _, stderr := glr(t, "run", writeConfig(t, tiny), "-out", other, "-set", "seed=4", "-set", "optimizer.learning_rate=0.3"); code != 0 {
		t.Fatal(stderr)
	}
	code, _, stderr = glr(t, "summarize", one, other)
	if want := "glr summarize: runs " + one + " and " + other + " of tiny differ in more than the seed (first in optimizer.learning_rate); summarize them separately\n"; code != 1 || stderr != want {
		t.Errorf("summarize of two configs: exit %d, %q; want 1, %q", code, stderr, want)
	}
}

func TestVersion(t *testing.T) {
	code, stdout, stderr := glr(t, "version")
	if code != 0 || !strings.HasPrefix(stdout, "glr github.com/glr-project/glr ") || !strings.Contains(stdout, runtime.Version()) || !strings.Contains(stdout, "cores") {
		t.Fatalf("exit %d, %q (%s)", code, stdout, stderr)
	}
	code, stdout, _ = glr(t, "version", "-json")
	var info map[string]any
	if err := json.Unmarshal([]byte(stdout), &info); code != 0 || err != nil {
		t.Fatalf("exit %d, %v: %s", code, err, stdout)
	}
	for _, k := range []string{"module", "version", "revision", "go_version", "cpu", "cores", "started", "modules"} {
		if _, ok := info[k]; !ok {
			t.Errorf("glr version -json lacks %q: %s", k, stdout)
		}
	}
	if info["go_version"] != runtime.Version() || info["cores"] != float64(runtime.NumCPU()) {
		t.Errorf("go_version %v, cores %v", info["go_version"], info["cores"])
	}
}
