package estimators

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/glr-project/glr/graph"
	"gorgonia.org/tensor"
)

func init() {
	MustRegister(Kind{
		Name:        "es",
		Summary:     "evolution strategies in weight space (OpenAI-ES): Gaussian perturbations of every weight, antithetic pairs, raw or centred-rank fitness",
		NewSettings: func() Settings { return &ESSettings{Copies: 10, Sigma: 0.01, Antithetic: true, Fitness: "raw"} },
		Variants: []Variant{
			{Name: "centered-rank", TOML: "antithetic = false\nfitness = \"centered-rank\""},
		},
	})
}

// ESSettings are the keys of an es [estimator] table.
type ESSettings struct {
	// Copies is the number of perturbed evaluations per step (pairs count
	// twice with Antithetic).
	Copies int `toml:"copies"`
	// Sigma is the perturbation scale σ in weight units.
	Sigma float64 `toml:"sigma"`
	// Antithetic evaluates each direction ε at θ + σε and θ − σε.
	Antithetic bool `toml:"antithetic"`
	// Fitness is raw (the losses themselves) or centered-rank (their ranks
	// mapped to [−½, ½], Salimans et al. 2017).
	Fitness string `toml:"fitness"`
}

// Target is NoiseFree for raw fitness (the gradient of the σ-smoothed
// noise-free loss, which differs from the noise-free gradient by O(σ²)) and
// Surrogate for centred ranks.
func (s *ESSettings) Target() Target {
	if s.Fitness == "centered-rank" {
		return Surrogate
	}
	return NoiseFree
}

// Reference implements Referencer for centred ranks: for a loss that is
// linear along the perturbations, E[u(z)·z] = E[φ(z)] = 1/(2√π) for the
// centred rank u of z = ĝᵀε among independent draws, so the mean estimate
// is ĝ/(2√π·σ) for the unit noise-free gradient ĝ, whatever the number of
// draws (antithetic pairs change the constant and are not covered).
func (s *ESSettings) Reference(r References) ([]float64, error) {
	if s.Fitness != "centered-rank" || s.Antithetic {
		return nil, fmt.Errorf("es: no reference for fitness %s with antithetic = %t", s.Fitness, s.Antithetic)
	}
	var n float64
	for _, v := range r.NoiseFree {
		n += v * v
	}
	n = math.Sqrt(n)
	out := make([]float64, len(r.NoiseFree))
	for i, v := range r.NoiseFree {
		out[i] = v / n / (2 * math.Sqrt(math.Pi) * s.Sigma)
	}
	return out, nil
}

// String describes the settings.
func (s *ESSettings) String() string {
	d := fmt.Sprintf("es n=%d σ=%g %s", s.Copies, s.Sigma, s.Fitness)
	if s.Antithetic {
		d += " antithetic"
	}
	return d
}

// Check implements Settings.
func (s *ESSettings) Check(info Info) []Problem {
	var ps []Problem
	if s.Copies < 2 || s.Copies > MaxCopies {
		ps = append(ps, Problem{"copies", fmt.Sprintf("must be in [2, %d], got %d", MaxCopies, s.Copies)})
	}
	if s.Antithetic && s.Copies%2 != 0 {
		ps = append(ps, Problem{"copies", fmt.Sprintf("antithetic pairs need an even number of copies, got %d", s.Copies)})
	}
	if !(s.Sigma > 0) || math.IsInf(s.Sigma, 0) {
		ps = append(ps, Problem{"sigma", fmt.Sprintf("must be > 0 and finite, got %v", s.Sigma)})
	}
	if s.Fitness != "raw" && s.Fitness != "centered-rank" {
		ps = append(ps, Problem{"fitness", fmt.Sprintf("unknown fitness %q (want raw | centered-rank)", s.Fitness)})
	}
	return ps
}

// New implements Settings.
func (s *ESSettings) New(base graph.Spec) (Estimator, error) {
	if ps := s.Check(Info{}); len(ps) > 0 {
		return nil, fmt.Errorf("es: %s: %s", ps[0].Key, ps[0].Msg)
	}
	w, err := newWeightSpace("es", base)
	if err != nil {
		return nil, err
	}
	return &esEstimator{s: *s, w: w, f: make([]float64, s.Copies), u: make([]float64, s.Copies), order: make([]int, s.Copies)}, nil
}

// esEstimator is OpenAI-style evolution strategies: for directions ε_i ~
// N(0, I) in weight space, regenerated from the stream of (seed, step, i)
// whenever they are needed and never stored,
//
//	ĝ = (1/(nσ)) Σ_i f_i·s_i·ε_i
//
// over the n evaluations F_i = L(θ + s_i·σ·ε_i), with s_i = ±1 the sign of
// evaluation i (antithetic pairs share their ε), and f_i the raw loss F_i or
// its centred rank.
type esEstimator struct {
	s     ESSettings
	w     *weightSpace
	f, u  []float64 // the evaluations' losses and fitnesses
	order []int
}

// Close implements Estimator.
func (e *esEstimator) Close() error { return nil }

// direction and sign of evaluation i.
func (e *esEstimator) direction(i int) (d int, sign float64) {
	if e.s.Antithetic {
		return i / 2, 1 - 2*float64(i%2)
	}
	return i, 1
}

// Estimate implements Estimator.
func (e *esEstimator) Estimate(batch graph.Examples, step uint64, grads []*tensor.Dense) (Stats, error) {
	if err := e.w.begin(batch, grads); err != nil {
		return Stats{}, err
	}
	n := e.s.Copies
	for i := 0; i < n; i++ {
		d, sign := e.direction(i)
		if sign > 0 {
			e.w.gaussian(step, d)
		}
		f, err := e.w.eval(sign * e.s.Sigma)
		if err != nil {
			return Stats{}, err
		}
		e.f[i] = f
	}
	copy(e.u, e.f)
	if e.s.Fitness == "centered-rank" {
		centredRanks(e.f, e.u, e.order)
	}
	scale := 1 / (float64(n) * e.s.Sigma)
	for i := 0; i < n; i++ {
		d, sign := e.direction(i)
		if e.s.Antithetic {
			if sign < 0 {
				continue
			}
			// A pair's two terms share ε: (u₊ − u₋)·ε.
			e.w.gaussian(step, d)
			e.w.add((e.u[i] - e.u[i+1]) * scale)
			continue
		}
		e.w.gaussian(step, d)
		e.w.add(e.u[i] * scale)
	}
	e.w.store(grads)
	return Stats{Loss: e.f[0], Rows: n * e.w.rows()}, nil
}

// centredRanks writes into u the ranks of f mapped to [−½, ½]: the smallest
// gets −½, the largest ½ (ties broken by index).
func centredRanks(f, u []float64, order []int) {
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(f[a], f[b]) })
	n := float64(len(f) - 1)
	for r, i := range order {
		u[i] = float64(r)/n - 0.5
	}
}
