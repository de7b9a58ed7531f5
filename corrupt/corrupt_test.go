package corrupt_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/glr-project/glr/corrupt"
)

const side = 28 // MNIST's image side

// deterministic lists the corruptions that use no randomness.
var deterministic = map[string]bool{"scale": true, "brightness": true, "contrast": true}

// digits returns n synthetic side×side digit-like images, concatenated: each
// holds one to three thick, soft-edged strokes (quadratic Bézier curves or
// elliptic arcs) inside the central 20×20 box, like an MNIST digit.
func digits(n int) []float64 {
	rng := rand.New(rand.NewPCG(2019, 6))
	out := make([]float64, n*side*side)
	for k := range n {
		var pts [][2]float64
		for range 1 + rng.IntN(3) {
			if rng.IntN(2) == 0 {
				// Quadratic Bézier through three random points.
				var p [3][2]float64
				for i := range p {
					p[i] = [2]float64{4 + 20*rng.Float64(), 4 + 20*rng.Float64()}
				}
				for t := range 41 {
					u := float64(t) / 40
					a, b, c := (1-u)*(1-u), 2*u*(1-u), u*u
					pts = append(pts, [2]float64{
						a*p[0][0] + b*p[1][0] + c*p[2][0],
						a*p[0][1] + b*p[1][1] + c*p[2][1],
					})
				}
			} else {
				// Elliptic arc around a point near the centre.
				cx, cy := 11+6*rng.Float64(), 11+6*rng.Float64()
				rx, ry := 3+4*rng.Float64(), 3+6*rng.Float64()
				start, span := 2*math.Pi*rng.Float64(), math.Pi*(1+rng.Float64())
				for t := range 61 {
					a := start + span*float64(t)/60
					pts = append(pts, [2]float64{cx + rx*math.Cos(a), cy + ry*math.Sin(a)})
				}
			}
		}
		img := out[k*side*side : (k+1)*side*side]
		for y := range side {
			for x := range side {
				d := math.Inf(1)
				for _, p := range pts {
					d = math.Min(d, math.Hypot(float64(x)-p[0], float64(y)-p[1]))
				}
				img[y*side+x] = math.Max(0, math.Min(1, 1.8-d))
			}
		}
	}
	return out
}

// rng returns a new generator seeded with seed.
func rng(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0)) }

// lookup returns the named corruption or fails the test.
func lookup(t *testing.T, name string) corrupt.Corruption {
	t.Helper()
	c, err := corrupt.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name() != name {
		t.Fatalf("Lookup(%q).Name() = %q", name, c.Name())
	}
	return c
}

func TestNames(t *testing.T) {
	want := []string{
		"gaussian", "shot", "impulse",
		"glass-blur-glr-adv", "glass-blur", "motion-blur",
		"rotate", "shear", "scale", "translate",
		"brightness", "contrast", "fog",
	}
	got := corrupt.Names()
	if !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
	got[0] = "changed"
	if corrupt.Names()[0] != "gaussian" {
		t.Error("Names() returned a slice that aliases package state")
	}
}

func TestLookupUnknown(t *testing.T) {
	for _, name := range []string{"", "x", "Gaussian", "glass_blur"} {
		c, err := corrupt.Lookup(name)
		if err == nil || c != nil {
			t.Errorf("Lookup(%q) = %v, %v; want an error", name, c, err)
			continue
		}
		want := `unknown corruption "` + name + `" (want gaussian | shot | impulse | `
		if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "| fog)") {
			t.Errorf("Lookup(%q) error = %q, want it to contain %q and list every name", name, err, want)
		}
	}
}

// TestDeterminism checks that a seed fixes the images, and that another seed
// changes them exactly for the corruptions that use randomness.
func TestDeterminism(t *testing.T) {
	const n = 4
	imgs := digits(n)
	for _, name := range corrupt.Names() {
		c := lookup(t, name)
		for severity := corrupt.MinSeverity; severity <= corrupt.MaxSeverity; severity++ {
			a := make([]float64, len(imgs))
			b := make([]float64, len(imgs))
			other := make([]float64, len(imgs))
			for _, run := range []struct {
				dst  []float64
				seed uint64
			}{{a, 1}, {b, 1}, {other, 2}} {
				if err := corrupt.ApplySet(c, run.dst, imgs, n, side, side, severity, run.seed); err != nil {
					t.Fatal(err)
				}
			}
			if !slices.Equal(a, b) {
				t.Errorf("%s severity %d: the same seed gave different images", name, severity)
			}
			if same := slices.Equal(a, other); same != deterministic[name] {
				t.Errorf("%s severity %d: seeds 1 and 2 gave the same images: %v, want %v", name, severity, same, deterministic[name])
			}
		}
	}
}

// TestRange checks that every output is finite, in [0,1] and of the right
// length, for digits and for extreme and odd-sized images.
func TestRange(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	noise := make([]float64, 9*13)
	for i := range noise {
		noise[i] = r.Float64()
	}
	binary := make([]float64, 9*13)
	for i := range binary {
		binary[i] = float64(r.IntN(2))
	}
	images := []struct {
		name string
		img  []float64
		h, w int
	}{
		{"digit", digits(1), side, side},
		{"black", make([]float64, side*side), side, side},
		{"white", slices.Repeat([]float64{1}, side*side), side, side},
		{"noise 9x13", noise, 9, 13},
		{"binary 13x9", binary, 13, 9},
		{"1x1", []float64{0.7}, 1, 1},
		{"2x5", []float64{0, 1, 0.5, 0.25, 1, 1, 0, 0.3, 0.9, 0.1}, 2, 5},
		{"1x600", slices.Repeat(noise[:100], 6), 1, 600},
	}
	for _, name := range corrupt.Names() {
		c := lookup(t, name)
		for _, im := range images {
			for severity := corrupt.MinSeverity; severity <= corrupt.MaxSeverity; severity++ {
				dst := make([]float64, len(im.img))
				if err := c.Apply(dst, im.img, im.h, im.w, severity, rng(uint64(severity))); err != nil {
					t.Fatalf("%s on %s, severity %d: %v", name, im.name, severity, err)
				}
				if len(dst) != im.h*im.w {
					t.Fatalf("%s on %s: length changed", name, im.name)
				}
				for i, v := range dst {
					if !(v >= 0 && v <= 1) {
						t.Fatalf("%s on %s, severity %d: pixel %d = %v, outside [0,1]", name, im.name, severity, i, v)
					}
				}
			}
		}
	}
}

// TestInPlace checks that dst may be img itself.
func TestInPlace(t *testing.T) {
	img := digits(1)
	for _, name := range corrupt.Names() {
		c := lookup(t, name)
		want := make([]float64, len(img))
		if err := c.Apply(want, img, side, side, 4, rng(9)); err != nil {
			t.Fatal(err)
		}
		got := slices.Clone(img)
		if err := c.Apply(got, got, side, side, 4, rng(9)); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: corrupting in place differs from corrupting into a new slice", name)
		}
	}
}

// meanDistances returns, for severities 1..5 (index 0 unused), the mean L2
// distance between the n clean images imgs and their corruption by c with
// ApplySet and seed 42.
func meanDistances(t *testing.T, c corrupt.Corruption, imgs []float64, n int) [corrupt.MaxSeverity + 1]float64 {
	t.Helper()
	var dist [corrupt.MaxSeverity + 1]float64
	dst := make([]float64, len(imgs))
	for severity := corrupt.MinSeverity; severity <= corrupt.MaxSeverity; severity++ {
		if err := corrupt.ApplySet(c, dst, imgs, n, side, side, severity, 42); err != nil {
			t.Fatal(err)
		}
		for k := range n {
			s := 0.0
			for i := k * side * side; i < (k+1)*side*side; i++ {
				d := dst[i] - imgs[i]
				s += d * d
			}
			dist[severity] += math.Sqrt(s) / float64(n)
		}
	}
	return dist
}

// TestSeverityMonotone checks that, averaged over a fixed set of synthetic
// digits, the L2 distance between clean and corrupted images grows strictly
// with severity, for every corruption but glass-blur-glr-adv (see
// TestGlassBlurGLRAdvDamage).
func TestSeverityMonotone(t *testing.T) {
	const n = 20
	imgs := digits(n)
	for _, name := range corrupt.Names() {
		if name == "glass-blur-glr-adv" {
			continue
		}
		dist := meanDistances(t, lookup(t, name), imgs, n)
		t.Logf("%-16s mean L2 distance by severity: %.3f", name, dist[1:])
		for s := corrupt.MinSeverity + 1; s <= corrupt.MaxSeverity; s++ {
			if !(dist[s] > dist[s-1]) {
				t.Errorf("%s: mean L2 distance %.4f at severity %d is not above %.4f at severity %d", name, dist[s], s, dist[s-1], s-1)
			}
		}
	}
}

// TestGlassBlurGLRAdvDamage pins down why glass-blur-glr-adv, whose
// constants are the reference code's, is the one corruption whose damage
// does not grow strictly with severity: more shuffling (two iterations at severities 4 and 5, one below)
// adds damage, while a larger blur at the same shuffling (severity 1 to 3, 4
// to 5) smooths the shuffled pixels back towards the clean image.
func TestGlassBlurGLRAdvDamage(t *testing.T) {
	const n = 20
	dist := meanDistances(t, lookup(t, "glass-blur-glr-adv"), digits(n), n)
	t.Logf("glass-blur-glr-adv mean L2 distance by severity: %.3f", dist[1:])
	for _, two := range []int{4, 5} {
		for _, one := range []int{1, 2, 3} {
			if !(dist[two] > dist[one]) {
				t.Errorf("distance %.4f at severity %d (two iterations) is not above %.4f at severity %d (one)", dist[two], two, dist[one], one)
			}
		}
	}
	for _, pair := range [][2]int{{1, 3}, {4, 5}} {
		if less, more := pair[0], pair[1]; !(dist[more] < dist[less]) {
			t.Errorf("distance %.4f at severity %d (more blur) is not below %.4f at severity %d", dist[more], more, dist[less], less)
		}
	}
}
