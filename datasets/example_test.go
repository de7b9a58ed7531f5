package datasets_test

import (
	"fmt"
	"log"

	"github.com/glr-project/glr/datasets"
)

func ExampleSet_Gather() {
	// Three 1x2 images, stored as raw bytes: value = byte/255.
	s, err := datasets.NewSet("tiny", 1, 2, 2, []byte{0, 51, 255, 255, 102, 0}, []int{0, 1, 0})
	if err != nil {
		log.Fatal(err)
	}
	// Reuse one minibatch buffer for every batch.
	x := make([]float64, 2*s.Features)
	labels := make([]int, 2)
	if err := s.Gather([]int{2, 1}, x, labels); err != nil {
		log.Fatal(err)
	}
	fmt.Println(x, labels)

	first := s.Limit(1)
	fmt.Println(first.Len(), first.Labels)
	// Output:
	// [0.4 0 1 1] [0 1]
	// 1 [0]
}

func ExampleBatch() {
	s, err := datasets.NewSet("tiny", 1, 2, 2, []byte{0, 51, 255, 255, 102, 0}, []int{0, 1, 0})
	if err != nil {
		log.Fatal(err)
	}
	b := datasets.Batch{Set: s, Index: []int{2, 0}}
	// Rows of Features()+1 values: the last column is a constant 1 for a
	// bias, which Write32 leaves as it is.
	stride := b.Features() + 1
	x := make([]float32, b.Len()*stride)
	for i := range b.Len() {
		x[i*stride+b.Features()] = 1
	}
	labels := make([]int, b.Len())
	if err := b.Write32(x, stride, labels); err != nil {
		log.Fatal(err)
	}
	fmt.Println(x, labels)
	// Output:
	// [0.4 0 1 0 0.2 1] [0 0]
}

func ExampleLoadMNIST() {
	// "" loads the copy of MNIST embedded in the package (or the IDX files
	// in $MNIST_DIR, if that is set).
	train, test, err := datasets.LoadMNIST("")
	if err != nil {
		log.Fatal(err)
	}
	if err := datasets.Compatible(train, test); err != nil {
		log.Fatal(err)
	}
	train = train.Limit(1000) // a quick experiment on the first 1000 examples
	c, h, w := train.Image()
	fmt.Println(train.Len(), test.Len(), c, h, w, train.Labels[:5])
	// Output:
	// 1000 10000 1 28 28 [5 0 4 1 9]
}
