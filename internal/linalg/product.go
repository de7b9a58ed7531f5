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
// untransposed work buffer first (or, when it is sparse, scatters its
// nonzeros without a copy), and spreads the product's tiles over the
// workers of package internal/parallel instead of letting the BLAS start
// goroutines. The pure-Go kernels multiply Aᵀ·B between 1.5 and 5 times
// slower than A·B (BenchmarkGemm, TN against NN), while the cache-tiled copy
// costs about 5 % of the product. Each element of C is computed by one
// goroutine in an order fixed by the shapes, so the results do not depend
// on GOMAXPROCS. On a native BLAS such as OpenBLAS (single-threaded, see
// the openblas build), Product calls it once per block of nativeRows rows
// of C, spread over the same workers.
//
// The zero value is ready to use. A Product must not be used by several
// goroutines at once; give each goroutine its own.
type Product[T Float] struct {
	work  []T // the transposed left operand; grown, never shrunk
	workB []T // the transposed right operand, for the dot-product kernel
	workC []T // Cᵀ, for a narrow Aᵀ·B
	inner *Product[T]
	// body and transposeBody are p.tiles and p.transpose, built once so
	// that parallel.For does not allocate.
	body, transposeBody, transposeBBody func(lo, hi int)
	scatterBody, nativeBody             func(lo, hi int)
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
		p.native(kern, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	check(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	if p.body == nil {
		p.body, p.transposeBody, p.transposeBBody = p.tiles, p.transpose, p.transposeB
	}
	// Aᵀ·B with a narrow B (n well below m) and a dense A: transposing A
	// (k·m values) would cost more than the product's own passes over it,
	// so compute the small Cᵀ = Bᵀ·A instead, transposing only B, and add
	// its transpose into C. (A sparse A keeps the direct path, whose axpys
	// skip A's zeros.)
	if transA && !transB && k > 0 && alpha != 0 && !p.noCopy && 4*n <= m && !sparse(a, k*m) {
		p.narrowTN(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	p.kern, p.tA, p.tB = kern, flag(transA), flag(transB)
	p.m, p.n, p.k, p.alpha, p.beta = m, n, k, alpha, beta
	p.a, p.lda, p.b, p.ldb, p.c, p.ldc = a, lda, b, ldb, c, ldc
	// Aᵀ·B with a sparse A: scatter each nonzero A[l][i] of A's rows into
	// row i of C, C[i] += alpha·A[l][i]·B[l], in the order and with the
	// axpy kernel that the transposed copy's untransposed product would use,
	// so the result is the same bit for bit, without the copy.
	if transA && !transB && k > 0 && alpha != 0 && !p.noCopy && sparse(a, k*m) {
		if p.scatterBody == nil {
			p.scatterBody = p.scatter
		}
		parallel.For(m, scatterRows, p.scatterBody)
		p.a, p.b, p.c = nil, nil, nil
		return
	}
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
// narrowTN sets C = alpha·Aᵀ·B + beta·C through Cᵀ = Bᵀ·A.
func (p *Product[T]) narrowTN(m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if p.inner == nil {
		p.inner = new(Product[T])
	}
	if len(p.workC) < n*m {
		p.workC = make([]T, n*m)
	}
	ct := p.workC[:n*m]
	p.inner.Gemm(true, false, n, m, k, alpha, b, ldb, a, lda, 0, ct, m)
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		for j := range row {
			if beta == 0 {
				row[j] = ct[j*m+i]
			} else {
				row[j] = beta*row[j] + ct[j*m+i]
			}
		}
	}
}

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

// nativeRows is the number of rows of C one call of a native BLAS computes
// when Product spreads a product over the workers: enough for the BLAS's
// own blocking to work at full speed, few enough to keep both cores busy
// on the products of a training step.
const nativeRows = 128

// native computes the product with the native BLAS, block of rows by block
// of rows of C in parallel. Each block is one call whose result does not
// depend on which goroutine makes it, so neither does C.
func (p *Product[T]) native(kern kernel[T], transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m <= nativeRows {
		kern.gemm(flag(transA), flag(transB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	check(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if p.nativeBody == nil {
		p.nativeBody = p.nativeRows
	}
	p.kern, p.tA, p.tB = kern, flag(transA), flag(transB)
	p.m, p.n, p.k, p.alpha, p.beta = m, n, k, alpha, beta
	p.a, p.lda, p.b, p.ldb, p.c, p.ldc = a, lda, b, ldb, c, ldc
	parallel.For(m, nativeRows, p.nativeBody)
	p.a, p.b, p.c = nil, nil, nil
}

// nativeRows computes rows [lo, hi) of C with one call of the native BLAS.
func (p *Product[T]) nativeRows(lo, hi int) {
	var a []T
	if p.tA == blas.Trans {
		a = p.a[lo:] // columns lo.. of the stored Aᵀ
	} else {
		a = p.a[lo*p.lda:] // rows lo.. of A
	}
	p.kern.gemm(p.tA, p.tB, hi-lo, p.n, p.k, p.alpha, a, p.lda, p.b, p.ldb, p.beta, p.c[lo*p.ldc:], p.ldc)
}

// scatterRows is the number of rows of C a scatter chunk computes.
const scatterRows = 64

// scatter computes rows [lo, hi) of C = alpha·Aᵀ·B + beta·C for the stored
// k×m matrix A, skipping A's zeros. As gonum's untransposed kernel does on a
// transposed copy of A, each row of C accumulates the rows of B in order of
// l, in blocks of tileK, each term scaled by alpha·A[l][i] first.
func (p *Product[T]) scatter(lo, hi int) {
	scale(p.c[lo*p.ldc:], p.ldc, hi-lo, p.n, p.beta)
	for l := 0; l < p.k; l++ {
		arow := p.a[l*p.lda+lo : l*p.lda+hi]
		brow := p.b[l*p.ldb : l*p.ldb+p.n]
		for i, v := range arow {
			if tmp := p.alpha * v; tmp != 0 {
				r := (lo + i) * p.ldc
				p.kern.axpy(tmp, brow, p.c[r:r+p.n])
			}
		}
	}
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
