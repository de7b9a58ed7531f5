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

// TestStep: the branch-free step is 1 exactly where x > 0, in float32 and
// float64, at the edges: signed zeros, the smallest subnormals, infinities,
// NaN and the largest values.
func TestStep(t *testing.T) {
	vals := []float64{0, math.Copysign(0, -1), 5e-324, -5e-324, 1e-45, -1e-45, 1, -1,
		math.Inf(1), math.Inf(-1), math.NaN(), -math.NaN(), math.MaxFloat64, -math.MaxFloat64, math.MaxFloat32, 3.4e39}
	x32 := make([]float32, len(vals))
	for i, v := range vals {
		x32[i] = float32(v)
	}
	y64, y32 := make([]float64, len(vals)), make([]float32, len(vals))
	step(vals, y64)
	step(x32, y32)
	for i, v := range vals {
		want64, want32 := 0.0, float32(0)
		if v > 0 {
			want64 = 1
		}
		if x32[i] > 0 {
			want32 = 1
		}
		if y64[i] != want64 || y32[i] != want32 {
			t.Errorf("step(%v) = %v (float64), step(%v) = %v (float32); want %v, %v", v, y64[i], x32[i], y32[i], want64, want32)
		}
	}
}
