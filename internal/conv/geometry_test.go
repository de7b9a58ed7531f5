package conv

import (
	"fmt"
	"math"
	"testing"
)

// convCase is a convolution geometry with its output size worked out by hand
// from OH = ⌊(H + 2·Pad − Kernel)/Stride⌋ + 1.
type convCase struct {
	name   string
	g      Conv
	batch  int
	oh, ow int
}

var convCases = []convCase{
	{"C1 k3", Conv{In: Image{1, 5, 5}, Filters: 2, Kernel: 3, Stride: 1}, 2, 3, 3},
	{"C3 H≠W pad1", Conv{In: Image{3, 6, 5}, Filters: 4, Kernel: 3, Stride: 1, Pad: 1}, 2, 6, 5},
	{"C3 stride2 pad1", Conv{In: Image{3, 7, 6}, Filters: 2, Kernel: 3, Stride: 2, Pad: 1}, 3, 4, 3},
	{"C1 k5 pad2", Conv{In: Image{1, 5, 7}, Filters: 3, Kernel: 5, Stride: 1, Pad: 2}, 2, 5, 7},
	{"k1", Conv{In: Image{3, 4, 5}, Filters: 2, Kernel: 1, Stride: 1}, 2, 4, 5},
	{"k1 stride2", Conv{In: Image{2, 5, 4}, Filters: 3, Kernel: 1, Stride: 2}, 2, 3, 2},
	{"kernel = input", Conv{In: Image{3, 5, 5}, Filters: 2, Kernel: 5, Stride: 1}, 3, 1, 1},
	{"kernel = input height", Conv{In: Image{2, 4, 6}, Filters: 1, Kernel: 4, Stride: 1}, 2, 1, 3},
	{"kernel > input, padded", Conv{In: Image{1, 3, 3}, Filters: 2, Kernel: 4, Stride: 1, Pad: 1}, 2, 2, 2},
	{"stride2 drops a column", Conv{In: Image{1, 6, 6}, Filters: 1, Kernel: 3, Stride: 2}, 2, 2, 2},
	{"C3 stride3 pad2", Conv{In: Image{3, 8, 7}, Filters: 2, Kernel: 4, Stride: 3, Pad: 2}, 2, 3, 3},
	{"even kernel stride2 pad1", Conv{In: Image{2, 5, 5}, Filters: 2, Kernel: 2, Stride: 2, Pad: 1}, 2, 3, 3},
	{"LeNet conv2", Conv{In: Image{6, 12, 12}, Filters: 16, Kernel: 5, Stride: 1}, 2, 8, 8},
}

// poolCase is a pooling geometry with its output size worked out by hand.
type poolCase struct {
	name   string
	in     Image
	size   int
	batch  int
	oh, ow int
}

var poolCases = []poolCase{
	{"C1 2", Image{1, 4, 4}, 2, 2, 2, 2},
	{"C3 H≠W odd", Image{3, 5, 7}, 2, 2, 2, 3},
	{"size3", Image{2, 6, 6}, 3, 3, 2, 2},
	{"size1 identity", Image{3, 4, 5}, 1, 2, 4, 5},
	{"LeNet pool2", Image{16, 8, 8}, 2, 2, 4, 4},
	{"size3 one trailing column", Image{1, 3, 7}, 3, 2, 1, 2},
	{"size = input", Image{2, 4, 4}, 4, 2, 1, 1},
}

func TestShapes(t *testing.T) {
	for _, c := range convCases {
		if err := c.g.CheckBatch(c.batch); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		want := Image{c.g.Filters, c.oh, c.ow}
		if got := c.g.Out(); got != want {
			t.Errorf("%s: Out = %v, want %v", c.name, got, want)
		}
		if got, want := c.g.PatchWidth(), c.g.Kernel*c.g.Kernel*c.g.In.C; got != want {
			t.Errorf("%s: PatchWidth = %d, want %d", c.name, got, want)
		}
	}
	for _, c := range poolCases {
		for _, kind := range []PoolKind{Max, Avg} {
			g := Pool{In: c.in, Size: c.size, Kind: kind}
			if err := g.CheckBatch(c.batch); err != nil {
				t.Errorf("%s %v: %v", c.name, kind, err)
			}
			if got, want := g.Out(), (Image{c.in.C, c.oh, c.ow}); got != want {
				t.Errorf("%s %v: Out = %v, want %v", c.name, kind, got, want)
			}
		}
	}
	if got := (Conv{In: Image{1, 5, 5}, Filters: 1, Kernel: 3}).Out(); got != (Image{}) {
		t.Errorf("Out of a geometry with stride 0 = %v, want the zero Image", got)
	}
	if got := (Pool{In: Image{1, 5, 5}}).Out(); got != (Image{}) {
		t.Errorf("Out of a pool of size 0 = %v, want the zero Image", got)
	}
}

func TestCheckErrors(t *testing.T) {
	ok := Conv{In: Image{1, 5, 5}, Filters: 1, Kernel: 3, Stride: 1}
	with := func(f func(*Conv)) Conv { g := ok; f(&g); return g }
	huge := fmt.Sprint(math.MaxInt)
	cases := []struct {
		g     Conv
		batch int
		want  string
	}{
		{with(func(g *Conv) { g.Kernel = 7 }), 1, "conv: kernel 7 is larger than the 5×5 input (padding 0)"},
		{Conv{In: Image{1, 5, 6}, Filters: 1, Kernel: 8, Stride: 1, Pad: 1}, 1, "conv: kernel 8 is larger than the 5×6 input (padding 1)"},
		{Conv{In: Image{1, 6, 5}, Filters: 1, Kernel: 8, Stride: 1, Pad: 1}, 1, "conv: kernel 8 is larger than the 6×5 input (padding 1)"},
		{with(func(g *Conv) { g.In.C = 0 }), 1, "conv: In.C is 0, want at least 1"},
		{with(func(g *Conv) { g.In.H = -2 }), 1, "conv: In.H is -2, want at least 1"},
		{with(func(g *Conv) { g.In.W = 0 }), 1, "conv: In.W is 0, want at least 1"},
		{with(func(g *Conv) { g.Filters = 0 }), 1, "conv: Filters is 0, want at least 1"},
		{with(func(g *Conv) { g.Kernel = -1 }), 1, "conv: Kernel is -1, want at least 1"},
		{with(func(g *Conv) { g.Stride = 0 }), 1, "conv: Stride is 0, want at least 1"},
		{with(func(g *Conv) { g.Pad = -1 }), 1, "conv: Pad is -1, want at least 0"},
		{with(func(g *Conv) { g.Pad = 3 }), 1, "conv: padding 3 is not less than the kernel 3 (a patch would lie wholly in the padding)"},
		{ok, 0, "conv: batch is 0, want at least 1"},
		{ok, math.MaxInt, "conv: batch is " + huge + ", more than MaxLen (2147483647)"},
		{with(func(g *Conv) { g.In.H = math.MaxInt }), 1, "conv: In.H is " + huge + ", more than MaxLen (2147483647)"},
		{with(func(g *Conv) { g.Pad = math.MaxInt }), 1, "conv: Pad is " + huge + ", more than MaxLen (2147483647)"},
		{Conv{In: Image{1000, 1000, 1000}, Filters: 1, Kernel: 1, Stride: 1}, 3,
			"conv: input of 3 × 1000×1000×1000 has more than MaxLen (2147483647) elements"},
		{Conv{In: Image{64, 256, 256}, Filters: 1, Kernel: 5, Stride: 1, Pad: 2}, 32,
			"conv: patch matrix of 32·256·256 rows × 5·5·64 columns has more than MaxLen (2147483647) elements"},
		{Conv{In: Image{1, 1000, 1000}, Filters: 3000, Kernel: 1, Stride: 1}, 1,
			"conv: output of 1·1000·1000 rows × 3000 filters has more than MaxLen (2147483647) elements"},
	}
	for _, c := range cases {
		if err := c.g.CheckBatch(c.batch); err == nil || err.Error() != c.want {
			t.Errorf("%+v batch %d: err = %v, want %q", c.g, c.batch, err, c.want)
		}
		if c.batch == 1 {
			if err := c.g.Check(); err == nil || err.Error() != c.want {
				t.Errorf("%+v: Check = %v, want %q", c.g, err, c.want)
			}
		}
	}
	// MaxLen elements are accepted, one more is not.
	edge := Conv{In: Image{MaxLen, 1, 1}, Filters: 1, Kernel: 1, Stride: 1}
	if err := edge.Check(); err != nil {
		t.Errorf("%+v (exactly MaxLen elements): %v", edge, err)
	}
	if err := edge.CheckBatch(2); err == nil {
		t.Errorf("%+v batch 2 (2·MaxLen elements) accepted", edge)
	}
}

func TestPoolCheckErrors(t *testing.T) {
	cases := []struct {
		g     Pool
		batch int
		want  string
	}{
		{Pool{In: Image{1, 4, 4}}, 1, "conv: pool Size is 0, want at least 1"},
		{Pool{In: Image{0, 4, 4}, Size: 2}, 1, "conv: pool In.C is 0, want at least 1"},
		{Pool{In: Image{1, -4, 4}, Size: 2}, 1, "conv: pool In.H is -4, want at least 1"},
		{Pool{In: Image{1, 4, 0}, Size: 2}, 1, "conv: pool In.W is 0, want at least 1"},
		{Pool{In: Image{1, 2, 5}, Size: 3}, 1, "conv: pool size 3 is larger than the 2×5 input"},
		{Pool{In: Image{1, 5, 2}, Size: 3, Kind: Avg}, 1, "conv: pool size 3 is larger than the 5×2 input"},
		{Pool{In: Image{1, 4, 4}, Size: 2, Kind: 2}, 1, "conv: unknown pool kind 2 (want Max or Avg)"},
		{Pool{In: Image{1, 4, 4}, Size: 2}, -1, "conv: batch is -1, want at least 1"},
		{Pool{In: Image{3, 30000, 30000}, Size: 2}, 1,
			"conv: pool input of 1 × 3×30000×30000 has more than MaxLen (2147483647) elements"},
	}
	for _, c := range cases {
		if err := c.g.CheckBatch(c.batch); err == nil || err.Error() != c.want {
			t.Errorf("%+v batch %d: err = %v, want %q", c.g, c.batch, err, c.want)
		}
	}
	if s := PoolKind(5).String(); s != "PoolKind(5)" {
		t.Errorf("PoolKind(5).String() = %q", s)
	}
}

// TestKernelErrors checks that each kernel rejects bad arguments with an
// error that names it, and never panics.
func TestKernelErrors(t *testing.T) {
	g := Conv{In: Image{2, 4, 4}, Filters: 1, Kernel: 3, Stride: 1} // 2·2 rows × 18 columns
	bad := Conv{In: Image{1, 5, 5}, Filters: 1, Kernel: 7, Stride: 1}
	mp := Pool{In: Image{1, 4, 4}, Size: 2}
	ap := Pool{In: Image{1, 4, 4}, Size: 2, Kind: Avg}
	x, cols := make([]float64, 32), make([]float64, 72)
	x16, y4, arg := make([]float32, 16), make([]float32, 4), make([]int32, 4)
	cases := []struct {
		err  error
		want string
	}{
		{Im2col(cols[:71], x, 1, g), "conv: Im2col: dst has 71 elements, want 72"},
		{Im2col(cols, x[:31], 1, g), "conv: Im2col: x has 31 elements, want 32"},
		{Im2col(cols, x, 2, g), "conv: Im2col: x has 32 elements, want 64"},
		{Im2col(cols, x, 0, g), "conv: Im2col: batch is 0, want at least 1"},
		{Im2col(cols, x, 1, bad), "conv: Im2col: kernel 7 is larger than the 5×5 input (padding 0)"},
		{Col2im(x, cols[1:], 1, g), "conv: Col2im: cols has 71 elements, want 72"},
		{Col2im(x[1:], cols, 1, g), "conv: Col2im: dx has 31 elements, want 32"},
		{MaxPool(y4, arg, x16, 1, ap), "conv: MaxPool: pool kind is avg, want max"},
		{MaxPool(y4, arg[:3], x16, 1, mp), "conv: MaxPool: arg has 3 elements, want 4"},
		{MaxPool(y4[:3], arg, x16, 1, mp), "conv: MaxPool: dst has 3 elements, want 4"},
		{MaxPool(y4, arg, x16[:15], 1, mp), "conv: MaxPool: x has 15 elements, want 16"},
		{MaxPoolBackward(x16, y4, arg, 1, ap), "conv: MaxPoolBackward: pool kind is avg, want max"},
		{MaxPoolBackward(x16, y4, arg[:3], 1, mp), "conv: MaxPoolBackward: arg has 3 elements, want 4"},
		{MaxPoolBackward(x16, y4, []int32{0, 1, -1, 3}, 1, mp), "conv: MaxPoolBackward: arg[2] = -1 is outside dx (16 elements)"},
		{MaxPoolBackward(x16, y4, []int32{0, 16, 2, 3}, 1, mp), "conv: MaxPoolBackward: arg[1] = 16 is outside dx (16 elements)"},
		{AvgPool(y4, x16, 1, mp), "conv: AvgPool: pool kind is max, want avg"},
		{AvgPool(y4, x16, 1, Pool{In: Image{1, 2, 5}, Size: 3, Kind: Avg}), "conv: AvgPool: pool size 3 is larger than the 2×5 input"},
		{AvgPoolBackward(x16, y4[1:], 1, ap), "conv: AvgPoolBackward: dy has 3 elements, want 4"},
	}
	if err := Im2col(cols, x, 1, g); err != nil {
		t.Errorf("Im2col with the right sizes: %v", err)
	}
	for _, c := range cases {
		if c.err == nil || c.err.Error() != c.want {
			t.Errorf("err = %v, want %q", c.err, c.want)
		}
	}
}
