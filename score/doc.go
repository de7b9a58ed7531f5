// Package score is the likelihood-ratio (score-function) core that the GLR
// estimator and the zeroth-order attack share.
//
// A score-function estimate perturbs a quantity v with noise r of density f,
// v + r, and weights the resulting losses with the score of the noise,
//
//	ψ(r) = −(d/dr) log f(r),  r/σ² for N(0, σ²) and sign(r)/b for Laplace(0, b),
//
// so that d/dv E[L(v + r)] = E[L(v + r)·ψ(r)]. The package holds the two
// halves of every such estimate:
//
//   - the draws: [Drawer.Fill] writes r and ψ(r) for a block of rows that hold
//     copies of a batch, independently ([IID]), in antithetic pairs (copy
//     2j+1 draws −r of copy 2j), or as a randomized quasi-Monte Carlo point
//     set across the copies of each example ([QMC]). Every value comes from
//     a counter-based stream keyed by (seed, step, stream), so any pass can
//     be regenerated from its keys alone and the draws do not depend on how
//     many goroutines produce them;
//   - the centred losses: [Center] subtracts a [Baseline] from each row's loss
//     (none, the batch mean, the mean of the example's other copies, or the
//     noise-free loss), which leaves the estimate unbiased, or shrinks it by
//     a known factor ([Baseline.Shrink]), and can cut its variance many times.
//
// The caller combines the two: the GLR estimator multiplies a layer's input
// by diag(L − b)·ψ(R) in one matrix product; the zeroth-order attack sums
// (L − b)·ψ(r) over the copies of each input.
package score
