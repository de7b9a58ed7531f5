package plots_test

import (
	"fmt"
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
