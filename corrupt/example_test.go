package corrupt_test

import (
	"fmt"
	"log"
	"math/rand/v2"

	"github.com/glr-project/glr/corrupt"
)

func Example() {
	fmt.Println(corrupt.Names())

	// A 2×3 image: a bright vertical bar on black.
	img := []float64{
		0, 1, 0,
		0, 1, 0,
	}
	dst := make([]float64, len(img))
	c, err := corrupt.Lookup("contrast")
	if err != nil {
		log.Fatal(err)
	}
	if err := c.Apply(dst, img, 2, 3, 2, rand.New(rand.NewPCG(1, 2))); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %.3f\n", c.Name(), dst)

	// Shift a set of two images by one pixel (severity 1) in directions drawn
	// from seed 7: each image has its own stream, and the same seed always
	// gives the same images.
	set := append(append([]float64(nil), img...), img...)
	out := make([]float64, len(set))
	t, err := corrupt.Lookup("translate")
	if err != nil {
		log.Fatal(err)
	}
	if err := corrupt.ApplySet(t, out, set, 2, 2, 3, 1, 7); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %.0f\n", t.Name(), out)

	_, err = corrupt.Lookup("snow")
	fmt.Println(err)
	// Output:
	// [gaussian shot impulse glass-blur-glr-adv glass-blur motion-blur rotate shear scale translate brightness contrast fog]
	// contrast: [0.167 0.667 0.167 0.167 0.667 0.167]
	// translate: [0 0 0 0 0 1 0 0 0 1 0 0]
	// corrupt: unknown corruption "snow" (want gaussian | shot | impulse | glass-blur-glr-adv | glass-blur | motion-blur | rotate | shear | scale | translate | brightness | contrast | fog)
}
