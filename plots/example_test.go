package plots_test

import (
	"fmt"
	"image/png"
	"os"
	"path/filepath"

	"github.com/glr-project/glr/plots"
)

func ExampleCurves() {
	dir, err := os.MkdirTemp(os.TempDir(), "plots-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	arms := []plots.ArmCurve{
		{
			Name:         "BP",
			Epochs:       []int{1, 2, 3, 4},
			TrainLoss:    []float64{1.2, 0.6, 0.4, 0.3},
			TestLoss:     []float64{1.3, 0.7, 0.5, 0.45},
			TestAccuracy: []float64{0.71, 0.85, 0.9, 0.92},
		},
		{
			Name:         "GLR",
			Epochs:       []int{1, 2, 3, 4},
			TrainLoss:    []float64{1.9, 1.4, 1.1, 0.9},
			TestLoss:     []float64{2.0, 1.5, 1.2, 1.0},
			TestAccuracy: []float64{0.42, 0.61, 0.7, 0.76},
		},
	}
	if err := plots.Curves(filepath.Join(dir, "curves.png"), arms); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("ok")
	// Output: ok
}

func ExampleWritePNG() {
	dir, err := os.MkdirTemp(os.TempDir(), "plots-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	lo, hi := 0.0, 1.0
	panel := plots.Panel{
		Title:  "cosine to backpropagation",
		XLabel: "draws",
		YLabel: "cosine",
		YMin:   &lo,
		YMax:   &hi,
		Series: []plots.Series{
			{Name: "layer1", X: []float64{10, 100, 1000}, Y: []float64{0.31, 0.74, 0.91}},
			{Name: "layer2", X: []float64{10, 100, 1000}, Y: []float64{0.22, 0.65, 0.88}},
		},
	}
	// 0, 0: the default size, 600×450 pixels for one panel.
	if err := plots.WritePNG(filepath.Join(dir, "cosine.png"), 0, 0, panel); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("ok")
	// Output: ok
}

// A figure for a comparison of estimators: the variance of the gradient
// estimate against the number of draws K, one log–log panel per layer, one
// curve per arm, and one legend for the whole figure below the panels.
func ExampleFigure_WritePNG() {
	dir, err := os.MkdirTemp(os.TempDir(), "plots-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	draws := []float64{10, 30, 100, 300, 1000}
	var layers []plots.Panel
	for l, scale := range []float64{4, 1, 0.2} {
		p := plots.Panel{
			Title:  fmt.Sprintf("layer %d", l+1),
			XLabel: "K (draws)",
			YLabel: "variance",
			LogX:   true,
			LogY:   true,
		}
		for _, arm := range []struct {
			name   string
			factor float64
		}{{"GLR", 1}, {"GLR antithetic", 0.3}} {
			var v []float64
			for _, k := range draws {
				v = append(v, scale*arm.factor/k) // variance falls as 1/K
			}
			p.Series = append(p.Series, plots.Series{Name: arm.name, X: draws, Y: v})
		}
		layers = append(layers, p)
	}
	path := filepath.Join(dir, "variance.png")
	fig := plots.Figure{Panels: layers, Columns: 2, Legend: plots.LegendBelow}
	if err := fig.WritePNG(path); err != nil {
		fmt.Println(err)
		return
	}

	f, err := os.Open(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Two columns of DefaultPanelWidth, two rows of DefaultHeight.
	fmt.Printf("%d×%d\n", cfg.Width, cfg.Height)
	// Output: 1200×900
}
