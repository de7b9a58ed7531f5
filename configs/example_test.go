package configs_test

import (
	"fmt"
	"log"
	"os"

	"github.com/glr-project/glr/configs"
)

func ExampleParse() {
	src := []byte(`
name = "mnist-lrt"

[model]
hidden = [50]
activation = "threshold"

[estimator]
copies = 10

[[arms]]
name = "glr"

[[arms]]
name = "bp"
[arms.estimator]
kind = "bp"
noise = true
`)
	exp, err := configs.Parse("mnist-lrt.toml", src, "noise.scale=0.5", "arms[0].estimator.antithetic=true")
	if err != nil {
		log.Fatal(err)
	}
	for _, arm := range exp.Resolved() {
		fmt.Printf("%s: estimator=%s copies=%d antithetic=%t noise=%s(%g)\n",
			arm.Name, arm.Estimator.Kind, arm.Estimator.Copies, arm.Estimator.Antithetic,
			arm.Noise.Distribution, arm.Noise.Scale)
	}
	// Output:
	// glr: estimator=glr copies=10 antithetic=true noise=laplace(0.5)
	// bp: estimator=bp copies=10 antithetic=false noise=laplace(0.5)
}

func ExampleParse_error() {
	src := []byte(`name = "mnist-lrt"
[model]
activation = "sigmod"
[estimator]
kind = "bp"
[loss]
kind = "zero-one"
`)
	_, err := configs.Parse("configs/mnist.toml", src)
	fmt.Println(err)
	// Output:
	// configs/mnist.toml:3: model.activation: unknown activation "sigmod" (want sigmoid | threshold | relu | tanh)
	// configs/mnist.toml:7: loss.kind: backpropagation (estimator.kind = "bp") cannot differentiate the zero-one loss; use estimator.kind = "glr"
}

func ExampleExperiment_Encode() {
	exp := configs.Default()
	exp.Name = "tiny"
	exp.Model.Hidden = []int{10}
	exp.Data.TrainLimit = 100
	if err := exp.Validate(); err != nil {
		log.Fatal(err)
	}
	if err := exp.Encode(os.Stdout); err != nil {
		log.Fatal(err)
	}
	// Output:
	// name = "tiny"
	// seed = 1
	//
	// [model]
	// hidden = [10]
	// activation = "sigmoid"
	// bias = "input"
	// init = "scaled-normal"
	// dtype = "float64"
	//
	// [noise]
	// distribution = "laplace"
	// scale = 1.0
	// at_eval = false
	//
	// [estimator]
	// kind = "glr"
	// copies = 1
	// baseline = "none"
	// antithetic = false
	// noise = false
	//
	// [loss]
	// kind = "cross-entropy"
	//
	// [data]
	// dataset = "mnist"
	// path = ""
	// batch_size = 32
	// train_limit = 100
	// test_limit = 0
	// classes = 10
	// image_size = 32
	// sin = false
	//
	// [optimizer]
	// kind = "sgd"
	// learning_rate = 0.01
	// weight_decay = 0.0
	// decay_factor = 1.0
	// decay_every = 0
	//
	// [train]
	// epochs = 1
}
