package graph

import (
	"math"
	"testing"
)

// TestExp32 compares exp32 with math.Exp rounded to float32 on a fine grid
// over the whole finite range: within 2 ulp everywhere, and exact at the
// special values.
func TestExp32(t *testing.T) {
	worst := 0.0
	for x := -87.3; x <= 88.7; x += 1.0 / 1024 {
		got := float64(exp32(float32(x)))
		want := math.Exp(float64(float32(x)))
		ulp := float64(math.Nextafter32(float32(want), float32(math.Inf(1))) - float32(want))
		if d := math.Abs(got-want) / ulp; d > worst {
			worst = d
		}
	}
	if worst > 2 {
		t.Errorf("exp32 is %.2f ulp from math.Exp at worst, want at most 2", worst)
	}
	for _, c := range []struct{ x, want float32 }{{0, 1}, {89, float32(math.Inf(1))}, {-200, 0}} {
		if got := exp32(c.x); got != c.want {
			t.Errorf("exp32(%v) = %v, want %v", c.x, got, c.want)
		}
	}
	if nan := exp32(float32(math.NaN())); nan == nan {
		t.Errorf("exp32(NaN) = %v", nan)
	}
	t.Logf("worst error %.3f ulp", worst)
}

// TestSigmoid32 checks the unrolled sigmoid against exp32 one value at a
// time, bit for bit, across the range and past its ends.
func TestSigmoid32(t *testing.T) {
	var x []float32
	for v := -100.0; v <= 100; v += 0.37 {
		x = append(x, float32(v))
	}
	y := make([]float32, len(x))
	sigmoid32(x, y)
	for i, v := range x {
		if want := 1 / (1 + exp32(-v)); y[i] != want {
			t.Fatalf("sigmoid32(%v) = %v, want %v", v, y[i], want)
		}
	}
}
