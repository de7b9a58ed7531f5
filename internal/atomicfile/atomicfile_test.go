package atomicfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// dirNames lists the names in dir, sorted.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteReplaces(t *testing.T) {
	tests := []struct {
		name     string
		existing string // "" for no file before the write
		content  string
	}{
		{"new file", "", "hello\n"},
		{"replace longer", strings.Repeat("old ", 1000), "new"},
		{"replace shorter", "o", strings.Repeat("new ", 10000)}, // beyond the bufio buffer
		{"empty content", "old", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "out.txt")
			if tc.existing != "" {
				if err := os.WriteFile(path, []byte(tc.existing), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			err := Write(path, 0o644, func(w io.Writer) error {
				_, err := io.WriteString(w, tc.content)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.content {
				t.Errorf("content is %d bytes %.20q, want %d bytes %.20q", len(got), got, len(tc.content), tc.content)
			}
			if names := dirNames(t, dir); !slices.Equal(names, []string{"out.txt"}) {
				t.Errorf("directory holds %q, want only out.txt", names)
			}
		})
	}
}

var errWriter = errors.New("writer failed")

func TestWriteFailureLeavesNoTrace(t *testing.T) {
	tests := []struct {
		name  string
		write func(w io.Writer) error
		panic bool
	}{
		{"error before writing", func(io.Writer) error { return errWriter }, false},
		{"error after a partial write", func(w io.Writer) error {
			// More than bufio's 4096-byte buffer, so some of it reached
			// the temporary file before the error.
			if _, err := io.WriteString(w, strings.Repeat("x", 10000)); err != nil {
				return err
			}
			return errWriter
		}, false},
		{"panic after a partial write", func(w io.Writer) error {
			io.WriteString(w, strings.Repeat("x", 10000))
			panic(errWriter)
		}, true},
	}
	for _, tc := range tests {
		for _, existing := range []bool{false, true} {
			name := tc.name + "/no target"
			if existing {
				name = tc.name + "/existing target"
			}
			t.Run(name, func(t *testing.T) {
				dir := t.TempDir()
				path := filepath.Join(dir, "out.json")
				const old = "old content\n"
				if existing {
					if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
						t.Fatal(err)
					}
				}
				err := func() (err error) {
					defer func() {
						if r := recover(); r != nil {
							err = r.(error)
						}
					}()
					err = Write(path, 0o644, tc.write)
					if tc.panic {
						t.Errorf("Write returned %v, want the writer's panic to propagate", err)
					}
					return err
				}()
				if !errors.Is(err, errWriter) {
					t.Fatalf("error %v does not wrap the writer's error", err)
				}
				if !tc.panic && !strings.Contains(err.Error(), path) {
					t.Errorf("error %q does not name %s", err, path)
				}
				want := []string(nil)
				if existing {
					want = []string{"out.json"}
					got, err := os.ReadFile(path)
					if err != nil {
						t.Fatal(err)
					}
					if string(got) != old {
						t.Errorf("target changed to %.20q", got)
					}
					fi, err := os.Stat(path)
					if err != nil {
						t.Fatal(err)
					}
					if fi.Mode().Perm() != 0o600 {
						t.Errorf("target mode changed to %v", fi.Mode())
					}
				}
				if names := dirNames(t, dir); !slices.Equal(names, want) {
					t.Errorf("directory holds %q, want %q", names, want)
				}
			})
		}
	}
}

func TestWriteErrors(t *testing.T) {
	dir := t.TempDir()
	ok := func(w io.Writer) error { return nil }
	tests := []struct {
		name     string
		path     string
		perm     fs.FileMode
		write    func(io.Writer) error
		notExist bool
	}{
		{"missing directory", filepath.Join(dir, "no", "such", "dir", "f"), 0o644, ok, true},
		{"nil write", filepath.Join(dir, "f"), 0o644, nil, false},
		{"mode bits beyond permissions", filepath.Join(dir, "f"), fs.ModeDir | 0o755, ok, false},
		{"target is a directory", dir, 0o644, ok, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Write(tc.path, tc.perm, tc.write)
			if err == nil {
				t.Fatal("Write succeeded")
			}
			if got := errors.Is(err, fs.ErrNotExist); got != tc.notExist {
				t.Errorf("errors.Is(%v, fs.ErrNotExist) = %v, want %v", err, got, tc.notExist)
			}
			if !strings.HasPrefix(err.Error(), "atomicfile: write "+tc.path+": ") {
				t.Errorf("error %q does not start with the package and path", err)
			}
		})
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("failed writes left %q behind", names)
	}
}

func TestWriteJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "summary.json")
	v := map[string]any{"arm": "glr", "accuracy": 0.5, "epochs": []int{1, 2}}
	if err := WriteJSON(path, v); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const want = "{\n  \"accuracy\": 0.5,\n  \"arm\": \"glr\",\n  \"epochs\": [\n    1,\n    2\n  ]\n}\n"
	if string(got) != want {
		t.Errorf("WriteJSON wrote\n%s\nwant\n%s", got, want)
	}
	if err := WriteJSON(path, func() {}); err == nil {
		t.Error("WriteJSON of a func succeeded")
	}
	if got2, _ := os.ReadFile(path); string(got2) != want {
		t.Error("a failed WriteJSON changed the file")
	}
}
