// Package attack computes adversarial examples against any classifier.
//
// The attacks see a classifier only through the Model interface (per-example
// cross-entropy losses) or, when they need input gradients, the
// GradientModel interface; a Model may also be a Scorer (logits) or a
// Predictor (predicted classes), which the black-box attacks use when
// present. A batch holds n examples of d features each, stored row-major in
// a []float64 of length n·d with every value in [0, 1], and n class labels.
//
// The gradient attacks are:
//
//   - FGSM, the fast gradient sign method: one step of size ε along the sign
//     of the input gradient.
//   - PGD, projected gradient ascent in the L∞ ball of radius ε, with an
//     optional random start, random restarts and best-iterate selection.
//   - LBFGS and LBFGSBounded, the reference code's "L-BFGS" attack: per
//     example, minimise the negated loss over the unconstrained input with
//     the reference code's torch L-BFGS (fixed steps, no line search), then
//     clip to [0, 1] (LBFGS) or project into the ε-ball and [0, 1]
//     (LBFGSBounded).
//
// The black-box attacks, which never call a gradient method, are:
//
//   - Square, the score-based Square Attack (L∞): random search over
//     square windows set to ±ε, on the margin of the logits.
//   - HopSkipJump, the decision-based HopSkipJumpAttack (L∞): it walks
//     along the decision boundary toward the clean image using predicted
//     classes only, and reports the distance it reached, so that one run
//     gives the accuracy at every ε (HSJResult.AtEps).
//
// FGSM, PGD, LBFGSBounded, Square and HSJResult.AtEps keep every result
// inside the box [0, 1] and within ε of its input in the L∞ norm, exactly:
// |x_adv[j] − x[j]| ≤ ε holds when evaluated in floating point, not only up
// to rounding.
//
// # Networks with zero gradients
//
// Networks with threshold (step) activations, such as those trained by the
// generalized likelihood ratio method, have an input gradient that is zero
// almost everywhere: backpropagation gives zero, FGSM and PGD with it
// change nothing, and a robustness table built on them alone is the
// "obfuscated gradients" failure of Athalye, Carlini and Wagner (2018). The
// package offers the attacks that such an evaluation needs:
//
//   - ZerothOrder turns any Model into a GradientModel whose input gradient
//     is a Gaussian-smoothing (likelihood-ratio) estimate built from loss
//     evaluations alone, for FGSM and PGD.
//   - BPDA pairs the network with a surrogate GradientModel: the same
//     network with the backward pass of each step replaced by that of the
//     identity or of a sigmoid (Backward Pass Differentiable
//     Approximation). PGD on it steps along the surrogate gradient and, with
//     KeepBest and Restarts, keeps the iterates that are best for the real
//     network (see below).
//   - Square and HopSkipJump need no gradient at all. On a piecewise-constant
//     loss Square's paper rule stalls on plateaus; SquareOptions.AcceptEqual
//     lets it walk across them.
//   - EOT averages the losses and gradients of a randomized model (noise at
//     prediction time) over draws, and EOTAccuracy averages its accuracy.
//
// The BPDA attack is PGD on a BPDA model. The caller supplies the
// surrogate, a GradientModel of the same network at the same parameters:
//
//	bpda := attack.BPDA{Model: net, Surrogate: surrogate}
//	adv, err := attack.PGD(bpda, x, labels, eps, attack.PGDOptions{
//		Steps: 100, Restarts: 5, KeepBest: true, Rng: rng,
//	})
//
// For a randomized network, PGD runs on the BPDA model wrapped in EOT
// (attack.EOT{Model: bpda, Draws: 20}).
//
// A model counts as robust at ε on an image only if every attack run at ε
// fails on it: Worst and WorstCorrect combine the attacks' per-image
// results in this worst case, as AutoAttack (Croce and Hein, 2020) does;
// Correct gives the per-image results of a batch of adversarial images.
package attack
