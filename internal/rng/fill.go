package rng

import (
	"fmt"
	"math"
	"sync"

	"github.com/glr-project/glr/internal/parallel"
)

// Float is the set of element types the fill functions write.
type Float interface {
	float32 | float64
}

// FillGaussian fills r with N(0, σ²) noise, r = σ·z for standard normal z,
// and, unless psi is nil, psi with its score ψ(r) = r/σ², computed as z·(1/σ).
// Value i of r is value i of site's noise at the given seed and step (see
// the package doc): r[i] = σ·z where z is draw number i mod [BlockSize] of
// Stream(seed, step, site, i/BlockSize).Normal. Blocks are filled in
// parallel; the values do not depend on GOMAXPROCS.
//
// It returns an error, and writes nothing, if psi is neither nil nor as long
// as r, or if sigma is not in [64/M, M/64] with M the largest finite T (a
// range that keeps every r and ψ finite).
func FillGaussian[T Float](r, psi []T, sigma float64, seed, step, site uint64) error {
	return fill(gaussian, r, psi, sigma, seed, step, site, 0)
}

// FillGaussianAt is [FillGaussian] for the part of the site's noise that
// starts at block: it fills r and psi with the values at positions
// block·BlockSize, block·BlockSize+1, ... of the noise FillGaussian writes.
// A worker uses it to regenerate any blocks of a site without the others.
func FillGaussianAt[T Float](r, psi []T, sigma float64, seed, step, site, block uint64) error {
	return fill(gaussian, r, psi, sigma, seed, step, site, block)
}

// FillLaplace fills r with Laplace(0, b) noise, density exp(−|r|/b)/(2b),
// r = b·x for standard Laplace x, and, unless psi is nil, psi with its score
// ψ(r) = sign(r)/b, where the sign of r = ±0 is its sign bit. Value i of r
// is b·x where x is draw number i mod [BlockSize] of
// Stream(seed, step, site, i/BlockSize).Laplace. Blocks are filled in
// parallel; the values do not depend on GOMAXPROCS.
//
// It returns an error, and writes nothing, if psi is neither nil nor as long
// as r, or if b is not in [64/M, M/64] with M the largest finite T.
func FillLaplace[T Float](r, psi []T, b float64, seed, step, site uint64) error {
	return fill(laplace, r, psi, b, seed, step, site, 0)
}

// FillLaplaceAt is [FillLaplace] for the part of the site's noise that
// starts at block, as [FillGaussianAt] is for FillGaussian.
func FillLaplaceAt[T Float](r, psi []T, b float64, seed, step, site, block uint64) error {
	return fill(laplace, r, psi, b, seed, step, site, block)
}

// A law is a noise distribution.
type law int

const (
	gaussian law = iota
	laplace
)

var lawNames = [...]string{gaussian: "FillGaussian", laplace: "FillLaplace"}

// fill checks the arguments and fills the blocks in parallel.
func fill[T Float](l law, r, psi []T, scale float64, seed, step, site, block uint64) error {
	if psi != nil && len(psi) != len(r) {
		return fmt.Errorf("rng: %s: len(psi) = %d, want nil or len(r) = %d", lawNames[l], len(psi), len(r))
	}
	maxT := math.MaxFloat64
	if _, ok := any(T(0)).(float32); ok {
		maxT = math.MaxFloat32
	}
	if !(scale >= 64/maxT && scale <= maxT/64) {
		return fmt.Errorf("rng: %s: scale %v, want a number in [%.3g, %.3g]", lawNames[l], scale, 64/maxT, maxT/64)
	}
	if len(r) == 0 {
		return nil
	}
	j := jobsFor[T]().get()
	j.law, j.r, j.psi, j.scale = l, r, psi, scale
	j.seed, j.step, j.site, j.block = seed, step, site, block
	parallel.For(len(r), BlockSize, j.body)
	j.r, j.psi = nil, nil // keep no caller memory alive
	jobsFor[T]().put(j)
	return nil
}

// A fillJob is the state of one fill call, shared by the goroutines that
// fill its blocks.
type fillJob[T Float] struct {
	law                     law
	r, psi                  []T
	scale                   float64
	seed, step, site, block uint64
	body                    func(lo, hi int) // j.blocks, built once
}

// blocks fills the block of the chunk [lo, hi); For's grain is BlockSize, so
// each chunk is one block.
func (j *fillJob[T]) blocks(lo, hi int) {
	src := Stream(j.seed, j.step, j.site, j.block+uint64(lo/BlockSize))
	r := j.r[lo:hi]
	var psi []T
	if j.psi != nil {
		psi = j.psi[lo:hi]
	}
	switch j.law {
	case gaussian:
		fillGaussian(src, r, psi, j.scale)
	case laplace:
		fillLaplace(src, r, psi, j.scale)
	}
}

// fillGaussian and fillLaplace repeat the fast paths of Source.normal and
// Source.laplace, which are too large for the compiler to inline: inlined,
// the generator's state stays in registers, which measured 1.5 times faster.
// The check of psi in the loop costs nothing measurable.

func fillGaussian[T Float](src Source, r, psi []T, sigma float64) {
	inv := 1 / sigma
	for i := range r {
		var u uint64
		src, u = src.next()
		k, j := u&127, int64(u)>>8
		z := float64(j) * normW[k]
		if (j^j>>63)-j>>63 >= normK[k] {
			src, z = src.normalSlow(k, j)
		}
		r[i] = T(sigma * z)
		if psi != nil {
			psi[i] = T(z * inv)
		}
	}
}

func fillLaplace[T Float](src Source, r, psi []T, b float64) {
	inv := 1 / b
	for i := range r {
		var u uint64
		src, u = src.next()
		k, j, sign := u&255, u>>9, (u&256)<<55
		x := float64(j) * expW[k]
		if j >= expK[k] {
			src, x, sign = src.expSlow(u)
		}
		r[i] = T(math.Float64frombits(math.Float64bits(b*x) | sign))
		if psi != nil {
			psi[i] = T(math.Float64frombits(math.Float64bits(inv) | sign))
		}
	}
}

// A jobList keeps fill jobs for reuse, so that a fill allocates nothing once
// as many jobs exist as fills run at once.
type jobList[T Float] struct {
	mu   sync.Mutex
	free []*fillJob[T]
}

var (
	jobs32 jobList[float32]
	jobs64 jobList[float64]
)

func jobsFor[T Float]() *jobList[T] {
	if l, ok := any(&jobs32).(*jobList[T]); ok {
		return l
	}
	return any(&jobs64).(*jobList[T])
}

func (l *jobList[T]) get() *fillJob[T] {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.free); n > 0 {
		j := l.free[n-1]
		l.free = l.free[:n-1]
		return j
	}
	j := new(fillJob[T])
	j.body = j.blocks
	return j
}

func (l *jobList[T]) put(j *fillJob[T]) {
	l.mu.Lock()
	l.free = append(l.free, j)
	l.mu.Unlock()
}
