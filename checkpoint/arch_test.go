package checkpoint

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// mnistArch is the reference code's network: 784 inputs, 50 sigmoid units
// and 10 logits, with the bias as a constant-1 input.
func mnistArch() *Architecture {
	return &Architecture{
		Input:   Input{Channels: 1, Height: 28, Width: 28},
		Classes: 10,
		Bias:    "input",
		Dtype:   Float64,
		Layers: []Layer{
			{Kind: "dense", Units: 50, Activation: "sigmoid"},
			{Kind: "dense", Units: 10, Activation: "identity"},
		},
	}
}

func TestArchitectureParams(t *testing.T) {
	tests := []struct {
		name       string
		mutate     func(a *Architecture)
		wantNames  []string
		wantShapes [][]int
	}{
		{"bias input", func(*Architecture) {}, []string{"layer1/W", "layer2/W"}, [][]int{{785, 50}, {50, 10}}},
		{"bias all", func(a *Architecture) { a.Bias = "all" },
			[]string{"layer1/W", "layer1/b", "layer2/W", "layer2/b"}, [][]int{{784, 50}, {50}, {50, 10}, {10}}},
		{"bias none", func(a *Architecture) { a.Bias = "none" }, []string{"layer1/W", "layer2/W"}, [][]int{{784, 50}, {50, 10}}},
		{"linear classifier", func(a *Architecture) { a.Layers = a.Layers[1:] }, []string{"layer1/W"}, [][]int{{785, 10}}},
		{"three channels, three layers", func(a *Architecture) {
			a.Input = Input{Channels: 3, Height: 4, Width: 5}
			a.Layers = append([]Layer{{Kind: "dense", Units: 7, Activation: "threshold"}}, a.Layers...)
		}, []string{"layer1/W", "layer2/W", "layer3/W"}, [][]int{{61, 7}, {7, 50}, {50, 10}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := mnistArch()
			tc.mutate(a)
			names, shapes, err := a.Params()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(names, tc.wantNames) || !reflect.DeepEqual(shapes, tc.wantShapes) {
				t.Errorf("Params() = %q %v, want %q %v", names, shapes, tc.wantNames, tc.wantShapes)
			}
		})
	}
}

func TestArchitectureErrors(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(a *Architecture)
		text   string
	}{
		{"no channels", func(a *Architecture) { a.Input.Channels = 0 }, "input 0×28×28"},
		{"huge input", func(a *Architecture) { a.Input = Input{1 << 40, 1 << 40, 1 << 40} }, "more than 2147483648 values"},
		{"no classes", func(a *Architecture) { a.Classes = 0 }, "0 classes"},
		{"bias mode", func(a *Architecture) { a.Bias = "first" }, `unknown bias mode "first"`},
		{"dtype", func(a *Architecture) { a.Dtype = "float16" }, `unknown dtype "float16"`},
		{"no layers", func(a *Architecture) { a.Layers = nil }, "no layers"},
		{"kind", func(a *Architecture) { a.Layers[0].Kind = "conv" }, `layer1: unknown kind "conv"`},
		{"units", func(a *Architecture) { a.Layers[0].Units = 0 }, "layer1: 0 units"},
		{"huge units", func(a *Architecture) { a.Layers[0].Units = 1 << 40 }, "layer1: 1099511627776 units"},
		{"huge W", func(a *Architecture) { a.Layers[0].Units = 1 << 30 }, "layer1: W of 785×1073741824"},
		{"activation", func(a *Architecture) { a.Layers[0].Activation = "softplus" }, `layer1: unknown activation "softplus"`},
		{"last not identity", func(a *Architecture) { a.Layers[1].Activation = "sigmoid" }, `layer2: the last layer computes the logits: activation "sigmoid"`},
		{"last units", func(a *Architecture) { a.Layers[1].Units = 9 }, "layer2: the last layer has 9 units for 10 classes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := mnistArch()
			tc.mutate(a)
			_, _, err := a.Params()
			if err == nil || !strings.HasPrefix(err.Error(), "checkpoint: architecture: ") || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("error %v, want one saying %q", err, tc.text)
			}
			path := filepath.Join(t.TempDir(), "model.json")
			if err := WriteArchitecture(path, a); err == nil || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("WriteArchitecture: error %v, want one saying %q", err, tc.text)
			}
			if _, err := os.Stat(path); err == nil {
				t.Error("a refused architecture was written")
			}
		})
	}
}

func TestWriteArchitecture(t *testing.T) {
	a := mnistArch()
	a.Dtype = ""
	path := filepath.Join(t.TempDir(), "model.json")
	if err := WriteArchitecture(path, a); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"input":   map[string]any{"channels": 1.0, "height": 28.0, "width": 28.0},
		"classes": 10.0,
		"bias":    "input",
		"dtype":   "float64", // an empty Dtype is written as float64
		"layers": []any{
			map[string]any{"kind": "dense", "units": 50.0, "activation": "sigmoid"},
			map[string]any{"kind": "dense", "units": 10.0, "activation": "identity"},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("wrote %s\nwant the schema %v", b, want)
	}
	if a.Dtype != "" {
		t.Error("WriteArchitecture changed its argument")
	}
}
