package configs

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestConvErrors(t *testing.T) {
	const model = "name = \"x\"\n[model]\nbias = \"all\"\n"
	runLoadErrors(t, []loadErrorTest{
		{
			name: "kernel larger than its input",
			// conv[0]: 28 − 5 + 1 = 24, pooled by 6 to 4×4.
			src:  model + "conv = [{filters = 2, kernel = 5, pool = 6},\n  {filters = 4, kernel = 7}]\n",
			want: `FILE:5: model.conv[1].kernel: kernel 7 is larger than the 4×4 input of conv[1] (padding 0)`,
		},
		{
			name: "kernel larger than the tiny-imagenet image",
			src:  model + "conv = [{filters = 2, kernel = 9}]\n[data]\ndataset = \"tiny-imagenet\"\npath = \"/d\"\nimage_size = 8\n",
			want: `FILE:4: model.conv[0].kernel: kernel 9 is larger than the 8×8 input of conv[0] (padding 0)`,
		},
		{
			name: "padding lets a kernel fit",
			src:  model + "conv = [{filters = 2, kernel = 5, pool = 6}, {filters = 4, kernel = 7, padding = 1}]\n",
			want: `FILE:4: model.conv[1].kernel: kernel 7 is larger than the 4×4 input of conv[1] (padding 1)`,
		},
		{
			name: "pool larger than the conv output",
			src:  model + "conv = [{filters = 2, kernel = 5, pool = 25}]\n",
			want: `FILE:4: model.conv[0].pool: pool 25 is larger than the 24×24 output of conv[0]`,
		},
		{
			name: "stride makes the output smaller than the pool",
			// (28 − 4)/10 + 1 = 3.
			src:  model + "conv = [{filters = 2, kernel = 4, stride = 10, pool = 4}]\n",
			want: `FILE:4: model.conv[0].pool: pool 4 is larger than the 3×3 output of conv[0]`,
		},
		{
			name: "explicit zero stride",
			src:  model + "conv = [{filters = 2, kernel = 3, stride = 0}]\n",
			want: `FILE:4: model.conv[0].stride: must be >= 1, got 0`,
		},
		{
			name: "zero filters and negative padding",
			src:  model + "[[model.conv]]\nfilters = 0\nkernel = 3\npadding = -1\n",
			want: "FILE:5: model.conv[0].filters: must be >= 1, got 0\n" +
				"FILE:7: model.conv[0].padding: must be >= 0, got -1",
		},
		{
			name: "zero pool",
			src:  model + "conv = [{filters = 2, kernel = 3, pool = 0}]\n",
			want: `FILE:4: model.conv[0].pool: must be >= 1, got 0`,
		},
		{
			name: "padding not less than the kernel",
			src:  model + "conv = [{filters = 2, kernel = 3, padding = 3}]\n",
			want: `FILE:4: model.conv[0].padding: padding 3 is not less than the kernel 3 (a patch would lie wholly in the padding)`,
		},
		{
			name: "bad pool kind",
			src:  model + "conv = [{filters = 2, kernel = 3, pool_kind = \"min\"}]\n",
			want: `FILE:4: model.conv[0].pool_kind: unknown pool kind "min" (want max | avg)`,
		},
		{
			name: "bad noise site",
			src:  model + "conv = [{filters = 2, kernel = 3, pool = 2, noise_after = \"act\"}]\n",
			want: `FILE:4: model.conv[0].noise_after: unknown noise site "act" (want conv | pool)`,
		},
		{
			name: "noise after no pooling",
			src:  model + "[[model.conv]]\nfilters = 2\nkernel = 3\nnoise_after = \"pool\"\n",
			want: `FILE:7: model.conv[0].noise_after: noise after the pooling needs a pool of at least 2, got pool = 1`,
		},
		{
			name: "missing filters and kernel",
			src:  model + "conv = [{filters = 2, kernel = 3},\n  {pool = 2}]\n",
			want: "FILE:4: model.conv[1].filters: required, must be an integer >= 1\n" +
				"FILE:4: model.conv[1].kernel: required, must be an integer >= 1",
		},
		{
			name: "missing kernel under a header",
			src:  model + "[[model.conv]]\nfilters = 2\nkernel = 3\n[[model.conv]]\nfilters = 2\n",
			want: `FILE:7: model.conv[1].kernel: required, must be an integer >= 1`,
		},
		{
			name: "unknown conv key",
			src:  model + "conv = [{filter = 2, kernel = 3}]\n",
			want: "FILE:4: model.conv[0].filter: unknown key (did you mean \"filters\"?)\n" +
				"FILE:4: model.conv[0].filters: required, must be an integer >= 1",
		},
		{
			name: "conv key of the wrong type",
			src:  model + "conv = [{filters = 2.5, kernel = 3}]\n",
			want: `FILE:4: model.conv[0].filters: want integer, got float 2.5`,
		},
		{
			name: "conv not an array",
			src:  model + "conv = 5\n",
			want: `FILE:4: model.conv: want array of tables, got integer 5`,
		},
		{
			name: "conv element not a table",
			src:  model + "conv = [{filters = 2, kernel = 3}, 1]\n",
			want: `FILE:4: model.conv[1]: want table, got integer 1`,
		},
		{
			name: "input bias with conv layers",
			src:  "name = \"x\"\n[model]\nconv = [{filters = 2, kernel = 3}]\n",
			want: `FILE: model.bias: bias "input" lives in a constant-1 input column of a dense first layer, which a network with conv layers does not have; use "all" or "none"`,
		},
		{
			name: "-set of the conv layers",
			src:  model,
			sets: []string{"model.conv=[{filters=4,kernel=30}]"},
			want: `-set model.conv[0].kernel: kernel 30 is larger than the 28×28 input of conv[0] (padding 0)`,
		},
		{
			name: "-set of conv layers without a kernel",
			src:  model,
			sets: []string{"model.conv=[{filters=4}]"},
			want: `-set model.conv[0].kernel: required, must be an integer >= 1`,
		},
		{
			name: "-set of one conv layer",
			src:  model + "conv = [{filters = 2, kernel = 3}]\n",
			sets: []string{"model.conv[0].kernel=5"},
			want: `-set model.conv[0].kernel: cannot index model.conv; set the whole value`,
		},
		{
			name: "-set of conv layers that are not TOML",
			src:  model,
			sets: []string{"model.conv=[{filters=4"},
			want: `-set model.conv: want array of tables, got "[{filters=4"`,
		},
	})
}

func TestConvShapes(t *testing.T) {
	tests := []struct {
		name  string
		conv  []ConvLayer
		data  Data
		want  []ConvShape
		sites int
	}{
		{"none", nil, Data{Dataset: "mnist"}, nil, 2},
		{
			"lenet",
			[]ConvLayer{
				{Filters: 6, Kernel: 5, Stride: 1, Padding: 2, Pool: 2, PoolKind: "max", NoiseAfter: "conv"},
				{Filters: 16, Kernel: 5, Stride: 1, Pool: 2, PoolKind: "avg", NoiseAfter: "pool"},
			},
			Data{Dataset: "fashion-mnist"},
			[]ConvShape{
				{In: Shape{1, 28, 28}, Conv: Shape{6, 28, 28}, Out: Shape{6, 14, 14}},
				{In: Shape{6, 14, 14}, Conv: Shape{16, 10, 10}, Out: Shape{16, 5, 5}},
			},
			4,
		},
		{
			// PyTorch's floor: (13 + 2 − 3)/2 + 1 = 7, pooled by 3 to 2.
			"floor",
			[]ConvLayer{{Filters: 3, Kernel: 3, Stride: 2, Padding: 1, Pool: 3, PoolKind: "max", NoiseAfter: "conv"}},
			Data{Dataset: "tiny-imagenet", ImageSize: 13},
			[]ConvShape{{In: Shape{1, 13, 13}, Conv: Shape{3, 7, 7}, Out: Shape{3, 2, 2}}},
			3, // one conv layer, one hidden layer, the output layer
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Model{Conv: tt.conv, Hidden: []int{10}}
			got, err := m.ConvShapes(tt.data)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ConvShapes = %v, want %v", got, tt.want)
			}
			if m.Sites() != tt.sites {
				t.Errorf("Sites = %d, want %d", m.Sites(), tt.sites)
			}
		})
	}

	m := Model{Conv: []ConvLayer{NewConvLayer(2, 5), NewConvLayer(2, 25)}}
	_, err := m.ConvShapes(Data{Dataset: "mnist"})
	var ce *Error
	if !errors.As(err, &ce) || ce.Key != "model.conv[1].kernel" ||
		err.Error() != "model.conv[1].kernel: kernel 25 is larger than the 24×24 input of conv[1] (padding 0)" {
		t.Errorf("ConvShapes of a misfit = %v", err)
	}
	if _, err := m.ConvShapes(Data{Dataset: "cifar"}); err == nil ||
		err.Error() != `data.dataset: unknown dataset "cifar" (want mnist | fashion-mnist | tiny-imagenet)` {
		t.Errorf("ConvShapes of an unknown data set = %v", err)
	}
	if _, err := m.ConvShapes(Data{Dataset: "tiny-imagenet", ImageSize: 0}); err == nil ||
		err.Error() != `data.image_size: must be in [1, 512], got 0` {
		t.Errorf("ConvShapes of an empty image = %v", err)
	}
}

func TestImageAndInfo(t *testing.T) {
	tests := []struct {
		data    Data
		c, h, w int
		classes int
	}{
		{Data{Dataset: "mnist", ImageSize: 5, Classes: 3}, 1, 28, 28, 10},
		{Data{Dataset: "fashion-mnist"}, 1, 28, 28, 10},
		{Data{Dataset: "tiny-imagenet", ImageSize: 48, Classes: 20}, 1, 48, 48, 20},
		{Data{Dataset: "tiny-imagenet", ImageSize: 513}, 0, 0, 0, 0},
		{Data{Dataset: "cifar"}, 0, 0, 0, 0},
	}
	for _, tt := range tests {
		c, h, w := Model{}.Image(tt.data)
		if c != tt.c || h != tt.h || w != tt.w || tt.data.NumClasses() != tt.classes {
			t.Errorf("%+v: image %d×%d×%d, %d classes; want %d×%d×%d, %d", tt.data, c, h, w,
				tt.data.NumClasses(), tt.c, tt.h, tt.w, tt.classes)
		}
	}

	src := `name = "info"
[model]
conv = [{filters = 6, kernel = 5, padding = 2, pool = 2}, {filters = 16, kernel = 5, pool = 2}]
hidden = [120, 84]
activation = "threshold"
bias = "none"
[loss]
kind = "zero-one"
[data]
batch_size = 16
`
	e, err := Parse("info.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	info := e.Info()
	// The widest layer is the first convolution: 6 × 28 × 28 = 4704 values,
	// more than the 785 of the input.
	if info.Sites != 5 || !info.Threshold || info.Loss.String() != "zero-one" || info.Batch != 16 || info.Widest != 4704 {
		t.Errorf("Info = %+v", info)
	}
	dense := Default()
	dense.Model.Hidden = []int{1000, 20}
	if got := dense.Info(); got.Sites != 3 || got.Threshold || got.Widest != 1000 || got.Batch != 32 {
		t.Errorf("Info of a dense network = %+v", got)
	}
	dense.Model.Hidden = []int{3}
	if got := dense.Info(); got.Widest != 785 {
		t.Errorf("Info of a narrow network has Widest %d, want the input's 785", got.Widest)
	}
}

func TestNoiseScales(t *testing.T) {
	// Three sites: a conv layer, the default hidden layer, the output layer.
	e, err := Parse("s.toml", []byte("name = \"x\"\n[model]\nbias = \"none\"\nconv = [{filters = 2, kernel = 3}]\n[noise]\nscale = [0.5, 1, 2e-1]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Scales{0.5, 1, 0.2}); !reflect.DeepEqual(e.Noise.Scale, want) {
		t.Errorf("scale = %v, want %v", e.Noise.Scale, want)
	}
	var b bytes.Buffer
	if err := e.Encode(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "\nscale = [0.5, 1.0, 0.2]\n") {
		t.Errorf("encoding of three scales:\n%s", b.String())
	}

	runLoadErrors(t, []loadErrorTest{
		{
			name: "too many scales",
			src:  "name = \"x\"\n[noise]\nscale = [1, 2, 3]\n",
			want: `FILE:3: noise.scale: 3 values for a network of 2 noise sites (want 1 value, or one per site)`,
		},
		{
			name: "no scale",
			src:  "name = \"x\"\n[noise]\nscale = []\n",
			want: `FILE:3: noise.scale: 0 values for a network of 2 noise sites (want 1 value, or one per site)`,
		},
		{
			name: "a bad scale",
			src:  "name = \"x\"\n[noise]\nscale = [\n  1,\n  0,\n]\n",
			want: `FILE:3: noise.scale[1]: must be > 0 and finite, got 0`,
		},
		{
			name: "an infinite scale",
			src:  "name = \"x\"\n[noise]\nscale = [inf, 1]\n",
			want: `FILE:3: noise.scale[0]: must be > 0 and finite, got inf`,
		},
		{
			name: "a scale of the wrong type",
			src:  "name = \"x\"\n[noise]\nscale = [1, \"a\"]\n",
			want: `FILE:3: noise.scale: want float or array of floats, got string "a" at index 1`,
		},
		{
			name: "a scale too large to be exact",
			src:  "name = \"x\"\n[noise]\nscale = [1, 9007199254740993]\n",
			want: `FILE:3: noise.scale: integer 9007199254740993 is too large to be exact as a float; write it as a float at index 1`,
		},
		{
			name: "an arm's scales of the wrong length",
			src:  "name = \"x\"\n[[arms]]\nname = \"a\"\n[arms.noise]\nscale = [1, 2, 3]\n",
			want: `FILE:5: arms[0].noise.scale: 3 values for a network of 2 noise sites (want 1 value, or one per site)`,
		},
		{
			name: "an arm's bad scale",
			src:  "name = \"x\"\n[[arms]]\nname = \"a\"\nnoise.scale = [1, -1]\n",
			want: `FILE:4: arms[0].noise.scale[1]: must be > 0 and finite, got -1`,
		},
		{
			name: "-set of scales of the wrong length",
			src:  "name = \"x\"\n",
			sets: []string{"noise.scale=[0.5,1,1]"},
			want: `-set noise.scale: 3 values for a network of 2 noise sites (want 1 value, or one per site)`,
		},
		{
			name: "scales for a network whose sites are unknown",
			src:  "name = \"x\"\n[model]\nhidden = [" + strings.Repeat("1, ", 70) + "1]\n[noise]\nscale = [1, 2]\n",
			want: `FILE:3: model.hidden: 71 hidden layers exceed the limit of 64`,
		},
	})

	// Arms may override the scales, and -set may give an array.
	e, err = Parse("s.toml", []byte("name = \"x\"\n[[arms]]\nname = \"a\"\n[[arms]]\nname = \"b\"\n[arms.noise]\nscale = [0.1, 0.2]\n"),
		"noise.scale=[0.5,1]")
	if err != nil {
		t.Fatal(err)
	}
	arms := e.Resolved()
	if !reflect.DeepEqual(arms[0].Noise.Scale, Scales{0.5, 1}) || !reflect.DeepEqual(arms[1].Noise.Scale, Scales{0.1, 0.2}) {
		t.Errorf("arms' scales = %v and %v", arms[0].Noise.Scale, arms[1].Noise.Scale)
	}
}

func TestSizeLimits(t *testing.T) {
	runLoadErrors(t, []loadErrorTest{
		{
			name: "a hidden layer too wide",
			src:  "name = \"x\"\n[model]\nhidden = [100000000]\n",
			want: `FILE:3: model.hidden[0]: width 100000000 exceeds the limit of 65536`,
		},
		{
			name: "-set of a hidden layer too wide",
			src:  "name = \"x\"\n",
			sets: []string{"model.hidden=[100000000]"},
			want: `-set model.hidden[0]: width 100000000 exceeds the limit of 65536`,
		},
		{
			name: "too many hidden layers",
			src:  "name = \"x\"\n[model]\nhidden = [" + strings.Repeat("10, ", 64) + "10]\n",
			want: `FILE:3: model.hidden: 65 hidden layers exceed the limit of 64`,
		},
		{
			// Reported once, and fast: nothing is done per layer.
			name: "two million hidden layers",
			src:  "name = \"x\"\n[model]\nhidden = [" + strings.Repeat("0,", 2000000-1) + "0]\n",
			want: `FILE:3: model.hidden: 2000000 hidden layers exceed the limit of 64`,
		},
		{
			name: "too many conv layers",
			src:  "name = \"x\"\n[model]\nbias = \"all\"\nconv = [" + strings.Repeat("{filters = 1, kernel = 1}, ", 16) + "{filters = 1, kernel = 1}]\n",
			want: `FILE:4: model.conv: 17 conv layers exceed the limit of 16`,
		},
		{
			name: "too many filters",
			src:  "name = \"x\"\n[model]\nbias = \"all\"\nconv = [{filters = 2000, kernel = 3}]\n",
			want: `FILE:4: model.conv[0].filters: 2000 filters exceed the limit of 1024`,
		},
		{
			name: "a kernel too large",
			src:  "name = \"x\"\n[model]\nbias = \"all\"\nconv = [{filters = 2, kernel = 65}]\n",
			want: `FILE:4: model.conv[0].kernel: kernel 65 exceeds the limit of 64`,
		},
		{
			name: "a batch too large",
			src:  "name = \"x\"\n[data]\nbatch_size = 100000\n",
			want: `FILE:3: data.batch_size: 100000 examples exceed the limit of 65536`,
		},
		{
			name: "too many epochs",
			src:  "name = \"x\"\n[train]\nepochs = 100001\n",
			want: `FILE:3: train.epochs: 100001 epochs exceed the limit of 100000`,
		},
		{
			// 785·65536 + 65536·65536 + 65536·10 weights.
			name: "too many dense parameters",
			src:  "name = \"x\"\n[model]\nhidden = [65536, 65536]\n",
			want: `FILE:3: model.hidden: the network has 4347068416 parameters (0 in conv layers, 4347068416 in dense layers), more than the limit of 268435456`,
		},
		{
			// Each width is within its limit; together 785·60000 +
			// 60000·5000 + 5000·10 weights are not.
			name: "too many parameters across layers",
			src:  "name = \"x\"\n[model]\nhidden = [60000, 5000]\n",
			want: `FILE:3: model.hidden: the network has 347150000 parameters (0 in conv layers, 347150000 in dense layers), more than the limit of 268435456`,
		},
		{
			// conv[0]: 1·3·3·1024 + 1024 = 10240; pooled by 8 to 63×63.
			// conv[1]: 1024·60·60·1024 + 1024 = 3774874624; 4×4 out.
			// dense: 1024·4·4·10 + 10 = 163850.
			name: "too many conv parameters",
			src: "name = \"x\"\n[model]\nbias = \"all\"\nhidden = []\n" +
				"conv = [{filters = 1024, kernel = 3, pool = 8}, {filters = 1024, kernel = 60}]\n" +
				"[data]\ndataset = \"tiny-imagenet\"\npath = \"/d\"\nimage_size = 512\n",
			want: `FILE:5: model.conv: the network has 3775048714 parameters (3774884864 in conv layers, 163850 in dense layers), more than the limit of 268435456`,
		},
		{
			// 1×512×512 input, kernel 64: 449·449 positions × 64·64·1 taps.
			name: "a patch matrix too large",
			src: "name = \"x\"\n[model]\nbias = \"all\"\n" +
				"conv = [{filters = 4, kernel = 4, stride = 1}, {filters = 4, kernel = 64}]\n" +
				"[data]\ndataset = \"tiny-imagenet\"\npath = \"/d\"\nimage_size = 512\n",
			want: `FILE:4: model.conv[1].kernel: the patch matrix of conv[1] holds 446·446 positions × 64·64·4 taps = 3259039744 values per example, more than the limit of 2147483648`,
		},
		{
			name: "an image too large",
			src:  "name = \"x\"\n[data]\nimage_size = 1000\n",
			want: `FILE:3: data.image_size: must be in [1, 512], got 1000`,
		},
	})
}

// TestSyntaxErrorKeys checks that a syntax error names the key being
// defined where it is, and no key when it is in a table header.
func TestSyntaxErrorKeys(t *testing.T) {
	runLoadErrors(t, []loadErrorTest{
		{
			name: "unclosed table header after a table",
			src:  "name = \"x\"\n[model]\nhidden = [5]\n[noise\nscale = 1\n",
			want: `FILE:4: invalid TOML: unclosed table header [noise (want [noise])`,
		},
		{
			name: "unclosed table header at the end",
			src:  "name = \"x\"\n[model]\nhidden = [5]\n  [noise # scales",
			want: `FILE:4: invalid TOML: unclosed table header [noise (want [noise])`,
		},
		{
			name: "unclosed array of tables header",
			src:  "name = \"x\"\n[[arms]]\nname = \"a\"\n[[arms\nname = \"b\"\n",
			want: `FILE:4: invalid TOML: unclosed table header [[arms (want [[arms]])`,
		},
		{
			name: "malformed table header",
			src:  "name = \"x\"\n[model]\nhidden = [5]\n[no ise]\n",
			want: `FILE:4: invalid TOML: expected '.' or ']' to end table name, but got 'i' instead`,
		},
		{
			name: "table defined twice",
			src:  "name = \"x\"\n[model]\nhidden = [5]\n[model]\n",
			want: `FILE:4: invalid TOML: Key 'model' has already been defined.`,
		},
		{
			name: "missing equals sign after a table",
			src:  "name = \"x\"\n[model]\nhidden = [5]\nactivation \"relu\"\n",
			want: `FILE:4: invalid TOML: expected '.' or '=', but got '"' instead`,
		},
		{
			name: "bad value in an inline table",
			src:  "name = \"x\"\nnoise = { distribution = \"gaussian\", scale = 1x }\n",
			want: `FILE:2: noise.scale: invalid TOML: expected a comma or an inline table terminator '}', but got 'x' instead`,
		},
		{
			name: "junk after a value",
			src:  "name = \"x\"\nseed = 1 2\n",
			want: `FILE:2: seed: invalid TOML: expected a top-level item to end with a newline, comment, or EOF, but got '2' instead`,
		},
	})
}
