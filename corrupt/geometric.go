package corrupt

import (
	"math"
	"math/rand/v2"
)

// bilinear samples the h×w image img at column x, row y by bilinear
// interpolation. Pixels outside the image are 0, like skimage's warp with
// mode 'constant' and cval 0, unless clamp is set, in which case they repeat
// the nearest edge pixel. At integer coordinates it returns the pixel exactly.
func bilinear(img []float64, h, w int, x, y float64, clamp bool) float64 {
	if clamp {
		x = math.Max(0, math.Min(float64(w-1), x))
		y = math.Max(0, math.Min(float64(h-1), y))
	} else if !(x > -1 && x < float64(w) && y > -1 && y < float64(h)) {
		return 0 // also guards the int conversions below against NaN and overflow
	}
	fx, fy := math.Floor(x), math.Floor(y)
	ix, iy := int(fx), int(fy)
	ax, ay := x-fx, y-fy
	top := (1-ax)*pixel(img, h, w, ix, iy, clamp) + ax*pixel(img, h, w, ix+1, iy, clamp)
	bottom := (1-ax)*pixel(img, h, w, ix, iy+1, clamp) + ax*pixel(img, h, w, ix+1, iy+1, clamp)
	return (1-ay)*top + ay*bottom
}

// pixel returns the h×w image img at column i, row j, which may lie one
// pixel beyond the right or bottom edge (clamp) or anywhere (otherwise): with
// clamp it repeats the edge, otherwise it is 0 outside the image.
func pixel(img []float64, h, w, i, j int, clamp bool) float64 {
	if clamp {
		i, j = min(i, w-1), min(j, h-1)
	} else if i < 0 || i >= w || j < 0 || j >= h {
		return 0
	}
	return img[j*w+i]
}

// warp writes dst[y][x] = img sampled at src(x, y), by bilinear
// interpolation with zeros outside the image, and clips to [0,1]. dst must not
// alias img.
func warp(dst, img []float64, h, w int, src func(x, y float64) (float64, float64)) {
	for y := range h {
		for x := range w {
			sx, sy := src(float64(x), float64(y))
			dst[y*w+x] = clip01(bilinear(img, h, w, sx, sy, false))
		}
	}
}

// sign returns −1 or +1 with probability 1/2 each, drawing one uniform.
func sign(rng *rand.Rand) float64 {
	if rng.Float64() < 0.5 {
		return -1
	}
	return 1
}

// rotateAngle is rotate's angle in radians, by severity (MNIST-C).
var rotateAngle = [MaxSeverity]float64{0.2, 0.4, 0.6, 0.8, 1.0}

// rotate rotates the image about its centre ((w−1)/2, (h−1)/2), 13.5 for
// MNIST as in MNIST-C, by the severity's angle in a random direction (one
// uniform per image).
func rotate(dst, img []float64, h, w, severity int, rng *rand.Rand) {
	a := sign(rng) * rotateAngle[severity-1]
	cos, sin := math.Cos(a), math.Sin(a)
	cx, cy := float64(w-1)/2, float64(h-1)/2
	warp(dst, img, h, w, func(x, y float64) (float64, float64) {
		dx, dy := x-cx, y-cy
		return cx + cos*dx - sin*dy, cy + sin*dx + cos*dy
	})
}

// shearFactor is shear's horizontal shear factor, by severity. MNIST-C passes
// the same numbers to skimage as shear angles in radians, which also squashes
// the image vertically by cos(angle); here they are the shear factor k of a
// pure horizontal shear.
var shearFactor = [MaxSeverity]float64{0.2, 0.4, 0.6, 0.8, 1.0}

// shear shears the image horizontally about its centre row: row y moves
// sideways by k·(y − (h−1)/2) pixels, with the sign of k random (one uniform
// per image).
func shear(dst, img []float64, h, w, severity int, rng *rand.Rand) {
	k := sign(rng) * shearFactor[severity-1]
	cy := float64(h-1) / 2
	warp(dst, img, h, w, func(x, y float64) (float64, float64) {
		return x + k*(y-cy), y
	})
}

// scaleFactor is scale's zoom factor, by severity (MNIST-C).
var scaleFactor = [MaxSeverity]float64{0.9, 0.8, 0.7, 0.6, 0.5}

// scale shrinks the image about its centre to the severity's factor of its
// size, filling the border with zeros, like MNIST-C's skimage warp (which
// does not anti-alias either). It uses no randomness.
func scale(dst, img []float64, h, w, severity int, _ *rand.Rand) {
	s := scaleFactor[severity-1]
	cx, cy := float64(w-1)/2, float64(h-1)/2
	warp(dst, img, h, w, func(x, y float64) (float64, float64) {
		return cx + (x-cx)/s, cy + (y-cy)/s
	})
}

// translateShift is translate's shift in pixels along each axis, by severity
// (MNIST-C).
var translateShift = [MaxSeverity]float64{1, 2, 3, 4, 5}

// translate shifts the image by t pixels horizontally and t pixels
// vertically, each sign random (two uniforms per image: horizontal first), as
// MNIST-C does, and fills the uncovered border with zeros. The shift is a
// whole number of pixels, so pixel values are moved, not interpolated.
func translate(dst, img []float64, h, w, severity int, rng *rand.Rand) {
	t := translateShift[severity-1]
	dx := sign(rng) * t
	dy := sign(rng) * t
	warp(dst, img, h, w, func(x, y float64) (float64, float64) {
		return x - dx, y - dy
	})
}
