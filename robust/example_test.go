package robust_test

import (
	"fmt"
	"os"

	"github.com/glr-project/glr/robust"
)

func ExampleWriteTable() {
	rows := []robust.Row{
		{Model: "mnist-bp", Set: robust.SetClean, Accuracy: 0.9712, Draws: 1},
		{Model: "mnist-bp", Set: robust.SetSquare, Param: 0.1, Accuracy: 0.2031, Draws: 1},
		{Model: "mnist-bp", Set: robust.SetSquare, Param: 0.3, Accuracy: 0.0012, Draws: 1},
	}
	robust.WriteTable(os.Stdout, rows, true)
	fmt.Println(robust.WorstEnsemble(true))
	// Output:
	// | model | set | accuracy % by parameter (ε or severity) | mean % |
	// |---|---|---|---:|
	// | mnist-bp | clean | 0: 97.12 | 97.12 |
	// | mnist-bp | square | 0.1: 20.31, 0.3: 0.12 | 10.21 |
	// [square hopskipjump bpda-pgd zo-pgd fgsm-transfer]
}
