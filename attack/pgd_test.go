package attack

import (
	"slices"
	"testing"
)

// rank returns, per example, whether m misclassifies the point and its
// loss: the two keys of PGD's ranking.
func rank(t *testing.T, m Model, x []float64, labels []int) ([]bool, []float64) {
	t.Helper()
	ok, err := Correct(m, x, labels)
	if err != nil {
		t.Fatal(err)
	}
	wrong := make([]bool, len(ok))
	for i, c := range ok {
		wrong[i] = !c
	}
	return wrong, losses(m, x, labels)
}

// TestPGDRestarts checks that Restarts returns, per example, the best of
// the runs it makes, by replaying the runs: each draws its random start
// from Rng in turn, as consecutive RandomStart calls with one Rng do.
func TestPGDRestarts(t *testing.T) {
	m := newLinear(64, 5, 1, 2)
	x, _ := batch(30, 64, 5, 3)
	labels := m.predict(x)
	const eps, runs = 0.05, 4
	opts := PGDOptions{Steps: 3, StepSize: eps}
	opts.Restarts, opts.Rng = runs, rng(1)
	got, err := PGD(m, x, labels, eps, opts)
	if err != nil {
		t.Fatal(err)
	}
	r := rng(1)
	var want []float64
	var wWrong []bool
	var wLoss []float64
	differ := 0
	for k := range runs {
		adv, err := PGD(m, x, labels, eps, PGDOptions{Steps: 3, StepSize: eps, RandomStart: true, Rng: r})
		if err != nil {
			t.Fatal(err)
		}
		wrong, loss := rank(t, m, adv, labels)
		if k == 0 {
			want, wWrong, wLoss = adv, wrong, loss
			continue
		}
		for i := range labels {
			if wrong[i] && !wWrong[i] || wrong[i] == wWrong[i] && loss[i] > wLoss[i] {
				copy(want[i*64:(i+1)*64], adv[i*64:(i+1)*64])
				wWrong[i], wLoss[i] = wrong[i], loss[i]
				differ++
			}
		}
	}
	t.Logf("a later run beat the earlier ones %d times over %d examples", differ, len(labels))
	if differ == 0 {
		t.Error("the first run was always best: the test shows nothing")
	}
	if !slices.Equal(got, want) {
		t.Error("Restarts did not return the best of its runs")
	}
	for _, c := range []struct {
		seed uint64
		same bool
	}{{1, true}, {2, false}} {
		opts.Rng = rng(c.seed)
		again, err := PGD(m, x, labels, eps, opts)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Equal(again, got) != c.same {
			t.Errorf("seed %d: same result %v, want %v", c.seed, !c.same, c.same)
		}
	}
}

// TestPGDKeepBest checks that KeepBest's result ranks at least as high as
// the last iterate for every example, and higher for some, in the attack
// where it matters: BPDA on a threshold network, whose surrogate gradient
// is not that of the real loss, so the iterates need not improve it. It
// also checks that Restarts 1 without KeepBest is the plain attack.
func TestPGDKeepBest(t *testing.T) {
	th := newThreshold(64, 16, 3, 1)
	x, _ := batch(60, 64, 3, 5)
	labels := make([]int, 60)
	if err := th.Predict(x, labels); err != nil {
		t.Fatal(err)
	}
	m := BPDA{Model: th, Surrogate: sigmoidSurrogate{th, 1}}
	const eps = 0.05
	last, err := PGD(m, x, labels, eps, PGDOptions{Steps: 10})
	if err != nil {
		t.Fatal(err)
	}
	best, err := PGD(m, x, labels, eps, PGDOptions{Steps: 10, KeepBest: true})
	if err != nil {
		t.Fatal(err)
	}
	lw, ll := rank(t, th, last, labels)
	bw, bl := rank(t, th, best, labels)
	better := 0
	for i := range labels {
		switch {
		case lw[i] && !bw[i], lw[i] == bw[i] && bl[i] < ll[i]:
			t.Errorf("example %d: the best iterate (wrong %v, loss %v) ranks below the last (wrong %v, loss %v)", i, bw[i], bl[i], lw[i], ll[i])
		case bw[i] && !lw[i], bw[i] == lw[i] && bl[i] > ll[i]:
			better++
		}
	}
	t.Logf("KeepBest beat the last iterate on %d of %d examples", better, len(labels))
	if better == 0 {
		t.Error("KeepBest never beat the last iterate")
	}
	one, err := PGD(m, x, labels, eps, PGDOptions{Steps: 10, Restarts: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(one, last) {
		t.Error("Restarts 1 changed the attack")
	}
}
