// Package rng generates the framework's noise from counters, so that every
// value can be regenerated from its keys alone.
//
// A noise value is identified by four keys: the run's seed, the training
// step, the noise site (which layer, which copy) and the block, a run of
// [BlockSize] consecutive values of that site. [Stream] turns the keys into
// the state of a small generator, [Source], so the values of a block depend
// on nothing else: not on GOMAXPROCS, not on which goroutine fills the block,
// not on what was drawn before. A worker holding only the seed can rebuild
// any block of any step, which is what lets data-parallel workers exchange
// seeds instead of noise.
//
// [FillGaussian] and [FillLaplace] fill a site's noise r and its score
// ψ(r) = −(d/dr) log f(r), block by block in parallel.
//
// The reproducibility contract is this: value i of a site's noise, i ≥ 0, is
// drawn from Stream(seed, step, site, i/BlockSize) as draw number
// i mod BlockSize of that stream's [Source.Normal] (Gaussian noise, times σ)
// or [Source.Laplace] (Laplace noise, times b). BlockSize, the key mixing of
// Stream, the generator and the samplers are part of the contract: changing
// any of them changes every run's numbers.
package rng

import "math/bits"

// BlockSize is the number of consecutive noise values drawn from one stream.
// It is part of the reproducibility contract (see the package doc) and large
// enough that deriving a stream's state costs nothing next to its draws.
const BlockSize = 4096

// golden is 2⁶⁴/φ, the increment of SplitMix64.
const golden = 0x9e3779b97f4a7c15

// mix is the SplitMix64 finaliser (Steele, Lea and Flood, "Fast splittable
// pseudorandom number generators", OOPSLA 2014, with Stafford's "Mix13"
// constants): a bijection of uint64 in which every input bit affects every
// output bit.
func mix(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// Stream returns the generator of one block of noise: seed is the run's
// seed, step the training step, site the noise site and block the index of
// the block within the site. The four keys are chained through the SplitMix64
// finaliser, each step a bijection of the next key, and the result seeds the
// generator's state as SplitMix64 does, so that streams of different keys,
// even neighbouring ones, look independent.
func Stream(seed, step, site, block uint64) Source {
	h := mix(seed + golden)
	h = mix(h ^ step + golden)
	h = mix(h ^ site + golden)
	h = mix(h ^ block + golden)
	const mask = 1<<64 - 1 // h + k·golden, k = 1, ..., 4, is SplitMix64's sequence from h
	return Source{mix(h + golden), mix(h + 2*golden&mask), mix(h + 3*golden&mask), mix(h + 4*golden&mask)}
}

// Source is a xoshiro256** generator (Blackman and Vigna, "Scrambled linear
// pseudorandom number generators", ACM TOMS 47(4), 2021): 256 bits of state,
// period 2²⁵⁶−1, a few operations per 64-bit draw. It is a plain value: copy
// it to fork a stream, and keep it on the stack to draw without allocating.
// A Source is not safe for concurrent use. *Source implements
// math/rand/v2.Source, so rand.New(&src) gives every other distribution.
//
// The zero Source is invalid (it draws only zeros); get one from [Stream].
type Source struct {
	s0, s1, s2, s3 uint64
}

// Uint64 returns the next 64 uniformly distributed bits.
func (s *Source) Uint64() uint64 {
	var u uint64
	*s, u = s.next()
	return u
}

// Float64 returns a uniform number in [0, 1) with 53 random bits.
func (s *Source) Float64() float64 {
	var u uint64
	*s, u = s.next()
	return float64(u>>11) * 0x1p-53
}

// The samplers work on Source values rather than pointers: a value that
// never has its address taken stays in registers, which makes a fill loop
// about twice as fast as one that updates the state through a pointer.

// next returns the generator's next state and draw.
func (s Source) next() (Source, uint64) {
	u := bits.RotateLeft64(s.s1*5, 7) * 9
	t := s.s1 << 17
	s.s2 ^= s.s0
	s.s3 ^= s.s1
	s.s1 ^= s.s2
	s.s0 ^= s.s3
	s.s2 ^= t
	s.s3 = bits.RotateLeft64(s.s3, 45)
	return s, u
}

// uniform returns the next state and a uniform number in [0, 1).
func (s Source) uniform() (Source, float64) {
	s, u := s.next()
	return s, float64(u>>11) * 0x1p-53
}

// open01 returns the next state and a uniform number in (0, 1] with 53
// random bits, whose logarithm is finite: at least −53·ln 2 ≈ −36.74.
func (s Source) open01() (Source, float64) {
	s, u := s.next()
	return s, float64(u>>11+1) * 0x1p-53
}
