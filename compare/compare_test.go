package compare

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glr-project/glr/configs"
	"github.com/glr-project/glr/datasets"
)

// imageSet returns n seeded 1×h×w images of classes classes: class c
// brightens its images from left to right with slope c, under Gaussian
// pixel noise.
func imageSet(t testing.TB, n, h, w, classes int, seed uint64) *datasets.Set {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 2))
	pix := make([]byte, 0, n*h*w)
	labels := make([]int, n)
	for i := range labels {
		c := rng.IntN(classes)
		labels[i] = c
		for j := 0; j < h*w; j++ {
			v := 60*float64(c)*float64(j%w)/float64(w) + 40*rng.NormFloat64() + 60
			pix = append(pix, byte(min(255, max(0, v))))
		}
	}
	s, err := datasets.NewSet("generated", h, w, classes, pix, labels)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func experiment(t testing.TB, toml string, sets ...string) *configs.Experiment {
	t.Helper()
	exp, err := configs.Parse("test.toml", []byte(toml), sets...)
	if err != nil {
		t.Fatal(err)
	}
	return exp
}

// smooth is a 144-5-3 sigmoid network with Gaussian noise, and GLR with the
// clean baseline.
const smooth = `
name = "smooth"
seed = 3
[model]
hidden = [5]
activation = "sigmoid"
bias = "all"
[noise]
distribution = "gaussian"
scale = 0.5
[estimator]
kind = "glr"
copies = 20
baseline = "clean"
`

// conv is smooth with one convolution layer (2 filters of 4×4, stride 4:
// 3×3 positions on a 12×12 image) instead of the dense hidden layer.
const conv = `
name = "conv"
seed = 3
[model]
conv = [{filters = 2, kernel = 4, stride = 4}]
hidden = []
activation = "sigmoid"
bias = "all"
[noise]
distribution = "gaussian"
scale = 0.5
[estimator]
kind = "glr"
copies = 20
baseline = "clean"
`

// pooled has two convolution layers whose noise follows a max pooling
// (noise_after = "pool"): 2 filters of 3×3, stride 3, pooled 2×2 (2×2
// pooled positions of a 12×12 image), then 2 filters of 1×1 pooled 2×2 (one
// position), so the second layer's maxima move with the first layer's
// noise. Its units are tanh: with sigmoid units the first layer's gradient
// is a sixth as large, and 8,000 draws leave its mean GLR estimate a
// relative error of about 0.15 (measured 0.24) from sampling alone.
const pooled = `
name = "pooled"
seed = 3
[model]
conv = [{filters = 2, kernel = 3, stride = 3, pool = 2, noise_after = "pool"}, {filters = 2, kernel = 1, pool = 2, noise_after = "pool"}]
hidden = []
activation = "tanh"
bias = "all"
[noise]
distribution = "gaussian"
scale = 0.5
[estimator]
kind = "glr"
copies = 20
baseline = "clean"
`

// TestGradCheckAgrees: with many draws, the mean GLR estimate and the mean
// BP-through-noise gradient agree at every site, in direction (cosine) and
// in size (relative error, norms), on a dense and on a convolutional
// network of float64 with Gaussian noise.
//
// Both means estimate the same gradient of the smoothed loss, so what
// separates them is sampling error. From the reported variances, the GLR
// mean's error relative to the BP norm is about 0.01 for the dense network
// (1,000 draws) and 0.05 for the convolution layer (8,000 draws; its 18
// noise values per example make one estimate noisier); with these seeds the
// measured relative errors are 0.014 and 0.069, cosines 0.9999 and 0.998.
// For the pooled network's first layer (8,000 draws; 20 parameters of
// variance 0.008 against a gradient of norm 0.098) the expected error is
// 0.046; measured 0.039, cosine 0.9999.
// A cosine of 0.99 and a relative error of 0.15 leave two to three
// standard errors of room, while an estimator off by a factor of 1.2 in
// scale, or biased by a tenth of the gradient, fails them.
func TestGradCheckAgrees(t *testing.T) {
	cases := []struct {
		name   string
		toml   string
		draws  int
		layers []string
	}{
		{"dense", smooth, 1000, []string{"layer1", "layer2"}},
		{"conv", conv, 8000, []string{"layer1", "layer2"}},
		{"pooled", pooled, 8000, []string{"layer1", "layer2", "layer3"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if testing.Short() && c.draws > 1000 {
				t.Skip("8,000 draws")
			}
			r, err := GradCheck(experiment(t, c.toml), imageSet(t, 100, 12, 12, 3, 1), GradCheckOptions{Draws: c.draws, Batch: 4})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Layers) != len(c.layers) {
				t.Fatalf("%d layers, want %v", len(r.Layers), c.layers)
			}
			for i, l := range r.Layers {
				if l.Cosine == nil {
					t.Fatalf("%s: no cosine", l.Name)
				}
				t.Logf("%s: cosine %.4f, relative error %.4f, variance %.3g, |GLR| %.4g, |BP| %.4g", l.Name, *l.Cosine, *l.RelativeError, l.Variance, l.EstimateNorm, l.BPNorm)
				if l.Name != c.layers[i] {
					t.Errorf("layer %d is %s, want %s", i, l.Name, c.layers[i])
				}
				if ratio := l.EstimateNorm / l.BPNorm; *l.Cosine < 0.99 || *l.RelativeError > 0.15 || ratio < 0.9 || ratio > 1.1 || l.Variance <= 0 {
					t.Errorf("%s: cosine %.4f, relative error %.4f, norm ratio %.3f, variance %g; want ≥ 0.99, ≤ 0.15, within 10 %% and positive",
						l.Name, *l.Cosine, *l.RelativeError, ratio, l.Variance)
				}
			}
		})
	}
}

func TestGradCheckJSON(t *testing.T) {
	r, err := GradCheck(experiment(t, smooth), imageSet(t, 20, 12, 12, 3, 1), GradCheckOptions{Draws: 10, Batch: 4})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Estimator string                       `json:"estimator"`
		Layers    []map[string]json.RawMessage `json:"layers"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Estimator != "glr K=20 clean" || len(got.Layers) != 2 {
		t.Fatalf("report %s", buf.String())
	}
	for _, l := range got.Layers {
		for _, k := range []string{"name", "cosine", "relative_error", "variance", "estimate_norm", "bp_norm"} {
			if _, ok := l[k]; !ok {
				t.Errorf("a layer lacks %q: %s", k, buf.String())
			}
		}
	}
	buf.Reset()
	if err := r.WriteText(&buf); err != nil || !strings.Contains(buf.String(), "layer1") || !strings.Contains(buf.String(), "relative error") {
		t.Fatalf("text report (%v):\n%s", err, buf.String())
	}
}

func TestGradCheckBadInput(t *testing.T) {
	cases := []struct {
		name string
		sets []string
		opts GradCheckOptions
		want string
	}{
		{"one draw", nil, GradCheckOptions{Draws: 1, Batch: 4}, "gradcheck: -draws must be at least 2, got 1"},
		{"no batch", nil, GradCheckOptions{Draws: 5, Batch: 0}, "gradcheck: -batch must be at least 1, got 0"},
		{"batch too big", nil, GradCheckOptions{Draws: 5, Batch: 21}, "-batch must be in [1, 20], got 21"},
		{"threshold", []string{`model.activation="threshold"`}, GradCheckOptions{Draws: 5, Batch: 4}, "backpropagation through the noise is no reference here (the threshold activation's derivative is zero)"},
		{"zero-one loss", []string{`loss.kind="zero-one"`}, GradCheckOptions{Draws: 5, Batch: 4}, "backpropagation through the noise is no reference here (the zero-one loss has no derivative)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			exp := experiment(t, smooth, c.sets...)
			_, err := GradCheck(exp, imageSet(t, 20, 12, 12, 3, 1), c.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			if c.opts.Batch <= 20 {
				if err := CheckGradCheck(exp, c.opts); err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("CheckGradCheck: err = %v, want %q", err, c.want)
				}
			}
		})
	}
}

// twoArms compares GLR with two baselines.
const twoArms = smooth + `
[[arms]]
name = "clean"
[[arms]]
name = "loo"
[arms.estimator]
baseline = "leave-one-out"
`

// TestCompare runs two arms at 2 and 4 copies and checks every row, the
// reference (backpropagation through the noise for this sigmoid network),
// the fits and the files.
func TestCompare(t *testing.T) {
	r, err := Compare(experiment(t, twoArms), imageSet(t, 50, 12, 12, 3, 1), Options{Copies: []int{2, 4}, Draws: 30, Batch: 8, RefDraws: 200})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.References) != 1 || !strings.HasPrefix(r.References[0].Method, "backpropagation through the noise") || strings.Join(r.References[0].Arms, ",") != "clean,loo" {
		t.Fatalf("references %+v", r.References)
	}
	if len(r.Rows) != 2*2*2 {
		t.Fatalf("%d rows, want 8 (2 arms × 2 copies × 2 layers)", len(r.Rows))
	}
	for _, row := range r.Rows {
		rows := 8 * row.Copies // a batch of 8, K copies each
		if row.Arm == "clean" {
			rows += 8 // and the clean pass
		}
		if row.Kind != "glr" || (row.Copies != 2 && row.Copies != 4) || row.Cosine == nil || *row.Cosine <= 0 || *row.Cosine > 1 ||
			row.Variance <= 0 || row.Rows != rows || row.Seconds <= 0 || math.Abs(row.VarianceRows-row.Variance*float64(row.Rows)) > 1e-12*row.VarianceRows {
			t.Errorf("row %+v", row)
		}
	}
	// One estimate's variance falls with the copies: for each arm and layer,
	// K = 4 below K = 2 (about half; the 30 draws estimate it within ±30 %).
	for i := 0; i < len(r.Rows); i += 4 {
		for l := 0; l < 2; l++ {
			k2, k4 := r.Rows[i+l], r.Rows[i+2+l]
			if k2.Copies != 2 || k4.Copies != 4 || k4.Layer != k2.Layer || k4.Variance >= k2.Variance {
				t.Errorf("%s %s: variance %.3g at K=%d, %.3g at K=%d", k2.Arm, k2.Layer, k2.Variance, k2.Copies, k4.Variance, k4.Copies)
			}
		}
	}
	if len(r.Fits) != 4 {
		t.Fatalf("%d fits, want 4", len(r.Fits))
	}
	for _, f := range r.Fits {
		if math.IsNaN(f.C) || math.IsInf(f.C, 0) || f.C <= 0 {
			t.Errorf("fit %+v: want a finite positive c", f)
		}
	}
	dir := t.TempDir()
	if err := r.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"compare.json", "compare.md", "variance-vs-copies.png"} {
		if info, err := os.Stat(filepath.Join(dir, f)); err != nil || info.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestCompareThresholdReference: backpropagation cannot differentiate a
// threshold network, so its reference is GLR with the clean baseline.
func TestCompareThresholdReference(t *testing.T) {
	exp := experiment(t, smooth, `model.activation="threshold"`)
	r, err := Compare(exp, imageSet(t, 20, 12, 12, 3, 1), Options{Draws: 5, Batch: 4, RefDraws: 20})
	if err != nil {
		t.Fatal(err)
	}
	if m := r.References[0].Method; !strings.HasPrefix(m, "glr with the clean baseline") || !strings.Contains(m, "backpropagation cannot differentiate") {
		t.Fatalf("reference %q", m)
	}
	if len(r.Rows) != 2 || r.Rows[0].Copies != 20 {
		t.Fatalf("rows %+v", r.Rows)
	}
}

func TestCompareBadInput(t *testing.T) {
	cases := []struct {
		name string
		opts Options
		want string
	}{
		{"one draw", Options{Draws: 1}, "compare: -draws must be at least 2, got 1"},
		{"one reference draw", Options{RefDraws: 1}, "compare: -ref-draws must be at least 2, got 1"},
		{"negative batch", Options{Batch: -1}, "compare: -batch must be at least 1, got -1"},
		{"zero copies", Options{Copies: []int{2, 0}}, "compare: -copies: 0 is outside [1, "},
		{"10^9 copies", Options{Copies: []int{1000000000}}, "compare: -copies: 1000000000 is outside [1, "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := Check(experiment(t, twoArms), c.opts); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Check: err = %v, want %q", err, c.want)
			}
			if _, err := Compare(experiment(t, twoArms), imageSet(t, 20, 12, 12, 3, 1), c.opts); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Compare: err = %v, want %q", err, c.want)
			}
		})
	}
	if err := Check(experiment(t, `name = "bp"
[estimator]
kind = "bp"
`), Options{Copies: []int{2}}); err == nil || !strings.Contains(err.Error(), "arm bp with 2 copies: estimator.copies") {
		t.Errorf("bp with -copies: err = %v", err)
	}
}

// siteClean is smooth with three arms: the raw estimator, the clean
// baseline, and the site-clean baseline.
const siteClean = smooth + `
[[arms]]
name = "none"
[arms.estimator]
baseline = "none"
[[arms]]
name = "clean"
[[arms]]
name = "site-clean"
[arms.estimator]
baseline = "site-clean"
`

// TestCompareSiteClean: the site-clean baseline costs one pass per site
// more than the raw estimator and removes from each site's estimate the
// variation of the loss that the other site's noise causes: at the hidden
// layer, whose estimate the output noise dominates, its variance is far
// below the clean baseline's (which removes only the mean), and it stays
// unbiased: its mean is as close to the reference as the clean baseline's.
// With 400 draws each variance is estimated within about ±10 % (the
// estimates are sums of many weakly dependent terms, so near Gaussian:
// relative standard error √(2/400) ≈ 7 %), far inside the factors tested.
func TestCompareSiteClean(t *testing.T) {
	r, err := Compare(experiment(t, siteClean), imageSet(t, 50, 12, 12, 3, 1), Options{Copies: []int{4}, Draws: 400, Batch: 8, RefDraws: 2000})
	if err != nil {
		t.Fatal(err)
	}
	byArm := map[string][]Row{}
	for _, row := range r.Rows {
		byArm[row.Arm] = append(byArm[row.Arm], row)
		t.Logf("%-10s %s: variance %.3g, rows %d, relative error %.3f", row.Arm, row.Layer, row.Variance, row.Rows, *row.RelativeError)
	}
	none, clean, site := byArm["none"], byArm["clean"], byArm["site-clean"]
	if len(none) != 2 || len(clean) != 2 || len(site) != 2 {
		t.Fatalf("rows %+v", r.Rows)
	}
	if site[0].Rows != 3*8*4 {
		t.Errorf("site-clean costs %d rows, want 96 (the pass and one per site)", site[0].Rows)
	}
	if site[0].Variance > clean[0].Variance/3 || clean[0].Variance > none[0].Variance {
		t.Errorf("hidden-layer variance: site-clean %.3g, clean %.3g, none %.3g; want site-clean below a third of clean, clean below none",
			site[0].Variance, clean[0].Variance, none[0].Variance)
	}
	for l := range site {
		if *site[l].RelativeError > 1.5**clean[l].RelativeError+0.02 {
			t.Errorf("%s: site-clean relative error %.3f, clean %.3f", site[l].Layer, *site[l].RelativeError, *clean[l].RelativeError)
		}
	}
}
