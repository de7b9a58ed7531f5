package estimators

import (
	"fmt"
	"math"

	"github.com/glr-project/glr/graph"
	"gorgonia.org/tensor"
)

func init() {
	MustRegister(Kind{
		Name:        "spsa",
		Summary:     "simultaneous perturbation stochastic approximation: two-sided differences along Rademacher directions in weight space",
		NewSettings: func() Settings { return &SPSASettings{Copies: 4, Sigma: 0.01} },
		Variants:    []Variant{{Name: "one direction", TOML: "copies = 1"}},
	})
}

// SPSASettings are the keys of a spsa [estimator] table.
type SPSASettings struct {
	// Copies is the number of directions per step; each costs two
	// evaluations.
	Copies int `toml:"copies"`
	// Sigma is the perturbation size c in weight units.
	Sigma float64 `toml:"sigma"`
}

// Target is NoiseFree: the two-sided difference is the noise-free gradient
// up to O(σ²).
func (s *SPSASettings) Target() Target { return NoiseFree }

// String describes the settings.
func (s *SPSASettings) String() string { return fmt.Sprintf("spsa n=%d σ=%g", s.Copies, s.Sigma) }

// Check implements Settings.
func (s *SPSASettings) Check(info Info) []Problem {
	var ps []Problem
	if s.Copies < 1 || s.Copies > MaxCopies {
		ps = append(ps, Problem{"copies", fmt.Sprintf("must be in [1, %d], got %d", MaxCopies, s.Copies)})
	}
	if !(s.Sigma > 0) || math.IsInf(s.Sigma, 0) {
		ps = append(ps, Problem{"sigma", fmt.Sprintf("must be > 0 and finite, got %v", s.Sigma)})
	}
	return ps
}

// New implements Settings.
func (s *SPSASettings) New(base graph.Spec) (Estimator, error) {
	if ps := s.Check(Info{}); len(ps) > 0 {
		return nil, fmt.Errorf("spsa: %s: %s", ps[0].Key, ps[0].Msg)
	}
	w, err := newWeightSpace("spsa", base)
	if err != nil {
		return nil, err
	}
	return &spsaEstimator{s: *s, w: w}, nil
}

// spsaEstimator is Spall's simultaneous perturbation estimate with n
// Rademacher directions Δ_i (entries ±1, so Δ⁻¹ = Δ), regenerated from the
// stream of (seed, step, i):
//
//	ĝ = (1/n) Σ_i (L(θ + cΔ_i) − L(θ − cΔ_i))/(2c) · Δ_i.
type spsaEstimator struct {
	s SPSASettings
	w *weightSpace
}

// Close implements Estimator.
func (e *spsaEstimator) Close() error { return nil }

// Estimate implements Estimator.
func (e *spsaEstimator) Estimate(batch graph.Examples, step uint64, grads []*tensor.Dense) (Stats, error) {
	if err := e.w.begin(batch, grads); err != nil {
		return Stats{}, err
	}
	c := e.s.Sigma
	var first float64
	for i := 0; i < e.s.Copies; i++ {
		e.w.rademacher(step, i)
		plus, err := e.w.eval(c)
		if err != nil {
			return Stats{}, err
		}
		minus, err := e.w.eval(-c)
		if err != nil {
			return Stats{}, err
		}
		if i == 0 {
			first = plus
		}
		e.w.add((plus - minus) / (2 * c) / float64(e.s.Copies))
	}
	e.w.store(grads)
	return Stats{Loss: first, Rows: 2 * e.s.Copies * e.w.rows()}, nil
}
