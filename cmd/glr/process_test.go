package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// buildGLR builds the glr binary into a temporary directory.
func buildGLR(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "glr")
	cmd := exec.Command(goTool, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// result is how one process ended.
type result struct {
	code   int
	stderr string
}

// startAll starts n processes of bin with args in dir at once and waits
// for all of them.
func startAll(t *testing.T, n int, dir, bin string, args ...string) []result {
	t.Helper()
	cmds := make([]*exec.Cmd, n)
	errs := make([]*bytes.Buffer, n)
	for i := range cmds {
		cmds[i] = exec.Command(bin, args...)
		cmds[i].Dir = dir
		errs[i] = &bytes.Buffer{}
		cmds[i].Stderr = errs[i]
	}
	var start sync.WaitGroup
	start.Add(1)
	var done sync.WaitGroup
	results := make([]result, n)
	for i, c := range cmds {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			err := c.Run()
			results[i] = result{code: c.ProcessState.ExitCode(), stderr: errs[i].String()}
			if _, ok := err.(*exec.ExitError); err != nil && !ok {
				t.Errorf("process %d: %v", i, err)
			}
		}()
	}
	start.Done()
	done.Wait()
	return results
}

// checkOneRun checks that dir holds one complete run of the tiny
// experiment: one epoch of one arm, once.
func checkOneRun(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines := 0
	for sc := bufio.NewScanner(f); sc.Scan(); lines++ {
	}
	entries, err := os.ReadDir(filepath.Join(dir, "checkpoints"))
	if err != nil {
		t.Fatal(err)
	}
	if lines != 1 || len(entries) != 1 || entries[0].Name() != "00-tiny.ckpt" {
		t.Errorf("%s: %d lines of metrics and checkpoints %v; want 1 line and 00-tiny.ckpt", dir, lines, entries)
	}
	for _, name := range []string{"summary.json", "resolved.toml", "curves.png"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Error(err)
		}
	}
	// A built binary records the versions of the modules behind the
	// numbers, and the revision: stamped by go build, or else git's in the
	// source tree, whatever the working directory.
	p := readSummary(t, dir).Program
	if p.Modules["gorgonia.org/gorgonia"] != "v0.9.18" || p.Modules["gonum.org/v1/gonum"] != "v0.11.0" {
		t.Errorf("%s: modules %v, want gorgonia v0.9.18 and gonum v0.11.0", dir, p.Modules)
	}
	if out, err := exec.Command("git", "rev-parse", "HEAD").Output(); err == nil && p.Revision != strings.TrimSpace(string(out)) {
		t.Errorf("%s: revision %q, want %q", dir, p.Revision, strings.TrimSpace(string(out)))
	}
}

// TestConcurrentRuns starts ten glr run processes at once into one -out
// directory: exactly one runs, and the other nine exit non-zero naming the
// directory. Ten more without -out get ten different default directories,
// each holding one whole run.
func TestConcurrentRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds glr and starts 20 processes")
	}
	bin := buildGLR(t)
	work := t.TempDir()
	cfg := writeConfig(t, tiny)

	out := filepath.Join(work, "shared")
	ok := 0
	for i, r := range startAll(t, 10, work, bin, "run", cfg, "-out", out) {
		switch {
		case r.code == 0:
			ok++
		case !strings.Contains(r.stderr, "glr run: ") || !strings.Contains(r.stderr, out):
			t.Errorf("process %d: exit %d without naming %s:\n%s", i, r.code, out, r.stderr)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of 10 processes ran into %s, want exactly 1", ok, out)
	}
	checkOneRun(t, out)

	for i, r := range startAll(t, 10, work, bin, "run", cfg) {
		if r.code != 0 {
			t.Errorf("process %d without -out: exit %d:\n%s", i, r.code, r.stderr)
		}
	}
	dirs, err := filepath.Glob(filepath.Join(work, "runs", "tiny*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) != 10 {
		t.Fatalf("default directories %v, want 10", dirs)
	}
	for _, d := range dirs {
		checkOneRun(t, d)
	}
}
