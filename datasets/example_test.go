package datasets_test

import (
	"fmt"
	"log"

	"github.com/glr-project/glr/datasets"
)

func ExampleSet_Gather() {
	s := &datasets.Set{
		Name: "tiny", Height: 1, Width: 2, Features: 2, Classes: 2,
		X:      []float64{0, 0.5, 1, 1, 0.25, 0},
		Labels: []int{0, 1, 0},
	}
	// Reuse one minibatch buffer for every batch.
	x := make([]float64, 2*s.Features)
	labels := make([]int, 2)
	if err := s.Gather([]int{2, 1}, x, labels); err != nil {
		log.Fatal(err)
	}
	fmt.Println(x, labels)

	first := s.Limit(1)
	fmt.Println(first.Len(), first.X)
	// Output:
	// [0.25 0 1 1] [0 1]
	// 1 [0 0.5]
}

func ExampleLoadMNIST() {
	// "" loads the copy of MNIST bundled with the GoMNIST module
	// (or the directory in $MNIST_DIR).
	train, test, err := datasets.LoadMNIST("")
	if err != nil {
		log.Fatal(err)
	}
	train = train.Limit(1000) // a quick experiment on the first 1000 examples
	fmt.Println(train.Len(), test.Len(), train.Features)
}
