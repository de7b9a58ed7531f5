// Package assemble turns an experiment's configuration into the objects
// that run it: the network spec of an arm, its estimator, and the data sets.
// Every error names the config key at fault.
package assemble

import (
	"fmt"

	"github.com/glr-project/glr/configs"
	"github.com/glr-project/glr/datasets"
	"github.com/glr-project/glr/estimators"
	"github.com/glr-project/glr/graph"
	"github.com/glr-project/glr/layers"
	"github.com/glr-project/glr/score"
	"gorgonia.org/tensor"
)

// Spec maps an arm's [model], [noise] and [loss] tables to the spec of its
// network, for examples of the given image geometry (channels-last, c·h·w
// features) and number of classes. The spec's Batch and Params are left for
// the caller (see graph.NewParams).
func Spec(exp *configs.Experiment, image graph.Image, classes int) (graph.Spec, error) {
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
	case "float64":
		dt = tensor.Float64
	case "float32":
		dt = tensor.Float32
	default:
		return graph.Spec{}, fmt.Errorf("model.dtype: unknown dtype %q (want float64 | float32)", m.Dtype)
	}
	law, err := score.ParseLaw(exp.Noise.Distribution)
	if err != nil {
		return graph.Spec{}, fmt.Errorf("noise.distribution: %w", err)
	}
	loss, err := graph.ParseLossKind(exp.Loss.Kind)
	if err != nil {
		return graph.Spec{}, fmt.Errorf("loss.kind: %w", err)
	}
	var convs []layers.Conv
	for i, c := range m.Conv {
		kind, err := graph.ParsePoolKind(c.PoolKind)
		if err != nil {
			return graph.Spec{}, fmt.Errorf("model.conv[%d].pool_kind: %w", i, err)
		}
		convs = append(convs, layers.Conv{Filters: c.Filters, Kernel: c.Kernel, Stride: c.Stride, Pad: c.Padding, Pool: c.Pool, PoolKind: kind,
			NoiseAfterPool: c.NoiseAfter == "pool"})
	}
	ls, err := layers.CNN(image, convs, m.Hidden, act, bias, init, classes)
	if err != nil {
		key := "model.hidden"
		if len(convs) > 0 {
			key = "model.conv"
		}
		return graph.Spec{}, fmt.Errorf("%s: %w", key, err)
	}
	return graph.Spec{
		Inputs: image.Len(), Classes: classes, InputBias: bias.InputColumn(), Dtype: dt,
		Layers: ls, Loss: loss, Noise: law, Scales: []float64(exp.Noise.Scale), Seed: exp.Seed,
	}, nil
}

// Estimator returns the arm's estimator for batches of batch examples, on
// networks like spec, whose Params hold the arm's weights.
func Estimator(exp *configs.Experiment, spec graph.Spec, batch int) (estimators.Estimator, error) {
	if exp.Estimator.Settings == nil {
		return nil, fmt.Errorf("estimator: no settings for kind %q", exp.Estimator.Kind)
	}
	spec.Batch = batch
	e, err := exp.Estimator.Settings.New(spec)
	if err != nil {
		return nil, fmt.Errorf("estimator %s: %w", exp.Estimator.Kind, err)
	}
	return e, nil
}

// Data loads the experiment's training and test sets, limited as [data]
// says, and checks that they fit each other: a test set that is empty or of
// another geometry is an error before any training starts.
func Data(exp *configs.Experiment) (train, test *datasets.Set, err error) {
	d := exp.Data
	switch d.Dataset {
	case "mnist":
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
	train, test = train.Limit(d.TrainLimit), test.Limit(d.TestLimit)
	if err := datasets.Compatible(train, test); err != nil {
		return nil, nil, fmt.Errorf("data: %w", err)
	}
	return train, test, nil
}

// Image returns the geometry of a data set's examples.
func Image(s *datasets.Set) graph.Image {
	c, h, w := s.Image()
	return graph.Image{C: c, H: h, W: w}
}
