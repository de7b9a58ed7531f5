package attack

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// checkEps rejects a budget outside [0, 1] (or NaN): the distance between
// two points of [0, 1] is at most 1 in the L∞ norm.
func checkEps(eps float64) error {
	if !(eps >= 0 && eps <= 1) {
		return fmt.Errorf("eps = %v, want a value in [0, 1]", eps)
	}
	return nil
}

// streams returns n random streams seeded from rng, one per example, so
// that an example's draws do not depend on how many other examples are
// still being attacked.
func streams(rng *rand.Rand, n int) []*rand.Rand {
	s := make([]*rand.Rand, n)
	for i := range s {
		s[i] = rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))
	}
	return s
}

// resize returns s with length n, reusing its array when it is large
// enough.
func resize[T any](s []T, n int) []T {
	return slices.Grow(s[:0], n)[:n]
}
