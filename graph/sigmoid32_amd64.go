package graph

import "golang.org/x/sys/cpu"

// hasAVX2 says whether sigmoidVec32 may use the AVX2 kernel.
var hasAVX2 = cpu.X86.HasAVX2

// sigmoidAVX2 is in sigmoid32_amd64.s.
//
//go:noescape
func sigmoidAVX2(x, y []float32) int

// sigmoidVec32 writes y[i] = 1/(1 + e^{−x[i]}) for a prefix of x in blocks
// of 8, bit for bit as sigmoid32's scalar path, and returns its length: it
// stops before the first block with a value outside the polynomial's range
// (or NaN), or when fewer than 8 values remain. It writes nothing and
// returns 0 without AVX2. len(y) must be at least len(x).
func sigmoidVec32(x, y []float32) int {
	if !hasAVX2 || len(y) < len(x) {
		return 0
	}
	return sigmoidAVX2(x, y)
}
