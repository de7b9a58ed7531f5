package assemble_test

import (
	"fmt"
	"log"

	"github.com/glr-project/glr/assemble"
	"github.com/glr-project/glr/configs"
	"github.com/glr-project/glr/graph"
)

// ExampleSpec maps a config's model to the spec of its network for MNIST's
// 28×28 images and 10 classes.
func ExampleSpec() {
	exp, err := configs.Parse("example.toml", []byte(`name = "example"
[model]
hidden = [50]
activation = "threshold"
bias = "input"
`))
	if err != nil {
		log.Fatal(err)
	}
	spec, err := assemble.Spec(exp, graph.Image{C: 1, H: 28, W: 28}, 10)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(spec.Inputs, spec.Classes, spec.InputBias, len(spec.Layers), spec.Dtype)
	// Output:
	// 784 10 true 2 float64
}
