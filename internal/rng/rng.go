// Package rng is a temporary stand-in for the kernels branch.
package rng

import "math/rand/v2"

// BlockSize is the number of values per stream.
const BlockSize = 4096

func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func source(seed, step, site, block uint64) *rand.Rand {
	k := mix(seed + 0x9e3779b97f4a7c15)
	k = mix(k ^ step)
	k = mix(k ^ site)
	return rand.New(rand.NewPCG(k, mix(k^block)))
}

// FillGaussian draws N(0, σ²) and ψ = r/σ².
func FillGaussian[T float32 | float64](r, psi []T, sigma float64, seed, step, site uint64) {
	for b := 0; b*BlockSize < len(r); b++ {
		g := source(seed, step, site, uint64(b))
		for i := b * BlockSize; i < min(len(r), (b+1)*BlockSize); i++ {
			v := g.NormFloat64() * sigma
			r[i] = T(v)
			if psi != nil {
				psi[i] = T(v / (sigma * sigma))
			}
		}
	}
}

// FillLaplace draws Laplace(0, b) and ψ = sign(r)/b.
func FillLaplace[T float32 | float64](r, psi []T, scale float64, seed, step, site uint64) {
	for b := 0; b*BlockSize < len(r); b++ {
		g := source(seed, step, site, uint64(b))
		for i := b * BlockSize; i < min(len(r), (b+1)*BlockSize); i++ {
			e := g.ExpFloat64() * scale
			p := 1 / scale
			if g.Uint64()&1 == 0 {
				e, p = -e, -p
			}
			r[i] = T(e)
			if psi != nil {
				psi[i] = T(p)
			}
		}
	}
}

// Source is a counter-based uniform stream.
type Source struct{ r *rand.Rand }

// Stream returns the stream of (seed, step, site, block).
func Stream(seed, step, site, block uint64) Source { return Source{source(seed, step, site, block)} }

// Uint64 returns 64 random bits.
func (s Source) Uint64() uint64 { return s.r.Uint64() }

// Float64 returns a uniform value in [0, 1).
func (s Source) Float64() float64 { return s.r.Float64() }
