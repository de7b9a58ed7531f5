package rng

import "math"

// The samplers are the ziggurat method of Marsaglia and Tsang, "The ziggurat
// method for generating random variables", Journal of Statistical Software
// 5(8), 2000: the density is covered by equal-area layers (128 for the
// normal, 256 for the exponential) whose tables below follow the paper's
// zigset. A draw picks a layer and a point in it; more than 98 % of draws
// fall inside the density at the first try and cost one 64-bit draw and a
// multiply.
//
// Unlike the paper's 32-bit version, which takes the layer from the low bits
// of the same value it scales, each draw here splits one 64-bit word: the
// low bits pick the layer (7 for the normal, 8 for the exponential, plus a
// sign bit for the Laplace) and the top 56 or 55 bits give the point, so the
// two are independent and the values have 55 bits of resolution in a layer.
//
// The slow paths never take the logarithm of 0: their uniforms lie in
// (0, 1]. So every value is finite: a normal value lies within
// ±(r + 36.74/r) < ±14.2 and an exponential one below re + 36.74 < 44.5.

const (
	normR   = 3.442619855899            // right edge of the normal's base layer
	normV   = 9.91256303526217e-3       // area of each normal layer
	normM   = 1 << 55                   // scale of the signed 56-bit point
	expR    = 7.697117470131487         // right edge of the exponential's base layer
	expV    = 3.949659822581572e-3      // area of each exponential layer
	expM    = 1 << 55                   // scale of the unsigned 55-bit point
	maxNorm = normR + 53*math.Ln2/normR // bound on |Normal()|
	maxExp  = expR + 53*math.Ln2        // bound on Exp()
)

var (
	normK [128]int64 // a point below normK[i] lies inside the density
	normW [128]float64
	normF [128]float64
	expK  [256]uint64
	expW  [256]float64
	expF  [256]float64
)

func init() {
	// zigset of Marsaglia and Tsang (2000), for points scaled by normM and expM.
	dn, tn := normR, normR
	q := normV / math.Exp(-0.5*dn*dn)
	normK[0] = int64(dn / q * normM)
	normK[1] = 0
	normW[0] = q / normM
	normW[127] = dn / normM
	normF[0] = 1
	normF[127] = math.Exp(-0.5 * dn * dn)
	for i := 126; i >= 1; i-- {
		dn = math.Sqrt(-2 * math.Log(normV/dn+math.Exp(-0.5*dn*dn)))
		normK[i+1] = int64(dn / tn * normM)
		tn = dn
		normF[i] = math.Exp(-0.5 * dn * dn)
		normW[i] = dn / normM
	}

	de, te := expR, expR
	q = expV / math.Exp(-de)
	expK[0] = uint64(de / q * expM)
	expK[1] = 0
	expW[0] = q / expM
	expW[255] = de / expM
	expF[0] = 1
	expF[255] = math.Exp(-de)
	for i := 254; i >= 1; i-- {
		de = -math.Log(expV/de + math.Exp(-de))
		expK[i+1] = uint64(de / te * expM)
		te = de
		expF[i] = math.Exp(-de)
		expW[i] = de / expM
	}
}

// Normal returns a standard normal value.
func (s *Source) Normal() float64 {
	var z float64
	*s, z = s.normal()
	return z
}

// Exp returns a value of the standard exponential distribution, density
// exp(−x) on x ≥ 0.
func (s *Source) Exp() float64 {
	var x float64
	*s, x = s.exp()
	return x
}

// Laplace returns a value of the standard Laplace distribution, density
// exp(−|x|)/2: an exponential value with a random sign, taken from bit 8 of
// the draw that gave the value.
func (s *Source) Laplace() float64 {
	var x float64
	*s, x = s.laplace()
	return x
}

// normal is Normal on a value: it returns the next state and the draw.
func (s Source) normal() (Source, float64) {
	s, u := s.next()
	i, j := u&127, int64(u)>>8 // j is signed, in [−2⁵⁵, 2⁵⁵)
	if (j^j>>63)-j>>63 < normK[i] {
		return s, float64(j) * normW[i]
	}
	return s.normalSlow(i, j)
}

// normalSlow finishes a draw that fell outside layer i's inner rectangle at
// point j: the tail beyond normR for the base layer, the wedge test
// otherwise, and a new draw if the point is rejected.
func (s Source) normalSlow(i uint64, j int64) (Source, float64) {
	for {
		if i == 0 {
			var x, y, u float64
			for {
				s, u = s.open01()
				x = -math.Log(u) / normR
				s, u = s.open01()
				y = -math.Log(u)
				if y+y >= x*x {
					break
				}
			}
			if j < 0 {
				return s, -normR - x
			}
			return s, normR + x
		}
		x := float64(j) * normW[i]
		var u float64
		if s, u = s.uniform(); normF[i]+u*(normF[i-1]-normF[i]) < math.Exp(-0.5*x*x) {
			return s, x
		}
		var w uint64
		s, w = s.next()
		i, j = w&127, int64(w)>>8
		if (j^j>>63)-j>>63 < normK[i] {
			return s, float64(j) * normW[i]
		}
	}
}

// exp is Exp on a value; the draw's bit 8 is left to laplace.
func (s Source) exp() (Source, float64) {
	s, x, _ := s.signedExp()
	return s, x
}

// laplace is Laplace on a value.
func (s Source) laplace() (Source, float64) {
	s, x, sign := s.signedExp()
	return s, math.Float64frombits(math.Float64bits(x) | sign)
}

// signedExp returns the next state, an exponential value and, as a float64
// sign bit, bit 8 of the draw that gave it.
func (s Source) signedExp() (Source, float64, uint64) {
	s, u := s.next()
	i, j := u&255, u>>9
	if j < expK[i] {
		return s, float64(j) * expW[i], (u & 256) << 55
	}
	return s.expSlow(u)
}

// expSlow finishes the exponential draw u that fell outside its layer's
// inner rectangle: the memoryless tail beyond expR for the base layer, the
// wedge test otherwise, and a new draw if the point is rejected.
func (s Source) expSlow(u uint64) (Source, float64, uint64) {
	for {
		i, j, sign := u&255, u>>9, (u&256)<<55
		if j < expK[i] {
			return s, float64(j) * expW[i], sign
		}
		var v float64
		if i == 0 {
			s, v = s.open01()
			return s, expR - math.Log(v), sign
		}
		x := float64(j) * expW[i]
		if s, v = s.uniform(); expF[i]+v*(expF[i-1]-expF[i]) < math.Exp(-x) {
			return s, x, sign
		}
		s, u = s.next()
	}
}
