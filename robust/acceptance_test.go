package robust

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/glr-project/glr/assemble"
	"github.com/glr-project/glr/configs"
	"github.com/glr-project/glr/models"
	"github.com/glr-project/glr/runner"
)

// acceptBP is a backpropagation-trained sigmoid MLP, 784-100-10, trained
// on 5,000 MNIST images for 5 epochs (about 94% on the 300 test images).
const acceptBP = `
name = "accept-bp"
seed = 3
[model]
hidden = [100]
activation = "sigmoid"
[estimator]
kind = "bp"
[data]
train_limit = 5000
test_limit = 300
batch_size = 50
[optimizer]
kind = "adam"
learning_rate = 0.003
[train]
epochs = 5
`

// TestSquareMatchesPGD is the acceptance check of the score-based attack:
// on a backpropagation model, where white-box PGD is the reference, the
// Square Attack at its default settings (1,000 queries, p_init 0.8) must
// leave an accuracy within 5 points of PGD's (10 steps, the default) at
// ε = 0.1 on the same 300 images. The seeds are fixed, so the numbers are
// too; when this test was written they were 94.33% clean, 8.33% under PGD
// and 10.67% under Square, 2.3 points apart. (With the paper's ImageNet
// p_init of 0.05 Square left 18.67%, 10 points above PGD: the settings
// matter, and this test pins the defaults.)
func TestSquareMatchesPGD(t *testing.T) {
	exp, err := configs.Parse("accept.toml", []byte(acceptBP))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), exp.Name)
	if _, _, err := runner.Run(exp, runner.RunOptions{Out: dir}); err != nil {
		t.Fatal(err)
	}
	trained, err := models.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, test, err := assemble.Data(exp)
	if err != nil {
		t.Fatal(err)
	}
	s := configs.DefaultRobustness()
	s.Sets = []string{SetPGD, SetSquare}
	s.Eps = []float64{0.1}
	res, err := Evaluate(trained, test, Options{Settings: s})
	if err != nil {
		t.Fatal(err)
	}
	acc := accuracies(res.Rows)
	clean, pgd, square := acc["accept-bp clean@0"], acc["accept-bp pgd@0.1"], acc["accept-bp square@0.1"]
	t.Logf("%d images: clean %.2f%%, PGD %.2f%%, Square %.2f%% at ε = 0.1", res.Images, 100*clean, 100*pgd, 100*square)
	if res.Images != 300 || clean < 0.85 {
		t.Fatalf("%d images, clean accuracy %.2f: the model did not learn", res.Images, clean)
	}
	if pgd > clean-0.5 {
		t.Fatalf("PGD leaves %.2f of clean %.2f: the reference attack does not bite", pgd, clean)
	}
	if math.Abs(square-pgd) > 0.05 {
		t.Errorf("Square leaves %.2f%%, PGD %.2f%%: more than 5 points apart", 100*square, 100*pgd)
	}
}
