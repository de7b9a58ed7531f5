// Package estimators estimates the gradient of a network's expected loss,
// with an open family of estimators registered by kind.
//
// Every estimator implements one small interface, [Estimator], and reads
// networks built by package graph from one spec, so that all of them work
// on the identical graph and weights. The built-in kinds are
//
//   - glr: the generalized likelihood-ratio (push-out) estimator of Peng,
//     Xiao, Heidergott, Hong and Lam (INFORMS Journal on Computing, 2022):
//     one forward pass with noise at every site gives every layer's
//     gradient as Xᵀ·(diag(L − b)·ψ(R))/M, one matrix product per site, no
//     backward pass and no derivative of an activation or a loss, so
//     threshold networks and the zero-one loss train. Options: copies,
//     baselines, antithetic pairs, randomized quasi-Monte Carlo noise, and
//     noise at one site per pass (layer-wise, as in ULR, Jiang et al.,
//     ICLR 2024);
//   - bp: backpropagation, gorgonia.Grad of the mean loss, with the noise
//     off (the exact gradient) or on (the pathwise estimator of the
//     objective glr estimates);
//   - ste: backpropagation with a surrogate derivative for threshold
//     activations (the straight-through estimator);
//   - es: weight-space evolution strategies (Salimans et al. 2017),
//     antithetic pairs, raw or centred-rank fitness;
//   - spsa: simultaneous-perturbation two-sided differences along
//     Rademacher directions (Spall 1992).
//
// A kind is registered once, with [Register]: its name, its settings (a
// struct whose toml-tagged fields are the keys of an experiment's
// [estimator] table, decoded strictly by package configs), their checks,
// and the constructor. Package estimators/estimatortest is the conformance
// kit every kind passes.
package estimators
