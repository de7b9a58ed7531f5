package datasets

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/bits"
	"os"
	"slices"
	"sync"
)

// ErrFormat is wrapped by every error that reports malformed IDX data: a bad
// magic number, a file shorter than its header promises, trailing bytes,
// disagreeing image and label counts, or a label out of range. Test for it
// with errors.Is. Corrupt gzip streams wrap the compress/gzip or
// compress/flate error instead, and missing files wrap fs.ErrNotExist.
var ErrFormat = errors.New("invalid IDX data")

// IDX magic numbers: two zero bytes, the element type (0x08 = unsigned byte)
// and the number of dimensions.
const (
	magicImages = 0x00000803 // ubyte, 3 dimensions: count, rows, columns
	magicLabels = 0x00000801 // ubyte, 1 dimension: count
)

// maxDeflateRatio bounds how many bytes a DEFLATE stream can expand to per
// compressed byte (the format's limit is about 1032:1). It lets the reader
// reject a gzip file whose header promises more data than it can possibly
// hold before allocating anything.
const maxDeflateRatio = 1032

// growChunk is the capacity a payload buffer starts with when the final size
// cannot be trusted; it grows by doubling as data actually arrives.
const growChunk = 1 << 20

// ReadIDXImages reads an IDX3 unsigned-byte image file, such as MNIST's
// train-images-idx3-ubyte, plain or gzip-compressed. It returns the n images
// of h rows by w columns as n*h*w raw bytes, image after image, row-major.
//
// The header is checked against the file before the pixel buffer is
// allocated, and the file must end exactly where the header says it does.
func ReadIDXImages(path string) (imgs []byte, n, h, w int, err error) {
	return fileSource(path).readImages()
}

// ReadIDXLabels reads an IDX1 unsigned-byte label file, such as MNIST's
// train-labels-idx1-ubyte, plain or gzip-compressed, and returns one byte per
// label.
func ReadIDXLabels(path string) ([]byte, error) {
	data, _, err := fileSource(path).read(magicLabels)
	return data, err
}

// LoadIDX reads an IDX3 image file and the matching IDX1 label file (each
// plain or gzip-compressed) into a Set called name. The two files must hold
// the same number of examples and every label must be below classes. The
// Set keeps the raw pixel bytes, one byte per pixel.
func LoadIDX(name, imagesPath, labelsPath string, classes int) (*Set, error) {
	return loadIDX(name, fileSource(imagesPath), fileSource(labelsPath), classes)
}

// An idxSource is an IDX file: a path in the operating system's file
// system, or a file of an fs.FS such as the embedded copy of MNIST.
type idxSource struct {
	fsys fs.FS  // nil for the operating system's file system
	path string // the file's path, in fsys if that is set
	desc string // how errors name the file; "" means path
}

// fileSource returns the idxSource of the file at path.
func fileSource(path string) idxSource { return idxSource{path: path} }

// String returns the name errors give the file.
func (src idxSource) String() string {
	if src.desc != "" {
		return src.desc
	}
	return src.path
}

// readImages reads src as an IDX3 image file.
func (src idxSource) readImages() (imgs []byte, n, h, w int, err error) {
	data, dims, err := src.read(magicImages)
	if err != nil {
		return nil, 0, 0, 0, err
	}
	return data, dims[0], dims[1], dims[2], nil
}

// read opens src and reads it as an IDX unsigned-byte file whose magic
// number must be magic.
func (src idxSource) read(magic uint32) (data []byte, dims []int, err error) {
	var f fs.File
	if src.fsys == nil {
		f, err = os.Open(src.path)
	} else {
		f, err = src.fsys.Open(src.path)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("datasets: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("datasets: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("datasets: %s: not a regular file", src)
	}
	ra, ok := f.(io.ReaderAt)
	if !ok {
		return nil, nil, fmt.Errorf("datasets: %s: file does not support random access", src)
	}
	return readIDX(src.String(), ra, fi.Size(), magic)
}

// loadIDX reads the image file images and the label file labels into a Set
// called name; see [LoadIDX].
func loadIDX(name string, images, labels idxSource, classes int) (*Set, error) {
	if classes < 1 {
		return nil, fmt.Errorf("datasets: LoadIDX %s: classes = %d, want at least 1", name, classes)
	}
	var (
		wg        sync.WaitGroup
		labs      []byte
		labelsErr error
	)
	wg.Go(func() { labs, _, labelsErr = labels.read(magicLabels) })
	imgs, n, h, w, err := images.readImages()
	wg.Wait()
	if err != nil {
		return nil, err
	}
	if labelsErr != nil {
		return nil, labelsErr
	}
	if len(labs) != n {
		return nil, fmt.Errorf("datasets: %w: count mismatch: %s holds %d images but %s holds %d labels",
			ErrFormat, images, n, labels, len(labs))
	}
	s := &Set{
		Name:     name,
		Height:   h,
		Width:    w,
		Features: h * w,
		Classes:  classes,
		Labels:   make([]int, n),
		bytes:    imgs,
	}
	for i, l := range labs {
		if int(l) >= classes {
			return nil, fmt.Errorf("datasets: %s: %w: label %d at index %d is out of range [0, %d)",
				labels, ErrFormat, l, i, classes)
		}
		s.Labels[i] = int(l)
	}
	return s, nil
}

// readIDX reads an IDX unsigned-byte file of size bytes from r, whose magic
// number must be magic, and returns its payload and dimensions (the last byte
// of magic is the number of dimensions). Errors name the file path.
func readIDX(path string, r io.ReaderAt, size int64, magic uint32) (data []byte, dims []int, err error) {
	ndims := int(magic & 0xff)
	hdrLen := int64(4 + 4*ndims)

	br := bufio.NewReaderSize(io.NewSectionReader(r, 0, size), 1<<16)
	var (
		rd       io.Reader = br
		gz       bool
		capacity int64 // most payload bytes the file can hold
		hint     = int64(-1)
	)
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		gz = true
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("datasets: %s: corrupt gzip stream: %w", path, err)
		}
		defer zr.Close()
		rd = zr
		capacity = math.MaxInt64
		if size < math.MaxInt64/maxDeflateRatio {
			capacity = size * maxDeflateRatio
		}
		// The gzip trailer's ISIZE field holds the uncompressed size
		// modulo 2^32; it is only a hint for sizing the buffer.
		var tail [4]byte
		if _, err := r.ReadAt(tail[:], size-4); err == nil {
			hint = int64(binary.LittleEndian.Uint32(tail[:]))
		}
	} else {
		capacity = size - hdrLen
	}

	hdr := make([]byte, hdrLen)
	if _, err := io.ReadFull(rd, hdr); err != nil {
		return nil, nil, readErr(path, gz, err, "header", hdrLen)
	}
	if got := binary.BigEndian.Uint32(hdr); got != magic {
		return nil, nil, fmt.Errorf("datasets: %s: %w: bad magic number %#08x, want %#08x (%s)",
			path, ErrFormat, got, magic, describeMagic(magic))
	}
	dims = make([]int, ndims)
	total := uint64(1)
	for i := range dims {
		d := binary.BigEndian.Uint32(hdr[4+4*i:])
		dims[i] = int(d)
		hi, lo := bits.Mul64(total, uint64(d))
		if hi != 0 || lo > math.MaxInt {
			return nil, nil, fmt.Errorf("datasets: %s: %w: header dimensions %v overflow", path, ErrFormat, dims[:i+1])
		}
		total = lo
	}
	if slices.Contains(dims[1:], 0) {
		return nil, nil, fmt.Errorf("datasets: %s: %w: header declares empty images: %s", path, ErrFormat, describeDims(magic, dims))
	}
	want := int64(total)
	if want > capacity {
		what := "the file has only"
		if gz {
			what = "a gzip file of this size can decompress to at most"
		}
		return nil, nil, fmt.Errorf("datasets: %s: %w: truncated: header promises %s (%d bytes after the header) but %s %d",
			path, ErrFormat, describeDims(magic, dims), want, what, max(capacity, 0))
	}

	initCap := want // a plain file has been checked to hold it all
	if gz && (hint < 0 || uint32(hint) != uint32(hdrLen+want)) {
		initCap = min(want, growChunk)
	}
	data, err = readPayload(rd, want, initCap)
	if err != nil {
		return nil, nil, readErr(path, gz, err, describeDims(magic, dims), want)
	}
	// Reading past the payload verifies the gzip checksum and catches
	// trailing bytes the header does not account for.
	var extra [1]byte
	switch k, err := io.ReadFull(rd, extra[:]); {
	case k > 0:
		return nil, nil, fmt.Errorf("datasets: %s: %w: trailing data after %s", path, ErrFormat, describeDims(magic, dims))
	case err != io.EOF:
		return nil, nil, readErr(path, gz, err, "end of stream", 0)
	}
	return data, dims, nil
}

// readPayload reads exactly n bytes from r into a buffer of initial capacity
// initCap that doubles only as data arrives, so a lying header cannot force an
// allocation much larger than the data actually present.
func readPayload(r io.Reader, n, initCap int64) ([]byte, error) {
	buf := make([]byte, 0, initCap)
	for int64(len(buf)) < n {
		if len(buf) == cap(buf) {
			grow := min(n-int64(len(buf)), int64(max(cap(buf), growChunk)))
			nb := make([]byte, len(buf), int64(cap(buf))+grow)
			copy(nb, buf)
			buf = nb
		}
		end := int(min(int64(cap(buf)), n))
		k, err := io.ReadFull(r, buf[len(buf):end])
		buf = buf[:len(buf)+k]
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// readErr describes a failure to read want bytes of what from path.
func readErr(path string, gz bool, err error, what string, want int64) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		if gz {
			return fmt.Errorf("datasets: %s: %w: truncated: gzip stream ends before the %s (%d bytes)", path, ErrFormat, what, want)
		}
		return fmt.Errorf("datasets: %s: %w: truncated: file ends before the %s (%d bytes)", path, ErrFormat, what, want)
	}
	if gz {
		return fmt.Errorf("datasets: %s: corrupt gzip stream: %w", path, err)
	}
	return fmt.Errorf("datasets: %s: %w", path, err)
}

// describeMagic names the IDX file kind a magic number belongs to.
func describeMagic(magic uint32) string {
	switch magic {
	case magicImages:
		return "IDX3 unsigned-byte images"
	case magicLabels:
		return "IDX1 unsigned-byte labels"
	}
	return "IDX"
}

// describeDims renders the header's promise for error messages.
func describeDims(magic uint32, dims []int) string {
	switch {
	case magic == magicImages && len(dims) == 3:
		return fmt.Sprintf("%d images of %dx%d", dims[0], dims[1], dims[2])
	case magic == magicLabels && len(dims) == 1:
		return fmt.Sprintf("%d labels", dims[0])
	}
	return fmt.Sprintf("dimensions %v", dims)
}
