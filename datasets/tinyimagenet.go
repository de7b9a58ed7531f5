package datasets

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg" // also registers the JPEG format with package image
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/image/draw"
)

// Tiny-ImageNet file and directory names, relative to the dataset root.
const (
	tinyWnidsFile       = "wnids.txt"
	tinyTrainDir        = "train"
	tinyImagesDir       = "images"
	tinyValDir          = "val"
	tinyAnnotationsFile = "val_annotations.txt"
)

// Defaults and limits for [TinyImageNetOptions].
const (
	tinyDefaultClasses = 10
	tinyDefaultSize    = 32
	tinyMaxSize        = 512

	// tinyMaxPixels bounds the pixel count of a source image, checked from
	// the JPEG header before decoding, so that a corrupt or hostile header
	// cannot force a huge allocation. Tiny-ImageNet images are 64x64.
	tinyMaxPixels = 1 << 24
)

// TinyImageNetOptions selects the subset and preprocessing.
//
// The zero value selects the first 10 classes of wnids.txt at 32x32 pixels
// without the sine transform.
type TinyImageNetOptions struct {
	// Classes lists the wnids to keep, in label order: examples of
	// Classes[i] get label i. If it is empty, the first NumClasses lines of
	// wnids.txt are used. Each wnid must appear at most once and, if
	// wnids.txt exists, must be listed in it.
	Classes []string

	// NumClasses is the number of classes taken from wnids.txt when Classes
	// is empty; 0 means 10. When Classes is set it must be 0 or
	// len(Classes).
	NumClasses int

	// Size is the side, in pixels, of the square output images; 0 means 32.
	// It must be at most 512.
	Size int

	// Sin applies x ← sin(x) to every pixel after scaling to [0,1], the
	// input transform the research code used for its GLR networks.
	Sin bool
}

// LoadTinyImageNet loads a class subset of Tiny-ImageNet (the
// tiny-imagenet-200 release) from dir as grayscale images of opts.Size x
// opts.Size pixels. Tiny-ImageNet is not bundled with any Go module, so dir
// is required; it must hold:
//
//	wnids.txt                          one wnid (class id) per line
//	train/<wnid>/images/*.JPEG         training images of each class
//	val/val_annotations.txt            tab-separated: file, wnid, x0, y0, x1, y1
//	val/images/<file>                  the images named in the annotations
//
// wnids.txt is needed only when opts.Classes is empty. Other files, such as
// train/<wnid>/<wnid>_boxes.txt and the unlabelled test/ directory, are
// ignored, as are bounding boxes, non-JPEG files in train/<wnid>/images
// (those whose names do not end in .jpeg or .jpg, in any case) and
// annotations of classes that were not selected.
//
// train holds the training images of the selected classes and test the
// labelled validation split restricted to them; they are named
// "tiny-imagenet/train" and "tiny-imagenet/val". Both are ordered by class,
// in label order, and within a class by file name (byte-wise), so the same
// directory and options always give the same Sets. Every selected class must
// have at least one image in each split.
//
// Each image is decoded with image/jpeg (colour, grayscale and CMYK JPEGs are
// all accepted), resized over its RGB channels with the bilinear (tent)
// kernel of golang.org/x/image/draw, which widens its support when
// shrinking, converted to 8-bit luma with the ITU-R 601-2 weights
// L = 0.299R + 0.587G + 0.114B as Pillow's convert("L") computes it, and
// scaled to [0,1] as the float32 float32(L)/float32(255), which is what a
// float32 ToTensor gives. This mirrors torchvision's Resize(bilinear)
// followed by Grayscale and ToTensor, and approximates it closely, but it is
// not bit-identical: the two bilinear implementations round and handle
// borders differently. If opts.Sin is set, every value v is then replaced by
// sin(v), computed in float64 and rounded to float32. The Sets store these
// float32 values, 4 bytes per pixel. Images are decoded in parallel on
// runtime.NumCPU() goroutines.
//
// Errors name the offending file or directory. Missing files wrap
// fs.ErrNotExist. Malformed wnids.txt or annotation lines, and corrupt,
// truncated or empty JPEGs, are reported as errors that match [ErrFormat]
// under errors.Is (their messages do not repeat its IDX-specific text); JPEG
// errors also wrap the decoder's error, such as a jpeg.FormatError or
// io.ErrUnexpectedEOF.
func LoadTinyImageNet(dir string, opts TinyImageNetOptions) (train, test *Set, err error) {
	if dir == "" {
		return nil, nil, errors.New("datasets: LoadTinyImageNet: the path to a tiny-imagenet-200 directory is required " +
			"(holding wnids.txt, train/<wnid>/images/ and val/; see http://cs231n.stanford.edu/tiny-imagenet-200.zip)")
	}
	size := opts.Size
	if size == 0 {
		size = tinyDefaultSize
	}
	if size < 1 || size > tinyMaxSize {
		return nil, nil, fmt.Errorf("datasets: LoadTinyImageNet %s: Size = %d, want 1 to %d (or 0 for %d)",
			dir, opts.Size, tinyMaxSize, tinyDefaultSize)
	}
	classes, err := tinyClasses(dir, opts)
	if err != nil {
		return nil, nil, err
	}

	var jobs []tinyJob
	for label, wnid := range classes {
		if jobs, err = appendTinyTrain(jobs, dir, wnid, label); err != nil {
			return nil, nil, err
		}
	}
	nTrain := len(jobs)
	if jobs, err = appendTinyVal(jobs, dir, classes); err != nil {
		return nil, nil, err
	}

	features := size * size
	x, err := decodeTiny(jobs, size, tinyTable(opts.Sin))
	if err != nil {
		return nil, nil, err
	}
	labels := make([]int, len(jobs))
	for i, j := range jobs {
		labels[i] = j.label
	}
	mk := func(name string, lo, hi int) *Set {
		return &Set{
			Name:     name,
			Height:   size,
			Width:    size,
			Features: features,
			Classes:  len(classes),
			floats:   x[lo*features : hi*features : hi*features],
			Labels:   labels[lo:hi:hi],
		}
	}
	return mk("tiny-imagenet/train", 0, nTrain), mk("tiny-imagenet/val", nTrain, len(jobs)), nil
}

// TinyImageNetWnids returns the wnids (class ids) listed in dir/wnids.txt, in
// file order; blank lines are skipped. Label i of a Set loaded by
// [LoadTinyImageNet] without explicit Classes is wnid i of this list.
func TinyImageNetWnids(dir string) ([]string, error) {
	if dir == "" {
		return nil, errors.New("datasets: TinyImageNetWnids: the path to a tiny-imagenet-200 directory is required")
	}
	return readWnids(filepath.Join(dir, tinyWnidsFile))
}

// tinyClasses resolves opts to the list of wnids to load, in label order.
func tinyClasses(dir string, opts TinyImageNetOptions) ([]string, error) {
	wnidsPath := filepath.Join(dir, tinyWnidsFile)
	if len(opts.Classes) == 0 {
		n := opts.NumClasses
		if n == 0 {
			n = tinyDefaultClasses
		}
		if n < 0 {
			return nil, fmt.Errorf("datasets: LoadTinyImageNet %s: NumClasses = %d, want at least 1 (or 0 for %d)",
				dir, opts.NumClasses, tinyDefaultClasses)
		}
		all, err := readWnids(wnidsPath)
		if err != nil {
			return nil, err
		}
		if n > len(all) {
			return nil, fmt.Errorf("datasets: %s: NumClasses = %d but the file lists only %d wnids", wnidsPath, n, len(all))
		}
		return all[:n:n], nil
	}

	if opts.NumClasses != 0 && opts.NumClasses != len(opts.Classes) {
		return nil, fmt.Errorf("datasets: LoadTinyImageNet %s: NumClasses = %d disagrees with the %d wnids in Classes (use 0)",
			dir, opts.NumClasses, len(opts.Classes))
	}
	seen := make(map[string]int, len(opts.Classes))
	for i, w := range opts.Classes {
		if !validName(w) {
			return nil, fmt.Errorf("datasets: LoadTinyImageNet %s: Classes[%d] = %q is not a valid wnid", dir, i, w)
		}
		if j, dup := seen[w]; dup {
			return nil, fmt.Errorf("datasets: LoadTinyImageNet %s: Classes[%d] = %q repeats Classes[%d]", dir, i, w, j)
		}
		seen[w] = i
	}
	// wnids.txt is optional when the classes are named explicitly; a class
	// missing from the train tree is reported when it is listed.
	all, err := readWnids(wnidsPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return slices.Clone(opts.Classes), nil
	case err != nil:
		return nil, err
	}
	for i, w := range opts.Classes {
		if !slices.Contains(all, w) {
			return nil, fmt.Errorf("datasets: %s: unknown wnid Classes[%d] = %q: it is not listed in the file", wnidsPath, i, w)
		}
	}
	return slices.Clone(opts.Classes), nil
}

// readWnids reads a wnids.txt file: one wnid per line, blank lines skipped.
func readWnids(path string) ([]string, error) {
	var wnids []string
	seen := make(map[string]int)
	err := readLines(path, func(line int, text string) error {
		w := strings.TrimSpace(text)
		switch {
		case w == "":
			return nil
		case !validName(w):
			return formatErrorf("datasets: %s:%d: malformed line %q: want a single wnid", path, line, text)
		}
		if prev, dup := seen[w]; dup {
			return formatErrorf("datasets: %s:%d: wnid %q repeats line %d", path, line, w, prev)
		}
		seen[w] = line
		wnids = append(wnids, w)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(wnids) == 0 {
		return nil, formatErrorf("datasets: %s: no wnids listed", path)
	}
	return wnids, nil
}

// readLines calls fn with each line of the text file at path and its 1-based
// line number, stopping at the first error. A trailing carriage return is
// removed from each line.
func readLines(path string, fn func(line int, text string) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("datasets: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		if err := fn(line, strings.TrimSuffix(sc.Text(), "\r")); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("datasets: %s:%d: %w", path, line+1, err)
	}
	return nil
}

// validName reports whether s can be used as a wnid or an image file name:
// a single, non-empty path element without spaces or control characters.
func validName(s string) bool {
	if s == "" || s == "." || s == ".." {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool {
		return r <= ' ' || r == 0x7f || r == '/' || r == '\\' || r == ':'
	})
}

// tinyJob is one image to decode.
type tinyJob struct {
	path  string
	label int
	// origin, if not empty, is the annotation ("file:line") that named path;
	// it is reported if path cannot be opened.
	origin string
}

// appendTinyTrain appends the training images of class wnid, sorted by file
// name, to jobs.
func appendTinyTrain(jobs []tinyJob, dir, wnid string, label int) ([]tinyJob, error) {
	imgDir := filepath.Join(dir, tinyTrainDir, wnid, tinyImagesDir)
	entries, err := os.ReadDir(imgDir) // sorted by file name
	if err != nil {
		return nil, fmt.Errorf("datasets: training images of class %s: %w", wnid, err)
	}
	n := len(jobs)
	for _, e := range entries {
		if e.IsDir() || !isJPEGName(e.Name()) {
			continue
		}
		jobs = append(jobs, tinyJob{path: filepath.Join(imgDir, e.Name()), label: label})
	}
	if len(jobs) == n {
		return nil, fmt.Errorf("datasets: %s: class %s has no images (*.JPEG)", imgDir, wnid)
	}
	return jobs, nil
}

// isJPEGName reports whether name has a JPEG file extension.
func isJPEGName(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".jpeg" || ext == ".jpg"
}

// appendTinyVal appends the validation images of the given classes to jobs,
// grouped by class in label order and sorted by file name within a class.
func appendTinyVal(jobs []tinyJob, dir string, classes []string) ([]tinyJob, error) {
	valDir := filepath.Join(dir, tinyValDir)
	annPath := filepath.Join(valDir, tinyAnnotationsFile)
	imgDir := filepath.Join(valDir, tinyImagesDir)
	labelOf := make(map[string]int, len(classes))
	for i, w := range classes {
		labelOf[w] = i
	}
	type entry struct {
		file  string
		label int
		line  int
	}
	var (
		listed  []entry
		seenAt  = make(map[string]int)
		perCls  = make([]int, len(classes))
		nFields = 6 // file, wnid, x0, y0, x1, y1
	)
	err := readLines(annPath, func(line int, text string) error {
		if strings.TrimSpace(text) == "" {
			return nil
		}
		f := strings.Split(text, "\t")
		if len(f) != nFields {
			return formatErrorf("datasets: %s:%d: malformed annotation %q: got %d tab-separated fields, want %d (file, wnid, x0, y0, x1, y1)",
				annPath, line, text, len(f), nFields)
		}
		if !validName(f[0]) || !validName(f[1]) {
			return formatErrorf("datasets: %s:%d: malformed annotation %q: invalid file name or wnid", annPath, line, text)
		}
		for _, c := range f[2:] {
			if _, err := strconv.Atoi(c); err != nil {
				return formatErrorf("datasets: %s:%d: malformed annotation %q: bounding box %q is not an integer",
					annPath, line, text, c)
			}
		}
		if prev, dup := seenAt[f[0]]; dup {
			return formatErrorf("datasets: %s:%d: image %s is already annotated on line %d", annPath, line, f[0], prev)
		}
		seenAt[f[0]] = line
		if label, ok := labelOf[f[1]]; ok {
			listed = append(listed, entry{f[0], label, line})
			perCls[label]++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for label, n := range perCls {
		if n == 0 {
			return nil, fmt.Errorf("datasets: %s: class %s has no validation images", annPath, classes[label])
		}
	}
	slices.SortFunc(listed, func(a, b entry) int {
		if a.label != b.label {
			return a.label - b.label
		}
		return strings.Compare(a.file, b.file)
	})
	for _, e := range listed {
		jobs = append(jobs, tinyJob{
			path:   filepath.Join(imgDir, e.file),
			label:  e.label,
			origin: fmt.Sprintf("%s:%d", annPath, e.line),
		})
	}
	return jobs, nil
}

// tinyTable returns the pixel value of each 8-bit luma, passed through sin
// if sin is set.
func tinyTable(sin bool) *[256]float32 {
	if !sin {
		return &scale32
	}
	t := new([256]float32)
	for l, v := range scale32 {
		t[l] = float32(math.Sin(float64(v)))
	}
	return t
}

// decodeTiny decodes the images of jobs in parallel into one buffer of
// len(jobs)*size*size pixels, image i at offset i*size*size, mapping each
// 8-bit luma l to table[l]. If any image fails, it returns the error of the
// failing job with the lowest index, so the error is deterministic too.
func decodeTiny(jobs []tinyJob, size int, table *[256]float32) ([]float32, error) {
	features := size * size
	x := make([]float32, len(jobs)*features)
	var (
		next    atomic.Int64 // next job index to hand out
		stop    atomic.Int64 // jobs at or above this index are skipped
		mu      sync.Mutex
		errIdx  = len(jobs)
		firstEr error
		wg      sync.WaitGroup
	)
	stop.Store(int64(len(jobs)))
	workers := max(1, min(runtime.NumCPU(), len(jobs)))
	for range workers {
		wg.Go(func() {
			d := newTinyDecoder(size)
			for {
				i := int(next.Add(1) - 1)
				if i >= len(jobs) || int64(i) >= stop.Load() {
					return
				}
				// Indices are handed out in increasing order, so every
				// index below a failing one is processed to completion.
				if err := d.decode(jobs[i], x[i*features:(i+1)*features], table); err != nil {
					mu.Lock()
					if i < errIdx {
						errIdx, firstEr = i, err
						stop.Store(int64(i))
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if firstEr != nil {
		return nil, firstEr
	}
	return x, nil
}

// tinyDecoder decodes and resizes images for one goroutine, reusing its
// destination image and its scalers across images.
type tinyDecoder struct {
	dst     *image.RGBA
	scalers map[image.Point]draw.Scaler // by source size
}

func newTinyDecoder(size int) *tinyDecoder {
	return &tinyDecoder{
		dst:     image.NewRGBA(image.Rect(0, 0, size, size)),
		scalers: make(map[image.Point]draw.Scaler),
	}
}

// decode reads the JPEG of j, resizes it to the decoder's size, and writes
// the value table[l] of each pixel's luma l to out.
func (d *tinyDecoder) decode(j tinyJob, out []float32, table *[256]float32) error {
	data, err := os.ReadFile(j.path)
	if err != nil {
		if j.origin != "" {
			return fmt.Errorf("datasets: %s: annotated image: %w", j.origin, err)
		}
		return fmt.Errorf("datasets: %w", err)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return formatErrorf("datasets: %s: corrupt JPEG: %w", j.path, err)
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > tinyMaxPixels/max(cfg.Height, 1) {
		return formatErrorf("datasets: %s: JPEG of %dx%d pixels: want 1 to %d pixels", j.path, cfg.Width, cfg.Height, tinyMaxPixels)
	}
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		return formatErrorf("datasets: %s: corrupt JPEG: %w", j.path, err)
	}
	sr := img.Bounds()
	if sr.Empty() {
		return formatErrorf("datasets: %s: empty JPEG image", j.path)
	}
	sz := sr.Size()
	sc, ok := d.scalers[sz]
	if !ok {
		b := d.dst.Bounds()
		sc = draw.BiLinear.NewScaler(b.Dx(), b.Dy(), sz.X, sz.Y)
		d.scalers[sz] = sc
	}
	sc.Scale(d.dst, d.dst.Bounds(), img, sr, draw.Src, nil)
	pix := d.dst.Pix
	for i := range out {
		r, g, b := uint32(pix[4*i]), uint32(pix[4*i+1]), uint32(pix[4*i+2])
		// Pillow's convert("L"): fixed-point ITU-R 601-2 luma, rounded.
		l := (19595*r + 38470*g + 7471*b + 1<<15) >> 16
		out[i] = table[l]
	}
	return nil
}

// formatError is an error about malformed dataset contents other than IDX
// data. It matches [ErrFormat] under errors.Is without adding ErrFormat's
// IDX-specific text to the message, and unwraps to its cause, if any.
type formatError struct{ err error }

func (e *formatError) Error() string        { return e.err.Error() }
func (e *formatError) Unwrap() error        { return errors.Unwrap(e.err) }
func (e *formatError) Is(target error) bool { return target == ErrFormat }

// formatErrorf returns a formatError with the message fmt.Errorf(format,
// args...) gives, wrapping the same errors.
func formatErrorf(format string, args ...any) error {
	return &formatError{fmt.Errorf(format, args...)}
}
