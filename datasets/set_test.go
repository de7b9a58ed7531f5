package datasets

import (
	"math"
	"math/big"
	"slices"
	"strings"
	"testing"
)

// toyBytes returns a byte Set of n examples of 2x2 pixels in which pixel j of
// example i is the byte 50*i + j (mod 256), and the label of example i is
// i%3.
func toyBytes(n int) *Set {
	pix := make([]byte, n*4)
	labels := make([]int, n)
	for i := range n {
		for j := range 4 {
			pix[i*4+j] = byte(50*i + j)
		}
		labels[i] = i % 3
	}
	s, err := NewSet("toy8", 2, 2, 3, pix, labels)
	if err != nil {
		panic(err)
	}
	return s
}

// toyFloats returns a float32 Set of n examples of 2x2 pixels in which pixel
// j of example i is i + j/10, and the label of example i is i%3.
func toyFloats(n int) *Set {
	pix := make([]float32, n*4)
	labels := make([]int, n)
	for i := range n {
		for j := range 4 {
			pix[i*4+j] = float32(i) + float32(j)/10
		}
		labels[i] = i % 3
	}
	s, err := NewSet32("toy32", 2, 2, 3, pix, labels)
	if err != nil {
		panic(err)
	}
	return s
}

// want64 and want32 return the value that the readers must give pixel j of
// example i of a toy Set.
func want64(s *Set, i, j int) float64 {
	if s.floats != nil {
		return float64(float32(i) + float32(j)/10)
	}
	return float64(byte(50*i+j)) / 255
}

func want32(s *Set, i, j int) float32 {
	if s.floats != nil {
		return float32(i) + float32(j)/10
	}
	return float32(byte(50*i+j)) / float32(255)
}

// correctly returns b/255 rounded to nearest-even at prec bits, computed
// exactly with math/big: the result IEEE division gives at that precision.
func correctly(b int, prec uint) *big.Float {
	x := new(big.Float).SetPrec(prec).SetMode(big.ToNearestEven)
	return x.Quo(big.NewFloat(float64(b)), big.NewFloat(255))
}

func TestScaleTables(t *testing.T) {
	for b := range 256 {
		w64, _ := correctly(b, 53).Float64()
		w32, _ := correctly(b, 24).Float32()
		if scale64[b] != w64 {
			t.Errorf("scale64[%d] = %v, want the correctly rounded float64 %v", b, scale64[b], w64)
		}
		if scale32[b] != w32 {
			t.Errorf("scale32[%d] = %v, want the correctly rounded float32 %v", b, scale32[b], w32)
		}
		// Rounding the float64 quotient to float32 gives the same value
		// (double rounding is harmless for a division at these
		// precisions), so float32 Sets built from float64 values agree.
		if got := float32(scale64[b]); got != w32 {
			t.Errorf("float32(%d/255 in float64) = %v, want %v", b, got, w32)
		}
	}
	if scale32[0] != 0 || scale32[255] != 1 || scale64[255] != 1 {
		t.Errorf("0 and 255 scale to %v and %v, want 0 and 1", scale32[0], scale32[255])
	}
}

func TestNewSet(t *testing.T) {
	s, err := NewSet("a", 2, 3, 4, make([]byte, 12), []int{0, 3})
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "a" || s.Len() != 2 || s.Height != 2 || s.Width != 3 || s.Features != 6 || s.Classes != 4 {
		t.Errorf("NewSet = %+v", *s)
	}
	if c, h, w := s.Image(); c != 1 || h != 2 || w != 3 {
		t.Errorf("Image() = %d, %d, %d; want 1, 2, 3", c, h, w)
	}
	if s, err := NewSet32("b", 1, 1, 1, nil, nil); err != nil || s.Len() != 0 {
		t.Errorf("empty NewSet32 = %v, %v; want an empty Set", s, err)
	}

	tests := []struct {
		name                   string
		height, width, classes int
		npix                   int
		labels                 []int
		mention                string
	}{
		{"zero height", 0, 3, 4, 0, nil, "height 0"},
		{"negative width", 2, -1, 4, 0, nil, "width -1"},
		{"zero classes", 2, 3, 0, 12, []int{0, 0}, "classes 0"},
		{"too few pixels", 2, 3, 4, 11, []int{0, 0}, "11 pixel values for 2 labels"},
		{"too many pixels", 2, 3, 4, 13, []int{0, 0}, "13 pixel values"},
		{"label too large", 2, 3, 4, 12, []int{0, 4}, "label 4 at index 1"},
		{"negative label", 2, 3, 4, 12, []int{-1, 0}, "label -1 at index 0"},
		{"overflowing size", math.MaxInt / 2, 3, 4, 0, nil, "pixel values"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err8 := NewSet("bad", tt.height, tt.width, tt.classes, make([]byte, tt.npix), tt.labels)
			_, err32 := NewSet32("bad", tt.height, tt.width, tt.classes, make([]float32, tt.npix), tt.labels)
			for _, err := range []error{err8, err32} {
				if err == nil {
					t.Fatal("constructor succeeded, want error")
				}
				if !strings.Contains(err.Error(), tt.mention) || !strings.Contains(err.Error(), `"bad"`) {
					t.Errorf("error %q does not mention %q and the set's name", err, tt.mention)
				}
			}
		})
	}
}

func TestLimit(t *testing.T) {
	tests := []struct {
		n, want int
	}{
		{-1, 5}, {0, 5}, {1, 1}, {3, 3}, {5, 5}, {6, 5}, {math.MaxInt, 5},
	}
	for _, mk := range []func(int) *Set{toyBytes, toyFloats} {
		for _, tt := range tests {
			s := mk(5)
			l := s.Limit(tt.n)
			if l.Len() != tt.want || l.pixels() != tt.want*4 || l.check("test") != nil {
				t.Errorf("%s: Limit(%d): Len %d, %d pixels, check %v; want %d, %d, nil",
					s.Name, tt.n, l.Len(), l.pixels(), l.check("test"), tt.want, tt.want*4)
				continue
			}
			if l.Name != s.Name || l.Height != 2 || l.Width != 2 || l.Features != 4 || l.Classes != 3 {
				t.Errorf("%s: Limit(%d) changed the geometry: %+v", s.Name, tt.n, *l)
			}
			all := make([]float32, tt.want*4)
			if err := s.Gather32(seq(tt.want), all, nil); err != nil {
				t.Fatal(err)
			}
			got := make([]float32, tt.want*4)
			if err := l.Gather32(seq(tt.want), got, nil); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, all) || !slices.Equal(l.Labels, s.Labels[:tt.want]) {
				t.Errorf("%s: Limit(%d) holds different examples", s.Name, tt.n)
			}
			// Nothing is copied ...
			l.Labels[0] = 2
			if s.Labels[0] != 2 {
				t.Errorf("%s: Limit(%d) does not share Labels with the original", s.Name, tt.n)
			}
			// ... but appending cannot overwrite s.
			if tt.want < 5 {
				_ = append(l.Labels, -1)
				if s.Labels[tt.want] == -1 {
					t.Errorf("%s: appending to Limit(%d) overwrote the original", s.Name, tt.n)
				}
			}
		}
	}
}

// seq returns 0, 1, ..., n-1.
func seq(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

func TestLimitEdgeCases(t *testing.T) {
	var nilSet *Set
	if nilSet.Limit(3) != nil || nilSet.Len() != 0 {
		t.Errorf("nil Set: Limit or Len misbehaves")
	}
	if c, h, w := nilSet.Image(); c != 0 || h != 0 || w != 0 {
		t.Errorf("nil Set: Image() = %d, %d, %d; want 0, 0, 0", c, h, w)
	}
	// A Set whose pixels are fewer than Labels implies must not make Limit
	// panic.
	s := toyBytes(5)
	s.bytes = s.bytes[:9]
	if l := s.Limit(4); l.Len() != 2 || l.pixels() != 8 {
		t.Errorf("inconsistent Set: Limit(4) gives Len %d, %d pixels; want 2, 8", l.Len(), l.pixels())
	}
	// An empty Set stays empty.
	if l := (&Set{}).Limit(2); l.Len() != 0 || l.pixels() != 0 {
		t.Errorf("empty Set: Limit(2) gives Len %d, %d pixels", l.Len(), l.pixels())
	}
}

// reader is one of the ways to read examples of a Set into a float64 or a
// float32 buffer with a given stride, adapted to a common signature.
type reader struct {
	name   string
	stride func(s *Set) int // the stride the reader uses
	r64    func(s *Set, idx []int, dst []float64, labels []int) error
	r32    func(s *Set, idx []int, dst []float32, labels []int) error
}

// readers returns every reader; the strided ones use a stride of
// Features+2.
func readers() []reader {
	dense := func(s *Set) int { return s.Features }
	wide := func(s *Set) int {
		if s == nil {
			return 6
		}
		return s.Features + 2
	}
	return []reader{
		{name: "Gather", stride: dense, r64: (*Set).Gather},
		{name: "Gather32", stride: dense, r32: (*Set).Gather32},
		{name: "GatherRows64", stride: wide, r64: func(s *Set, idx []int, dst []float64, labels []int) error {
			return s.GatherRows64(idx, dst, wide(s), labels)
		}},
		{name: "GatherRows32", stride: wide, r32: func(s *Set, idx []int, dst []float32, labels []int) error {
			return s.GatherRows32(idx, dst, wide(s), labels)
		}},
		{name: "Batch.Write64", stride: wide, r64: func(s *Set, idx []int, dst []float64, labels []int) error {
			return Batch{s, idx}.Write64(dst, wide(s), labels)
		}},
		{name: "Batch.Write32", stride: wide, r32: func(s *Set, idx []int, dst []float32, labels []int) error {
			return Batch{s, idx}.Write32(dst, wide(s), labels)
		}},
	}
}

// read runs r into a buffer of n elements filled with fill and returns the
// buffer as float64 values.
func (r reader) read(s *Set, idx []int, n int, fill float64, labels []int) ([]float64, error) {
	if r.r64 != nil {
		dst := make([]float64, n)
		for i := range dst {
			dst[i] = fill
		}
		err := r.r64(s, idx, dst, labels)
		return dst, err
	}
	dst := make([]float32, n)
	for i := range dst {
		dst[i] = float32(fill)
	}
	err := r.r32(s, idx, dst, labels)
	out := make([]float64, n)
	for i, v := range dst {
		out[i] = float64(v)
	}
	return out, err
}

func TestReaders(t *testing.T) {
	const fill = -7
	idx := []int{4, 0, 4, 5}
	for _, s := range []*Set{toyBytes(6), toyFloats(6)} {
		for _, r := range readers() {
			t.Run(s.Name+"/"+r.name, func(t *testing.T) {
				stride := r.stride(s)
				// One spare row's worth of elements, plus two.
				n := (len(idx)+1)*stride + 2
				labels := []int{fill, fill, fill, fill, fill}
				got, err := r.read(s, idx, n, fill, labels)
				if err != nil {
					t.Fatal(err)
				}
				want := make([]float64, n)
				for k := range want {
					want[k] = fill
				}
				for i, j := range idx {
					for p := range s.Features {
						if r.r64 != nil {
							want[i*stride+p] = want64(s, j, p)
						} else {
							want[i*stride+p] = float64(want32(s, j, p))
						}
					}
				}
				if !slices.Equal(got, want) {
					t.Errorf("buffer = %v\nwant     %v", got, want)
				}
				if want := []int{1, 0, 1, 2, fill}; !slices.Equal(labels, want) {
					t.Errorf("labels = %v, want %v", labels, want)
				}
				// nil labels copies the pixels only.
				if got, err := r.read(s, idx[3:], s.Features, fill, nil); err != nil || got[1] != want[3*stride+1] {
					t.Errorf("with nil labels: %v, %v; want pixel %v", got, err, want[3*stride+1])
				}
				// An empty batch is fine, even into an empty buffer.
				if _, err := r.read(s, nil, 0, fill, nil); err != nil {
					t.Errorf("empty batch: %v", err)
				}
			})
		}
	}
}

// TestRowsMinimalLength checks that a strided buffer needs room only for
// the last row's features, not for a whole last row.
func TestRowsMinimalLength(t *testing.T) {
	s := toyBytes(3)
	const stride = 7
	idx := []int{2, 1, 0}
	min := 2*stride + s.Features
	for _, n := range []int{min, min - 1} {
		err64 := s.GatherRows64(idx, make([]float64, n), stride, nil)
		err32 := Batch{s, idx}.Write32(make([]float32, n), stride, nil)
		if ok := n >= min; (err64 == nil) != ok || (err32 == nil) != ok {
			t.Errorf("len(dst) = %d (need %d): errors %v, %v", n, min, err64, err32)
		}
	}
}

func TestReaderErrors(t *testing.T) {
	inconsistent := toyBytes(3)
	inconsistent.bytes = inconsistent.bytes[:5]
	badFeatures := toyFloats(3)
	badFeatures.Features = 3
	both := toyBytes(3)
	both.floats = make([]float32, 12)
	tests := []struct {
		name    string
		s       *Set
		idx     []int
		n       int // buffer length, with the reader's stride
		labels  []int
		mention string
	}{
		{"nil set", nil, []int{0}, 8, nil, "nil Set"},
		{"negative index", toyBytes(3), []int{0, -1}, 12, make([]int, 2), "idx[1] = -1"},
		{"index too large", toyFloats(3), []int{3}, 6, make([]int, 1), "idx[0] = 3 out of range [0, 3)"},
		{"short buffer", toyBytes(3), []int{0, 1}, 7, make([]int, 2), "= 7, want at least"},
		{"short labels", toyFloats(3), []int{0, 1}, 12, make([]int, 1), "len(labels) = 1"},
		{"inconsistent pixels", inconsistent, []int{0}, 6, nil, "inconsistent"},
		{"inconsistent features", badFeatures, []int{0}, 6, nil, "Features = 3"},
		{"both storages", both, []int{0}, 6, nil, "both"},
	}
	for _, tt := range tests {
		for _, r := range readers() {
			t.Run(tt.name+"/"+r.name, func(t *testing.T) {
				_, err := r.read(tt.s, tt.idx, tt.n, 0, tt.labels)
				if err == nil {
					t.Fatal("read succeeded, want error")
				}
				if !strings.Contains(err.Error(), tt.mention) || !strings.Contains(err.Error(), r.name) {
					t.Errorf("error %q does not mention %q and %s", err, tt.mention, r.name)
				}
				if tt.labels != nil && slices.ContainsFunc(tt.labels, func(l int) bool { return l != 0 }) {
					t.Errorf("labels written before failing: %v", tt.labels)
				}
			})
		}
	}
}

func TestReaderErrorsWriteNothing(t *testing.T) {
	s := toyBytes(3)
	for _, r := range readers() {
		// The second index is bad, so a reader that wrote as it checked
		// would already have written the first example.
		got, err := r.read(s, []int{1, 9}, 20, 0.5, nil)
		if err == nil {
			t.Fatalf("%s succeeded, want error", r.name)
		}
		if slices.ContainsFunc(got, func(v float64) bool { return v != 0.5 }) {
			t.Errorf("%s wrote to the buffer before failing: %v", r.name, got)
		}
	}
}

func TestStrideErrors(t *testing.T) {
	s := toyFloats(3)
	tests := []struct {
		name    string
		stride  int
		mention string
	}{
		{"below features", 3, "stride 3 is below the 4 features"},
		{"negative", -1, "stride -1"},
		{"overflowing", math.MaxInt / 2, "want at least"},
	}
	for _, tt := range tests {
		idx := []int{0, 1, 2}
		errs := []error{
			s.GatherRows64(idx, make([]float64, 12), tt.stride, nil),
			s.GatherRows32(idx, make([]float32, 12), tt.stride, nil),
			Batch{s, idx}.Write64(make([]float64, 12), tt.stride, nil),
			Batch{s, idx}.Write32(make([]float32, 12), tt.stride, nil),
		}
		for i, err := range errs {
			if err == nil || !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("%s: reader %d: error %v, want one mentioning %q", tt.name, i, err, tt.mention)
			}
		}
	}
}

func TestBatch(t *testing.T) {
	s := toyBytes(4)
	b := Batch{Set: s, Index: []int{3, 1}}
	if b.Len() != 2 || b.Features() != 4 {
		t.Errorf("Len, Features = %d, %d; want 2, 4", b.Len(), b.Features())
	}
	var empty Batch
	if empty.Len() != 0 || empty.Features() != 0 {
		t.Errorf("zero Batch: Len, Features = %d, %d; want 0, 0", empty.Len(), empty.Features())
	}
	if err := empty.Write32(nil, 0, nil); err == nil || !strings.Contains(err.Error(), "nil Set") {
		t.Errorf("zero Batch: Write32 error %v, want one mentioning a nil Set", err)
	}
}

func TestReadersDoNotAllocate(t *testing.T) {
	idx := []int{3, 99, 0, 42, 7, 7, 12, 50}
	labels := make([]int, len(idx))
	for _, s := range []*Set{toyBytes(100), toyFloats(100)} {
		stride := s.Features + 1
		x64 := make([]float64, len(idx)*stride)
		x32 := make([]float32, len(idx)*stride)
		b := Batch{s, idx}
		for _, c := range []struct {
			name string
			f    func() error
		}{
			{"Gather", func() error { return s.Gather(idx, x64, labels) }},
			{"Gather32", func() error { return s.Gather32(idx, x32, labels) }},
			{"GatherRows64", func() error { return s.GatherRows64(idx, x64, stride, labels) }},
			{"GatherRows32", func() error { return s.GatherRows32(idx, x32, stride, labels) }},
			{"Batch.Write64", func() error { return b.Write64(x64, stride, labels) }},
			{"Batch.Write32", func() error { return b.Write32(x32, stride, labels) }},
		} {
			allocs := testing.AllocsPerRun(100, func() {
				if err := c.f(); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("%s/%s allocates %v times per call, want 0", s.Name, c.name, allocs)
			}
		}
	}
}

func TestCompatible(t *testing.T) {
	set := func(name string, h, w, classes, n int) *Set {
		s, err := NewSet(name, h, w, classes, make([]byte, n*h*w), make([]int, n))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	train := set("a/train", 28, 28, 10, 3)
	inconsistent := set("a/test", 28, 28, 10, 3)
	inconsistent.bytes = inconsistent.bytes[:100]
	tests := []struct {
		name        string
		train, test *Set
		mention     []string // nil: compatible
	}{
		{"same geometry", train, set("a/test", 28, 28, 10, 1), nil},
		{"float32 test set", train, func() *Set {
			s, _ := NewSet32("a/test", 28, 28, 10, make([]float32, 784), []int{9})
			return s
		}(), nil},
		{"nil train", nil, train, []string{"training set is nil"}},
		{"nil test", train, nil, []string{"test set is nil"}},
		{"empty train", set("a/train", 28, 28, 10, 0), train, []string{`training set "a/train" is empty`}},
		{"empty test", train, set("a/test", 28, 28, 10, 0), []string{`test set "a/test" is empty`}},
		{"other height", train, set("b/test", 14, 28, 10, 2), []string{`"b/test"`, "1x14x28", `"a/train"`, "1x28x28"}},
		{"transposed", train, set("b/test", 1, 784, 10, 2), []string{"1x1x784", "1x28x28"}},
		{"other classes", train, set("b/test", 28, 28, 5, 2), []string{`"b/test" has 5 classes`, `"a/train" has 10`}},
		{"inconsistent test", train, inconsistent, []string{`"a/test" is inconsistent`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Compatible(tt.train, tt.test)
			if tt.mention == nil {
				if err != nil {
					t.Fatalf("Compatible = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Compatible = nil, want error")
			}
			for _, m := range tt.mention {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
		})
	}
}
