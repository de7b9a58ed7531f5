package graph

import (
	"fmt"
	"hash"
	"hash/fnv"
	"math"
	"math/rand/v2"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Distribution is the law of the noise a [NoiseOp] adds.
type Distribution int

const (
	// Gaussian noise N(0, σ²); the scale is the standard deviation σ and the
	// score is ψ(r) = r/σ².
	Gaussian Distribution = iota
	// Laplace noise with density exp(−|r|/b)/(2b); the scale is b (the
	// standard deviation is √2·b) and the score is ψ(r) = sign(r)/b.
	Laplace
)

// ParseDistribution maps "gaussian" and "laplace" to their Distribution.
func ParseDistribution(s string) (Distribution, error) {
	switch s {
	case "gaussian":
		return Gaussian, nil
	case "laplace":
		return Laplace, nil
	}
	return 0, fmt.Errorf("unknown noise distribution %q (want gaussian | laplace)", s)
}

func (d Distribution) String() string {
	switch d {
	case Gaussian:
		return "gaussian"
	case Laplace:
		return "laplace"
	}
	return fmt.Sprintf("Distribution(%d)", int(d))
}

// Sample draws one value r with the given scale and returns it with its score
// ψ(r) = −(d/dr) log f(r). Both are always finite: Laplace draws are a random
// sign times b·Exp(1) from the ziggurat exponential, which never evaluates
// log(0) as an inverse-CDF sampler can.
func (d Distribution) Sample(rng *rand.Rand, scale float64) (r, psi float64) {
	switch d {
	case Laplace:
		e := rng.ExpFloat64() * scale
		if rng.Uint64()&1 == 0 {
			return e, 1 / scale
		}
		return -e, -1 / scale
	default:
		r = rng.NormFloat64() * scale
		return r, r / (scale * scale)
	}
}

// NoiseMode says what a [NoiseOp] does on its next forward pass.
type NoiseMode int

const (
	// NoiseFresh draws new noise on every pass.
	NoiseFresh NoiseMode = iota
	// NoiseOff adds nothing; the recorded draw and score are zero.
	NoiseOff
	// NoiseHold adds the previous draw again. It lets backpropagation and
	// finite differences see the very draw that a GLR pass used.
	NoiseHold
)

func (m NoiseMode) String() string {
	switch m {
	case NoiseFresh:
		return "fresh"
	case NoiseOff:
		return "off"
	case NoiseHold:
		return "hold"
	}
	return fmt.Sprintf("NoiseMode(%d)", int(m))
}

// NoiseOp is the noise site of one layer: it computes v = z + r for a
// pre-activation z of shape rows × units, with r drawn from its own seeded
// generator, and keeps r and ψ(r) until the next pass for the estimators to
// read. Under symbolic differentiation it is the identity, so backpropagation
// runs through the same graph whether the noise is on or off.
//
// Rows may be grouped into copies (see [NoiseOp.SetCopies]): rows
// [c·B, (c+1)·B) hold copy c of a batch of B examples. With antithetic pairs,
// copy 2j+1 receives the negated draw of copy 2j.
//
// A NoiseOp is not safe for concurrent use; like the Gorgonia machine that
// runs it, it belongs to one goroutine.
type NoiseOp struct {
	site       int
	name       string
	dist       Distribution
	scale      float64
	seed       uint64
	mode       NoiseMode
	copies     int
	antithetic bool
	rng        *rand.Rand

	noise, score, out *tensor.Dense
}

// NewNoiseOp returns the noise op of site number site (unique within its
// graph), named for messages. Its generator is seeded from (seed, site), so
// each site draws its own reproducible stream.
func NewNoiseOp(site int, name string, dist Distribution, scale float64, seed uint64) (*NoiseOp, error) {
	if !(scale > 0) || math.IsInf(scale, 0) {
		return nil, fmt.Errorf("noise site %s: scale must be positive and finite, got %v", name, scale)
	}
	if dist != Gaussian && dist != Laplace {
		return nil, fmt.Errorf("noise site %s: unknown distribution %v", name, dist)
	}
	op := &NoiseOp{site: site, name: name, dist: dist, scale: scale, seed: seed, copies: 1}
	op.Reseed(seed)
	return op, nil
}

// Reseed restarts the op's generator from (seed, site).
func (op *NoiseOp) Reseed(seed uint64) {
	op.seed = seed
	op.rng = rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15^uint64(op.site)))
}

// Site is the op's site number, unique within its graph.
func (op *NoiseOp) Site() int { return op.site }

// Name is the site's name, such as "layer1".
func (op *NoiseOp) Name() string { return op.name }

// Distribution is the law of the noise.
func (op *NoiseOp) Distribution() Distribution { return op.dist }

// Scale is σ for Gaussian noise and b for Laplace noise.
func (op *NoiseOp) Scale() float64 { return op.scale }

// Mode is what the next pass does.
func (op *NoiseOp) Mode() NoiseMode { return op.mode }

// SetMode sets what the next passes do.
func (op *NoiseOp) SetMode(m NoiseMode) { op.mode = m }

// SetCopies declares that the rows hold copies of one batch, and whether the
// copies come in antithetic pairs (copy 2j+1 gets −r of copy 2j). Antithetic
// pairs need an even number of copies.
func (op *NoiseOp) SetCopies(copies int, antithetic bool) error {
	if copies < 1 {
		return fmt.Errorf("noise site %s: copies must be at least 1, got %d", op.name, copies)
	}
	if antithetic && copies%2 != 0 {
		return fmt.Errorf("noise site %s: antithetic pairs need an even number of copies, got %d", op.name, copies)
	}
	op.copies, op.antithetic = copies, antithetic
	return nil
}

// Noise is the draw r of the last pass (rows × units), or nil before the
// first pass. It is overwritten by the next pass.
func (op *NoiseOp) Noise() *tensor.Dense { return op.noise }

// Score is ψ(r) of the last pass, shaped like [NoiseOp.Noise].
func (op *NoiseOp) Score() *tensor.Dense { return op.score }

// Arity is 1: the pre-activation.
func (op *NoiseOp) Arity() int { return 1 }

// Type is a → a.
func (op *NoiseOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a)
}

// InferShape returns the input's shape; the input must be a matrix.
func (op *NoiseOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("noise site %s: want 1 input, got %d", op.name, len(in))
	}
	s, ok := in[0].(tensor.Shape)
	if !ok || len(s) != 2 {
		return nil, fmt.Errorf("noise site %s: want a rows × units matrix, got shape %v", op.name, in[0])
	}
	return s.Clone(), nil
}

// Do returns z + r in a buffer the op owns and reuses.
func (op *NoiseOp) Do(vals ...G.Value) (G.Value, error) {
	if len(vals) != 1 {
		return nil, fmt.Errorf("noise site %s: want 1 input, got %d", op.name, len(vals))
	}
	in, ok := vals[0].(*tensor.Dense)
	if !ok || in.Dims() != 2 {
		return nil, fmt.Errorf("noise site %s: want a matrix, got %T", op.name, vals[0])
	}
	rows, units := in.Shape()[0], in.Shape()[1]
	if rows%op.copies != 0 {
		return nil, fmt.Errorf("noise site %s: %d rows do not split into %d copies", op.name, rows, op.copies)
	}
	held := op.noise != nil && op.noise.Shape().Eq(in.Shape()) && op.noise.Dtype() == in.Dtype()
	if op.mode == NoiseHold && !held {
		return nil, fmt.Errorf("noise site %s: hold mode needs a previous draw of shape %v", op.name, in.Shape())
	}
	if !held {
		op.noise = tensor.New(tensor.WithShape(rows, units), tensor.Of(in.Dtype()))
		op.score = tensor.New(tensor.WithShape(rows, units), tensor.Of(in.Dtype()))
	}
	if op.out == nil || !op.out.Shape().Eq(in.Shape()) || op.out.Dtype() != in.Dtype() {
		op.out = tensor.New(tensor.WithShape(rows, units), tensor.Of(in.Dtype()))
	}
	switch z := in.Data().(type) {
	case []float64:
		addNoise(op, z, op.noise.Float64s(), op.score.Float64s(), op.out.Float64s())
	case []float32:
		addNoise(op, z, op.noise.Float32s(), op.score.Float32s(), op.out.Float32s())
	default:
		return nil, fmt.Errorf("noise site %s: unsupported dtype %v", op.name, in.Dtype())
	}
	return op.out, nil
}

func addNoise[T float32 | float64](op *NoiseOp, z, r, psi, out []T) {
	switch op.mode {
	case NoiseOff:
		clear(r)
		clear(psi)
	case NoiseFresh:
		block := len(z) / op.copies
		for c := 0; c < op.copies; c++ {
			rc, pc := r[c*block:(c+1)*block], psi[c*block:(c+1)*block]
			if op.antithetic && c%2 == 1 {
				prev, prevPsi := r[(c-1)*block:c*block], psi[(c-1)*block:c*block]
				for i := range rc {
					rc[i], pc[i] = -prev[i], -prevPsi[i]
				}
				continue
			}
			for i := range rc {
				v, p := op.dist.Sample(op.rng, op.scale)
				rc[i], pc[i] = T(v), T(p)
			}
		}
	}
	for i, v := range z {
		out[i] = v + r[i]
	}
}

// ReturnsPtr is false: the result lives in the op's own buffer.
func (op *NoiseOp) ReturnsPtr() bool { return false }

// CallsExtern is false.
func (op *NoiseOp) CallsExtern() bool { return false }

// OverwritesInput is -1: the input is never written.
func (op *NoiseOp) OverwritesInput() int { return -1 }

// WriteHash writes the op's identity. The site number is part of it, so two
// sites of equal scale on the same input stay two nodes.
func (op *NoiseOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "glr.Noise{site=%d,%v,%v}", op.site, op.dist, op.scale)
}

// Hashcode is the FNV-1a hash of WriteHash.
func (op *NoiseOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

func (op *NoiseOp) String() string {
	return fmt.Sprintf("Noise[%s %v %g]", op.name, op.dist, op.scale)
}

// DiffWRT is true: the op is differentiable in its input.
func (op *NoiseOp) DiffWRT(inputs int) []bool { return []bool{true} }

// SymDiff passes the gradient through unchanged: ∂(z + r)/∂z = 1.
func (op *NoiseOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 1 {
		return nil, fmt.Errorf("noise site %s: want 1 input, got %d", op.name, len(inputs))
	}
	return G.Nodes{grad}, nil
}
