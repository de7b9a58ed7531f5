package attack_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/glr-project/glr/attack"
)

// logistic is a two-class linear classifier on 4 features: logits
// (0, w·x + b), so the loss of class 1 is log(1 + e^(−s)) and that of
// class 0 is log(1 + e^s), with s = w·x + b.
type logistic struct {
	w []float64
	b float64
}

func (m logistic) Dims() (features, classes int) { return len(m.w), 2 }

func (m logistic) score(x []float64) float64 {
	s := m.b
	for j, v := range x {
		s += m.w[j] * v
	}
	return s
}

func (m logistic) Losses(x []float64, labels []int, dst []float64) error {
	d := len(m.w)
	if len(x) != len(labels)*d || len(dst) != len(labels) {
		return errors.New("logistic: bad lengths")
	}
	for i, y := range labels {
		s := m.score(x[i*d : (i+1)*d])
		if y == 1 {
			s = -s
		}
		dst[i] = math.Log1p(math.Exp(s))
	}
	return nil
}

func (m logistic) InputGradient(x []float64, labels []int, grad []float64) error {
	d := len(m.w)
	if len(x) != len(labels)*d || len(grad) != len(x) {
		return errors.New("logistic: bad lengths")
	}
	for i, y := range labels {
		p := 1 / (1 + math.Exp(-m.score(x[i*d:(i+1)*d]))) // P(class 1)
		for j, w := range m.w {
			grad[i*d+j] = (p - float64(y)) * w
		}
	}
	return nil
}

// Attack a classifier with its exact gradient, and with the zeroth-order
// estimate that needs only its losses.
func Example() {
	m := logistic{w: []float64{2, -1, 0.5, 3}, b: -2}
	x := []float64{0.9, 0.2, 0.5, 0.7} // one example, class 1
	labels := []int{1}
	loss := func(x []float64) float64 {
		dst := make([]float64, 1)
		_ = m.Losses(x, labels, dst) // the lengths are right
		return dst[0]
	}

	adv, err := attack.FGSM(m, x, labels, 0.1)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("clean loss %.3f\n", loss(x))
	fmt.Printf("FGSM:  %.2f, loss %.3f\n", adv, loss(adv))

	// Only m.Losses is used: 1000 Gaussian perturbations of scale 0.05,
	// evaluated in one batched call.
	zo := &attack.ZerothOrder{Model: m, Samples: 1000, Sigma: 0.05, Rng: rand.New(rand.NewPCG(1, 2))}
	adv, err = attack.PGD(zo, x, labels, 0.1, attack.PGDOptions{Steps: 5})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("PGD/ZO: %.2f, loss %.3f\n", adv, loss(adv))
	// Output:
	// clean loss 0.133
	// FGSM:  [0.80 0.30 0.40 0.60], loss 0.241
	// PGD/ZO: [0.80 0.30 0.40 0.60], loss 0.241
}
