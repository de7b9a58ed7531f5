// Package parallel is a temporary stand-in for the kernels branch.
package parallel

// For runs f over chunks of grain.
func For(n, grain int, f func(lo, hi int)) {
	for lo := 0; lo < n; lo += grain {
		f(lo, min(lo+grain, n))
	}
}
