package robust

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"testing"

	"github.com/glr-project/glr/attack"
)

// TestBPDAIsPGDOnSmoothModels checks that bpda-pgd is pgd exactly, image
// for image and bit for bit, on a model without threshold activations,
// with random restarts so that the shared start stream matters too, and
// that the attack is not trivially equal because it does nothing.
func TestBPDAIsPGDOnSmoothModels(t *testing.T) {
	trained, test := load(t, "tiny-bp")
	s := settings(SetPGD, SetBPDAPGD)
	s.Attack.Restarts = 2
	for _, surrogate := range []string{"identity", "sigmoid"} {
		s.Attack.BPDA = surrogate
		hook, got, _ := capture()
		res, err := Evaluate(trained, test, Options{Settings: s, onImages: hook})
		if err != nil {
			t.Fatal(err)
		}
		images := map[string][]float64{}
		for _, c := range *got {
			images[fmt.Sprintf("%s@%g", c.set, c.eps)] = c.adv
		}
		acc := accuracies(res.Rows)
		for _, eps := range s.Eps {
			pgd, bpda := images[fmt.Sprintf("pgd@%g", eps)], images[fmt.Sprintf("bpda-pgd@%g", eps)]
			if pgd == nil || !slices.Equal(pgd, bpda) {
				t.Errorf("%s: bpda-pgd images at ε=%g differ from pgd's", surrogate, eps)
			}
			p, b := acc[fmt.Sprintf("tiny-bp pgd@%g", eps)], acc[fmt.Sprintf("tiny-bp bpda-pgd@%g", eps)]
			if p != b {
				t.Errorf("%s: ε=%g: bpda-pgd accuracy %.4f, pgd %.4f", surrogate, eps, b, p)
			}
			if clean := acc["tiny-bp clean@0"]; p > clean-0.4 {
				t.Errorf("ε=%g: pgd accuracy %.4f, clean %.4f: the attack does not bite", eps, p, clean)
			}
		}
	}
}

// noGradient is a classifier whose input gradient must not be asked for.
type noGradient struct{ classifier }

func (noGradient) InputGradient(x []float64, labels []int, grad []float64) error {
	panic("the input gradient was asked for")
}

// TestBlackBoxAttacksNeedNoGradient runs square and hopskipjump on models
// whose input gradient panics: they give the same numbers as on the models
// themselves.
func TestBlackBoxAttacksNeedNoGradient(t *testing.T) {
	trained, test := load(t, "tiny-bp", "tiny-lrt")
	s := settings(SetSquare, SetHopSkipJump)
	plain, err := Evaluate(trained, test, Options{Settings: s})
	if err != nil {
		t.Fatal(err)
	}
	e, err := newEvaluation(trained, test, Options{Settings: s})
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range e.targets {
		model := tg.model
		tg.model = func(key uint64) (classifier, error) {
			c, err := model(key)
			return noGradient{c}, err
		}
		tg.surrogate = nil
	}
	res, err := e.run()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Rows, plain.Rows) {
		t.Errorf("without gradients:\n%v\nwith:\n%v", res.Rows, plain.Rows)
	}
	acc := accuracies(res.Rows)
	for _, m := range []string{"tiny-bp", "tiny-lrt"} {
		for _, set := range []string{SetSquare, SetHopSkipJump} {
			if a, clean := acc[m+" "+set+"@0.2"], acc[m+" clean@0"]; a > clean-0.2 {
				t.Errorf("%s on %s at ε=0.2: accuracy %.2f, clean %.2f", set, m, a, clean)
			}
		}
	}
}

// TestSquareBothRulesOnThreshold checks that square on a threshold model
// counts, per image, the better of the paper's rule and AcceptEqual, each
// run from its own stream, and reports how the two rules fare.
func TestSquareBothRulesOnThreshold(t *testing.T) {
	trained, test := load(t, "tiny-lrt")
	s := settings(SetSquare)
	e, err := newEvaluation(trained, test, Options{Settings: s})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.run()
	if err != nil {
		t.Fatal(err)
	}
	tg := e.targets[0]
	acc := accuracies(res.Rows)
	for _, eps := range s.Eps {
		var both []float64
		for _, role := range []string{"paper", "accept-equal"} {
			m, err := tg.model(0)
			if err != nil {
				t.Fatal(err)
			}
			r, err := attack.Square(m, e.x, e.labels, eps, attack.SquareOptions{Height: 28, Width: 28, Channels: 1,
				Queries: s.Attack.Queries, PInit: s.Attack.PInit, AcceptEqual: role == "accept-equal", Rng: e.rng(SetSquare, eps, role)})
			if err != nil {
				t.Fatal(err)
			}
			ok, err := attack.Correct(m, r.Adv, e.labels)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("ε=%g: %s rule leaves accuracy %.3f", eps, role, attack.Accuracy(ok))
			if both == nil {
				both = make([]float64, len(ok))
				for i := range both {
					both[i] = 1
				}
			}
			for i, c := range ok {
				if !c {
					both[i] = 0
				}
			}
		}
		if got, want := acc[fmt.Sprintf("tiny-lrt square@%g", eps)], mean(both); got != want {
			t.Errorf("ε=%g: square accuracy %.4f, the better rule per image gives %.4f", eps, got, want)
		}
	}
}

// TestEOT checks the handling of noise at prediction time: for a
// noise-free model attack.eot changes nothing; for a noisy one each
// gradient is the mean of attack.eot gradients of fresh noise, and each
// accuracy the mean over attack.eot predictions.
func TestEOT(t *testing.T) {
	trained, test := load(t, "tiny-bp")
	sets := []string{SetFGSM, SetPGD, SetZOPGD, SetSquare, "gaussian"}
	var rows [][]Row
	for _, draws := range []int{1, 5} {
		s := settings(sets...)
		s.Attack.EOT = draws
		res, err := Evaluate(trained, test, Options{Settings: s})
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, res.Rows)
	}
	if !slices.Equal(rows[0], rows[1]) {
		t.Errorf("a noise-free model's rows depend on attack.eot:\n%v\n%v", rows[0], rows[1])
	}

	noisy, test := load(t, "tiny-noisy")
	s := settings(SetPGD)
	s.Attack.EOT = 4
	e, err := newEvaluation(noisy, test, Options{Settings: s})
	if err != nil {
		t.Fatal(err)
	}
	tg := e.targets[0]
	g, err := e.gradient(tg, SetPGD, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	if eot, ok := g.(attack.EOT); !ok || eot.Draws != 4 {
		t.Fatalf("the gradient model of a noisy model is %T %+v, want attack.EOT with 4 draws", g, g)
	}
	x, labels := e.x[:5*784], e.labels[:5]
	got := make([]float64, len(x))
	if err := g.InputGradient(x, labels, got); err != nil {
		t.Fatal(err)
	}
	// The same draws by hand: a classifier with the same noise key, four
	// passes, their running mean.
	m, err := tg.model(e.key(SetPGD, 0.1, "model"))
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float64, len(x))
	draw := make([]float64, len(x))
	var first []float64
	differ := false
	for k := 1; k <= 4; k++ {
		if err := m.InputGradient(x, labels, draw); err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = slices.Clone(draw)
		} else {
			differ = differ || !slices.Equal(first, draw)
		}
		for j, v := range draw {
			want[j] += (v - want[j]) / float64(k)
		}
	}
	if !differ {
		t.Fatal("four gradient draws of the noisy model are equal: it draws no noise")
	}
	if !slices.Equal(got, want) {
		t.Error("the EOT gradient is not the mean of four draws")
	}

	// Accuracy: the fraction of right predictions among attack.eot draws
	// of each image.
	frac, err := e.correctness(tg, SetClean, 0, e.x, "")
	if err != nil {
		t.Fatal(err)
	}
	m, err = tg.model(e.key(SetClean, 0, "evaluation "))
	if err != nil {
		t.Fatal(err)
	}
	right := make([]float64, e.n)
	for range 4 {
		ok, err := attack.Correct(m, e.x, e.labels)
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range ok {
			if c {
				right[i]++
			}
		}
	}
	mixed := false
	for i, f := range frac {
		if f != right[i]/4 {
			t.Fatalf("image %d: correctness %v, want %v of 4 draws", i, f, right[i]/4)
		}
		mixed = mixed || f > 0 && f < 1
	}
	if !mixed {
		t.Error("no image is right in some draws and wrong in others: the noise does not reach the predictions")
	}
	if a := mean(frac); math.Abs(a*4*float64(e.n)-math.Round(a*4*float64(e.n))) > 1e-9 {
		t.Errorf("accuracy %v is not a count of %d predictions", a, 4*e.n)
	}
}

// TestDeterminism checks that the same settings give the same numbers
// whatever GOMAXPROCS is, noise of a noisy model included, and that
// another seed gives other numbers.
func TestDeterminism(t *testing.T) {
	trained, test := load(t, "tiny-bp", "tiny-noisy")
	s := settings(SetPGD, SetZOFGSM, SetSquare, SetHopSkipJump, "gaussian")
	s.N = 30
	s.Eps = []float64{0.1}
	s.Attack.Restarts = 2
	evaluate := func(procs int, seed uint64) []Row {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		s := s
		s.Seed = seed
		res, err := Evaluate(trained, test, Options{Settings: s})
		if err != nil {
			t.Fatal(err)
		}
		return res.Rows
	}
	one, two := evaluate(1, 3), evaluate(2, 3)
	if !slices.Equal(one, two) {
		t.Errorf("GOMAXPROCS 1 and 2 differ:\n%v\n%v", one, two)
	}
	if other := evaluate(2, 4); slices.Equal(one, other) {
		t.Error("seeds 3 and 4 give the same rows")
	}
}
