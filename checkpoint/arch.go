package checkpoint

import (
	"errors"
	"fmt"

	"github.com/glr-project/glr/internal/atomicfile"
)

// Architecture is the model.json written beside an NPZ export: what a
// reader outside Go (scripts/check_export.py) needs to run the exported
// network. Its JSON form is
//
//	{
//	  "input":   {"channels": 1, "height": 28, "width": 28},
//	  "classes": 10,
//	  "bias":    "input",
//	  "dtype":   "float64",
//	  "layers":  [{"kind": "dense", "units": 50, "activation": "sigmoid"},
//	              {"kind": "dense", "units": 10, "activation": "identity"}]
//	}
//
// The network flattens an input of channels × height × width values
// row-major. Layer N (counting from 1) has the weight "layerN/W" of inputs ×
// units and computes act(x·W (+ b)). The bias mode decides where the biases
// are: "input" appends a constant 1 as the last input of the first layer,
// whose W therefore has one more row (785 for MNIST), and no layer has a b;
// "all" gives every layer a bias vector "layerN/b" of units values, added to
// x·W; "none" has no bias at all. Activations are sigmoid, threshold
// (1[z > 0]), relu, tanh and identity; the last layer must be identity (its
// outputs are the logits) and have classes units. dtype is the dtype of the
// exported arrays.
type Architecture struct {
	Input   Input   `json:"input"`
	Classes int     `json:"classes"`
	Bias    string  `json:"bias"`
	Dtype   Dtype   `json:"dtype"`
	Layers  []Layer `json:"layers"`
}

// Input is the shape of one example, before flattening.
type Input struct {
	Channels int `json:"channels"`
	Height   int `json:"height"`
	Width    int `json:"width"`
}

// Layer is one layer of an Architecture. Kind is "dense", the only kind.
type Layer struct {
	Kind       string `json:"kind"`
	Units      int    `json:"units"`
	Activation string `json:"activation"`
}

// activations are the activations an Architecture may name.
var activations = map[string]bool{"sigmoid": true, "threshold": true, "relu": true, "tanh": true, "identity": true}

// Params returns the names and shapes of the parameters the architecture
// has, in build order (each layer's W, then its b), as State.Check takes
// them, or an error saying what is wrong with the architecture.
func (a *Architecture) Params() (names []string, shapes [][]int, err error) {
	names, shapes, err = a.params()
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint: architecture: %w", err)
	}
	return names, shapes, nil
}

func (a *Architecture) params() (names []string, shapes [][]int, err error) {
	in := a.Input
	if in.Channels < 1 || in.Height < 1 || in.Width < 1 {
		return nil, nil, fmt.Errorf("input %d×%d×%d, want every dimension at least 1", in.Channels, in.Height, in.Width)
	}
	// Each product below has factors of at most MaxValues = 2^31: no overflow.
	if int64(in.Channels) > MaxValues || int64(in.Height) > MaxValues || int64(in.Width) > MaxValues ||
		int64(in.Channels)*int64(in.Height) > MaxValues || int64(in.Channels)*int64(in.Height)*int64(in.Width) > MaxValues {
		return nil, nil, fmt.Errorf("input %d×%d×%d has more than %d values", in.Channels, in.Height, in.Width, int64(MaxValues))
	}
	if a.Classes < 1 {
		return nil, nil, fmt.Errorf("%d classes, want at least 1", a.Classes)
	}
	if a.Bias != "input" && a.Bias != "all" && a.Bias != "none" {
		return nil, nil, fmt.Errorf("unknown bias mode %q (want input | all | none)", a.Bias)
	}
	if err := a.Dtype.check(); err != nil {
		return nil, nil, err
	}
	if len(a.Layers) == 0 {
		return nil, nil, errors.New("no layers")
	}
	rows := in.Channels * in.Height * in.Width
	if a.Bias == "input" {
		rows++
	}
	for i, l := range a.Layers {
		where := fmt.Sprintf("layer%d", i+1)
		switch {
		case l.Kind != "dense":
			return nil, nil, fmt.Errorf("%s: unknown kind %q (want dense)", where, l.Kind)
		case l.Units < 1 || int64(l.Units) > MaxValues:
			return nil, nil, fmt.Errorf("%s: %d units, want 1 to %d", where, l.Units, int64(MaxValues))
		case int64(rows)*int64(l.Units) > MaxValues:
			return nil, nil, fmt.Errorf("%s: W of %d×%d has more than %d values", where, rows, l.Units, int64(MaxValues))
		case !activations[l.Activation]:
			return nil, nil, fmt.Errorf("%s: unknown activation %q (want sigmoid | threshold | relu | tanh | identity)", where, l.Activation)
		}
		if i == len(a.Layers)-1 {
			if l.Activation != "identity" {
				return nil, nil, fmt.Errorf("%s: the last layer computes the logits: activation %q, want identity", where, l.Activation)
			}
			if l.Units != a.Classes {
				return nil, nil, fmt.Errorf("%s: the last layer has %d units for %d classes", where, l.Units, a.Classes)
			}
		}
		names = append(names, fmt.Sprintf("layer%d/W", i+1))
		shapes = append(shapes, []int{rows, l.Units})
		if a.Bias == "all" {
			names = append(names, fmt.Sprintf("layer%d/b", i+1))
			shapes = append(shapes, []int{l.Units})
		}
		rows = l.Units
	}
	return names, shapes, nil
}

// WriteArchitecture writes a to path as JSON (atomically, permission 0644
// masked by the umask), after checking it as Params does. An empty Dtype is
// written as "float64".
func WriteArchitecture(path string, a *Architecture) error {
	if _, _, err := a.params(); err != nil {
		return fmt.Errorf("checkpoint: write %s: architecture: %w", path, err)
	}
	out := *a
	if out.Dtype == "" {
		out.Dtype = Float64
	}
	if err := atomicfile.WriteJSON(path, &out); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}
