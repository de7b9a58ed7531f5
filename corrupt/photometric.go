package corrupt

import (
	"math"
	"math/rand/v2"
)

// brightnessShift is brightness's shift, by severity (ImageNet-C, MNIST-C).
var brightnessShift = [MaxSeverity]float64{0.1, 0.2, 0.3, 0.4, 0.5}

// brightness adds a constant to every pixel and clips to [0,1]. ImageNet-C
// adds it to the V channel in HSV space, which for a gray image is the pixel
// itself. It uses no randomness.
func brightness(dst, img []float64, _, _, severity int, _ *rand.Rand) {
	c := brightnessShift[severity-1]
	for i, v := range img {
		dst[i] = clip01(v + c)
	}
}

// contrastFactor is contrast's factor, by severity: the reference code's (CIFAR-10-C)
// constants.
var contrastFactor = [MaxSeverity]float64{0.75, 0.5, 0.4, 0.3, 0.15}

// contrast pulls every pixel towards the image mean m: (x − m)·c + m, clipped
// to [0,1]; m is the mean over the whole image. It uses no randomness.
func contrast(dst, img []float64, _, _, severity int, _ *rand.Rand) {
	c := contrastFactor[severity-1]
	m := 0.0
	for _, v := range img {
		m += v
	}
	m /= float64(len(img))
	for i, v := range img {
		dst[i] = clip01((v-m)*c + m)
	}
}

// fogParams are one severity's fog constants.
type fogParams struct {
	thickness float64 // weight c of the fog field
	decay     float64 // plasma fractal's wibble decay: smaller is rougher
}

// fogConstants are fog's constants, by severity. ImageNet-C (and MNIST-C)
// use (1.5,2), (2,2), (2.5,1.7), (2.5,1.5), (3,1.4); severities 3 and 4
// there share a thickness, so the damage need not grow between them, and
// severity 1 already cuts a digit's contrast to 40%. These start thinner and
// grow strictly, keeping ImageNet-C's roughening decays.
var fogConstants = [MaxSeverity]fogParams{
	{0.5, 2},
	{1, 2},
	{1.5, 1.7},
	{2, 1.5},
	{3, 1.4},
}

// maxFogSide is the largest side of fog's plasma fractal.
const maxFogSide = 256

// fog adds a plasma fractal field f in [0,1] weighted by c and renormalises as
// ImageNet-C does: with m the image's maximum, x ← (x + c·f)·m/(m + c),
// clipped to [0,1]. An all-black image (m = 0) therefore stays black, as in
// ImageNet-C.
//
// The field is the top-left h×w corner of a square plasma fractal whose side
// is the smallest power of two (at least 2) that covers the image, 32 for
// MNIST: ImageNet-C's proportion (224 of 256 pixels). MNIST-C instead crops
// 28×28 out of a 256×256 field, which leaves a nearly uniform haze. The side
// is capped at 256, ImageNet-C's, so that a large or elongated image does not
// need a huge field; such an image tiles the field, which the torus makes
// seamless.
func fog(dst, img []float64, h, w, severity int, rng *rand.Rand) {
	p := fogConstants[severity-1]
	size := 2
	for size < max(h, w) && size < maxFogSide {
		size *= 2
	}
	field := plasmaFractal(size, p.decay, rng)
	m := 0.0
	for _, v := range img {
		m = math.Max(m, v)
	}
	for y := range h {
		for x := range w {
			i := y*w + x
			f := field[(y%size)*size+x%size]
			dst[i] = clip01((img[i] + p.thickness*f) * m / (m + p.thickness))
		}
	}
}

// plasmaFractal returns a size×size height map (size a power of two, row
// major) with values in [0,1], made by the diamond-square algorithm on a
// torus exactly as ImageNet-C's plasma_fractal: the map starts at 0 in the
// corner, every new point is the mean of its four neighbours plus
// wibble·U(−wibble, wibble) (wibble enters twice, as there), wibble starts at
// 100 and is divided by decay after each level, and the map is finally
// shifted and scaled onto [0,1] (all zeros if it is flat). Uniform deviates
// are drawn level by level: square centres, then the points between
// horizontally adjacent corners, then those between vertically adjacent
// corners, each in row-major order.
func plasmaFractal(size int, decay float64, rng *rand.Rand) []float64 {
	m := make([]float64, size*size)
	at := func(y, x int) *float64 {
		return &m[((y%size+size)%size)*size+(x%size+size)%size]
	}
	wibble := 100.0
	wibbled := func(sum float64) float64 {
		return sum/4 + wibble*(-wibble+2*wibble*rng.Float64())
	}
	for step := size; step >= 2; step /= 2 {
		half := step / 2
		// Squares: centre = mean of the four corners.
		for y := 0; y < size; y += step {
			for x := 0; x < size; x += step {
				s := *at(y, x) + *at(y+step, x)
				s += *at(y, x+step) + *at(y+step, x+step)
				*at(y+half, x+half) = wibbled(s)
			}
		}
		// Diamonds on the corner rows: between (y, x) and (y, x+step).
		for y := 0; y < size; y += step {
			for x := 0; x < size; x += step {
				s := (*at(y+half, x+half) + *at(y-half, x+half)) + (*at(y, x) + *at(y, x+step))
				*at(y, x+half) = wibbled(s)
			}
		}
		// Diamonds on the centre rows: between (y, x) and (y+step, x).
		for y := 0; y < size; y += step {
			for x := 0; x < size; x += step {
				s := (*at(y+half, x+half) + *at(y+half, x-half)) + (*at(y, x) + *at(y+step, x))
				*at(y+half, x) = wibbled(s)
			}
		}
		wibble /= decay
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range m {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	for i, v := range m {
		if hi > lo {
			m[i] = (v - lo) / (hi - lo)
		} else {
			m[i] = 0
		}
	}
	return m
}
