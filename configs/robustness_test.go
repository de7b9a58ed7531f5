package configs

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/glr-project/glr/corrupt"
)

// TestParseRobustnessErrors checks that every kind of bad robustness file
// is an error naming the file, the line and the key, with the exact
// message, and that the stages stop as documented: syntax, then keys and
// types, then values.
func TestParseRobustnessErrors(t *testing.T) {
	tests := []struct {
		name, src string
		want      string
	}{
		{"syntax", "models = [\"a\"\nn = 3\n",
			`FILE:2: models: invalid TOML: expected a comma (',') or array terminator (']'), but got 'n'`},
		{"unknown key", "models = [\"a\"]\nseeds = 3\n",
			`FILE:2: seeds: unknown key (did you mean "seed"?)`},
		{"unknown attack setting", "models = [\"a\"]\n[attack]\nquerys = 10\n",
			`FILE:3: attack.querys: unknown key (did you mean "queries"?)`},
		{"unknown table", "models = [\"a\"]\n[pgd]\nsteps = 3\n",
			`FILE:2: pgd: unknown key`},
		{"fractional severity", "models = [\"a\"]\nseverities = [2.5]\n",
			`FILE:2: severities: want array of integers, got float 2.5 at index 0`},
		{"string for a number", "models = [\"a\"]\nn = \"10\"\n",
			`FILE:2: n: want integer, got string "10"`},
		{"models not a list", "models = \"a\"\n",
			`FILE:1: models: want array of strings, got string "a"`},
		{"number in sets", "models = [\"a\"]\nsets = [\"clean\", 3]\n",
			`FILE:2: sets: want array of strings, got integer 3 at index 1`},
		{"negative seed", "models = [\"a\"]\nseed = -1\n",
			`FILE:2: seed: must be >= 0, got -1`},
		{"no models", "n = 3\nsets = [\"clean\"]\n",
			`FILE: models: required: at least one run directory or checkpoint file`},
		{"empty model", "models = [\" \"]\nsets = [\"clean\"]\n",
			`FILE:1: models: empty path`},
		{"duplicate model", "models = [\"a\", \"a\"]\nsets = [\"clean\"]\n",
			`FILE:1: models: model "a" is listed twice`},
		{"negative n", "models = [\"a\"]\nn = -1\nsets = [\"clean\"]\n",
			`FILE:2: n: must be >= 0 (0 for every test image), got -1`},
		{"unknown set", "models = [\"a\"]\nsets = [\"clean\", \"snow\"]\n",
			`FILE:2: sets: unknown set "snow" (want ` + strings.Join(RobustSets(), " | ") + `)`},
		{"old glass blur name", "models = [\"a\"]\nsets = [\"glass-blur-seed\"]\n",
			`FILE:2: sets: unknown set "glass-blur-seed" (it is called "glass-blur-glr-adv" now)`},
		{"eot is no set", "models = [\"a\"]\nsets = [\"eot\"]\n",
			`FILE:2: sets: "eot" is not a set: attack.eot (-eot) draws are averaged by every gradient attack on a model that predicts with noise`},
		{"duplicate set", "models = [\"a\"]\nsets = [\"pgd\", \"pgd\"]\n",
			`FILE:2: sets: set "pgd" is listed twice`},
		{"no sets", "models = [\"a\"]\nsets = []\n",
			`FILE:2: sets: empty: name at least one set (` + strings.Join(RobustSets(), " | ") + `)`},
		{"old protocol name", "models = [\"a\"]\nprotocol = \"seed\"\n",
			`FILE:2: protocol: unknown protocol "seed" (want "glr-adv", its new name)`},
		{"protocol and sets", "models = [\"a\"]\nprotocol = \"glr-adv\"\nsets = [\"pgd\"]\n",
			`FILE:3: sets: protocol "glr-adv" fixes the sets (clean, fgsm-transfer, lbfgs-transfer, gaussian, impulse, glass-blur-glr-adv, contrast); leave them out`},
		{"eps out of range", "models = [\"a\"]\nsets = [\"pgd\"]\neps = [0.1, 1.5, -0]\n",
			`FILE:3: eps: 1.5 is outside [0, 1]`},
		{"nan eps", "models = [\"a\"]\nsets = [\"pgd\"]\neps = [nan]\n",
			`FILE:3: eps: nan is outside [0, 1]`},
		{"no eps", "models = [\"a\"]\nsets = [\"square\"]\neps = []\n",
			`FILE:3: eps: empty, but the ε-bounded attacks among the sets need at least one budget`},
		{"no severities", "models = [\"a\"]\nsets = [\"fog\"]\nseverities = []\n",
			`FILE:3: severities: empty, but the corruptions among the sets need at least one severity`},
		{"severity out of range", "models = [\"a\"]\nsets = [\"fog\"]\nseverities = [0, 6]\n",
			"FILE:3: severities: 0 is outside [1, 5]\nFILE:3: severities: 6 is outside [1, 5]"},
		{"no substitute", "models = [\"a\"]\n",
			`FILE: substitute: the sets fgsm-transfer and lbfgs-transfer are crafted on a substitute model, and none is given: set substitute.run (a run directory or checkpoint), substitute.train (a shipped experiment to train, e.g. "substitute-mnist") or protocol = "glr-adv", or leave them out of the sets`},
		{"two substitutes", "models = [\"a\"]\nsets = [\"clean\"]\n[substitute]\nrun = \"r\"\ntrain = \"substitute-mnist\"\n",
			`FILE:5: substitute.train: give substitute.run (a trained substitute) or substitute.train (one to train), not both`},
		{"unknown substitute", "models = [\"a\"]\nsets = [\"clean\"]\n[substitute]\ntrain = \"sub\"\n",
			`FILE:4: substitute.train: no shipped experiment "sub" (have ` + strings.Join(ShippedNames(), ", ") + `)`},
		{"attack settings", "models = [\"a\"]\nsets = [\"clean\"]\n[attack]\nqueries = 0\nhsj_queries = -1\npgd_steps = 0\nrestarts = 0\neot = 0\n",
			"FILE:4: attack.queries: must be >= 1, got 0\nFILE:5: attack.hsj_queries: must be >= 1, got -1\nFILE:6: attack.pgd_steps: must be >= 1, got 0\nFILE:7: attack.restarts: must be >= 1, got 0\nFILE:8: attack.eot: must be >= 1, got 0"},
		{"p_init", "models = [\"a\"]\nsets = [\"clean\"]\n[attack]\np_init = 1.5\n",
			`FILE:4: attack.p_init: must be in (0, 1], got 1.5`},
		{"odd zo samples", "models = [\"a\"]\nsets = [\"clean\"]\n[attack]\nzo_samples = 5\nzo_sigma = 0\n",
			"FILE:4: attack.zo_samples: must be even and >= 2 (the samples come in antithetic pairs), got 5\nFILE:5: attack.zo_sigma: must be > 0 and finite, got 0"},
		{"surrogate", "models = [\"a\"]\nsets = [\"clean\"]\n[attack]\nbpda = \"zero\"\n",
			`FILE:4: attack.bpda: unknown surrogate "zero" (want identity | sigmoid)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "robust.toml")
			if err := os.WriteFile(path, []byte(tt.src), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadRobustness(path)
			if err == nil {
				t.Fatalf("LoadRobustness succeeded, want\n%s", tt.want)
			}
			if got := strings.ReplaceAll(err.Error(), path, "FILE"); got != tt.want {
				t.Errorf("error:\n got %s\nwant %s", got, tt.want)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Errorf("error %T is not an *Error", err)
			}
		})
	}
}

// TestParseRobustnessOverrides checks that overrides replace the file's
// values, that problems with them name the flag, and that problems with
// the file's keys still name the file's lines.
func TestParseRobustnessOverrides(t *testing.T) {
	src := []byte("models = [\"a\"]\nsets = [\"clean\", \"pgd\"]\nn = 5\n[attack]\nqueries = 0\n")
	_, err := ParseRobustness("r.toml", src,
		Override{Key: "n", Flag: "-n", Value: -2},
		Override{Key: "eps", Flag: "-eps", Value: []float64{0.1, 2}})
	want := "-eps: 2 is outside [0, 1]\n-n: must be >= 0 (0 for every test image), got -2\nr.toml:5: attack.queries: must be >= 1, got 0"
	if err == nil || err.Error() != want {
		t.Errorf("error:\n got %v\nwant %s", err, want)
	}

	r, err := ParseRobustness("r.toml", src,
		Override{Key: "n", Flag: "-n", Value: 7},
		Override{Key: "models", Flag: "MODEL", Value: []string{"b", "c"}},
		Override{Key: "attack.queries", Flag: "-queries", Value: 20})
	if err != nil {
		t.Fatal(err)
	}
	if r.N != 7 || !slices.Equal(r.Models, []string{"b", "c"}) || r.Attack.Queries != 20 || !slices.Equal(r.Sets, []string{"clean", "pgd"}) {
		t.Errorf("overrides not applied: %+v", r)
	}

	for _, o := range []Override{
		{Key: "attack.querys", Flag: "-x", Value: 1},
		{Key: "n", Flag: "-n", Value: "3"},
		{Key: "n.x", Flag: "-n", Value: 3},
	} {
		if _, err := ParseRobustness("r.toml", src, o); err == nil || !strings.HasPrefix(err.Error(), o.Flag+": ") {
			t.Errorf("override %+v: error %v, want one naming %s", o, err, o.Flag)
		}
	}

	// No file at all: flags alone.
	r, err = ParseRobustness("", nil, Override{Key: "models", Flag: "MODEL", Value: []string{"run"}},
		Override{Key: "sets", Flag: "-sets", Value: []string{"clean"}})
	if err != nil || r.Models[0] != "run" || r.Seed != 1 {
		t.Errorf("flags alone: %+v, %v", r, err)
	}
}

// TestRobustnessRoundTrip checks that Encode writes every key and that
// decoding the output gives back the same settings.
func TestRobustnessRoundTrip(t *testing.T) {
	src := `models = ["runs/a", "runs/b/checkpoints/arm.ckpt"]
sets = ["clean", "square", "hopskipjump", "bpda-pgd", "zo-pgd", "worst", "fgsm-transfer", "fog"]
eps = [0.1, 0.3]
severities = [2, 5]
n = 300
seed = 9
out = "runs/robust-x"
[substitute]
run = "runs/sub"
[attack]
queries = 500
p_init = 0.1
hsj_queries = 2000
pgd_steps = 40
restarts = 3
zo_samples = 20
zo_sigma = 0.01
bpda = "sigmoid"
eot = 4
`
	r, err := ParseRobustness("r.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := r.Encode(&b); err != nil {
		t.Fatal(err)
	}
	again, err := ParseRobustness("again.toml", b.Bytes())
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	again.Source = r.Source
	if !reflect.DeepEqual(r, again) {
		t.Errorf("round trip:\n got %+v\nwant %+v", again, r)
	}
	// Every key is explicit in the encoding.
	for _, key := range []string{"models", "protocol", "sets", "eps", "severities", "n", "seed", "out", "[substitute]", "run", "train", "[attack]",
		"queries", "p_init", "hsj_queries", "pgd_steps", "restarts", "zo_samples", "zo_sigma", "bpda", "eot"} {
		if !strings.Contains(b.String(), "\n"+key) && !strings.HasPrefix(b.String(), key) {
			t.Errorf("encoding lacks %s:\n%s", key, b.String())
		}
	}
}

// TestRobustnessDefaults checks the defaults that the documentation states
// and that an empty file with models alone is valid with them, but for
// the substitute that the default (GLR_ADV) sets need.
func TestRobustnessDefaults(t *testing.T) {
	d := DefaultRobustness()
	if !slices.Equal(d.Sets, GLRAdvSets()) || d.Attack.Queries != 1000 || d.Attack.EOT != 10 || d.Attack.BPDA != "identity" || d.Seed != 1 {
		t.Errorf("defaults: %+v", d)
	}
	r, err := ParseRobustness("r.toml", []byte("models = [\"a\"]\nprotocol = \"glr-adv\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.SubstituteToTrain(); got != "substitute-mnist" {
		t.Errorf("glr-adv protocol trains %q, want substitute-mnist", got)
	}
	if got := r.TransferSets(); !slices.Equal(got, []string{"fgsm-transfer", "lbfgs-transfer"}) {
		t.Errorf("TransferSets = %v", got)
	}
	r.Substitute.Run = "runs/sub"
	if got := r.SubstituteToTrain(); got != "" {
		t.Errorf("with a substitute run, SubstituteToTrain = %q, want none", got)
	}
	// The lists share no memory with the package's.
	GLRAdvSets()[0] = "x"
	RobustSets()[0] = "x"
	if GLRAdvSets()[0] != "clean" || RobustSets()[0] != "clean" {
		t.Error("the set lists can be changed through their results")
	}
	if !slices.Equal(RobustSets()[len(attackSets):], corrupt.Names()) {
		t.Error("RobustSets does not end with the corruptions")
	}
}

// TestRobustnessValidate checks Validate on settings built in code.
func TestRobustnessValidate(t *testing.T) {
	r := DefaultRobustness()
	r.Source = "code"
	r.Models = []string{"a"}
	r.Sets = []string{"clean"}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	r.N = -1
	if err := r.Validate(); err == nil || err.Error() != "code: n: must be >= 0 (0 for every test image), got -1" {
		t.Errorf("Validate = %v", err)
	}
}

// TestShippedRobustnessFiles decodes the robustness files shipped in
// configs/robust.
func TestShippedRobustnessFiles(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("robust", "*.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no robustness files in configs/robust")
	}
	for _, path := range paths {
		if _, err := LoadRobustness(path); err != nil {
			t.Errorf("LoadRobustness(%q): %v", path, err)
		}
	}
}

// TestRobustnessField checks Field on leaves, tables and unknown keys.
func TestRobustnessField(t *testing.T) {
	r := DefaultRobustness()
	if p, ok := r.Field("attack.queries").(*int); !ok || p != &r.Attack.Queries {
		t.Errorf("Field(attack.queries) = %v", r.Field("attack.queries"))
	}
	if p, ok := r.Field("sets").(*[]string); !ok || p != &r.Sets {
		t.Errorf("Field(sets) = %v", r.Field("sets"))
	}
	for _, key := range []string{"attack", "attack.nope", "n.x", "Source", ""} {
		if p := r.Field(key); p != nil {
			t.Errorf("Field(%q) = %v, want nil", key, p)
		}
	}
}
