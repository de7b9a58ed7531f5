package estimatortest_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/glr-project/glr/estimators"
	"github.com/glr-project/glr/estimators/estimatortest"
	"github.com/glr-project/glr/graph"
	"gorgonia.org/tensor"
)

// TestRegisteredKinds runs the kit on every registered kind.
func TestRegisteredKinds(t *testing.T) {
	for _, k := range estimators.Kinds() {
		t.Run(k.Name, func(t *testing.T) { estimatortest.Run(t, k) })
	}
}

// broken wraps the glr estimator with a defect.
type broken struct {
	estimators.GLRSettings
	defect func(e estimators.Estimator) estimators.Estimator
}

func (b *broken) New(base graph.Spec) (estimators.Estimator, error) {
	e, err := b.GLRSettings.New(base)
	if err != nil {
		return nil, err
	}
	return b.defect(e), nil
}

// estimate is an Estimator made of functions.
type estimate struct {
	estimators.Estimator
	f func(batch graph.Examples, step uint64, grads []*tensor.Dense) (estimators.Stats, error)
}

func (e estimate) Estimate(batch graph.Examples, step uint64, grads []*tensor.Dense) (estimators.Stats, error) {
	return e.f(batch, step, grads)
}

func kindWith(name string, variants []estimators.Variant, defect func(e estimators.Estimator) estimators.Estimator) estimators.Kind {
	return estimators.Kind{
		Name: name,
		NewSettings: func() estimators.Settings {
			return &broken{GLRSettings: estimators.GLRSettings{Copies: 4, Baseline: "none", Sampler: "iid"}, defect: defect}
		},
		Variants: variants,
	}
}

func scaleGrads(grads []*tensor.Dense, a float64) {
	for _, g := range grads {
		for i := range g.Float64s() {
			g.Float64s()[i] *= a
		}
	}
}

var sink []byte

// TestKitFailsBrokenEstimators feeds the kit one estimator per defect and
// checks that it reports each, while a faithful wrapper passes.
func TestKitFailsBrokenEstimators(t *testing.T) {
	counter := 0
	cases := []struct {
		name     string
		variants []estimators.Variant
		defect   func(e estimators.Estimator) estimators.Estimator
		want     string
	}{
		{"faithful", nil, func(e estimators.Estimator) estimators.Estimator { return e }, ""},
		{"mis-scaled by 1.25", nil, func(e estimators.Estimator) estimators.Estimator {
			return estimate{e, func(b graph.Examples, s uint64, g []*tensor.Dense) (estimators.Stats, error) {
				st, err := e.Estimate(b, s, g)
				if err == nil {
					scaleGrads(g, 1.25)
				}
				return st, err
			}}
		}, "relative error"},
		{"mis-scaled by 0.9", nil, func(e estimators.Estimator) estimators.Estimator {
			return estimate{e, func(b graph.Examples, s uint64, g []*tensor.Dense) (estimators.Stats, error) {
				st, err := e.Estimate(b, s, g)
				if err == nil {
					scaleGrads(g, 0.9)
				}
				return st, err
			}}
		}, "relative error"},
		// A batch-mean baseline that claims to be unbiased: on the kit's
		// 8-example batches with 2 copies the shrink is 1 − 1/16.
		{"batch-mean claimed unbiased", []estimators.Variant{{Name: "batch-mean", TOML: "copies = 2\nbaseline = \"batch-mean\""}},
			func(e estimators.Estimator) estimators.Estimator { return e }, "batch-mean on linear/squared/gaussian: mean"},
		{"nondeterministic", nil, func(e estimators.Estimator) estimators.Estimator {
			return estimate{e, func(b graph.Examples, s uint64, g []*tensor.Dense) (estimators.Stats, error) {
				counter++
				return e.Estimate(b, s+uint64(counter), g)
			}}
		}, "determinism"},
		{"leaves an element unwritten", nil, func(e estimators.Estimator) estimators.Estimator {
			return estimate{e, func(b graph.Examples, s uint64, g []*tensor.Dense) (estimators.Stats, error) {
				if len(g) == 0 || g[0] == nil || g[0].Dtype() != tensor.Float64 {
					return e.Estimate(b, s, g)
				}
				old := g[0].Float64s()[0]
				st, err := e.Estimate(b, s, g)
				g[0].Float64s()[0] = old
				return st, err
			}}
		}, "was not written"},
		{"allocates", nil, func(e estimators.Estimator) estimators.Estimator {
			return estimate{e, func(b graph.Examples, s uint64, g []*tensor.Dense) (estimators.Stats, error) {
				sink = make([]byte, 64+int(s%2))
				return e.Estimate(b, s, g)
			}}
		}, "allocations"},
		{"ignores a NaN loss", nil, func(e estimators.Estimator) estimators.Estimator {
			return estimate{e, func(b graph.Examples, s uint64, g []*tensor.Dense) (estimators.Stats, error) {
				st, err := e.Estimate(b, s, g)
				if errors.Is(err, graph.ErrNonFiniteLoss) {
					return estimators.Stats{}, nil
				}
				return st, err
			}}
		}, "non-finite loss"},
		{"accepts wrong gradients", nil, func(e estimators.Estimator) estimators.Estimator {
			return estimate{e, func(b graph.Examples, s uint64, g []*tensor.Dense) (estimators.Stats, error) {
				if len(g) != 4 || g[3] == nil || g[3].Dtype() != tensor.Float64 || g[3].Shape().TotalSize() < 2 {
					return estimators.Stats{}, nil
				}
				return e.Estimate(b, s, g)
			}}
		}, "contract: gradient set"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := estimatortest.Check(kindWith("broken", c.variants, c.defect))
			if c.want == "" {
				if err != nil && !onlyAllocations(err) {
					t.Fatalf("the kit fails a faithful wrapper of glr: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("the kit's verdict %v does not contain %q", err, c.want)
			}
			t.Logf("%s: %s", c.name, firstLine(err, c.want))
		})
	}
}

// onlyAllocations reports whether every failure is about allocations, which
// the stand-in noise streams still make.
func onlyAllocations(err error) bool {
	for _, l := range strings.Split(err.Error(), "\n") {
		if !strings.Contains(l, "allocations") {
			return false
		}
	}
	return true
}

func firstLine(err error, sub string) string {
	for _, l := range strings.Split(err.Error(), "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return fmt.Sprint(err)
}
