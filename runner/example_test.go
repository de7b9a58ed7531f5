package runner_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/glr-project/glr/configs"
	"github.com/glr-project/glr/runner"
)

// Example trains two arms, GLR and backpropagation, for one epoch on 300
// images of the embedded MNIST, and lists what the run directory records.
func Example() {
	exp, err := configs.Parse("example.toml", []byte(`
name = "example"
[model]
hidden = [8]
activation = "sigmoid"
[estimator]
kind = "glr"
copies = 4
[data]
train_limit = 300
test_limit = 100
[train]
epochs = 1
[[arms]]
name = "glr"
[[arms]]
name = "bp"
[arms.estimator]
kind = "bp"
`))
	if err != nil {
		log.Fatal(err)
	}
	tmp, err := os.MkdirTemp("", "glr-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	dir, summary, err := runner.Run(exp, runner.RunOptions{Out: filepath.Join(tmp, "run")})
	if err != nil {
		log.Fatal(err)
	}
	for _, a := range summary.Arms {
		fmt.Printf("%s (%s): %s after %d epoch\n", a.Name, a.Estimator, a.Status, a.Epochs)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	more, _ := filepath.Glob(filepath.Join(dir, "checkpoints", "*"))
	for _, f := range append(files, more...) {
		rel, _ := filepath.Rel(dir, f)
		fmt.Println(rel)
	}
	// Output:
	// glr (glr K=4): done after 1 epoch
	// bp (bp): done after 1 epoch
	// checkpoints
	// curves.png
	// metrics.jsonl
	// resolved.toml
	// summary.json
	// checkpoints/00-glr.ckpt
	// checkpoints/01-bp.ckpt
}
