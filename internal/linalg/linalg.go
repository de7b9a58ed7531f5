// Package linalg computes row-major matrix products for float32 and float64.
//
// Every product goes through gonum's global BLAS implementations,
// blas32.Implementation() and blas64.Implementation(), so that installing
// another implementation with blas32.Use and blas64.Use changes every product
// at once. The default build uses gonum's pure-Go BLAS; the build tag
// openblas installs OpenBLAS through cgo at init (see [Backend]).
//
// [Gemm] is the plain BLAS call. [Product] is the one to use on a hot path: it
// gives the same results, avoids the pure-Go BLAS's slow transposed left
// operand, and allocates nothing per call after warm-up.
//
// Like BLAS, these functions treat inconsistent dimensions, strides or slice
// lengths as programmer errors and panic with a message saying which argument
// is wrong.
package linalg

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/blas/gonum"
)

// Float is the set of element types the package works with.
type Float interface {
	float32 | float64
}

// Gemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices, where
// op(X) is X, or Xᵀ when the matching trans flag is set, op(A) is m×k, op(B)
// is k×n and C is m×n. A, B and C are stored in a, b and c with row strides
// lda, ldb and ldc, so A has k columns (m when transA is set), B has n
// columns (k when transB is set) and C has n columns. When beta is 0, C is
// not read.
//
// Gemm calls Sgemm or Dgemm of the current global BLAS implementation
// directly. Gonum's pure-Go Dgemm starts goroutines and so allocates on
// large products; [Product.Gemm] does not.
func Gemm[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	kernelFor[T]().gemm(flag(transA), flag(transB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Backend returns the name of the global BLAS implementation the products of
// element type float64 run on: "gonum" for gonum's pure-Go implementation
// (the default build), "openblas" for OpenBLAS (installed at init by the
// build tag openblas), and "other" when a caller has installed something
// else with blas64.Use.
func Backend() string {
	impl := blas64.Implementation()
	switch {
	case isGonum(impl):
		return "gonum"
	case isOpenBLAS(impl):
		return "openblas"
	}
	return "other"
}

// isGonum reports whether impl is gonum's pure-Go BLAS.
func isGonum(impl any) bool {
	_, ok := impl.(gonum.Implementation)
	return ok
}

// isOpenBLAS reports whether impl is the OpenBLAS binding; the openblas
// build replaces it.
var isOpenBLAS = func(impl any) bool { return false }

func flag(trans bool) blas.Transpose {
	if trans {
		return blas.Trans
	}
	return blas.NoTrans
}

// A kernel calls the global BLAS implementation for one element type.
type kernel[T Float] interface {
	// gemm is Sgemm or Dgemm of the current implementation.
	gemm(tA, tB blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int)
	// pureGo reports whether the current implementation is gonum's.
	pureGo() bool
	// axpy sets y += alpha·x over len(x) values with gonum's kernel, the
	// one its untransposed Gemm uses.
	axpy(alpha T, x, y []T)
}

type kernel32 struct{}

func (kernel32) gemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	blas32.Implementation().Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func (kernel32) pureGo() bool { return isGonum(blas32.Implementation()) }

func (kernel32) axpy(alpha float32, x, y []float32) {
	gonum.Implementation{}.Saxpy(len(x), alpha, x, 1, y, 1)
}

type kernel64 struct{}

func (kernel64) gemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	blas64.Implementation().Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func (kernel64) pureGo() bool { return isGonum(blas64.Implementation()) }

func (kernel64) axpy(alpha float64, x, y []float64) {
	gonum.Implementation{}.Daxpy(len(x), alpha, x, 1, y, 1)
}

// kernelFor returns the kernel of element type T.
func kernelFor[T Float]() kernel[T] {
	var zero T
	if _, ok := any(zero).(float32); ok {
		return any(kernel32{}).(kernel[T])
	}
	return any(kernel64{}).(kernel[T])
}
