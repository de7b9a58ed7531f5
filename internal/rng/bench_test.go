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
	procsList := []int{1}
	if p := runtime.GOMAXPROCS(0); p > 1 {
		procsList = append(procsList, p)
	}
	for _, f := range fills {
		for _, procs := range procsList {
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

var sink float64

// BenchmarkDraw compares single draws of the package's samplers with those
// of a math/rand/v2 Rand on a PCG, which the framework used before (its
// Laplace draw took an ExpFloat64 and a Uint64 for the sign).
func BenchmarkDraw(b *testing.B) {
	b.Run("Normal", func(b *testing.B) {
		src, s := Stream(1, 2, 3, 4), 0.0
		for b.Loop() {
			s += src.Normal()
		}
		sink += s
	})
	b.Run("Laplace", func(b *testing.B) {
		src, s := Stream(1, 2, 3, 4), 0.0
		for b.Loop() {
			s += src.Laplace()
		}
		sink += s
	})
	b.Run("Uint64", func(b *testing.B) {
		src, s := Stream(1, 2, 3, 4), uint64(0)
		for b.Loop() {
			s += src.Uint64()
		}
		sink += float64(s)
	})
	b.Run("rand.NormFloat64", func(b *testing.B) {
		std, s := rand.New(rand.NewPCG(1, 2)), 0.0
		for b.Loop() {
			s += std.NormFloat64()
		}
		sink += s
	})
	b.Run("rand.ExpFloat64+sign", func(b *testing.B) {
		std, s := rand.New(rand.NewPCG(1, 2)), 0.0
		for b.Loop() {
			e := std.ExpFloat64()
			if std.Uint64()&1 == 0 {
				e = -e
			}
			s += e
		}
		sink += s
	})
	b.Run("rand.PCG.Uint64", func(b *testing.B) {
		var pcg rand.PCG
		pcg.Seed(1, 2)
		s := uint64(0)
		for b.Loop() {
			s += pcg.Uint64()
		}
		sink += float64(s)
	})
}
