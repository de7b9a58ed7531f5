package score

import (
	"fmt"
	"math"
)

// Law is the distribution of the injected noise.
type Law int

const (
	// Gaussian noise N(0, σ²); its scale is the standard deviation σ and its
	// score is ψ(r) = r/σ².
	Gaussian Law = iota
	// Laplace noise with density exp(−|r|/b)/(2b); its scale is b (the
	// standard deviation is √2·b) and its score is ψ(r) = sign(r)/b.
	Laplace
)

// ParseLaw maps "gaussian" and "laplace" to their Law.
func ParseLaw(s string) (Law, error) {
	switch s {
	case "gaussian":
		return Gaussian, nil
	case "laplace":
		return Laplace, nil
	}
	return 0, fmt.Errorf("unknown noise distribution %q (want gaussian | laplace)", s)
}

// String returns "gaussian" or "laplace".
func (l Law) String() string {
	switch l {
	case Gaussian:
		return "gaussian"
	case Laplace:
		return "laplace"
	}
	return fmt.Sprintf("Law(%d)", int(l))
}

// Score returns ψ(r) for the given scale.
func (l Law) Score(r, scale float64) float64 {
	if l == Laplace {
		switch {
		case r > 0:
			return 1 / scale
		case r < 0:
			return -1 / scale
		}
		return 0
	}
	return r / (scale * scale)
}

// Quantile returns the value r with P(noise ≤ r) = u, for u in (0, 1).
func (l Law) Quantile(u, scale float64) float64 {
	if l == Laplace {
		if u < 0.5 {
			return scale * math.Log(2*u)
		}
		return -scale * math.Log(2*(1-u))
	}
	// Below ½, erfcinv(2u) keeps the relative accuracy of a small u that
	// 2u − 1 would lose.
	if u < 0.5 {
		return -scale * math.Sqrt2 * math.Erfcinv(2*u)
	}
	return scale * math.Sqrt2 * math.Erfinv(2*u-1)
}

// CDF returns P(noise ≤ r).
func (l Law) CDF(r, scale float64) float64 {
	if l == Laplace {
		if r < 0 {
			return 0.5 * math.Exp(r/scale)
		}
		return 1 - 0.5*math.Exp(-r/scale)
	}
	return 0.5 * math.Erfc(-r/(scale*math.Sqrt2))
}

// Sampler says how the copies of one example draw their noise.
type Sampler int

const (
	// IID draws every value independently.
	IID Sampler = iota
	// QMC draws the K copies of each row and unit as a randomly shifted
	// rank-1 lattice (Cranley and Patterson 1976): u_k = frac(k·z/K + Δ)
	// with Δ uniform in [0, 1) and z a random integer coprime with K, mapped
	// through the law's quantile function. Each value is exactly
	// distributed as the law, so an average over copies stays unbiased, and
	// the K values of a unit fall one in each of K equal-probability strata,
	// which removes the variance of the unit's main effect. The copies of a
	// row are no longer independent of one another, so a baseline built from
	// the other copies' losses (batch-mean, leave-one-out) would bias the
	// estimate; use none or clean.
	QMC
)

// ParseSampler maps "iid" and "qmc" to their Sampler.
func ParseSampler(s string) (Sampler, error) {
	switch s {
	case "iid":
		return IID, nil
	case "qmc":
		return QMC, nil
	}
	return 0, fmt.Errorf("unknown sampler %q (want iid | qmc)", s)
}

// String returns "iid" or "qmc".
func (s Sampler) String() string {
	switch s {
	case IID:
		return "iid"
	case QMC:
		return "qmc"
	}
	return fmt.Sprintf("Sampler(%d)", int(s))
}
