package corrupt

import (
	"math"
	"math/rand/v2"
)

// glassParams are one severity's glass blur constants.
type glassParams struct {
	sigma      float64 // standard deviation of both Gaussian blurs, in pixels
	delta      int     // largest pixel displacement of a swap
	iterations int     // passes of local shuffling
}

// glassGLRAdvConstants are the reference code's (CIFAR-10-C) glass blur
// constants, by severity, reproduced exactly by glass-blur-glr-adv. They do
// not make the damage grow with severity: the final blur smooths away part of the
// shuffling, so a larger sigma at the same shuffling (severities 1 to 3, and
// 4 to 5) brings the image closer to the clean one.
var glassGLRAdvConstants = [MaxSeverity]glassParams{
	{0.05, 1, 1},
	{0.25, 1, 1},
	{0.4, 1, 1},
	{0.25, 1, 2},
	{0.4, 1, 2},
}

// glass2DConstants are glass-blur's constants, by severity: MNIST-C's, made
// for 28×28 digits, which shuffle more as they blur more, so the damage grows
// with severity.
var glass2DConstants = [MaxSeverity]glassParams{
	{0.7, 1, 2},
	{0.9, 2, 1},
	{1, 2, 3},
	{1.1, 3, 2},
	{1.5, 4, 2},
}

// glassBlurGLRAdv reproduces the reference code's glass blur, including its
// quirk. The reference code (like MNIST-C) calls skimage.filters.gaussian(..., multichannel=True)
// on a 2-D image, so skimage takes the last axis for colour channels and
// blurs along axis 0 only: each blur here is a 1-D Gaussian filter down the
// columns. The steps are:
//
//  1. blur img (on [0,1], in float64) with sigma, as
//     scipy.ndimage.gaussian_filter1d with mode 'nearest' and truncate 4
//     (see gaussianKernel);
//  2. quantise as np.uint8(x·255): clip to [0,255], then truncate;
//  3. for each iteration, for row y from h−d down to d+1 and, within it,
//     column x from w−d down to d+1 (Python's range(H-d, d, -1)), draw dx
//     then dy uniformly from {−d, ..., d−1} (np.random.randint(-d, d)) and
//     swap pixel (y,x) with (y+dy, x+dx);
//  4. blur again with sigma; skimage converts the uint8 image to [0,1] by
//     dividing by 255, so the result is on [0,1]; clip it to [0,1].
//
// The output is not quantised again: the reference code returns floats.
func glassBlurGLRAdv(dst, img []float64, h, w, severity int, rng *rand.Rand) {
	glass(dst, img, h, w, glassGLRAdvConstants[severity-1], true, rng)
}

// glassBlur2D is glass blur as its name promises, with glass2DConstants:
// the steps of glassBlurGLRAdv with a 2-D separable Gaussian blur (down the
// columns, then along the rows, as scipy.ndimage.gaussian_filter orders its
// axes) and symmetric offsets dx, dy uniform in {−d, ..., d}. So that every
// swap stays inside the image, rows run from h−1−d down to d and columns from
// w−1−d down to d. (ImageNet-C itself draws offsets from {−d, ..., d−1}, as
// the reference code does, so each of its swaps leans towards the top left.)
func glassBlur2D(dst, img []float64, h, w, severity int, rng *rand.Rand) {
	glass(dst, img, h, w, glass2DConstants[severity-1], false, rng)
}

// glass implements both glass blurs; glrAdv selects the reference code's
// variant.
func glass(dst, img []float64, h, w int, p glassParams, glrAdv bool, rng *rand.Rand) {
	kernel := gaussianKernel(p.sigma)
	buf := make([]float64, len(img))
	blur := func(dst, src []float64) {
		correlate(dst, src, h, w, kernel, true)
		if !glrAdv {
			correlate(dst, dst, h, w, kernel, false)
		}
	}

	blur(buf, img)
	for i, v := range buf {
		buf[i] = math.Trunc(math.Max(0, math.Min(255, v*255)))
	}

	d := p.delta
	lo, yhi, xhi, span := d+1, h-d, w-d, 2*d
	if !glrAdv {
		lo, yhi, xhi, span = d, h-1-d, w-1-d, 2*d+1
	}
	for range p.iterations {
		for y := yhi; y >= lo; y-- {
			for x := xhi; x >= lo; x-- {
				dx := rng.IntN(span) - d
				dy := rng.IntN(span) - d
				i, j := y*w+x, (y+dy)*w+x+dx
				buf[i], buf[j] = buf[j], buf[i]
			}
		}
	}

	for i := range buf {
		buf[i] /= 255
	}
	blur(dst, buf)
	for i, v := range dst {
		dst[i] = clip01(v)
	}
}

// gaussianKernel returns the right half k[0..r] of the normalised Gaussian
// kernel scipy.ndimage.gaussian_filter1d uses for sigma > 0 with truncate 4:
// radius r = int(4·sigma + 0.5) and weights exp(−0.5/sigma²·x²) divided by
// their sum. It sums the full kernel as k[−r] + (k[−r+1] + ... + k[r]),
// numpy's order for arrays of up to eight elements (r ≤ 3; longer arrays are
// summed pairwise), so for the sigmas of glass-blur-glr-adv (r ≤ 2, where older
// scipy's polynomial evaluation x·(x·c) also agrees with c·x²) the weights
// should match scipy's bit for bit. For sigma = 0.05 the radius is 0 and the
// blur is the identity.
func gaussianKernel(sigma float64) []float64 {
	r := int(4*sigma + 0.5)
	c := -0.5 / (sigma * sigma)
	half := make([]float64, r+1)
	for i := range half {
		half[i] = math.Exp(c * float64(i*i))
	}
	sum := 0.0
	for x := -r + 1; x <= r; x++ {
		sum += half[abs(x)]
	}
	sum = half[r] + sum
	for i := range half {
		half[i] /= sum
	}
	return half
}

// abs returns |x|.
func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// correlate filters the h×w image src with the symmetric kernel whose right
// half is k, down the columns if vertical and along the rows otherwise,
// writing dst. Outside the image it repeats the edge pixel (scipy's mode
// 'nearest'). It sums in scipy's order for symmetric kernels (NI_Correlate1D):
// src[i]·k[0], then (src[i−j] + src[i+j])·k[j] for j from r down to 1. dst may
// be src.
func correlate(dst, src []float64, h, w int, k []float64, vertical bool) {
	r := len(k) - 1
	n, lines, stride, lineStep := w, h, 1, w
	if vertical {
		n, lines, stride, lineStep = h, w, w, 1
	}
	ext := make([]float64, n+2*r)
	for l := range lines {
		start := l * lineStep
		for i := range ext {
			j := min(max(i-r, 0), n-1)
			ext[i] = src[start+j*stride]
		}
		for i := range n {
			s := ext[i+r] * k[0]
			for j := r; j >= 1; j-- {
				s += (ext[i+r-j] + ext[i+r+j]) * k[j]
			}
			dst[start+i*stride] = s
		}
	}
}

// motionLength is motion-blur's kernel length in pixels, by severity: from a
// slight smear to more than a third of a 28-pixel image. A centred line of length
// L spreads a pixel with standard deviation L/√12, so MNIST-C's single
// setting (ImageMagick's one-sided Gaussian kernel, radius 10 and sigma 3,
// spread 1.8 pixels) lies at about severity 3 here.
var motionLength = [MaxSeverity]float64{2, 4, 6, 8, 10}

// motionBlur averages each pixel over a line segment of length L centred on
// it, at an angle θ drawn uniformly from [0, π) (one uniform per image). The
// segment is sampled at 2L+1 equally spaced points (every half pixel) by
// bilinear interpolation, repeating the edge pixel outside the image, so a
// constant image stays constant. Centring the kernel keeps the digit in
// place; translate covers displacement.
func motionBlur(dst, img []float64, h, w, severity int, rng *rand.Rand) {
	length := motionLength[severity-1]
	theta := rng.Float64() * math.Pi
	ux, uy := math.Cos(theta), math.Sin(theta)
	taps := 2*int(length) + 1
	for y := range h {
		for x := range w {
			s := 0.0
			for t := range taps {
				off := length * (float64(t)/float64(taps-1) - 0.5)
				s += bilinear(img, h, w, float64(x)+off*ux, float64(y)+off*uy, true)
			}
			dst[y*w+x] = clip01(s / float64(taps))
		}
	}
}
