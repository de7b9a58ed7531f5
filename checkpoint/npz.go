package checkpoint

import (
	"archive/zip"
	"fmt"
	"io"
	"io/fs"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/glr-project/glr/internal/atomicfile"
)

// npzTime is the modification time of every archive member, the MS-DOS
// epoch, so that the same parameters always give the same bytes.
var npzTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// WriteNPZ writes params to path as a NumPy .npz archive, atomically and
// with permission 0644 masked by the umask, so that
//
//	np.load(path)["layer1/W"]
//
// is the parameter named layer1/W, with its shape (a dense layer's W is
// inputs × outputs, and the layer computes x·W) and dtype: float64 for
// Float64 or "", float32 for Float32 (values are rounded to the nearest
// float32, which is exact for the values of a float32 network).
//
// The archive holds one uncompressed member NAME.npy per parameter, as
// numpy.savez writes it, each in the .npy format version 1.0 (NumPy
// Enhancement Proposal 1, "A simple file format for NumPy arrays", and the
// numpy.lib.format documentation): the magic "\x93NUMPY", the version bytes
// 1 and 0, a little-endian uint16 header length, an ASCII header such as
// {'descr': '<f8', 'fortran_order': False, 'shape': (785, 50), } padded with
// spaces and a final newline so that the data starts at a multiple of 64
// bytes, then the values in C (row-major) order, little-endian.
//
// Parameters are checked as State.Validate checks them, and each name must
// also be a valid slash-separated relative path (io/fs.ValidPath, without
// backslashes) so that unpacking the archive cannot write outside its
// directory; errors wrap ErrInvalid. The writing is done with the standard
// library rather than a NumPy I/O module, whose current release needs a
// newer gonum than this module uses.
func WriteNPZ(path string, params []Param, dtype Dtype) error {
	if err := dtype.check(); err != nil {
		return fmt.Errorf("checkpoint: write %s: %v", path, err)
	}
	if err := validateParams(params, ""); err != nil {
		return fmt.Errorf("checkpoint: write %s: %w", path, err)
	}
	for _, p := range params {
		if !fs.ValidPath(p.Name) || strings.Contains(p.Name, `\`) {
			return fmt.Errorf("checkpoint: write %s: %w: parameter %q: not a valid archive member name", path, ErrInvalid, p.Name)
		}
	}
	err := atomicfile.Write(path, 0o644, func(w io.Writer) error {
		zw := zip.NewWriter(w)
		for _, p := range params {
			mw, err := zw.CreateHeader(&zip.FileHeader{Name: p.Name + ".npy", Method: zip.Store, Modified: npzTime})
			if err != nil {
				return fmt.Errorf("parameter %s: %w", p.Name, err)
			}
			if err := writeNPY(mw, p, dtype); err != nil {
				return fmt.Errorf("parameter %s: %w", p.Name, err)
			}
		}
		return zw.Close()
	})
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// writeNPY writes p as a .npy file of the given dtype.
func writeNPY(w io.Writer, p Param, dtype Dtype) error {
	descr, size := "<f8", 8
	if dtype == Float32 {
		descr, size = "<f4", 4
	}
	if _, err := w.Write(npyHeader(descr, p.Shape)); err != nil {
		return err
	}
	const chunk = 4096 // values per write
	buf := make([]byte, 0, chunk*size)
	for lo := 0; lo < len(p.Values); lo += chunk {
		buf = buf[:0]
		for _, v := range p.Values[lo:min(lo+chunk, len(p.Values))] {
			if size == 4 {
				buf = le.AppendUint32(buf, math.Float32bits(float32(v)))
			} else {
				buf = le.AppendUint64(buf, math.Float64bits(v))
			}
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return nil
}

// npyHeader returns the magic, version and header of a version 1.0 .npy
// file holding a C-order array of the given descr and shape. The shape's
// rank is at most MaxRank, so the header is far below the 65535 bytes that
// version 1.0 allows.
func npyHeader(descr string, shape []int) []byte {
	var dims strings.Builder
	for i, d := range shape {
		if i > 0 {
			dims.WriteString(", ")
		}
		dims.WriteString(strconv.Itoa(d))
	}
	if len(shape) == 1 {
		dims.WriteString(",") // a one-element Python tuple
	}
	dict := "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims.String() + "), }"
	const prefix = 6 + 2 + 2 // magic, version, header length
	pad := (64 - (prefix+len(dict)+1)%64) % 64
	hlen := len(dict) + pad + 1
	b := make([]byte, 0, prefix+hlen)
	b = append(b, "\x93NUMPY\x01\x00"...)
	b = le.AppendUint16(b, uint16(hlen))
	b = append(b, dict...)
	b = append(b, strings.Repeat(" ", pad)...)
	return append(b, '\n')
}
