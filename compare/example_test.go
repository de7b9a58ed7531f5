package compare_test

import (
	"fmt"
	"log"

	"github.com/glr-project/glr/compare"
	"github.com/glr-project/glr/configs"
	"github.com/glr-project/glr/datasets"
)

// ExampleGradCheck checks GLR against backpropagation through the noise on
// a small sigmoid network with Gaussian noise: with 1,000 draws their means
// agree closely at both sites.
func ExampleGradCheck() {
	exp, err := configs.Parse("check.toml", []byte(`
name = "check"
seed = 3
[model]
hidden = [5]
activation = "sigmoid"
bias = "all"
[noise]
distribution = "gaussian"
scale = 0.5
[estimator]
kind = "glr"
copies = 20
baseline = "clean"
`))
	if err != nil {
		log.Fatal(err)
	}
	// 40 images of 4×4 pixels in 2 classes: class 1 is brighter.
	var pix []byte
	var labels []int
	for i := 0; i < 40; i++ {
		labels = append(labels, i%2)
		for j := 0; j < 16; j++ {
			pix = append(pix, byte(50+100*(i%2)+(7*i+3*j)%50))
		}
	}
	train, err := datasets.NewSet("bright", 4, 4, 2, pix, labels)
	if err != nil {
		log.Fatal(err)
	}
	r, err := compare.GradCheck(exp, train, compare.GradCheckOptions{Draws: 1000, Batch: 8})
	if err != nil {
		log.Fatal(err)
	}
	for _, l := range r.Layers {
		fmt.Printf("%s: cosine above 0.99: %v, relative error below 0.1: %v\n", l.Name, *l.Cosine > 0.99, *l.RelativeError < 0.1)
	}
	// Output:
	// layer1: cosine above 0.99: true, relative error below 0.1: true
	// layer2: cosine above 0.99: true, relative error below 0.1: true
}
