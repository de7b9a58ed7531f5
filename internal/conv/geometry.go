// Package conv holds the data-movement kernels of convolutional layers:
// im2col and its adjoint col2im, max and average pooling, and the geometry
// types that describe them. The matrix products are left to the caller.
//
// Every tensor is channels-last, batch-major and row-major: a batch of B
// images of C channels and H×W pixels is a slice of B·H·W·C values, and
// channel c of pixel (y, x) of example b is at index ((b·H + y)·W + x)·C + c.
// Im2col turns such a batch into the patch matrix P, with one row per output
// position (b, oy, ox) and one column per kernel tap (ky, kx, c). A
// convolution is then the matrix product Y = P·Wk, with Wk of shape
// (Kernel·Kernel·C) × Filters, plus a bias per filter; read as a
// (B·OH·OW) × Filters row-major matrix, Y is again a channels-last batch, with
// C = Filters. The weight gradient is Pᵀ·dY (for the GLR estimator, Pᵀ times
// the weighted noise score of the site) and the input gradient is
// Col2im(dY·Wkᵀ).
//
// Because every layout is batch-major, each kernel works on any contiguous
// sub-batch: a caller may cut a batch at example boundaries and run the
// pieces on separate goroutines, and gets the same numbers as one call on the
// whole batch (MaxPool's indices then count from the start of the piece). The
// kernels themselves run on the calling goroutine, allocate nothing, check
// their arguments and return errors rather than panicking.
package conv

import (
	"fmt"
	"math"
)

// MaxLen is the largest number of elements any tensor described by a
// geometry may have: the input batch, the patch matrix and the output. It is
// 2³¹−1, so the flat indices MaxPool records fit an int32 and every size fits
// an int on every platform.
const MaxLen = math.MaxInt32

// Image is the shape of one channels-last image: C channels of H×W pixels.
type Image struct{ C, H, W int }

// Len returns C·H·W, the number of values of one image.
func (m Image) Len() int { return m.C * m.H * m.W }

// String formats m as C×H×W.
func (m Image) String() string { return fmt.Sprintf("%d×%d×%d", m.C, m.H, m.W) }

// Conv is the geometry of a 2-D convolution: Filters square kernels of
// Kernel×Kernel pixels over all In.C channels, moved by Stride pixels in both
// directions over the input zero-padded by Pad pixels on every side. Pad must
// be less than Kernel, so that every patch overlaps the image.
type Conv struct {
	In                           Image
	Filters, Kernel, Stride, Pad int
}

// Check reports whether g is a valid geometry for one image; it is
// CheckBatch(1).
func (g Conv) Check() error { return g.CheckBatch(1) }

// CheckBatch reports whether g is a valid geometry and a batch of batch
// images fits: it rejects sizes below 1 (Pad below 0), a padding not less
// than the kernel, a kernel larger than the padded input, and an input, patch
// matrix or output of more than MaxLen elements. The error names the
// offending field and the sizes involved.
func (g Conv) CheckBatch(batch int) error {
	if err := g.check(batch); err != nil {
		return fmt.Errorf("conv: %w", err)
	}
	return nil
}

func (g Conv) check(batch int) error {
	in := g.In
	fields := [...]field{
		{"batch", batch, 1},
		{"In.C", in.C, 1}, {"In.H", in.H, 1}, {"In.W", in.W, 1},
		{"Filters", g.Filters, 1}, {"Kernel", g.Kernel, 1}, {"Stride", g.Stride, 1}, {"Pad", g.Pad, 0},
	}
	if err := checkFields(fields[:]); err != nil {
		return err
	}
	if g.Pad >= g.Kernel {
		return fmt.Errorf("padding %d is not less than the kernel %d (a patch would lie wholly in the padding)", g.Pad, g.Kernel)
	}
	// Every field is at most MaxLen, so these sums cannot overflow an int64.
	if k := int64(g.Kernel); k > int64(in.H)+2*int64(g.Pad) || k > int64(in.W)+2*int64(g.Pad) {
		return fmt.Errorf("kernel %d is larger than the %d×%d input (padding %d)", g.Kernel, in.H, in.W, g.Pad)
	}
	oh := (int64(in.H)+2*int64(g.Pad)-int64(g.Kernel))/int64(g.Stride) + 1
	ow := (int64(in.W)+2*int64(g.Pad)-int64(g.Kernel))/int64(g.Stride) + 1
	b, c, k, f := int64(batch), int64(in.C), int64(g.Kernel), int64(g.Filters)
	if !fits(b, c, int64(in.H), int64(in.W)) {
		return fmt.Errorf("input of %d × %v has more than MaxLen (%d) elements", batch, in, MaxLen)
	}
	if !fits(b, oh, ow, k, k, c) {
		return fmt.Errorf("patch matrix of %d·%d·%d rows × %d·%d·%d columns has more than MaxLen (%d) elements",
			batch, oh, ow, g.Kernel, g.Kernel, in.C, MaxLen)
	}
	if !fits(b, oh, ow, f) {
		return fmt.Errorf("output of %d·%d·%d rows × %d filters has more than MaxLen (%d) elements",
			batch, oh, ow, g.Filters, MaxLen)
	}
	return nil
}

// Out returns the shape of one output image: Filters channels of OH×OW
// pixels, OH = (In.H + 2·Pad − Kernel)/Stride + 1 rounded down, and likewise
// OW. For a geometry that Check rejects it returns the zero Image.
func (g Conv) Out() Image {
	if g.check(1) != nil {
		return Image{}
	}
	return g.out()
}

// out is Out for a checked geometry.
func (g Conv) out() Image {
	return Image{
		C: g.Filters,
		H: (g.In.H+2*g.Pad-g.Kernel)/g.Stride + 1,
		W: (g.In.W+2*g.Pad-g.Kernel)/g.Stride + 1,
	}
}

// PatchWidth returns Kernel·Kernel·In.C, the number of columns of the patch
// matrix and of rows of the weight matrix. It is meaningful only for a
// geometry that Check accepts.
func (g Conv) PatchWidth() int { return g.Kernel * g.Kernel * g.In.C }

// PoolKind says how a pooling window is reduced.
type PoolKind int

const (
	// Max takes the largest value of the window.
	Max PoolKind = iota
	// Avg takes the mean of the window.
	Avg
)

// String returns "max" or "avg".
func (k PoolKind) String() string {
	switch k {
	case Max:
		return "max"
	case Avg:
		return "avg"
	}
	return fmt.Sprintf("PoolKind(%d)", int(k))
}

// Pool is the geometry of a pooling layer: non-overlapping Size×Size windows
// (stride Size) over each channel of In, reduced as Kind says. Trailing rows
// and columns that do not fill a window are dropped, as PyTorch does by
// default; Size 1 is the identity.
type Pool struct {
	In   Image
	Size int
	Kind PoolKind
}

// Check reports whether g is a valid geometry for one image; it is
// CheckBatch(1).
func (g Pool) Check() error { return g.CheckBatch(1) }

// CheckBatch reports whether g is a valid geometry and a batch of batch
// images fits: it rejects sizes below 1, an unknown Kind, a window larger
// than the input and an input of more than MaxLen elements. The error names
// the offending field and the sizes involved.
func (g Pool) CheckBatch(batch int) error {
	if err := g.check(batch); err != nil {
		return fmt.Errorf("conv: %w", err)
	}
	return nil
}

func (g Pool) check(batch int) error {
	in := g.In
	fields := [...]field{
		{"batch", batch, 1},
		{"pool In.C", in.C, 1}, {"pool In.H", in.H, 1}, {"pool In.W", in.W, 1}, {"pool Size", g.Size, 1},
	}
	if err := checkFields(fields[:]); err != nil {
		return err
	}
	if g.Kind != Max && g.Kind != Avg {
		return fmt.Errorf("unknown pool kind %d (want Max or Avg)", int(g.Kind))
	}
	if g.Size > in.H || g.Size > in.W {
		return fmt.Errorf("pool size %d is larger than the %d×%d input", g.Size, in.H, in.W)
	}
	if !fits(int64(batch), int64(in.C), int64(in.H), int64(in.W)) {
		return fmt.Errorf("pool input of %d × %v has more than MaxLen (%d) elements", batch, in, MaxLen)
	}
	return nil
}

// Out returns the shape of one output image: In.C channels of
// (In.H/Size)×(In.W/Size) pixels, rounded down. For a geometry that Check
// rejects it returns the zero Image.
func (g Pool) Out() Image {
	if g.check(1) != nil {
		return Image{}
	}
	return g.out()
}

// out is Out for a checked geometry.
func (g Pool) out() Image { return Image{C: g.In.C, H: g.In.H / g.Size, W: g.In.W / g.Size} }

// field is one integer of a geometry with its least valid value.
type field struct {
	name   string
	v, min int
}

// checkFields reports the first field below its minimum or above MaxLen.
func checkFields(fs []field) error {
	for _, f := range fs {
		if f.v < f.min {
			return fmt.Errorf("%s is %d, want at least %d", f.name, f.v, f.min)
		}
		if f.v > MaxLen {
			return fmt.Errorf("%s is %d, more than MaxLen (%d)", f.name, f.v, MaxLen)
		}
	}
	return nil
}

// fits reports whether the product of factors, each between 1 and MaxLen, is
// at most MaxLen.
func fits(factors ...int64) bool {
	p := int64(1)
	for _, f := range factors {
		if p > MaxLen/f {
			return false
		}
		p *= f
	}
	return true
}

// checkLen reports a slice whose length is not the one the geometry implies.
func checkLen(name string, got, want int) error {
	if got != want {
		return fmt.Errorf("%s has %d elements, want %d", name, got, want)
	}
	return nil
}
