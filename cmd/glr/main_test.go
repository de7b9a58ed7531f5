package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "exp.toml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const tiny = `name = "tiny"
seed = 2
[model]
hidden = [8]
activation = "sigmoid"
[estimator]
copies = 2
[data]
train_limit = 500
`

// TestGradcheckOnMNIST runs the command end to end on real MNIST, flags
// after the config file, and reads its JSON.
func TestGradcheckOnMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("loads MNIST")
	}
	var out, errOut bytes.Buffer
	code := run([]string{"gradcheck", writeConfig(t, tiny), "-draws", "4", "-batch", "5", "-json"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errOut.String())
	}
	var r struct {
		Layers []struct {
			Name     string   `json:"name"`
			Cosine   *float64 `json:"cosine"`
			Variance float64  `json:"variance"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v in %s", err, out.String())
	}
	if len(r.Layers) != 2 || r.Layers[0].Name != "layer1" || r.Layers[0].Cosine == nil {
		t.Fatalf("report %s", out.String())
	}
}

func TestCommandErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.toml")
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no command", nil, 2, "Usage:"},
		{"unknown command", []string{"train"}, 2, `unknown command "train"`},
		{"no config", []string{"gradcheck"}, 2, "want one CONFIG file, got 0 arguments"},
		{"two configs", []string{"gradcheck", "a.toml", "b.toml"}, 2, "got 2 arguments"},
		{"bad flag", []string{"gradcheck", "a.toml", "-draws", "many"}, 2, "invalid value"},
		{"bad -set", []string{"gradcheck", "a.toml", "-set", "noequals"}, 2, "want key=value"},
		{"missing file", []string{"gradcheck", missing}, 1, "nope.toml"},
		{"unknown key", []string{"gradcheck", writeConfig(t, "name = \"x\"\n[model]\nwidth = 3\n")}, 1, "exp.toml:3: model.width"},
		{"bad scale", []string{"gradcheck", writeConfig(t, tiny), "-set", "noise.scale=0"}, 1, "noise.scale"},
		{"run without config", []string{"run"}, 2, "want one CONFIG file"},
		{"run resume with config", []string{"run", "-resume", "x", "a.toml"}, 2, "-resume DIR takes no CONFIG"},
		{"resume a non-run", []string{"run", "-resume", t.TempDir()}, 1, "is not a run directory"},
		{"run unknown key", []string{"run", writeConfig(t, "name = \"x\"\n[train]\nepoch = 3\n")}, 1, "exp.toml:3: train.epoch"},
		{"robust without model", []string{"robust"}, 2, "want at least one MODEL"},
		{"robust missing model", []string{"robust", missing}, 1, "nope.toml"},
		{"robust bad eps", []string{"robust", "m", "-eps", "x"}, 2, `-eps: "x" is not a number`},
		{"robust bad protocol", []string{"robust", "m", "-protocol", "paper"}, 2, `unknown -protocol "paper"`},
		{"summarize nothing", []string{"summarize"}, 2, "want at least one run directory"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(c.args, &out, &errOut)
			if code != c.code || !strings.Contains(errOut.String(), c.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, errOut.String(), c.code, c.want)
			}
		})
	}
}

// TestRunCommand trains a tiny experiment through the command line, then
// refuses to overwrite its directory.
func TestRunCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("loads MNIST")
	}
	cfg := writeConfig(t, tiny+"test_limit = 100\n[train]\nepochs = 1\n")
	out := filepath.Join(t.TempDir(), "run")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"run", cfg, "-out", out, "-set", "data.train_limit=300"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, f := range []string{"metrics.jsonl", "summary.json", "resolved.toml", "curves.png", "checkpoints/tiny.ckpt"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	if !strings.Contains(stdout.String(), "final acc") {
		t.Errorf("no table on stdout: %q", stdout.String())
	}
	stderr.Reset()
	if code := run([]string{"run", cfg, "-out", out}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "holds a run") {
		t.Fatalf("second run into %s: exit %d, %s", out, code, stderr.String())
	}
}
