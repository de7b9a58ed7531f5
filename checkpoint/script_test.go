package checkpoint

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// checkScript is scripts/check_export.py, relative to this package.
var checkScript = filepath.Join("..", "scripts", "check_export.py")

// writeIDX writes an MNIST-style test set of n images of h×w pixels to dir,
// gzip-compressed when gz is set.
func writeIDX(t *testing.T, dir string, pixels []byte, h, w int, labels []byte, gz bool) {
	t.Helper()
	n := len(labels)
	if len(pixels) != n*h*w {
		t.Fatalf("%d pixels for %d images of %d×%d", len(pixels), n, h, w)
	}
	images := binary.BigEndian.AppendUint32(nil, 0x803)
	for _, d := range []int{n, h, w} {
		images = binary.BigEndian.AppendUint32(images, uint32(d))
	}
	lab := binary.BigEndian.AppendUint32(nil, 0x801)
	lab = binary.BigEndian.AppendUint32(lab, uint32(n))
	for name, data := range map[string][]byte{
		"t10k-images-idx3-ubyte": append(images, pixels...),
		"t10k-labels-idx1-ubyte": append(lab, labels...),
	} {
		if gz {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			zw.Write(data)
			if err := zw.Close(); err != nil {
				t.Fatal(err)
			}
			name, data = name+".gz", b.Bytes()
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// runCheck writes the export and model.json of a, runs the script on them
// and dir, and returns its standard output, standard error and exit code.
func runCheck(t *testing.T, py string, a *Architecture, params []Param, dir string) (stdout, stderr string, code int) {
	t.Helper()
	work := t.TempDir()
	npz, js := filepath.Join(work, "model.npz"), filepath.Join(work, "model.json")
	if err := WriteNPZ(npz, params, a.Dtype); err != nil {
		t.Fatal(err)
	}
	if err := WriteArchitecture(js, a); err != nil {
		t.Fatal(err)
	}
	return runScript(t, py, npz, js, dir)
}

func runScript(t *testing.T, py string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	// Reading the script here makes it an input of the test as far as
	// go test's cache is concerned: an edit reruns the tests.
	if b, err := os.ReadFile(checkScript); err != nil || len(b) == 0 {
		t.Fatalf("read %s: %v", checkScript, err)
	}
	var out, errb bytes.Buffer
	cmd := exec.Command(py, append([]string{checkScript}, args...)...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), errb.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), 0
}

// handModel is a network small enough to evaluate by hand: 2×2 images,
// 3 classes, bias "input". Layer 1 (relu) passes pixels 0, 1 and 2 to units
// 0, 1 and 2 and gives unit 2 a bias of −0.5 through the constant-1 input,
// the last row of W; pixel 3 has weight 0. Layer 2 is the identity, so the
// logits are (p0, p1, max(p2 − 0.5, 0)) with p = pixel/255.
func handModel() (*Architecture, []Param) {
	a := &Architecture{
		Input: Input{Channels: 1, Height: 2, Width: 2}, Classes: 3, Bias: "input", Dtype: Float64,
		Layers: []Layer{{Kind: "dense", Units: 3, Activation: "relu"}, {Kind: "dense", Units: 3, Activation: "identity"}},
	}
	return a, []Param{
		{Name: "layer1/W", Shape: []int{5, 3}, Values: []float64{
			1, 0, 0, // pixel 0
			0, 1, 0, // pixel 1
			0, 0, 1, // pixel 2
			0, 0, 0, // pixel 3
			0, 0, -0.5, // the constant 1
		}},
		{Name: "layer2/W", Shape: []int{3, 3}, Values: []float64{1, 0, 0, 0, 1, 0, 0, 0, 1}},
	}
}

// handSet is five images for handModel, their labels, and the accuracy
// worked out by hand: 3 of 5.
var handSet = struct {
	pixels, labels []byte
	accuracy       string
}{
	pixels: []byte{
		255, 0, 0, 0, // logits (1, 0, 0): class 0, label 0, right
		0, 255, 0, 0, // (0, 1, 0): class 1, label 1, right
		0, 200, 255, 0, // (0, 0.784, 0.5): class 1, label 2, wrong (without the bias, 2 would win)
		0, 0, 0, 255, // (0, 0, 0): a tie, the first class wins: 0, label 0, right
		10, 20, 30, 0, // (0.039, 0.078, 0): class 1, label 0, wrong
	},
	labels:   []byte{0, 1, 2, 0, 0},
	accuracy: "accuracy 0.6000\n",
}

func TestCheckExportHandModel(t *testing.T) {
	py := numpyPython(t)
	for _, tc := range []struct {
		name      string
		plain, gz bool
		dtype     Dtype
	}{
		{"plain IDX", true, false, Float64},
		{"gzip IDX", false, true, Float64},
		{"float32 export", true, false, Float32},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.plain {
				writeIDX(t, dir, handSet.pixels, 2, 2, handSet.labels, false)
			}
			if tc.gz {
				writeIDX(t, dir, handSet.pixels, 2, 2, handSet.labels, true)
			}
			a, params := handModel()
			a.Dtype = tc.dtype
			out, errs, code := runCheck(t, py, a, params, dir)
			if code != 0 || out != handSet.accuracy {
				t.Errorf("exit %d, printed %q (stderr %q), want %q", code, out, errs, handSet.accuracy)
			}
		})
	}
}

// TestCheckExportPrefersPlain checks that the plain IDX files are read when
// a gzip copy with other labels sits beside them.
func TestCheckExportPrefersPlain(t *testing.T) {
	py := numpyPython(t)
	dir := t.TempDir()
	writeIDX(t, dir, handSet.pixels, 2, 2, handSet.labels, false)
	writeIDX(t, dir, handSet.pixels, 2, 2, []byte{1, 0, 0, 1, 1}, true) // accuracy 1 of 5
	a, params := handModel()
	if out, errs, code := runCheck(t, py, a, params, dir); code != 0 || out != handSet.accuracy {
		t.Errorf("exit %d, printed %q (stderr %q), want %q", code, out, errs, handSet.accuracy)
	}
}

// forward is an independent Go forward pass: the predicted class of each of
// the n images, by the rules Architecture documents.
func forward(a *Architecture, params map[string][]float64, pixels []byte, n int) []int {
	features := a.Input.Channels * a.Input.Height * a.Input.Width
	pred := make([]int, n)
	for i := range n {
		x := make([]float64, 0, features+1)
		for _, p := range pixels[i*features : (i+1)*features] {
			x = append(x, float64(p)/255)
		}
		if a.Bias == "input" {
			x = append(x, 1)
		}
		for k, l := range a.Layers {
			w := params[fmt.Sprintf("layer%d/W", k+1)]
			z := make([]float64, l.Units)
			for u := range z {
				for r, xr := range x {
					z[u] += xr * w[r*l.Units+u]
				}
				if a.Bias == "all" {
					z[u] += params[fmt.Sprintf("layer%d/b", k+1)][u]
				}
				switch l.Activation {
				case "sigmoid":
					z[u] = 1 / (1 + math.Exp(-z[u]))
				case "threshold":
					z[u] = map[bool]float64{true: 1, false: 0}[z[u] > 0]
				case "relu":
					z[u] = max(z[u], 0)
				case "tanh":
					z[u] = math.Tanh(z[u])
				}
			}
			x = z
		}
		for c := range x {
			if x[c] > x[pred[i]] {
				pred[i] = c
			}
		}
	}
	return pred
}

// TestCheckExportRandomModels compares the script with the Go forward pass
// on seeded random networks of every activation, bias mode and dtype. Two
// thirds of the labels are the Go prediction and the rest random, so a
// script that computes anything else scores far from the Go accuracy; the
// accuracy is a count over 300 images, compared exactly.
func TestCheckExportRandomModels(t *testing.T) {
	py := numpyPython(t)
	const h, w, classes, n = 5, 4, 4, 300
	seed := uint64(0)
	for _, act := range []string{"sigmoid", "threshold", "relu", "tanh"} {
		for _, bias := range []string{"input", "all", "none"} {
			for _, dtype := range []Dtype{Float64, Float32} {
				seed++
				t.Run(fmt.Sprintf("%s/%s/%s", act, bias, dtype), func(t *testing.T) {
					rng := rand.New(rand.NewPCG(seed, 0x5c417))
					a := &Architecture{
						Input: Input{Channels: 1, Height: h, Width: w}, Classes: classes, Bias: bias, Dtype: dtype,
						Layers: []Layer{
							{Kind: "dense", Units: 7, Activation: act},
							{Kind: "dense", Units: 6, Activation: act},
							{Kind: "dense", Units: classes, Activation: "identity"},
						},
					}
					names, shapes, err := a.Params()
					if err != nil {
						t.Fatal(err)
					}
					var params []Param
					byName := map[string][]float64{}
					for i, name := range names {
						size := 1
						for _, d := range shapes[i] {
							size *= d
						}
						v := make([]float64, size)
						for j := range v {
							v[j] = rng.NormFloat64()
							if dtype == Float32 {
								v[j] = float64(float32(v[j]))
							}
						}
						params = append(params, Param{Name: name, Shape: shapes[i], Values: v})
						byName[name] = v
					}
					pixels := make([]byte, n*h*w)
					for i := range pixels {
						pixels[i] = byte(rng.IntN(256))
					}
					pred := forward(a, byName, pixels, n)
					labels := make([]byte, n)
					right := 0
					for i := range labels {
						labels[i] = byte(pred[i])
						if i%3 == 0 {
							labels[i] = byte(rng.IntN(classes))
						}
						if int(labels[i]) == pred[i] {
							right++
						}
					}
					dir := t.TempDir()
					writeIDX(t, dir, pixels, h, w, labels, seed%2 == 0)
					want := fmt.Sprintf("accuracy %.4f\n", float64(right)/n)
					out, errs, code := runCheck(t, py, a, params, dir)
					if code != 0 || out != want {
						t.Errorf("exit %d, printed %q (stderr %q), the Go forward pass gives %q", code, out, errs, want)
					}
				})
			}
		}
	}
}

func TestCheckExportErrors(t *testing.T) {
	py := numpyPython(t)
	data := t.TempDir()
	writeIDX(t, data, handSet.pixels, 2, 2, handSet.labels, false)
	tests := []struct {
		name   string
		mutate func(a *Architecture, ps []Param) []Param
		dir    string // "" for the hand set
		text   string
	}{
		{"export for another bias mode", func(a *Architecture, ps []Param) []Param {
			ps[0] = Param{Name: "layer1/W", Shape: []int{4, 3}, Values: ps[0].Values[:12]}
			return ps
		}, "", "layer1/W is float64 (4, 3), the model needs float64 (5, 3)"},
		{"a missing array", func(a *Architecture, ps []Param) []Param { return ps[:1] }, "",
			"arrays ['layer1/W'], the model needs ['layer1/W', 'layer2/W']"},
		{"an extra array", func(a *Architecture, ps []Param) []Param {
			return append(ps, Param{Name: "layer3/W", Shape: []int{1}, Values: []float64{1}})
		}, "", "arrays ['layer1/W', 'layer2/W', 'layer3/W']"},
		{"images of another size", func(a *Architecture, ps []Param) []Param {
			a.Input = Input{Channels: 1, Height: 1, Width: 4}
			return ps
		}, "", "images of (2, 2), the model takes 1x1x4"},
		{"labels beyond the classes", func(a *Architecture, ps []Param) []Param {
			a.Classes, a.Layers[1].Units = 2, 2
			ps[1] = Param{Name: "layer2/W", Shape: []int{3, 2}, Values: []float64{1, 0, 0, 1, 0, 0}}
			return ps
		}, "", "5 labels up to 2 for 5 images and 2 classes"},
		{"no MNIST files", func(a *Architecture, ps []Param) []Param { return ps }, t.TempDir(),
			"neither t10k-images-idx3-ubyte nor t10k-images-idx3-ubyte.gz found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, ps := handModel()
			ps = tc.mutate(a, ps)
			dir := tc.dir
			if dir == "" {
				dir = data
			}
			out, errs, code := runCheck(t, py, a, ps, dir)
			if code != 1 || out != "" || !strings.HasPrefix(errs, "check_export: ") || !strings.Contains(errs, tc.text) {
				t.Errorf("exit %d, stdout %q, stderr %q: want exit 1 and a message saying %q", code, out, errs, tc.text)
			}
		})
	}
	// model.json errors that WriteArchitecture would refuse.
	for _, tc := range []struct{ name, json, text string }{
		{"not identity last", `{"input":{"channels":1,"height":2,"width":2},"classes":3,"bias":"input","dtype":"float64",
			"layers":[{"kind":"dense","units":3,"activation":"sigmoid"}]}`, "the last layer must be identity with 3 units"},
		{"misspelt key", `{"input":{"channels":1,"height":2,"width":2},"classes":3,"bias":"input","dtype":"float64",
			"layers":[{"kind":"dense","units":3,"activation":"identity","bais":true}]}`, "layer1: keys ['activation', 'bais', 'kind', 'units']"},
		{"not JSON", `{"input":`, "Expecting value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, ps := handModel()
			work := t.TempDir()
			npz, js := filepath.Join(work, "m.npz"), filepath.Join(work, "m.json")
			if err := WriteNPZ(npz, ps, Float64); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(js, []byte(tc.json), 0o644); err != nil {
				t.Fatal(err)
			}
			out, errs, code := runScript(t, py, npz, js, data)
			if code != 1 || out != "" || !strings.Contains(errs, tc.text) {
				t.Errorf("exit %d, stdout %q, stderr %q: want exit 1 and a message saying %q", code, out, errs, tc.text)
			}
		})
	}
	if _, errs, code := runScript(t, py, "only-one-argument"); code != 2 || !strings.HasPrefix(errs, "usage: ") {
		t.Errorf("with one argument: exit %d, stderr %q, want the usage and exit 2", code, errs)
	}
}
