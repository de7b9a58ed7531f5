package graph_test

import (
	"fmt"
	"log"

	"github.com/glr-project/glr/graph"
	"github.com/glr-project/glr/layers"
	"github.com/glr-project/glr/score"
	G "gorgonia.org/gorgonia"
)

// A network is built once for a fixed batch, then fed batch after batch and
// run, forward and backward, by a Program of its graph.
func ExampleBuild() {
	ls, err := layers.MLP([]int{4}, graph.Tanh, layers.BiasAll, layers.Glorot, 2)
	if err != nil {
		log.Fatal(err)
	}
	net, err := graph.Build(graph.Spec{
		Inputs: 3, Classes: 2, Batch: 2, Copies: 2, // two noisy copies of each example
		Layers: ls, Loss: graph.CrossEntropy,
		Noise: score.Gaussian, Scales: []float64{0.1}, Seed: 1,
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range net.Params {
		fmt.Println("parameter", p.Name(), p.Shape())
	}
	for _, s := range net.Sites {
		fmt.Printf("site %s: %d noisy rows, %d per input row\n", s.Name, s.Rows, s.Tiled)
	}

	batch := graph.Rows{X: []float64{0.5, -1, 0.25, 2, 0, -0.5}, Labels: []int{1, 0}, Dim: 3}
	if err := net.Feed(batch); err != nil {
		log.Fatal(err)
	}
	net.SetStep(1) // the position in the noise streams
	grads, err := net.Gradients()
	if err != nil {
		log.Fatal(err)
	}
	prog, err := net.Program(append(G.Nodes{net.Losses}, grads...)...)
	if err != nil {
		log.Fatal(err)
	}
	if err := prog.Run(); err != nil {
		log.Fatal(err)
	}
	losses := make([]float64, net.Rows())
	if err := net.ReadLosses(prog, losses); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("losses of copy 0: %.4f %.4f\n", losses[0], losses[1])
	fmt.Printf("losses of copy 1: %.4f %.4f\n", losses[2], losses[3])
	fmt.Println("gradient of", net.Params[0].Name(), prog.Value(grads[0]).Shape())
	// Output:
	// parameter layer1/W (3, 4)
	// parameter layer1/b (4)
	// parameter layer2/W (4, 2)
	// parameter layer2/b (2)
	// site layer1: 4 noisy rows, 2 per input row
	// site layer2: 4 noisy rows, 1 per input row
	// losses of copy 0: 0.9397 0.9009
	// losses of copy 1: 1.2962 1.0815
	// gradient of layer1/W (3, 4)
}
