package plots

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// twoArms returns a BP and a GLR arm over the given number of epochs.
func twoArms(epochs int) []ArmCurve {
	mk := func(name string, rate, floor float64) ArmCurve {
		a := ArmCurve{Name: name}
		for e := 1; e <= epochs; e++ {
			f := float64(e)
			train := floor + 2*math.Exp(-rate*f)
			a.Epochs = append(a.Epochs, e)
			a.TrainLoss = append(a.TrainLoss, train)
			a.TestLoss = append(a.TestLoss, 1.1*train+0.05)
			a.TestAccuracy = append(a.TestAccuracy, 0.98-0.85*math.Exp(-1.3*rate*f))
		}
		return a
	}
	return []ArmCurve{mk("BP", 0.35, 0.05), mk("GLR", 0.12, 0.2)}
}

// decode reads the PNG at path.
func decode(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decoding %s: %v", path, err)
	}
	return img
}

// countNear counts the pixels of img within r whose colour is within tol of
// c in every channel.
func countNear(img image.Image, r image.Rectangle, c color.RGBA, tol int) int {
	near := func(a uint32, b uint8) bool {
		d := int(a>>8) - int(b)
		return -tol <= d && d <= tol
	}
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			pr, pg, pb, _ := img.At(x, y).RGBA()
			if near(pr, c.R) && near(pg, c.G) && near(pb, c.B) {
				n++
			}
		}
	}
	return n
}

// dirNames lists the names in dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestCurves(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "curves.png")
	if err := Curves(path, twoArms(30)); err != nil {
		t.Fatalf("Curves: %v", err)
	}
	img := decode(t, path)

	if got, want := img.Bounds().Size(), (image.Point{X: 2 * DefaultPanelWidth, Y: DefaultHeight}); got != want {
		t.Errorf("size = %v, want %v", got, want)
	}

	colours := make(map[color.Color]bool)
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			colours[img.At(x, y)] = true
		}
	}
	if len(colours) <= 2 {
		t.Errorf("image has %d distinct colours, want more than 2", len(colours))
	}

	// Styles go by first appearance: BP train, BP test, GLR train, GLR
	// test. The train lines are only in the loss panel (left half); the
	// test lines are in both panels, in the same colour.
	left := image.Rect(b.Min.X, b.Min.Y, b.Min.X+b.Dx()/2, b.Max.Y)
	right := image.Rect(b.Min.X+b.Dx()/2, b.Min.Y, b.Max.X, b.Max.Y)
	const enough = 50
	for _, tc := range []struct {
		name    string
		style   int
		inRight bool
	}{
		{"BP train", 0, false},
		{"BP test", 1, true},
		{"GLR train", 2, false},
		{"GLR test", 3, true},
	} {
		c := styleFor(tc.style).line.Color.(color.RGBA)
		if n := countNear(img, left, c, 8); n < enough {
			t.Errorf("%s: %d pixels of %v in the loss panel, want at least %d", tc.name, n, c, enough)
		}
		n := countNear(img, right, c, 8)
		if tc.inRight && n < enough {
			t.Errorf("%s: %d pixels of %v in the accuracy panel, want at least %d", tc.name, n, c, enough)
		}
		if !tc.inRight && n != 0 {
			t.Errorf("%s: %d pixels of %v in the accuracy panel, want none", tc.name, n, c)
		}
	}

	if names := dirNames(t, dir); len(names) != 1 || names[0] != "curves.png" {
		t.Errorf("directory holds %q, want only curves.png", names)
	}
}

func TestWritePNGSize(t *testing.T) {
	s := Series{Name: "s", X: []float64{0, 1, 2}, Y: []float64{1, 3, 2}}
	p := Panel{Title: "t", XLabel: "x", YLabel: "y", Series: []Series{s}}
	tests := []struct {
		name          string
		width, height int
		panels        int
		want          image.Point
	}{
		{"default one panel", 0, 0, 1, image.Pt(600, 450)},
		{"default three panels", 0, 0, 3, image.Pt(1800, 450)},
		{"default width only", 0, 300, 2, image.Pt(1200, 300)},
		{"explicit", 801, 333, 2, image.Pt(801, 333)},
		{"smallest", MinPanelWidth, MinHeight, 1, image.Pt(MinPanelWidth, MinHeight)},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			panels := make([]Panel, tt.panels)
			for i := range panels {
				panels[i] = p
			}
			path := filepath.Join(dir, "size.png")
			if err := WritePNG(path, tt.width, tt.height, panels...); err != nil {
				t.Fatalf("WritePNG: %v", err)
			}
			if got := decode(t, path).Bounds().Size(); got != tt.want {
				t.Errorf("size = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestWritePNGDrawsOddData(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	zero, tenth, one := 0.0, 0.1, 1.0
	many := make([]Series, 15)
	for i := range many {
		many[i] = Series{Name: strings.Repeat("x", i+1), X: []float64{0, 1}, Y: []float64{float64(i), 0}}
	}
	tests := []struct {
		name  string
		panel Panel
	}{
		{"gaps", Panel{Series: []Series{{Name: "s", X: []float64{0, 1, 2, 3, 4}, Y: []float64{1, nan, 2, inf, 3}}}}},
		{"non-finite x", Panel{Series: []Series{{Name: "s", X: []float64{nan, 1, math.Inf(-1), 3}, Y: []float64{1, 2, 3, 4}}}}},
		{"single point", Panel{Series: []Series{{Name: "s", X: []float64{7}, Y: []float64{7}}}}},
		{"flat", Panel{Series: []Series{{Name: "s", X: []float64{1, 2, 3}, Y: []float64{5, 5, 5}}}}},
		{"fixed range clips", Panel{YMin: &zero, YMax: &one, Series: []Series{{Name: "s", X: []float64{0, 1, 2}, Y: []float64{-5, 0.5, 5}}}}},
		{"fixed min above data", Panel{YMin: &one, Series: []Series{{Name: "s", X: []float64{0, 1}, Y: []float64{-3, -2}}}}},
		{"fixed max below data", Panel{YMax: &zero, Series: []Series{{Name: "s", X: []float64{0, 1}, Y: []float64{3, 2}}}}},
		{"huge values", Panel{Series: []Series{{Name: "s", X: []float64{0, math.MaxFloat64 / 4}, Y: []float64{math.MaxFloat64 / 3, -math.MaxFloat64 / 3}}}}},
		{"huge single point", Panel{Series: []Series{{Name: "s", X: []float64{1e20}, Y: []float64{-1e20}}}}},
		{"tiny span", Panel{Series: []Series{{Name: "s", X: []float64{1e17, 1e17 + 16}, Y: []float64{1, 1 + 1e-15}}}}},
		{"tiny values", Panel{Series: []Series{{Name: "s", X: []float64{0, 1}, Y: []float64{1e-9, 3e-9}}}}},
		{"unsorted x", Panel{Series: []Series{{Name: "s", X: []float64{3, 1, 2}, Y: []float64{1, 2, 3}}}}},
		{"many series", Panel{Series: many}},
		{"log gaps", Panel{LogY: true, Series: []Series{{Name: "s", X: []float64{0, 1, 2, 3, 4}, Y: []float64{1, 0, 2, -3, 3}}}}},
		{"log single point", Panel{LogX: true, LogY: true, Series: []Series{{Name: "s", X: []float64{7}, Y: []float64{7}}}}},
		{"log fixed range clips", Panel{LogY: true, YMin: &tenth, YMax: &one, Series: []Series{{Name: "s", X: []float64{0, 1, 2}, Y: []float64{1e-3, 0.5, 5}}}}},
		{"log fixed min above data", Panel{LogY: true, YMin: &one, Series: []Series{{Name: "s", X: []float64{0, 1}, Y: []float64{0.1, 0.2}}}}},
		{"log huge values", Panel{LogX: true, LogY: true, Series: []Series{{Name: "s", X: []float64{1, math.MaxFloat64}, Y: []float64{math.SmallestNonzeroFloat64, math.MaxFloat64}}}}},
		{"log narrow", Panel{LogX: true, LogY: true, Series: []Series{{Name: "s", X: []float64{6, 9}, Y: []float64{1.1, 1.2}}}}},
		{"log many series", Panel{LogY: true, Series: many[1:]}},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "odd.png")
			for _, size := range [][2]int{{0, 0}, {MinPanelWidth, MinHeight}} {
				if err := WritePNG(path, size[0], size[1], tt.panel); err != nil {
					t.Fatalf("WritePNG at %v: %v", size, err)
				}
				decode(t, path)
			}
		})
	}
}

func TestWritePNGErrors(t *testing.T) {
	ok := Series{Name: "s", X: []float64{0, 1}, Y: []float64{0, 1}}
	nan := math.NaN()
	lo, hi, inf, maxF := 0.0, 1.0, math.Inf(1), math.MaxFloat64
	dir := t.TempDir()
	file := filepath.Join(dir, "regular-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "out.png")

	tests := []struct {
		name          string
		path          string
		width, height int
		panels        []Panel
		want          string // in the error message
		is            error  // if not nil, errors.Is must hold
	}{
		{name: "no panels", path: good, want: "no panels"},
		{name: "no series", path: good, panels: []Panel{{Title: "empty"}}, want: `panel 0 ("empty"): no series`},
		{name: "unnamed series", path: good, panels: []Panel{{Series: []Series{{X: []float64{1}, Y: []float64{1}}}}}, want: "no name"},
		{name: "duplicate series", path: good, panels: []Panel{{Series: []Series{ok, ok}}}, want: `duplicate series name "s"`},
		{name: "length mismatch", path: good, panels: []Panel{{Series: []Series{{Name: "m", X: []float64{1, 2}, Y: []float64{1}}}}}, want: "len(X) = 2, len(Y) = 1"},
		{name: "empty series", path: good, panels: []Panel{{Series: []Series{{Name: "e"}}}}, is: ErrNoFinitePoints},
		{name: "all NaN", path: good, panels: []Panel{{Series: []Series{{Name: "n", X: []float64{1, 2}, Y: []float64{nan, nan}}}}}, is: ErrNoFinitePoints},
		{name: "second panel bad", path: good, panels: []Panel{{Series: []Series{ok}}, {Title: "b"}}, want: `panel 1 ("b")`},
		{name: "YMin >= YMax", path: good, panels: []Panel{{Series: []Series{ok}, YMin: &hi, YMax: &lo}}, want: "not below"},
		{name: "YMin equal YMax", path: good, panels: []Panel{{Series: []Series{ok}, YMin: &hi, YMax: &hi}}, want: "not below"},
		{name: "infinite YMax", path: good, panels: []Panel{{Series: []Series{ok}, YMax: &inf}}, want: "YMax = +Inf is not finite"},
		{name: "NaN YMin", path: good, panels: []Panel{{Series: []Series{ok}, YMin: &nan}}, want: "YMin = NaN is not finite"},
		{name: "x range overflows", path: good, panels: []Panel{{Series: []Series{{Name: "w", X: []float64{-math.MaxFloat64, math.MaxFloat64}, Y: []float64{0, 1}}}}}, want: "too wide"},
		{name: "y range overflows", path: good, panels: []Panel{{Series: []Series{{Name: "w", X: []float64{0, 1}, Y: []float64{math.MaxFloat64, -math.MaxFloat64}}}}}, want: "too wide"},
		{name: "no room above YMin", path: good, panels: []Panel{{Series: []Series{ok}, YMin: &maxF}}, want: "y range"},
		{name: "negative width", path: good, width: -1, panels: []Panel{{Series: []Series{ok}}}, want: "out of range"},
		{name: "negative height", path: good, height: -1, panels: []Panel{{Series: []Series{ok}}}, want: "out of range"},
		{name: "too large", path: good, width: MaxSide + 1, panels: []Panel{{Series: []Series{ok}}}, want: "out of range"},
		{name: "too narrow", path: good, width: 2*MinPanelWidth - 1, panels: []Panel{{Series: []Series{ok}}, {Series: []Series{ok}}}, want: "too small"},
		{name: "too short", path: good, height: MinHeight - 1, panels: []Panel{{Series: []Series{ok}}}, want: "too small"},
		{name: "empty path", path: "", panels: []Panel{{Series: []Series{ok}}}, want: "empty output path"},
		{name: "missing directory", path: filepath.Join(dir, "no", "such", "out.png"), panels: []Panel{{Series: []Series{ok}}}, want: filepath.Join(dir, "no", "such", "out.png")},
		{name: "parent is a file", path: filepath.Join(file, "out.png"), panels: []Panel{{Series: []Series{ok}}}, want: filepath.Join(file, "out.png")},
		{name: "path is a directory", path: dir, panels: []Panel{{Series: []Series{ok}}}, want: "writing PNG: atomicfile: write " + dir + ": "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := WritePNG(tt.path, tt.width, tt.height, tt.panels...)
			if err == nil {
				t.Fatal("WritePNG succeeded, want an error")
			}
			if !strings.HasPrefix(err.Error(), "plots: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			if tt.want != "" && !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q is not %v", err, tt.is)
			}
		})
	}
	names := dirNames(t, dir)
	if len(names) != 1 || names[0] != "regular-file" {
		t.Errorf("after failed writes the directory holds %q, want only regular-file", names)
	}
}

func TestCurvesErrors(t *testing.T) {
	arm := func(mod func(*ArmCurve)) []ArmCurve {
		arms := twoArms(3)
		mod(&arms[1])
		return arms
	}
	nan := math.NaN()
	tests := []struct {
		name string
		arms []ArmCurve
		want string
		is   error
	}{
		{name: "nil", arms: nil, want: "no arms"},
		{name: "empty", arms: []ArmCurve{}, want: "no arms"},
		{name: "unnamed", arms: arm(func(a *ArmCurve) { a.Name = "" }), want: "arm 1 has no name"},
		{name: "duplicate", arms: arm(func(a *ArmCurve) { a.Name = "BP" }), want: `duplicate arm name "BP"`},
		{name: "no epochs", arms: arm(func(a *ArmCurve) { *a = ArmCurve{Name: a.Name} }), want: `arm "GLR" has no epochs`},
		{name: "short train loss", arms: arm(func(a *ArmCurve) { a.TrainLoss = a.TrainLoss[:2] }), want: "len(TrainLoss) = 2, len(Epochs) = 3"},
		{name: "long test loss", arms: arm(func(a *ArmCurve) { a.TestLoss = append(a.TestLoss, 1) }), want: "len(TestLoss) = 4"},
		{name: "missing accuracy", arms: arm(func(a *ArmCurve) { a.TestAccuracy = nil }), want: "len(TestAccuracy) = 0"},
		{name: "diverged", arms: arm(func(a *ArmCurve) { a.TrainLoss = []float64{nan, nan, math.Inf(1)} }), want: `"GLR train"`, is: ErrNoFinitePoints},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Curves(filepath.Join(dir, "c.png"), tt.arms)
			if err == nil {
				t.Fatal("Curves succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q is not %v", err, tt.is)
			}
		})
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("after failed writes the directory holds %q, want nothing", names)
	}
}

func TestWritePNGReplacesAtomically(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.png")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}

	// A failed call leaves the old file alone.
	if err := WritePNG(path, 0, 0, Panel{}); err == nil {
		t.Fatal("WritePNG of an empty panel succeeded")
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "old" {
		t.Fatalf("after a failed write, file = %q, %v; want \"old\"", b, err)
	}

	// A good call replaces it with a complete PNG and no leftovers.
	if err := Curves(path, twoArms(5)); err != nil {
		t.Fatal(err)
	}
	decode(t, path)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	// The mode is 0644 masked by the umask, as os.WriteFile gives.
	ref := filepath.Join(t.TempDir(), "ref")
	if err := os.WriteFile(ref, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	rfi, err := os.Stat(ref)
	if err != nil {
		t.Fatal(err)
	}
	if perm, want := fi.Mode().Perm(), rfi.Mode().Perm(); perm != want {
		t.Errorf("mode = %v, want %v (0644 under the umask)", perm, want)
	}
	if names := dirNames(t, dir); len(names) != 1 || names[0] != "r.png" {
		t.Errorf("directory holds %q, want only r.png", names)
	}
}

func TestRenderDeterministic(t *testing.T) {
	figures := map[string]func() Figure{
		"one row": func() Figure {
			arms := twoArms(12)
			p := Panel{Title: "loss", Series: []Series{
				{Name: "a", X: []float64{1, 2, 3}, Y: arms[0].TrainLoss[:3]},
				{Name: "b", X: []float64{1, 2, 3}, Y: arms[1].TrainLoss[:3]},
			}}
			return Figure{Panels: []Panel{p, p}}
		},
		"log grid, shared legend": func() Figure {
			arms := twoArms(12)
			p := Panel{Title: "loss", LogX: true, LogY: true, Series: []Series{
				{Name: "a", X: []float64{1, 10, 100}, Y: arms[0].TrainLoss[:3]},
				{Name: "b", X: []float64{1, 10, 100}, Y: arms[1].TrainLoss[:3]},
			}}
			return Figure{Panels: []Panel{p, p, p}, Columns: 2, Legend: LegendBelow}
		},
	}
	for name, fig := range figures {
		var out [][]byte
		for range 2 {
			b, err := fig().render()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, b)
		}
		if !bytes.Equal(out[0], out[1]) {
			t.Errorf("%s: two renderings of the same panels differ", name)
		}
	}
}

func TestStyles(t *testing.T) {
	// Colour and dash pattern together repeat only after
	// len(palette)*len(dashes) names.
	n := len(palette) * len(dashes)
	seen := make(map[string]int, n)
	for i := range n {
		s := styleFor(i)
		k := fmt.Sprint(s.line.Color, s.line.Dashes)
		if j, ok := seen[k]; ok {
			t.Errorf("styles %d and %d share colour and dashes %s", j, i, k)
		}
		seen[k] = i
	}
	if a, b := styleFor(0), styleFor(n); fmt.Sprint(a.line) != fmt.Sprint(b.line) {
		t.Errorf("style %d = %v, want it to cycle back to style 0 = %v", n, b.line, a.line)
	}
}

func TestNiceTicker(t *testing.T) {
	tests := []struct {
		name    string
		t       niceTicker
		lo, hi  float64
		want    []string // labels, in order
		noMinor bool
	}{
		{"unit", niceTicker{n: 5}, 0, 1, []string{"0", "0.2", "0.4", "0.6", "0.8", "1.0"}, false},
		{"epochs", niceTicker{n: 6, integer: true}, 1, 30, []string{"5", "10", "15", "20", "25", "30"}, false},
		{"few epochs", niceTicker{n: 6, integer: true}, 1, 3, []string{"1", "2", "3"}, true},
		{"negative", niceTicker{n: 4}, -1, 1, []string{"-1.0", "-0.5", "0", "0.5", "1.0"}, false},
		{"large", niceTicker{n: 2}, 0, 3e6, []string{"0", "2e+06"}, false},
		{"small", niceTicker{n: 2}, 0, 3e-6, []string{"0", "2e-06"}, false},
		{"subnormal", niceTicker{n: 6}, 0, 5e-324, []string{"0", "5e-324"}, true},
		{"offset", niceTicker{n: 5}, 1000.1, 1000.9, []string{"1000.2", "1000.4", "1000.6", "1000.8"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			prev := math.Inf(-1)
			for _, tk := range tt.t.Ticks(tt.lo, tt.hi) {
				if tk.Value < tt.lo-1e-9 || tk.Value > tt.hi+1e-9 {
					t.Errorf("tick %v outside [%v, %v]", tk.Value, tt.lo, tt.hi)
				}
				if tk.Value <= prev {
					t.Errorf("tick %v not above %v", tk.Value, prev)
				}
				prev = tk.Value
				if tt.t.integer && tk.Value != math.Trunc(tk.Value) {
					t.Errorf("tick %v on an integer axis", tk.Value)
				}
				if tk.Label == "" {
					if tt.noMinor {
						t.Errorf("minor tick at %v", tk.Value)
					}
					continue
				}
				got = append(got, tk.Label)
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("labels = %q, want %q", got, tt.want)
			}
		})
	}
}
