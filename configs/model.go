package configs

import (
	"fmt"
	"slices"

	"github.com/glr-project/glr/estimators"
	"github.com/glr-project/glr/graph"
)

// Size limits, checked when an experiment is validated, before any data is
// loaded or memory allocated. The number of copies per example is limited
// by each estimator kind (see estimators.MaxCopies).
const (
	MaxHiddenLayers = 64      // entries of model.hidden
	MaxWidth        = 1 << 16 // units of one hidden layer
	MaxConvLayers   = 16      // entries of model.conv
	MaxFilters      = 1024    // filters of one convolution layer
	MaxKernel       = 64      // side of a convolution kernel
	MaxBatch        = 1 << 16 // data.batch_size
	MaxEpochs       = 100000  // train.epochs
	MaxParams       = 1 << 28 // weights and biases of the whole network
	MaxImageSize    = 512     // data.image_size
	MaxClasses      = 200     // data.classes
)

// Shape is the shape of one channels-last image: C channels of H×W pixels.
type Shape struct{ C, H, W int }

// Len returns C·H·W, the number of values of one image.
func (s Shape) Len() int { return s.C * s.H * s.W }

// String formats s as C×H×W.
func (s Shape) String() string { return fmt.Sprintf("%d×%d×%d", s.C, s.H, s.W) }

// ConvShape is the geometry of one convolution layer of a model, for one
// example.
type ConvShape struct {
	// In is the layer's input: the data set's image for the first layer,
	// the previous layer's Out for the others.
	In Shape
	// Conv is the convolution's output, the layer's noise site: Filters
	// channels of OH×OW positions, OH = (In.H + 2·padding − kernel)/stride
	// + 1 rounded down, and likewise OW, as in PyTorch.
	Conv Shape
	// Out is Conv after pooling: (OH/pool)×(OW/pool), rounded down; Conv
	// itself for pool 1.
	Out Shape
}

// Image returns the shape of one input image of the data set d: 1×28×28
// for mnist and fashion-mnist, 1×S×S with S = d.ImageSize for
// tiny-imagenet (grayscale), and zeros for an unknown data set or an
// image_size outside [1, MaxImageSize]. Values are channels-last: channel
// k of pixel (y, x) is feature (y·w + x)·c + k.
func (m Model) Image(d Data) (c, h, w int) {
	switch d.Dataset {
	case "mnist", "fashion-mnist":
		return 1, 28, 28
	case "tiny-imagenet":
		if d.ImageSize >= 1 && d.ImageSize <= MaxImageSize {
			return 1, d.ImageSize, d.ImageSize
		}
	}
	return 0, 0, 0
}

// NumClasses returns the number of classes of the data set d, the width of
// the output layer: 10 for mnist and fashion-mnist, d.Classes for
// tiny-imagenet, 0 for an unknown data set.
func (d Data) NumClasses() int {
	switch d.Dataset {
	case "mnist", "fashion-mnist":
		return 10
	case "tiny-imagenet":
		return d.Classes
	}
	return 0
}

// Sites returns the number of noise sites of the network: one per
// convolution layer, one per hidden layer and one for the output layer.
func (m Model) Sites() int { return len(m.Conv) + len(m.Hidden) + 1 }

// ConvShapes returns the geometry of each convolution layer of m on the
// images of d, input side first; the first dense layer then takes the last
// layer's Out.Len() features. It returns an [*Error] naming the key at
// fault, such as model.conv[1].kernel, if the layers do not fit the images
// or break the size limits.
func (m Model) ConvShapes(d Data) ([]ConvShape, error) {
	var ps problems
	shapes, ok := m.convShapes(&ps, d)
	if !ok && len(ps.list) == 0 {
		checkImage(&ps, d) // why there is no image
	}
	if !ok {
		return nil, &Error{Key: ps.list[0].key, Msg: ps.list[0].msg}
	}
	return shapes, nil
}

// convShapes adds the problems of m's convolution layers to ps and returns
// their geometry, which is complete only if ok. It reports nothing for a
// data set whose image is unknown (checkData does).
func (m Model) convShapes(ps *problems, d Data) (shapes []ConvShape, ok bool) {
	if len(m.Conv) > MaxConvLayers {
		ps.add("model.conv", "%d conv layers exceed the limit of %d", len(m.Conv), MaxConvLayers)
		return nil, false
	}
	c, h, w := m.Image(d)
	if c < 1 || h < 1 || w < 1 {
		return nil, false
	}
	in := Shape{c, h, w}
	for i, l := range m.Conv {
		key := func(name string) string { return fmt.Sprintf("model.conv[%d].%s", i, name) }
		n := len(ps.list)
		checkSize(ps, key("filters"), l.Filters, 1, MaxFilters, "%d filters exceed the limit of %d")
		checkSize(ps, key("kernel"), l.Kernel, 1, MaxKernel, "kernel %d exceeds the limit of %d")
		checkSize(ps, key("stride"), l.Stride, 1, -1, "")
		checkSize(ps, key("padding"), l.Padding, 0, -1, "")
		checkSize(ps, key("pool"), l.Pool, 1, -1, "")
		if l.PoolKind != "max" && l.PoolKind != "avg" {
			ps.add(key("pool_kind"), "unknown pool kind %q (want max | avg)", l.PoolKind)
		}
		switch {
		case l.NoiseAfter != "conv" && l.NoiseAfter != "pool":
			ps.add(key("noise_after"), "unknown noise site %q (want conv | pool)", l.NoiseAfter)
		case l.NoiseAfter == "pool" && l.Pool < 2 && len(ps.list) == n:
			ps.add(key("noise_after"), "noise after the pooling needs a pool of at least 2, got pool = %d", l.Pool)
		}
		if len(ps.list) > n {
			return shapes, false
		}
		if l.Padding >= l.Kernel {
			ps.add(key("padding"), "padding %d is not less than the kernel %d (a patch would lie wholly in the padding)", l.Padding, l.Kernel)
			return shapes, false
		}
		if l.Kernel > in.H+2*l.Padding || l.Kernel > in.W+2*l.Padding {
			ps.add(key("kernel"), "kernel %d is larger than the %d×%d input of conv[%d] (padding %d)", l.Kernel, in.H, in.W, i, l.Padding)
			return shapes, false
		}
		conv := Shape{l.Filters, (in.H+2*l.Padding-l.Kernel)/l.Stride + 1, (in.W+2*l.Padding-l.Kernel)/l.Stride + 1}
		if patch := int64(conv.H) * int64(conv.W) * int64(l.Kernel*l.Kernel) * int64(in.C); patch > graph.MaxElements {
			ps.add(key("kernel"), "the patch matrix of conv[%d] holds %d·%d positions × %d·%d·%d taps = %d values per example, more than the limit of %d",
				i, conv.H, conv.W, l.Kernel, l.Kernel, in.C, patch, int64(graph.MaxElements))
			return shapes, false
		}
		if l.Pool > conv.H || l.Pool > conv.W {
			ps.add(key("pool"), "pool %d is larger than the %d×%d output of conv[%d]", l.Pool, conv.H, conv.W, i)
			return shapes, false
		}
		out := Shape{conv.C, conv.H / l.Pool, conv.W / l.Pool}
		shapes = append(shapes, ConvShape{In: in, Conv: conv, Out: out})
		in = out
	}
	return shapes, true
}

// checkSize reports v below lo, or above hi with the message tooLarge (of
// v and hi), on key; hi < 0 means no upper limit.
func checkSize(ps *problems, key string, v, lo, hi int, tooLarge string) {
	switch {
	case v < lo:
		ps.add(key, "must be >= %d, got %d", lo, v)
	case hi >= 0 && v > hi:
		ps.add(key, tooLarge, v, hi)
	}
}

// checkModel adds the problems of m, on images of d, to ps. It reports
// whether the network's shape is valid, so that its sizes mean something.
func checkModel(ps *problems, m Model, d Data) bool {
	ok := true
	if len(m.Hidden) > MaxHiddenLayers {
		// Once, not per element: the list may be huge.
		ps.add("model.hidden", "%d hidden layers exceed the limit of %d", len(m.Hidden), MaxHiddenLayers)
		ok = false
	} else {
		for i, w := range m.Hidden {
			switch {
			case w < 1:
				ps.add(indexKey("model.hidden", i), "width must be >= 1, got %d", w)
				ok = false
			case w > MaxWidth:
				ps.add(indexKey("model.hidden", i), "width %d exceeds the limit of %d", w, MaxWidth)
				ok = false
			}
		}
	}
	shapes, convOK := m.convShapes(ps, d)
	checkEnum(ps, "model.activation", "activation", m.Activation, activations)
	checkEnum(ps, "model.bias", "bias", m.Bias, biases)
	checkEnum(ps, "model.init", "init", m.Init, inits)
	checkEnum(ps, "model.dtype", "dtype", m.Dtype, dtypes)
	if m.Bias == "input" && len(m.Conv) > 0 {
		ps.add("model.bias", `bias "input" lives in a constant-1 input column of a dense first layer, which a network with conv layers does not have; use "all" or "none"`)
	}
	if !ok || !convOK || d.NumClasses() < 1 || d.NumClasses() > MaxClasses {
		return false
	}
	conv, dense := m.params(shapes, d)
	if total := conv + dense; total > MaxParams {
		key := "model.hidden"
		if conv > dense {
			key = "model.conv"
		}
		ps.add(key, "the network has %d parameters (%d in conv layers, %d in dense layers), more than the limit of %d",
			total, conv, dense, MaxParams)
		return false
	}
	return true
}

// params counts the weights and biases of m's convolution layers and of its
// dense layers (the output layer included), given the layers' shapes.
func (m Model) params(shapes []ConvShape, d Data) (conv, dense int64) {
	bias := m.Bias == "all"
	for i, s := range shapes {
		k := int64(m.Conv[i].Kernel)
		conv += k * k * int64(s.In.C) * int64(s.Conv.C)
		if bias {
			conv += int64(s.Conv.C)
		}
	}
	c, h, w := m.Image(d)
	in := int64(c * h * w)
	if len(shapes) > 0 {
		in = int64(shapes[len(shapes)-1].Out.Len())
	} else if m.Bias == "input" {
		in++
	}
	for _, width := range append(slices.Clip(m.Hidden), d.NumClasses()) {
		dense += in * int64(width)
		if bias {
			dense += int64(width)
		}
		in = int64(width)
	}
	return conv, dense
}

// widest returns the largest number of values one example occupies at any
// layer: the input with a bias column, a dense layer's width, the classes,
// a convolution's filters × output positions. It ignores convolution
// layers that do not fit.
func (m Model) widest(d Data) int {
	c, h, w := m.Image(d)
	widest := max(c*h*w+1, d.NumClasses())
	for _, width := range m.Hidden {
		widest = max(widest, width)
	}
	var ps problems
	shapes, _ := m.convShapes(&ps, d)
	for _, s := range shapes {
		widest = max(widest, s.Conv.Len())
	}
	return widest
}

// Info describes e's network and loss to the estimator kinds, as
// estimators.Settings.Check wants it:
//
//   - Sites: the noise sites, len(Model.Conv) + len(Model.Hidden) + 1;
//   - Threshold: whether Model.Activation is "threshold";
//   - Loss: Loss.Kind, as graph.ParseLossKind reads it;
//   - Batch: Data.BatchSize;
//   - Widest: the largest number of values one example occupies at any
//     layer: the input features + 1, the classes, each hidden width, and
//     each convolution layer's filters × output positions.
//
// For an arm, call it on the arm's [ArmConfig]. It is meaningful only for
// a valid experiment.
func (e *Experiment) Info() estimators.Info {
	loss, _ := graph.ParseLossKind(e.Loss.Kind)
	return estimators.Info{
		Sites:     e.Model.Sites(),
		Threshold: e.Model.Activation == "threshold",
		Loss:      loss,
		Batch:     e.Data.BatchSize,
		Widest:    e.Model.widest(e.Data),
	}
}
