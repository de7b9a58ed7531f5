package estimators

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/glr-project/glr/graph"
	"github.com/glr-project/glr/layers"
	"github.com/glr-project/glr/score"
	"gorgonia.org/tensor"
)

// TestPooledSiteGradient checks GLR's estimate at convolution sites whose
// noise follows the pooling (noise_after = "pool") against a direct loop:
// from the pass's own losses, scores and patch rows, the loop recomputes
// each pre-activation from the kernel, finds each window's maximum itself
// (or spreads over the window, for average pooling) and sums
// w·ψ·patch over the copies, images, pooled positions and filters. The
// second conv layer's input carries the first layer's noise when every site
// is noisy at once, so there the maxima differ from copy to copy; with
// layer-wise injection each pass's pooled site sits below the copies.
func TestPooledSiteGradient(t *testing.T) {
	for _, kind := range []graph.PoolKind{graph.MaxPool, graph.AvgPool} {
		for _, layerwise := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/layerwise=%v", kind, layerwise), func(t *testing.T) {
				in := graph.Image{C: 1, H: 8, W: 8}
				convs := []layers.Conv{
					{Filters: 2, Kernel: 3, Pool: 2, PoolKind: kind, NoiseAfterPool: true},
					{Filters: 3, Kernel: 2, Pool: 2, PoolKind: kind, NoiseAfterPool: true},
				}
				ls, err := layers.CNN(in, convs, nil, layers.Sigmoid, layers.BiasAll, layers.Glorot, 2)
				if err != nil {
					t.Fatal(err)
				}
				spec := graph.Spec{Inputs: in.Len(), Classes: 2, Batch: 3, Layers: ls, Loss: graph.CrossEntropy,
					Noise: score.Gaussian, Scales: []float64{0.5}, Seed: 5}
				if spec.Params, err = graph.NewParams(spec); err != nil {
					t.Fatal(err)
				}
				rng := rand.New(rand.NewPCG(2, 3))
				batch := graph.Rows{Dim: in.Len(), Labels: []int{0, 1, 1}}
				for range 3 * in.Len() {
					batch.X = append(batch.X, 2*rng.Float64()-1)
				}
				est, err := newGLR(spec, 2, score.None, score.IID, false, layerwise)
				if err != nil {
					t.Fatal(err)
				}
				grads, err := NewGradients(spec)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := est.Estimate(batch, 7, grads); err != nil {
					t.Fatal(err)
				}
				checked := 0
				for _, p := range est.passes {
					for _, s := range p.sites {
						if !s.site.Pooled() {
							continue
						}
						wantK, wantB := pooledDirect(t, p, s, ls[s.site.Index].(layers.Conv), kind)
						for name, pair := range map[string][2][]float64{
							"K": {grads[s.weight].Float64s(), wantK}, "b": {grads[s.bias].Float64s(), wantB},
						} {
							got, want := pair[0], pair[1]
							scale := 0.0
							for _, v := range want {
								scale = math.Max(scale, math.Abs(v))
							}
							if scale == 0 {
								t.Fatalf("%s/%s: the direct loop gives a zero gradient; the check would be empty", s.site.Name, name)
							}
							for i := range want {
								// Sums of a few hundred products in another order.
								if math.Abs(got[i]-want[i]) > 1e-12*scale {
									t.Fatalf("%s/%s[%d] = %.15g, direct loop %.15g", s.site.Name, name, i, got[i], want[i])
								}
							}
						}
						checked++
					}
				}
				if checked != 2 {
					t.Fatalf("checked %d pooled sites, want 2", checked)
				}
			})
		}
	}
}

// pooledDirect recomputes the kernel and bias gradients of the pooled site
// s of pass p, the site of conv layer c (its In set, as CNN returns it), by
// direct loops (baseline none: each row weighs L/M).
func pooledDirect(t *testing.T, p *glrPass, s *glrSite, c layers.Conv, kind graph.PoolKind) (gK, gb []float64) {
	t.Helper()
	o, err := graph.ConvOut(c.In, c.Filters, c.Kernel, c.Stride, c.Pad)
	if err != nil {
		t.Fatal(err)
	}
	x, err := p.prog.Dense(s.site.Input)
	if err != nil {
		t.Fatal(err)
	}
	xs := x.Float64s()
	k := s.site.Weight.Value().(*tensor.Dense).Float64s()
	b := s.site.Bias.Value().(*tensor.Dense).Float64s()
	psi := s.site.Op.Score().Float64s()
	in, f := s.in, s.out
	positions, pooledW := o.H*o.W, o.W/c.Pool
	if want := (o.H / c.Pool) * pooledW; s.group != want {
		t.Fatalf("%d pooled positions per image, want %d", s.group, want)
	}
	images := s.inRows / s.group
	if x.Shape()[0] != images*positions {
		t.Fatalf("%d patch rows, want %d images of %d positions", x.Shape()[0], images, positions)
	}
	copies := s.rows / s.inRows
	m := float64(len(p.losses))
	pre := func(img, pos, ch int) float64 {
		v := b[ch]
		for tap := range in {
			v += xs[(img*positions+pos)*in+tap] * k[tap*f+ch]
		}
		return v
	}
	gK, gb = make([]float64, in*f), make([]float64, f)
	for cp := range copies {
		for img := range images {
			for q := range s.group {
				qy, qx := q/pooledW, q%pooledW
				var window []int
				for dy := range c.Pool {
					for dx := range c.Pool {
						window = append(window, (qy*c.Pool+dy)*o.W+qx*c.Pool+dx)
					}
				}
				row := cp*s.inRows + img*s.group + q
				w := p.losses[row/s.group] / m
				for ch := range f {
					g := w * psi[row*f+ch]
					gb[ch] += g
					if kind == graph.MaxPool {
						best := window[0]
						for _, pos := range window[1:] {
							if pre(img, pos, ch) > pre(img, best, ch) {
								best = pos
							}
						}
						addPatches(gK, xs, []int{best}, g, img, positions, in, f, ch)
						continue
					}
					addPatches(gK, xs, window, g/float64(len(window)), img, positions, in, f, ch)
				}
			}
		}
	}
	return gK, gb
}

// addPatches adds g times the patch of each position of image img to the
// kernel gradient's column ch.
func addPatches(gK, xs []float64, positions []int, g float64, img, perImage, in, f, ch int) {
	for _, pos := range positions {
		for tap := range in {
			gK[tap*f+ch] += g * xs[(img*perImage+pos)*in+tap]
		}
	}
}
