package rng_test

import (
	"fmt"
	"slices"

	"github.com/glr-project/glr/internal/rng"
)

// Noise for a site at one training step, and the same noise regenerated
// from its keys alone, as a data-parallel worker holding only the seed would.
func Example() {
	const seed, step, site = 42, 7, 0
	r, psi := make([]float64, 4), make([]float64, 4)
	if err := rng.FillGaussian(r, psi, 0.1, seed, step, site); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("r = %.4f\nψ = %.3f\n", r, psi)

	again := make([]float64, 4)
	if err := rng.FillGaussian(again, nil, 0.1, seed, step, site); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("regenerated:", slices.Equal(again, r))

	// The same values, drawn one by one from the block's stream.
	src := rng.Stream(seed, step, site, 0)
	fmt.Printf("stream: %.4f\n", 0.1*src.Normal())
	// Output:
	// r = [0.1278 0.0906 0.0269 0.0270]
	// ψ = [12.775 9.059 2.689 2.701]
	// regenerated: true
	// stream: 0.1278
}
