// Package attack computes adversarial examples against any classifier.
//
// The attacks see a classifier only through the Model interface (per-example
// cross-entropy losses) or, when they need input gradients, the
// GradientModel interface. A batch holds n examples of d features each,
// stored row-major in a []float64 of length n·d with every value in [0, 1],
// and n class labels.
//
// The attacks are:
//
//   - FGSM, the fast gradient sign method: one step of size ε along the sign
//     of the input gradient.
//   - PGD, projected gradient ascent in the L∞ ball of radius ε, with an
//     optional random start.
//   - LBFGS and LBFGSBounded, the project seed's "L-BFGS" attack: per
//     example, minimise the negated loss over the unconstrained input with
//     the seed's torch L-BFGS (fixed steps, no line search), then clip to
//     [0, 1] (LBFGS) or project into the ε-ball and [0, 1] (LBFGSBounded).
//
// FGSM, PGD and LBFGSBounded keep every result inside the box [0, 1] and
// within ε of its input in the L∞ norm, exactly: |x_adv[j] − x[j]| ≤ ε holds
// when evaluated in floating point, not only up to rounding.
//
// ZerothOrder turns any Model into a GradientModel whose input gradient is a
// Gaussian-smoothing (likelihood-ratio) estimate built from loss evaluations
// alone. It is the honest white-box attack on networks whose exact input
// gradient is zero almost everywhere, such as networks with threshold (step)
// activations trained by the generalized likelihood ratio method: there
// backpropagation gives a zero gradient and FGSM with it changes nothing.
package attack
