package corrupt_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/glr-project/glr/corrupt"
)

// TestApplyErrors checks that every corruption rejects bad arguments with a
// descriptive error and leaves dst unchanged.
func TestApplyErrors(t *testing.T) {
	good := digits(1)
	bad := func(i int, v float64) []float64 {
		img := slices.Clone(good)
		img[i] = v
		return img
	}
	tests := []struct {
		name     string
		img      []float64
		dstLen   int
		h, w     int
		severity int
		rng      *rand.Rand
		want     string
	}{
		{"severity 0", good, side * side, side, side, 0, rng(1), "severity 0 out of range [1, 5]"},
		{"severity 6", good, side * side, side, side, 6, rng(1), "severity 6 out of range [1, 5]"},
		{"negative severity", good, side * side, side, side, -1, rng(1), "severity -1 out of range"},
		{"zero height", good, side * side, 0, side, 3, rng(1), "image size 0×28 is not positive"},
		{"negative width", good, side * side, side, -28, 3, rng(1), "image size 28×-28 is not positive"},
		{"size overflow", good, side * side, 1 << 40, 1 << 40, 3, rng(1), "overflows int"},
		{"img too short", good[:side*side-1], side * side, side, side, 3, rng(1), "len(img) = 783, want h*w = 28*28 = 784"},
		{"img for another size", good, side * side, 27, 28, 3, rng(1), "len(img) = 784, want h*w = 27*28 = 756"},
		{"dst too long", good, side*side + 1, side, side, 3, rng(1), "len(dst) = 785, want h*w = 28*28 = 784"},
		{"nil rng", good, side * side, side, side, 3, nil, "nil *rand.Rand"},
		{"NaN pixel", bad(30, math.NaN()), side * side, side, side, 3, rng(1), "pixel 30 (row 1, column 2) is NaN, outside [0,1]"},
		{"bright pixel", bad(783, 1.5), side * side, side, side, 3, rng(1), "pixel 783 (row 27, column 27) is 1.5, outside [0,1]"},
		{"negative pixel", bad(0, -0.01), side * side, side, side, 3, rng(1), "pixel 0 (row 0, column 0) is -0.01"},
		{"infinite pixel", bad(5, math.Inf(1)), side * side, side, side, 3, rng(1), "is +Inf"},
	}
	for _, name := range corrupt.Names() {
		c := lookup(t, name)
		for _, tt := range tests {
			dst := slices.Repeat([]float64{0.123}, tt.dstLen)
			err := c.Apply(dst, tt.img, tt.h, tt.w, tt.severity, tt.rng)
			if err == nil {
				t.Errorf("%s, %s: Apply succeeded, want an error", name, tt.name)
				continue
			}
			if want := "corrupt: " + name + ": "; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("%s, %s: error %q does not start with %q", name, tt.name, err, want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s, %s: error %q does not contain %q", name, tt.name, err, tt.want)
			}
			if slices.ContainsFunc(dst, func(v float64) bool { return v != 0.123 }) {
				t.Errorf("%s, %s: Apply wrote dst despite the error", name, tt.name)
			}
		}
	}
}

// TestApplySetMatchesApply checks that ApplySet corrupts image i exactly as
// Apply does with the stream rand.New(rand.NewPCG(seed, uint64(i))), into a
// new slice and in place.
func TestApplySetMatchesApply(t *testing.T) {
	const n, seed, severity = 7, 99, 3
	imgs := digits(n)
	size := side * side
	for _, name := range corrupt.Names() {
		c := lookup(t, name)
		want := make([]float64, len(imgs))
		for i := range n {
			r := rand.New(rand.NewPCG(seed, uint64(i)))
			if err := c.Apply(want[i*size:(i+1)*size], imgs[i*size:(i+1)*size], side, side, severity, r); err != nil {
				t.Fatal(err)
			}
		}
		got := make([]float64, len(imgs))
		if err := corrupt.ApplySet(c, got, imgs, n, side, side, severity, seed); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: ApplySet differs from Apply with the per-image streams", name)
		}
		inPlace := slices.Clone(imgs)
		if err := corrupt.ApplySet(c, inPlace, inPlace, n, side, side, severity, seed); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(inPlace, want) {
			t.Errorf("%s: ApplySet in place differs from ApplySet into a new slice", name)
		}
	}
	// An empty set is valid.
	if err := corrupt.ApplySet(lookup(t, "fog"), nil, nil, 0, side, side, 1, seed); err != nil {
		t.Errorf("ApplySet of no images: %v", err)
	}
}

// failing is a Corruption that fails on every image whose first pixel is 1.
type failing struct{}

var errFailing = errors.New("first pixel is 1")

func (failing) Name() string { return "failing" }

func (failing) Apply(dst, img []float64, _, _, _ int, _ *rand.Rand) error {
	if img[0] == 1 {
		return errFailing
	}
	copy(dst, img)
	return nil
}

// TestApplySetErrors checks ApplySet's argument checks, and that it reports
// the failure of the lowest-numbered image of a custom Corruption.
func TestApplySetErrors(t *testing.T) {
	const n = 3
	imgs := digits(n)
	size := side * side
	gauss := lookup(t, "gaussian")
	badPixel := slices.Clone(imgs)
	badPixel[2*size+10] = 2
	tests := []struct {
		name     string
		c        corrupt.Corruption
		dst      []float64
		imgs     []float64
		n, h, w  int
		severity int
		want     string
	}{
		{"nil corruption", nil, make([]float64, n*size), imgs, n, side, side, 1, "corrupt: ApplySet: nil Corruption"},
		{"severity 0", gauss, make([]float64, n*size), imgs, n, side, side, 0, "corrupt: ApplySet gaussian: severity 0 out of range [1, 5]"},
		{"severity 6", gauss, make([]float64, n*size), imgs, n, side, side, 6, "severity 6 out of range"},
		{"negative count", gauss, make([]float64, n*size), imgs, -1, side, side, 1, "negative image count -1"},
		{"zero width", gauss, make([]float64, n*size), imgs, n, side, 0, 1, "image size 28×0 is not positive"},
		{"count overflow", gauss, make([]float64, n*size), imgs, math.MaxInt / 2, side, side, 1, "overflow int"},
		{"imgs mismatch", gauss, make([]float64, n*size), imgs, n + 1, side, side, 1, "len(imgs) = 2352, want n*h*w = 4*28*28 = 3136"},
		{"dst mismatch", gauss, make([]float64, size), imgs, n, side, side, 1, "len(dst) = 784, want n*h*w = 3*28*28 = 2352"},
		{"bad pixel", gauss, make([]float64, n*size), badPixel, n, side, side, 1, "image 2: pixel 10 (row 0, column 10) is 2, outside [0,1]"},
	}
	for _, tt := range tests {
		err := corrupt.ApplySet(tt.c, tt.dst, tt.imgs, tt.n, tt.h, tt.w, tt.severity, 1)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: ApplySet error = %v, want it to contain %q", tt.name, err, tt.want)
		}
		if slices.ContainsFunc(tt.dst, func(v float64) bool { return v != 0 }) {
			t.Errorf("%s: ApplySet wrote dst despite the error", tt.name)
		}
	}

	const many = 40
	set := make([]float64, many*4)
	for _, i := range []int{37, 12, 25} {
		set[i*4] = 1
	}
	err := corrupt.ApplySet(failing{}, make([]float64, len(set)), set, many, 2, 2, 1, 1)
	if !errors.Is(err, errFailing) || !strings.Contains(err.Error(), "ApplySet failing: image 12: ") {
		t.Errorf("ApplySet with failing images 12, 25, 37: error %v, want image 12's, wrapping %v", err, errFailing)
	}
}
