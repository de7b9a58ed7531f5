package attack_test

import (
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/glr-project/glr/attack"
)

// Logits makes logistic an attack.Scorer: its logits are (0, w·x + b).
func (m logistic) Logits(x, dst []float64) error {
	d := len(m.w)
	if len(x)%d != 0 || len(dst) != 2*(len(x)/d) {
		return errors.New("logistic: bad lengths")
	}
	for i := range len(x) / d {
		dst[2*i], dst[2*i+1] = 0, m.score(x[i*d:(i+1)*d])
	}
	return nil
}

// Attack a classifier of 4×4 grey images with the Square Attack, which sees
// only its logits. The classifier calls an image class 1 when its top half
// is brighter than its bottom half by more than 0.5/8 on average; an image
// at score s = w·x + b needs an L∞ perturbation of |s|/16 to change class.
func ExampleSquare() {
	m := logistic{w: []float64{1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1, -1}, b: -0.5}
	image := func(top, bottom float64) []float64 {
		x := make([]float64, 16)
		for j := range x {
			x[j] = top
			if j >= 8 {
				x[j] = bottom
			}
		}
		return x
	}
	var x []float64
	x = append(x, image(0.55, 0.45)...) // s = 0.3, needs 0.019
	x = append(x, image(0.9, 0.1)...)   // s = 5.9, needs 0.369
	x = append(x, image(0.4, 0.6)...)   // s = −2.1, needs 0.131
	labels := []int{1, 1, 0}

	res, err := attack.Square(m, x, labels, 0.15, attack.SquareOptions{
		Height: 4, Width: 4, Channels: 1, Queries: 100, Rng: rand.New(rand.NewPCG(1, 2)),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for i := range labels {
		fmt.Printf("image %d: fooled %v after %d queries\n", i, res.Success[i], res.Queries[i])
	}
	// Output:
	// image 0: fooled true after 7 queries
	// image 1: fooled false after 100 queries
	// image 2: fooled true after 31 queries
}
