package datasets

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
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
		if err != nil || got.String() != filepath.Join(dir, want) {
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
	writeMNISTDir(t, dir)
	t.Setenv("MNIST_DIR", dir)
	// LoadMNIST("") reads $MNIST_DIR instead of the embedded copy ...
	train, _, err := LoadMNIST("")
	if err != nil || train.Len() != 6 {
		t.Errorf("LoadMNIST(\"\") with MNIST_DIR: Len %d, err %v; want 6, nil", train.Len(), err)
	}
	// ... and does not fall back to it when $MNIST_DIR is wrong.
	missing := filepath.Join(dir, "missing")
	t.Setenv("MNIST_DIR", missing)
	if _, _, err := LoadMNIST(""); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("LoadMNIST(\"\") with a missing MNIST_DIR: error %v, want one naming %s", err, missing)
	}
	// An explicit directory wins over $MNIST_DIR.
	if train, _, err := LoadMNIST(dir); err != nil || train.Len() != 6 {
		t.Errorf("LoadMNIST(dir) with MNIST_DIR set elsewhere: Len %d, err %v; want 6, nil", train.Len(), err)
	}
}

// TestEmbeddedMNISTChecksums checks the embedded files against the SHA-256
// sums published in mnistdata/README.md.
func TestEmbeddedMNISTChecksums(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(mnistEmbedDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, base := range []string{trainImagesFile, trainLabelsFile, testImagesFile, testLabelsFile} {
		data, err := fs.ReadFile(mnistFiles, mnistEmbedDir+"/"+base+".gz")
		if err != nil {
			t.Fatal(err)
		}
		sum := fmt.Sprintf("%x", sha256.Sum256(data))
		if !strings.Contains(string(readme), fmt.Sprintf("`%s.gz`", base)) || !strings.Contains(string(readme), sum) {
			t.Errorf("%s.gz: SHA-256 %s is not the one listed in the README", base, sum)
		}
	}
}

// noReaderAtFS is a file system whose files do not implement io.ReaderAt.
type noReaderAtFS struct{ fs.FS }

func (f noReaderAtFS) Open(name string) (fs.File, error) {
	file, err := f.FS.Open(name)
	return struct{ fs.File }{file}, err
}

// TestFSSourceErrors checks that errors about files read from an fs.FS, as
// the embedded copy is, name the file as the source describes it.
func TestFSSourceErrors(t *testing.T) {
	good := encodeIDX(t, magicImages, []uint32{2, 2, 2}, testImages(2, 2, 2), true)
	fsys := fstest.MapFS{
		"d/good.gz":  {Data: good},
		"d/short.gz": {Data: good[:len(good)/2]},
		"d/dir":      {Mode: fs.ModeDir},
	}
	src := func(fsys fs.FS, name string) idxSource {
		return idxSource{fsys: fsys, path: "d/" + name, desc: "embedded " + name}
	}
	if _, n, _, _, err := src(fsys, "good.gz").readImages(); err != nil || n != 2 {
		t.Fatalf("reading a good file from an fs.FS: %d images, %v", n, err)
	}
	tests := []struct {
		src     idxSource
		target  error
		mention string
	}{
		{src(fsys, "short.gz"), ErrFormat, "embedded short.gz: "},
		{src(fsys, "missing.gz"), fs.ErrNotExist, "d/missing.gz"},
		{src(fsys, "dir"), nil, "embedded dir: not a regular file"},
		{src(noReaderAtFS{fsys}, "good.gz"), nil, "embedded good.gz: file does not support random access"},
	}
	for _, tt := range tests {
		_, _, _, _, err := tt.src.readImages()
		if err == nil || !strings.Contains(err.Error(), tt.mention) || tt.target != nil && !errors.Is(err, tt.target) {
			t.Errorf("%s: error %v, want one mentioning %q and wrapping %v", tt.src, err, tt.mention, tt.target)
		}
	}
	if s := (idxSource{path: "/x/y"}).String(); s != "/x/y" {
		t.Errorf("a file source is named %q, want its path", s)
	}
	if src, _ := embeddedMNIST(trainImagesFile); src.String() != "embedded datasets/mnistdata/"+trainImagesFile+".gz" {
		t.Errorf("the embedded training images are named %q", src)
	}
}

// TestRealMNIST loads the embedded copy of MNIST and checks well-known
// properties of the data.
func TestRealMNIST(t *testing.T) {
	t.Setenv("MNIST_DIR", "")
	train, test, err := LoadMNIST("")
	if err != nil {
		t.Fatal(err)
	}
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
		if ch, h, w := s.Image(); ch != 1 || h != 28 || w != 28 {
			t.Errorf("%s: Image() = %d, %d, %d; want 1, 28, 28", c.name, ch, h, w)
		}
		// One byte per pixel.
		if len(s.bytes) != c.n*784 || s.floats != nil {
			t.Errorf("%s: %d stored bytes and %d floats, want %d bytes", c.name, len(s.bytes), len(s.floats), c.n*784)
		}
		// Read every example through one reused batch of 1000.
		lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
		idx := make([]int, 1000)
		x := make([]float32, len(idx)*s.Features)
		for start := 0; start < s.Len(); start += len(idx) {
			for i := range idx {
				idx[i] = start + i
			}
			if err := (Batch{s, idx}).Write32(x, s.Features, nil); err != nil {
				t.Fatal(err)
			}
			lo, hi = min(lo, slices.Min(x)), max(hi, slices.Max(x))
		}
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
	if err := Compatible(train, test); err != nil {
		t.Errorf("Compatible(MNIST train, test) = %v", err)
	}
}

// BenchmarkLoadMNIST measures loading the embedded copy of MNIST. Its
// MB-held metric is the heap that a loaded pair keeps alive, measured with
// runtime.ReadMemStats after a garbage collection.
func BenchmarkLoadMNIST(b *testing.B) {
	b.Setenv("MNIST_DIR", "")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var train, test *Set
	for b.Loop() {
		var err error
		if train, test, err = LoadMNIST(""); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/1e6, "MB-held")
	runtime.KeepAlive(train)
	runtime.KeepAlive(test)
}

// BenchmarkBatch measures writing a minibatch of 100 MNIST-sized examples
// into rows of 785 values, as a network with a bias column reads them.
func BenchmarkBatch(b *testing.B) {
	pix := make([]byte, 1000*784)
	for i := range pix {
		pix[i] = byte(i * 37)
	}
	s, err := NewSet("bench", 28, 28, 10, pix, make([]int, 1000))
	if err != nil {
		b.Fatal(err)
	}
	idx := make([]int, 100)
	for i := range idx {
		idx[i] = (i * 7919) % 1000
	}
	batch := Batch{s, idx}
	labels := make([]int, len(idx))
	b.Run("Write64", func(b *testing.B) {
		dst := make([]float64, len(idx)*785)
		for b.Loop() {
			if err := batch.Write64(dst, 785, labels); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Write32", func(b *testing.B) {
		dst := make([]float32, len(idx)*785)
		for b.Loop() {
			if err := batch.Write32(dst, 785, labels); err != nil {
				b.Fatal(err)
			}
		}
	})
}
