package linalg

import (
	"fmt"

	"gonum.org/v1/gonum/blas"

	"github.com/glr-project/glr/internal/parallel"
)

// The pure-Go path of Product.Gemm cuts C into tileM×tileN tiles, computed
// in parallel, and runs the inner dimension of each tile in steps of tileK,
// so that a step's rows of B stay in the level-2 cache and a row of C in the
// level-1 cache. Each step is one call of the global BLAS on a tile. Gonum's
// BLAS goes parallel (and allocates) when a product has at least four 64×64
// blocks of C, so a tile must have fewer: tileM·tileN ≤ 3·64·64 with both
// sides multiples of 64. Wide tiles measured fastest: the pure-Go kernels
// work along rows of C.
const (
	tileM = 64
	tileN = 192
	tileK = 128
)

// Product computes matrix products like [Gemm], reusing its buffers from one
// call to the next so that after warm-up it allocates nothing.
//
// On gonum's pure-Go BLAS, Product copies a transposed left operand into an
// untransposed work buffer first, and spreads the product's tiles over the
// workers of package internal/parallel instead of letting the BLAS start
// goroutines. The pure-Go kernels multiply Aᵀ·B between 1.5 and 5 times
// slower than A·B (BenchmarkGemm, TN against NN), while the cache-tiled copy
// costs about 5 % of the product. Each
// element of C is computed by one goroutine in an order fixed by the shapes,
// so the results do not depend on GOMAXPROCS. On a native BLAS such as
// OpenBLAS, Product passes its arguments straight to [Gemm].
//
// The zero value is ready to use. A Product must not be used by several
// goroutines at once; give each goroutine its own.
type Product[T Float] struct {
	work  []T // the transposed left operand; grown, never shrunk
	workB []T // the transposed right operand, for the dot-product kernel
	// body and transposeBody are p.tiles and p.transpose, built once so
	// that parallel.For does not allocate.
	body, transposeBody, transposeBBody func(lo, hi int)
	noCopy                              bool // multiply a transposed A as it is (benchmarks only)

	// The product being computed, set for the duration of one call.
	kern          kernel[T]
	tA, tB        blas.Transpose
	m, n, k       int
	alpha, beta   T
	a, b, c       []T
	lda, ldb, ldc int
	tilesN        int // tiles along a row of C
}

// Gemm computes C = alpha·op(A)·op(B) + beta·C with the arguments of the
// function [Gemm], whose results it matches: on the pure-Go BLAS bit for bit
// when B is not transposed, and to rounding when it is (its dot products are
// then summed over other blocks than Gemm's); on a native BLAS exactly, as
// it calls Gemm. It allocates only to grow its work buffer.
func (p *Product[T]) Gemm(transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	kern := kernelFor[T]()
	if !kern.pureGo() {
		kern.gemm(flag(transA), flag(transB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	check(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	if p.body == nil {
		p.body, p.transposeBody, p.transposeBBody = p.tiles, p.transpose, p.transposeB
	}
	p.kern, p.tA, p.tB = kern, flag(transA), flag(transB)
	p.m, p.n, p.k, p.alpha, p.beta = m, n, k, alpha, beta
	p.a, p.lda, p.b, p.ldb, p.c, p.ldc = a, lda, b, ldb, c, ldc
	if transA && k > 0 && alpha != 0 && !p.noCopy {
		if len(p.work) < m*k {
			p.work = make([]T, m*k)
		}
		parallel.For(m, tile, p.transposeBody)
		p.tA, p.a, p.lda = blas.NoTrans, p.work, k
	}
	// gonum's kernels multiply A·B as axpys along the rows of B, and A·Bᵀ
	// as dot products along k. The dot products are faster in float32
	// always, and in float64 when B is narrow (short axpys cost more than
	// they compute); a transposed copy of B costs k·n, against m·n·k.
	if !transB && k > 0 && alpha != 0 && !p.noCopy && dotFaster[T](n, k) && !sparse(p.a, m*k) {
		if len(p.workB) < n*k {
			p.workB = make([]T, n*k)
		}
		parallel.For(n, tile, p.transposeBBody)
		p.tB, p.b, p.ldb = blas.Trans, p.workB, k
	}
	p.tilesN = (n + tileN - 1) / tileN
	parallel.For(p.tilesN*((m+tileM-1)/tileM), 1, p.body)
	p.a, p.b, p.c = nil, nil, nil // keep no caller memory alive
}

// transpose copies columns [lo, hi) of the stored k×m matrix A to rows
// [lo, hi) of the work buffer, which holds Aᵀ as an m×k matrix.
// dotFaster reports whether the dot-product kernel beats the axpy kernel for
// a right operand of k × n (measured with gonum v0.11 on amd64: float32 NT
// 1.2–6× NN for every shape tried, float64 NT 2–3× NN for n ≤ 16 and within
// ±20 % above).
func dotFaster[T Float](n, k int) bool {
	var zero T
	if _, ok := any(zero).(float32); ok {
		return k >= 16
	}
	return n <= 16 && k >= 16
}

// sparse reports whether at least half of a sample of the first size values
// of a are zero. gonum's axpy kernel skips the zeros of A, and for inputs
// such as MNIST images (four fifths zeros) that beats any dot product.
func sparse[T Float](a []T, size int) bool {
	const samples = 256
	if size == 0 {
		return false
	}
	step := max(1, size/samples)
	zeros, seen := 0, 0
	for i := 0; i < size && i < len(a); i += step {
		if a[i] == 0 {
			zeros++
		}
		seen++
	}
	return 2*zeros >= seen
}

// transposeB copies columns [lo, hi) of B, k × n, into rows of workB.
func (p *Product[T]) transposeB(lo, hi int) {
	transpose(p.workB[lo*p.k:], p.k, p.b[lo:], p.ldb, p.k, hi-lo)
}

func (p *Product[T]) transpose(lo, hi int) {
	transpose(p.work[lo*p.k:], p.k, p.a[lo:], p.lda, p.k, hi-lo)
}

// tiles computes tiles [lo, hi) of C, numbered row by row.
func (p *Product[T]) tiles(lo, hi int) {
	for t := lo; t < hi; t++ {
		i0, j0 := t/p.tilesN*tileM, t%p.tilesN*tileN
		mt, nt := min(tileM, p.m-i0), min(tileN, p.n-j0)
		c := p.c[i0*p.ldc+j0:]
		scale(c, p.ldc, mt, nt, p.beta)
		if p.alpha == 0 {
			continue
		}
		for l0 := 0; l0 < p.k; l0 += tileK {
			kt := min(tileK, p.k-l0)
			ai, bi := i0*p.lda+l0, l0*p.ldb+j0 // where the step's blocks start
			if p.tA == blas.Trans {
				ai = l0*p.lda + i0
			}
			if p.tB == blas.Trans {
				bi = j0*p.ldb + l0
			}
			p.kern.gemm(p.tA, p.tB, mt, nt, kt, p.alpha, p.a[ai:], p.lda, p.b[bi:], p.ldb, 1, c, p.ldc)
		}
	}
}

// scale multiplies the m×n matrix in c (row stride ldc) by beta, setting it
// to zero without reading it when beta is 0.
func scale[T Float](c []T, ldc, m, n int, beta T) {
	if beta == 1 {
		return
	}
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// check panics, as BLAS does, when the dimensions, strides and slice lengths
// of a product are inconsistent.
func check(transA, transB bool, m, n, k, lenA, lda, lenB, ldb, lenC, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("linalg: product of dimensions m=%d n=%d k=%d", m, n, k))
	}
	ra, ca := m, k // the shape of A as stored
	if transA {
		ra, ca = k, m
	}
	rb, cb := k, n
	if transB {
		rb, cb = n, k
	}
	for _, o := range [...]struct {
		name                 string
		rows, cols, ld, size int
	}{{"A", ra, ca, lda, lenA}, {"B", rb, cb, ldb, lenB}, {"C", m, n, ldc, lenC}} {
		if o.ld < max(1, o.cols) {
			panic(fmt.Sprintf("linalg: %s has %d columns but row stride %d", o.name, o.cols, o.ld))
		}
		if m > 0 && n > 0 && o.rows > 0 && o.cols > 0 && o.size < (o.rows-1)*o.ld+o.cols {
			panic(fmt.Sprintf("linalg: %s is %d×%d with row stride %d but has only %d elements", o.name, o.rows, o.cols, o.ld, o.size))
		}
	}
}
