package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompareCommand runs glr compare on a tiny config with two arms at 2
// and 4 copies: it writes compare.json, compare.md and
// variance-vs-copies.png, every row has the documented fields, the
// reference is backpropagation through the noise for a sigmoid network and
// GLR with the clean baseline for a threshold network, and each fit's c is
// finite.
func TestCompareCommand(t *testing.T) {
	const arms = `[[arms]]
name = "loo"
[arms.estimator]
baseline = "leave-one-out"
[[arms]]
name = "none"
[arms.estimator]
baseline = "none"
`
	cases := []struct {
		activation, reference string
	}{
		{"sigmoid", "backpropagation through the noise"},
		{"threshold", "glr with the clean baseline"},
	}
	for _, c := range cases {
		t.Run(c.activation, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "cmp")
			cfg := writeConfig(t, strings.Replace(tiny, `activation = "sigmoid"`, `activation = "`+c.activation+`"`, 1)+arms)
			code, stdout, stderr := glr(t, "compare", cfg, "-copies", "2,4", "-draws", "5", "-ref-draws", "20", "-batch", "8", "-out", out, "-json")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			for _, f := range []string{"compare.json", "compare.md", "variance-vs-copies.png"} {
				if _, err := os.Stat(filepath.Join(out, f)); err != nil {
					t.Error(err)
				}
			}
			var r struct {
				References []struct {
					Method string   `json:"method"`
					Arms   []string `json:"arms"`
				} `json:"references"`
				Rows []map[string]any `json:"rows"`
				Fits []struct {
					C float64 `json:"c"`
				} `json:"fits"`
			}
			if err := json.Unmarshal([]byte(stdout), &r); err != nil {
				t.Fatalf("%v in %s", err, stdout)
			}
			if len(r.References) != 1 || !strings.HasPrefix(r.References[0].Method, c.reference) {
				t.Errorf("references %+v, want %q", r.References, c.reference)
			}
			if len(r.Rows) != 2*2*2 {
				t.Fatalf("%d rows, want 8 (2 arms × 2 copies × 2 layers)", len(r.Rows))
			}
			for _, row := range r.Rows {
				for _, k := range []string{"arm", "kind", "copies", "layer", "cosine", "relative_error", "variance", "rows", "seconds"} {
					if _, ok := row[k]; !ok {
						t.Errorf("row lacks %q: %v", k, row)
					}
				}
			}
			if len(r.Fits) == 0 {
				t.Error("no fits")
			}
			for _, f := range r.Fits {
				if math.IsNaN(f.C) || math.IsInf(f.C, 0) {
					t.Errorf("fit c = %v", f.C)
				}
			}
			if code, _, stderr := glr(t, "compare", cfg, "-out", out); code != 2 || !strings.Contains(stderr, "exists; choose a new directory") {
				t.Errorf("compare into an existing -out: exit %d, %s", code, stderr)
			}
		})
	}
}

// TestGradcheckCommand runs glr gradcheck on MNIST, flags after the config
// file, and reads its JSON.
func TestGradcheckCommand(t *testing.T) {
	code, stdout, stderr := glr(t, "gradcheck", writeConfig(t, tiny), "-draws", "4", "-batch", "5", "-json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r struct {
		Layers []struct {
			Name   string   `json:"name"`
			Cosine *float64 `json:"cosine"`
		} `json:"layers"`
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("%v in %s", err, stdout)
	}
	if len(r.Layers) != 2 || r.Layers[0].Name != "layer1" || r.Layers[0].Cosine == nil {
		t.Fatalf("report %s", stdout)
	}
}
