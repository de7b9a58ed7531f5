package runner

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestClassifierInputGradient checks the backpropagated input gradient of
// each example's loss against central finite differences of Losses, on a
// smooth network, for batches that span several passes.
func TestClassifierInputGradient(t *testing.T) {
	exp := experiment(t, smooth, `model.activation="tanh"`, `model.bias="input"`)
	spec, err := NetworkSpec(exp, 6, 3, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	net, err := BuildNetwork(exp, 6, 3, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	spec.Params = net.ParamValues()
	c, err := NewClassifier(spec, false, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = 1003 // two passes: 1000 rows and 3
	rng := rand.New(rand.NewPCG(1, 1))
	x := make([]float64, n*6)
	labels := make([]int, n)
	for i := range x {
		x[i] = rng.Float64()
	}
	for i := range labels {
		labels[i] = rng.IntN(3)
	}
	grad := make([]float64, len(x))
	if err := c.InputGradient(x, labels, grad); err != nil {
		t.Fatal(err)
	}
	losses := func() []float64 {
		l := make([]float64, n)
		if err := c.Losses(x, labels, l); err != nil {
			t.Fatal(err)
		}
		return l
	}
	const h = 1e-6
	for _, i := range []int{0, 5, 999, 1000, 1002} { // examples in both passes
		for j := 0; j < 6; j++ {
			k := i*6 + j
			orig := x[k]
			x[k] = orig + h
			up := losses()[i]
			x[k] = orig - h
			down := losses()[i]
			x[k] = orig
			num := (up - down) / (2 * h)
			// Central differences are accurate to ~1e-9 here; the
			// backpropagated value must agree to 1e-6 absolute.
			if math.Abs(num-grad[k]) > 1e-6 {
				t.Errorf("example %d feature %d: gradient %v, finite difference %v", i, j, grad[k], num)
			}
		}
	}
}
