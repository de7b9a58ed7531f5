//go:build unix

package runner

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/glr-project/glr/checkpoint"
)

// TestResultModes: under the usual umask 022 every result file is 0644,
// readable by the other users of the machine (files written through
// os.CreateTemp were 0600).
func TestResultModes(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "run")
	if _, _, err := Run(experiment(t, tiny), RunOptions{Out: dir}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"metrics.jsonl", "summary.json", "resolved.toml", "curves.png", checkpoint.Path("", 0, "tiny")} {
		info, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o644 {
			t.Errorf("%s has mode %v, want -rw-r--r--", f, info.Mode().Perm())
		}
	}
	for _, d := range []string{dir, filepath.Join(dir, "checkpoints")} {
		if info, err := os.Stat(d); err != nil || info.Mode().Perm() != 0o755 {
			t.Errorf("%s: mode %v (%v), want drwxr-xr-x", d, info.Mode().Perm(), err)
		}
	}
}
