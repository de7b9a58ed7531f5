package graph

import "math"

// exp32 is e^x in float32 arithmetic, for the float32 activations, where
// math.Exp's float64 result would be rounded anyway: x = n·ln 2 + r with
// |r| ≤ ln 2/2, e^r by the minimax polynomial of Cephes' expf (Moshier),
// scaled by 2ⁿ through the exponent bits. Its error is within 2 ulp of the
// float32 result (TestExp32).
func exp32(x float32) float32 {
	switch {
	case x != x:
		return x
	case x > 88.72283:
		return float32(math.Inf(1))
	case x < -87.33655: // below, e^x is subnormal: take float64's
		return float32(math.Exp(float64(x)))
	}
	return expCore32(x)
}

// sigmoid32 sets y[i] = 1/(1 + e^{−x[i]}). Where the CPU has AVX2, a kernel
// (sigmoidVec32) takes eight values at a time; elsewhere, and for a block
// with a value outside the polynomial's range, exp32's polynomial is
// inlined with four values in flight per iteration, so that their
// independent multiply-add chains overlap. Both paths do the same float32
// operations in the same order, so the result is the same bit for bit on
// every CPU.
func sigmoid32(x, y []float32) {
	i := 0
	for i+4 <= len(x) {
		if n := sigmoidVec32(x[i:], y[i:]); n > 0 {
			i += n
			continue
		}
		a, b, c, d := -x[i], -x[i+1], -x[i+2], -x[i+3]
		if !inRange32(a) || !inRange32(b) || !inRange32(c) || !inRange32(d) {
			for j := i; j < i+4; j++ {
				y[j] = 1 / (1 + exp32(-x[j]))
			}
			i += 4
			continue
		}
		ea, eb, ec, ed := expCore32(a), expCore32(b), expCore32(c), expCore32(d)
		y[i], y[i+1], y[i+2], y[i+3] = 1/(1+ea), 1/(1+eb), 1/(1+ec), 1/(1+ed)
		i += 4
	}
	for ; i < len(x); i++ {
		y[i] = 1 / (1 + exp32(-x[i]))
	}
}

// inRange32 reports whether exp32's polynomial path applies to x.
func inRange32(x float32) bool { return x >= -87.33655 && x <= 88.72283 }

// expCore32 is exp32 for x in range. n rounds log2e·x to the nearest integer
// by adding and removing 1.5·2²³, which pushes the fraction out of the
// float32 mantissa (|log2e·x| < 2²²).
func expCore32(x float32) float32 {
	const (
		log2e = 1.44269504088896341
		ln2hi = 0.693359375
		ln2lo = -2.12194440e-4
	)
	t := log2e*x + 12582912
	n := t - 12582912
	r := x - n*ln2hi - n*ln2lo
	z := r * r
	y := ((((1.9875691500e-4*r+1.3981999507e-3)*r+8.3334519073e-3)*r+4.1665795894e-2)*r+1.6666665459e-1)*r + 5.0000001201e-1
	y = y*z + r + 1
	return math.Float32frombits(math.Float32bits(y) + uint32(int32(n))<<23)
}
