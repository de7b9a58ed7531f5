package rng

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

// BenchmarkFill reports the cost per value of filling 2²⁰ values and their
// scores, on one goroutine (GOMAXPROCS 1) and on all of them.
func BenchmarkFill(b *testing.B) {
	benchFill[float32](b)
	benchFill[float64](b)
}

func benchFill[T Float](b *testing.B) {
	const n = 1 << 20
	r, psi := make([]T, n), make([]T, n)
	fills := []struct {
		name string
		fill func(r, psi []T, scale float64, seed, step, site uint64) error
	}{{"Gaussian", FillGaussian[T]}, {"Laplace", FillLaplace[T]}}
	for _, f := range fills {
		for _, procs := range []int{1, runtime.GOMAXPROCS(0)} {
			b.Run(fmt.Sprintf("%s/%T/procs=%d", f.name, T(0), procs), func(b *testing.B) {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
				b.ReportAllocs()
				step := uint64(0)
				for b.Loop() {
					if err := f.fill(r, psi, 0.5, 1, step, 3); err != nil {
						b.Fatal(err)
					}
					step++
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/value")
			})
		}
	}
}

// BenchmarkDraw compares single draws of the package's samplers with those
// of math/rand/v2 (a PCG behind the rand.Source interface), which the
// framework used before.
func BenchmarkDraw(b *testing.B) {
	var sink float64
	src := Stream(1, 2, 3, 4)
	std := rand.New(rand.NewPCG(1, 2))
	draws := []struct {
		name string
		draw func() float64
	}{
		{"Normal", src.Normal},
		{"Laplace", src.Laplace},
		{"Exp", src.Exp},
		{"Uint64", func() float64 { return float64(src.Uint64()) }},
		{"rand.NormFloat64", std.NormFloat64},
		{"rand.ExpFloat64+sign", func() float64 {
			e := std.ExpFloat64()
			if std.Uint64()&1 == 0 {
				return -e
			}
			return e
		}},
		{"rand.PCG.Uint64", func() float64 { return float64(std.Uint64()) }},
	}
	for _, d := range draws {
		b.Run(d.name, func(b *testing.B) {
			for b.Loop() {
				sink += d.draw()
			}
		})
	}
	_ = sink
}
