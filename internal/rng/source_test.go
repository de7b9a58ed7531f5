package rng

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"testing"
)

// *Source is a math/rand/v2 source.
var _ rand.Source = (*Source)(nil)

func TestStreamDeterministic(t *testing.T) {
	a, b := Stream(1, 2, 3, 4), Stream(1, 2, 3, 4)
	for i := range 1000 {
		if x, y := a.Uint64(), b.Uint64(); x != y {
			t.Fatalf("draw %d: %#x and %#x from the same keys", i, x, y)
		}
	}
}

// correlation returns the Pearson correlation of n uniforms from x and y.
func correlation(x, y Source, n int) float64 {
	var sx, sy, sxx, syy, sxy float64
	for range n {
		u, v := x.Float64(), y.Float64()
		sx, sy, sxx, syy, sxy = sx+u, sy+v, sxx+u*u, syy+v*v, sxy+u*v
	}
	fn := float64(n)
	cov := sxy/fn - sx/fn*sy/fn
	return cov / math.Sqrt((sxx/fn-sx/fn*sx/fn)*(syy/fn-sy/fn*sy/fn))
}

// TestStreamsIndependent compares streams whose keys differ by one in one
// place, or that swap two keys. For independent streams the sample
// correlation of n pairs has standard error 1/√n, so |ρ| < 5/√n fails a
// correct generator with probability below 10⁻⁶.
func TestStreamsIndependent(t *testing.T) {
	const n = 100000
	tol := 5 / math.Sqrt(n)
	base := [4]uint64{7, 100, 3, 12}
	tests := []struct {
		name string
		keys [4]uint64
	}{
		{"seed+1", [4]uint64{8, 100, 3, 12}},
		{"step+1", [4]uint64{7, 101, 3, 12}},
		{"site+1", [4]uint64{7, 100, 4, 12}},
		{"block+1", [4]uint64{7, 100, 3, 13}},
		{"site and block swapped", [4]uint64{7, 100, 12, 3}},
		{"seed xor 1<<63", [4]uint64{7 ^ 1<<63, 100, 3, 12}},
	}
	for _, tt := range tests {
		x := Stream(base[0], base[1], base[2], base[3])
		y := Stream(tt.keys[0], tt.keys[1], tt.keys[2], tt.keys[3])
		if rho := correlation(x, y, n); math.Abs(rho) > tol {
			t.Errorf("%s: correlation %.4f, want |ρ| < %.4f", tt.name, rho, tol)
		}
	}
	// Within one stream, neighbouring draws must be uncorrelated too.
	s := Stream(1, 1, 1, 1)
	lagged := s
	lagged.Uint64()
	if rho := correlation(s, lagged, n); math.Abs(rho) > tol {
		t.Errorf("lag-1 correlation within a stream %.4f, want |ρ| < %.4f", rho, tol)
	}
}

// TestStreamAvalanche checks the key mixing bit by bit: the first draws of
// the streams of neighbouring blocks must differ in half their bits. Over m
// pairs the mean number of differing bits, 32 for independent draws, has
// standard error √(64/4)/√m = 4/√m, so the tolerance is 5·4/√m.
func TestStreamAvalanche(t *testing.T) {
	const m = 10000
	for _, key := range []int{0, 1, 2, 3} {
		var sum int
		for b := range uint64(m) {
			k0, k1 := [4]uint64{5, 6, 7, 8}, [4]uint64{5, 6, 7, 8}
			k0[key], k1[key] = b, b+1
			x, y := Stream(k0[0], k0[1], k0[2], k0[3]), Stream(k1[0], k1[1], k1[2], k1[3])
			sum += bits.OnesCount64(x.Uint64() ^ y.Uint64())
		}
		mean := float64(sum) / m
		if tol := 5 * 4 / math.Sqrt(m); math.Abs(mean-32) > tol {
			t.Errorf("key %d: neighbouring keys' first draws differ in %.3f bits on average, want 32 ± %.2f", key, mean, tol)
		}
	}
}
