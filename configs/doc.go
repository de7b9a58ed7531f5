// Package configs reads, checks and writes experiment files.
//
// An experiment is a TOML file that names a network (optional convolution
// layers, then dense layers), its noise, a gradient estimator, a loss, a
// data set, an optimizer and a training length. It may list arms: variants
// of the experiment that override keys of the [estimator], [loss], [noise]
// and [optimizer] tables, run side by side. The file format, every key and
// its default are described in docs/config.md.
//
// The estimator is any kind registered with package estimators (the
// likelihood-ratio glr, backpropagation bp, the straight-through ste,
// evolution strategies es, spsa, or a kind a program adds). The [estimator]
// table holds kind and the keys of that kind's settings, which this package
// reads from the kind's registered settings struct and decodes strictly;
// the kind then checks them ([estimators.Settings.Check]) against the
// network that [Experiment.Info] describes. This package names no kind but
// the default.
//
// [Load] and [Parse] decode a file strictly: malformed TOML, unknown keys,
// values of the wrong type, impossible values and sizes beyond the limits
// ([MaxHiddenLayers] and the others) are all errors, and every error names
// the file, the line and the dotted key:
//
//	configs/mnist.toml:7: model.activation: unknown activation "sigmod" (want sigmoid | threshold | relu | tanh)
//	configs/es.toml:4: estimator.layerwise: not a key of estimator kind "es" (its keys: copies, sigma, antithetic, fitness); layerwise is a key of glr
//
// When several things are wrong, the returned error joins one such line per
// problem; each is an [*Error].
//
// Both accept overrides, written as on a command line after -set:
// "noise.scale=[0.5,1]", "model.hidden=[100,50]", "estimator.kind=es" or
// "arms[1].loss.kind=zero-one". An override is applied after the file is
// decoded and before the experiment is validated; the [estimator] keys are
// decoded for the kind in force once every override is applied.
//
// [Experiment.Resolved] expands an experiment into one [ArmConfig] per arm,
// each a complete configuration with the arm's overrides applied and its
// estimator settings complete. [Model.ConvShapes] gives the geometry of the
// convolution layers. [Experiment.Encode] writes an experiment back as TOML
// with every key explicit, so that a run can be reproduced from its output
// alone, and [Experiment.Hash] fingerprints that encoding.
//
// A robustness file describes an evaluation of trained models under attacks
// and corruptions (glr robust -config FILE): [LoadRobustness] and
// [ParseRobustness] decode it into a [Robustness] just as strictly, with
// [Override] values from command-line flags applied before it is
// validated, and [Robustness.Encode] writes it back.
package configs
