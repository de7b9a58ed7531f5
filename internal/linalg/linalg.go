// Package linalg is a temporary stand-in for the kernels branch.
package linalg

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
)

func flag(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// Gemm computes C = alpha·op(A)·op(B) + beta·C, row-major.
func Gemm[T float32 | float64](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	switch a := any(a).(type) {
	case []float64:
		blas64.Implementation().Dgemm(flag(transA), flag(transB), m, n, k, float64(alpha), a, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	case []float32:
		blas32.Implementation().Sgemm(flag(transA), flag(transB), m, n, k, float32(alpha), a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	}
}

// Product is a reusable product.
type Product[T float32 | float64] struct{ work []T }

// Gemm is Gemm with a transposed left operand made explicit.
func (p *Product[T]) Gemm(transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if transA {
		if cap(p.work) < m*k {
			p.work = make([]T, m*k)
		}
		w := p.work[:m*k]
		for i := 0; i < k; i++ {
			for j := 0; j < m; j++ {
				w[j*k+i] = a[i*lda+j]
			}
		}
		Gemm(false, transB, m, n, k, alpha, w, k, b, ldb, beta, c, ldc)
		return
	}
	Gemm(false, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Backend names the BLAS.
func Backend() string { return "gonum" }
