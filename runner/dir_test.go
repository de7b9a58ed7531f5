package runner

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestClaimNew covers what claimNew does with each kind of directory.
func TestClaimNew(t *testing.T) {
	cases := []struct {
		name  string
		files []string // made in the directory first; nil: no directory
		want  error    // nil: claimed
		msg   string
	}{
		{"new", nil, nil, ""},
		{"empty", []string{}, nil, ""},
		{"failed start", []string{"resolved.toml", "checkpoints/"}, nil, ""},
		{"a finished run", []string{"resolved.toml", "metrics.jsonl", "summary.json"}, ErrRunExists, "holds a run; continue it with glr run -resume"},
		{"a run's checkpoint", []string{"resolved.toml", "checkpoints/00-a.ckpt"}, ErrRunExists, "holds a run"},
		{"a run and a note", []string{"resolved.toml", "notes.txt"}, ErrRunExists, "holds a run"},
		{"other files", []string{"thesis.tex"}, ErrRunExists, "holds files that are not a glr run"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			if c.files != nil {
				if err := os.Mkdir(dir, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			for _, f := range c.files {
				p := filepath.Join(dir, f)
				if strings.HasSuffix(f, "/") {
					if err := os.MkdirAll(p, 0o755); err != nil {
						t.Fatal(err)
					}
					continue
				}
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			cl, err := claimNew(dir)
			if c.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				cl.release(false)
				return
			}
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) || !strings.Contains(err.Error(), dir) {
				t.Fatalf("err = %v, want %v saying %q and naming %s", err, c.want, c.msg, dir)
			}
			if fileExists(filepath.Join(dir, lockName)) {
				t.Errorf("a refused claim added %s", lockName)
			}
		})
	}
}

// TestClaimBusy: while one claim holds a directory, claiming it fails with
// ErrRunBusy, whatever it holds; once released, it is free again.
func TestClaimBusy(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	first, err := claimNew(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := claimNew(dir); !errors.Is(err, ErrRunBusy) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("second claim: err = %v, want ErrRunBusy naming %s", err, dir)
	}
	if err := os.WriteFile(filepath.Join(dir, "metrics.jsonl"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := claimNew(dir); !errors.Is(err, ErrRunBusy) {
		t.Fatalf("claim of a busy directory with records: err = %v, want ErrRunBusy", err)
	}
	if _, err := claimExisting(dir); err == nil {
		t.Fatal("resume claimed a busy directory")
	}
	first.release(false)
	if _, err := claimNew(dir); !errors.Is(err, ErrRunExists) {
		t.Fatalf("after release: err = %v, want ErrRunExists", err)
	}
}

// TestClaimsRace starts ten claims of one directory at once, and ten of
// the default directory: exactly one gets the first, and the ten get ten
// different default directories.
func TestClaimsRace(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "run")
	var wg sync.WaitGroup
	var mu sync.Mutex
	var won []*claim
	var lost []error
	dirs := map[string]bool{}
	for i := 0; i < 10; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			c, err := claimNew(dir)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				lost = append(lost, err)
				return
			}
			won = append(won, c)
		}()
		go func() {
			defer wg.Done()
			c, err := claimFree(filepath.Join(parent, "runs", "exp"))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Error(err)
				return
			}
			if dirs[c.dir] {
				t.Errorf("%s claimed twice", c.dir)
			}
			dirs[c.dir] = true
		}()
	}
	wg.Wait()
	if len(won) != 1 || len(lost) != 9 {
		t.Fatalf("%d claims of %s won and %d lost; want 1 and 9", len(won), dir, len(lost))
	}
	for _, err := range lost {
		if !errors.Is(err, ErrRunBusy) {
			t.Errorf("lost claim: %v, want ErrRunBusy", err)
		}
	}
	if len(dirs) != 10 {
		t.Errorf("%d default directories, want 10", len(dirs))
	}
}

// TestReleaseCleanup: a failed start's release removes what it wrote, and
// the directory if it made it; a directory with records is kept whole.
func TestReleaseCleanup(t *testing.T) {
	made := filepath.Join(t.TempDir(), "made")
	c, err := claimNew(made)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(made, "resolved.toml"), nil, 0o644)
	os.Mkdir(filepath.Join(made, "checkpoints"), 0o755)
	c.release(true)
	if fileExists(made) {
		t.Errorf("%s is left", made)
	}

	kept := t.TempDir()
	if c, err = claimNew(kept); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(kept, "resolved.toml"), nil, 0o644)
	os.WriteFile(filepath.Join(kept, "metrics.jsonl"), nil, 0o644)
	c.release(true)
	for _, f := range []string{"resolved.toml", "metrics.jsonl"} {
		if !fileExists(filepath.Join(kept, f)) {
			t.Errorf("%s of a run with records was removed", f)
		}
	}
	if fileExists(filepath.Join(kept, lockName)) {
		t.Errorf("the released %s keeps its %s", kept, lockName)
	}
}
