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
	const (
		log2e = 1.44269504088896341
		ln2hi = 0.693359375
		ln2lo = -2.12194440e-4
	)
	n := float32(math.Floor(float64(log2e*x + 0.5)))
	r := x - n*ln2hi - n*ln2lo
	z := r * r
	y := ((((1.9875691500e-4*r+1.3981999507e-3)*r+8.3334519073e-3)*r+4.1665795894e-2)*r+1.6666665459e-1)*r + 5.0000001201e-1
	y = y*z + r + 1
	return math.Float32frombits(math.Float32bits(y) + uint32(int32(n))<<23)
}
