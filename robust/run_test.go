package robust

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/glr-project/glr/configs"
	"github.com/glr-project/glr/datasets"
	"github.com/glr-project/glr/models"
)

// TestEvaluateErrors checks that bad settings and models are errors before
// anything is evaluated, with their exact messages.
func TestEvaluateErrors(t *testing.T) {
	trained, test := load(t, "tiny-bp")
	small, err := datasets.NewSet("small", 14, 14, 10, make([]byte, 196), []int{0})
	if err != nil {
		t.Fatal(err)
	}
	s := settings(SetClean)
	tests := []struct {
		name    string
		trained []*models.Trained
		test    *datasets.Set
		s       func(*configs.Robustness)
		want    string
	}{
		{"no models", nil, test, nil, "robust: no models"},
		{"unknown set", trained, test, func(s *configs.Robustness) { s.Sets = []string{"snow"} },
			`robust: settings: sets: unknown set "snow" (want ` + strings.Join(AllSets(), " | ") + `)`},
		{"no substitute", trained, test, func(s *configs.Robustness) { s.Sets = []string{SetFGSMTransfer} },
			`robust: settings: substitute: the set fgsm-transfer is crafted on a substitute model, and none is given: set substitute.run (a run directory or checkpoint), substitute.train (a shipped experiment to train, e.g. "substitute-mnist") or protocol = "glr-adv", or leave it out of the sets`},
		{"negative n", trained, test, func(s *configs.Robustness) { s.N = -1 },
			"robust: settings: n: must be >= 0 (0 for every test image), got -1"},
		{"zero queries", trained, test, func(s *configs.Robustness) { s.Attack.Queries = 0 },
			"robust: settings: attack.queries: must be >= 1, got 0"},
		{"same model twice", append(trained, trained...), test, nil,
			"robust: two models are named tiny-bp (from " + trained[0].Run + " and " + trained[0].Run + ")"},
		{"model does not fit", trained, small, nil, `robust: model tiny-bp does not fit 1×14×14 images of 10 classes: checkpoint: arm "tiny-bp": parameters do not fit the network: parameter 0 is "layer1/W" [785 32] in the checkpoint, "layer1/W" [197 32] in the network`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := s
			if tt.s != nil {
				tt.s(&s)
			}
			_, err := Evaluate(tt.trained, tt.test, Options{Settings: s})
			if err == nil || err.Error() != tt.want {
				t.Errorf("error:\n got %v\nwant %s", err, tt.want)
			}
		})
	}
}

// TestRun runs a small evaluation end to end: the files it writes, a
// robust.json that reads back to the report and records the models'
// hashes and the program's provenance, a robust.toml that decodes back to
// the settings, and a second run into the same directory, refused.
func TestRun(t *testing.T) {
	dirs := trainedModels(t)
	out := filepath.Join(t.TempDir(), "robust")
	s := settings(SetWorst, "gaussian")
	s.Models = []string{dirs["tiny-bp"], dirs["tiny-noisy"]}
	s.Out = out
	s.N = 30
	rep, dir, err := Run(&s, RunOptions{Command: []string{"glr", "robust", "test"}})
	if err != nil {
		t.Fatal(err)
	}
	if dir != out {
		t.Errorf("wrote %s, want %s", dir, out)
	}
	for _, f := range []string{ReportFile, SettingsFile, TableFile, CSVFile, EpsFigure, SeverityFigure} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	// worst ran its ensemble, without the transfer attack (no substitute).
	if want := []string{SetClean, SetSquare, SetHopSkipJump, SetBPDAPGD, SetZOPGD, SetWorst, "gaussian"}; !reflect.DeepEqual(rep.Sets, want) {
		t.Errorf("sets run %v, want %v", rep.Sets, want)
	}

	read, err := ReadReport(filepath.Join(out, ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(rep)
	b, _ := json.Marshal(read)
	if !bytes.Equal(a, b) {
		t.Errorf("robust.json does not read back to the report:\n%s\n%s", a, b)
	}
	if read.Program.GoVersion != runtime.Version() || read.Program.Started.IsZero() || len(read.Program.Command) != 3 || read.Program.Cores < 1 {
		t.Errorf("provenance %+v", read.Program)
	}
	if len(read.Models) != 2 {
		t.Fatalf("%d models recorded, want 2", len(read.Models))
	}
	for _, m := range read.Models {
		data, err := os.ReadFile(m.Checkpoint)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		exp, err := configs.Load(filepath.Join(m.Run, "resolved.toml"))
		if err != nil {
			t.Fatal(err)
		}
		if m.CheckpointSHA256 != hex.EncodeToString(sum[:]) || m.ConfigHash != exp.Hash() || m.Epoch != exp.Train.Epochs {
			t.Errorf("model %s: recorded %+v, file hash %x, config hash %s", m.Name, m, sum, exp.Hash())
		}
	}
	if !read.Models[1].Noisy || read.Models[0].Noisy {
		t.Errorf("noisy flags %v, %v", read.Models[0].Noisy, read.Models[1].Noisy)
	}

	again, err := configs.LoadRobustness(filepath.Join(out, SettingsFile))
	if err != nil {
		t.Fatal(err)
	}
	again.Source = ""
	if !reflect.DeepEqual(*again, read.Settings) {
		t.Errorf("robust.toml decodes to\n%+v\nrobust.json holds\n%+v", *again, read.Settings)
	}

	before, _ := os.ReadFile(filepath.Join(out, ReportFile))
	if _, _, err := Run(&s, RunOptions{}); !errors.Is(err, ErrReportExists) {
		t.Errorf("second run into %s: error %v, want ErrReportExists", out, err)
	}
	if after, _ := os.ReadFile(filepath.Join(out, ReportFile)); !bytes.Equal(before, after) {
		t.Error("the second run changed robust.json")
	}
	// A report written by another run over this one is refused too.
	if err := rep.WriteFiles(out); !errors.Is(err, ErrReportExists) {
		t.Errorf("WriteFiles over robust.json: %v", err)
	}
}

// TestRunErrors checks the output directory and substitute problems that
// Run finds before it evaluates anything, with their messages, and that it
// leaves nothing behind.
func TestRunErrors(t *testing.T) {
	dirs := trainedModels(t)
	tmp := t.TempDir()
	file := filepath.Join(tmp, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	done := filepath.Join(tmp, "done")
	if err := os.Mkdir(done, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(done, ReportFile), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A substitute directory holding another run than the one to train.
	other := filepath.Join(tmp, "other")
	if err := os.CopyFS(filepath.Join(other, substituteDir), os.DirFS(dirs["tiny-bp"])); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		s    func(*configs.Robustness)
		want string
	}{
		{"out is a file", func(s *configs.Robustness) { s.Out = file }, "robust: output directory " + file + " is a file"},
		{"out under a file", func(s *configs.Robustness) { s.Out = filepath.Join(file, "x") }, "robust: output directory: stat " + filepath.Join(file, "x") + ": not a directory"},
		{"out holds a report", func(s *configs.Robustness) { s.Out = done },
			"robust: output directory " + done + " already holds a robustness report (robust.json), which is never overwritten: choose another"},
		{"missing model", func(s *configs.Robustness) {
			s.Models = []string{filepath.Join(tmp, "nope")}
			s.Out = filepath.Join(tmp, "o1")
		},
			"robust: load model: stat " + filepath.Join(tmp, "nope") + ": no such file or directory"},
		{"another substitute", func(s *configs.Robustness) {
			s.Sets = []string{SetFGSMTransfer}
			s.Substitute.Train = "substitute-mnist"
			s.Out = other
		}, "robust: substitute: " + filepath.Join(other, substituteDir) + " holds another run than substitute-mnist with seed 3, or an unfinished one; remove it, or name it as the substitute run"},
		{"invalid settings", func(s *configs.Robustness) { s.Severities = []int{9}; s.Sets = []string{"fog"} },
			"robust: severities: 9 is outside [1, 5]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := settings(SetClean)
			s.Models = []string{dirs["tiny-bp"]}
			tt.s(&s)
			_, _, err := Run(&s, RunOptions{})
			if err == nil || err.Error() != tt.want {
				t.Errorf("error:\n got %v\nwant %s", err, tt.want)
			}
		})
	}
	entries, _ := os.ReadDir(tmp)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"done", "file", "other"}; !reflect.DeepEqual(names, want) {
		t.Errorf("the failed runs left %v, want %v", names, want)
	}
	for _, d := range []string{done, other} {
		if _, err := os.Stat(filepath.Join(d, TableFile)); err == nil {
			t.Errorf("a failed run wrote into %s", d)
		}
	}
}
