package robust

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/glr-project/glr/assemble"
)

// TestPanels checks the figures' panels: one per attack (and per
// corruption), a line per model that starts at the clean accuracy at 0,
// parameters in increasing order, and the accuracy axis fixed to [0, 1].
func TestPanels(t *testing.T) {
	rows := []Row{
		{"a", SetClean, 0, 0.9, 1}, {"b", SetClean, 0, 0.8, 1},
		{"a", SetSquare, 0.3, 0.1, 1}, {"a", SetSquare, 0.1, 0.5, 1},
		{"b", SetSquare, 0.1, 0.4, 1},
		{"a", SetWorst, 0.1, 0.3, 1},
		{"a", "fog", 2, 0.7, 1},
	}
	ps := panels(rows, []string{SetSquare, SetWorst}, "ε")
	if len(ps) != 2 || ps[0].Title != titles[SetSquare] || ps[1].Title != titles[SetWorst] {
		t.Fatalf("panels %+v", ps)
	}
	for _, p := range ps {
		if *p.YMin != 0 || *p.YMax != 1 {
			t.Errorf("%s: y axis [%v, %v], want [0, 1]", p.Title, *p.YMin, *p.YMax)
		}
	}
	if got := ps[0].Series; len(got) != 2 || !reflect.DeepEqual(got[0].X, []float64{0, 0.1, 0.3}) || !reflect.DeepEqual(got[0].Y, []float64{0.9, 0.5, 0.1}) ||
		!reflect.DeepEqual(got[1].X, []float64{0, 0.1}) || !reflect.DeepEqual(got[1].Y, []float64{0.8, 0.4}) {
		t.Errorf("square series %+v", got)
	}
	if got := ps[1].Series; len(got) != 1 || got[0].Name != "a" {
		t.Errorf("worst series %+v", got)
	}
	dir := t.TempDir()
	if err := writeFigures(dir, rows); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{EpsFigure, SeverityFigure} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestBucketed checks that padding batches to row-count buckets gives the
// classifier's own outputs, and the bucket sizes.
func TestBucketed(t *testing.T) {
	for _, c := range []struct{ rows, want int }{{1, 1}, {3, 4}, {64, 64}, {65, 128}, {513, 1000}, {1000, 1000}, {2500, 1000}} {
		if got := bucket(c.rows); got != c.want {
			t.Errorf("bucket(%d) = %d, want %d", c.rows, got, c.want)
		}
	}
	trained, test := load(t, "tiny-bp")
	c, err := trained[0].Classifier(assemble.Image(test), test.Classes, "cross-entropy", false)
	if err != nil {
		t.Fatal(err)
	}
	b := bucketed{c}
	const n, d = 37, 784
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float64, n*d)
	for i := range x {
		x[i] = rng.Float64()
	}
	labels := test.Labels[:n]
	check := func(what string, got, want []float64) {
		t.Helper()
		for i := range want {
			if d := got[i] - want[i]; d > 1e-12 || d < -1e-12 {
				t.Fatalf("%s[%d] = %v, the classifier's %v", what, i, got[i], want[i])
			}
		}
	}
	for _, f := range []struct {
		what string
		size int
		run  func(m classifier, dst []float64) error
	}{
		{"loss", n, func(m classifier, dst []float64) error { return m.Losses(x, labels, dst) }},
		{"logit", n * 10, func(m classifier, dst []float64) error { return m.Logits(x, dst) }},
		{"gradient", n * d, func(m classifier, dst []float64) error { return m.InputGradient(x, labels, dst) }},
	} {
		got, want := make([]float64, f.size), make([]float64, f.size)
		if err := f.run(b, got); err != nil {
			t.Fatal(err)
		}
		if err := f.run(c, want); err != nil {
			t.Fatal(err)
		}
		check(f.what, got, want)
	}
	got, want := make([]int, n), make([]int, n)
	if err := b.Predict(x, got); err != nil {
		t.Fatal(err)
	}
	if err := c.Predict(x, want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("predictions %v, the classifier's %v", got, want)
	}
	if err := b.Predict(x, got[:3]); err == nil || !strings.Contains(err.Error(), "features for 3 examples") {
		t.Errorf("short dst: %v", err)
	}
}

// TestReadReportErrors checks that a robust.json of another format or
// with unknown fields is refused.
func TestReadReportErrors(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"format":  `{"format": "glr-robust/0"}`,
		"unknown": `{"format": "glr-robust/1", "rowz": []}`,
	} {
		path := filepath.Join(dir, name+".json")
		os.WriteFile(path, []byte(body), 0o644)
		if _, err := ReadReport(path); err == nil {
			t.Errorf("%s: ReadReport accepted %s", name, body)
		}
	}
}

// TestCheck checks the evaluation's own guard on attacked images.
func TestCheck(t *testing.T) {
	trained, test := load(t, "tiny-bp")
	s := settings(SetClean)
	s.N = 2
	e, err := newEvaluation(trained, test, Options{Settings: s})
	if err != nil {
		t.Fatal(err)
	}
	tg := e.targets[0]
	adv := append([]float64(nil), e.x...)
	if err := e.check(tg, SetPGD, 0.1, adv); err != nil {
		t.Errorf("clean images: %v", err)
	}
	adv[300] = e.x[300] + 0.1
	if adv[300] > 1 {
		adv[300] = e.x[300] - 0.1
	}
	if err := e.check(tg, SetPGD, 0.1, adv); err != nil && adv[300] >= 0 && adv[300] <= 1 {
		t.Errorf("a change of exactly ε: %v", err)
	}
	far := e.x[300] + 0.25
	if far > 1 {
		far = e.x[300] - 0.25
	}
	for _, v := range []float64{far, -0.01, 1.01, math.NaN()} {
		adv[300] = v
		want := fmt.Sprintf("attacked value 300 is %v, outside [0, 1] ∩ [%v − ε, %v + ε]", v, e.x[300], e.x[300])
		if err := e.check(tg, SetPGD, 0.1, adv); err == nil || err.Error() != want {
			t.Errorf("value %v: error %v, want %s", v, err, want)
		}
	}
	if err := e.check(tg, SetPGD, 0.1, adv[:5]); err == nil || err.Error() != "5 attacked values for 1568" {
		t.Errorf("short batch: %v", err)
	}
}

// TestSetNames checks that the package's set names are those the
// robustness files accept, and the plan of the worst case.
func TestSetNames(t *testing.T) {
	consts := []string{SetClean, SetFGSMTransfer, SetLBFGSTransfer, SetFGSM, SetPGD, SetBPDAPGD, SetZOFGSM, SetZOPGD, SetSquare, SetHopSkipJump, SetWorst}
	all := AllSets()
	if !reflect.DeepEqual(all[:len(consts)], consts) {
		t.Errorf("AllSets starts %v, want %v", all[:len(consts)], consts)
	}
	for _, c := range []struct {
		sets []string
		sub  bool
		want []string
	}{
		{[]string{SetWorst}, false, []string{SetClean, SetSquare, SetHopSkipJump, SetBPDAPGD, SetZOPGD, SetWorst}},
		{[]string{"fog", SetWorst}, true, []string{SetClean, "fog", SetSquare, SetHopSkipJump, SetBPDAPGD, SetZOPGD, SetFGSMTransfer, SetWorst}},
		{[]string{SetPGD, SetWorst, SetClean}, false, []string{SetClean, SetPGD, SetWorst}},
		{[]string{SetSquare, SetWorst}, true, []string{SetClean, SetSquare, SetWorst}},
	} {
		if got := plan(c.sets, c.sub); !reflect.DeepEqual(got, c.want) {
			t.Errorf("plan(%v, %v) = %v, want %v", c.sets, c.sub, got, c.want)
		}
	}
}
