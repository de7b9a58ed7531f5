package datasets

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// writeMNISTDir writes tiny train (6 examples) and test (4 examples) IDX
// files of 3x2 pixels to dir, compressing the files whose base names are in
// gz.
func writeMNISTDir(t *testing.T, dir string, gz ...string) {
	t.Helper()
	files := []struct {
		images, labels string
		labs           []byte
	}{
		{trainImagesFile, trainLabelsFile, []byte{5, 0, 4, 1, 9, 2}},
		{testImagesFile, testLabelsFile, []byte{7, 2, 1, 0}},
	}
	for _, f := range files {
		n := len(f.labs)
		in, ln := f.images, f.labels
		if slices.Contains(gz, in) {
			in += ".gz"
		}
		if slices.Contains(gz, ln) {
			ln += ".gz"
		}
		writeFile(t, dir, in, encodeIDX(t, magicImages, []uint32{uint32(n), 3, 2}, testImages(n, 3, 2), strings.HasSuffix(in, ".gz")))
		writeFile(t, dir, ln, encodeIDX(t, magicLabels, []uint32{uint32(n)}, f.labs, strings.HasSuffix(ln, ".gz")))
	}
}

func TestLoadFromDir(t *testing.T) {
	tests := []struct {
		name string
		gz   []string
		load func(string) (*Set, *Set, error)
		pfx  string
	}{
		{"mnist plain", nil, LoadMNIST, "mnist"},
		{"mnist gzip", []string{trainImagesFile, trainLabelsFile, testImagesFile, testLabelsFile}, LoadMNIST, "mnist"},
		{"fashion mixed", []string{trainImagesFile, testLabelsFile}, LoadFashionMNIST, "fashion-mnist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeMNISTDir(t, dir, tt.gz...)
			train, test, err := tt.load(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				s      *Set
				name   string
				labels []int
			}{
				{train, tt.pfx + "/train", []int{5, 0, 4, 1, 9, 2}},
				{test, tt.pfx + "/test", []int{7, 2, 1, 0}},
			} {
				if c.s.Name != c.name || c.s.Classes != 10 || c.s.Height != 3 || c.s.Width != 2 || c.s.Features != 6 {
					t.Errorf("%s: got Name %q Classes %d %dx%d Features %d", c.name, c.s.Name, c.s.Classes, c.s.Height, c.s.Width, c.s.Features)
				}
				if !slices.Equal(c.s.Labels, c.labels) {
					t.Errorf("%s: Labels = %v, want %v", c.name, c.s.Labels, c.labels)
				}
			}
		})
	}
}

func TestFindIDXPrefersPlain(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a", nil)
	writeFile(t, dir, "a.gz", nil)
	writeFile(t, dir, "b.gz", nil)
	os.Mkdir(filepath.Join(dir, "c"), 0o755) // a directory is not a data file
	writeFile(t, dir, "c.gz", nil)
	for base, want := range map[string]string{"a": "a", "b": "b.gz", "c": "c.gz"} {
		got, err := findIDX(dir, base)
		if err != nil || got != filepath.Join(dir, want) {
			t.Errorf("findIDX(%q) = %q, %v; want %q", base, got, err, filepath.Join(dir, want))
		}
	}
}

func TestLoadDirErrors(t *testing.T) {
	tests := []struct {
		name    string
		dir     func(t *testing.T) string
		load    func(string) (*Set, *Set, error)
		target  error
		mention []string
	}{
		{"fashion no path", func(*testing.T) string { return "" }, LoadFashionMNIST, nil,
			[]string{"required", trainImagesFile, "fashion-mnist"}},
		{"fashion empty dir", func(t *testing.T) string { return t.TempDir() }, LoadFashionMNIST, fs.ErrNotExist,
			[]string{trainImagesFile, trainImagesFile + ".gz"}},
		{"mnist missing dir", func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope") }, LoadMNIST, fs.ErrNotExist,
			[]string{"nope", trainImagesFile}},
		{"mnist missing test labels", func(t *testing.T) string {
			dir := t.TempDir()
			writeMNISTDir(t, dir)
			os.Remove(filepath.Join(dir, testLabelsFile))
			return dir
		}, LoadMNIST, fs.ErrNotExist, []string{testLabelsFile + ".gz"}},
		{"mnist corrupt test labels", func(t *testing.T) string {
			dir := t.TempDir()
			writeMNISTDir(t, dir)
			writeFile(t, dir, testLabelsFile, []byte{0, 0, 8, 1, 0, 0, 0, 9, 1})
			return dir
		}, LoadMNIST, ErrFormat, []string{testLabelsFile, "truncated"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			train, test, err := tt.load(tt.dir(t))
			if err == nil {
				t.Fatal("load succeeded, want error")
			}
			if train != nil || test != nil {
				t.Errorf("load returned non-nil sets with error %v", err)
			}
			for _, m := range tt.mention {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
			if tt.target != nil && !errors.Is(err, tt.target) {
				t.Errorf("error %q does not wrap %v", err, tt.target)
			}
		})
	}
}

func TestMNISTDirEnv(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("MNIST_DIR", dir)
	got, err := MNISTDir()
	if err != nil || got != dir {
		t.Errorf("MNISTDir() = %q, %v; want %q, nil", got, err, dir)
	}
	// LoadMNIST("") honours MNIST_DIR too.
	writeMNISTDir(t, dir)
	train, _, err := LoadMNIST("")
	if err != nil || train.Len() != 6 {
		t.Errorf("LoadMNIST(\"\") with MNIST_DIR: Len %d, err %v; want 6, nil", train.Len(), err)
	}
}

func TestMNISTDirGoTool(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	t.Setenv("MNIST_DIR", "")
	dir, err := MNISTDir()
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(dir) != "data" {
		t.Errorf("MNISTDir() = %q, want a data directory", dir)
	}
	for _, base := range []string{trainImagesFile, trainLabelsFile, testImagesFile, testLabelsFile} {
		if _, err := findIDX(dir, base); err != nil {
			t.Error(err)
		}
	}
}

// TestRealMNIST loads the real MNIST files through MNISTDir (which honours
// $MNIST_DIR) and checks well-known properties of the data.
func TestRealMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the full MNIST dataset")
	}
	start := time.Now()
	train, test, err := LoadMNIST("")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("LoadMNIST took %v", time.Since(start))

	for _, c := range []struct {
		s    *Set
		name string
		n    int
	}{{train, "mnist/train", 60000}, {test, "mnist/test", 10000}} {
		s := c.s
		if s.Name != c.name || s.Len() != c.n || s.Height != 28 || s.Width != 28 || s.Features != 784 || s.Classes != 10 {
			t.Errorf("%s: Name %q Len %d %dx%d Features %d Classes %d; want %s %d 28x28 784 10",
				c.name, s.Name, s.Len(), s.Height, s.Width, s.Features, s.Classes, c.name, c.n)
		}
		if len(s.X) != c.n*784 {
			t.Errorf("%s: len(X) = %d, want %d", c.name, len(s.X), c.n*784)
		}
		lo, hi := slices.Min(s.X), slices.Max(s.X)
		if lo != 0 || hi != 1 {
			t.Errorf("%s: pixels span [%v, %v], want [0, 1]", c.name, lo, hi)
		}
	}
	var hist [10]int
	for _, l := range train.Labels {
		hist[l]++
	}
	if want := [10]int{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}; hist != want {
		t.Errorf("train label histogram = %v, want %v", hist, want)
	}
	if train.Labels[0] != 5 {
		t.Errorf("first train label = %d, want 5", train.Labels[0])
	}
	if test.Labels[0] != 7 {
		t.Errorf("first test label = %d, want 7", test.Labels[0])
	}
}
