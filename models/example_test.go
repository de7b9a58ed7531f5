package models_test

import (
	"fmt"
	"log"

	"github.com/glr-project/glr/assemble"
	"github.com/glr-project/glr/checkpoint"
	"github.com/glr-project/glr/configs"
	"github.com/glr-project/glr/graph"
	"github.com/glr-project/glr/models"
)

// ExampleNewClassifier runs a network of known weights: 2×2-pixel images,
// three classes, the logits x·W with W passing pixels 0, 1 and 2 to classes
// 0, 1 and 2.
func ExampleNewClassifier() {
	exp, err := configs.Parse("hand.toml", []byte("name = \"hand\"\n[model]\nhidden = []\n"))
	if err != nil {
		log.Fatal(err)
	}
	spec, err := assemble.Spec(exp, graph.Image{C: 1, H: 2, W: 2}, 3)
	if err != nil {
		log.Fatal(err)
	}
	w := checkpoint.Param{Name: "layer1/W", Shape: []int{5, 3}, Values: []float64{
		1, 0, 0,
		0, 1, 0,
		0, 0, 1,
		0, 0, 0,
		0, 0, 0, // the constant-1 input: no bias
	}}
	spec.Params = models.Tensors([]checkpoint.Param{w}, spec.Dtype)
	c, err := models.NewClassifier(spec, false)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	x := []float64{
		0.9, 0.1, 0.0, 0.5,
		0.2, 0.3, 0.8, 0.0,
	}
	pred := make([]int, 2)
	logits := make([]float64, 6)
	if err := c.Predict(x, pred); err != nil {
		log.Fatal(err)
	}
	if err := c.Logits(x, logits); err != nil {
		log.Fatal(err)
	}
	fmt.Println(pred, logits)
	// Output:
	// [0 2] [0.9 0.1 0 0.2 0.3 0.8]
}
