package linalg

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkGemm times the two products of a dense layer's training step at
// the size of an MNIST batch: the forward product X·W (NN: 1000×785 times
// 785×500) and the weight gradient Xᵀ·S (TN: 785×1000 times 1000×500, with
// X stored 1000×785), both 2·1000·785·500 flops. Each runs through Gemm,
// through a Product, and for TN through a Product that multiplies the
// transposed operand as it is (NoCopy), which shows what the copy gains.
func BenchmarkGemm(b *testing.B) {
	benchGemm[float32](b)
	benchGemm[float64](b)
}

func benchGemm[T Float](b *testing.B) {
	const batch, in, out = 1000, 785, 500
	rng := rand.New(rand.NewPCG(1, 2))
	x, w, s := randSlice[T](rng, batch*in), randSlice[T](rng, in*out), randSlice[T](rng, batch*out)
	var p, noCopy Product[T]
	noCopy.noCopy = true
	type gemmFunc = func(transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int)
	tests := []struct {
		name    string
		gemm    gemmFunc
		transA  bool
		m, n, k int
		a, b    []T
	}{
		{"NN/Gemm", Gemm[T], false, batch, out, in, x, w},
		{"NN/Product", p.Gemm, false, batch, out, in, x, w},
		{"TN/Gemm", Gemm[T], true, in, out, batch, x, s},
		{"TN/Product", p.Gemm, true, in, out, batch, x, s},
		{"TN/ProductNoCopy", noCopy.Gemm, true, in, out, batch, x, s},
	}
	for _, tt := range tests {
		if tt.name == "TN/ProductNoCopy" && Backend() != "gonum" {
			continue // the copy is made only on the pure-Go backend
		}
		b.Run(fmt.Sprintf("%s/%T/%s", Backend(), T(0), tt.name), func(b *testing.B) {
			c := make([]T, tt.m*tt.n)
			tt.gemm(tt.transA, false, tt.m, tt.n, tt.k, 1, tt.a, in, tt.b, out, 0, c, out) // warm up
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				tt.gemm(tt.transA, false, tt.m, tt.n, tt.k, 1, tt.a, in, tt.b, out, 0, c, out)
			}
			flops := 2 * float64(tt.m) * float64(tt.n) * float64(tt.k) * float64(b.N)
			b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

func randSlice[T Float](rng *rand.Rand, n int) []T {
	s := make([]T, n)
	for i := range s {
		s[i] = T(rng.Float64()*2 - 1)
	}
	return s
}
