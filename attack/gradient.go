package attack

import (
	"errors"
	"fmt"
	"math/rand/v2"
)

// FGSM returns the fast gradient sign method's adversarial examples for the
// batch x with labels:
//
//	x_adv = clip(x + eps·sign(∇x L), 0, 1)
//
// where L is m's per-example loss. The gradient may be exact or an estimate
// (see ZerothOrder). The result is a new slice; every value lies in [0, 1]
// and within eps of x. Coordinates with a zero gradient do not move, and
// eps = 0 returns a copy of x without consulting the gradient. FGSM returns
// an error if the batch does not fit m, an input lies outside [0, 1], eps is
// negative or not finite, or the model fails or returns a non-finite
// gradient.
func FGSM(m GradientModel, x []float64, labels []int, eps float64) ([]float64, error) {
	n, d, err := checkInputs(m, x, labels)
	if err != nil {
		return nil, fmt.Errorf("attack: FGSM: %w", err)
	}
	if err := checkNonNeg("eps", eps); err != nil {
		return nil, fmt.Errorf("attack: FGSM: %w", err)
	}
	adv := make([]float64, n*d)
	if eps == 0 || n == 0 {
		copy(adv, x)
		return adv, nil
	}
	if err := m.InputGradient(x, labels, adv); err != nil {
		return nil, fmt.Errorf("attack: FGSM: input gradient: %w", err)
	}
	if err := checkFinite("gradient", adv); err != nil {
		return nil, fmt.Errorf("attack: FGSM: %w", err)
	}
	for j, g := range adv {
		adv[j] = project(x[j]+eps*sign(g), x[j], eps)
	}
	return adv, nil
}

// DefaultPGDSteps is the number of PGD steps used when PGDOptions.Steps is 0.
const DefaultPGDSteps = 10

// PGDOptions configures PGD. The zero value asks for DefaultPGDSteps steps
// of size 2.5·eps/DefaultPGDSteps from the clean input.
type PGDOptions struct {
	// Steps is the number k of gradient steps; 0 means DefaultPGDSteps.
	Steps int
	// StepSize is the step size α; 0 means 2.5·eps/Steps, the choice of
	// Madry et al. that lets the iterate cross the ball from any start.
	StepSize float64
	// RandomStart starts from x plus noise drawn uniformly from the eps-ball
	// (then moved into [0, 1]) instead of from x.
	RandomStart bool
	// Rng draws the random start. It is required when RandomStart is set.
	Rng *rand.Rand
}

// PGD returns the adversarial examples of projected gradient ascent on m's
// loss in the L∞ ball of radius eps around x:
//
//	x ← Proj(x + α·sign(∇x L))
//
// repeated opts.Steps times, where Proj moves each coordinate into
// [0, 1] ∩ [x_j − eps, x_j + eps]. The result, the last iterate, is a new
// slice within eps of x and inside [0, 1]. PGD returns an error for the
// inputs FGSM rejects and for bad options: negative Steps, a negative or
// non-finite StepSize, or RandomStart without Rng.
func PGD(m GradientModel, x []float64, labels []int, eps float64, opts PGDOptions) ([]float64, error) {
	n, d, err := checkInputs(m, x, labels)
	if err != nil {
		return nil, fmt.Errorf("attack: PGD: %w", err)
	}
	if err := checkNonNeg("eps", eps); err != nil {
		return nil, fmt.Errorf("attack: PGD: %w", err)
	}
	steps := opts.Steps
	switch {
	case steps < 0:
		return nil, fmt.Errorf("attack: PGD: Steps = %d, want >= 0", steps)
	case steps == 0:
		steps = DefaultPGDSteps
	}
	alpha := opts.StepSize
	if err := checkNonNeg("StepSize", alpha); err != nil {
		return nil, fmt.Errorf("attack: PGD: %w", err)
	}
	if alpha == 0 {
		alpha = 2.5 * eps / float64(steps)
	}
	if opts.RandomStart && opts.Rng == nil {
		return nil, errors.New("attack: PGD: RandomStart needs an Rng")
	}

	adv := make([]float64, n*d)
	copy(adv, x)
	if eps == 0 || n == 0 {
		return adv, nil
	}
	if opts.RandomStart {
		for j := range adv {
			adv[j] = project(x[j]+eps*(2*opts.Rng.Float64()-1), x[j], eps)
		}
	}
	grad := make([]float64, n*d)
	for range steps {
		if err := m.InputGradient(adv, labels, grad); err != nil {
			return nil, fmt.Errorf("attack: PGD: input gradient: %w", err)
		}
		if err := checkFinite("gradient", grad); err != nil {
			return nil, fmt.Errorf("attack: PGD: %w", err)
		}
		for j, g := range grad {
			adv[j] = project(adv[j]+alpha*sign(g), x[j], eps)
		}
	}
	return adv, nil
}
