// Package graph builds a network once, as a Gorgonia expression graph, and
// exposes what the gradient estimators read from it.
//
// A [Network] is a forward model with a fixed number of rows per pass. Every
// layer's pre-activation, the output logits included, passes through a
// [NoiseOp]: a node that adds seeded noise r and records the draw and its
// score term ψ(r). The estimators in package estimators read the same graph:
// the likelihood-ratio (GLR) estimator runs it forward once and combines each
// site's input with ψ(r) and the per-example losses; backpropagation
// differentiates it symbolically with gorgonia.Grad, with the noise on or off.
//
// The package also holds the graph ops that Gorgonia lacks or gets wrong: a
// Heaviside step ([StepOp]) whose derivative is zero, and per-example losses
// ([LossOp]): a numerically stable softmax cross-entropy, the zero-one loss and
// the squared error. Each op carries a unique instance id in its hash, because
// Gorgonia merges nodes whose hashes are equal. Package graph/graphtest checks
// any op against the contract these ops meet.
package graph
