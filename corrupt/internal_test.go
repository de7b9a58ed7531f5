package corrupt

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestGaussianKernel checks the radius and weights of scipy's kernel.
func TestGaussianKernel(t *testing.T) {
	tests := []struct {
		sigma float64
		want  []float64 // unnormalised right half
	}{
		{0.05, []float64{1}},
		{0.25, []float64{1, math.Exp(-8)}},
		{0.4, []float64{1, math.Exp(-3.125), math.Exp(-12.5)}},
		{0.7, []float64{1, math.Exp(-0.5 / 0.49), math.Exp(-2 / 0.49), math.Exp(-4.5 / 0.49)}},
	}
	for _, tt := range tests {
		got := gaussianKernel(tt.sigma)
		if len(got) != len(tt.want) {
			t.Errorf("sigma %v: radius %d, want %d", tt.sigma, len(got)-1, len(tt.want)-1)
			continue
		}
		sum := tt.want[0]
		for _, v := range tt.want[1:] {
			sum += 2 * v
		}
		for i, v := range tt.want {
			if math.Abs(got[i]-v/sum) > 1e-15 {
				t.Errorf("sigma %v: weight %d = %v, want %v", tt.sigma, i, got[i], v/sum)
			}
		}
	}
}

// TestCorrelateAxis checks that the reference code's first blur spreads a bright pixel
// down its column only, that the horizontal pass spreads it along its row
// only, and that the edge is repeated (a constant image stays constant).
func TestCorrelateAxis(t *testing.T) {
	const h, w = 7, 5
	k := gaussianKernel(0.4)
	img := make([]float64, h*w)
	img[3*w+2] = 1
	for _, vertical := range []bool{true, false} {
		dst := make([]float64, h*w)
		correlate(dst, img, h, w, k, vertical)
		for y := range h {
			for x := range w {
				var want float64
				switch {
				case vertical && x == 2 && abs(y-3) <= 2:
					want = k[abs(y-3)]
				case !vertical && y == 3 && abs(x-2) <= 2:
					want = k[abs(x-2)]
				}
				if got := dst[y*w+x]; got != want {
					t.Errorf("vertical %v: (%d, %d) = %v, want %v", vertical, y, x, got, want)
				}
			}
		}
		flat := slices.Repeat([]float64{0.6}, h*w)
		correlate(flat, flat, h, w, k, vertical)
		for i, v := range flat {
			if math.Abs(v-0.6) > 1e-15 {
				t.Fatalf("vertical %v: constant image pixel %d became %v", vertical, i, v)
			}
		}
	}
}

// TestPoisson checks the Poisson sampler's mean and variance.
func TestPoisson(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, mean := range []float64{0, 0.3, 2, 12, 60} {
		const n = 20000
		var sum, sq float64
		for range n {
			k := float64(poisson(rng, mean))
			sum += k
			sq += k * k
		}
		m := sum / n
		v := sq/n - m*m
		if math.Abs(m-mean) > 5*math.Sqrt(mean/n) || math.Abs(v-mean) > 0.06*mean {
			t.Errorf("Poisson(%v): mean %.4f, variance %.4f", mean, m, v)
		}
	}
}

// TestPlasmaFractal checks that the fog field spans [0,1] and depends on
// the stream.
func TestPlasmaFractal(t *testing.T) {
	for _, size := range []int{2, 4, 32} {
		a := plasmaFractal(size, 1.5, rand.New(rand.NewPCG(1, 1)))
		b := plasmaFractal(size, 1.5, rand.New(rand.NewPCG(2, 1)))
		if len(a) != size*size {
			t.Fatalf("size %d: %d values", size, len(a))
		}
		if slices.Min(a) != 0 || slices.Max(a) != 1 {
			t.Errorf("size %d: values span [%v, %v], want [0, 1]", size, slices.Min(a), slices.Max(a))
		}
		if slices.Equal(a, b) {
			t.Errorf("size %d: two seeds gave the same field", size)
		}
	}
}
