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
kind = "glr"
copies = 10

[[arms]]
name = "glr"

[[arms]]
name = "bp"
[arms.estimator]
kind = "bp"
noise = true
copies = 2

[[arms]]
name = "es"
[arms.estimator]
kind = "es"
sigma = 0.05
`)
	exp, err := configs.Parse("mnist-lrt.toml", src, "noise.scale=0.5", "arms[0].estimator.baseline=leave-one-out")
	if err != nil {
		log.Fatal(err)
	}
	for _, arm := range exp.Resolved() {
		fmt.Printf("%s: %s, noise %s %v\n", arm.Name, arm.Estimator.Settings, arm.Noise.Distribution, arm.Noise.Scale)
	}
	// Output:
	// glr: glr K=10 leave-one-out, noise laplace [0.5]
	// bp: bp through noise K=2, noise laplace [0.5]
	// es: es n=10 σ=0.05 raw antithetic, noise laplace [0.5]
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
	_, err = configs.Parse("configs/mnist.toml", []byte("name = \"x\"\n[estimator]\nkind = \"es\"\nlayerwise = true\n"))
	fmt.Println(err)
	// Output:
	// configs/mnist.toml:3: model.activation: unknown activation "sigmod" (want sigmoid | threshold | relu | tanh)
	// configs/mnist.toml:7: loss.kind: bp (backpropagation) cannot differentiate the zero-one loss; use a likelihood-ratio or weight-space estimator such as glr
	// configs/mnist.toml:4: estimator.layerwise: not a key of estimator kind "es" (its keys: copies, sigma, antithetic, fitness); layerwise is a key of glr
}

func ExampleModel_ConvShapes() {
	src := []byte(`name = "lenet"
[model]
conv = [{filters = 6, kernel = 5, padding = 2, pool = 2}, {filters = 16, kernel = 5, pool = 2}]
hidden = [120, 84]
bias = "all"
`)
	exp, err := configs.Parse("lenet.toml", src)
	if err != nil {
		log.Fatal(err)
	}
	shapes, err := exp.Model.ConvShapes(exp.Data)
	if err != nil {
		log.Fatal(err)
	}
	for i, s := range shapes {
		fmt.Printf("conv[%d]: %v -> %v -> pooled %v\n", i, s.In, s.Conv, s.Out)
	}
	fmt.Println("first dense layer:", shapes[len(shapes)-1].Out.Len(), "features")
	fmt.Println("noise sites:", exp.Model.Sites())
	// Output:
	// conv[0]: 1×28×28 -> 6×28×28 -> pooled 6×14×14
	// conv[1]: 6×14×14 -> 16×10×10 -> pooled 16×5×5
	// first dense layer: 400 features
	// noise sites: 5
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
	// conv = []
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
	// sampler = "iid"
	// layerwise = false
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
