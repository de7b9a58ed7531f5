package checkpoint

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// npyArray is a .npy member read back from an archive.
type npyArray struct {
	descr  string
	shape  []int
	values []float64
}

// npyHeaderRE matches the header dict NumPy writes, and npyHeader must.
var npyHeaderRE = regexp.MustCompile(`^\{'descr': '(<f8|<f4)', 'fortran_order': False, 'shape': \(((?:\d+, )*\d+,?)?\), \} *\n$`)

// readNPZ reads an archive written by WriteNPZ with archive/zip and its own
// parsing of the .npy format, checking the members' layout as it goes.
func readNPZ(t *testing.T, path string) (names []string, arrays map[string]npyArray) {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	arrays = map[string]npyArray{}
	for _, f := range zr.File {
		if f.Method != zip.Store {
			t.Errorf("%s is compressed with method %d, want stored", f.Name, f.Method)
		}
		name, ok := strings.CutSuffix(f.Name, ".npy")
		if !ok {
			t.Fatalf("member %q lacks the .npy suffix", f.Name)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err) // includes a CRC-32 mismatch
		}
		if len(b) < 10 || string(b[:8]) != "\x93NUMPY\x01\x00" {
			t.Fatalf("%s: not a version 1.0 .npy file: % x", name, b[:min(len(b), 10)])
		}
		hlen := int(le.Uint16(b[8:]))
		if (10+hlen)%64 != 0 {
			t.Errorf("%s: data starts at byte %d, not a multiple of 64", name, 10+hlen)
		}
		m := npyHeaderRE.FindStringSubmatch(string(b[10 : 10+hlen]))
		if m == nil {
			t.Fatalf("%s: header %q is not NumPy's", name, b[10:10+hlen])
		}
		a := npyArray{descr: m[1]}
		size := 1
		for _, d := range strings.Split(strings.TrimSuffix(m[2], ","), ", ") {
			if d == "" {
				continue
			}
			n, _ := strconv.Atoi(d)
			a.shape = append(a.shape, n)
			size *= n
		}
		data := b[10+hlen:]
		width := 8
		if a.descr == "<f4" {
			width = 4
		}
		if len(data) != width*size {
			t.Fatalf("%s: %d data bytes for shape %v of %s", name, len(data), a.shape, a.descr)
		}
		for j := range size {
			if width == 8 {
				a.values = append(a.values, math.Float64frombits(le.Uint64(data[8*j:])))
			} else {
				a.values = append(a.values, float64(math.Float32frombits(le.Uint32(data[4*j:]))))
			}
		}
		names = append(names, name)
		arrays[name] = a
	}
	return names, arrays
}

// exportParams has the shapes an export meets: a matrix, a vector, a scalar
// and a rank-3 array, with values at the edges of float64 and float32.
func exportParams() []Param {
	w := make([]float64, 785*3)
	for i := range w {
		w[i] = float64(i)/1000 - 1
	}
	w[0], w[1], w[2] = math.SmallestNonzeroFloat64, math.Copysign(0, -1), MaxAbsValue
	return []Param{
		{Name: "layer1/W", Shape: []int{785, 3}, Values: w},
		{Name: "layer1/b", Shape: []int{3}, Values: []float64{0.1, -0.2, 1.0 / 3}},
		{Name: "scale", Shape: nil, Values: []float64{2.5}},
		{Name: "conv/K", Shape: []int{2, 1, 3}, Values: []float64{1, 2, 3, 4, 5, 6}},
	}
}

func TestWriteNPZ(t *testing.T) {
	for _, dtype := range []Dtype{"", Float64, Float32} {
		t.Run(string(dtype), func(t *testing.T) {
			params := exportParams()
			path := filepath.Join(t.TempDir(), "model.npz")
			if err := WriteNPZ(path, params, dtype); err != nil {
				t.Fatal(err)
			}
			names, arrays := readNPZ(t, path)
			want := []string{"layer1/W", "layer1/b", "scale", "conv/K"}
			if !reflect.DeepEqual(names, want) {
				t.Fatalf("members %q, want %q", names, want)
			}
			descr := "<f8"
			if dtype == Float32 {
				descr = "<f4"
			}
			for _, p := range params {
				a := arrays[p.Name]
				if a.descr != descr || !reflect.DeepEqual(a.shape, p.Shape) {
					t.Errorf("%s is %s %v, want %s %v", p.Name, a.descr, a.shape, descr, p.Shape)
				}
				for j, v := range p.Values {
					if dtype == Float32 {
						v = float64(float32(v))
					}
					if math.Float64bits(a.values[j]) != math.Float64bits(v) {
						t.Errorf("%s[%d] = %v, want %v", p.Name, j, a.values[j], v)
						break
					}
				}
			}
			// The same parameters give the same bytes.
			again := filepath.Join(t.TempDir(), "again.npz")
			if err := WriteNPZ(again, params, dtype); err != nil {
				t.Fatal(err)
			}
			b1, _ := os.ReadFile(path)
			b2, _ := os.ReadFile(again)
			if !bytes.Equal(b1, b2) {
				t.Error("two exports of the same parameters differ")
			}
		})
	}
}

func TestNPYHeader(t *testing.T) {
	tests := []struct {
		shape []int
		want  string // the dict, before the padding
	}{
		{[]int{785, 50}, "{'descr': '<f8', 'fortran_order': False, 'shape': (785, 50), }"},
		{[]int{10}, "{'descr': '<f8', 'fortran_order': False, 'shape': (10,), }"},
		{nil, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }"},
		{[]int{1, 2, 3, 4, 5, 6, 7, 2147483648}, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2, 3, 4, 5, 6, 7, 2147483648), }"},
	}
	for _, tc := range tests {
		h := npyHeader("<f8", tc.shape)
		if len(h)%64 != 0 {
			t.Errorf("shape %v: header of %d bytes, not a multiple of 64", tc.shape, len(h))
		}
		if got := int(le.Uint16(h[8:])); got != len(h)-10 {
			t.Errorf("shape %v: header length field %d, want %d", tc.shape, got, len(h)-10)
		}
		dict := strings.TrimRight(string(h[10:]), " \n")
		if dict != tc.want || h[len(h)-1] != '\n' {
			t.Errorf("shape %v: header %q, want %q padded and ending in a newline", tc.shape, h[10:], tc.want)
		}
	}
}

func TestWriteNPZRefuses(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(ps []Param)
		dtype  Dtype
		text   string
	}{
		{"NaN", func(ps []Param) { ps[1].Values[0] = math.NaN() }, "", `parameter "layer1/b" [3]: value at [0] is NaN`},
		{"short values", func(ps []Param) { ps[0].Values = ps[0].Values[:10] }, "", "has 10 values, its shape needs 2355"},
		{"duplicate", func(ps []Param) { ps[2].Name = "layer1/W" }, "", "both named"},
		{"parent directory", func(ps []Param) { ps[2].Name = "../evil" }, "", `"../evil": not a valid archive member name`},
		{"absolute", func(ps []Param) { ps[2].Name = "/etc/x" }, "", "not a valid archive member name"},
		{"backslash", func(ps []Param) { ps[2].Name = `a\b` }, "", "not a valid archive member name"},
		{"trailing slash", func(ps []Param) { ps[2].Name = "layer1/" }, "", "not a valid archive member name"},
		{"unknown dtype", func([]Param) {}, "int8", `unknown dtype "int8"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ps := exportParams()
			tc.mutate(ps)
			dir := t.TempDir()
			err := WriteNPZ(filepath.Join(dir, "m.npz"), ps, tc.dtype)
			if err == nil || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("error %v, want one saying %q", err, tc.text)
			}
			if tc.dtype == "" && !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			if es, _ := os.ReadDir(dir); len(es) != 0 {
				t.Errorf("a refused export left %d files", len(es))
			}
		})
	}
}

// numpyPython returns a Python interpreter that imports numpy, or skips the
// test. It tries $PYTHON, python3 on $PATH and /usr/bin/python3 (where
// Debian's python3-numpy installs), in that order, once per test binary.
func numpyPython(t *testing.T) string {
	t.Helper()
	python.once.Do(func() {
		for _, c := range []string{os.Getenv("PYTHON"), "python3", "/usr/bin/python3"} {
			if c == "" {
				continue
			}
			p, err := exec.LookPath(c)
			if err != nil {
				continue
			}
			if exec.Command(p, "-c", "import numpy").Run() == nil {
				python.path = p
				return
			}
			python.tried = append(python.tried, p)
		}
	})
	if python.path == "" {
		t.Skipf("no Python with numpy (tried %q; apt-get install python3-numpy, or set $PYTHON)", python.tried)
	}
	return python.path
}

var python struct {
	once  sync.Once
	path  string
	tried []string
}

// TestNPZLoadsInNumPy checks with np.load that names, dtypes, shapes and
// every value survive the export exactly (JSON carries Python floats as
// their shortest round-trip repr).
func TestNPZLoadsInNumPy(t *testing.T) {
	py := numpyPython(t)
	const script = `
import json, sys
import numpy as np
with np.load(sys.argv[1]) as z:
    print(json.dumps({k: {"dtype": str(z[k].dtype), "shape": list(z[k].shape),
                          "values": [float(v) for v in z[k].ravel()]} for k in z.files}))
`
	for _, dtype := range []Dtype{Float64, Float32} {
		t.Run(string(dtype), func(t *testing.T) {
			params := exportParams()
			path := filepath.Join(t.TempDir(), "model.npz")
			if err := WriteNPZ(path, params, dtype); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(py, "-c", script, path).Output()
			if err != nil {
				t.Fatalf("np.load: %v\n%s", err, stderr(err))
			}
			var got map[string]struct {
				Dtype  string
				Shape  []int
				Values []float64
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if len(got) != len(params) {
				t.Errorf("np.load sees %d arrays, want %d", len(got), len(params))
			}
			for _, p := range params {
				a, ok := got[p.Name]
				if !ok {
					t.Errorf("np.load has no %q", p.Name)
					continue
				}
				shape := p.Shape
				if shape == nil {
					shape = []int{}
				}
				if a.Dtype != string(dtype) || !reflect.DeepEqual(a.Shape, shape) {
					t.Errorf("%s is %s %v in NumPy, want %s %v", p.Name, a.Dtype, a.Shape, dtype, shape)
				}
				for j, v := range p.Values {
					if dtype == Float32 {
						v = float64(float32(v))
					}
					if a.Values[j] != v {
						t.Errorf("%s[%d] is %v in NumPy, want %v", p.Name, j, a.Values[j], v)
						break
					}
				}
			}
		})
	}
}

// stderr returns the standard error of a failed command, if any.
func stderr(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(ee.Stderr)
	}
	return fmt.Sprint(err)
}
