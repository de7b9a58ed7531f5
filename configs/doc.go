// Package configs reads, checks and writes experiment files.
//
// An experiment is a TOML file that names a network, its noise, a gradient
// estimator (the generalized likelihood ratio, "glr", or backpropagation,
// "bp"), a loss, a data set, an optimizer and a training length. It may list
// arms: variants of the experiment that override keys of the [estimator],
// [loss], [noise] and [optimizer] tables, run side by side. The file format,
// every key and its default are described in docs/config.md.
//
// [Load] and [Parse] decode a file strictly: malformed TOML, unknown keys,
// values of the wrong type and impossible values are all errors, and every
// error names the file, the line and the dotted key:
//
//	configs/mnist.toml:7: model.activation: unknown activation "sigmod" (want sigmoid | threshold | relu | tanh)
//
// When several things are wrong, the returned error joins one such line per
// problem; each is an [*Error].
//
// Both accept overrides, written as on a command line after -set:
// "noise.scale=0.5", "model.hidden=[100,50]", "estimator.kind=bp" or
// "arms[1].loss.kind=zero-one". An override is applied after the file is
// decoded and before the experiment is validated.
//
// [Experiment.Resolved] expands an experiment into one [ArmConfig] per arm,
// each a complete configuration with the arm's overrides applied.
// [Experiment.Encode] writes an experiment back as TOML with every key
// explicit, so that a run can be reproduced from its output alone, and
// [Experiment.Hash] fingerprints that encoding.
package configs
