package graph

import (
	"math"
	"math/rand/v2"
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

// TestSigmoid32 checks sigmoid32 (its AVX2 kernel where the CPU has one,
// its unrolled scalar path elsewhere and around values out of the
// polynomial's range) against exp32 one value at a time, bit for bit:
// across the range and past its ends, on random values with NaNs,
// infinities and huge values scattered among them, at every length up to
// 40 and every offset into the slice, so that blocks of 8 and 4 and the
// tail all meet every kind of value.
func TestSigmoid32(t *testing.T) {
	var x []float32
	for v := -100.0; v <= 100; v += 0.37 {
		x = append(x, float32(v))
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	specials := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 1e30, -1e30, 87.33655, -88.72283, 87.34, -88.73}
	for i := 0; i < 5000; i++ {
		v := float32(rnd.NormFloat64() * 20)
		if rnd.IntN(50) == 0 {
			v = specials[rnd.IntN(len(specials))]
		}
		x = append(x, v)
	}
	check := func(x, y []float32) {
		t.Helper()
		for i, v := range x {
			want := 1 / (1 + exp32(-v))
			if math.Float32bits(y[i]) != math.Float32bits(want) && !(y[i] != y[i] && want != want) {
				t.Fatalf("sigmoid32(%v) = %v (%#08x), want %v (%#08x)", v, y[i], math.Float32bits(y[i]), want, math.Float32bits(want))
			}
		}
	}
	y := make([]float32, len(x))
	sigmoid32(x, y)
	check(x, y)
	for n := 0; n <= 40; n++ {
		for off := 0; off < 8; off++ {
			xs := x[1000+off : 1000+off+n]
			ys := make([]float32, n)
			sigmoid32(xs, ys)
			check(xs, ys)
		}
	}
}

// TestSigmoidVec32 checks that the vector kernel runs where the CPU has
// one (so that TestSigmoid32 tests it), stops before a block holding a NaN
// or a value out of range, and leaves a short tail to the scalar path.
func TestSigmoidVec32(t *testing.T) {
	x := make([]float32, 29)
	for i := range x {
		x[i] = float32(i) - 14
	}
	y := make([]float32, len(x))
	want := 24
	if !hasAVX2 {
		want = 0
	}
	if n := sigmoidVec32(x, y); n != want {
		t.Errorf("sigmoidVec32 of 29 values in range wrote %d, want %d (AVX2 %v)", n, want, hasAVX2)
	}
	x[11] = float32(math.NaN())
	if want > 0 {
		want = 8
	}
	if n := sigmoidVec32(x, y); n != want {
		t.Errorf("sigmoidVec32 with a NaN at 11 wrote %d, want %d", n, want)
	}
	x[11], x[3] = 0, -100
	if n := sigmoidVec32(x, y); n != 0 {
		t.Errorf("sigmoidVec32 with -100 at 3 wrote %d, want 0", n)
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

// BenchmarkSigmoid32 times the float32 sigmoid over 64,000 values (a
// hidden layer of 50 units for K = 10 copies of a batch of 128) with the
// AVX2 kernel and with the scalar path alone.
func BenchmarkSigmoid32(b *testing.B) {
	x := make([]float32, 64000)
	for i := range x {
		x[i] = float32(i%200)/10 - 10
	}
	y := make([]float32, len(x))
	for _, c := range []struct {
		name string
		avx2 bool
	}{{"scalar", false}, {"avx2", true}} {
		b.Run(c.name, func(b *testing.B) {
			if c.avx2 && !hasAVX2 {
				b.Skip("no AVX2")
			}
			defer func(old bool) { hasAVX2 = old }(hasAVX2)
			hasAVX2 = c.avx2
			b.SetBytes(int64(4 * len(x)))
			for i := 0; i < b.N; i++ {
				sigmoid32(x, y)
			}
		})
	}
}
