package optim_test

import (
	"fmt"
	"log"

	"github.com/glr-project/glr/optim"
	"gorgonia.org/tensor"
)

func Example() {
	w := tensor.New(tensor.WithShape(2), tensor.WithBacking([]float64{1, -2}))
	g := tensor.New(tensor.WithShape(2), tensor.WithBacking([]float64{0.5, 0.25}))

	opt, err := optim.New(optim.Config{Kind: "sgd", LearningRate: 0.1})
	if err != nil {
		log.Fatal(err)
	}
	for epoch := 1; epoch <= 3; epoch++ {
		opt.SetLearningRate(optim.Schedule(0.1, 0.5, 2, epoch))
		if err := opt.Step([]*tensor.Dense{w}, []*tensor.Dense{g}); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("epoch %d: lr %v, w %v\n", epoch, opt.LearningRate(), w.Float64s())
	}

	// Save the state, and restore it into a fresh optimizer.
	state, err := opt.MarshalBinary()
	if err != nil {
		log.Fatal(err)
	}
	resumed, _ := optim.New(optim.Config{Kind: "sgd", LearningRate: 0.1})
	if err := resumed.UnmarshalBinary(state); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("resumed after %d updates at lr %v\n", resumed.Updates(), resumed.LearningRate())

	_, err = optim.New(optim.Config{Kind: "rmsprop", LearningRate: 0.1})
	fmt.Println(err)
	// Output:
	// epoch 1: lr 0.1, w [0.95 -2.025]
	// epoch 2: lr 0.1, w [0.8999999999999999 -2.05]
	// epoch 3: lr 0.05, w [0.8749999999999999 -2.0625]
	// resumed after 3 updates at lr 0.05
	// unknown optimizer "rmsprop" (want sgd | momentum | adagrad | adam)
}

func ExampleSchedule() {
	// Initial rate 0.01, multiplied by 0.8 after every 10th epoch.
	for _, epoch := range []int{1, 10, 11, 20, 21} {
		fmt.Printf("epoch %d: %.4g\n", epoch, optim.Schedule(0.01, 0.8, 10, epoch))
	}
	// Output:
	// epoch 1: 0.01
	// epoch 10: 0.01
	// epoch 11: 0.008
	// epoch 20: 0.008
	// epoch 21: 0.0064
}
