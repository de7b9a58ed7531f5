package datasets

import (
	"fmt"
	"sync"

	"github.com/glr-project/glr/internal/parallel"
)

// Set is an in-memory labelled dataset of single-channel (grayscale)
// images. It stores each pixel once, compactly: either as the raw byte of an
// IDX file, whose value is byte/255, or as a float32 (for images that were
// resized or transformed when loaded). Examples are stored row-major, one
// after another.
//
// The pixels are not exported: read them with [Set.Gather], [Set.Gather32],
// [Set.GatherRows64], [Set.GatherRows32] or a [Batch], which convert them to
// float64 or float32 on the fly into a buffer the caller reuses. Build a Set
// with a loader of this package, [NewSet] or [NewSet32]. A Set is safe for
// concurrent reads, so one Set can serve every training run and evaluation
// of a process.
//
// Features must equal Height*Width, and the stored pixels must number
// Len()*Features; the loaders and constructors always return Sets that
// satisfy this, and the readers report an error for a Set that does not
// (for instance after its exported fields were changed).
type Set struct {
	Name          string // e.g. "mnist/train"
	Height, Width int    // image size in pixels (28x28 for MNIST)
	Features      int    // values per example: Height*Width
	Classes       int    // number of classes; every label is in [0, Classes)
	Labels        []int  // Len() labels in [0, Classes)

	// The Len()*Features pixels: at most one of bytes and floats is not
	// nil, and an empty Set may leave both nil.
	bytes  []byte    // raw pixel bytes; pixel value = byte/255
	floats []float32 // pixel values
}

// NewSet returns a Set called name of len(labels) images of height x width
// pixels whose raw bytes are pix, image after image, row-major; pixel value
// b stands for b/255, as in the IDX files of MNIST. The Set shares pix and
// labels with the caller, who must not modify them afterwards.
//
// NewSet returns an error if a dimension or classes is below 1, if
// len(pix) != len(labels)*height*width, or if a label is outside
// [0, classes).
func NewSet(name string, height, width, classes int, pix []byte, labels []int) (*Set, error) {
	s, err := newSet("NewSet", name, height, width, classes, len(pix), labels)
	if err != nil {
		return nil, err
	}
	s.bytes = pix
	return s, nil
}

// NewSet32 is like [NewSet] but takes the pixel values themselves, as
// float32, rather than raw bytes.
func NewSet32(name string, height, width, classes int, pix []float32, labels []int) (*Set, error) {
	s, err := newSet("NewSet32", name, height, width, classes, len(pix), labels)
	if err != nil {
		return nil, err
	}
	s.floats = pix
	return s, nil
}

// newSet checks the arguments of the constructor called op and returns a Set
// without pixels.
func newSet(op, name string, height, width, classes, npix int, labels []int) (*Set, error) {
	if height < 1 || width < 1 || classes < 1 {
		return nil, fmt.Errorf("datasets: %s %q: height %d, width %d, classes %d: want each at least 1",
			op, name, height, width, classes)
	}
	f := height * width
	if f/width != height || npix/f != len(labels) || npix%f != 0 {
		return nil, fmt.Errorf("datasets: %s %q: %d pixel values for %d labels of %dx%d images, want %d*%d",
			op, name, npix, len(labels), height, width, len(labels), f)
	}
	for i, l := range labels {
		if l < 0 || l >= classes {
			return nil, fmt.Errorf("datasets: %s %q: label %d at index %d is out of range [0, %d)", op, name, l, i, classes)
		}
	}
	return &Set{Name: name, Height: height, Width: width, Features: f, Classes: classes, Labels: labels}, nil
}

// Len returns the number of examples in s. It returns 0 for a nil Set.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.Labels)
}

// Image returns the geometry of each example of s: c channels of h rows by w
// columns, c*h*w = Features. Every Set of this package is grayscale, so c is
// 1: MNIST gives 1, 28, 28. Image returns 0, 0, 0 for a nil Set.
func (s *Set) Image() (c, h, w int) {
	if s == nil {
		return 0, 0, 0
	}
	return 1, s.Height, s.Width
}

// pixels returns the number of stored pixel values.
func (s *Set) pixels() int {
	if s.floats != nil {
		return len(s.floats)
	}
	return len(s.bytes)
}

// rows reports how many complete examples s holds, tolerating a Set whose
// pixels and Labels disagree in length.
func (s *Set) rows() int {
	n := len(s.Labels)
	if s.Features > 0 && s.pixels()/s.Features < n {
		n = s.pixels() / s.Features
	}
	return n
}

// check reports an error, naming op, if s is nil or inconsistent.
func (s *Set) check(op string) error {
	if s == nil {
		return fmt.Errorf("datasets: %s on a nil Set", op)
	}
	switch {
	case s.bytes != nil && s.floats != nil:
		return fmt.Errorf("datasets: %s: set %q is inconsistent: it holds both byte and float32 pixels", op, s.Name)
	case s.Features != s.Height*s.Width || s.Features < 0:
		return fmt.Errorf("datasets: %s: set %q is inconsistent: Features = %d, want Height*Width = %d*%d",
			op, s.Name, s.Features, s.Height, s.Width)
	case s.pixels() != len(s.Labels)*s.Features:
		return fmt.Errorf("datasets: %s: set %q is inconsistent: %d pixel values, want Len()*Features = %d*%d",
			op, s.Name, s.pixels(), len(s.Labels), s.Features)
	}
	return nil
}

// Limit returns a Set holding the first n examples of s. If n <= 0 or
// n >= s.Len(), the result holds the whole of s. The result is a new Set
// value with the same Name and geometry that shares its pixels and Labels
// with s (nothing is copied); the capacity of its Labels is clipped so that
// appending to them never overwrites s. Limit returns nil for a nil Set.
func (s *Set) Limit(n int) *Set {
	if s == nil {
		return nil
	}
	rows := s.rows()
	if n <= 0 || n > rows {
		n = rows
	}
	t := *s
	m := n * s.Features
	if s.floats != nil {
		t.floats = s.floats[:m:m]
	} else if s.bytes != nil {
		t.bytes = s.bytes[:m:m]
	}
	t.Labels = s.Labels[:n:n]
	return &t
}

// Byte pixel scales: scale64[b] = float64(b)/255 and scale32[b] =
// float32(b)/float32(255), each the correctly rounded quotient. A table
// gives exactly these values without a division per pixel. (Multiplying by
// a rounded 1/255 instead would differ from the quotient in the last bit
// for some bytes, and so from a float32 PyTorch ToTensor.)
var (
	scale64 [256]float64
	scale32 [256]float32
)

func init() {
	for i := range 256 {
		scale64[i] = float64(i) / 255
		scale32[i] = float32(i) / float32(255)
	}
}

// Gather copies the examples whose indices are listed in idx into x and
// labels: example idx[i] is written to x[i*Features:(i+1)*Features] and
// labels[i]. Pixel values are float64(b)/255 for a raw byte b, or the exact
// float64 value of a float32 pixel. It does not allocate, so it can fill a
// reused minibatch buffer.
//
// labels may be nil to copy only the pixels. Gather returns an error, and
// writes nothing, if s is nil or inconsistent, if an index is out of range
// [0, Len()) or if x (or a non-nil labels) is too short; elements beyond
// len(idx) examples are left unchanged.
func (s *Set) Gather(idx []int, x []float64, labels []int) error {
	if err := s.check("Gather"); err != nil {
		return err
	}
	return gather(s, "Gather", "x", idx, x, s.Features, labels, &scale64)
}

// Gather32 is like [Set.Gather] but writes float32 values: float32(b)/255,
// computed in float32 and correctly rounded, for a raw byte b (exactly what
// a float32 PyTorch ToTensor gives), or the stored float32 value itself.
func (s *Set) Gather32(idx []int, x []float32, labels []int) error {
	if err := s.check("Gather32"); err != nil {
		return err
	}
	return gather(s, "Gather32", "x", idx, x, s.Features, labels, &scale32)
}

// GatherRows64 is like [Set.Gather] but writes example idx[i] to the row
// dst[i*stride : i*stride+Features], leaving the other stride-Features
// elements of each row untouched, so that dst can be a matrix with extra
// columns, such as a constant bias column. stride must be at least
// Features; dst must be long enough for the last row's Features values,
// (len(idx)-1)*stride + Features.
func (s *Set) GatherRows64(idx []int, dst []float64, stride int, labels []int) error {
	if err := s.check("GatherRows64"); err != nil {
		return err
	}
	return gather(s, "GatherRows64", "dst", idx, dst, stride, labels, &scale64)
}

// GatherRows32 is like [Set.GatherRows64] but writes the float32 values of
// [Set.Gather32].
func (s *Set) GatherRows32(idx []int, dst []float32, stride int, labels []int) error {
	if err := s.check("GatherRows32"); err != nil {
		return err
	}
	return gather(s, "GatherRows32", "dst", idx, dst, stride, labels, &scale32)
}

// gather writes the examples of consistent s listed in idx to rows of stride
// values of dst, converting raw bytes through table, after checking every
// argument. op and dstName name the caller and its buffer in errors.
func gather[T float32 | float64](s *Set, op, dstName string, idx []int, dst []T, stride int, labels []int, table *[256]T) error {
	f := s.Features
	if stride < f {
		return fmt.Errorf("datasets: %s: stride %d is below the %d features of set %q", op, stride, f, s.Name)
	}
	if n := len(idx); n > 0 && (len(dst) < f || n > 1 && (len(dst)-f)/(n-1) < stride) {
		rows := ""
		if stride != f {
			rows = fmt.Sprintf(" in rows of %d", stride)
		}
		return fmt.Errorf("datasets: %s: len(%s) = %d, want at least %d for %d examples of %d features%s",
			op, dstName, len(dst), satMulAdd(n-1, stride, f), n, f, rows)
	}
	if labels != nil && len(labels) < len(idx) {
		return fmt.Errorf("datasets: %s: len(labels) = %d, want at least %d", op, len(labels), len(idx))
	}
	n := len(s.Labels)
	for i, j := range idx {
		if j < 0 || j >= n {
			return fmt.Errorf("datasets: %s: idx[%d] = %d out of range [0, %d) for set %q", op, i, j, n, s.Name)
		}
	}
	if len(idx) < 2*gatherRows {
		copyRows(s, idx, dst, stride, table, 0, len(idx))
	} else {
		g := gatherPool[T]().Get().(*gatherJob[T])
		g.s, g.idx, g.dst, g.stride, g.table = s, idx, dst, stride, table
		parallel.For(len(idx), gatherRows, g.body)
		g.s, g.idx, g.dst, g.table = nil, nil, nil, nil
		gatherPool[T]().Put(g)
	}
	if labels != nil {
		for i, j := range idx {
			labels[i] = s.Labels[j]
		}
	}
	return nil
}

// gatherRows is the number of examples a parallel chunk of gather copies.
const gatherRows = 32

// copyRows copies examples idx[lo:hi] of s into their rows of dst.
func copyRows[T float32 | float64](s *Set, idx []int, dst []T, stride int, table *[256]T, lo, hi int) {
	f := s.Features
	if s.floats != nil {
		for i := lo; i < hi; i++ {
			j := idx[i]
			src := s.floats[j*f : (j+1)*f]
			row := dst[i*stride:][:len(src)]
			for k, v := range src {
				row[k] = T(v)
			}
		}
		return
	}
	for i := lo; i < hi; i++ {
		j := idx[i]
		src := s.bytes[j*f : (j+1)*f]
		row := dst[i*stride:][:len(src)]
		for k, b := range src {
			row[k] = table[b]
		}
	}
}

// A gatherJob is one parallel gather; jobs are pooled, with their loop body
// built once, so that a gather allocates nothing.
type gatherJob[T float32 | float64] struct {
	s      *Set
	idx    []int
	dst    []T
	stride int
	table  *[256]T
	body   func(lo, hi int)
}

func (g *gatherJob[T]) rows(lo, hi int) { copyRows(g.s, g.idx, g.dst, g.stride, g.table, lo, hi) }

var gatherPool32 = sync.Pool{New: func() any { g := new(gatherJob[float32]); g.body = g.rows; return g }}
var gatherPool64 = sync.Pool{New: func() any { g := new(gatherJob[float64]); g.body = g.rows; return g }}

func gatherPool[T float32 | float64]() *sync.Pool {
	var zero T
	if _, ok := any(zero).(float32); ok {
		return &gatherPool32
	}
	return &gatherPool64
}

// satMulAdd returns a*b+c for non-negative a, b, c, or the largest int if
// that overflows; it keeps error messages sensible for huge strides.
func satMulAdd(a, b, c int) int {
	const maxInt = int(^uint(0) >> 1)
	if a != 0 && b > (maxInt-c)/a {
		return maxInt
	}
	return a*b + c
}

// Batch is a minibatch: the examples of Set listed in Index, in that order.
// It is a small value that refers to Set's storage without copying it, and
// its methods never allocate, so a training loop can make one per step.
//
// Batch's methods are the interface through which a network reads its
// input: Len, Features, and Write64 or Write32.
type Batch struct {
	Set   *Set
	Index []int
}

// Len returns the number of examples in b, len(b.Index).
func (b Batch) Len() int { return len(b.Index) }

// Features returns the number of values of each example of b: its Set's
// Features, or 0 if Set is nil.
func (b Batch) Features() int {
	if b.Set == nil {
		return 0
	}
	return b.Set.Features
}

// Write64 writes the features of example i of b to dst[i*stride :
// i*stride+Features()] and its class to labels[i], for i in [0, Len()),
// leaving the rest of dst and labels untouched. Values are those of
// [Set.Gather]. labels may be nil to write only the features.
//
// Write64 returns an error, and writes nothing, if b.Set is nil or
// inconsistent, if an index is out of range, if stride < Features(), or if
// dst is shorter than (Len()-1)*stride + Features() or a non-nil labels is
// shorter than Len().
func (b Batch) Write64(dst []float64, stride int, labels []int) error {
	if err := b.Set.check("Batch.Write64"); err != nil {
		return err
	}
	return gather(b.Set, "Batch.Write64", "dst", b.Index, dst, stride, labels, &scale64)
}

// Write32 is like [Batch.Write64] but writes float32 values, those of
// [Set.Gather32].
func (b Batch) Write32(dst []float32, stride int, labels []int) error {
	if err := b.Set.check("Batch.Write32"); err != nil {
		return err
	}
	return gather(b.Set, "Batch.Write32", "dst", b.Index, dst, stride, labels, &scale32)
}

// Compatible reports whether a model trained on train can be evaluated on
// test. It returns an error naming both sets and the numbers involved if
// either set is nil, inconsistent or empty, if their image geometries
// ([Set.Image]) differ, or if their numbers of classes differ; otherwise it
// returns nil.
func Compatible(train, test *Set) error {
	for _, c := range []struct {
		s    *Set
		role string
	}{{train, "training"}, {test, "test"}} {
		if c.s == nil {
			return fmt.Errorf("datasets: the %s set is nil", c.role)
		}
		if err := c.s.check("Compatible"); err != nil {
			return err
		}
		if c.s.Len() == 0 {
			return fmt.Errorf("datasets: the %s set %q is empty", c.role, c.s.Name)
		}
	}
	tc, th, tw := train.Image()
	ec, eh, ew := test.Image()
	if tc != ec || th != eh || tw != ew {
		return fmt.Errorf("datasets: the test set %q holds %dx%dx%d images (channels x height x width) but the training set %q holds %dx%dx%d",
			test.Name, ec, eh, ew, train.Name, tc, th, tw)
	}
	if test.Classes != train.Classes {
		return fmt.Errorf("datasets: the test set %q has %d classes but the training set %q has %d",
			test.Name, test.Classes, train.Name, train.Classes)
	}
	return nil
}
