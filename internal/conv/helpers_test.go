package conv

import (
	"math"
	"math/rand/v2"
	"testing"
)

// float is the element type every kernel is instantiated for.
type float interface{ float32 | float64 }

// unitRoundoff returns u, the bound on the relative error of one rounding in
// T: 2⁻²⁴ for float32 and 2⁻⁵³ for float64.
func unitRoundoff[T float]() float64 {
	var z T
	if _, ok := any(z).(float32); ok {
		return 0x1p-24
	}
	return 0x1p-53
}

// uniform returns n values uniform on [−1, 1) drawn from a PCG seeded with
// seed.
func uniform[T float](seed uint64, n int) []T {
	r := rand.New(rand.NewPCG(seed, 0x636f6e76))
	v := make([]T, n)
	for i := range v {
		v[i] = T(2*r.Float64() - 1)
	}
	return v
}

// filled returns n copies of v, to show which elements a kernel leaves
// unwritten.
func filled[T float](n int, v T) []T {
	s := make([]T, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// dot returns Σ a·b and Σ |a·b| in float64.
func dot[T float](a, b []T) (sum, abs float64) {
	for i := range a {
		p := float64(a[i]) * float64(b[i])
		sum += p
		abs += math.Abs(p)
	}
	return sum, abs
}

// checkAdjoint compares ⟨A(x), g⟩ with ⟨x, Aᵀ(g)⟩. Both are sums of the same
// products once each, formed in T by the kernels (with at most perElem
// roundings of relative size u on each value) and summed in float64, so
// they differ by at most (perElem·u + 2·n·2⁻⁵³)·Σ|products|, n the number of
// terms; with a wrong adjoint they would differ by a few of the products
// themselves, far more.
func checkAdjoint[T float](t *testing.T, ax, g, x, atg []T, perElem int) {
	t.Helper()
	lhs, absL := dot(ax, g)
	rhs, absR := dot(x, atg)
	n := float64(max(len(ax), len(x)))
	tol := (float64(perElem)*unitRoundoff[T]() + 2*n*0x1p-53) * max(absL, absR)
	if d := math.Abs(lhs - rhs); d > tol || math.IsNaN(d) {
		t.Errorf("⟨A x, g⟩ = %.17g, ⟨x, Aᵀ g⟩ = %.17g: differ by %.3g > %.3g", lhs, rhs, d, tol)
	}
	if absL == 0 {
		t.Errorf("⟨A x, g⟩ has no nonzero term: the test checks nothing")
	}
}

// near reports whether got is within tol of want, NaN never being close.
func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

// allocs fails t unless f allocates nothing.
func allocs(t *testing.T, name string, f func() error) {
	t.Helper()
	if err := f(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if n := testing.AllocsPerRun(20, func() { _ = f() }); n != 0 {
		t.Errorf("%s: %v allocations per call, want 0", name, n)
	}
}
