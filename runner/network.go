// Package runner turns experiment configs into networks, estimators and
// data, and runs the project's jobs on them: the gradient check now, training
// and robustness runs as they arrive.
package runner

import (
	"fmt"

	"github.com/glr-project/glr/configs"
	"github.com/glr-project/glr/datasets"
	"github.com/glr-project/glr/estimators"
	"github.com/glr-project/glr/graph"
	"github.com/glr-project/glr/layers"
	"gorgonia.org/tensor"
)

// NetworkSpec maps an experiment's [model], [noise] and [loss] tables to a
// graph spec for a network of the given input and class counts that takes
// batch examples with copies noisy copies of each (the input layer's product
// is computed once per example). Errors name the config key at fault.
func NetworkSpec(exp *configs.Experiment, inputs, classes, batch, copies int) (graph.Spec, error) {
	m := exp.Model
	act, err := layers.ParseActivation(m.Activation)
	if err != nil {
		return graph.Spec{}, fmt.Errorf("model.activation: %w", err)
	}
	bias, err := layers.ParseBias(m.Bias)
	if err != nil {
		return graph.Spec{}, fmt.Errorf("model.bias: %w", err)
	}
	init, err := layers.ParseInit(m.Init)
	if err != nil {
		return graph.Spec{}, fmt.Errorf("model.init: %w", err)
	}
	var dt tensor.Dtype
	switch m.Dtype {
	case "float64", "":
		dt = tensor.Float64
	case "float32":
		dt = tensor.Float32
	default:
		return graph.Spec{}, fmt.Errorf("model.dtype: unknown dtype %q (want float64 | float32)", m.Dtype)
	}
	dist, err := graph.ParseDistribution(exp.Noise.Distribution)
	if err != nil {
		return graph.Spec{}, fmt.Errorf("noise.distribution: %w", err)
	}
	loss, err := graph.ParseLossKind(exp.Loss.Kind)
	if err != nil {
		return graph.Spec{}, fmt.Errorf("loss.kind: %w", err)
	}
	ls, err := layers.MLP(m.Hidden, act, bias, init, classes)
	if err != nil {
		return graph.Spec{}, fmt.Errorf("model.hidden: %w", err)
	}
	return graph.Spec{
		Inputs: inputs, Classes: classes, Rows: batch * copies, Copies: copies, Dtype: dt,
		Layers: ls, Loss: loss, Noise: dist, Scale: exp.Noise.Scale, Seed: exp.Seed,
	}, nil
}

// BuildNetwork builds the experiment's network for the given sizes.
func BuildNetwork(exp *configs.Experiment, inputs, classes, batch, copies int) (*graph.Network, error) {
	spec, err := NetworkSpec(exp, inputs, classes, batch, copies)
	if err != nil {
		return nil, err
	}
	return graph.Build(spec)
}

// EstimatorOptions maps the experiment's [estimator] table.
func EstimatorOptions(exp *configs.Experiment) estimators.Options {
	e := exp.Estimator
	return estimators.Options{Kind: e.Kind, Copies: e.Copies, Baseline: e.Baseline, Antithetic: e.Antithetic, Noise: e.Noise}
}

// LoadData loads the experiment's training and test sets, limited as
// [data] says.
func LoadData(exp *configs.Experiment) (train, test *datasets.Set, err error) {
	d := exp.Data
	switch d.Dataset {
	case "mnist", "":
		train, test, err = datasets.LoadMNIST(d.Path)
	case "fashion-mnist":
		train, test, err = datasets.LoadFashionMNIST(d.Path)
	case "tiny-imagenet":
		train, test, err = datasets.LoadTinyImageNet(d.Path, datasets.TinyImageNetOptions{NumClasses: d.Classes, Size: d.ImageSize, Sin: d.Sin})
	default:
		return nil, nil, fmt.Errorf("data.dataset: unknown dataset %q (want mnist | fashion-mnist | tiny-imagenet)", d.Dataset)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("data: %w", err)
	}
	return train.Limit(d.TrainLimit), test.Limit(d.TestLimit), nil
}
