package attack

import (
	"errors"
	"fmt"
)

// WorstCorrect returns the worst-case (AutoAttack) correctness of a set of
// attacks: correct[a][k][i] says whether example i is still classified
// correctly after attack a at the k-th budget, and the result's [k][i] is
// true only if example i is correct under every attack at budget k. This
// is the robustness criterion of Croce and Hein (2020): an image counts as
// robust at ε only if no attack run at ε fools it.
//
// Every attack must give the same number of budgets and of examples. An
// attack not run at some budget should give all true there, and the clean
// predictions should be one of the "attacks" (at every budget), so that an
// image misclassified already is never robust. WorstCorrect returns an
// error if there are no attacks or the shapes differ.
func WorstCorrect(correct [][][]bool) ([][]bool, error) {
	out, err := worstCorrect(correct)
	if err != nil {
		return nil, fmt.Errorf("attack: WorstCorrect: %w", err)
	}
	return out, nil
}

func worstCorrect(correct [][][]bool) ([][]bool, error) {
	if len(correct) == 0 {
		return nil, errors.New("no attacks")
	}
	budgets := len(correct[0])
	n := -1
	for a, byEps := range correct {
		if len(byEps) != budgets {
			return nil, fmt.Errorf("attack %d has %d budgets, attack 0 has %d", a, len(byEps), budgets)
		}
		for k, ok := range byEps {
			if n < 0 {
				n = len(ok)
			}
			if len(ok) != n {
				return nil, fmt.Errorf("attack %d, budget %d has %d examples, want %d", a, k, len(ok), n)
			}
		}
	}
	out := make([][]bool, budgets)
	for k := range out {
		out[k] = make([]bool, n)
		for i := range out[k] {
			out[k][i] = true
			for _, byEps := range correct {
				out[k][i] = out[k][i] && byEps[k][i]
			}
		}
	}
	return out, nil
}

// Worst returns the worst-case accuracy at each budget: the fraction of
// examples correct under every attack (see WorstCorrect). It returns an
// error for the inputs WorstCorrect rejects and if there are no examples.
func Worst(correct [][][]bool) ([]float64, error) {
	all, err := worstCorrect(correct)
	if err != nil {
		return nil, fmt.Errorf("attack: Worst: %w", err)
	}
	acc := make([]float64, len(all))
	for k, ok := range all {
		if len(ok) == 0 {
			return nil, errors.New("attack: Worst: no examples")
		}
		acc[k] = Accuracy(ok)
	}
	return acc, nil
}
