package graph_test

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/glr-project/glr/graph"
	"github.com/glr-project/glr/layers"
	"github.com/glr-project/glr/score"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// draws runs p at the given step and returns every site's noise and score,
// concatenated.
func draws(t *testing.T, net *graph.Network, p *graph.Program, step uint64) (r, psi []float64) {
	t.Helper()
	net.SetStep(step)
	run(t, p)
	for _, s := range net.Sites {
		r = append(r, floats(t, s.Op.Noise())...)
		psi = append(psi, floats(t, s.Op.Score())...)
	}
	return r, psi
}

// TestNoiseSteps: a pass at a given step draws the same noise whenever it
// runs, also after passes at other steps, and another step draws other
// noise (continuous draws: no value repeats).
func TestNoiseSteps(t *testing.T) {
	for _, law := range []score.Law{score.Gaussian, score.Laplace} {
		for _, sampler := range []score.Sampler{score.IID, score.QMC} {
			s := mlpSpec(t, graph.Sigmoid, layers.BiasAll)
			s.Noise, s.Sampler, s.Copies = law, sampler, 3
			net := build(t, s)
			feed(t, net, 1)
			p := program(t, net, net.Losses)
			r1, psi1 := draws(t, net, p, 7)
			r2, _ := draws(t, net, p, 8)
			r3, psi3 := draws(t, net, p, 7)
			if i := equal(r1, r3); i >= 0 {
				t.Errorf("%v/%v: step 7 drew %v, then %v at value %d", law, sampler, r1[i], r3[i], i)
			}
			if i := equal(psi1, psi3); i >= 0 {
				t.Errorf("%v/%v: step 7 scored %v, then %v at value %d", law, sampler, psi1[i], psi3[i], i)
			}
			for i := range r1 {
				if r1[i] == r2[i] {
					t.Fatalf("%v/%v: steps 7 and 8 both drew %v at value %d", law, sampler, r1[i], i)
				}
			}
		}
	}
}

// TestAntitheticCopies: copy 2j+1 of every noisy site draws exactly the
// negated noise and score of copy 2j, and the pairs are independent of one
// another (copy 2 is neither copy 0 nor its negation).
func TestAntitheticCopies(t *testing.T) {
	for _, sampler := range []score.Sampler{score.IID, score.QMC} {
		for _, spec := range []graph.Spec{mlpSpec(t, graph.Tanh, layers.BiasInput), cnnSpec(t, graph.ReLU, graph.MaxPool, layers.BiasAll)} {
			spec.Copies, spec.Antithetic, spec.Sampler = 4, true, sampler
			net := build(t, spec)
			feed(t, net, 1)
			net.SetStep(3)
			run(t, program(t, net, net.Losses))
			for _, s := range net.Sites {
				r, psi := floats(t, s.Op.Noise()), floats(t, s.Op.Score())
				block := len(r) / 4 // one copy
				for c := 0; c < 4; c += 2 {
					for i := 0; i < block; i++ {
						if r[(c+1)*block+i] != -r[c*block+i] || psi[(c+1)*block+i] != -psi[c*block+i] {
							t.Fatalf("%v site %s: copy %d value %d: (%v, %v) is not the negation of (%v, %v)", sampler, s.Name,
								c+1, i, r[(c+1)*block+i], psi[(c+1)*block+i], r[c*block+i], psi[c*block+i])
						}
					}
				}
				for i := 0; i < block; i++ {
					if a, b := r[i], r[2*block+i]; a == b || a == -b {
						t.Fatalf("%v site %s: copies 0 and 2 are paired at value %d (%v, %v)", sampler, s.Name, i, a, b)
					}
				}
			}
		}
	}
}

// TestSitesDiffer: sites of the same shape draw different values, since
// each draws from its own stream.
func TestSitesDiffer(t *testing.T) {
	ls, err := layers.MLP([]int{3, 3}, graph.ReLU, layers.BiasAll, layers.Glorot, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, law := range []score.Law{score.Gaussian, score.Laplace} {
		net := build(t, graph.Spec{Inputs: 3, Classes: 3, Batch: 5, Copies: 2, Layers: ls, Noise: law, Scales: []float64{1}, Seed: 4})
		feed(t, net, 1)
		run(t, program(t, net, net.Losses))
		for a := range net.Sites {
			for b := a + 1; b < len(net.Sites); b++ {
				ra, rb := floats(t, net.Sites[a].Op.Noise()), floats(t, net.Sites[b].Op.Noise())
				for i := range ra {
					if ra[i] == rb[i] {
						t.Fatalf("%v: sites %d and %d both drew %v at value %d", law, a, b, ra[i], i)
					}
				}
			}
		}
	}
}

// TestNoiseMatchesDrawer: the noise and scores of every site are those
// score.Drawer draws for the site's rows, copies and keys (seed, step,
// site index), bit for bit: the network adds nothing of its own.
func TestNoiseMatchesDrawer(t *testing.T) {
	for _, law := range []score.Law{score.Gaussian, score.Laplace} {
		for _, sampler := range []score.Sampler{score.IID, score.QMC} {
			for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
				for _, spec := range []graph.Spec{mlpSpec(t, graph.Tanh, layers.BiasAll), cnnSpec(t, graph.ReLU, graph.AvgPool, layers.BiasNone)} {
					spec.Noise, spec.Sampler, spec.Dtype, spec.Copies, spec.Antithetic = law, sampler, dt, 4, sampler == score.IID
					spec.Scales = []float64{0.5, 0.25, 2, 1}[:len(spec.Layers)]
					net := build(t, spec)
					feed(t, net, 1)
					const step = 12
					net.SetStep(step)
					run(t, program(t, net, net.Losses))
					for i, s := range net.Sites {
						n := score.Noise{Law: law, Scale: spec.Scales[i], Sampler: sampler, Antithetic: spec.Antithetic,
							Copies: 4, Rows: s.Rows / 4, Units: s.Weight.Shape()[1]}
						var r, psi []float64
						if dt == tensor.Float32 {
							r, psi = fill[float32](t, n, spec.Seed, step, uint64(i))
						} else {
							r, psi = fill[float64](t, n, spec.Seed, step, uint64(i))
						}
						name := fmt.Sprintf("%v/%v/%v/%d sites: site %s", law, sampler, dt, len(net.Sites), s.Name)
						if j := equal(floats(t, s.Op.Noise()), r); j >= 0 {
							t.Errorf("%s: noise differs from the drawer's at %d", name, j)
						}
						if j := equal(floats(t, s.Op.Score()), psi); j >= 0 {
							t.Errorf("%s: score differs from the drawer's at %d", name, j)
						}
					}
				}
			}
		}
	}
}

func fill[T float32 | float64](t *testing.T, n score.Noise, seed, step, stream uint64) (r, psi []float64) {
	t.Helper()
	d, err := score.NewDrawer[T](n)
	if err != nil {
		t.Fatal(err)
	}
	rt, pt := make([]T, n.Len()), make([]T, n.Len())
	d.Fill(rt, pt, seed, step, stream)
	r, psi = make([]float64, n.Len()), make([]float64, n.Len())
	for i := range rt {
		r[i], psi[i] = float64(rt[i]), float64(pt[i])
	}
	return r, psi
}

// TestGOMAXPROCS: the noise, the losses and the BP gradients are the same,
// bit for bit, with one goroutine and with two. The sites are large enough
// that their draws, products and image loops split into several parallel
// chunks: 128 rows of 128 units (4 blocks of noise; 2 blocks of lattice
// cells for QMC), and 17 images per conv loop of 8.
func TestGOMAXPROCS(t *testing.T) {
	big := func(sampler score.Sampler) graph.Spec {
		ls, err := layers.MLP([]int{128, 128}, graph.Tanh, layers.BiasAll, layers.Glorot, classes)
		if err != nil {
			t.Fatal(err)
		}
		return graph.Spec{Inputs: mlpInputs, Classes: classes, Batch: 64, Copies: 2, Layers: ls, Noise: score.Laplace,
			Sampler: sampler, Scales: []float64{0.1}, Seed: 9}
	}
	cases := []struct {
		name string
		spec graph.Spec
	}{
		{"mlp/iid", big(score.IID)},
		{"mlp/qmc", big(score.QMC)},
		{"cnn", with(cnnSpec(t, graph.ReLU, graph.MaxPool, layers.BiasAll), func(s *graph.Spec) { s.Batch, s.Copies = 17, 2 })},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			result := func(procs int) []float64 {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
				net := build(t, c.spec)
				feed(t, net, 2)
				net.SetStep(5)
				grads := gradients(t, net)
				p := program(t, net, append(G.Nodes{net.Losses}, grads...)...)
				r, psi := draws(t, net, p, 5)
				out := append(r, psi...)
				out = append(out, value(t, p, net.Losses)...)
				for _, g := range grads {
					out = append(out, value(t, p, g)...)
				}
				return out
			}
			one, two := result(1), result(2)
			if i := equal(one, two); i >= 0 {
				t.Fatalf("value %d: %v with one goroutine, %v with two", i, one[i], two[i])
			}
		})
	}
}
