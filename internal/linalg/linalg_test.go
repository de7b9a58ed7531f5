package linalg

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/blas/gonum"
)

// gemmFunc is the signature shared by Gemm and Product.Gemm.
type gemmFunc[T Float] func(transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int)

// problem is one product with its operands laid out with row strides.
type problem[T Float] struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    T
	a, b, c        []T
	lda, ldb, ldc  int
}

// newProblem returns a product of the given shape whose strides exceed the
// row lengths by pad. When beta is 0, C starts as NaN, which a correct
// product never reads.
func newProblem[T Float](rng *rand.Rand, transA, transB bool, m, n, k, pad int, alpha, beta T) problem[T] {
	ra, ca := m, k
	if transA {
		ra, ca = k, m
	}
	rb, cb := k, n
	if transB {
		rb, cb = n, k
	}
	p := problem[T]{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta,
		lda: ca + pad, ldb: cb + pad, ldc: n + pad}
	p.a = randSlice[T](rng, max(0, (ra-1)*p.lda+ca))
	p.b = randSlice[T](rng, max(0, (rb-1)*p.ldb+cb))
	p.c = randSlice[T](rng, max(0, (m-1)*p.ldc+n))
	if beta == 0 {
		for i := range m {
			for j := range n {
				p.c[i*p.ldc+j] = T(math.NaN())
			}
		}
	}
	return p
}

func (p problem[T]) at(x []T, ld int, trans bool, i, j int) float64 {
	if trans {
		i, j = j, i
	}
	return float64(x[i*ld+j])
}

// reference returns alpha·op(A)·op(B) + beta·C by the triple loop in
// float64, and for each element a bound on the rounding error of any
// summation order in T: 2(k+2)·eps·(|alpha|·Σ|a||b| + |beta||c|), twice the
// classical bound γ(k+2) of a dot product of length k with the scalings.
func (p problem[T]) reference() (want, bound []float64) {
	eps := 0x1p-53
	if _, ok := any(T(0)).(float32); ok {
		eps = 0x1p-24
	}
	want, bound = make([]float64, len(p.c)), make([]float64, len(p.c))
	for i := range p.c {
		want[i] = float64(p.c[i]) // outside the m×n window C must stay as it was
	}
	for i := range p.m {
		for j := range p.n {
			var s, abs float64
			for l := range p.k {
				v := p.at(p.a, p.lda, p.transA, i, l) * p.at(p.b, p.ldb, p.transB, l, j)
				s += v
				abs += math.Abs(v)
			}
			w, wabs := float64(p.alpha)*s, math.Abs(float64(p.alpha))*abs
			if p.beta != 0 {
				c := float64(p.c[i*p.ldc+j])
				w += float64(p.beta) * c
				wabs += math.Abs(float64(p.beta) * c)
			}
			want[i*p.ldc+j] = w
			bound[i*p.ldc+j] = 2 * float64(p.k+2) * eps * wabs
		}
	}
	return want, bound
}

// run computes the product into a copy of C and returns it.
func (p problem[T]) run(gemm gemmFunc[T]) []T {
	c := append([]T(nil), p.c...)
	gemm(p.transA, p.transB, p.m, p.n, p.k, p.alpha, p.a, p.lda, p.b, p.ldb, p.beta, c, p.ldc)
	return c
}

func (p problem[T]) String() string {
	return fmt.Sprintf("%s m=%d n=%d k=%d lda=%d ldb=%d ldc=%d alpha=%v beta=%v",
		transName(p.transA, p.transB), p.m, p.n, p.k, p.lda, p.ldb, p.ldc, p.alpha, p.beta)
}

func transName(transA, transB bool) string {
	return map[bool]string{false: "N", true: "T"}[transA] + map[bool]string{false: "N", true: "T"}[transB]
}

var flags = [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}}

func TestGemmAgainstTripleLoop(t *testing.T) {
	testAgainstTripleLoop[float32](t)
	testAgainstTripleLoop[float64](t)
}

func testAgainstTripleLoop[T Float](t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var prod Product[T] // one Product for every case, so its buffer is reused and regrown
	methods := []struct {
		name string
		gemm gemmFunc[T]
	}{{"Gemm", Gemm[T]}, {"Product", prod.Gemm}}
	sizes := []int{1, 7, 33, 130}
	scalars := [][2]T{{1, 0}, {0.5, -1.5}, {-2, 1}, {0, 2}}
	for _, tr := range flags {
		for _, m := range sizes {
			for _, n := range sizes {
				for _, k := range sizes {
					pad := (m + n + k) % 4 // strides from equal to the row length to 3 more
					sc := scalars[(m*3+n+k*7)%len(scalars)]
					p := newProblem(rng, tr[0], tr[1], m, n, k, pad, sc[0], sc[1])
					want, bound := p.reference()
					for _, me := range methods {
						got := p.run(me.gemm)
						for i := range got {
							if d := math.Abs(float64(got[i]) - want[i]); !(d <= bound[i]) {
								t.Fatalf("%T %s %v: c[%d] = %v, want %v (error %.3g > bound %.3g)",
									T(0), me.name, p, i, got[i], want[i], d, bound[i])
							}
						}
					}
				}
			}
		}
	}
}

// TestProductMatchesGemm checks Product.Gemm against Gemm on products large
// enough for several tiles and for gonum's own parallel path. Where both use
// gonum's axpy kernel (NN and TN, unless Product prefers dot products for
// the shape, see dotFaster, or computes Cᵀ for a narrow Aᵀ·B) both accumulate every element of C over the
// inner index in the same order, so on the pure-Go backend they must agree
// bit for bit; dot products over different blocks agree to rounding. On a
// native backend Product calls Gemm once for at most nativeRows rows of C,
// so then all four agree bit for bit, and once per block of rows otherwise
// (the native kernels round a block's edge rows differently).
func TestProductMatchesGemm(t *testing.T) {
	testProductMatchesGemm[float32](t)
	testProductMatchesGemm[float64](t)
}

func testProductMatchesGemm[T Float](t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var prod Product[T]
	shapes := [][3]int{{200, 450, 300}, {130, 65, 257}, {3, 500, 40}, {500, 2, 9}}
	for _, tr := range flags {
		for _, s := range shapes {
			p := newProblem[T](rng, tr[0], tr[1], s[0], s[1], s[2], 1, 1.5, -0.5)
			want, bound := p.reference()
			viaGemm, viaProduct := p.run(Gemm[T]), p.run(prod.Gemm)
			exact := Backend() == "gonum" && !tr[1] && !dotFaster[T](s[1], s[2]) && !(tr[0] && 4*s[1] <= s[0]) ||
				Backend() != "gonum" && s[0] <= nativeRows
			for i := range viaGemm {
				g, w := float64(viaProduct[i]), float64(viaGemm[i])
				if exact && math.Float64bits(g) != math.Float64bits(w) {
					t.Fatalf("%T %v: Product c[%d] = %v, Gemm %v, want equal bits", T(0), p, i, g, w)
				}
				if d := math.Abs(g - want[i]); !(d <= bound[i]) {
					t.Fatalf("%T %v: Product c[%d] = %v, want %v (error %.3g > bound %.3g)", T(0), p, i, g, want[i], d, bound[i])
				}
			}
		}
	}
}

// TestSparseProductMatchesGemm: with a sparse left operand (four fifths
// zeros, as MNIST images), Product multiplies Aᵀ·B by scattering A's
// nonzeros instead of transposing A, and A·B with the axpy kernel, which
// skips them; both accumulate each element of C in Gemm's order, so they
// agree with it bit for bit on the pure-Go backend, and within the rounding
// bound of the triple loop everywhere. The shapes cover several tiles of C
// (n above tileN) and of the inner dimension (k above tileK), a C to scale
// (beta ≠ 0) and a C to ignore (beta = 0, filled with NaN).
func TestSparseProductMatchesGemm(t *testing.T) {
	testSparseProductMatchesGemm[float32](t)
	testSparseProductMatchesGemm[float64](t)
}

func testSparseProductMatchesGemm[T Float](t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	var prod Product[T]
	for _, transA := range []bool{true, false} {
		for _, s := range [][3]int{{785, 50, 128}, {200, 450, 300}, {65, 3, 7}} {
			for _, beta := range []T{0, -0.5} {
				p := newProblem[T](rng, transA, false, s[0], s[1], s[2], 1, 1.5, beta)
				for i := range p.a {
					if rng.IntN(5) != 0 {
						p.a[i] = 0
					}
				}
				want, bound := p.reference()
				viaGemm, viaProduct := p.run(Gemm[T]), p.run(prod.Gemm)
				for i := range viaGemm {
					g, w := float64(viaProduct[i]), float64(viaGemm[i])
					if Backend() == "gonum" && math.Float64bits(g) != math.Float64bits(w) {
						t.Fatalf("%T %v: Product c[%d] = %v, Gemm %v, want equal bits", T(0), p, i, g, w)
					}
					if d := math.Abs(g - want[i]); !(d <= bound[i]) {
						t.Fatalf("%T %v: Product c[%d] = %v, want %v (error %.3g > bound %.3g)", T(0), p, i, g, want[i], d, bound[i])
					}
				}
			}
		}
	}
}

func TestProductIndependentOfProcs(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var prod Product[float64]
	for _, tr := range flags {
		p := newProblem[float64](rng, tr[0], tr[1], 300, 400, 350, 0, 1, 0)
		old := runtime.GOMAXPROCS(1)
		one := p.run(prod.Gemm)
		runtime.GOMAXPROCS(4)
		four := p.run(prod.Gemm)
		runtime.GOMAXPROCS(old)
		for i := range one {
			if math.Float64bits(one[i]) != math.Float64bits(four[i]) {
				t.Fatalf("%v: c[%d] = %v with GOMAXPROCS 1, %v with 4", p, i, one[i], four[i])
			}
		}
	}
}

func TestProductAllocs(t *testing.T) {
	testProductAllocs[float32](t)
	testProductAllocs[float64](t)
}

func testProductAllocs[T Float](t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, tr := range flags {
		p := newProblem[T](rng, tr[0], tr[1], 300, 400, 250, 2, 1, 0.5)
		var prod Product[T]
		f := func() {
			prod.Gemm(p.transA, p.transB, p.m, p.n, p.k, p.alpha, p.a, p.lda, p.b, p.ldb, p.beta, p.c, p.ldc)
		}
		f() // warm up: the work buffer and the workers
		if a := testing.AllocsPerRun(10, f); a != 0 {
			t.Errorf("%T %s on %s: %v allocations per call after the first, want 0", T(0), transName(tr[0], tr[1]), Backend(), a)
		}
	}
}

// countingBLAS is gonum's BLAS with a count of its Dgemm calls.
type countingBLAS struct {
	gonum.Implementation
	calls int
}

func (c *countingBLAS) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, cm []float64, ldc int) {
	c.calls++
	c.Implementation.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, cm, ldc)
}

// TestSwapImplementation checks that every product follows blas64.Use: an
// implementation other than gonum's gets each call whole.
func TestSwapImplementation(t *testing.T) {
	old := blas64.Implementation()
	defer blas64.Use(old)
	counter := &countingBLAS{}
	blas64.Use(counter)
	if got := Backend(); got != "other" {
		t.Errorf("Backend() = %q with a custom implementation, want \"other\"", got)
	}
	p := newProblem[float64](rand.New(rand.NewPCG(1, 1)), true, false, 200, 300, 100, 0, 1, 0)
	p.run(Gemm[float64])
	var prod Product[float64]
	p.run(prod.Gemm)
	// One call for Gemm, and one per block of nativeRows rows of C (200
	// rows: 2) for Product, which spreads a native product over the workers.
	if counter.calls != 3 {
		t.Errorf("the custom implementation got %d Dgemm calls, want 3 (1 for Gemm, 2 for Product)", counter.calls)
	}
	blas64.Use(gonum.Implementation{})
	if got := Backend(); got != "gonum" {
		t.Errorf("Backend() = %q after blas64.Use(gonum.Implementation{}), want \"gonum\"", got)
	}
}

func TestBackend(t *testing.T) {
	if got := Backend(); got != wantBackend {
		t.Errorf("Backend() = %q, want %q in this build", got, wantBackend)
	}
}

func TestTranspose(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, s := range [][2]int{{0, 0}, {0, 5}, {1, 1}, {1, 40}, {40, 1}, {33, 70}, {64, 64}, {100, 31}} {
		rows, cols := s[0], s[1]
		src := randSlice[float32](rng, rows*cols)
		dst := make([]float32, rows*cols+1)
		dst[rows*cols] = 42 // beyond the matrix: must stay
		Transpose(dst, src, rows, cols)
		for i := range rows {
			for j := range cols {
				if dst[j*rows+i] != src[i*cols+j] {
					t.Fatalf("%d×%d: dst[%d][%d] = %v, want src[%d][%d] = %v", rows, cols, j, i, dst[j*rows+i], i, j, src[i*cols+j])
				}
			}
		}
		if dst[rows*cols] != 42 {
			t.Errorf("%d×%d: Transpose wrote past rows·cols", rows, cols)
		}
	}
}

func TestBadArgumentsPanic(t *testing.T) {
	a, b, c := make([]float64, 12), make([]float64, 12), make([]float64, 12)
	var prod Product[float64]
	tests := []struct {
		name, want string
		f          func()
	}{
		{"negative m", "dimensions", func() { prod.Gemm(false, false, -1, 3, 4, 1, a, 4, b, 3, 0, c, 3) }},
		{"short lda", "row stride", func() { prod.Gemm(false, false, 3, 3, 4, 1, a, 3, b, 3, 0, c, 3) }},
		{"short ldb", "row stride", func() { prod.Gemm(false, true, 3, 3, 4, 1, a, 4, b, 3, 0, c, 3) }},
		{"short C", "elements", func() { prod.Gemm(false, false, 3, 4, 4, 1, a, 4, b, 4, 0, c, 4) }},
		{"short A", "elements", func() { prod.Gemm(true, false, 4, 3, 4, 1, a, 4, b, 3, 0, c, 3) }},
		{"transpose shapes", "Transpose", func() { Transpose(a, b, -1, 2) }},
		{"transpose short", "len(src)", func() { Transpose(a, b[:5], 2, 3) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				v := recover()
				msg, _ := v.(string)
				if Backend() == "gonum" || strings.HasPrefix(tt.name, "transpose") {
					if !strings.HasPrefix(msg, "linalg: ") || !strings.Contains(msg, tt.want) {
						t.Errorf("panic %v, want a \"linalg: \" message about %q", v, tt.want)
					}
				} else if v == nil {
					t.Error("no panic") // the native BLAS reports the error its own way
				}
			}()
			tt.f()
		})
	}
}
