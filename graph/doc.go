// Package graph builds networks as Gorgonia expression graphs and runs them.
//
// A [Network] is built once from a [Spec], with a fixed number of rows per
// pass: a batch of examples, or K noisy copies of each. Every layer's
// pre-activation, the output logits included, passes through a [NoiseOp]:
// a node that adds noise r drawn from counter-based streams keyed by (seed,
// step, site) and records the draw and its score ψ(r). Estimators read the
// same graph: the likelihood-ratio (GLR) estimator runs it forward and
// combines each site's input with ψ(r) and the per-example losses;
// backpropagation differentiates it symbolically with gorgonia.Grad
// ([Network.Gradients]), with the noise on or off.
//
// The package's ops write their results into buffers they own, and
// [Program] runs any part of a graph in dependency order without the tape
// machine, so a training step allocates nothing: [LinearOp] (x·W + b, with
// gradient ops of its own), [ActivationOp] (sigmoid, tanh, ReLU and the
// threshold, whose derivative is zero or a straight-through [Surrogate]),
// convolution as im2col plus a linear map ([Scope.Conv]), max and average
// pooling ([Scope.Pool]), the copies' [TileOp], [LossOp] (a numerically
// stable softmax cross-entropy, the zero-one loss and the squared error)
// and [MeanOp]. Each op carries a unique id in its hash, because Gorgonia
// merges nodes whose hashes are equal. Package graph/graphtest checks any
// op against the contract these ops meet.
package graph
