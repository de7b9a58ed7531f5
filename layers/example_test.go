package layers_test

import (
	"fmt"
	"log"

	"github.com/glr-project/glr/graph"
	"github.com/glr-project/glr/layers"
)

// A LeNet-like network for 28×28 grey images: two conv layers with 2×2
// pooling, then dense layers of 120 and 84 units and 10 logits.
func ExampleCNN() {
	in := graph.Image{C: 1, H: 28, W: 28}
	ls, err := layers.CNN(in,
		[]layers.Conv{{Filters: 6, Kernel: 5, Pool: 2}, {Filters: 16, Kernel: 5, Pool: 2}},
		[]int{120, 84}, layers.ReLU, layers.BiasAll, layers.Glorot, 10)
	if err != nil {
		log.Fatal(err)
	}
	for _, l := range ls {
		if c, ok := l.(layers.Conv); ok {
			out, _ := c.Out()
			fmt.Printf("conv %d@%d: %v -> %v\n", c.Filters, c.Kernel, c.In, out)
		}
	}
	net, err := graph.Build(graph.Spec{Inputs: in.Len(), Classes: 10, Batch: 32, Layers: ls, Scales: []float64{0.1}, Seed: 1})
	if err != nil {
		log.Fatal(err)
	}
	n := 0
	for _, p := range net.Params {
		n += p.Shape().TotalSize()
	}
	fmt.Println(len(net.Sites), "noise sites,", n, "weights; first dense weight", net.Params[4].Shape())
	// Output:
	// conv 6@5: 1×28×28 -> 6×12×12
	// conv 16@5: 6×12×12 -> 16×4×4
	// 5 noise sites, 44426 weights; first dense weight (256, 120)
}
