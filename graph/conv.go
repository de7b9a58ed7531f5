package graph

import (
	"fmt"

	"github.com/chewxy/hm"
	"github.com/glr-project/glr/internal/conv"
	"github.com/glr-project/glr/internal/parallel"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Images are laid out channels-last, one image per row of a matrix: row i
// of a B × (H·W·C) matrix is image i, value ((y·W + x)·C + c). A convolution
// is then an im2col op, whose rows are the patches of every output
// position, followed by a LinearOp: (B·OH·OW) × (k·k·C) patches times a
// (k·k·C) × F kernel give the (B·OH·OW) × F pre-activation, one noise value
// per output position and channel, which is again channels-last. The GLR
// estimate of the kernel is Pᵀ·(diag(L − b)·ψ(R)), one matrix product, with
// each row weighted by the loss of the image it belongs to. With the noise
// after the pooling ([Scope.PooledNoise]) there is one noise value per
// pooled position and channel, and the scores go back through the
// pooling's backward pass before the same product.

// imageGrain is the number of images a parallel image loop hands to one
// goroutine at a time.
const imageGrain = 8

// im2colOp turns a batch of images (one per row) into the matrix of their
// patches for a convolution. Its gradient is the adjoint (col2im).
type im2colOp struct {
	opBase
	g   conv.Conv
	out *tensor.Dense
	// the pass in progress, for the parallel loop
	x, dst *tensor.Dense
	body   func(lo, hi int)
}

// newIm2colOp returns an im2col op for the convolution geometry g; id must be
// unique among the graph's im2col ops.
func newIm2colOp(id string, g conv.Conv) (*im2colOp, error) {
	if err := g.Check(); err != nil {
		return nil, fmt.Errorf("im2col %s: %w", id, err)
	}
	op := &im2colOp{opBase: opBase{id: fmt.Sprintf("glr.Im2col{%s,%v,k%d,s%d,p%d}", id, g.In, g.Kernel, g.Stride, g.Pad)}, g: g}
	op.body = op.images
	return op, nil
}

// Arity is 1.
func (op *im2colOp) Arity() int { return 1 }

// Type is Matrix a → Matrix a.
func (op *im2colOp) Type() hm.Type { return hm.NewFnType(typeMatrix, typeMatrix) }

// InferShape returns (B·OH·OW) × (k·k·C) for B images.
func (op *im2colOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapes(op.id, in, 2)
	if err != nil {
		return nil, err
	}
	rows, cols, err := op.outShape(s[0])
	if err != nil {
		return nil, err
	}
	return tensor.Shape{rows, cols}, nil
}

// outShape is InferShape for the matrix shape s; it allocates only when it
// fails, so that Do allocates nothing.
func (op *im2colOp) outShape(s tensor.Shape) (rows, cols int, err error) {
	if s[1] != op.g.In.Len() {
		return 0, 0, fmt.Errorf("%s: rows of %d values are not %v images", op.id, s[1], op.g.In)
	}
	if err := op.g.CheckBatch(s[0]); err != nil {
		return 0, 0, fmt.Errorf("%s: %w", op.id, err)
	}
	o := op.g.Out()
	return s[0] * o.H * o.W, op.g.PatchWidth(), nil
}

// Do writes the patches into the op's buffer.
func (op *im2colOp) Do(vals ...G.Value) (G.Value, error) {
	if err := arity(op.id, vals, 1); err != nil {
		return nil, err
	}
	x, err := asDense(op.id, 0, vals[0], 2, tensor.Dtype{})
	if err != nil {
		return nil, err
	}
	rows, cols, err := op.outShape(x.Shape())
	if err != nil {
		return nil, err
	}
	op.out = reuse(op.out, tensor.Shape{rows, cols}, x.Dtype())
	op.x, op.dst = x, op.out
	parallel.For(x.Shape()[0], imageGrain, op.body)
	op.x, op.dst = nil, nil
	return op.out, nil
}

// images runs im2col on images [lo, hi) of the pass in progress.
func (op *im2colOp) images(lo, hi int) {
	in, o := op.g.In.Len(), op.g.Out()
	rows := o.H * o.W * op.g.PatchWidth()
	var err error
	if op.x.Dtype() == tensor.Float32 {
		err = conv.Im2col(op.dst.Float32s()[lo*rows:hi*rows], op.x.Float32s()[lo*in:hi*in], hi-lo, op.g)
	} else {
		err = conv.Im2col(op.dst.Float64s()[lo*rows:hi*rows], op.x.Float64s()[lo*in:hi*in], hi-lo, op.g)
	}
	if err != nil {
		panic(err) // the geometry and sizes were checked before the loop
	}
}

// DiffWRT is true.
func (op *im2colOp) DiffWRT(inputs int) []bool { return []bool{true} }

// SymDiff returns col2im of the gradient.
func (op *im2colOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 1 {
		return nil, fmt.Errorf("%s: want 1 input, got %d", op.id, len(inputs))
	}
	g := &col2imOp{opBase: opBase{id: op.id + "/d"}, g: op.g}
	g.body = g.colImages
	d, err := G.ApplyOp(g, grad)
	if err != nil {
		return nil, fmt.Errorf("%s: gradient: %w", op.id, err)
	}
	return G.Nodes{d}, nil
}

// col2imOp accumulates patch gradients back into image gradients.
type col2imOp struct {
	opBase
	g    conv.Conv
	out  *tensor.Dense
	cols *tensor.Dense
	body func(lo, hi int)
}

func (op *col2imOp) Arity() int    { return 1 }
func (op *col2imOp) Type() hm.Type { return hm.NewFnType(typeMatrix, typeMatrix) }

func (op *col2imOp) batch(s tensor.Shape) (int, error) {
	o := op.g.Out()
	if len(s) != 2 || s[1] != op.g.PatchWidth() || s[0]%(o.H*o.W) != 0 {
		return 0, fmt.Errorf("%s: %v is not a patch matrix of %d-value patches", op.id, s, op.g.PatchWidth())
	}
	return s[0] / (o.H * o.W), nil
}

func (op *col2imOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapes(op.id, in, 2)
	if err != nil {
		return nil, err
	}
	b, err := op.batch(s[0])
	if err != nil {
		return nil, err
	}
	return tensor.Shape{b, op.g.In.Len()}, nil
}

func (op *col2imOp) Do(vals ...G.Value) (G.Value, error) {
	if err := arity(op.id, vals, 1); err != nil {
		return nil, err
	}
	cols, err := asDense(op.id, 0, vals[0], 2, tensor.Dtype{})
	if err != nil {
		return nil, err
	}
	b, err := op.batch(cols.Shape())
	if err != nil {
		return nil, err
	}
	op.out = reuse(op.out, tensor.Shape{b, op.g.In.Len()}, cols.Dtype())
	op.cols = cols
	parallel.For(b, imageGrain, op.body)
	op.cols = nil
	return op.out, nil
}

func (op *col2imOp) colImages(lo, hi int) {
	in, o := op.g.In.Len(), op.g.Out()
	rows := o.H * o.W * op.g.PatchWidth()
	var err error
	if op.cols.Dtype() == tensor.Float32 {
		err = conv.Col2im(op.out.Float32s()[lo*in:hi*in], op.cols.Float32s()[lo*rows:hi*rows], hi-lo, op.g)
	} else {
		err = conv.Col2im(op.out.Float64s()[lo*in:hi*in], op.cols.Float64s()[lo*rows:hi*rows], hi-lo, op.g)
	}
	if err != nil {
		panic(err)
	}
}

// poolOp pools a batch of images (one per row): max or average over
// non-overlapping windows. Its gradient routes each output's gradient to the
// input that was the maximum (max), or spreads it over the window (avg); the
// max pool's gradient reads the positions its forward pass recorded, so it
// belongs to the same network.
type poolOp struct {
	opBase
	g   conv.Pool
	out *tensor.Dense
	arg []int32
	// the pass in progress, for the parallel loop
	x    *tensor.Dense
	body func(lo, hi int)
}

// newPoolOp returns a pooling op for the geometry g; id must be unique among
// the graph's pooling ops.
func newPoolOp(id string, g conv.Pool) (*poolOp, error) {
	if err := g.Check(); err != nil {
		return nil, fmt.Errorf("pool %s: %w", id, err)
	}
	op := &poolOp{opBase: opBase{id: fmt.Sprintf("glr.Pool{%s,%v,%v,%d}", id, g.In, g.Kind, g.Size)}, g: g}
	op.body = op.images
	return op, nil
}

// Arity is 1.
func (op *poolOp) Arity() int { return 1 }

// Type is Matrix a → Matrix a.
func (op *poolOp) Type() hm.Type { return hm.NewFnType(typeMatrix, typeMatrix) }

// InferShape returns B × (pooled image size).
func (op *poolOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapes(op.id, in, 2)
	if err != nil {
		return nil, err
	}
	if err := op.checkRows(s[0]); err != nil {
		return nil, err
	}
	return tensor.Shape{s[0][0], op.g.Out().Len()}, nil
}

// checkRows checks that the rows of the matrix shape s are input images.
func (op *poolOp) checkRows(s tensor.Shape) error {
	if s[1] != op.g.In.Len() {
		return fmt.Errorf("%s: rows of %d values are not %v images", op.id, s[1], op.g.In)
	}
	return nil
}

// Do pools into the op's buffer.
func (op *poolOp) Do(vals ...G.Value) (G.Value, error) {
	if err := arity(op.id, vals, 1); err != nil {
		return nil, err
	}
	x, err := asDense(op.id, 0, vals[0], 2, tensor.Dtype{})
	if err != nil {
		return nil, err
	}
	if err := op.checkRows(x.Shape()); err != nil {
		return nil, err
	}
	b := x.Shape()[0]
	if err := op.g.CheckBatch(b); err != nil {
		return nil, fmt.Errorf("%s: %w", op.id, err)
	}
	shape := tensor.Shape{b, op.g.Out().Len()}
	op.out = reuse(op.out, shape, x.Dtype())
	if op.g.Kind == conv.Max && len(op.arg) != shape.TotalSize() {
		op.arg = make([]int32, shape.TotalSize())
	}
	op.x = x
	parallel.For(b, imageGrain, op.body)
	op.x = nil
	return op.out, nil
}

// images pools images [lo, hi). The recorded maxima count from the start of
// each chunk's first image; images shifts them to whole-batch positions.
func (op *poolOp) images(lo, hi int) {
	in, out := op.g.In.Len(), op.g.Out().Len()
	var err error
	switch {
	case op.g.Kind == conv.Max && op.x.Dtype() == tensor.Float32:
		err = conv.MaxPool(op.out.Float32s()[lo*out:hi*out], op.arg[lo*out:hi*out], op.x.Float32s()[lo*in:hi*in], hi-lo, op.g)
	case op.g.Kind == conv.Max:
		err = conv.MaxPool(op.out.Float64s()[lo*out:hi*out], op.arg[lo*out:hi*out], op.x.Float64s()[lo*in:hi*in], hi-lo, op.g)
	case op.x.Dtype() == tensor.Float32:
		err = conv.AvgPool(op.out.Float32s()[lo*out:hi*out], op.x.Float32s()[lo*in:hi*in], hi-lo, op.g)
	default:
		err = conv.AvgPool(op.out.Float64s()[lo*out:hi*out], op.x.Float64s()[lo*in:hi*in], hi-lo, op.g)
	}
	if err != nil {
		panic(err)
	}
	if op.g.Kind == conv.Max && lo > 0 {
		shift := int32(lo * in)
		for i := lo * out; i < hi*out; i++ {
			op.arg[i] += shift
		}
	}
}

// DiffWRT is true.
func (op *poolOp) DiffWRT(inputs int) []bool { return []bool{true} }

// SymDiff returns the pooling's backward pass applied to the gradient.
func (op *poolOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 1 {
		return nil, fmt.Errorf("%s: want 1 input, got %d", op.id, len(inputs))
	}
	g := &poolGradOp{opBase: opBase{id: op.id + "/d"}, fwd: op}
	d, err := G.ApplyOp(g, grad)
	if err != nil {
		return nil, fmt.Errorf("%s: gradient: %w", op.id, err)
	}
	return G.Nodes{d}, nil
}

// poolGradOp is the backward pass of a poolOp.
type poolGradOp struct {
	opBase
	fwd *poolOp
	out *tensor.Dense
}

func (op *poolGradOp) Arity() int    { return 1 }
func (op *poolGradOp) Type() hm.Type { return hm.NewFnType(typeMatrix, typeMatrix) }

func (op *poolGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapes(op.id, in, 2)
	if err != nil {
		return nil, err
	}
	if err := op.checkRows(s[0]); err != nil {
		return nil, err
	}
	return tensor.Shape{s[0][0], op.fwd.g.In.Len()}, nil
}

// checkRows checks that the rows of the matrix shape s are pooled images.
func (op *poolGradOp) checkRows(s tensor.Shape) error {
	if s[1] != op.fwd.g.Out().Len() {
		return fmt.Errorf("%s: rows of %d values are not pooled %v images", op.id, s[1], op.fwd.g.Out())
	}
	return nil
}

func (op *poolGradOp) Do(vals ...G.Value) (G.Value, error) {
	if err := arity(op.id, vals, 1); err != nil {
		return nil, err
	}
	dy, err := asDense(op.id, 0, vals[0], 2, tensor.Dtype{})
	if err != nil {
		return nil, err
	}
	if err := op.checkRows(dy.Shape()); err != nil {
		return nil, err
	}
	b, g := dy.Shape()[0], op.fwd.g
	shape := tensor.Shape{b, g.In.Len()}
	op.out = reuse(op.out, shape, dy.Dtype())
	switch {
	case g.Kind == conv.Max && len(op.fwd.arg) != dy.Shape().TotalSize():
		return nil, fmt.Errorf("%s: the forward pass recorded no maxima for this batch", op.id)
	case g.Kind == conv.Max && dy.Dtype() == tensor.Float32:
		err = conv.MaxPoolBackward(op.out.Float32s(), dy.Float32s(), op.fwd.arg, b, g)
	case g.Kind == conv.Max:
		err = conv.MaxPoolBackward(op.out.Float64s(), dy.Float64s(), op.fwd.arg, b, g)
	case dy.Dtype() == tensor.Float32:
		err = conv.AvgPoolBackward(op.out.Float32s(), dy.Float32s(), b, g)
	default:
		err = conv.AvgPoolBackward(op.out.Float64s(), dy.Float64s(), b, g)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op.id, err)
	}
	return op.out, nil
}

// ReshapeOp views a matrix as another of the same size without copying: the
// (B·OH·OW) × F output of a convolution as B × (OH·OW·F) images, and back.
type ReshapeOp struct {
	opBase
	rows, cols int // the output shape; rows −1 means size/cols
	view       *tensor.Dense
	in         *tensor.Dense
}

// NewReshapeOp returns an op that views its input as rows of cols values;
// id must be unique among the graph's reshape ops.
func NewReshapeOp(id string, cols int) *ReshapeOp {
	return &ReshapeOp{opBase: opBase{id: fmt.Sprintf("glr.Reshape{%s,%d}", id, cols)}, cols: cols}
}

// Arity is 1.
func (op *ReshapeOp) Arity() int { return 1 }

// Type is Matrix a → Matrix a.
func (op *ReshapeOp) Type() hm.Type { return hm.NewFnType(typeMatrix, typeMatrix) }

// InferShape returns (size/cols) × cols.
func (op *ReshapeOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapes(op.id, in, 2)
	if err != nil {
		return nil, err
	}
	rows, err := op.rowsOf(s[0])
	if err != nil {
		return nil, err
	}
	return tensor.Shape{rows, op.cols}, nil
}

// rowsOf returns the number of output rows for an input of shape s.
func (op *ReshapeOp) rowsOf(s tensor.Shape) (int, error) {
	n := s.TotalSize()
	if op.cols < 1 || n%op.cols != 0 {
		return 0, fmt.Errorf("%s: %v does not reshape into rows of %d", op.id, s, op.cols)
	}
	return n / op.cols, nil
}

// Do returns a view of the input; the view is made again only when the
// input's buffer changes.
func (op *ReshapeOp) Do(vals ...G.Value) (G.Value, error) {
	if err := arity(op.id, vals, 1); err != nil {
		return nil, err
	}
	x, err := asDense(op.id, 0, vals[0], 2, tensor.Dtype{})
	if err != nil {
		return nil, err
	}
	rows, err := op.rowsOf(x.Shape())
	if err != nil {
		return nil, err
	}
	shape := tensor.Shape{rows, op.cols}
	if op.in != x || op.view == nil || !op.view.Shape().Eq(shape) {
		var backing any
		if x.Dtype() == tensor.Float32 {
			backing = x.Float32s()
		} else {
			backing = x.Float64s()
		}
		op.view = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(backing))
		op.in = x
	}
	return op.view, nil
}

// DiffWRT is true.
func (op *ReshapeOp) DiffWRT(inputs int) []bool { return []bool{true} }

// SymDiff reshapes the gradient back to the input's shape.
func (op *ReshapeOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 1 {
		return nil, fmt.Errorf("%s: want 1 input, got %d", op.id, len(inputs))
	}
	d, err := G.ApplyOp(NewReshapeOp(op.id+"/d", inputs[0].Shape()[1]), grad)
	if err != nil {
		return nil, fmt.Errorf("%s: gradient: %w", op.id, err)
	}
	return G.Nodes{d}, nil
}

// Image is the geometry of a channels-last image: C channels of H × W.
type Image struct{ C, H, W int }

// Len is C·H·W.
func (m Image) Len() int { return m.C * m.H * m.W }

// String returns "C×H×W".
func (m Image) String() string { return fmt.Sprintf("%d×%d×%d", m.C, m.H, m.W) }

func (m Image) internal() conv.Image { return conv.Image{C: m.C, H: m.H, W: m.W} }

// ConvOut returns the output image of a convolution of filters kernels of
// side kernel with the given stride and zero padding (floor division, as
// PyTorch), or an error naming what does not fit.
func ConvOut(in Image, filters, kernel, stride, pad int) (Image, error) {
	g := conv.Conv{In: in.internal(), Filters: filters, Kernel: kernel, Stride: stride, Pad: pad}
	if err := g.Check(); err != nil {
		return Image{}, err
	}
	o := g.Out()
	return Image{C: o.C, H: o.H, W: o.W}, nil
}

// PoolKind is max or average pooling.
type PoolKind int

const (
	// MaxPool takes the largest value of each window.
	MaxPool PoolKind = iota
	// AvgPool takes the mean of each window.
	AvgPool
)

// ParsePoolKind maps "max" and "avg" to their PoolKind.
func ParsePoolKind(s string) (PoolKind, error) {
	switch s {
	case "max":
		return MaxPool, nil
	case "avg":
		return AvgPool, nil
	}
	return 0, fmt.Errorf("unknown pool kind %q (want max | avg)", s)
}

// String returns "max" or "avg".
func (k PoolKind) String() string {
	if k == AvgPool {
		return "avg"
	}
	return "max"
}

// PoolOut returns the output image of pooling in over windows of side size
// (floor division), or an error naming what does not fit.
func PoolOut(in Image, size int) (Image, error) {
	g := conv.Pool{In: in.internal(), Size: size}
	if err := g.Check(); err != nil {
		return Image{}, err
	}
	o := g.Out()
	return Image{C: o.C, H: o.H, W: o.W}, nil
}

// Conv adds a convolution of x (one channels-last image of geometry in per
// row) to the network: im2col, then a linear map with a kernel parameter
// "K" of (kernel·kernel·C) × filters and, with bias, a vector "b" of
// filters. It returns the pre-activation ((B·OH·OW) × filters), the patches
// and the parameters, for [Scope.Noise].
func (s *Scope) Conv(x *G.Node, in Image, filters, kernel, stride, pad int, bias bool, init Initializer) (pre, patches, k, b *G.Node, err error) {
	g := conv.Conv{In: in.internal(), Filters: filters, Kernel: kernel, Stride: stride, Pad: pad}
	im, err := newIm2colOp(s.nextID("im2col"), g)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if patches, err = G.ApplyOp(im, x); err != nil {
		return nil, nil, nil, nil, fmt.Errorf("im2col: %w", err)
	}
	if k, err = s.Param("K", g.PatchWidth(), g.Filters, init); err != nil {
		return nil, nil, nil, nil, err
	}
	args := G.Nodes{patches, k}
	if bias {
		if b, err = s.Param("b", g.Filters, 0, init); err != nil {
			return nil, nil, nil, nil, err
		}
		args = append(args, b)
	}
	if pre, err = G.ApplyOp(NewLinearOp(s.nextID("linear"), bias), args...); err != nil {
		return nil, nil, nil, nil, fmt.Errorf("patches·K: %w", err)
	}
	return pre, patches, k, b, nil
}

// PooledNoise routes the pre-activation of a convolution through pooling
// and then a noise site: pre ((B·positions) × filters, positions the
// out.H·out.W positions of the convolution's output image out) is pooled
// over windows of side size, and the noise is added to the pooled
// pre-activation, one value per pooled position and filter. The result has
// one row per pooled position, (B·pooled positions) × filters, for the
// activation. Pooling before the activation gives the same network, noise
// aside, for max pooling and a non-decreasing activation, with a quarter of
// the noisy units for a pool of 2; the GLR estimate of the kernel is then
// Pᵀ·U(diag(L − b)·ψ(R)), with U the pooling's backward pass
// ([Site.Unpool]). patches, k and b are those [Scope.Conv] returns.
func (s *Scope) PooledNoise(pre, patches, k, b *G.Node, out Image, size int, kind PoolKind) (*G.Node, error) {
	if err := s.checkSite(patches, k, b); err != nil {
		return nil, err
	}
	positions := out.H * out.W
	if pre.Dims() != 2 || pre.Shape()[1] != k.Shape()[1] || k.Shape()[1] != out.C || pre.Shape()[0] != patches.Shape()[0] || pre.Shape()[0]%positions != 0 {
		return nil, fmt.Errorf("noise site %s: pre-activation %v does not match patches %v · kernel %v of %v images", s.prefix, pre.Shape(), patches.Shape(), k.Shape(), out)
	}
	if size < 2 {
		return nil, fmt.Errorf("noise site %s: noise after pooling needs a pool of at least 2, got %d", s.prefix, size)
	}
	img, err := s.Images(pre, positions)
	if err != nil {
		return nil, err
	}
	y, op, err := s.pool(img, out, size, kind)
	if err != nil {
		return nil, err
	}
	rows, err := G.ApplyOp(NewReshapeOp(s.nextID("reshape"), out.C), y)
	if err != nil {
		return nil, fmt.Errorf("pooled rows: %w", err)
	}
	return s.addSite(rows, patches, k, b, op)
}

// Images views the (B·positions) × C rows of a convolution's output as B
// images of positions·C values, one per row.
func (s *Scope) Images(y *G.Node, positions int) (*G.Node, error) {
	if y.Dims() != 2 {
		return nil, fmt.Errorf("images: want a matrix, got shape %v", y.Shape())
	}
	v, err := G.ApplyOp(NewReshapeOp(s.nextID("reshape"), positions*y.Shape()[1]), y)
	if err != nil {
		return nil, fmt.Errorf("images: %w", err)
	}
	return v, nil
}

// Pool pools x (one image of geometry in per row) over windows of side size;
// a size of 1 returns x.
func (s *Scope) Pool(x *G.Node, in Image, size int, kind PoolKind) (*G.Node, error) {
	if size == 1 {
		return x, nil
	}
	y, _, err := s.pool(x, in, size, kind)
	return y, err
}

// pool applies a new pooling op to x and returns its output and the op.
func (s *Scope) pool(x *G.Node, in Image, size int, kind PoolKind) (*G.Node, *poolOp, error) {
	g := conv.Pool{In: in.internal(), Size: size, Kind: conv.Max}
	if kind == AvgPool {
		g.Kind = conv.Avg
	}
	op, err := newPoolOp(s.nextID("pool"), g)
	if err != nil {
		return nil, nil, err
	}
	y, err := G.ApplyOp(op, x)
	if err != nil {
		return nil, nil, fmt.Errorf("pool: %w", err)
	}
	return y, op, nil
}
