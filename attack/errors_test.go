package attack

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestBadInput(t *testing.T) {
	m := newLinear(6, 3, 1, 1)
	x, labels := batch(2, 6, 3, 1)
	short := x[:len(x)-1]
	outOfBox := append([]float64(nil), x...)
	outOfBox[4] = 1.5
	withNaN := append([]float64(nil), x...)
	withNaN[2] = math.NaN()
	rng := func() *rand.Rand { return rand.New(rand.NewPCG(1, 1)) }
	zo := func(edit func(z *ZerothOrder)) *ZerothOrder {
		z := &ZerothOrder{Model: m, Samples: 4, Sigma: 0.1, Rng: rng()}
		edit(z)
		return z
	}
	zoGrad := func(z *ZerothOrder) error {
		return z.InputGradient(x, labels, make([]float64, len(x)))
	}
	fgsm := func(m GradientModel, x []float64, labels []int, eps float64) error {
		_, err := FGSM(m, x, labels, eps)
		return err
	}
	pgd := func(opts PGDOptions) error {
		_, err := PGD(m, x, labels, 0.1, opts)
		return err
	}
	lb := func(opts LBFGSOptions) error {
		_, err := LBFGS(m, x, labels, opts)
		return err
	}

	checkErrors(t, []errCase{
		{"FGSM short x", fgsm(m, short, labels, 0.1), "len(x)"},
		{"FGSM too few labels", fgsm(m, x, labels[:1], 0.1), "len(x)"},
		{"FGSM label -1", fgsm(m, x, []int{0, -1}, 0.1), "labels[1] = -1"},
		{"FGSM label = classes", fgsm(m, x, []int{3, 0}, 0.1), "labels[0] = 3"},
		{"FGSM eps < 0", fgsm(m, x, labels, -0.1), "eps"},
		{"FGSM eps NaN", fgsm(m, x, labels, math.NaN()), "eps"},
		{"FGSM eps +Inf", fgsm(m, x, labels, math.Inf(1)), "eps"},
		{"FGSM x outside box", fgsm(m, outOfBox, labels, 0.1), "x[4] = 1.5"},
		{"FGSM x NaN", fgsm(m, withNaN, labels, 0.1), "x[2] = NaN"},
		{"FGSM nil model", fgsm(nil, x, labels, 0.1), "nil"},
		{"FGSM no features", fgsm(badDims{m}, x, labels, 0.1), "features"},
		{"FGSM model error", fgsm(&broken{linear: m, fail: true}, x, labels, 0.1), "broken model"},
		{"FGSM NaN gradient", fgsm(&broken{linear: m, nan: true}, x, labels, 0.1), "gradient[0] = NaN"},
		{"PGD steps < 0", pgd(PGDOptions{Steps: -1}), "Steps"},
		{"PGD step size < 0", pgd(PGDOptions{StepSize: -1}), "StepSize"},
		{"PGD step size NaN", pgd(PGDOptions{StepSize: math.NaN()}), "StepSize"},
		{"PGD random start without Rng", pgd(PGDOptions{RandomStart: true}), "Rng"},
		{"PGD eps NaN", func() error { _, err := PGD(m, x, labels, math.NaN(), PGDOptions{}); return err }(), "eps"},
		{"PGD bad label", func() error { _, err := PGD(m, x, []int{0, 7}, 0.1, PGDOptions{}); return err }(), "labels[1]"},
		{"LBFGS iterations < 0", lb(LBFGSOptions{MaxIterations: -1}), "MaxIterations"},
		{"LBFGS history < 0", lb(LBFGSOptions{History: -1}), "History"},
		{"LBFGS learning rate NaN", lb(LBFGSOptions{LearningRate: math.NaN()}), "LearningRate"},
		{"LBFGS short x", func() error { _, err := LBFGS(m, short, labels, LBFGSOptions{}); return err }(), "len(x)"},
		{"LBFGS model error", func() error {
			_, err := LBFGS(&broken{linear: m, fail: true}, x, labels, LBFGSOptions{})
			return err
		}(), "broken model"},
		{"LBFGS NaN loss", func() error {
			_, err := LBFGS(&broken{linear: m, nan: true}, x, labels, LBFGSOptions{})
			return err
		}(), "loss[0] = NaN"},
		{"LBFGSBounded eps < 0", func() error {
			_, err := LBFGSBounded(m, x, labels, -1, LBFGSOptions{})
			return err
		}(), "eps"},
		{"ZerothOrder Samples 0", zoGrad(zo(func(z *ZerothOrder) { z.Samples = 0 })), "Samples = 0"},
		{"ZerothOrder Samples < 0", zoGrad(zo(func(z *ZerothOrder) { z.Samples = -3 })), "Samples = -3"},
		{"ZerothOrder Sigma 0", zoGrad(zo(func(z *ZerothOrder) { z.Sigma = 0 })), "Sigma = 0"},
		{"ZerothOrder Sigma < 0", zoGrad(zo(func(z *ZerothOrder) { z.Sigma = -1 })), "Sigma = -1"},
		{"ZerothOrder Sigma NaN", zoGrad(zo(func(z *ZerothOrder) { z.Sigma = math.NaN() })), "Sigma = NaN"},
		{"ZerothOrder Sigma +Inf", zoGrad(zo(func(z *ZerothOrder) { z.Sigma = math.Inf(1) })), "Sigma = +Inf"},
		{"ZerothOrder nil Rng", zoGrad(zo(func(z *ZerothOrder) { z.Rng = nil })), "Rng"},
		{"ZerothOrder nil Model", zoGrad(zo(func(z *ZerothOrder) { z.Model = nil })), "Model"},
		{"ZerothOrder odd antithetic", zoGrad(zo(func(z *ZerothOrder) { z.Samples, z.Antithetic = 3, true })), "even"},
		{"ZerothOrder mean with 1 sample", zoGrad(zo(func(z *ZerothOrder) { z.Samples, z.Baseline = 1, BaselineMean })), "BaselineMean"},
		{"ZerothOrder unknown baseline", zoGrad(zo(func(z *ZerothOrder) { z.Baseline = 7 })), "Baseline(7)"},
		{"ZerothOrder MaxRows < 0", zoGrad(zo(func(z *ZerothOrder) { z.MaxRows = -1 })), "MaxRows"},
		{"ZerothOrder short grad", zo(func(*ZerothOrder) {}).InputGradient(x, labels, make([]float64, 3)), "len(grad)"},
		{"ZerothOrder bad label", zo(func(*ZerothOrder) {}).InputGradient(x, []int{0, 9}, make([]float64, len(x))), "labels[1]"},
		{"ZerothOrder model error", zoGrad(zo(func(z *ZerothOrder) { z.Model = &broken{linear: m, fail: true} })), "broken model"},
		{"ZerothOrder NaN loss", zoGrad(zo(func(z *ZerothOrder) { z.Model = &broken{linear: m, nan: true} })), "loss[0] = NaN"},
		{"ZerothOrder nil Model losses", (&ZerothOrder{}).Losses(x, labels, make([]float64, 2)), "Model is nil"},
		{"FGSM with a bad ZerothOrder", fgsm(zo(func(z *ZerothOrder) { z.Sigma = 0 }), x, labels, 0.1), "Sigma"},
	})
}

// errCase is an error an attack returned for a bad input or setting.
type errCase struct {
	name string
	err  error
	want string // a substring of the message
}

// checkErrors checks that each case's error exists, starts with
// "attack: ", contains its want string, and wraps errBroken when the
// model failed.
func checkErrors(t *testing.T, cases []errCase) {
	t.Helper()
	for _, c := range cases {
		if c.err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		t.Logf("%s: %v", c.name, c.err)
		if !strings.Contains(c.err.Error(), c.want) || !strings.HasPrefix(c.err.Error(), "attack: ") {
			t.Errorf("%s: error %q, want it to start with %q and contain %q", c.name, c.err, "attack: ", c.want)
		}
		if strings.Contains(c.want, "broken") && !errors.Is(c.err, errBroken) {
			t.Errorf("%s: error %q does not wrap the model's error", c.name, c.err)
		}
	}
}

func TestEmptyBatch(t *testing.T) {
	m := newLinear(6, 3, 1, 1)
	z := &ZerothOrder{Model: m, Samples: 4, Sigma: 0.1, Rng: rand.New(rand.NewPCG(1, 1))}
	for name, run := range map[string]func() ([]float64, error){
		"FGSM":        func() ([]float64, error) { return FGSM(m, nil, nil, 0.1) },
		"PGD":         func() ([]float64, error) { return PGD(m, nil, nil, 0.1, PGDOptions{}) },
		"LBFGS":       func() ([]float64, error) { return LBFGS(m, nil, nil, LBFGSOptions{}) },
		"FGSM/zeroth": func() ([]float64, error) { return FGSM(z, nil, nil, 0.1) },
	} {
		adv, err := run()
		if err != nil || len(adv) != 0 {
			t.Errorf("%s of an empty batch = %v, %v; want an empty result", name, adv, err)
		}
	}
}
