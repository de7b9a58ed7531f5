package checkpoint_test

import (
	"fmt"
	"testing"

	"github.com/glr-project/glr/checkpoint"
	"github.com/glr-project/glr/graph"
	"github.com/glr-project/glr/layers"
	"gorgonia.org/tensor"
)

// TestArchitectureMatchesNetwork checks that an Architecture names and
// shapes its parameters as the network builder does for every bias mode, so
// that State.Check passes on the built network's own parameters and that
// scripts/check_export.py, which follows the same rules, reads real exports.
func TestArchitectureMatchesNetwork(t *testing.T) {
	for _, bias := range []layers.Bias{layers.BiasInput, layers.BiasAll, layers.BiasNone} {
		for _, dtype := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			t.Run(fmt.Sprintf("%v/%v", bias, dtype), func(t *testing.T) {
				ls, err := layers.MLP([]int{6, 5}, layers.ReLU, bias, layers.Glorot, 3)
				if err != nil {
					t.Fatal(err)
				}
				net, err := graph.Build(graph.Spec{Inputs: 2 * 4 * 3, Classes: 3, Batch: 1, InputBias: bias.InputColumn(),
					Dtype: dtype, Layers: ls, Scales: []float64{1}, Seed: 7})
				if err != nil {
					t.Fatal(err)
				}
				a := &checkpoint.Architecture{
					Input: checkpoint.Input{Channels: 2, Height: 4, Width: 3}, Classes: 3, Bias: bias.String(),
					Dtype: checkpoint.Dtype(dtype.String()),
					Layers: []checkpoint.Layer{
						{Kind: "dense", Units: 6, Activation: "relu"},
						{Kind: "dense", Units: 5, Activation: "relu"},
						{Kind: "dense", Units: 3, Activation: "identity"},
					},
				}
				names, shapes, err := a.Params()
				if err != nil {
					t.Fatal(err)
				}
				s := &checkpoint.State{Arm: "a", Dtype: a.Dtype}
				var netNames []string
				var netShapes [][]int
				for _, p := range net.Params {
					v := p.Value().(*tensor.Dense)
					values := make([]float64, v.Shape().TotalSize())
					switch d := v.Data().(type) {
					case []float64:
						copy(values, d)
					case []float32:
						for j, x := range d {
							values[j] = float64(x)
						}
					}
					s.Params = append(s.Params, checkpoint.Param{Name: p.Name(), Shape: v.Shape().Clone(), Values: values})
					netNames = append(netNames, p.Name())
					netShapes = append(netShapes, v.Shape().Clone())
				}
				if err := s.Validate(); err != nil {
					t.Fatalf("the network's own parameters: %v", err)
				}
				if err := s.Check(names, shapes); err != nil {
					t.Errorf("the architecture says %q %v, the network has %q %v: %v", names, shapes, netNames, netShapes, err)
				}
			})
		}
	}
}
