package corrupt

import (
	"math"
	"math/rand/v2"
)

// gaussianStd is the standard deviation of gaussian's noise on the [0,1]
// scale, by severity: the reference code's (CIFAR-10-C) constants.
var gaussianStd = [MaxSeverity]float64{0.04, 0.06, 0.08, 0.09, 0.10}

// gaussianNoise adds N(0, c²) noise to every pixel and clips to [0,1]. It
// draws one normal deviate per pixel, in pixel order.
func gaussianNoise(dst, img []float64, _, _, severity int, rng *rand.Rand) {
	c := gaussianStd[severity-1]
	for i, v := range img {
		dst[i] = clip01(v + c*rng.NormFloat64())
	}
}

// shotRate is shot's photon count λ for a white pixel, by severity
// (ImageNet-C and MNIST-C): fewer photons, more noise.
var shotRate = [MaxSeverity]float64{60, 25, 12, 5, 3}

// shotNoise replaces every pixel x by Poisson(x·λ)/λ, clipped to [0,1], as
// np.random.poisson(x * c) / c in ImageNet-C. It draws one uniform per pixel,
// in pixel order.
func shotNoise(dst, img []float64, _, _, severity int, rng *rand.Rand) {
	lambda := shotRate[severity-1]
	for i, v := range img {
		dst[i] = clip01(float64(poisson(rng, v*lambda)) / lambda)
	}
}

// poisson draws a Poisson deviate with the given mean by inverting the
// cumulative distribution with one uniform deviate. It is exact up to
// rounding for the means used here (at most 60); the search is capped far in
// the tail so that it always ends. A mean that is not positive gives 0.
func poisson(rng *rand.Rand, mean float64) int {
	u := rng.Float64()
	if !(mean > 0) {
		return 0
	}
	p := math.Exp(-mean) // P(K = 0); underflows only for means above ~745
	cdf := p
	limit := int(mean + 40*math.Sqrt(mean) + 40)
	k := 0
	for u > cdf && k < limit {
		k++
		p *= mean / float64(k)
		cdf += p
	}
	return k
}

// impulseAmount is the fraction of pixels impulse replaces, by severity:
// the reference code's (CIFAR-10-C) constants.
var impulseAmount = [MaxSeverity]float64{0.01, 0.02, 0.03, 0.05, 0.07}

// impulseNoise is skimage's random_noise(mode='s&p', amount=c) for images in
// [0,1]: each pixel is flipped independently with probability c, and a
// flipped pixel becomes 1 (salt) or 0 (pepper) with probability 1/2 each.
// Like skimage, it draws both decisions for every pixel (two uniforms per
// pixel, in pixel order), so a pixel flipped at one severity is flipped, to
// the same value, at every higher severity of the same stream.
func impulseNoise(dst, img []float64, _, _, severity int, rng *rand.Rand) {
	amount := impulseAmount[severity-1]
	for i, v := range img {
		flipped := rng.Float64() < amount
		salted := rng.Float64() < 0.5
		switch {
		case flipped && salted:
			dst[i] = 1
		case flipped:
			dst[i] = 0
		default:
			dst[i] = v
		}
	}
}
