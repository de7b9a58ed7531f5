package estimators

import (
	"fmt"

	"github.com/glr-project/glr/graph"
)

func init() {
	MustRegister(Kind{
		Name:        "ste",
		Summary:     "straight-through estimator: backpropagation with a surrogate derivative (identity or sigmoid) for threshold activations",
		NewSettings: func() Settings { return &STESettings{Copies: 1, Surrogate: "identity"} },
		Variants: []Variant{
			{Name: "sigmoid", TOML: `surrogate = "sigmoid"`},
		},
	})
}

// STESettings are the keys of a ste [estimator] table.
type STESettings struct {
	// Surrogate is the derivative used for a threshold activation in the
	// backward pass: identity or sigmoid.
	Surrogate string `toml:"surrogate"`
	// Copies and Noise are as for bp.
	Copies int  `toml:"copies"`
	Noise  bool `toml:"noise"`
}

// Target is Surrogate: the gradient of the network whose thresholds are
// differentiated as their surrogate (on a network without thresholds, the
// backpropagated gradient).
func (s *STESettings) Target() Target { return Surrogate }

// String describes the settings.
func (s *STESettings) String() string {
	d := "ste " + s.Surrogate
	if s.Noise {
		d += fmt.Sprintf(" through noise K=%d", s.Copies)
	}
	return d
}

// Check implements Settings.
func (s *STESettings) Check(info Info) []Problem {
	ps := checkBackprop("ste", s.Copies, s.Noise, info)
	if sur, err := graph.ParseSurrogate(s.Surrogate); err != nil || sur == graph.ZeroDerivative {
		ps = append(ps, Problem{"surrogate", fmt.Sprintf("unknown surrogate %q (want identity | sigmoid)", s.Surrogate)})
	}
	return ps
}

// New implements Settings.
func (s *STESettings) New(base graph.Spec) (Estimator, error) {
	sur, err := graph.ParseSurrogate(s.Surrogate)
	if err != nil || sur == graph.ZeroDerivative {
		return nil, fmt.Errorf("ste: unknown surrogate %q (want identity | sigmoid)", s.Surrogate)
	}
	return newBackprop("ste", base, s.Copies, s.Noise, sur)
}

// Reference implements Referencer: the gradient of the noise-free network
// with its thresholds differentiated as the surrogate.
func (s *STESettings) Reference(r References) ([]float64, error) {
	if s.Noise {
		return nil, fmt.Errorf("ste: no reference through the noise")
	}
	sur, err := graph.ParseSurrogate(s.Surrogate)
	if err != nil {
		return nil, err
	}
	g, ok := r.Surrogate[sur]
	if !ok {
		return nil, fmt.Errorf("ste: no %s surrogate reference", s.Surrogate)
	}
	return g, nil
}
