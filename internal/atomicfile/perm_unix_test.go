//go:build unix

package atomicfile

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestWritePermissions checks that the file ends with the asked permission
// masked by the umask, whatever the mode of the file it replaces. It sets the
// process umask, so it must not run in parallel with tests creating files.
func TestWritePermissions(t *testing.T) {
	tests := []struct {
		name     string
		umask    int
		perm     fs.FileMode
		existing fs.FileMode // 0: no file before the write
		want     fs.FileMode
	}{
		{"results under umask 022", 0o022, 0o644, 0, 0o644},
		{"replaces a 0600 file", 0o022, 0o644, 0o600, 0o644},
		{"replaces a 0666 file", 0o022, 0o644, 0o666, 0o644},
		{"private file", 0o022, 0o600, 0, 0o600},
		{"executable", 0o022, 0o755, 0, 0o755},
		{"umask 077 is honoured", 0o077, 0o644, 0, 0o600},
		{"umask 027 is honoured", 0o027, 0o666, 0, 0o640},
		{"umask 0 gives the asked bits", 0, 0o666, 0, 0o666},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old := syscall.Umask(tc.umask)
			defer syscall.Umask(old)
			path := filepath.Join(t.TempDir(), "f")
			if tc.existing != 0 {
				if err := os.WriteFile(path, []byte("old"), tc.existing); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, tc.existing); err != nil {
					t.Fatal(err)
				}
			}
			err := Write(path, tc.perm, func(w io.Writer) error {
				_, err := io.WriteString(w, "new")
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got != tc.want {
				t.Errorf("mode %v, want %v", got, tc.want)
			}
		})
	}
}
