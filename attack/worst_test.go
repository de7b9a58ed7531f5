package attack

import (
	"slices"
	"testing"
)

// TestWorstSmall checks Worst on a hand-made case: three examples, two
// budgets, two attacks.
func TestWorstSmall(t *testing.T) {
	correct := [][][]bool{
		{{true, true, false}, {true, false, false}}, // attack A
		{{true, false, true}, {false, true, false}}, // attack B
	}
	all, err := WorstCorrect(correct)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]bool{{true, false, false}, {false, false, false}}
	for k := range want {
		if !slices.Equal(all[k], want[k]) {
			t.Errorf("budget %d: %v, want %v", k, all[k], want[k])
		}
	}
	acc, err := Worst(correct)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(acc, []float64{1.0 / 3, 0}) {
		t.Errorf("Worst = %v, want [1/3 0]", acc)
	}
}

// TestWorstOfAttacks checks Worst on real attacks of a linear model at
// several budgets: at each budget it is at most every attack's accuracy,
// and it equals the accuracy of the per-image AND of the attacks.
func TestWorstOfAttacks(t *testing.T) {
	m, x, labels := separable(64, 3, 100, 4)
	eps := []float64{0.01, 0.02, 0.03}
	hsj, err := HopSkipJump(m, x, labels, HSJOptions{Queries: 1000, Rng: rng(1)})
	if err != nil {
		t.Fatal(err)
	}
	hsjAdv, err := hsj.AtEps(eps)
	if err != nil {
		t.Fatal(err)
	}
	runs := []func(k int) ([]float64, error){
		func(int) ([]float64, error) { return x, nil },
		func(k int) ([]float64, error) { return FGSM(m, x, labels, eps[k]) },
		func(k int) ([]float64, error) { return PGD(m, x, labels, eps[k], PGDOptions{}) },
		func(k int) ([]float64, error) {
			r, err := Square(m, x, labels, eps[k], SquareOptions{Height: 8, Width: 8, Channels: 1, Queries: 200, Rng: rng(2)})
			if err != nil {
				return nil, err
			}
			return r.Adv, nil
		},
		func(k int) ([]float64, error) { return hsjAdv[k], nil },
	}
	correct := make([][][]bool, len(runs))
	for a, run := range runs {
		correct[a] = make([][]bool, len(eps))
		for k := range eps {
			adv, err := run(k)
			if err != nil {
				t.Fatal(err)
			}
			if correct[a][k], err = Correct(m, adv, labels); err != nil {
				t.Fatal(err)
			}
		}
	}
	worst, err := Worst(correct)
	if err != nil {
		t.Fatal(err)
	}
	for k, e := range eps {
		and := 0
		accs := make([]float64, len(runs))
		for i := range labels {
			ok := true
			for a := range runs {
				ok = ok && correct[a][k][i]
			}
			if ok {
				and++
			}
		}
		for a := range runs {
			accs[a] = Accuracy(correct[a][k])
			if worst[k] > accs[a] {
				t.Errorf("eps %v: worst case %.3f above attack %d's %.3f", e, worst[k], a, accs[a])
			}
		}
		t.Logf("eps %v: accuracies clean, FGSM, PGD, Square, HopSkipJump %.3f, worst case %.3f", e, accs, worst[k])
		if want := float64(and) / float64(len(labels)); worst[k] != want {
			t.Errorf("eps %v: worst case %v, want the AND's %v", e, worst[k], want)
		}
	}
}
