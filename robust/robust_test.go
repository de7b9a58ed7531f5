package robust

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/glr-project/glr/assemble"
	"github.com/glr-project/glr/attack"
)

// captured is one batch of attacked images an evaluation counted.
type captured struct {
	model, set string
	eps        float64
	adv        []float64
}

// capture returns an onImages hook that keeps every batch, and the list it
// fills.
func capture() (func(model, set string, eps float64, clean, adv []float64), *[]captured, *[]float64) {
	var got []captured
	var clean []float64
	return func(model, set string, eps float64, x, adv []float64) {
		clean = x
		got = append(got, captured{model, set, eps, slices.Clone(adv)})
	}, &got, &clean
}

// TestEverySet runs every attack set on a backpropagation model, a
// threshold model and a model that predicts with noise, and checks each
// batch of attacked images against its budget independently of the
// evaluation's own check, that the attacks do perturb the images and hurt
// the models, and the worst case against every attack and against
// attack.Worst.
func TestEverySet(t *testing.T) {
	trained, test := load(t, "tiny-bp", "tiny-lrt", "tiny-noisy")
	sub, _ := load(t, "tiny-bp")
	s := settings(SetClean, SetFGSMTransfer, SetFGSM, SetPGD, SetBPDAPGD, SetZOFGSM, SetZOPGD, SetSquare, SetHopSkipJump, SetWorst)
	s.Eps = []float64{0, 0.1, 0.2}
	s.Attack.Restarts = 2
	hook, got, clean := capture()
	res, err := Evaluate(trained, test, Options{Settings: s, Substitute: sub[0], onImages: hook})
	if err != nil {
		t.Fatal(err)
	}

	// The budget, checked here on every batch, and the coverage: every
	// ε-bounded set on every model it applies to, at every ε.
	seen := map[string]bool{}
	moved := map[string]float64{} // set → largest change at ε > 0
	for _, c := range *got {
		seen[fmt.Sprintf("%s %s@%g", c.model, c.set, c.eps)] = true
		for j, v := range c.adv {
			x := (*clean)[j]
			if !(v >= 0 && v <= 1) || math.Abs(v-x) > c.eps {
				t.Fatalf("%s on %s ε=%g: value %d = %v, clean %v: outside [0, 1] or the budget", c.set, c.model, c.eps, j, v, x)
			}
			if c.eps == 0 && v != x {
				t.Fatalf("%s on %s ε=0 changed value %d from %v to %v", c.set, c.model, j, x, v)
			}
			moved[c.set] = math.Max(moved[c.set], math.Abs(v-x))
		}
	}
	for _, tr := range trained {
		for _, set := range s.Sets {
			if !budgeted(set) || tr.Config.Model.Activation == "threshold" && (set == SetFGSM || set == SetPGD) {
				continue
			}
			for _, eps := range s.Eps {
				if k := fmt.Sprintf("%s %s@%g", tr.Name, set, eps); !seen[k] {
					t.Errorf("no attacked images for %s", k)
				}
			}
		}
	}
	// Every attack perturbs by more than half its largest budget somewhere.
	for set, m := range moved {
		if m <= 0.1 {
			t.Errorf("%s changed no value by more than %g (largest budget 0.2)", set, m)
		}
	}
	wantSkips := []Skip{
		{"tiny-lrt", SetFGSM, "a threshold network's backpropagated input gradient is zero; bpda-pgd, zo-fgsm, zo-pgd, square and hopskipjump attack it"},
		{"tiny-lrt", SetPGD, "a threshold network's backpropagated input gradient is zero; bpda-pgd, zo-fgsm, zo-pgd, square and hopskipjump attack it"},
	}
	if !slices.Equal(res.Skipped, wantSkips) {
		t.Errorf("skipped %v, want %v", res.Skipped, wantSkips)
	}

	acc := accuracies(res.Rows)
	for _, r := range res.Rows {
		if want := map[bool]int{true: s.Attack.EOT, false: 1}[r.Model == "tiny-noisy"]; r.Draws != want {
			t.Errorf("%s %s@%g: %d draws, want %d", r.Model, r.Set, r.Param, r.Draws, want)
		}
	}
	// The models learnt, and the white-box and BPDA attacks break them at
	// ε = 0.2 (on 60 images; the scratch measurements gave at most 10%).
	for _, m := range []string{"tiny-bp", "tiny-lrt", "tiny-noisy"} {
		if a := acc[m+" clean@0"]; a < 0.7 {
			t.Fatalf("%s: clean accuracy %.2f, the model did not learn", m, a)
		}
		if a := acc[m+" bpda-pgd@0.2"]; a > 0.3 {
			t.Errorf("%s: bpda-pgd at ε=0.2 leaves accuracy %.2f", m, a)
		}
		for _, eps := range s.Eps {
			w := acc[fmt.Sprintf("%s worst@%g", m, eps)]
			for _, set := range append(s.Sets[1:len(s.Sets)-1], SetClean) {
				key := fmt.Sprintf("%s %s@%g", m, set, eps)
				if set == SetClean {
					key = m + " clean@0"
				}
				if a, ok := acc[key]; ok && w > a {
					t.Errorf("%s: worst at ε=%g is %.4f, above %s's %.4f", m, eps, w, set, a)
				}
			}
		}
	}

	// For the noise-free models the worst case is attack.Worst of the
	// clean images and every batch of attacked images.
	for _, tr := range trained[:2] {
		m, err := tr.Classifier(assemble.Image(test), test.Classes, "cross-entropy", false)
		if err != nil {
			t.Fatal(err)
		}
		labels := test.Labels[:s.N]
		cleanOK, err := attack.Correct(m, *clean, labels)
		if err != nil {
			t.Fatal(err)
		}
		// An attack is a set and the run of it at a budget: the two
		// Square runs on a threshold model count as two.
		perAttack := map[string][][]bool{}
		var order []string
		runs := map[string]int{}
		for _, c := range *got {
			if c.model != tr.Name {
				continue
			}
			ok, err := attack.Correct(m, c.adv, labels)
			if err != nil {
				t.Fatal(err)
			}
			at := fmt.Sprintf("%s@%g", c.set, c.eps)
			id := fmt.Sprintf("%s#%d", c.set, runs[at])
			runs[at]++
			if perAttack[id] == nil {
				perAttack[id] = make([][]bool, len(s.Eps))
				for i := range perAttack[id] {
					perAttack[id][i] = slices.Repeat([]bool{true}, len(labels))
				}
				order = append(order, id)
			}
			perAttack[id][slices.Index(s.Eps, c.eps)] = ok
		}
		all := [][][]bool{slices.Repeat([][]bool{cleanOK}, len(s.Eps))}
		for _, id := range order {
			all = append(all, perAttack[id])
		}
		want, err := attack.Worst(all)
		if err != nil {
			t.Fatal(err)
		}
		for k, eps := range s.Eps {
			if got := acc[fmt.Sprintf("%s worst@%g", tr.Name, eps)]; got != want[k] {
				t.Errorf("%s: worst at ε=%g is %.4f, attack.Worst gives %.4f", tr.Name, eps, got, want[k])
			}
		}
	}
}

// TestThresholdSubstitute checks that the transfer attacks crafted on a
// threshold substitute go through its BPDA surrogate: its own input
// gradient is zero and would leave every image unchanged.
func TestThresholdSubstitute(t *testing.T) {
	trained, test := load(t, "tiny-bp")
	sub, _ := load(t, "tiny-lrt")
	s := settings(SetFGSMTransfer)
	s.Eps = []float64{0.2}
	hook, got, clean := capture()
	res, err := Evaluate(trained, test, Options{Settings: s, Substitute: sub[0], onImages: hook})
	if err != nil {
		t.Fatal(err)
	}
	moved := 0
	for j, v := range (*got)[0].adv {
		if v != (*clean)[j] {
			moved++
		}
	}
	acc := accuracies(res.Rows)
	t.Logf("%d of %d values moved; accuracy %.2f, clean %.2f", moved, len((*got)[0].adv), acc["tiny-bp fgsm-transfer@0.2"], acc["tiny-bp clean@0"])
	if moved < len(*clean)/4 {
		t.Errorf("FGSM on the threshold substitute moved %d of %d values", moved, len(*clean))
	}
	if a, c := acc["tiny-bp fgsm-transfer@0.2"], acc["tiny-bp clean@0"]; a > c-0.2 {
		t.Errorf("the transfer attack leaves %.2f of clean %.2f", a, c)
	}
}
