package conv_test

import (
	"fmt"

	"github.com/glr-project/glr/internal/conv"
)

// Example traces LeNet-5's shapes on MNIST: each convolution's patch matrix
// and weight matrix, and the features left for the dense layers.
func Example() {
	in := conv.Image{C: 1, H: 28, W: 28}
	c1 := conv.Conv{In: in, Filters: 6, Kernel: 5, Stride: 1}
	p1 := conv.Pool{In: c1.Out(), Size: 2, Kind: conv.Max}
	c2 := conv.Conv{In: p1.Out(), Filters: 16, Kernel: 5, Stride: 1}
	p2 := conv.Pool{In: c2.Out(), Size: 2, Kind: conv.Max}
	for _, err := range []error{c1.Check(), p1.Check(), c2.Check(), p2.Check()} {
		if err != nil {
			fmt.Println(err)
			return
		}
	}
	show := func(g conv.Conv) {
		o := g.Out()
		fmt.Printf("conv %d@%d×%d → %v   patches %d×%d per image, weights %d×%d\n",
			g.Filters, g.Kernel, g.Kernel, o, o.H*o.W, g.PatchWidth(), g.PatchWidth(), g.Filters)
	}
	fmt.Println("input", in)
	show(c1)
	fmt.Printf("%v pool %d → %v\n", p1.Kind, p1.Size, p1.Out())
	show(c2)
	fmt.Printf("%v pool %d → %v\n", p2.Kind, p2.Size, p2.Out())
	fmt.Println("features", p2.Out().Len())
	// Output:
	// input 1×28×28
	// conv 6@5×5 → 6×24×24   patches 576×25 per image, weights 25×6
	// max pool 2 → 6×12×12
	// conv 16@5×5 → 16×8×8   patches 64×150 per image, weights 150×16
	// max pool 2 → 16×4×4
	// features 256
}
