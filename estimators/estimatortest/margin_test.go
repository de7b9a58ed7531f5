package estimatortest

import (
	"math"
	"testing"

	"github.com/glr-project/glr/graph"
)

// TestThresholdMargins: the threshold problem's pre-activations stay far from
// the step, so that weight-space estimators, whose perturbations move them by
// at most a few hundredths, see the noise-free loss as smooth.
func TestThresholdMargins(t *testing.T) {
	for _, p := range problems() {
		if p.act != graph.Threshold {
			continue
		}
		s, err := newSetup(p)
		if err != nil {
			t.Fatal(err)
		}
		w := p.split(s.flat)
		m := math.Inf(1)
		for i := range p.x {
			x := p.example(i)
			for j := 0; j < p.hidden; j++ {
				var a float64
				for k, v := range x {
					a += v * w.w1[k*p.hidden+j]
				}
				m = math.Min(m, math.Abs(a))
			}
		}
		t.Logf("%s: smallest |pre-activation| %.4f", p.name, m)
		if m < 0.2 {
			t.Errorf("%s: a pre-activation is %.4f from the step", p.name, m)
		}
	}
}
