package datasets

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// tinyWnids are the classes of the fake Tiny-ImageNet tree, in wnids.txt
// order; tinyUnused is a class that only appears in val_annotations.txt.
var (
	tinyWnids  = []string{"n01443537", "n01629819", "n01641577"}
	tinyUnused = "n09999999"
)

// tinyTrainColours[c][k] is the colour of training image <wnid>_<k>.JPEG of
// class c. A color.Gray entry is written as an image.Gray (a grayscale
// JPEG), anything else as an image.RGBA.
var tinyTrainColours = [][]color.Color{
	{color.RGBA{255, 255, 255, 255}, color.RGBA{0, 0, 0, 255}, color.RGBA{255, 0, 0, 255}, color.RGBA{0, 0, 255, 255}},
	{color.Gray{128}, color.RGBA{0, 255, 0, 255}, color.RGBA{200, 100, 50, 255}, color.RGBA{10, 20, 30, 255}},
	{color.RGBA{255, 255, 0, 255}, color.RGBA{0, 255, 255, 255}, color.RGBA{255, 0, 255, 255}, color.RGBA{60, 60, 60, 255}},
}

// tinyVal lists the validation images in the order of val_annotations.txt.
// Class -1 is tinyUnused.
var tinyVal = []struct {
	file   string
	class  int
	colour color.Color
}{
	{"val_6.JPEG", -1, color.RGBA{1, 2, 3, 255}},
	{"val_3.JPEG", 0, color.RGBA{0, 0, 0, 255}},
	{"val_5.JPEG", 2, color.RGBA{255, 128, 0, 255}},
	{"val_1.JPEG", 0, color.RGBA{255, 255, 255, 255}},
	{"val_0.JPEG", 1, color.RGBA{50, 50, 50, 255}},
	{"val_4.JPEG", 1, color.Gray{200}},
	{"val_2.JPEG", 2, color.RGBA{0, 0, 255, 255}},
}

// tinyValOrder is the order LoadTinyImageNet returns tinyVal in, as indices
// into tinyVal: by class, then by file name.
var tinyValOrder = []int{3, 1, 4, 5, 6, 2}

// encodeJPEG returns a side x side JPEG filled with c.
func encodeJPEG(t testing.TB, c color.Color, side int) []byte {
	t.Helper()
	var img settable
	if _, ok := c.(color.Gray); ok {
		img = image.NewGray(image.Rect(0, 0, side, side))
	} else {
		img = image.NewRGBA(image.Rect(0, 0, side, side))
	}
	for y := range side {
		for x := range side {
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// settable is an image encodeJPEG can fill.
type settable interface {
	image.Image
	Set(x, y int, c color.Color)
}

// mkdirWrite writes data to dir/rel, creating parent directories, and
// returns the path.
func mkdirWrite(t testing.TB, dir, rel string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// writeTinyTree writes a fake tiny-imagenet-200 tree of 16x16 solid-colour
// JPEGs to a new temporary directory and returns it.
func writeTinyTree(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	mkdirWrite(t, dir, tinyWnidsFile, []byte(strings.Join(tinyWnids, "\n")+"\n"))
	for c, wnid := range tinyWnids {
		for k, col := range tinyTrainColours[c] {
			mkdirWrite(t, dir, fmt.Sprintf("train/%s/images/%s_%d.JPEG", wnid, wnid, k), encodeJPEG(t, col, 16))
		}
		mkdirWrite(t, dir, fmt.Sprintf("train/%s/%s_boxes.txt", wnid, wnid), []byte(wnid+"_0.JPEG\t0\t0\t15\t15\n"))
		mkdirWrite(t, dir, fmt.Sprintf("train/%s/images/.DS_Store", wnid), []byte("not an image"))
	}
	var ann strings.Builder
	for i, v := range tinyVal {
		wnid := tinyUnused
		if v.class >= 0 {
			wnid = tinyWnids[v.class]
		}
		fmt.Fprintf(&ann, "%s\t%s\t%d\t%d\t%d\t%d\n", v.file, wnid, i, i+1, 14, 15)
		mkdirWrite(t, dir, "val/images/"+v.file, encodeJPEG(t, v.colour, 16))
	}
	mkdirWrite(t, dir, "val/"+tinyAnnotationsFile, []byte(ann.String()))
	mkdirWrite(t, dir, "test/images/test_0.JPEG", []byte("unlabelled test images are ignored"))
	return dir
}

// luma returns the grayscale value in [0,1] of c as torchvision computes it.
func luma(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	return (0.299*float64(r>>8) + 0.587*float64(g>>8) + 0.114*float64(b>>8)) / 255
}

// checkSolid reports an error unless every pixel of example i of s is
// within 0.02 of want.
func checkSolid(t *testing.T, s *Set, i int, want float64) {
	t.Helper()
	for p, v := range s.floats[i*s.Features : (i+1)*s.Features] {
		if math.Abs(float64(v)-want) > 0.02 {
			t.Errorf("%s example %d pixel %d = %.4f, want %.4f ± 0.02", s.Name, i, p, v, want)
			return
		}
	}
}

func TestLoadTinyImageNet(t *testing.T) {
	dir := writeTinyTree(t)
	wantTrainLabels := []int{0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2}
	wantValLabels := []int{0, 0, 1, 1, 2, 2}
	for _, tt := range []struct {
		size, side int
	}{
		{0, 32}, {48, 48}, {16, 16}, {8, 8}, {1, 1},
	} {
		t.Run(fmt.Sprint("size=", tt.size), func(t *testing.T) {
			train, test, err := LoadTinyImageNet(dir, TinyImageNetOptions{NumClasses: 3, Size: tt.size})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				s      *Set
				name   string
				labels []int
			}{
				{train, "tiny-imagenet/train", wantTrainLabels},
				{test, "tiny-imagenet/val", wantValLabels},
			} {
				s := c.s
				if s.Name != c.name || s.Classes != 3 || s.Height != tt.side || s.Width != tt.side || s.Features != tt.side*tt.side {
					t.Errorf("%s: got Name %q Classes %d %dx%d Features %d, want 3 classes of %dx%d",
						c.name, s.Name, s.Classes, s.Height, s.Width, s.Features, tt.side, tt.side)
				}
				if !slices.Equal(s.Labels, c.labels) {
					t.Errorf("%s: Labels = %v, want %v", c.name, s.Labels, c.labels)
				}
				// float32 storage, 4 bytes per pixel.
				if len(s.floats) != s.Len()*s.Features || s.bytes != nil {
					t.Errorf("%s: %d float32 pixels and %d bytes, want %d float32 pixels",
						c.name, len(s.floats), len(s.bytes), s.Len()*s.Features)
				}
			}
			if t.Failed() {
				return
			}
			for c := range tinyWnids {
				for k, col := range tinyTrainColours[c] {
					checkSolid(t, train, 4*c+k, luma(col))
				}
			}
			for i, j := range tinyValOrder {
				checkSolid(t, test, i, luma(tinyVal[j].colour))
			}
			// White and black explicitly, and no value out of [0,1].
			checkSolid(t, train, 0, 1)
			checkSolid(t, train, 1, 0)
			// Every value is float32(l)/255 for an 8-bit luma l: what a
			// float32 ToTensor gives.
			for _, v := range slices.Concat(train.floats, test.floats) {
				if l := math.Round(float64(v) * 255); l < 0 || l > 255 || v != float32(l)/255 {
					t.Fatalf("pixel %v is not an 8-bit luma / 255", v)
				}
			}
		})
	}
}

func TestLoadTinyImageNetSin(t *testing.T) {
	dir := writeTinyTree(t)
	opts := TinyImageNetOptions{NumClasses: 3, Size: 8}
	plainTrain, plainVal, err := LoadTinyImageNet(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	opts.Sin = true
	sinTrain, sinVal, err := LoadTinyImageNet(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ plain, sin *Set }{{plainTrain, sinTrain}, {plainVal, sinVal}} {
		if len(c.plain.floats) != len(c.sin.floats) {
			t.Fatalf("%s: %d pixels with Sin, %d without", c.sin.Name, len(c.sin.floats), len(c.plain.floats))
		}
		for i, v := range c.plain.floats {
			if want := float32(math.Sin(float64(v))); c.sin.floats[i] != want {
				t.Fatalf("%s: pixel %d = %v with Sin, want sin(%v) = %v", c.sin.Name, i, c.sin.floats[i], v, want)
			}
		}
	}
	// The white image maps to about sin(1).
	checkSolid(t, sinTrain, 0, math.Sin(1))
}

func TestLoadTinyImageNetClassSubset(t *testing.T) {
	dir := writeTinyTree(t)
	all, allVal, err := LoadTinyImageNet(dir, TinyImageNetOptions{NumClasses: 3, Size: 8})
	if err != nil {
		t.Fatal(err)
	}
	f := all.Features
	tests := []struct {
		name    string
		opts    TinyImageNetOptions
		classes []int // indices into tinyWnids, in label order
		noWnids bool  // remove wnids.txt first
	}{
		{"first two", TinyImageNetOptions{NumClasses: 2, Size: 8}, []int{0, 1}, false},
		{"reordered", TinyImageNetOptions{Classes: []string{tinyWnids[2], tinyWnids[0]}, Size: 8}, []int{2, 0}, false},
		{"single with NumClasses", TinyImageNetOptions{Classes: tinyWnids[1:2], NumClasses: 1, Size: 8}, []int{1}, false},
		{"without wnids.txt", TinyImageNetOptions{Classes: []string{tinyWnids[1], tinyWnids[2]}, Size: 8}, []int{1, 2}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := dir
			if tt.noWnids {
				d = writeTinyTree(t)
				if err := os.Remove(filepath.Join(d, tinyWnidsFile)); err != nil {
					t.Fatal(err)
				}
			}
			train, val, err := LoadTinyImageNet(d, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			// The expected sets are the full load's examples of the chosen
			// classes, relabelled, in the chosen class order.
			var wantX []float32
			var wantLabels, wantValLabels []int
			var wantValX []float32
			for label, c := range tt.classes {
				wantX = append(wantX, all.floats[4*c*f:4*(c+1)*f]...)
				wantLabels = append(wantLabels, label, label, label, label)
				wantValX = append(wantValX, allVal.floats[2*c*f:2*(c+1)*f]...)
				wantValLabels = append(wantValLabels, label, label)
			}
			if train.Classes != len(tt.classes) || val.Classes != len(tt.classes) {
				t.Errorf("Classes = %d, %d, want %d", train.Classes, val.Classes, len(tt.classes))
			}
			if !slices.Equal(train.Labels, wantLabels) || !slices.Equal(val.Labels, wantValLabels) {
				t.Errorf("Labels = %v, %v, want %v, %v", train.Labels, val.Labels, wantLabels, wantValLabels)
			}
			if !slices.Equal(train.floats, wantX) || !slices.Equal(val.floats, wantValX) {
				t.Error("pixels differ from the full load's examples of the same classes")
			}
		})
	}
}

func TestLoadTinyImageNetDeterministic(t *testing.T) {
	dir := writeTinyTree(t)
	opts := TinyImageNetOptions{Classes: []string{tinyWnids[1], tinyWnids[0], tinyWnids[2]}, Size: 12}
	train1, val1, err := LoadTinyImageNet(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		train2, val2, err := LoadTinyImageNet(dir, opts)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(train1.floats, train2.floats) || !slices.Equal(train1.Labels, train2.Labels) ||
			!slices.Equal(val1.floats, val2.floats) || !slices.Equal(val1.Labels, val2.Labels) {
			t.Fatal("two loads of the same directory differ")
		}
	}
	// The options' slice is copied, not retained.
	opts.Classes[0] = "changed"
	if train1.Labels[0] != 0 || train1.Classes != 3 {
		t.Errorf("train set changed after modifying opts.Classes")
	}
}

func TestLoadTinyImageNetSetsAreIndependent(t *testing.T) {
	dir := writeTinyTree(t)
	train, val, err := LoadTinyImageNet(dir, TinyImageNetOptions{NumClasses: 3, Size: 4})
	if err != nil {
		t.Fatal(err)
	}
	before := slices.Clone(val.floats)
	train.floats = append(train.floats, 42)
	train.Labels = append(train.Labels, 1)
	if !slices.Equal(val.floats, before) || val.Labels[0] != 0 {
		t.Error("appending to the train set overwrote the validation set")
	}
}

func TestTinyImageNetWnids(t *testing.T) {
	dir := t.TempDir()
	mkdirWrite(t, dir, tinyWnidsFile, []byte("n01443537\r\n\n  n01629819  \nn01641577"))
	got, err := TinyImageNetWnids(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, tinyWnids) {
		t.Errorf("TinyImageNetWnids = %q, want %q", got, tinyWnids)
	}
	if _, err := TinyImageNetWnids(""); err == nil || !strings.Contains(err.Error(), "required") {
		t.Errorf(`TinyImageNetWnids("") error = %v, want "required"`, err)
	}
}

// hugeJPEG returns a valid small JPEG whose frame header claims 65535x65535
// pixels.
func hugeJPEG(t testing.TB) []byte {
	b := encodeJPEG(t, color.Gray{10}, 8)
	i := bytes.Index(b, []byte{0xff, 0xc0}) // SOF0: length(2) precision(1) height(2) width(2)
	if i < 0 {
		t.Fatal("no SOF0 marker in encoded JPEG")
	}
	copy(b[i+5:], []byte{0xff, 0xff, 0xff, 0xff})
	return b
}

func TestLoadTinyImageNetErrors(t *testing.T) {
	w0, w1, w2 := tinyWnids[0], tinyWnids[1], tinyWnids[2]
	img := func(c, k int) string { return fmt.Sprintf("train/%s/images/%s_%d.JPEG", tinyWnids[c], tinyWnids[c], k) }
	ann := "val/" + tinyAnnotationsFile
	good := TinyImageNetOptions{NumClasses: 3, Size: 8}
	// appendAnn adds a line to val_annotations.txt.
	appendAnn := func(line string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			p := filepath.Join(dir, filepath.FromSlash(ann))
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			mkdirWrite(t, dir, ann, append(b, line...))
		}
	}
	write := func(rel string, data []byte) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) { mkdirWrite(t, dir, rel, data) }
	}
	remove := func(rel string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			if err := os.RemoveAll(filepath.Join(dir, filepath.FromSlash(rel))); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name   string
		noDir  bool // pass "" as the directory
		setup  func(t *testing.T, dir string)
		opts   TinyImageNetOptions
		target []error // errors.Is targets
		// mention lists substrings the error must contain; "$" stands for
		// the directory, so "$/wnids.txt" names a file in it.
		mention []string
	}{
		{name: "no path", noDir: true, opts: good, mention: []string{"required", "tiny-imagenet"}},
		{name: "size zero is default, size negative", opts: TinyImageNetOptions{NumClasses: 3, Size: -1},
			mention: []string{"$", "Size = -1"}},
		{name: "size too large", opts: TinyImageNetOptions{NumClasses: 3, Size: 513}, mention: []string{"$", "Size = 513", "512"}},
		{name: "negative NumClasses", opts: TinyImageNetOptions{NumClasses: -2}, mention: []string{"$", "NumClasses = -2"}},
		{name: "missing wnids.txt", setup: remove(tinyWnidsFile), opts: good,
			target: []error{fs.ErrNotExist}, mention: []string{"$/wnids.txt"}},
		{name: "default NumClasses exceeds wnids.txt", opts: TinyImageNetOptions{Size: 8},
			mention: []string{"$/wnids.txt", "NumClasses = 10", "only 3"}},
		{name: "NumClasses exceeds wnids.txt", opts: TinyImageNetOptions{NumClasses: 4},
			mention: []string{"$/wnids.txt", "NumClasses = 4", "only 3"}},
		{name: "malformed wnids.txt", setup: write(tinyWnidsFile, []byte(w0+"\n"+w1+" "+w2+"\n")), opts: good,
			target: []error{ErrFormat}, mention: []string{"$/wnids.txt:2", "malformed"}},
		{name: "duplicate in wnids.txt", setup: write(tinyWnidsFile, []byte(w0+"\n"+w1+"\n"+w0+"\n")), opts: good,
			target: []error{ErrFormat}, mention: []string{"$/wnids.txt:3", "line 1"}},
		{name: "empty wnids.txt", setup: write(tinyWnidsFile, []byte("\n\n")), opts: good,
			target: []error{ErrFormat}, mention: []string{"$/wnids.txt", "no wnids"}},
		{name: "unknown wnid", opts: TinyImageNetOptions{Classes: []string{w0, "n00000042"}},
			mention: []string{"$/wnids.txt", "unknown wnid", "Classes[1]", "n00000042"}},
		{name: "invalid wnid", opts: TinyImageNetOptions{Classes: []string{"../" + w0}},
			mention: []string{"$", "Classes[0]", "not a valid wnid"}},
		{name: "repeated wnid", opts: TinyImageNetOptions{Classes: []string{w0, w1, w0}},
			mention: []string{"$", "Classes[2]", "repeats Classes[0]"}},
		{name: "NumClasses disagrees with Classes", opts: TinyImageNetOptions{Classes: []string{w0, w1}, NumClasses: 3},
			mention: []string{"$", "NumClasses = 3", "2 wnids"}},
		{name: "missing train images dir", setup: remove("train/" + w1 + "/images"), opts: good,
			target: []error{fs.ErrNotExist}, mention: []string{"$/train/" + w1 + "/images", w1}},
		{name: "missing class without wnids.txt", setup: remove(tinyWnidsFile), opts: TinyImageNetOptions{Classes: []string{w0, "n00000042"}},
			target: []error{fs.ErrNotExist}, mention: []string{"$/train/n00000042/images"}},
		{name: "class without images", setup: func(t *testing.T, dir string) {
			for k := range 4 {
				remove(img(2, k))(t, dir)
			}
			write("train/"+w2+"/images/readme.txt", []byte("x"))(t, dir)
		}, opts: good, mention: []string{"$/train/" + w2 + "/images", "no images"}},
		{name: "truncated JPEG", setup: func(t *testing.T, dir string) {
			b := encodeJPEG(t, color.RGBA{1, 2, 3, 255}, 16)
			write(img(1, 2), b[:len(b)/2])(t, dir)
		}, opts: good, target: []error{ErrFormat, io.ErrUnexpectedEOF}, mention: []string{"$/" + img(1, 2), "JPEG"}},
		{name: "garbage JPEG", setup: write(img(0, 3), []byte("this is not a JPEG file at all")), opts: good,
			target: []error{ErrFormat}, mention: []string{"$/" + img(0, 3), "JPEG"}},
		{name: "empty JPEG", setup: write(img(2, 0), nil), opts: good,
			target: []error{ErrFormat}, mention: []string{"$/" + img(2, 0), "JPEG"}},
		{name: "huge JPEG header", setup: write(img(0, 0), hugeJPEG(t)), opts: good,
			target: []error{ErrFormat}, mention: []string{"$/" + img(0, 0), "65535x65535"}},
		{name: "corrupt val JPEG", setup: write("val/images/val_4.JPEG", []byte{0xff, 0xd8, 0xff}), opts: good,
			target: []error{ErrFormat}, mention: []string{"$/val/images/val_4.JPEG", "JPEG"}},
		{name: "missing val_annotations.txt", setup: remove(ann), opts: good,
			target: []error{fs.ErrNotExist}, mention: []string{"$/" + ann}},
		{name: "annotation with too few fields", setup: appendAnn("val_9.JPEG\t" + w0 + "\n"), opts: good,
			target: []error{ErrFormat}, mention: []string{"$/" + ann + ":8", "malformed", "got 2"}},
		{name: "annotation with spaces", setup: appendAnn("val_9.JPEG " + w0 + " 0 0 1 1\n"), opts: good,
			target: []error{ErrFormat}, mention: []string{"$/" + ann + ":8", "malformed"}},
		{name: "annotation with bad box", setup: appendAnn("val_9.JPEG\t" + w0 + "\t0\tx\t1\t1\n"), opts: good,
			target: []error{ErrFormat}, mention: []string{"$/" + ann + ":8", `"x"`}},
		{name: "annotation outside images dir", setup: appendAnn("../x.JPEG\t" + w0 + "\t0\t0\t1\t1\n"), opts: good,
			target: []error{ErrFormat}, mention: []string{"$/" + ann + ":8", "invalid file name"}},
		{name: "repeated annotation", setup: appendAnn("val_3.JPEG\t" + w1 + "\t0\t0\t1\t1\n"), opts: good,
			target: []error{ErrFormat}, mention: []string{"$/" + ann + ":8", "line 2"}},
		{name: "annotated image missing", setup: appendAnn("val_9.JPEG\t" + w0 + "\t0\t0\t1\t1\n"), opts: good,
			target: []error{fs.ErrNotExist}, mention: []string{"$/" + ann + ":8", "$/val/images/val_9.JPEG"}},
		{name: "class without val images", setup: write(ann, []byte("val_3.JPEG\t"+w0+"\t0\t0\t1\t1\n")), opts: good,
			mention: []string{"$/" + ann, w1, "no validation images"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := ""
			if !tt.noDir {
				dir = writeTinyTree(t)
				if tt.setup != nil {
					tt.setup(t, dir)
				}
			}
			train, test, err := LoadTinyImageNet(dir, tt.opts)
			if err == nil {
				t.Fatalf("LoadTinyImageNet succeeded with %d and %d examples, want error", train.Len(), test.Len())
			}
			t.Log(err)
			if train != nil || test != nil {
				t.Errorf("LoadTinyImageNet returned non-nil sets with error %v", err)
			}
			for _, m := range tt.mention {
				if strings.HasPrefix(m, "$") {
					m = filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(m, "$")))
				}
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
			for _, target := range tt.target {
				if !errors.Is(err, target) {
					t.Errorf("error %q does not wrap %v", err, target)
				}
			}
		})
	}
}

// TestLoadTinyImageNetJPEGError checks that a corrupt JPEG's error exposes
// the decoder's error type.
func TestLoadTinyImageNetJPEGError(t *testing.T) {
	dir := writeTinyTree(t)
	mkdirWrite(t, dir, fmt.Sprintf("train/%s/images/%s_1.JPEG", tinyWnids[0], tinyWnids[0]), []byte("GIF89a, not a JPEG"))
	_, _, err := LoadTinyImageNet(dir, TinyImageNetOptions{NumClasses: 3})
	var fe jpeg.FormatError
	if !errors.As(err, &fe) {
		t.Errorf("error %v does not wrap a jpeg.FormatError", err)
	}
}

// TestLoadTinyImageNetFirstError checks that with several bad images the
// error names the first in load order, however the work was scheduled.
func TestLoadTinyImageNetFirstError(t *testing.T) {
	dir := writeTinyTree(t)
	var first string
	for c := range tinyWnids {
		for k := 1; k < 4; k++ {
			p := mkdirWrite(t, dir, fmt.Sprintf("train/%s/images/%s_%d.JPEG", tinyWnids[c], tinyWnids[c], k), []byte("bad"))
			if first == "" {
				first = p
			}
		}
	}
	for range 5 {
		_, _, err := LoadTinyImageNet(dir, TinyImageNetOptions{NumClasses: 3, Size: 8})
		if err == nil || !strings.Contains(err.Error(), first+":") {
			t.Fatalf("error %v does not name the first bad image %s", err, first)
		}
	}
}

// TestLoadTinyImageNetTime logs how long the fake tree takes to load.
func TestLoadTinyImageNetTime(t *testing.T) {
	dir := writeTinyTree(t)
	for _, size := range []int{32, 48} {
		start := time.Now()
		train, test, err := LoadTinyImageNet(dir, TinyImageNetOptions{NumClasses: 3, Size: size})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("size %d: loaded %d + %d 16x16 images in %v", size, train.Len(), test.Len(), time.Since(start))
	}
}

// BenchmarkLoadTinyImageNet loads a fake tree shaped like the research
// code's subset: 10 classes of 500 64x64 training and 50 validation images.
func BenchmarkLoadTinyImageNet(b *testing.B) {
	dir := b.TempDir()
	const classes, perClass, valPerClass = 10, 500, 50
	var wnids []string
	var ann strings.Builder
	for c := range classes {
		wnid := fmt.Sprintf("n%08d", c)
		wnids = append(wnids, wnid)
		for k := range perClass {
			img := image.NewYCbCr(image.Rect(0, 0, 64, 64), image.YCbCrSubsampleRatio420)
			for i := range img.Y {
				img.Y[i] = uint8(i*7 + k*13 + c)
			}
			var buf bytes.Buffer
			if err := jpeg.Encode(&buf, img, nil); err != nil {
				b.Fatal(err)
			}
			mkdirWrite(b, dir, fmt.Sprintf("train/%s/images/%s_%d.JPEG", wnid, wnid, k), buf.Bytes())
			if k < valPerClass {
				name := fmt.Sprintf("val_%d.JPEG", c*valPerClass+k)
				mkdirWrite(b, dir, "val/images/"+name, buf.Bytes())
				fmt.Fprintf(&ann, "%s\t%s\t0\t0\t63\t63\n", name, wnid)
			}
		}
	}
	mkdirWrite(b, dir, tinyWnidsFile, []byte(strings.Join(wnids, "\n")))
	mkdirWrite(b, dir, "val/"+tinyAnnotationsFile, []byte(ann.String()))
	for _, size := range []int{32, 48} {
		b.Run(fmt.Sprint("size=", size), func(b *testing.B) {
			for b.Loop() {
				if _, _, err := LoadTinyImageNet(dir, TinyImageNetOptions{Size: size}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
