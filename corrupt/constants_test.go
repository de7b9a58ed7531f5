package corrupt_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/glr-project/glr/corrupt"
)

// constant returns an h×w image whose pixels are all v.
func constant(h, w int, v float64) []float64 {
	return slices.Repeat([]float64{v}, h*w)
}

// TestGaussianStd checks the reference code's noise levels empirically on a gray image,
// and exactly against the stream's normal deviates.
func TestGaussianStd(t *testing.T) {
	const h, w = 100, 100
	img := constant(h, w, 0.5)
	c := lookup(t, "gaussian")
	for severity, std := range map[int]float64{1: 0.04, 2: 0.06, 3: 0.08, 4: 0.09, 5: 0.10} {
		dst := make([]float64, len(img))
		if err := c.Apply(dst, img, h, w, severity, rng(uint64(severity))); err != nil {
			t.Fatal(err)
		}
		var sum, sq float64
		for _, v := range dst {
			sum += v - 0.5
			sq += (v - 0.5) * (v - 0.5)
		}
		n := float64(len(dst))
		mean := sum / n
		got := math.Sqrt(sq/n - mean*mean)
		if math.Abs(got-std) > 0.04*std || math.Abs(mean) > 4*std/math.Sqrt(n) {
			t.Errorf("severity %d: noise mean %.5f, std %.5f; want 0, %.2f", severity, mean, got, std)
		}
		normal := rng(uint64(severity))
		for i, v := range dst {
			if want := 0.5 + std*normal.NormFloat64(); v != want {
				t.Fatalf("severity %d: pixel %d = %v, want 0.5 + %.2f·N = %v", severity, i, v, std, want)
			}
		}
	}
}

// TestImpulseFraction checks the reference code's salt-and-pepper amounts empirically:
// the fraction of pixels replaced, and that half of them become 1.
func TestImpulseFraction(t *testing.T) {
	const h, w = 200, 200
	img := constant(h, w, 0.5)
	c := lookup(t, "impulse")
	for severity, amount := range map[int]float64{1: 0.01, 2: 0.02, 3: 0.03, 4: 0.05, 5: 0.07} {
		dst := make([]float64, len(img))
		if err := c.Apply(dst, img, h, w, severity, rng(uint64(severity))); err != nil {
			t.Fatal(err)
		}
		var salt, pepper int
		for i, v := range dst {
			switch v {
			case 1:
				salt++
			case 0:
				pepper++
			case 0.5:
			default:
				t.Fatalf("severity %d: pixel %d = %v, want 0, 0.5 or 1", severity, i, v)
			}
		}
		n := float64(len(dst))
		flipped := float64(salt+pepper) / n
		if tol := 5 * math.Sqrt(amount*(1-amount)/n); math.Abs(flipped-amount) > tol {
			t.Errorf("severity %d: replaced fraction %.4f, want %.2f ± %.4f", severity, flipped, amount, tol)
		}
		if tol := 5 * math.Sqrt(0.25*float64(salt+pepper)); math.Abs(float64(salt-pepper)) > 2*tol {
			t.Errorf("severity %d: %d salt and %d pepper pixels, want about half each", severity, salt, pepper)
		}
	}
}

// TestShotMoments checks that shot noise is unbiased with variance x/λ.
func TestShotMoments(t *testing.T) {
	const h, w, x = 100, 100, 0.1
	img := constant(h, w, x)
	c := lookup(t, "shot")
	for severity, lambda := range map[int]float64{1: 60, 2: 25, 3: 12, 4: 5, 5: 3} {
		dst := make([]float64, len(img))
		if err := c.Apply(dst, img, h, w, severity, rng(uint64(severity))); err != nil {
			t.Fatal(err)
		}
		// Clipping at 1 needs a count above λ, which is rare enough for
		// x = 0.1 to leave the moments of Poisson(xλ)/λ almost untouched.
		var sum, sq float64
		for _, v := range dst {
			sum += v
			sq += v * v
		}
		n := float64(len(dst))
		mean := sum / n
		variance := sq/n - mean*mean
		want := x / lambda
		if math.Abs(mean-x) > 5*math.Sqrt(want/n) || math.Abs(variance-want) > 0.1*want {
			t.Errorf("severity %d: mean %.4f, variance %.5f; want %.2f, %.5f", severity, mean, variance, x, want)
		}
	}
}

// TestContrastFormula checks (x − mean)·c + mean on a known image.
func TestContrastFormula(t *testing.T) {
	img := []float64{0, 0.25, 0.75, 1} // mean 0.5
	c := lookup(t, "contrast")
	for severity, factor := range map[int]float64{1: 0.75, 2: 0.5, 3: 0.4, 4: 0.3, 5: 0.15} {
		dst := make([]float64, len(img))
		if err := c.Apply(dst, img, 2, 2, severity, noRand()); err != nil {
			t.Fatal(err)
		}
		for i, x := range img {
			if want := (x-0.5)*factor + 0.5; math.Abs(dst[i]-want) > 1e-15 {
				t.Errorf("severity %d: pixel %d = %v, want (%v − 0.5)·%v + 0.5 = %v", severity, i, dst[i], x, factor, want)
			}
		}
	}
	// The mean is over the whole image: a dim, mostly black image stays dim.
	img = []float64{0, 0, 0, 1}
	dst := make([]float64, 4)
	if err := c.Apply(dst, img, 2, 2, 2, noRand()); err != nil {
		t.Fatal(err)
	}
	if want := []float64{0.125, 0.125, 0.125, 0.625}; !slices.Equal(dst, want) {
		t.Errorf("contrast severity 2 of %v = %v, want %v", img, dst, want)
	}
}

// noRand returns a generator for corruptions that should not use it.
func noRand() *rand.Rand { return rand.New(rand.NewPCG(0, 0)) }

// TestBrightness checks x + c, clipped.
func TestBrightness(t *testing.T) {
	img := []float64{0, 0.5, 0.75, 1}
	c := lookup(t, "brightness")
	for severity, shift := range map[int]float64{1: 0.1, 2: 0.2, 3: 0.3, 4: 0.4, 5: 0.5} {
		dst := make([]float64, len(img))
		if err := c.Apply(dst, img, 1, 4, severity, noRand()); err != nil {
			t.Fatal(err)
		}
		for i, x := range img {
			if want := math.Min(1, x+shift); dst[i] != want {
				t.Errorf("severity %d: pixel %d = %v, want %v", severity, i, dst[i], want)
			}
		}
	}
}

// TestTranslateMovesPixels checks that translate moves a single bright
// pixel diagonally by the severity's whole number of pixels.
func TestTranslateMovesPixels(t *testing.T) {
	const h, w, y0, x0 = 15, 15, 7, 7
	img := make([]float64, h*w)
	img[y0*w+x0] = 1
	c := lookup(t, "translate")
	for severity := corrupt.MinSeverity; severity <= corrupt.MaxSeverity; severity++ {
		for seed := range uint64(8) {
			dst := make([]float64, len(img))
			if err := c.Apply(dst, img, h, w, severity, rng(seed)); err != nil {
				t.Fatal(err)
			}
			var lit []int
			for i, v := range dst {
				if v != 0 {
					lit = append(lit, i)
				}
			}
			if len(lit) != 1 || dst[lit[0]] != 1 {
				t.Fatalf("severity %d seed %d: pixels %v lit, want exactly one at 1", severity, seed, lit)
			}
			dy, dx := lit[0]/w-y0, lit[0]%w-x0
			if abs(dx) != severity || abs(dy) != severity {
				t.Errorf("severity %d seed %d: moved by (%d, %d), want (±%d, ±%d)", severity, seed, dx, dy, severity, severity)
			}
		}
	}
}

// abs returns |x|.
func abs(x int) int { return max(x, -x) }

// TestGeometricCentre checks that rotate, shear and scale keep the centre of
// an odd-sized image in place and preserve a constant image's interior.
func TestGeometricCentre(t *testing.T) {
	const h, w = 27, 27
	img := make([]float64, h*w)
	img[13*w+13] = 1
	for _, name := range []string{"rotate", "shear", "scale"} {
		c := lookup(t, name)
		for severity := corrupt.MinSeverity; severity <= corrupt.MaxSeverity; severity++ {
			dst := make([]float64, len(img))
			if err := c.Apply(dst, img, h, w, severity, rng(5)); err != nil {
				t.Fatal(err)
			}
			if dst[13*w+13] != 1 {
				t.Errorf("%s severity %d: centre pixel = %v, want 1", name, severity, dst[13*w+13])
			}
		}
	}
}

// TestGlassBlurGLRAdvVertical checks the reference code's quirk end to end:
// its blurs run down the columns only. On an h×2 image the shuffling loops are empty
// (Python's range(2-1, 1, -1)), so a single bright pixel in column 0 must
// spread along column 0 exactly as blur, quantise, blur predicts, and column
// 1 must stay black; the 2-D glass-blur lights column 1 too.
func TestGlassBlurGLRAdvVertical(t *testing.T) {
	const h, w, row = 28, 2, 14
	img := make([]float64, h*w)
	img[row*w] = 1

	// sigma 0.4 (severity 3): radius int(4·0.4 + 0.5) = 2.
	k := []float64{1, math.Exp(-0.5 / 0.16), math.Exp(-0.5 * 4 / 0.16)}
	sum := k[2] + (k[1] + k[0] + k[1] + k[2])
	for i := range k {
		k[i] /= sum
	}
	weight := func(d int) float64 {
		if abs(d) > 2 {
			return 0
		}
		return k[abs(d)]
	}
	want := make([]float64, h)
	for y := range h {
		for j := -2; j <= 2; j++ {
			q := math.Floor(255 * weight(j)) // np.uint8 truncation of the first blur
			want[y] += q / 255 * weight(y-(row+j))
		}
	}

	dst := make([]float64, len(img))
	if err := lookup(t, "glass-blur-glr-adv").Apply(dst, img, h, w, 3, rng(1)); err != nil {
		t.Fatal(err)
	}
	for y := range h {
		if got := dst[y*w]; math.Abs(got-want[y]) > 1e-15 {
			t.Errorf("row %d, column 0 = %v, want %v", y, got, want[y])
		}
		if got := dst[y*w+1]; got != 0 {
			t.Errorf("row %d, column 1 = %v, want 0: the reference code's blur is vertical only", y, got)
		}
	}
	if want[row-3] == 0 || want[row+4] != 0 { // blur radii 2 + 2, but the first blur's outer taps truncate to 0
		t.Fatalf("test expectation is wrong: %v", want)
	}

	if err := lookup(t, "glass-blur").Apply(dst, img, h, w, 3, rng(1)); err != nil {
		t.Fatal(err)
	}
	if dst[row*w+1] == 0 {
		t.Errorf("glass-blur left the neighbour of a bright pixel black; want a 2-D blur")
	}
}
