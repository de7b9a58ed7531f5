package attack

import (
	"errors"
	"math"
	"runtime"
	"testing"
	"time"
)

// TestBlackBoxBadSettings checks that bad settings of the new attacks and
// helpers are errors that start with "attack: " and name the setting, and
// that model errors are wrapped.
func TestBlackBoxBadSettings(t *testing.T) {
	m, x, labels := separable(64, 3, 4, 1)
	geo := func(edit func(*SquareOptions)) SquareOptions {
		o := SquareOptions{Height: 8, Width: 8, Channels: 1, Queries: 10, Rng: rng(1)}
		edit(&o)
		return o
	}
	square := func(mm Model, eps float64, o SquareOptions) error {
		_, err := Square(mm, x, labels, eps, o)
		return err
	}
	sq := func(edit func(*SquareOptions)) error { return square(m, 0.1, geo(edit)) }
	hsjOpts := func(edit func(*HSJOptions)) HSJOptions {
		o := HSJOptions{Queries: 10, Rng: rng(1)}
		edit(&o)
		return o
	}
	hsj := func(edit func(*HSJOptions)) error {
		_, err := HopSkipJump(m, x, labels, hsjOpts(edit))
		return err
	}
	outOfBox := append([]float64(nil), x...)
	outOfBox[5] = -0.5
	failing := lossOnly{&broken{linear: m, fail: true}}
	res, err := HopSkipJump(m, x, labels, hsjOpts(func(*HSJOptions) {}))
	if err != nil {
		t.Fatal(err)
	}
	atEps := func(eps ...float64) error { _, err := res.AtEps(eps); return err }
	eotGrad := func(e EOT) error { return e.InputGradient(x, labels, make([]float64, len(x))) }
	other := newLinear(32, 3, 1, 1)

	checkErrors(t, []errCase{
		{"Square Queries < 0", sq(func(o *SquareOptions) { o.Queries = -1 }), "Queries = -1"},
		{"Square eps < 0", square(m, -0.1, geo(func(*SquareOptions) {})), "eps = -0.1"},
		{"Square eps > 1", square(m, 1.5, geo(func(*SquareOptions) {})), "eps = 1.5"},
		{"Square eps NaN", square(m, math.NaN(), geo(func(*SquareOptions) {})), "eps = NaN"},
		{"Square no geometry", sq(func(o *SquareOptions) { *o = SquareOptions{Rng: o.Rng} }), "Height, Width and Channels"},
		{"Square no channels", sq(func(o *SquareOptions) { o.Channels = 0 }), "Channels"},
		{"Square negative height", sq(func(o *SquareOptions) { o.Height = -8 }), "Height"},
		{"Square geometry mismatch", sq(func(o *SquareOptions) { o.Height, o.Width = 4, 4 }), "Height·Width·Channels = 4·4·1 = 16, want the model's 64"},
		{"Square PInit < 0", sq(func(o *SquareOptions) { o.PInit = -0.1 }), "PInit"},
		{"Square PInit > 1", sq(func(o *SquareOptions) { o.PInit = 2 }), "PInit"},
		{"Square PInit NaN", sq(func(o *SquareOptions) { o.PInit = math.NaN() }), "PInit"},
		{"Square nil Rng", sq(func(o *SquareOptions) { o.Rng = nil }), "Rng"},
		{"Square x outside box", func() error { _, err := Square(m, outOfBox, labels, 0.1, geo(func(*SquareOptions) {})); return err }(), "x[5] = -0.5"},
		{"Square bad label", func() error {
			_, err := Square(m, x, []int{0, 1, 2, 3}, 0.1, geo(func(*SquareOptions) {}))
			return err
		}(), "labels[3] = 3"},
		{"Square nil model", square(nil, 0.1, geo(func(*SquareOptions) {})), "nil"},
		{"Square model error", square(failing, 0.1, geo(func(*SquareOptions) {})), "broken model"},
		{"HopSkipJump Queries < 0", hsj(func(o *HSJOptions) { o.Queries = -1 }), "Queries = -1"},
		{"HopSkipJump InitTries < 0", hsj(func(o *HSJOptions) { o.InitTries = -1 }), "InitTries = -1"},
		{"HopSkipJump InitEvals < 0", hsj(func(o *HSJOptions) { o.InitEvals = -1 }), "InitEvals = -1"},
		{"HopSkipJump MaxEvals < 0", hsj(func(o *HSJOptions) { o.MaxEvals = -1 }), "MaxEvals = -1"},
		{"HopSkipJump Batch < 0", hsj(func(o *HSJOptions) { o.Batch = -1 }), "Batch = -1"},
		{"HopSkipJump Gamma < 0", hsj(func(o *HSJOptions) { o.Gamma = -1 }), "Gamma = -1"},
		{"HopSkipJump Gamma NaN", hsj(func(o *HSJOptions) { o.Gamma = math.NaN() }), "Gamma = NaN"},
		{"HopSkipJump Gamma +Inf", hsj(func(o *HSJOptions) { o.Gamma = math.Inf(1) }), "Gamma = +Inf"},
		{"HopSkipJump nil Rng", hsj(func(o *HSJOptions) { o.Rng = nil }), "Rng"},
		{"HopSkipJump x outside box", func() error { _, err := HopSkipJump(m, outOfBox, labels, hsjOpts(func(*HSJOptions) {})); return err }(), "x[5] = -0.5"},
		{"HopSkipJump model error", func() error { _, err := HopSkipJump(failing, x, labels, hsjOpts(func(*HSJOptions) {})); return err }(), "broken model"},
		{"AtEps eps > 1", atEps(0.1, 1.5), "eps[1]: eps = 1.5"},
		{"AtEps eps < 0", atEps(-0.1), "eps[0]: eps = -0.1"},
		{"EOT Draws 0", eotGrad(EOT{Model: m}), "Draws = 0"},
		{"EOT Draws < 0", EOT{Model: m, Draws: -2}.Losses(x, labels, make([]float64, 4)), "Draws = -2"},
		{"EOT nil Model", eotGrad(EOT{Draws: 3}), "Model is nil"},
		{"EOT model error", eotGrad(EOT{Model: &broken{linear: m, fail: true}, Draws: 2}), "broken model"},
		{"EOTAccuracy draws 0", func() error { _, err := EOTAccuracy(m, x, labels, 0); return err }(), "draws = 0"},
		{"EOTAccuracy no examples", func() error { _, err := EOTAccuracy(m, nil, nil, 3); return err }(), "no examples"},
		{"EOTAccuracy bad label", func() error { _, err := EOTAccuracy(m, x, []int{0, 0, 0, 5}, 3); return err }(), "labels[3] = 5"},
		{"BPDA nil Model", BPDA{Surrogate: m}.InputGradient(x, labels, make([]float64, len(x))), "Model is nil"},
		{"BPDA nil Surrogate", BPDA{Model: m}.InputGradient(x, labels, make([]float64, len(x))), "Surrogate is nil"},
		{"BPDA dims mismatch", BPDA{Model: m, Surrogate: other}.InputGradient(x, labels, make([]float64, len(x))), "Surrogate has 32 features"},
		{"BPDA nil Model predict", BPDA{}.Predict(x, make([]int, 4)), "Model is nil"},
		{"PGD Restarts < 0", func() error { _, err := PGD(m, x, labels, 0.1, PGDOptions{Restarts: -1}); return err }(), "Restarts = -1"},
		{"PGD Restarts without Rng", func() error { _, err := PGD(m, x, labels, 0.1, PGDOptions{Restarts: 2}); return err }(), "Restarts = 2 needs an Rng"},
		{"PGD KeepBest model error", func() error {
			_, err := PGD(&broken{linear: m, nan: true}, x, labels, 0.1, PGDOptions{KeepBest: true})
			return err
		}(), "NaN"},
		{"Worst no attacks", func() error { _, err := Worst(nil); return err }(), "no attacks"},
		{"Worst budgets differ", func() error {
			_, err := Worst([][][]bool{{{true}}, {{true}, {false}}})
			return err
		}(), "attack 1 has 2 budgets, attack 0 has 1"},
		{"Worst examples differ", func() error {
			_, err := WorstCorrect([][][]bool{{{true, false}}, {{true}}})
			return err
		}(), "attack 1, budget 0 has 1 examples, want 2"},
		{"Worst no examples", func() error { _, err := Worst([][][]bool{{{}}}); return err }(), "no examples"},
		{"Correct short x", func() error { _, err := Correct(m, x[:10], labels); return err }(), "len(x)"},
		{"Correct model error", func() error { _, err := Correct(failing, x, labels); return err }(), "broken model"},
	})
}

// TestBlackBoxEmptyBatch checks that the new attacks accept an empty batch.
func TestBlackBoxEmptyBatch(t *testing.T) {
	m := newLinear(64, 3, 1, 1)
	sq, err := Square(m, nil, nil, 0.1, SquareOptions{Height: 8, Width: 8, Channels: 1, Rng: rng(1)})
	if err != nil || len(sq.Adv) != 0 {
		t.Errorf("Square of an empty batch = %v, %v", sq, err)
	}
	hsj, err := HopSkipJump(m, nil, nil, HSJOptions{Rng: rng(1)})
	if err != nil || len(hsj.Adv) != 0 {
		t.Fatalf("HopSkipJump of an empty batch = %v, %v", hsj, err)
	}
	at, err := hsj.AtEps([]float64{0.1})
	if err != nil || len(at) != 1 || len(at[0]) != 0 {
		t.Errorf("AtEps of an empty result = %v, %v", at, err)
	}
}

// failLater is a linear Predictor and Scorer whose calls fail (or panic)
// from the given call on.
type failLater struct {
	*linear
	calls, from int
	panics      bool
}

func (m *failLater) fail() error {
	m.calls++
	if m.calls < m.from {
		return nil
	}
	if m.panics {
		panic("model panic")
	}
	return errBroken
}

func (m *failLater) Predict(x []float64, dst []int) error {
	if err := m.fail(); err != nil {
		return err
	}
	return m.linear.Predict(x, dst)
}

func (m *failLater) Logits(x, dst []float64) error {
	if err := m.fail(); err != nil {
		return err
	}
	return m.linear.Logits(x, dst)
}

// TestBlackBoxModelFailsLater checks that a model error in the middle of
// an attack is returned, wrapped, and that a panic of the model reaches
// the caller of HopSkipJump without leaving its goroutines behind.
func TestBlackBoxModelFailsLater(t *testing.T) {
	lin, x, labels := separable(64, 3, 10, 1)
	if _, err := Square(&failLater{linear: lin, from: 5}, x, labels, 0.02,
		SquareOptions{Height: 8, Width: 8, Channels: 1, Rng: rng(1)}); !errors.Is(err, errBroken) {
		t.Errorf("Square: error %v, want the model's", err)
	}
	if _, err := HopSkipJump(&failLater{linear: lin, from: 5}, x, labels, HSJOptions{Batch: 4, Rng: rng(1)}); !errors.Is(err, errBroken) {
		t.Errorf("HopSkipJump: error %v, want the model's", err)
	}
	before := runtime.NumGoroutine()
	func() {
		defer func() {
			if recover() == nil {
				t.Error("HopSkipJump swallowed the model's panic")
			}
		}()
		_, _ = HopSkipJump(&failLater{linear: lin, from: 5, panics: true}, x, labels, HSJOptions{Batch: 4, Rng: rng(1)})
	}()
	for range 100 {
		if runtime.NumGoroutine() <= before {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("%d goroutines before HopSkipJump, %d a second after its panic", before, runtime.NumGoroutine())
}
