package linalg_test

import (
	"fmt"

	"github.com/glr-project/glr/internal/linalg"
)

// The weight gradient of a dense layer, Xᵀ·S, from X stored as a batch of
// rows; a Product reuses its buffers across training steps.
func Example() {
	x := []float64{ // 3 examples × 2 features
		1, 2,
		3, 4,
		5, 6,
	}
	s := []float64{ // 3 examples × 1 output
		1,
		0,
		-1,
	}
	g := make([]float64, 2*1)
	var p linalg.Product[float64]
	p.Gemm(true, false, 2, 1, 3, 1, x, 2, s, 1, 0, g, 1)
	fmt.Println(g)
	// Output:
	// [-4 -4]
}
